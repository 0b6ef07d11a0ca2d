//! Replays every recorded VMA-tree trace of the kernel's maple tree test suite
//! (`check_erase2_sets`) through the store and the reference, validating after every op.

use mmfuzz_harness::maple::erase2;

#[test]
fn erase2_traces_replay() {
    let Some(dir) = erase2::find_dir() else {
        eprintln!(
            "\n*** erase2 traces NOT FOUND: set {} or put shared/data/maple-erase2 beside the repo; \
             nothing was replayed ***\n",
            erase2::ENV_DIR
        );
        return;
    };
    let sets = erase2::load_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    assert!(!sets.is_empty(), "{}: no .ops files", dir.display());
    let mut total = 0;
    for set in &sets {
        total += erase2::replay(set).unwrap_or_else(|e| panic!("{e}"));
    }
    eprintln!(
        "erase2: replayed {} sets, {total} operations from {}",
        sets.len(),
        dir.display()
    );
    // Lets .ci/run insist that every set was replayed.
    if let Some(want) = std::env::var_os("MMFUZZ_ERASE2_EXPECT_SETS") {
        let want: usize = want.to_string_lossy().parse().expect("a number");
        assert_eq!(
            sets.len(),
            want,
            "expected {want} erase2 sets in {}",
            dir.display()
        );
    }
}
