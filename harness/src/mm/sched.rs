//! The scheduler: which runnable thread takes the next step.
//!
//! A [`Schedule`] (part of every scenario) is one of
//! - `Choices`: an index into the runnable threads per step (libFuzzer and proptest mutate
//!   these bytes);
//! - `Segments`: `(thread, steps)` runs, the shape a shrunk counterexample is kept in and
//!   replayed from (numbered steps per CPU);
//! - `Pct`: probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010): random
//!   distinct thread priorities and `depth - 1` change points in the first `span` steps.
//!
//! When a schedule runs out, or names a thread that cannot run, the fallback keeps the last
//! thread running and moves on past threads that only spin on a lock, so every run ends.
//! The exhaustive search (`explore`) does not use it: it tries every runnable thread.

use mmfuzz::mm::Tid;

use super::scenario::Schedule;
use crate::rng::SplitMix64;

/// The scheduler of one execution: an oracle that decides which runnable thread steps next
/// (shuttle's `Scheduler`). Deterministic: the same [`Schedule`] and the same sequence of
/// runnable sets give the same picks.
#[derive(Clone, Debug)]
pub struct Scheduler {
    kind: Schedule,
    at: usize,
    /// Segment index and steps taken in it.
    seg: (usize, u16),
    last: Option<Tid>,
    prio: Vec<u32>,
    change: Vec<usize>,
    /// Threads whose last step since the last progress spun on a lock.
    spinners: u8,
}

impl Scheduler {
    /// The scheduler for `kind` over `n` threads.
    pub fn new(kind: &Schedule, n: usize) -> Self {
        let mut s = Scheduler {
            kind: kind.clone(),
            at: 0,
            seg: (0, 0),
            last: None,
            prio: Vec::new(),
            change: Vec::new(),
            spinners: 0,
        };
        if let Schedule::Pct { seed, depth, span } = *kind {
            let mut rng = SplitMix64(seed);
            // Distinct priorities above the change-point ones: a random permutation.
            let mut p: Vec<u32> = (0..n as u32).map(|i| i + u32::from(depth) + 1).collect();
            for i in (1..n).rev() {
                let j = (rng.next_u64() % (i as u64 + 1)) as usize;
                p.swap(i, j);
            }
            s.prio = p;
            s.change = (1..depth)
                .map(|_| (rng.next_u64() % u64::from(span.max(1))) as usize)
                .collect();
        }
        s
    }

    /// Pick the next thread. `spun`: the previous step made no progress (a spinning or
    /// blocking lock attempt), so the fallback moves on to the next runnable thread instead of
    /// spinning forever.
    pub fn pick(&mut self, runnable: &[Tid], spun: bool) -> Tid {
        let i = self.at;
        self.at += 1;
        match (spun, self.last) {
            (true, Some(l)) => self.spinners |= 1 << l,
            _ => self.spinners = 0,
        }
        if runnable.iter().all(|&t| self.spinners & (1 << t) != 0) {
            self.spinners = 0;
        }
        let spinners = self.spinners;
        let live = |t: &&Tid| spinners & (1 << **t) == 0;
        let fallback = |last: Option<Tid>| match last {
            Some(l) if runnable.contains(&l) && !spun => l,
            Some(l) => *runnable
                .iter()
                .filter(live)
                .find(|&&t| t > l)
                .or_else(|| runnable.iter().find(live))
                .unwrap_or(&runnable[0]),
            None => runnable[0],
        };
        let t = match &self.kind {
            Schedule::Segments(segs) => loop {
                let Some(&(t, n)) = segs.get(self.seg.0) else {
                    break fallback(self.last);
                };
                if self.seg.1 < n && runnable.contains(&t) {
                    self.seg.1 += 1;
                    break t;
                }
                self.seg = (self.seg.0 + 1, 0);
            },
            Schedule::Choices(c) => match c.get(i) {
                Some(&b) => runnable[b as usize % runnable.len()],
                None => fallback(self.last),
            },
            Schedule::Pct { .. } => {
                // Spinning threads yield to the highest-priority thread that can progress.
                let t = *runnable
                    .iter()
                    .filter(live)
                    .max_by_key(|&&t| self.prio[t as usize])
                    .expect("some runnable");
                if let Some(k) = self.change.iter().position(|&c| c == i) {
                    // Change point k: the running thread drops below every other.
                    self.prio[t as usize] = k as u32 + 1;
                }
                t
            }
        };
        self.last = Some(t);
        t
    }
}
