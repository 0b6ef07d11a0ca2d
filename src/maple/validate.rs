//! `mt_validate` for the maple-style store.
//!
//! The checks of `mt_validate()` in `lib/maple_tree.c` (v6.1+, `CONFIG_DEBUG_MAPLE_TREE`):
//! `mas_validate_limits` (pivots increasing, within the node's limits, last pivot = node max),
//! `mas_validate_parent_slot` / `mas_validate_child_slot` (each child covers exactly the range
//! its parent's pivots give it), `mas_validate_gaps` (each gap equals the largest NULL run
//! below that child), uniform leaf depth, node occupancy (`mt_min_slot_count`; the kernel
//! exempts the rightmost node of a level, this store keeps every non-root node above the
//! minimum), and `mt_validate_nulls` (no two adjacent NULL ranges, across nodes too).

use std::fmt;

use super::node::{Node, ARANGE_SLOTS, LEAF_SLOTS};

/// The first structural invariant found broken, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidateError {
    /// Slot offsets from the root to the node (`[]` is the root).
    pub path: Vec<usize>,
    /// The node's range `[min, max]`, as its parent gives it.
    pub min: u64,
    /// See `min`.
    pub max: u64,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for ValidateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mt_validate: node root")?;
        for s in &self.path {
            write!(f, "/{s}")?;
        }
        write!(f, " [{:#x}, {:#x}]: {}", self.min, self.max, self.problem)
    }
}

impl std::error::Error for ValidateError {}

struct Checker {
    height: usize,
    path: Vec<usize>,
    /// Whether the last leaf slot seen in index order was NULL (`mt_validate_nulls`).
    prev_null: bool,
}

impl Checker {
    fn err(&self, min: u64, max: u64, problem: String) -> ValidateError {
        ValidateError {
            path: self.path.clone(),
            min,
            max,
            problem,
        }
    }

    fn node<T: Copy>(
        &mut self,
        node: &Node<T>,
        min: u64,
        max: u64,
        depth: usize,
    ) -> Result<(), ValidateError> {
        let len = node.len();
        let (cap, kind) = if node.is_leaf() {
            (LEAF_SLOTS, "leaf")
        } else {
            (ARANGE_SLOTS, "internal")
        };
        if len == 0 || len > cap {
            return Err(self.err(min, max, format!("{kind} holds {len} slots (1..={cap})")));
        }
        if depth > 1 && len < node.min_slots() {
            return Err(self.err(
                min,
                max,
                format!(
                    "{kind} holds {len} slots, under the minimum {} (missed rebalance)",
                    node.min_slots()
                ),
            ));
        }
        let pivots: &[u64] = match node {
            Node::Leaf(l) => &l.pivots,
            Node::Internal(n) => &n.pivots,
        };
        if pivots[0] < min {
            return Err(self.err(
                min,
                max,
                format!("pivot 0 = {:#x} below the node min", pivots[0]),
            ));
        }
        for i in 1..len {
            if pivots[i] <= pivots[i - 1] {
                return Err(self.err(
                    min,
                    max,
                    format!(
                        "pivot {i} = {:#x} not above pivot {} = {:#x}",
                        pivots[i],
                        i - 1,
                        pivots[i - 1]
                    ),
                ));
            }
        }
        if pivots[len - 1] != max {
            return Err(self.err(
                min,
                max,
                format!(
                    "last pivot {} = {:#x} differs from the node max (parent pivot)",
                    len - 1,
                    pivots[len - 1]
                ),
            ));
        }
        if pivots[len..].iter().any(|&p| p != 0) {
            return Err(self.err(min, max, "stale pivot past the end of data".into()));
        }
        match node {
            Node::Leaf(l) => {
                if depth != self.height {
                    return Err(self.err(
                        min,
                        max,
                        format!("leaf at depth {depth}, tree height {}", self.height),
                    ));
                }
                if l.slots[len..].iter().any(Option::is_some) {
                    return Err(self.err(min, max, "stale slot past the end of data".into()));
                }
                for i in 0..len {
                    let null = l.slots[i].is_none();
                    if null && self.prev_null {
                        return Err(self.err(
                            min,
                            max,
                            format!("sequential NULL ranges end at slot {i} (unmerged NULLs)"),
                        ));
                    }
                    self.prev_null = null;
                }
            }
            Node::Internal(n) => {
                if n.children.len() != len {
                    return Err(self.err(
                        min,
                        max,
                        format!("{} children for {len} slots", n.children.len()),
                    ));
                }
                if n.gaps[len..].iter().any(|&g| g != 0) {
                    return Err(self.err(min, max, "stale gap past the end of data".into()));
                }
                let mut cmin = min;
                for i in 0..len {
                    let child = &n.children[i];
                    let cmax = n.pivots[i];
                    let want = child.max_gap(cmin);
                    if n.gaps[i] != want {
                        return Err(self.err(
                            min,
                            max,
                            format!(
                                "gap {i} = {:#x}, but the largest NULL run below is {:#x}",
                                n.gaps[i], want
                            ),
                        ));
                    }
                    self.path.push(i);
                    self.node(child, cmin, cmax, depth + 1)?;
                    self.path.pop();
                    cmin = cmax.wrapping_add(1);
                }
            }
        }
        Ok(())
    }
}

pub(crate) fn validate<T: Copy>(root: &Node<T>, height: usize) -> Result<(), ValidateError> {
    let mut c = Checker {
        height,
        path: Vec::new(),
        prev_null: false,
    };
    c.node(root, 0, u64::MAX, 1)
}
