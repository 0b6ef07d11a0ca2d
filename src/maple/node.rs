//! Node shapes of the maple-style store.
//!
//! Modelled on `lib/maple_tree.c` (v6.1+): leaves are `maple_leaf_64` (16 slots, 15 pivots) and
//! internal nodes are `maple_arange_64` (10 slots, 9 pivots, 10 gaps), the shapes the VMA tree
//! uses because `mm_mt` is created with `MT_FLAGS_ALLOC_RANGE`.
//!
//! Slot `i` covers `(pivot[i-1], pivot[i]]`; slot 0 starts at the node minimum, which (as in the
//! kernel) is not stored in the node but passed down from the parent. The kernel leaves the last
//! pivot implied by the node maximum; here `pivot[len-1]` is stored and always equals the node
//! maximum, which `validate()` checks. Unused slots past `len` are kept cleared so that derived
//! `Eq`/`Hash` see only live data.

/// Slots in a leaf (`MAPLE_RANGE64_SLOTS`).
pub const LEAF_SLOTS: usize = 16;
/// Slots in an internal node (`MAPLE_ARANGE64_SLOTS`).
pub const ARANGE_SLOTS: usize = 10;
/// Fewest slots a non-root leaf may hold (`mt_min_slots[maple_leaf_64]` + 1 = 7).
pub const LEAF_MIN_SLOTS: usize = LEAF_SLOTS / 2 - 1;
/// Fewest slots a non-root internal node may hold (`mt_min_slots[maple_arange_64]` + 1 = 5).
pub const ARANGE_MIN_SLOTS: usize = ARANGE_SLOTS / 2;

/// A leaf: `len` ranges ending at `pivots[i]`, each holding an entry or NULL.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Leaf<T: Copy> {
    pub(crate) len: u8,
    pub(crate) pivots: [u64; LEAF_SLOTS],
    pub(crate) slots: [Option<T>; LEAF_SLOTS],
}

/// An internal node: `len` children, child `i` covering `(pivots[i-1], pivots[i]]`, with
/// `gaps[i]` the largest NULL run anywhere below child `i`.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Internal<T: Copy> {
    pub(crate) len: u8,
    pub(crate) pivots: [u64; ARANGE_SLOTS],
    pub(crate) gaps: [u64; ARANGE_SLOTS],
    pub(crate) children: Vec<Node<T>>,
}

/// A node of either shape.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) enum Node<T: Copy> {
    Leaf(Box<Leaf<T>>),
    Internal(Box<Internal<T>>),
}

/// Size of the inclusive range `[first, last]`, saturating at `u64::MAX` for the whole space.
#[inline]
pub(crate) fn range_size(first: u64, last: u64) -> u64 {
    (last - first).saturating_add(1)
}

impl<T: Copy> Leaf<T> {
    pub(crate) fn from_slots(items: &[(u64, Option<T>)]) -> Self {
        debug_assert!(!items.is_empty() && items.len() <= LEAF_SLOTS);
        let mut leaf = Leaf {
            len: items.len() as u8,
            pivots: [0; LEAF_SLOTS],
            slots: [None; LEAF_SLOTS],
        };
        for (i, &(p, e)) in items.iter().enumerate() {
            leaf.pivots[i] = p;
            leaf.slots[i] = e;
        }
        leaf
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len as usize
    }

    /// Largest NULL run in this leaf, whose first slot starts at `min` (`ma_max_gap` for leaves).
    pub(crate) fn max_gap(&self, min: u64) -> u64 {
        let mut gap = 0;
        let mut start = min;
        for i in 0..self.len() {
            let end = self.pivots[i];
            if self.slots[i].is_none() {
                gap = gap.max(range_size(start, end));
            }
            start = end.wrapping_add(1);
        }
        gap
    }
}

impl<T: Copy> Internal<T> {
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len as usize
    }

    #[inline]
    pub(crate) fn max_gap(&self) -> u64 {
        self.gaps[..self.len()].iter().copied().max().unwrap_or(0)
    }
}

impl<T: Copy> Node<T> {
    /// The node's maximum index (its last pivot).
    #[inline]
    pub(crate) fn max(&self) -> u64 {
        match self {
            Node::Leaf(l) => l.pivots[l.len() - 1],
            Node::Internal(n) => n.pivots[n.len() - 1],
        }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        match self {
            Node::Leaf(l) => l.len(),
            Node::Internal(n) => n.len(),
        }
    }

    #[inline]
    pub(crate) fn is_leaf(&self) -> bool {
        matches!(self, Node::Leaf(_))
    }

    /// The minimum occupancy of a non-root node of this shape (`mt_min_slot_count`).
    #[inline]
    pub(crate) fn min_slots(&self) -> usize {
        if self.is_leaf() {
            LEAF_MIN_SLOTS
        } else {
            ARANGE_MIN_SLOTS
        }
    }

    /// Largest NULL run below this node, which starts at `min`.
    pub(crate) fn max_gap(&self, min: u64) -> u64 {
        match self {
            Node::Leaf(l) => l.max_gap(min),
            Node::Internal(n) => n.max_gap(),
        }
    }

    /// An empty tree's root: one NULL range over the whole index space.
    pub(crate) fn empty_root() -> Self {
        Node::Leaf(Box::new(Leaf::from_slots(&[(u64::MAX, None)])))
    }
}

/// Build one internal node from `(child, child_min)` pairs; gaps are computed from the children.
pub(crate) fn internal_from_children<T: Copy>(children: Vec<Node<T>>, min: u64) -> Node<T> {
    debug_assert!(!children.is_empty() && children.len() <= ARANGE_SLOTS);
    let mut n = Internal {
        len: children.len() as u8,
        pivots: [0; ARANGE_SLOTS],
        gaps: [0; ARANGE_SLOTS],
        children: Vec::with_capacity(children.len()),
    };
    let mut cmin = min;
    for (i, c) in children.into_iter().enumerate() {
        let cmax = c.max();
        n.pivots[i] = cmax;
        n.gaps[i] = c.max_gap(cmin);
        cmin = cmax.wrapping_add(1);
        n.children.push(c);
    }
    Node::Internal(Box::new(n))
}

/// Sizes that split `n` items into `ceil(n / cap)` nodes as evenly as possible
/// (the role of `mab_calc_split` in `lib/maple_tree.c`).
pub(crate) fn even_split(n: usize, cap: usize) -> impl Iterator<Item = usize> {
    let k = n.div_ceil(cap).max(1);
    (0..k).map(move |i| n / k + usize::from(i < n % k))
}
