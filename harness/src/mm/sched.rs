//! The schedulers: which runnable thread takes the next step.
//!
//! A [`Schedule`] (part of every scenario) names one [`Scheduler`]:
//! - [`Choices`]: an index into the runnable threads per step (libFuzzer and proptest mutate
//!   these bytes; the seeded campaign draws them);
//! - [`Replay`]: `(thread, steps)` segments, the shape a shrunk counterexample is kept in and
//!   replayed from (numbered steps per CPU);
//! - [`Pct`]: probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010): random
//!   distinct thread priorities and `depth - 1` change points in the first `span` steps.
//!
//! A [`Picker`] runs one of them for one execution. When the schedule has nothing to say (it
//! ran out, or names a thread that cannot run), the picker's fallback keeps the last thread
//! running and moves on past threads that only spin on a lock, so every run ends. The
//! exhaustive search (`explore`) asks no scheduler: it takes every choice.

use mmfuzz::mm::Tid;

use super::scenario::Schedule;
use crate::rng::SplitMix64;

/// Decides which runnable thread takes the next step (shuttle's `Scheduler`: an oracle over
/// thread choices). Deterministic: the same schedule and the same sequence of runnable sets
/// give the same choices.
pub trait Scheduler {
    /// The thread for pick number `step` among `runnable` (ascending, never empty), or `None`
    /// to leave it to the [`Picker`]'s fallback. `spinning`: the threads (bit `t`) that just
    /// spun on a lock without progress.
    fn choose(&mut self, step: usize, runnable: &[Tid], spinning: u8) -> Option<Tid>;
}

/// At pick `i`, the `choices[i] % runnable`-th runnable thread.
#[derive(Clone, Debug)]
pub struct Choices(pub Vec<u8>);

impl Scheduler for Choices {
    fn choose(&mut self, step: usize, runnable: &[Tid], _: u8) -> Option<Tid> {
        let &b = self.0.get(step)?;
        Some(runnable[b as usize % runnable.len()])
    }
}

/// Thread `t` for `n` picks, for each `(t, n)` in turn; a segment ends early when its thread
/// cannot run (it blocked or returned).
#[derive(Clone, Debug)]
pub struct Replay {
    segs: Vec<(u8, u16)>,
    /// Segment index and picks made in it.
    at: (usize, u16),
}

impl Replay {
    /// Replay `segs`.
    pub fn new(segs: Vec<(u8, u16)>) -> Self {
        Replay { segs, at: (0, 0) }
    }
}

impl Scheduler for Replay {
    fn choose(&mut self, _: usize, runnable: &[Tid], _: u8) -> Option<Tid> {
        loop {
            let &(t, n) = self.segs.get(self.at.0)?;
            if self.at.1 < n && runnable.contains(&t) {
                self.at.1 += 1;
                return Some(t);
            }
            self.at = (self.at.0 + 1, 0);
        }
    }
}

/// PCT: the live thread of highest priority runs; at change point `k` the running thread
/// drops below every other.
#[derive(Clone, Debug)]
pub struct Pct {
    prio: Vec<u32>,
    change: Vec<usize>,
}

impl Pct {
    /// Priorities and change points for `n` threads, drawn from `seed`.
    pub fn new(seed: u64, depth: u8, span: u16, n: usize) -> Self {
        let mut rng = SplitMix64(seed);
        // Distinct priorities above the change-point ones: a random permutation.
        let mut prio: Vec<u32> = (0..n as u32).map(|i| i + u32::from(depth) + 1).collect();
        for i in (1..n).rev() {
            let j = (rng.next_u64() % (i as u64 + 1)) as usize;
            prio.swap(i, j);
        }
        let change = (1..depth)
            .map(|_| (rng.next_u64() % u64::from(span.max(1))) as usize)
            .collect();
        Pct { prio, change }
    }
}

impl Scheduler for Pct {
    fn choose(&mut self, step: usize, runnable: &[Tid], spinning: u8) -> Option<Tid> {
        // Spinning threads yield to the highest-priority thread that can progress.
        let t = *runnable
            .iter()
            .filter(|&&t| spinning & (1 << t) == 0)
            .max_by_key(|&&t| self.prio[t as usize])
            .expect("some runnable");
        if let Some(k) = self.change.iter().position(|&c| c == step) {
            self.prio[t as usize] = k as u32 + 1;
        }
        Some(t)
    }
}

/// The scheduler a [`Schedule`] names (static dispatch: this runs at every step).
#[derive(Clone, Debug)]
enum Any {
    Choices(Choices),
    Replay(Replay),
    Pct(Pct),
}

impl Scheduler for Any {
    fn choose(&mut self, step: usize, runnable: &[Tid], spinning: u8) -> Option<Tid> {
        match self {
            Any::Choices(s) => s.choose(step, runnable, spinning),
            Any::Replay(s) => s.choose(step, runnable, spinning),
            Any::Pct(s) => s.choose(step, runnable, spinning),
        }
    }
}

/// The picks of one execution: a [`Scheduler`] and the fallback every schedule shares.
#[derive(Clone, Debug)]
pub struct Picker {
    scheduler: Any,
    /// Picks made.
    at: usize,
    last: Option<Tid>,
    /// Threads whose last step since the last progress spun on a lock.
    spinners: u8,
}

impl Picker {
    /// The picker for `kind` over `n` threads.
    pub fn new(kind: &Schedule, n: usize) -> Self {
        let scheduler = match kind {
            Schedule::Choices(c) => Any::Choices(Choices(c.clone())),
            Schedule::Segments(s) => Any::Replay(Replay::new(s.clone())),
            &Schedule::Pct { seed, depth, span } => Any::Pct(Pct::new(seed, depth, span, n)),
        };
        Picker {
            scheduler,
            at: 0,
            last: None,
            spinners: 0,
        }
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
        let live = |t: Tid| spinners & (1 << t) == 0;
        let t = match self.scheduler.choose(i, runnable, spinners) {
            Some(t) => t,
            None => match self.last {
                Some(l) if runnable.contains(&l) && !spun => l,
                Some(l) => *runnable
                    .iter()
                    .filter(|&&t| live(t))
                    .find(|&&t| t > l)
                    .or_else(|| runnable.iter().find(|&&t| live(t)))
                    .unwrap_or(&runnable[0]),
                None => runnable[0],
            },
        };
        self.last = Some(t);
        t
    }
}

#[cfg(test)]
mod tests {
    use mmfuzz::mm::{builtin, Tid};

    use super::Picker;
    use crate::mm::exec::{self, Opts};
    use crate::mm::scenario::{Scenario, Schedule};
    use crate::mm::{generate, shrink};
    use crate::rng::SplitMix64;

    fn picks(kind: Schedule, runnable: &[Tid], spun: &[bool]) -> Vec<Tid> {
        let mut s = Picker::new(&kind, 3);
        spun.iter().map(|&x| s.pick(runnable, x)).collect()
    }

    /// Segments run each thread for its steps (skipping a thread that cannot run), then the
    /// last thread keeps running.
    #[test]
    fn segments_then_the_fallback() {
        let kind = Schedule::Segments(vec![(1, 2), (2, 3), (0, 1)]);
        assert_eq!(picks(kind, &[0, 1], &[false; 5]), [1, 1, 0, 0, 0]);
    }

    /// Choices index the runnable threads modulo their number.
    #[test]
    fn choices_index_the_runnable_threads() {
        let kind = Schedule::Choices(vec![0, 1, 2, 5]);
        assert_eq!(picks(kind, &[0, 1, 2], &[false; 6]), [0, 1, 2, 2, 2, 2]);
    }

    /// A thread that only spins on a lock yields to another; when every runnable thread
    /// spins, the round starts again.
    #[test]
    fn a_spinning_thread_yields() {
        let kind = Schedule::Choices(Vec::new());
        assert_eq!(
            picks(kind, &[0, 1], &[false, true, true, true]),
            [0, 1, 0, 1]
        );
    }

    /// PCT: the same seed gives the same picks; with depth 1 (no change point) the thread of
    /// highest priority runs while it can.
    #[test]
    fn pct_is_deterministic() {
        let kind = |seed| Schedule::Pct {
            seed,
            depth: 1,
            span: 10,
        };
        let a = picks(kind(7), &[0, 1, 2], &[false; 12]);
        assert_eq!(a, picks(kind(7), &[0, 1, 2], &[false; 12]));
        assert!(a.iter().all(|&t| t == a[0]), "{a:?}");
        let firsts: std::collections::HashSet<Tid> = (0..40)
            .map(|seed| picks(kind(seed), &[0, 1, 2], &[false])[0])
            .collect();
        assert_eq!(firsts.len(), 3, "every thread is sometimes first");
    }

    /// Replay round trip (shuttle's `replay_roundtrip`): a run's trace, turned into segments
    /// (the form counterexamples are kept in), replays to the same trace, violation included.
    #[test]
    fn replay_round_trip() {
        let rec = Opts {
            record: true,
            ..Opts::default()
        };
        for name in ["v5.17-rc3", "v6.1", "v4.7", "v4.14"] {
            let prog = builtin::program(name).unwrap();
            let mut rng = SplitMix64(3);
            for _ in 0..40 {
                let sc = generate::random(&prog, &mut rng);
                let Ok(first) = exec::run(&prog, &sc, rec) else {
                    continue;
                };
                let replay = Scenario {
                    schedule: Schedule::Segments(shrink::segments_of(&first)),
                    ..sc.clone()
                };
                let again = exec::run(&prog, &replay, rec).unwrap();
                assert_eq!(again.trace, first.trace, "{name}: {sc:?}");
                assert_eq!(again.violation, first.violation, "{name}");
                assert_eq!(shrink::segments_of(&again), shrink::segments_of(&first));
            }
        }
    }
}
