//! The mm scenario properties as bolero checks: the same entry point as the libFuzzer target
//! `fuzz/fuzz_targets/exit_vs_reaper.rs`. Under `cargo test` bolero feeds random inputs; under
//! `cargo +nightly bolero test -p mmfuzz-bolero mm_safe_configs_bolero -s NONE` it drives
//! libFuzzer (or AFL, `-e afl`) with coverage.

use std::sync::atomic::{AtomicU64, Ordering};

use mmfuzz::mm::{builtin, Invariant};
use mmfuzz_harness::mm::{exec, generate};
use mmfuzz_harness::targets;

/// Every built-in config: a violation of a config expected `safe` panics (a false alarm).
#[test]
fn mm_safe_configs_bolero() {
    bolero::check!()
        .with_iterations(3000)
        .with_max_len(512)
        .for_each(targets::mm);
}

/// bolero's inputs reach the v5.17-rc3 race (syzbot 2ccf63a4bd07cf39cab0) through the same
/// scenario decoding as libFuzzer.
#[test]
fn bolero_inputs_reach_the_v5_17_rc3_race() {
    let prog = builtin::program("v5.17-rc3").unwrap();
    let found = AtomicU64::new(0);
    bolero::check!()
        .with_iterations(3000)
        .with_max_len(512)
        .for_each(|data: &[u8]| {
            let sc = generate::decode(&prog, data);
            if let Ok(out) = exec::run(&prog, &sc, exec::Opts::default()) {
                if out
                    .violation
                    .is_some_and(|v| matches!(v.inv, Invariant::I4 | Invariant::I5))
                {
                    found.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    assert!(
        found.load(Ordering::Relaxed) > 0,
        "no input broke I4/I5 on v5.17-rc3"
    );
}
