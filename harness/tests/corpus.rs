//! The corpus machinery (the replay itself is `tests/replay.rs`): bad files get errors that name them, saving is atomic and deduplicated,
//! a minimized case still fails the same way.

mod common;
use common::tmpdir;

use std::fs;

use mmfuzz_harness::corpus::{self, Case, Expect, Saved};
use mmfuzz_harness::maple::{self, Op};
use mmfuzz_harness::targets;

fn sample() -> Case {
    Case::maple_store(
        "sample",
        Expect::Pass,
        "a test case",
        vec![
            Op::Store {
                first: 16,
                last: 31,
                entry: Some(1),
            },
            Op::Erase { index: 20 },
        ],
    )
}

#[test]
fn bad_files_are_named() {
    let d = tmpdir("corpus-bad");
    let good = sample().to_text();
    let cases = [
        (
            "truncated.json",
            good[..good.len() / 2].to_string(),
            "truncated",
        ),
        (
            "garbage.json",
            "not json at all".to_string(),
            "not valid JSON",
        ),
        (
            "wrong-op.json",
            good.replace("\"erase\"", "\"erasee\""),
            "not a case",
        ),
        (
            "future.json",
            good.replace("mmfuzz-case/1", "mmfuzz-case/9"),
            "unsupported format",
        ),
        ("empty.json", String::new(), "truncated"),
    ];
    for (name, text, want) in cases {
        let p = d.join(name);
        fs::write(&p, &text).unwrap();
        let err = Case::load(&p).expect_err(name).to_string();
        assert!(err.starts_with(&p.display().to_string()), "{err}");
        assert!(err.contains(want), "{name}: {err}");
    }
    // Line and column for syntax errors.
    let err = Case::load(&d.join("wrong-op.json"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("line"), "{err}");
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn save_is_atomic_and_deduplicated() {
    let d = tmpdir("corpus-save");
    let case = sample();
    let Saved::New(p) = corpus::save(&d, &case).unwrap() else {
        panic!("not new")
    };
    assert_eq!(Case::load(&p).unwrap(), case);
    // Same input under another name: a duplicate, nothing written.
    let mut again = case.clone();
    again.name = "other".into();
    assert_eq!(
        corpus::save(&d, &again).unwrap(),
        Saved::Duplicate(p.clone())
    );
    // A different case never overwrites.
    let mut other = case.clone();
    other.payload = corpus::Payload::MapleStore {
        ops: vec![Op::Count],
    };
    let Saved::New(q) = corpus::save(&d, &other).unwrap() else {
        panic!("not new")
    };
    assert_ne!(p, q);
    let names: Vec<_> = fs::read_dir(&d)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names.len(), 2, "no temporary files left: {names:?}");
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn replay_of_a_failing_expectation_fails() {
    let mut case = sample();
    case.expect = Expect::Fail;
    assert!(case.replay().is_err());
}

#[test]
fn ddmin_finds_the_minimal_subsequence() {
    let items: Vec<u32> = (0..100).collect();
    let out = mmfuzz_harness::minimize::ddmin(items, |c| c.contains(&17) && c.contains(&80));
    assert_eq!(out, vec![17, 80]);
}

/// Minimization refuses a case that does not fail (there is nothing to keep).
#[test]
fn minimize_needs_a_failure() {
    let ops = vec![
        Op::Store {
            first: 1,
            last: 2,
            entry: Some(1),
        },
        Op::Count,
    ];
    assert!(maple::execute(&ops).is_ok());
    assert!(targets::minimize_maple(ops).is_none());
}

/// Two failures of one shape (same config, invariant, tasks and functions per numbered step)
/// are one case: a set-up VMA that changes nothing in the interleaving is a duplicate.
#[test]
fn mm_failures_are_deduplicated_by_shape() {
    let d = tmpdir("corpus-shape");
    let src = corpus::collect(&[corpus::default_dir().join("mm")])
        .unwrap()
        .into_iter()
        .find(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.starts_with("v5.15-rc-I1-") && !n.contains("-on-")
        })
        .expect("the v5.15-rc case");
    let case = Case::load(&src).unwrap();
    let Saved::New(first) = corpus::save(&d, &case).unwrap() else {
        panic!("not new")
    };
    let mut wider = case.clone();
    let corpus::Payload::Mm { scenario, .. } = &mut wider.payload else {
        panic!("an mm case")
    };
    let at = scenario
        .setup
        .iter()
        .position(|s| !matches!(s, mmfuzz_harness::mm::scenario::Setup::Mmap { .. }))
        .unwrap_or(scenario.setup.len());
    scenario.setup.insert(
        at,
        mmfuzz_harness::mm::scenario::Setup::Mmap {
            pages: 1,
            flags: vec!["VM_PFNMAP".into()],
            anon: false,
        },
    );
    assert_ne!(wider.input_hash(), case.input_hash());
    assert_eq!(
        corpus::shape(&wider),
        corpus::shape(&case),
        "an untouched VMA changes the shape"
    );
    assert_eq!(corpus::save(&d, &wider).unwrap(), Saved::SameShape(first));
    let _ = fs::remove_dir_all(&d);
}
