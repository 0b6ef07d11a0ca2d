//! The maple-store property as a bolero check: the same entry point as the libFuzzer target
//! `fuzz/fuzz_targets/maple_store.rs` (store == reference, `mt_validate` after every op).
//! `cargo +nightly bolero test -p mmfuzz-bolero maple_store_bolero -s NONE` fuzzes it.

use mmfuzz_harness::targets;

#[test]
fn maple_store_bolero() {
    bolero::check!()
        .with_iterations(2000)
        .with_max_len(4096)
        .for_each(targets::maple_store);
}
