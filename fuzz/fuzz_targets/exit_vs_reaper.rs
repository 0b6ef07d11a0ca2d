//! exit_mmap against the OOM reaper and process_mrelease; see `mmfuzz_harness::targets::mm`.
//! `MMFUZZ_CONFIG=v5.17-rc3 cargo +nightly fuzz run -s none -O exit_vs_reaper` hunts one config.
//! The model's own coverage goes to libFuzzer as extra counters ([`counters`]);
//! `MMFUZZ_MODEL_COVERAGE=0` turns it off (the benchmark's baseline).
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
