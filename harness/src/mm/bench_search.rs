//! The bug benchmark built from `review`'s answers (`mmfuzz bench-search`).
//!
//! Every mutant that the exhaustive search proves to break a kernel invariant (not only a
//! lock's balance) on a `safe` built-in config is a case with ground truth: a bug exists, and
//! its shortest counterexample has so many numbered steps. Each search driver runs on each
//! case until its first violation or its budget: recall within 1 s and within the budget, and
//! executions and seconds to the first. The drivers here run in-process: `run` (the campaign's
//! generator, its schedules mixed), `pct` (the same scenarios under PCT schedules only) and
//! `proptest` (proptest's runner over the fuzzer-byte decoding). libFuzzer, with and without
//! the model's coverage as extra counters, runs the same cases from `scripts/bench_search.py`.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use mmfuzz::mm::{Program, Role};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::explore::Bounds;
use super::review::{self, mutant_program, Verdict};
use super::scenario::{Scenario, Schedule};
use super::{exec, generate, harm};
use crate::rng::SplitMix64;

/// One benchmark case: a mutant of a safe config that the exhaustive search proves buggy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// `CONFIG PATH: CHANGE`, unique in a benchmark.
    pub id: String,
    /// The config mutated.
    pub config: String,
    /// The path version mutated.
    pub path: String,
    /// The operator (`review`'s word).
    pub mutation: String,
    /// What was changed.
    pub change: String,
    /// The invariant of the shortest counterexample.
    pub invariant: String,
    /// Its numbered steps.
    pub numbered_steps: usize,
    /// The mutant's text (config and paths): `MMFUZZ_CONFIG` for libFuzzer.
    pub text: String,
}

/// Build the cases: `review` of every path version of every config in `progs` at bounds `b`
/// (no random search), each path version once (in the first config that uses it), pairs for
/// `exit_mmap` (the seed thread's belt and braces; every path's pairs would square the cost).
/// `done` is called after each config with its name and the cases so far.
pub fn cases(progs: &[Program], b: &Bounds, done: &(dyn Fn(&str, usize) + Sync)) -> Vec<Case> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    for prog in progs {
        for c in &prog.paths {
            let path = format!("{}@{}", c.name, c.version);
            if !seen.insert(path.clone()) {
                continue;
            }
            let s = review::Settings {
                bounds: b.clone(),
                pairs: c.name == "exit_mmap",
                random: None,
                seed: 0,
                shard: None,
            };
            let Ok(r) = review::review(prog, &path, &s, &|_| {}) else {
                continue;
            };
            for a in r.all() {
                let Verdict::Broken { inv, steps, .. } = &a.verdict else {
                    continue;
                };
                if a.same_as.is_some() || !a.verdict.load_bearing() {
                    continue;
                }
                out.push(Case {
                    id: format!("{} {path}: {}", prog.config.name, a.label),
                    config: prog.config.name.clone(),
                    path: path.clone(),
                    mutation: a.mutation.word().to_string(),
                    change: a.label.clone(),
                    invariant: inv.to_string(),
                    numbered_steps: *steps,
                    text: a.text.clone(),
                });
            }
        }
        done(&prog.config.name, out.len());
    }
    out
}

/// A search driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Driver {
    /// `mmfuzz run`'s generator (a quarter of its schedules PCT).
    Run,
    /// The same scenarios, every schedule PCT.
    Pct,
    /// proptest's runner over the fuzzer-byte decoding ([`generate::strategy`]).
    Proptest,
    /// Swarm testing: `run`'s generator over a random subset of the config's roles (the
    /// victim always), a new subset every [`SWARM_BATCH`] scenarios.
    Swarm,
}

/// Scenarios per swarm subset.
pub const SWARM_BATCH: u64 = 64;

impl Driver {
    /// Every in-process driver.
    pub const ALL: [Driver; 4] = [Driver::Run, Driver::Pct, Driver::Swarm, Driver::Proptest];

    /// Its name in tables and flags.
    pub fn word(self) -> &'static str {
        match self {
            Driver::Run => "run",
            Driver::Pct => "pct",
            Driver::Proptest => "proptest",
            Driver::Swarm => "swarm",
        }
    }

    /// The driver a name gives.
    pub fn parse(s: &str) -> Option<Driver> {
        Driver::ALL.into_iter().find(|d| d.word() == s)
    }
}

/// A known case for tests and smoke runs: seed-akpm-1-fixed's `exit_mmap` without both
/// `set_bit(MMF_OOM_SKIP)` and `mm->mmap = NULL` (S0's belt and braces; I5 in two numbered
/// steps).
pub fn belt_and_braces() -> Case {
    let prog = mmfuzz::mm::builtin::program("seed-akpm-1-fixed").expect("built-in");
    let steps = review::steps(&prog, "exit_mmap@seed-akpm-1-fixed").expect("a built-in path");
    let pair: Vec<&review::Step> = steps
        .iter()
        .filter(|s| s.text == "set_bit MMF_OOM_SKIP" || s.text == "mm_mmap_clear")
        .collect();
    assert_eq!(
        pair.len(),
        2,
        "seed-akpm-1-fixed's exit_mmap has both steps"
    );
    Case {
        id: "belt and braces".into(),
        config: "seed-akpm-1-fixed".into(),
        path: "exit_mmap@seed-akpm-1-fixed".into(),
        mutation: "delete_pair".into(),
        change: "set_bit MMF_OOM_SKIP + mm_mmap_clear deleted".into(),
        invariant: "I5".into(),
        numbered_steps: 2,
        text: review::mutant_text(&prog, &pair),
    }
}

/// A driver's result on one case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hunt {
    /// The case's id.
    pub case: String,
    /// The driver's name.
    pub driver: String,
    /// Found a violation within the budget.
    pub found: bool,
    /// Scenarios run (to the first violation if found).
    pub execs: u64,
    /// Seconds taken (to the first violation if found).
    pub secs: f64,
}

/// A scenario violates something (a harm, or a latent defect whose harm a continuation
/// reaches), as `mmfuzz run` counts it.
pub fn violates(prog: &Program, sc: &Scenario) -> bool {
    let Ok(out) = exec::run(prog, sc, exec::Opts::default()) else {
        return false;
    };
    if out.violation.is_some() {
        return true;
    }
    out.is_latent()
        && harm::after(prog, sc).is_some_and(|h| {
            exec::run(prog, &h, exec::Opts::default()).is_ok_and(|o| o.violation.is_some())
        })
}

/// Run `driver` on `prog` from `seed` until its first violation or `budget`.
pub fn hunt(driver: Driver, prog: &Program, seed: u64, budget: Duration) -> (bool, u64, f64) {
    let t0 = Instant::now();
    let mut execs = 0u64;
    match driver {
        Driver::Run | Driver::Pct | Driver::Swarm => {
            let mut rng = SplitMix64(seed);
            let all = generate::offered(prog);
            let mut roles = all.clone();
            while t0.elapsed() < budget {
                if driver == Driver::Swarm && execs % SWARM_BATCH == 0 {
                    roles = all
                        .iter()
                        .copied()
                        .filter(|r| matches!(r, Role::Exit | Role::User) || rng.next_u64() & 1 == 0)
                        .collect();
                }
                let mut sc = generate::random_from(&roles, &mut rng);
                if driver == Driver::Pct {
                    let r = rng.next_u64();
                    sc.schedule = Schedule::Pct {
                        seed: r & 0xffff,
                        depth: 1 + ((r >> 16) % 4) as u8,
                        span: 40 + ((r >> 24) % 160) as u16,
                    };
                }
                execs += 1;
                if violates(prog, &sc) {
                    return (true, execs, t0.elapsed().as_secs_f64());
                }
            }
            (false, execs, t0.elapsed().as_secs_f64())
        }
        Driver::Proptest => {
            let config = Config {
                cases: u32::MAX,
                max_shrink_iters: 0,
                failure_persistence: None,
                ..Config::default()
            };
            let mut key = [0u8; 32];
            key[..8].copy_from_slice(&seed.to_le_bytes());
            let mut runner =
                TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &key));
            let strat = generate::strategy(prog.clone());
            while t0.elapsed() < budget {
                let Ok(tree) = strat.new_tree(&mut runner) else {
                    break;
                };
                execs += 1;
                if violates(prog, &tree.current()) {
                    return (true, execs, t0.elapsed().as_secs_f64());
                }
            }
            (false, execs, t0.elapsed().as_secs_f64())
        }
    }
}

/// Every driver on every case (cases in parallel, each hunt on one thread); `done` after each.
pub fn run(
    cases: &[Case],
    drivers: &[Driver],
    seed: u64,
    budget: Duration,
    done: &(dyn Fn() + Sync),
) -> Vec<Hunt> {
    let work: Vec<(&Case, Driver)> = drivers
        .iter()
        .flat_map(|&d| cases.iter().map(move |c| (c, d)))
        .collect();
    work.par_iter()
        .map(|&(c, d)| {
            let (found, execs, secs) = match mutant_program(&c.config, &c.text) {
                Ok(p) => hunt(d, &p, seed, budget),
                Err(_) => (false, 0, 0.0),
            };
            done();
            Hunt {
                case: c.id.clone(),
                driver: d.word().to_string(),
                found,
                execs,
                secs,
            }
        })
        .collect()
}

/// One driver's row of the table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    /// The driver.
    pub driver: String,
    /// Cases run.
    pub cases: usize,
    /// Found within 1 s.
    pub within_1s: usize,
    /// Found within the budget.
    pub within_budget: usize,
    /// Median and 90th percentile executions to the first (a miss counts as infinite:
    /// `None` when the percentile falls on a miss).
    pub execs_p50: Option<u64>,
    /// See `execs_p50`.
    pub execs_p90: Option<u64>,
    /// Median seconds to the first.
    pub secs_p50: Option<f64>,
    /// 90th percentile seconds to the first.
    pub secs_p90: Option<f64>,
}

fn percentile<T: Copy + PartialOrd>(mut v: Vec<Option<T>>, p: f64) -> Option<T> {
    // `None` (a miss) sorts last.
    v.sort_by(|a, b| match (a, b) {
        (Some(x), Some(y)) => x.partial_cmp(y).unwrap_or(std::cmp::Ordering::Equal),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    if v.is_empty() {
        return None;
    }
    let k = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
    v[k]
}

/// The table: one row per driver, in the order the hunts name them.
pub fn table(hunts: &[Hunt]) -> Vec<Row> {
    let mut drivers: Vec<&str> = Vec::new();
    for h in hunts {
        if !drivers.contains(&h.driver.as_str()) {
            drivers.push(&h.driver);
        }
    }
    drivers
        .into_iter()
        .map(|d| {
            let hs: Vec<&Hunt> = hunts.iter().filter(|h| h.driver == d).collect();
            let execs: Vec<Option<u64>> = hs.iter().map(|h| h.found.then_some(h.execs)).collect();
            let secs: Vec<Option<f64>> = hs.iter().map(|h| h.found.then_some(h.secs)).collect();
            Row {
                driver: d.to_string(),
                cases: hs.len(),
                within_1s: hs.iter().filter(|h| h.found && h.secs <= 1.0).count(),
                within_budget: hs.iter().filter(|h| h.found).count(),
                execs_p50: percentile(execs.clone(), 0.5),
                execs_p90: percentile(execs, 0.9),
                secs_p50: percentile(secs.clone(), 0.5),
                secs_p90: percentile(secs, 0.9),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_miss_counts_as_infinite_in_percentiles() {
        assert_eq!(
            percentile(vec![Some(3), None, Some(1), Some(2)], 0.5),
            Some(2)
        );
        assert_eq!(percentile(vec![Some(3), None, Some(1), Some(2)], 0.9), None);
        assert_eq!(percentile::<u64>(vec![], 0.5), None);
    }
}
