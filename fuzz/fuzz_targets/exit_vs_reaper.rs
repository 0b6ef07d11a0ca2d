//! exit_mmap against the OOM reaper and process_mrelease; see `mmfuzz_harness::targets::mm`.
//! `MMFUZZ_CONFIG=v5.17-rc3 cargo +nightly fuzz run -s none -O exit_vs_reaper` hunts one config.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| mmfuzz_harness::targets::mm(data));
