//! bolero as a driver of the bug benchmark (`mmfuzz bench-search`): its `cargo test` engine
//! (random bytes through the libFuzzer target's decoding, [`generate::decode`]) on each case
//! until the first violation or the budget. bolero has no "stop at the first failure" hook but
//! a panic, which it shrinks and reports: the first hit records the executions and seconds and
//! panics once, and the whole check runs under `catch_unwind`.
//!
//! With `MMFUZZ_BENCH_CASES=FILE` (the JSON lines `mmfuzz bench-search --cases-out` writes),
//! `MMFUZZ_BENCH_SECONDS` (default 10) and `MMFUZZ_BENCH_OUT=FILE`, it hunts every case and
//! writes one `bench_search::Hunt` per line (`scripts/bench_search.py` runs it so). Without
//! them it hunts the seed's belt-and-braces case and must find it.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mmfuzz::mm::Program;
use mmfuzz_harness::mm::bench_search::{self, Case, Hunt};
use mmfuzz_harness::mm::{generate, review};

/// A case's program (its text is a config with every path it uses).
fn program(case: &Case) -> Program {
    review::mutant_program(&case.config, &case.text)
        .unwrap_or_else(|e| panic!("case {}: {e}", case.id))
}

/// One case: bolero's engine until the first violation or `budget`.
fn hunt(case: &Case, prog: &Program, budget: Duration) -> Hunt {
    let execs = AtomicU64::new(0);
    let hit: Mutex<Option<(u64, f64)>> = Mutex::new(None);
    let done = AtomicBool::new(false);
    let t0 = Instant::now();
    let _ = panic::catch_unwind(AssertUnwindSafe(|| {
        bolero::check!()
            .with_iterations(usize::MAX)
            .with_max_len(512)
            .for_each(|data: &[u8]| {
                if done.load(Ordering::Relaxed) || t0.elapsed() > budget {
                    // bolero keeps iterating: nothing more to learn.
                    if !done.swap(true, Ordering::Relaxed) {
                        panic!("mmfuzz bench: budget spent");
                    }
                    return;
                }
                let n = execs.fetch_add(1, Ordering::Relaxed) + 1;
                if bench_search::violates(prog, &generate::decode(prog, data)) {
                    *hit.lock().unwrap() = Some((n, t0.elapsed().as_secs_f64()));
                    done.store(true, Ordering::Relaxed);
                    panic!("mmfuzz bench: found");
                }
            });
    }));
    let found = *hit.lock().unwrap();
    Hunt {
        case: case.id.clone(),
        driver: "bolero".into(),
        found: found.is_some(),
        execs: found.map_or(execs.load(Ordering::Relaxed), |f| f.0),
        secs: found.map_or(t0.elapsed().as_secs_f64().min(budget.as_secs_f64()), |f| {
            f.1
        }),
    }
}

#[test]
fn bolero_hunts_the_benchmark_cases() {
    let Ok(file) = std::env::var("MMFUZZ_BENCH_CASES") else {
        let case = bench_search::belt_and_braces();
        let h = hunt(&case, &program(&case), Duration::from_secs(10));
        assert!(
            h.found,
            "bolero missed the belt-and-braces case in {} execs",
            h.execs
        );
        return;
    };
    let secs: f64 = std::env::var("MMFUZZ_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10.0);
    let cases: Vec<Case> = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{file}: {e}"))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{file}: {e}")))
        .collect();
    let progs: Vec<Program> = cases.iter().map(program).collect();
    // The panics that stop bolero are ours: keep them off the terminal.
    let loud = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let hunts: Vec<Hunt> = cases
        .iter()
        .zip(&progs)
        .map(|(c, p)| hunt(c, p, Duration::from_secs_f64(secs)))
        .collect();
    panic::set_hook(loud);
    let out: String = hunts
        .iter()
        .map(|h| serde_json::to_string(h).unwrap() + "\n")
        .collect();
    match std::env::var("MMFUZZ_BENCH_OUT") {
        Ok(path) => std::fs::write(&path, out).unwrap_or_else(|e| panic!("{path}: {e}")),
        Err(_) => print!("{out}"),
    }
}
