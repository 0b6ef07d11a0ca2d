//! The bug benchmark's parts on one known case: seed-akpm-1-fixed without both
//! `set_bit(MMF_OOM_SKIP)` and `mm->mmap = NULL` (I5 in two numbered steps), hunted by every
//! in-process driver; the table counts what was found.

use std::time::Duration;

use mmfuzz::mm::builtin;
use mmfuzz_harness::mm::bench_search::{self, Driver};

#[test]
fn every_driver_finds_the_belt_and_braces_case() {
    let cases = vec![bench_search::belt_and_braces()];
    let hunts = bench_search::run(&cases, &Driver::ALL, 1, Duration::from_secs(10), &|| {});
    assert_eq!(hunts.len(), Driver::ALL.len());
    for h in &hunts {
        assert!(h.found, "{} missed it in {} execs", h.driver, h.execs);
        assert!(h.execs >= 1);
    }
    let rows = bench_search::table(&hunts);
    assert_eq!(rows.len(), Driver::ALL.len());
    assert!(rows.iter().all(|r| r.cases == 1 && r.within_budget == 1));
}

#[test]
fn the_unmutated_config_is_not_a_case() {
    // The same text without the deletion: nothing to find (a driver that reports it would be a
    // false alarm on a safe config).
    let prog = builtin::program("seed-akpm-1-fixed").unwrap();
    let (found, execs, _) = bench_search::hunt(Driver::Run, &prog, 1, Duration::from_millis(300));
    assert!(!found, "a violation on a safe config after {execs} execs");
}
