//! exit_mmap against the OOM reaper and process_mrelease; see `mmfuzz_harness::targets::mm`.
//! `MMFUZZ_CONFIG=v5.17-rc3 cargo +nightly fuzz run -s none -O exit_vs_reaper` hunts one config.
//! `MMFUZZ_MODEL_COVERAGE=1` also gives libFuzzer the model's own coverage as extra counters
//! ([`counters`]); the bug benchmark measures it against the default (BENCHMARKS.md).
#![no_main]
#![deny(unsafe_code)]

mod counters;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if counters::enabled() {
        mmfuzz_harness::targets::mm_fed(data, Some(&mut counters::hit));
    } else {
        mmfuzz_harness::targets::mm(data);
    }
});
