//! lockdep: lock classes, the order graph "B taken while holding A", and its cycles
//! (`kernel/locking/lockdep.c`'s circular-dependency report).

use mmfuzz::mm::{Invariant, Lock, Tid};

use super::{Oracle, Violation};

/// Lock classes for lockdep (all page-table locks are one class).
fn class(l: Lock) -> usize {
    match l {
        Lock::MmapLock => 0,
        Lock::OomLock => 1,
        Lock::OomReaperLock => 2,
        Lock::TaskLock => 3,
        Lock::Ptl(_) => 4,
        Lock::FreezerLock => 5,
        Lock::IRwsem => 6,
    }
}

pub(super) const CLASSES: usize = 7;
const CLASS_NAMES: [&str; CLASSES] = [
    "mmap_lock",
    "oom_lock",
    "oom_reaper_lock",
    "task_lock",
    "ptl",
    "freezer_lock",
    "i_rwsem",
];

impl Oracle {
    /// lockdep: record "`lock` taken while holding `held`" and report a cycle.
    pub(super) fn lockdep(
        &mut self,
        tid: Tid,
        lock: Lock,
        held: &[(Lock, bool)],
    ) -> Option<Violation> {
        let b = class(lock);
        for &(h, _) in held {
            let a = class(h);
            if a != b && !self.order[a][b] {
                self.order[a][b] = true;
                if self.reaches(b, a) {
                    return Some(Violation {
                        inv: Invariant::LockOrder,
                        tid,
                        msg: format!(
                            "{} taken under {}, but {} is also taken (directly or not) under {}: possible ABBA deadlock",
                            CLASS_NAMES[b], CLASS_NAMES[a], CLASS_NAMES[a], CLASS_NAMES[b]
                        ),
                    });
                }
            }
        }
        None
    }

    fn reaches(&self, from: usize, to: usize) -> bool {
        let mut seen = [false; CLASSES];
        let mut stack = vec![from];
        while let Some(x) = stack.pop() {
            if x == to {
                return true;
            }
            if std::mem::replace(&mut seen[x], true) {
                continue;
            }
            for y in 0..CLASSES {
                if self.order[x][y] {
                    stack.push(y);
                }
            }
        }
        false
    }
}
