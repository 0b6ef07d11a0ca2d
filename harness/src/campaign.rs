//! Time-boxed random campaigns on all cores (rayon), deterministic per seed and job.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use crate::rng::SplitMix64;

use mmfuzz::mm::Invariant;
use rayon::prelude::*;

use crate::maple::{self, Divergence, Op};

/// Settings of one campaign.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Wall-clock budget.
    pub time: Duration,
    /// Worker threads.
    pub jobs: usize,
    /// Base seed; job `j` uses `seed + j`.
    pub seed: u64,
    /// Bytes per random case.
    pub case_bytes: usize,
    /// Stop after this many executions per job (for benchmarks), if set.
    pub max_execs_per_job: Option<u64>,
    /// mm campaigns: start every scenario from this address space (`import-maps`).
    pub setup: Option<Vec<crate::mm::scenario::Setup>>,
}

/// What one job found.
#[derive(Clone, Debug, Default)]
pub struct JobReport {
    /// Cases executed.
    pub execs: u64,
    /// Operations executed.
    pub ops: u64,
    /// The first failing case and its divergence, with its execution number.
    pub first: Option<(u64, Vec<Op>, Box<Divergence>)>,
}

/// The whole campaign's figures.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Cases executed, all jobs.
    pub execs: u64,
    /// Operations executed, all jobs.
    pub ops: u64,
    /// Wall-clock time taken.
    pub elapsed: Duration,
    /// Failures, one per job that found one, by job order.
    pub failures: Vec<(u64, Vec<Op>, Box<Divergence>)>,
}

/// Run the maple-store property on random cases until the budget runs out.
pub fn maple_store(s: &Settings) -> Report {
    let start = Instant::now();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(s.jobs.max(1))
        .build()
        .expect("thread pool");
    let jobs: Vec<JobReport> = pool.install(|| {
        (0..s.jobs.max(1) as u64)
            .into_par_iter()
            .map(|j| {
                let mut rng = SplitMix64(s.seed.wrapping_add(j));
                let mut buf = vec![0u8; s.case_bytes];
                let mut r = JobReport::default();
                while start.elapsed() < s.time && s.max_execs_per_job.is_none_or(|m| r.execs < m) {
                    rng.fill(&mut buf);
                    let ops = maple::decode(&buf);
                    r.execs += 1;
                    r.ops += ops.len() as u64;
                    if let Err(d) = maple::execute(&ops) {
                        r.first = Some((r.execs, ops, d));
                        break;
                    }
                }
                r
            })
            .collect()
    });
    let mut rep = Report {
        elapsed: start.elapsed(),
        ..Report::default()
    };
    for j in jobs {
        rep.execs += j.execs;
        rep.ops += j.ops;
        if let Some(f) = j.first {
            rep.failures.push(f);
        }
    }
    rep
}

/// A found violation: execution number (per job, 1-based), job, scenario, violation.
pub type Found = (u64, u64, crate::mm::Scenario, crate::mm::Violation);

/// What a campaign found on one config.
#[derive(Clone, Debug)]
pub struct ConfigReport {
    /// Config name.
    pub config: String,
    /// Scenarios executed.
    pub execs: u64,
    /// Model steps executed.
    pub steps: u64,
    /// Wall-clock time.
    pub elapsed: Duration,
    /// The earliest violation of any invariant.
    pub first: Option<Found>,
    /// The earliest violation of an expected invariant (for `bug` configs).
    pub expected: Option<Found>,
    /// The earliest latent defect (a proxy broke, and no continuation of that scenario
    /// reached a harm): its scenario and mechanism. Reported only if no violation was found.
    pub latent: Option<Found>,
    /// Stopped by [`Live::stop`] (Ctrl-C) before the budget ran out.
    pub interrupted: bool,
}

/// Figures a running campaign publishes for a progress display, and its stop switch.
#[derive(Debug, Default)]
pub struct Live {
    /// Scenarios executed so far, all jobs (updated every [`Live::BATCH`] executions).
    pub execs: AtomicU64,
    /// Violations seen so far (any invariant), all jobs.
    pub violations: AtomicU64,
    /// Set to stop every job at its next scenario (Ctrl-C).
    pub stop: Arc<AtomicBool>,
}

impl Live {
    /// Executions between updates of [`Live::execs`].
    pub const BATCH: u64 = 64;
    /// A fresh display sharing `stop`.
    pub fn new(stop: Arc<AtomicBool>) -> Live {
        Live {
            stop,
            ..Live::default()
        }
    }
}

impl ConfigReport {
    /// The violation to report: one of the expected invariants if found, else the first.
    pub fn shown(&self) -> Option<&Found> {
        self.expected.as_ref().or(self.first.as_ref())
    }
}

fn earlier(a: &Option<Found>, b: &Found) -> bool {
    a.as_ref().is_none_or(|x| (b.0, b.1) < (x.0, x.1))
}

/// Random scenarios against one config until the budget runs out, a violation of an
/// expected invariant is found (`want`, for `bug` configs), or any violation (otherwise).
/// Job `j` draws from `SplitMix64(seed + j)`.
pub fn mm_config(
    prog: &mmfuzz::mm::Program,
    want: &[mmfuzz::mm::Invariant],
    s: &Settings,
) -> ConfigReport {
    mm_config_live(prog, want, s, &Live::default())
}

/// [`mm_config`], publishing its figures to `live` and stopping early when `live.stop` is set.
pub fn mm_config_live(
    prog: &mmfuzz::mm::Program,
    want: &[mmfuzz::mm::Invariant],
    s: &Settings,
    live: &Live,
) -> ConfigReport {
    use crate::mm::{exec, generate, harm};
    let start = Instant::now();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(s.jobs.max(1))
        .build()
        .expect("thread pool");
    let done = AtomicBool::new(false);
    type JobOut = (u64, u64, Option<Found>, Option<Found>, Option<Found>);
    let jobs: Vec<JobOut> = pool.install(|| {
        (0..s.jobs.max(1) as u64)
            .into_par_iter()
            .map(|j| {
                let mut rng = SplitMix64(s.seed.wrapping_add(j));
                let (mut execs, mut steps) = (0u64, 0u64);
                let mut first: Option<Found> = None;
                let mut latent: Option<Found> = None;
                while start.elapsed() < s.time
                    && s.max_execs_per_job.is_none_or(|m| execs < m)
                    && !done.load(Ordering::Relaxed)
                    && !live.stop.load(Ordering::Relaxed)
                {
                    let mut sc = generate::random(prog, &mut rng);
                    if let Some(setup) = &s.setup {
                        sc = generate::with_setup(sc, setup);
                    }
                    execs += 1;
                    if execs % Live::BATCH == 0 {
                        live.execs.fetch_add(Live::BATCH, Ordering::Relaxed);
                    }
                    let Ok(mut out) = exec::run(prog, &sc, exec::Opts::default()) else {
                        continue;
                    };
                    steps += out.steps as u64;
                    if out.is_latent() {
                        // From the mechanism to the first harm this scenario can reach.
                        match harm::after(prog, &sc)
                            .map(|h| (exec::run(prog, &h, exec::Opts::default()), h))
                        {
                            Some((Ok(o), h)) => (out, sc) = (o, h),
                            _ => {
                                if latent.is_none() {
                                    let m = out.mechanism.clone().map(|m| m.violation);
                                    latent = m.map(|m| (execs, j, sc.clone(), m));
                                }
                            }
                        }
                    }
                    if let Some(v) = out.violation {
                        live.violations.fetch_add(1, Ordering::Relaxed);
                        // `bug I4/I5`: the harm, or the mechanism that led to it.
                        let matched = want.contains(&v.inv)
                            || out
                                .mechanism
                                .is_some_and(|m| want.contains(&m.violation.inv));
                        let f = (execs, j, sc, v);
                        if matched || want.is_empty() {
                            done.store(true, Ordering::Relaxed);
                            let fst = first.or_else(|| Some(f.clone()));
                            return (execs, steps, fst, Some(f), latent);
                        }
                        if first.is_none() {
                            first = Some(f);
                        }
                    }
                }
                (execs, steps, first, None, latent)
            })
            .collect()
    });
    let mut rep = ConfigReport {
        config: prog.config.name.clone(),
        execs: 0,
        steps: 0,
        elapsed: start.elapsed(),
        first: None,
        expected: None,
        latent: None,
        interrupted: live.stop.load(Ordering::Relaxed),
    };
    for (e, st, f, m, l) in jobs {
        if let Some(l) = l {
            if earlier(&rep.latent, &l) {
                rep.latent = Some(l);
            }
        }
        rep.execs += e;
        rep.steps += st;
        if let Some(f) = f {
            if earlier(&rep.first, &f) {
                rep.first = Some(f);
            }
        }
        if let Some(m) = m {
            if want.is_empty() {
                if earlier(&rep.first, &m) {
                    rep.first = Some(m);
                }
            } else if earlier(&rep.expected, &m) {
                rep.expected = Some(m);
            }
        }
    }
    rep
}

/// What a campaign or a search found on one config, for [`as_expected`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finding {
    /// A violation of this invariant (the harm), and the proxy broken on the way to it (the
    /// mechanism), if any.
    Bug(Invariant, Option<Invariant>),
    /// A proxy invariant broke and no harm followed anywhere (shared/spec/README.md).
    Latent(Invariant),
    /// No violation (within the budget, or in a complete search).
    Safe,
    /// No violation so far: the search stopped at its bound.
    Incomplete,
}

impl Finding {
    /// The `found` word of a row: `bug`, `latent`, `safe` or `incomplete`.
    pub fn word(self) -> &'static str {
        match self {
            Finding::Bug(..) => "bug",
            Finding::Latent(_) => "latent",
            Finding::Safe => "safe",
            Finding::Incomplete => "incomplete",
        }
    }

    /// The invariant a row names: the harm, or a latent defect's mechanism.
    pub fn invariant(self) -> Option<Invariant> {
        match self {
            Finding::Bug(i, _) | Finding::Latent(i) => Some(i),
            Finding::Safe | Finding::Incomplete => None,
        }
    }

    /// The mechanism of a bug (the proxy on the way to the harm) or of a latent defect.
    pub fn mechanism(self) -> Option<Invariant> {
        match self {
            Finding::Bug(_, m) => m,
            Finding::Latent(i) => Some(i),
            Finding::Safe | Finding::Incomplete => None,
        }
    }
}

/// Whether a config expecting `expect` gave its expected verdict (shared/spec/README.md): an
/// `unknown` config always does (its row does not change the exit status); a `safe` one when
/// nothing was found; a `bug` one when it broke one of the invariants it names (`I4/I5`: the
/// harm or the mechanism that led to it); a `latent` one when that proxy broke and no harm
/// followed.
pub fn as_expected(expect: &mmfuzz::mm::Expect, found: Finding) -> bool {
    use mmfuzz::mm::Expect;
    match (expect, found) {
        (Expect::Unknown, _) => true,
        (Expect::Safe, f) => f == Finding::Safe,
        (Expect::Bug(want), Finding::Bug(harm, via)) => {
            want.contains(&harm) || via.is_some_and(|m| want.contains(&m))
        }
        (Expect::Latent(want), Finding::Latent(m)) => want.contains(&m),
        (Expect::Bug(_) | Expect::Latent(_), _) => false,
    }
}

/// [`as_expected`] for an exhaustive search: it stops at the shortest counterexample whatever
/// invariant that breaks, so a `bug` config gives its verdict with any violation.
pub fn search_as_expected(expect: &mmfuzz::mm::Expect, found: Finding) -> bool {
    match (expect, found) {
        (mmfuzz::mm::Expect::Bug(_), Finding::Bug(..)) => true,
        _ => as_expected(expect, found),
    }
}
