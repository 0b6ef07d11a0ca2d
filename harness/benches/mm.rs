//! Scenario executions and model steps per second on one core, for the default scenario
//! generator (`generate::random`) on a safe config (every scenario runs to the end). The
//! two-core speed-up of `mmfuzz run` is measured by `scripts/mm_speedup.sh` with the CLI's own
//! figures (`--json`), in the same session.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mmfuzz::mm::builtin;
use mmfuzz_harness::mm::{exec, generate, Opts};
use mmfuzz_harness::rng::SplitMix64;

/// Scenarios per iteration.
const N: usize = 1_000;

fn scenarios(c: &mut Criterion) {
    for name in ["v6.1", "v5.17", "v4.17", "v6.18-swap", "v6.18", "v6.4"] {
        let prog = builtin::program(name).expect("built-in");
        let mut rng = SplitMix64(1);
        let cases: Vec<_> = (0..N).map(|_| generate::random(&prog, &mut rng)).collect();
        let steps: usize = cases
            .iter()
            .map(|sc| exec::run(&prog, sc, Opts::default()).map_or(0, |o| o.steps))
            .sum();
        eprintln!(
            "{name}: {N} scenarios = {steps} model steps ({:.1} per scenario)",
            steps as f64 / N as f64
        );
        let mut g = c.benchmark_group(format!("mm/{name}"));
        g.throughput(Throughput::Elements(N as u64));
        g.bench_function("scenarios (with race detector)", |b| {
            b.iter(|| {
                for sc in &cases {
                    black_box(exec::run(&prog, sc, Opts::default()).ok());
                }
            })
        });
        g.bench_function("scenarios (no race detector)", |b| {
            let o = Opts {
                races: false,
                ..Opts::default()
            };
            b.iter(|| {
                for sc in &cases {
                    black_box(exec::run(&prog, sc, o).ok());
                }
            })
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = scenarios
}
criterion_main!(benches);
