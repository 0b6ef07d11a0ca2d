//! Which instructions ran and which way each branch went, for coverage reports: a sink the
//! step function fills when the program carries one ([`crate::mm::Program::with_cover`]).
//! Without one the step function only tests for it.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::Arc;

/// A direction of a branch instruction (`Test`, `Local`, `CtrNext`), as coverage counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Way {
    /// The condition held: into an `if`, a loop's round. Any other instruction: it ran.
    True,
    /// The condition did not hold, however the branch was reached.
    False,
    /// A loop whose condition is a local (`for_each_*`, `while vma`) was never entered.
    Skipped,
    /// The same loop (or a `retry`) ended by its condition after a round.
    Exited,
}

/// Slots per instruction: ran or true; false when reached from before (entry); false when
/// reached by a jump back (a loop's later round).
const SLOTS: usize = 3;

/// Execution counts per (path, pc, slot).
pub struct Cover {
    base: Vec<usize>,
    counts: Vec<AtomicU32>,
}

impl Cover {
    /// Zero counts for paths of these instruction counts.
    pub fn new(lens: &[usize]) -> Cover {
        let mut base = Vec::with_capacity(lens.len());
        let mut n = 0;
        for l in lens {
            base.push(n);
            n += l * SLOTS;
        }
        Cover {
            base,
            counts: (0..n).map(|_| AtomicU32::new(0)).collect(),
        }
    }

    /// Count one. A plain load and store: exact for one executor, a lower bound when
    /// threads share the sink (an instruction counted at least once is never lost).
    fn add(&self, path: u16, pc: u16, slot: usize) {
        let c = &self.counts[self.base[path as usize] + pc as usize * SLOTS + slot];
        c.store(c.load(Relaxed).saturating_add(1), Relaxed);
    }

    /// How often the instruction went `way` (`Way::True`: how often it ran, for a
    /// non-branch).
    pub fn count(&self, path: u16, pc: u16, way: Way) -> u64 {
        let at = self.base[path as usize] + pc as usize * SLOTS;
        let n = |s: usize| u64::from(self.counts[at + s].load(Relaxed));
        match way {
            Way::True => n(0),
            Way::False => n(1) + n(2),
            Way::Skipped => n(1),
            Way::Exited => n(2),
        }
    }

    /// Add `other`'s counts (same program) to these.
    pub fn merge(&self, other: &Cover) {
        for (a, b) in self.counts.iter().zip(&other.counts) {
            let v = a.load(Relaxed).saturating_add(b.load(Relaxed));
            a.store(v, Relaxed);
        }
    }
}

/// A program's optional [`Cover`]. Not part of the program's identity: programs with and
/// without one are equal and hash alike.
#[derive(Clone, Default)]
pub struct Sink(pub Option<Arc<Cover>>);

impl Sink {
    /// A step or free instruction ran.
    #[inline]
    pub(crate) fn ran(&self, path: u16, pc: u16) {
        if let Some(c) = &self.0 {
            c.add(path, pc, 0);
        }
    }

    /// A branch went one way; `back`: it was reached by a jump from later in the path.
    #[inline]
    pub(crate) fn branch(&self, path: u16, pc: u16, held: bool, back: bool) {
        if let Some(c) = &self.0 {
            c.add(path, pc, if held { 0 } else { 1 + usize::from(back) });
        }
    }
}

impl PartialEq for Sink {
    fn eq(&self, _: &Sink) -> bool {
        true
    }
}

impl Eq for Sink {}

impl Hash for Sink {
    fn hash<H: Hasher>(&self, _: &mut H) {}
}

impl fmt::Debug for Sink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "Sink(on)" } else { "Sink" })
    }
}
