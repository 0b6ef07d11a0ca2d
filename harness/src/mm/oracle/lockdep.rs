//! lockdep: lock classes, the order graph "B taken while holding A", and its cycles
//! (`kernel/locking/lockdep.c`'s circular-dependency report).

use mmfuzz::mm::{Invariant, Lock, Tid};

use super::{Oracle, Violation};

/// Lock classes ([`Lock::class`]).
pub(super) const CLASSES: usize = Lock::CLASSES.len();

impl Oracle {
    /// lockdep: record "`lock` taken while holding `held`" and report a cycle.
    pub(super) fn lockdep(
        &mut self,
        tid: Tid,
        lock: Lock,
        held: &[(Lock, bool)],
    ) -> Option<Violation> {
        let b = lock.class();
        for &(h, _) in held {
            let a = h.class();
            if a != b && !self.order[a][b] {
                self.order[a][b] = true;
                if self.reaches(b, a) {
                    return Some(Violation {
                        inv: Invariant::LockOrder,
                        tid,
                        msg: format!(
                            "{} taken under {}, but {} is also taken (directly or not) under {}: possible ABBA deadlock",
                            Lock::CLASSES[b].class_name(),
                            Lock::CLASSES[a].class_name(),
                            Lock::CLASSES[a].class_name(),
                            Lock::CLASSES[b].class_name()
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
