//! Several instances of a role: two `process_mrelease` callers beside the exiting victim and an
//! OOM killer (four tasks), and two OOM killers. Such scenarios replay the same, shrink,
//! and are explained with each instance named (`process_mrelease/1`, `/2`).

mod common;

use mmfuzz::mm::builtin;
use mmfuzz_harness::mm::exec::{self, Opts};
use mmfuzz_harness::mm::scenario::{Scenario, Schedule, Setup, Thread};
use mmfuzz_harness::mm::{harm, report, shrink};
use mmfuzz_harness::rng::SplitMix64;

fn setup() -> Vec<Setup> {
    vec![
        Setup::Mmap {
            pages: 1,
            flags: Vec::new(),
            anon: true,
        },
        Setup::Fault { vma: 0 },
        Setup::Kill,
    ]
}

/// 64 scheduling choices from `seed`.
fn choices(seed: u64) -> Vec<u8> {
    let mut c = vec![0u8; 64];
    SplitMix64(seed).fill(&mut c);
    c
}

/// The first schedule (from a fixed list) under which `threads` all run and break an invariant
/// on `cfg`.
fn failing(cfg: &str, threads: Vec<Thread>) -> (mmfuzz::mm::Program, Scenario) {
    let prog = builtin::program(cfg).unwrap();
    for seed in 0u32..2000 {
        let choices = choices(u64::from(seed));
        let mut sc = Scenario {
            setup: setup(),
            threads: threads.clone(),
            schedule: Schedule::Choices(choices),
        };
        // A stale head no thread walked in this schedule: the harm a continuation reaches.
        if let Some(h) = harm::after(&prog, &sc) {
            sc = h;
        }
        let rec = Opts {
            record: true,
            ..Opts::default()
        };
        let out = exec::run(&prog, &sc, rec).unwrap();
        // Every thread took part before the violation.
        let all = (0..threads.len() as u8).all(|t| out.trace.iter().any(|s| s.tid == t));
        if out.violation.is_some() && all {
            return (prog, sc);
        }
    }
    panic!("no schedule of {threads:?} breaks {cfg}");
}

#[test]
fn two_mrelease_callers_replay_shrink_and_are_named() {
    let threads = vec![
        Thread::Exit,
        Thread::Mrelease,
        Thread::OomKill,
        Thread::Mrelease,
    ];
    let (prog, sc) = failing("v5.17-rc3", threads);
    let rec = Opts {
        record: true,
        ..Opts::default()
    };
    // Replay: the same trace, twice.
    let a = exec::run(&prog, &sc, rec).unwrap();
    let b = exec::run(&prog, &sc, rec).unwrap();
    assert_eq!(a, b);
    assert_eq!(
        a.trace.iter().map(|s| s.tid).max(),
        Some(3),
        "four tasks ran"
    );
    // Explain: both instances named.
    let text = report::explain(&prog, &sc);
    assert!(
        text.contains("CPU1 mrelease/1 (process_mrelease)"),
        "{text}"
    );
    assert!(
        text.contains("CPU3 mrelease/2 (process_mrelease)"),
        "{text}"
    );
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    // Shrink: still the same invariant, no more threads than needed.
    let inv = a.violation.as_ref().unwrap().inv;
    let small = shrink::shrink(&prog, &sc, inv);
    let out = exec::run(&prog, &small, Opts::default()).unwrap();
    assert_eq!(out.violation.map(|v| v.inv), Some(inv));
    assert!(small.threads.len() <= 2, "{:?}", small.threads);
}

/// Two OOM killers on v6.1 (a victim, two allocations failing at once, the reaper): safe, and
/// one of them finds `oom_lock` taken (`mutex_trylock` fails) in some schedule.
#[test]
fn two_oom_killers_are_safe_on_v6_1() {
    let prog = builtin::program("v6.1").unwrap();
    let (cov_prog, cover) = prog.with_cover();
    for seed in 0u32..500 {
        let choices = choices(u64::from(seed) + 10_000);
        let sc = Scenario {
            setup: setup(),
            threads: vec![
                Thread::Exit,
                Thread::OomKill,
                Thread::OomReaper,
                Thread::OomKill,
            ],
            schedule: Schedule::Choices(choices),
        };
        let out = exec::run(&cov_prog, &sc, Opts::default()).unwrap();
        assert!(out.headline().is_none(), "{seed}: {:?}", out.headline());
    }
    // `if !mutex_trylock(&oom_lock)` taken: the other OOM killer held it.
    let failed = common::oom_lock_trylock_failures(&cov_prog, &cover);
    assert!(
        failed > 0,
        "no schedule made one OOM killer find oom_lock taken"
    );
}

/// The mm's other walkers on v6.1: swapoff (`try_to_unuse`) and a `/proc/PID/maps` reader
/// beside the exiting victim and the reaper. No schedule breaks anything, and in some the
/// last `mmput` is a walker's, so `exit_mmap` runs in its context.
#[test]
fn swapoff_and_maps_walkers_are_safe_on_v6_1_and_may_put_the_mm_last() {
    let prog = builtin::program("v6.1").unwrap();
    let mut last_put_by_walker = 0;
    for seed in 0u32..500 {
        let mut s = setup();
        s.pop();
        s.push(Setup::OomKill);
        let sc = Scenario {
            setup: s,
            threads: vec![
                Thread::Exit,
                Thread::Swapoff,
                Thread::Maps,
                Thread::OomReaper,
            ],
            schedule: Schedule::Choices(choices(u64::from(seed) + 20_000)),
        };
        let rec = Opts {
            record: true,
            ..Opts::default()
        };
        let out = exec::run(&prog, &sc, rec).unwrap();
        assert!(out.headline().is_none(), "{seed}: {:?}", out.headline());
        // exit_mmap's first step taken by thread 1 or 2.
        let exit_mmap = prog
            .paths
            .iter()
            .position(|c| c.name == "exit_mmap")
            .unwrap() as u16;
        if out
            .trace
            .iter()
            .any(|st| st.tid != 0 && st.tid != 3 && st.at.0 == exit_mmap)
        {
            last_put_by_walker += 1;
        }
    }
    assert!(last_put_by_walker > 0, "no walker ever put the mm last");
}
