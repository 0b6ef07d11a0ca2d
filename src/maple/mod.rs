//! A maple-tree-style range store: the VMA store under test.
//!
//! Modelled on `lib/maple_tree.c` (Linux v6.1, "Maple Tree" by Liam R. Howlett) as the VMA tree
//! uses it (`mm->mm_mt`, `MT_FLAGS_ALLOC_RANGE`): a B-tree of inclusive ranges `[first, last]`
//! over the whole `u64` index space, with NULL ranges stored explicitly and merged with their
//! NULL neighbours, gap tracking in internal nodes for `get_unmapped_area`, and logarithmic
//! height. It is written from the semantics in `kernel-paths.md` §6, not from kernel code.
//!
//! Every write goes through one routine, [`MapleTree::mtree_store_range`], which rebuilds the
//! two root-to-leaf paths that bound the written range (the kernel's `mas_wr_spanning_store`
//! generalised to every store): the nodes between the paths are dropped, the nodes on them are
//! rebuilt, split when over-full (`mas_split`) and merged with a sibling when under-full
//! (`mas_rebalance`), so the cost is O(height × node size).

mod node;
mod pack;
mod validate;

use std::fmt;

use node::{even_split, internal_from_children, Leaf, Node};
pub use node::{ARANGE_MIN_SLOTS, ARANGE_SLOTS, LEAF_MIN_SLOTS, LEAF_SLOTS};
pub use validate::ValidateError;

/// Errors of the store API, named after the errno the kernel returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MapleError {
    /// `-EINVAL`: `first > last`, or an empty-area search of size 0 or with `min > max`.
    Inval,
    /// `-EBUSY`: no empty area of the requested size in `[min, max]`.
    Busy,
}

impl fmt::Display for MapleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MapleError::Inval => "-EINVAL",
            MapleError::Busy => "-EBUSY",
        })
    }
}

/// The range holding an index and what is stored there (`mas_walk`: entry, `mas.index`, `mas.last`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Walk<T> {
    /// The entry, or `None` for a NULL range.
    pub entry: Option<T>,
    /// First index of the range (`mas.index`).
    pub first: u64,
    /// Last index of the range (`mas.last`).
    pub last: u64,
}

/// Where a cursor stands (the `ma_state` status of `lib/maple_tree.c`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MasStatus {
    /// `ma_start`: not walked yet; the first `mas_find` includes `index`.
    Start,
    /// `ma_active`: `index..=last` is the range returned last.
    Active,
    /// `ma_overflow` / `ma_underflow`: a search ran off its limit; further calls return `None`.
    Done,
}

/// A cursor over a range store (`struct ma_state`, `MA_STATE(mas, mt, index, last)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MaState {
    /// `mas.index`.
    pub index: u64,
    /// `mas.last`.
    pub last: u64,
    /// `mas.status`.
    pub status: MasStatus,
}

impl MaState {
    /// `MA_STATE(mas, mt, index, index)`.
    pub fn new(index: u64) -> Self {
        MaState {
            index,
            last: index,
            status: MasStatus::Start,
        }
    }
}

/// The maple-style tree. `T` is the entry type (a VMA id in the mm model).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MapleTree<T: Copy> {
    root: Node<T>,
    height: u8,
}

impl<T: Copy + Eq + fmt::Debug> Default for MapleTree<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy + Eq + fmt::Debug> MapleTree<T> {
    /// `mt_init_flags(mt, MT_FLAGS_ALLOC_RANGE)`: an empty tree, one NULL range `[0, ULONG_MAX]`.
    pub fn new() -> Self {
        MapleTree {
            root: Node::empty_root(),
            height: 1,
        }
    }

    /// Height of the tree (`mt_height`); an empty or single-leaf tree has height 1.
    pub fn height(&self) -> usize {
        self.height as usize
    }

    /// `mtree_load`: the entry at `index`, if any.
    pub fn mtree_load(&self, index: u64) -> Option<T> {
        let mut node = &self.root;
        loop {
            match node {
                Node::Leaf(l) => return l.slots[slot_of(&l.pivots[..l.len()], index)],
                Node::Internal(n) => node = &n.children[slot_of(&n.pivots[..n.len()], index)],
            }
        }
    }

    /// `mas_walk`: the range holding `index` (a NULL range is returned whole, as stored).
    pub fn mas_walk(&self, index: u64) -> Walk<T> {
        let mut node = &self.root;
        let mut min = 0;
        loop {
            match node {
                Node::Leaf(l) => {
                    let i = slot_of(&l.pivots[..l.len()], index);
                    let first = if i == 0 { min } else { l.pivots[i - 1] + 1 };
                    return Walk {
                        entry: l.slots[i],
                        first,
                        last: l.pivots[i],
                    };
                }
                Node::Internal(n) => {
                    let i = slot_of(&n.pivots[..n.len()], index);
                    if i > 0 {
                        min = n.pivots[i - 1] + 1;
                    }
                    node = &n.children[i];
                }
            }
        }
    }

    /// `mtree_store_range(mt, first, last, entry)`: overwrite `[first, last]`, trimming or
    /// splitting whatever it overlaps. Storing `None` erases the range.
    pub fn mtree_store_range(
        &mut self,
        first: u64,
        last: u64,
        entry: Option<T>,
    ) -> Result<(), MapleError> {
        if first > last {
            return Err(MapleError::Inval);
        }
        let (mut a, mut b) = (first, last);
        if entry.is_none() {
            // mas_wr_extend_null: a NULL store swallows the NULL ranges it touches, so that no
            // two NULL ranges are ever adjacent (mt_validate_nulls).
            if a > 0 {
                let w = self.mas_walk(a - 1);
                if w.entry.is_none() {
                    a = w.first;
                }
            }
            if b < u64::MAX {
                let w = self.mas_walk(b + 1);
                if w.entry.is_none() {
                    b = w.last;
                }
            }
        }
        let root = std::mem::replace(&mut self.root, Node::empty_root());
        let mut level = span(root, None, 0, 0, a, b, entry);
        // The root split (mas_split reaching the root): grow the tree by one level.
        while level.len() > 1 {
            normalize(&mut level, 0);
            level = group(level, 0);
            self.height += 1;
        }
        let mut root = level.pop().expect("span returns at least one node");
        // A root with a single child is replaced by it (mas_rebalance shrinking the tree).
        while let Node::Internal(n) = root {
            if n.len() != 1 {
                root = Node::Internal(n);
                break;
            }
            root = n.children.into_iter().next().expect("one child");
            self.height -= 1;
        }
        self.root = root;
        Ok(())
    }

    /// `mtree_insert_range`-free convenience: store `entry` over `[first, last]`.
    pub fn store(&mut self, first: u64, last: u64, entry: T) -> Result<(), MapleError> {
        self.mtree_store_range(first, last, Some(entry))
    }

    /// `mtree_erase`: remove the whole entry holding `index`; returns what was there.
    pub fn mtree_erase(&mut self, index: u64) -> Option<T> {
        let w = self.mas_walk(index);
        let old = w.entry?;
        self.mtree_store_range(w.first, w.last, None)
            .expect("a walked range is well formed");
        Some(old)
    }

    /// `mas_find(mas, max)`: the next entry at or after the cursor, up to `max`. The first call
    /// on a fresh cursor includes `mas.index`; later calls continue after `mas.last`.
    pub fn mas_find(&self, mas: &mut MaState, max: u64) -> Option<T> {
        let mut from = match mas.status {
            MasStatus::Done => return None,
            MasStatus::Start => mas.index,
            MasStatus::Active => {
                if mas.last == u64::MAX {
                    mas.status = MasStatus::Done;
                    return None;
                }
                mas.last + 1
            }
        };
        loop {
            if from > max {
                mas.status = MasStatus::Done;
                return None;
            }
            let w = self.mas_walk(from);
            if let Some(e) = w.entry {
                mas.index = w.first;
                mas.last = w.last;
                mas.status = MasStatus::Active;
                return Some(e);
            }
            if w.last == u64::MAX {
                mas.status = MasStatus::Done;
                return None;
            }
            from = w.last + 1;
        }
    }

    /// `mas_prev(mas, min)`: the entry before the cursor's range, if it ends at or after `min`.
    pub fn mas_prev(&self, mas: &mut MaState, min: u64) -> Option<T> {
        let start = match mas.status {
            MasStatus::Done => return None,
            MasStatus::Start => self.mas_walk(mas.index).first,
            MasStatus::Active => mas.index,
        };
        let mut before = start;
        loop {
            if before == 0 || before - 1 < min {
                mas.status = MasStatus::Done;
                return None;
            }
            let w = self.mas_walk(before - 1);
            if let Some(e) = w.entry {
                mas.index = w.first;
                mas.last = w.last;
                mas.status = MasStatus::Active;
                return Some(e);
            }
            before = w.first;
        }
    }

    /// `mas_empty_area(mas, min, max, size)`: the lowest run of `size` NULL indices inside
    /// `[min, max]`, as `(mas.index, mas.last)`.
    pub fn mas_empty_area(&self, min: u64, max: u64, size: u64) -> Result<(u64, u64), MapleError> {
        check_area_args(min, max, size)?;
        gap_fwd(&self.root, 0, min, max, size)
            .map(|start| (start, start + (size - 1)))
            .ok_or(MapleError::Busy)
    }

    /// `mas_empty_area_rev(mas, min, max, size)`: the highest such run (top-down
    /// `get_unmapped_area`), as `(mas.index, mas.last)`.
    pub fn mas_empty_area_rev(
        &self,
        min: u64,
        max: u64,
        size: u64,
    ) -> Result<(u64, u64), MapleError> {
        check_area_args(min, max, size)?;
        gap_rev(&self.root, 0, min, max, size)
            .map(|last| (last - (size - 1), last))
            .ok_or(MapleError::Busy)
    }

    /// `__mt_destroy`: drop every node; the tree is empty afterwards.
    pub fn mt_destroy(&mut self) {
        *self = Self::new();
    }

    /// Calls `f(first, last, entry)` for every entry in index order (`mt_for_each`).
    pub fn for_each(&self, mut f: impl FnMut(u64, u64, T)) {
        fn rec<T: Copy>(node: &Node<T>, min: u64, f: &mut impl FnMut(u64, u64, T)) {
            match node {
                Node::Leaf(l) => {
                    let mut start = min;
                    for i in 0..l.len() {
                        if let Some(e) = l.slots[i] {
                            f(start, l.pivots[i], e);
                        }
                        start = l.pivots[i].wrapping_add(1);
                    }
                }
                Node::Internal(n) => {
                    let mut cmin = min;
                    for i in 0..n.len() {
                        rec(&n.children[i], cmin, f);
                        cmin = n.pivots[i].wrapping_add(1);
                    }
                }
            }
        }
        rec(&self.root, 0, &mut f);
    }

    /// Every entry as `(first, last, entry)`, in index order.
    pub fn entries(&self) -> Vec<(u64, u64, T)> {
        let mut v = Vec::new();
        self.for_each(|a, b, e| v.push((a, b, e)));
        v
    }

    /// Number of entries (non-NULL ranges).
    pub fn count(&self) -> usize {
        let mut n = 0;
        self.for_each(|_, _, _| n += 1);
        n
    }

    /// True if nothing is stored (`mtree_empty`).
    pub fn is_empty(&self) -> bool {
        matches!(&self.root, Node::Leaf(l) if l.len() == 1 && l.slots[0].is_none())
    }

    /// Number of nodes, for statistics.
    pub fn node_count(&self) -> usize {
        fn rec<T: Copy>(node: &Node<T>) -> usize {
            match node {
                Node::Leaf(_) => 1,
                Node::Internal(n) => 1 + n.children.iter().map(rec).sum::<usize>(),
            }
        }
        rec(&self.root)
    }

    /// `mt_validate`: check every structural invariant (see [`validate`](self::validate)).
    pub fn validate(&self) -> Result<(), ValidateError> {
        validate::validate(&self.root, self.height as usize)
    }
}

fn check_area_args(min: u64, max: u64, size: u64) -> Result<(), MapleError> {
    if size == 0 || min > max {
        return Err(MapleError::Inval);
    }
    Ok(())
}

/// The slot whose range holds `index`: the first pivot `>= index` (`mas_wr_walk_index`).
#[inline]
fn slot_of(pivots: &[u64], index: u64) -> usize {
    let mut i = 0;
    while i + 1 < pivots.len() && pivots[i] < index {
        i += 1;
    }
    i
}

/// Rebuild the subtree(s) between the path to `a` (through `left`, which starts at `lmin`) and
/// the path to `b` (through `right`, starting at `rmin`, or through `left` again when `None`),
/// so that `[a, b]` holds `entry`. Returns nodes of the same height as `left`, in order,
/// covering `left`'s minimum to `right`'s maximum; some may be under-full (the caller merges).
fn span<T: Copy + Eq>(
    left: Node<T>,
    right: Option<Node<T>>,
    lmin: u64,
    rmin: u64,
    a: u64,
    b: u64,
    entry: Option<T>,
) -> Vec<Node<T>> {
    match left {
        Node::Leaf(l) => {
            let r = match &right {
                None => &l,
                Some(Node::Leaf(r)) => r,
                Some(Node::Internal(_)) => unreachable!("paths of equal height"),
            };
            let mut items: Vec<(u64, Option<T>)> = Vec::with_capacity(2 * LEAF_SLOTS + 1);
            let mut start = lmin;
            for i in 0..l.len() {
                if start >= a {
                    break;
                }
                let end = l.pivots[i];
                push_merged(&mut items, end.min(a - 1), l.slots[i]);
                if end >= a {
                    break;
                }
                start = end + 1;
            }
            push_merged(&mut items, b, entry);
            for i in 0..r.len() {
                if r.pivots[i] > b {
                    push_merged(&mut items, r.pivots[i], r.slots[i]);
                }
            }
            leaves_from(&items)
        }
        Node::Internal(mut ln) => {
            let li = slot_of(&ln.pivots[..ln.len()], a);
            let lcmin = if li == 0 { lmin } else { ln.pivots[li - 1] + 1 };
            let mut lch = std::mem::take(&mut ln.children);
            let (prefix, mid_l, mid_r, rcmin, suffix) = match right {
                None => {
                    let ri = slot_of(&ln.pivots[..ln.len()], b);
                    let rcmin = if ri == 0 { lmin } else { ln.pivots[ri - 1] + 1 };
                    let suffix = lch.split_off(ri + 1);
                    let mut mid = lch.split_off(li);
                    let mid_r = if ri > li { mid.pop() } else { None };
                    let mid_l = mid.into_iter().next().expect("child li");
                    (lch, mid_l, mid_r, rcmin, suffix)
                }
                Some(Node::Internal(mut rn)) => {
                    let ri = slot_of(&rn.pivots[..rn.len()], b);
                    let rcmin = if ri == 0 { rmin } else { rn.pivots[ri - 1] + 1 };
                    let mut rch = std::mem::take(&mut rn.children);
                    let suffix = rch.split_off(ri + 1);
                    let mid_r = rch.pop();
                    lch.truncate(li + 1);
                    let mid_l = lch.pop().expect("child li");
                    (lch, mid_l, mid_r, rcmin, suffix)
                }
                Some(Node::Leaf(_)) => unreachable!("paths of equal height"),
            };
            let mids = span(mid_l, mid_r, lcmin, rcmin, a, b, entry);
            let mut list = prefix;
            list.extend(mids);
            list.extend(suffix);
            normalize(&mut list, lmin);
            group(list, lmin)
        }
    }
}

/// Append a slot ending at `end`, folding it into a NULL predecessor when both are NULL.
#[inline]
fn push_merged<T: Copy>(items: &mut Vec<(u64, Option<T>)>, end: u64, e: Option<T>) {
    if e.is_none() {
        if let Some(last) = items.last_mut() {
            if last.1.is_none() {
                last.0 = end;
                return;
            }
        }
    }
    items.push((end, e));
}

/// Split a run of leaf slots into evenly filled leaves.
fn leaves_from<T: Copy>(items: &[(u64, Option<T>)]) -> Vec<Node<T>> {
    let mut out = Vec::with_capacity(3);
    let mut at = 0;
    for n in even_split(items.len(), LEAF_SLOTS) {
        out.push(Node::Leaf(Box::new(Leaf::from_slots(&items[at..at + n]))));
        at += n;
    }
    out
}

/// Group a run of sibling nodes (starting at `min`) under evenly filled parents.
fn group<T: Copy>(list: Vec<Node<T>>, min: u64) -> Vec<Node<T>> {
    let sizes: Vec<usize> = even_split(list.len(), ARANGE_SLOTS).collect();
    let mut out = Vec::with_capacity(sizes.len());
    let mut it = list.into_iter();
    let mut gmin = min;
    for n in sizes {
        let children: Vec<Node<T>> = it.by_ref().take(n).collect();
        let parent = internal_from_children(children, gmin);
        gmin = parent.max().wrapping_add(1);
        out.push(parent);
    }
    out
}

/// Merge every under-full node of a sibling run (starting at `min`) into a neighbour
/// (`mas_rebalance`), re-splitting when the pair overflows. A lone node is left as it is;
/// its parent's level deals with it.
fn normalize<T: Copy>(list: &mut Vec<Node<T>>, min: u64) {
    while list.len() > 1 {
        let Some(i) = list.iter().position(|n| n.len() < n.min_slots()) else {
            return;
        };
        let x = if i > 0 { i - 1 } else { i };
        let xmin = if x == 0 { min } else { list[x - 1].max() + 1 };
        let right = list.remove(x + 1);
        let left = list.remove(x);
        let merged = merge(left, right, xmin);
        for (k, n) in merged.into_iter().enumerate() {
            list.insert(x + k, n);
        }
    }
}

/// Merge two adjacent siblings into one node, or two when they do not fit in one.
fn merge<T: Copy>(left: Node<T>, right: Node<T>, min: u64) -> Vec<Node<T>> {
    match (left, right) {
        (Node::Leaf(l), Node::Leaf(r)) => {
            let mut items = Vec::with_capacity(l.len() + r.len());
            for i in 0..l.len() {
                push_merged(&mut items, l.pivots[i], l.slots[i]);
            }
            for i in 0..r.len() {
                push_merged(&mut items, r.pivots[i], r.slots[i]);
            }
            leaves_from(&items)
        }
        (Node::Internal(mut l), Node::Internal(mut r)) => {
            let mut children = std::mem::take(&mut l.children);
            children.append(&mut r.children);
            normalize(&mut children, min);
            group(children, min)
        }
        _ => unreachable!("siblings have equal height"),
    }
}

/// Lowest start of `size` NULL indices within `[lo, hi]` below `node` (which starts at `nmin`).
fn gap_fwd<T: Copy>(node: &Node<T>, nmin: u64, lo: u64, hi: u64, size: u64) -> Option<u64> {
    match node {
        Node::Leaf(l) => {
            let mut start = nmin;
            for i in 0..l.len() {
                let end = l.pivots[i];
                if start > hi {
                    break;
                }
                if end >= lo && l.slots[i].is_none() {
                    let (s, e) = (start.max(lo), end.min(hi));
                    if e - s >= size - 1 {
                        return Some(s);
                    }
                }
                start = end.wrapping_add(1);
            }
            None
        }
        Node::Internal(n) => {
            let mut cmin = nmin;
            for i in 0..n.len() {
                let cmax = n.pivots[i];
                if cmin > hi {
                    break;
                }
                if cmax >= lo && n.gaps[i] >= size {
                    if let Some(s) = gap_fwd(&n.children[i], cmin, lo, hi, size) {
                        return Some(s);
                    }
                }
                cmin = cmax.wrapping_add(1);
            }
            None
        }
    }
}

/// Highest end of `size` NULL indices within `[lo, hi]` below `node` (which starts at `nmin`).
fn gap_rev<T: Copy>(node: &Node<T>, nmin: u64, lo: u64, hi: u64, size: u64) -> Option<u64> {
    match node {
        Node::Leaf(l) => {
            for i in (0..l.len()).rev() {
                let end = l.pivots[i];
                let start = if i == 0 { nmin } else { l.pivots[i - 1] + 1 };
                if end < lo {
                    break;
                }
                if start <= hi && l.slots[i].is_none() {
                    let (s, e) = (start.max(lo), end.min(hi));
                    if e - s >= size - 1 {
                        return Some(e);
                    }
                }
            }
            None
        }
        Node::Internal(n) => {
            for i in (0..n.len()).rev() {
                let cmax = n.pivots[i];
                let cmin = if i == 0 { nmin } else { n.pivots[i - 1] + 1 };
                if cmax < lo {
                    break;
                }
                if cmin <= hi && n.gaps[i] >= size {
                    if let Some(e) = gap_rev(&n.children[i], cmin, lo, hi, size) {
                        return Some(e);
                    }
                }
            }
            None
        }
    }
}
