//! Replays are deterministic: every corpus case gives the same trace, bit for bit, whether the
//! corpus is replayed on 1, 2 or 4 worker threads; and exhaustive mode gives the same result
//! on 1 and 2 workers.

use std::path::PathBuf;

use mmfuzz::mm::builtin;
use mmfuzz_harness::corpus::{self, Case, Payload};
use mmfuzz_harness::maple;
use mmfuzz_harness::mm::{exec, explore, Opts};
use rayon::prelude::*;

/// Every case's full trace (each step with the locks and flags after it) and verdict, as text.
fn traces(files: &[PathBuf]) -> Vec<String> {
    files
        .par_iter()
        .map(|f| {
            let case = Case::load(f).unwrap();
            match &case.payload {
                Payload::Mm { scenario, .. } => {
                    let prog = case.program(f).unwrap().unwrap();
                    let rec = Opts {
                        record: true,
                        ..Opts::default()
                    };
                    format!("{:?}", exec::run(&prog, scenario, rec).unwrap())
                }
                Payload::MapleStore { ops } => format!("{:?}", maple::execute(ops)),
            }
        })
        .collect()
}

fn pool(n: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .unwrap()
}

#[test]
fn corpus_traces_do_not_depend_on_worker_count() {
    let files = corpus::collect(&[corpus::default_dir()]).unwrap();
    assert!(files.len() >= 20, "{} cases", files.len());
    let one = pool(1).install(|| traces(&files));
    for n in [2, 4] {
        let many = pool(n).install(|| traces(&files));
        for (i, (a, b)) in one.iter().zip(&many).enumerate() {
            assert_eq!(a, b, "{}: trace differs on {n} workers", files[i].display());
        }
    }
    // And twice on the same worker count.
    assert_eq!(one, pool(1).install(|| traces(&files)));
}

#[test]
fn exhaustive_result_does_not_depend_on_worker_count() {
    let prog = builtin::program("v5.15-rc").unwrap();
    let b = explore::Bounds {
        threads: 3,
        vmas: 1,
        ..explore::Bounds::default()
    };
    let roots = explore::roots(&prog, &b);
    let run = |n| {
        let r = pool(n)
            .install(|| explore::search(&prog, &b, &roots, |_, _, _| {}))
            .unwrap();
        (
            r.states,
            r.transitions,
            r.steps,
            format!("{:?}", r.counterexample),
        )
    };
    assert_eq!(run(1), run(2));
}
