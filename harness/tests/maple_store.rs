//! The maple-store property (store == reference, `mt_validate` after every op) driven by
//! proptest and a generator check (bolero: `harness/bolero/tests/maple_store.rs`); plus unit cases for the API's corners.

use mmfuzz::maple::{MaState, MapleError, MapleTree};
use mmfuzz_harness::maple::{self, decode, expand, ops, Op};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};

proptest! {
    #![proptest_config(Config {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..Config::default()
    })]

    /// Every return value and the whole content match the reference, `mt_validate` holds.
    #[test]
    fn store_matches_reference(gens in ops::gens_strategy(24)) {
        let ops = expand(&gens);
        if let Err(d) = maple::execute(&ops) {
            return Err(TestCaseError::fail(d.to_string()));
        }
    }
}

/// A broken generator shows up here, on stable, without a fuzzer: random byte buffers decode to
/// cases that exercise deep trees, and every case passes.
#[test]
fn generator_reaches_deep_trees() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut deepest = 0;
    let mut most = 0;
    for _ in 0..300 {
        let bytes: Vec<u8> = (0..2048)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect();
        let ops = decode(&bytes);
        assert!(ops.len() <= ops::MAX_OPS);
        let stats = maple::execute(&ops).unwrap_or_else(|d| panic!("{d}"));
        deepest = deepest.max(stats.max_height);
        most = most.max(stats.max_entries);
    }
    assert!(
        deepest >= 3,
        "generator never grew the tree past height {deepest}"
    );
    assert!(most >= 150, "generator never held more than {most} entries");
}

/// A long run of adjacent stores, then erases of every other one, then of the rest:
/// splits to height 3, then merges back down to a single leaf.
#[test]
fn grow_and_shrink() {
    let mut t = MapleTree::<u32>::new();
    for k in 0..2000u64 {
        t.store(k * 16, k * 16 + 9, k as u32).unwrap();
    }
    t.validate().unwrap();
    assert!(t.height() >= 3, "height {}", t.height());
    for k in (0..2000u64).step_by(2) {
        assert_eq!(t.mtree_erase(k * 16 + 3), Some(k as u32));
    }
    t.validate().unwrap();
    for k in (1..2000u64).step_by(2) {
        assert_eq!(t.mtree_erase(k * 16), Some(k as u32));
        t.validate().unwrap();
    }
    assert!(t.is_empty());
    assert_eq!(t.height(), 1);
}

/// `mas_find` includes the start index on the first call; `mas_prev` walks back.
#[test]
fn cursor_semantics() {
    //            0123456789abcdef
    // entries:   ..AAA...BB......
    let mut t = MapleTree::<u32>::new();
    t.store(2, 4, 1).unwrap();
    t.store(8, 9, 2).unwrap();
    let mut mas = MaState::new(3);
    assert_eq!(t.mas_find(&mut mas, 100), Some(1));
    assert_eq!((mas.index, mas.last), (2, 4));
    assert_eq!(t.mas_find(&mut mas, 100), Some(2));
    assert_eq!(t.mas_find(&mut mas, 100), None);
    let mut mas = MaState::new(9);
    assert_eq!(t.mas_prev(&mut mas, 0), Some(1));
    assert_eq!(t.mas_prev(&mut mas, 0), None);
    assert_eq!(t.mas_empty_area(0, 15, 3), Ok((5, 7)));
    assert_eq!(t.mas_empty_area_rev(0, 9, 3), Ok((5, 7)));
    assert_eq!(t.mas_empty_area(3, 7, 4), Err(MapleError::Busy));
    assert_eq!(t.mas_empty_area(0, 7, 0), Err(MapleError::Inval));
    assert_eq!(t.mtree_store_range(5, 4, Some(3)), Err(MapleError::Inval));
}

/// Storing over the whole index space and erasing it leaves a valid empty tree.
#[test]
fn whole_space() {
    let ops = vec![
        Op::Store {
            first: 0,
            last: u64::MAX,
            entry: Some(1),
        },
        Op::Store {
            first: 5,
            last: 5,
            entry: None,
        },
        Op::Erase { index: u64::MAX },
        Op::EmptyAreaRev {
            min: 0,
            max: u64::MAX,
            size: u64::MAX,
        },
        Op::Erase { index: 0 },
        Op::EmptyArea {
            min: 0,
            max: u64::MAX,
            size: u64::MAX,
        },
    ];
    maple::execute(&ops).unwrap_or_else(|d| panic!("{d}"));
}
