//! The maple-style store against its reference; see `mmfuzz_harness::targets::maple_store`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| mmfuzz_harness::targets::maple_store(data));
