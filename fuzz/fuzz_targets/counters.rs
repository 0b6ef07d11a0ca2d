//! libFuzzer's extra counters, fed by the model's coverage.
//!
//! libFuzzer's coverage of the interpreter sees one Rust function per primitive, whatever
//! path, thread or lock context runs it. The model's own features (a step's path position,
//! role and locks held; two consecutive steps of different threads: interleaving coverage as
//! in KRACE and SegFuzz) are counted here, in the linker section libFuzzer reads between
//! `__start___libfuzzer_extra_counters` and `__stop___libfuzzer_extra_counters`.
//!
//! This module holds the crate's one exception to the no-`unsafe` rule: placing a static in a
//! named linker section (`#[link_section]`) is an unsafe attribute. The counters are atomics,
//! so every access is safe code.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

/// Counters (a power of two).
const N: usize = 1 << 16;

#[allow(unsafe_code)]
#[used]
#[link_section = "__libfuzzer_extra_counters"]
static COUNTERS: [AtomicU8; N] = [const { AtomicU8::new(0) }; N];

/// Model coverage is on with `MMFUZZ_MODEL_COVERAGE=1`. Off by default: on the bug benchmark
/// (BENCHMARKS.md, "The bug benchmark") it found no case sooner and a few later (its hashing
/// costs executions per second).
pub fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("MMFUZZ_MODEL_COVERAGE").is_ok_and(|v| v == "1"))
}

/// Count one feature (libFuzzer bucketizes the counts; saturate at 255).
pub fn hit(feature: u32) {
    let c = &COUNTERS[feature as usize & (N - 1)];
    let v = c.load(Ordering::Relaxed);
    if v < u8::MAX {
        c.store(v + 1, Ordering::Relaxed);
    }
}
