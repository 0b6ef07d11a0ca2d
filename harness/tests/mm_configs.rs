//! The verdict table (`shared/spec/README.md`) from the model, under `cargo test`:
//! every `bug` config is found by proptest with a fixed seed within its default budget, and
//! every `safe` config survives 10,000 random scenarios. Plus the path language's errors,
//! replay determinism and the replay token round trip.

use mmfuzz::mm::{builtin, Expect, Invariant};
use mmfuzz_harness::campaign::{self, Settings};
use mmfuzz_harness::corpus::{Case, Expect as CaseExpect};
use mmfuzz_harness::mm::{exec, generate, report, shrink, Opts};
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

/// Scenarios each `safe` config must survive.
const SAFE_SCENARIOS: u64 = 10_000;
/// proptest cases allowed to find a `bug` config.
const BUG_CASES: u32 = 2_000;

/// One job, seed `seed`, at most `execs` scenarios.
fn settings(seed: u64, execs: u64) -> Settings {
    Settings {
        time: std::time::Duration::from_secs(3600),
        jobs: 1,
        seed,
        case_bytes: 0,
        max_execs_per_job: Some(execs),
        setup: None,
    }
}

fn invariants(e: &Expect) -> Vec<Invariant> {
    match e {
        Expect::Bug(i) => i.clone(),
        _ => Vec::new(),
    }
}

#[test]
fn builtin_files_parse_and_resolve() {
    let progs = builtin::programs();
    assert!(progs.len() >= 14, "{} configs", progs.len());
    for p in &progs {
        assert!(
            !p.config.meta.kernel.is_empty(),
            "{} names no kernel",
            p.config.name
        );
        for c in &p.paths {
            assert!(
                !c.meta.kernel.is_empty() && !c.meta.file.is_empty(),
                "{}@{} names no kernel version or file",
                c.name,
                c.version
            );
        }
    }
}

#[test]
fn bug_configs_are_found_by_proptest() {
    for prog in builtin::programs() {
        let Expect::Bug(_) = prog.config.expect else {
            continue;
        };
        let mut runner = TestRunner::new_with_rng(
            Config {
                cases: BUG_CASES,
                failure_persistence: None,
                max_shrink_iters: 200,
                ..Config::default()
            },
            TestRng::deterministic_rng(RngAlgorithm::ChaCha),
        );
        let p2 = prog.clone();
        let res = runner.run(
            &generate::strategy(prog.clone()),
            move |sc| match exec::run(&p2, &sc, Opts::default()) {
                Ok(out) => match out.violation {
                    Some(v) => Err(TestCaseError::fail(v.inv.name())),
                    None => Ok(()),
                },
                Err(_) => Ok(()),
            },
        );
        match res {
            Err(TestError::Fail(inv, sc)) => {
                // proptest shrinks to the smallest failing scenario, whatever it breaks; the
                // expected invariant itself is checked by `bug_configs_break_their_invariant`.
                eprintln!("{}: {inv} found by proptest ({sc:?})", prog.config.name);
            }
            Ok(()) => panic!(
                "{}: no violation in {BUG_CASES} proptest cases",
                prog.config.name
            ),
            Err(e) => panic!("{}: {e}", prog.config.name),
        }
    }
}

#[test]
fn bug_configs_break_their_invariant() {
    for prog in builtin::programs() {
        let Expect::Bug(_) = prog.config.expect else {
            continue;
        };
        let want = invariants(&prog.config.expect);
        let s = settings(1, SAFE_SCENARIOS);
        let rep = campaign::mm_config(&prog, &want, &s);
        match rep.expected {
            Some((n, _, _, v)) => eprintln!("{}: {} after {n} scenarios", prog.config.name, v.inv),
            None => panic!(
                "{}: none of {want:?} broken in {SAFE_SCENARIOS} scenarios",
                prog.config.name
            ),
        }
    }
}

#[test]
fn safe_configs_survive() {
    for prog in builtin::programs() {
        if prog.config.expect != Expect::Safe {
            continue;
        }
        let s = settings(42, SAFE_SCENARIOS);
        let rep = campaign::mm_config(&prog, &[], &s);
        assert_eq!(rep.execs, SAFE_SCENARIOS, "{}", prog.config.name);
        if let Some((_, _, sc, v)) = rep.first {
            let small = shrink::shrink(&prog, &sc, v.inv);
            panic!(
                "false alarm on {}:\n{}",
                prog.config.name,
                report::explain(&prog, &small)
            );
        }
    }
}

#[test]
fn bad_path_files_name_file_line_and_column() {
    let cases = [
        (
            "path exit_mmap@x {\n  mmap_write_lok\n}\n",
            "2:3",
            "unknown primitive",
        ),
        (
            "path exit_mmap@x {\n  if mmap_write_lock { }\n}\n",
            "2:6",
            "does not yield",
        ),
        ("path exit_mmap@x {\n  break\n}\n", "2:3", "outside a loop"),
        ("path exit_mmap {\n}\n", "1:6", "NAME@VERSION"),
        (
            "config c {\n  use exit_mmap@nope\n  role exit\n}\n",
            "2:7",
            "no path exit_mmap@nope",
        ),
        ("config c {\n  expect maybe\n}\n", "2:10", "expect bug"),
        (
            "path p@1 {\n  set_bit MMF_NOPE\n}\nconfig c { role exit }\n",
            "2:11",
            "unknown mm flag",
        ),
    ];
    for (text, at, want) in cases {
        let err = builtin::load_file("mine.mmp", text)
            .expect_err(text)
            .to_string();
        assert!(err.starts_with(&format!("mine.mmp:{at}:")), "{err}");
        assert!(err.contains(want), "{err}");
    }
}

#[test]
fn replay_is_deterministic_and_round_trips() {
    let prog = builtin::program("v5.15-rc").unwrap();
    let s = settings(7, 20_000);
    let rep = campaign::mm_config(&prog, &[Invariant::I1], &s);
    let (_, _, sc, v) = rep.shown().cloned().expect("v5.15-rc is a bug config");
    let small = shrink::shrink(&prog, &sc, v.inv);
    let rec = Opts {
        record: true,
        ..Opts::default()
    };
    let a = exec::run(&prog, &small, rec).unwrap();
    let b = exec::run(&prog, &small, rec).unwrap();
    assert_eq!(a, b, "the same case gives the same trace");
    assert_eq!(a.violation.as_ref().map(|v| &v.inv), Some(&v.inv));
    // Replay token: the case file, read back, fails the same way.
    let case = Case::mm("t", CaseExpect::Fail, "", &prog, Some(v.inv), small);
    let text = case.to_text();
    let back = Case::parse(std::path::Path::new("t.json"), &text).unwrap();
    assert_eq!(back, case);
    back.replay().unwrap();
}

#[test]
fn user_config_file_runs() {
    // A user's reordering of v6.1: SKIP set after the W lock is taken, still before the frees.
    let base = builtin::program("v6.1").unwrap();
    let text = mmfuzz_harness::corpus::prog_text(&base)
        .replacen("config v6.1", "config mine", 1)
        .replacen(
            "  mmap_read_unlock\n  set_bit MMF_OOM_SKIP\n  mmap_write_lock\n",
            "  mmap_read_unlock\n  mmap_write_lock\n  set_bit MMF_OOM_SKIP\n",
            1,
        );
    let progs = builtin::load_file("mine.mmp", &text).unwrap();
    assert_eq!(progs[0].config.name, "mine");
    let exit_mmap = progs[0]
        .paths
        .iter()
        .find(|p| p.name == "exit_mmap")
        .unwrap();
    assert!(exit_mmap
        .text
        .contains("mmap_write_lock\n  set_bit MMF_OOM_SKIP"));
}

/// The users' versions in `examples/configs/` give the verdict each file states. Among them,
/// seed-akpm-1 with a `process_mrelease` that does not re-test `MMF_OOM_SKIP` under the lock:
/// the B10 interleaving is a use after free only for such a reader.
#[test]
fn example_configs_give_their_verdicts() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/configs");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "mmp"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "{files:?}");
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for prog in builtin::load_file(&f.display().to_string(), &text).unwrap() {
            let want = invariants(&prog.config.expect);
            let s = settings(7, SAFE_SCENARIOS);
            let rep = campaign::mm_config(&prog, &want, &s);
            match prog.config.expect {
                Expect::Bug(_) => assert!(
                    rep.expected.is_some(),
                    "{}: none of {want:?} broken",
                    f.display()
                ),
                Expect::Safe => assert!(rep.first.is_none(), "{}: false alarm", f.display()),
                Expect::Latent(_) => assert!(
                    rep.first.is_none()
                        && rep
                            .latent
                            .as_ref()
                            .is_some_and(|l| want_latent(&prog, &l.3)),
                    "{}: not latent: {:?} {:?}",
                    f.display(),
                    rep.first.map(|f| f.3),
                    rep.latent.map(|f| f.3)
                ),
                Expect::Unknown => {}
            }
        }
    }
}

fn want_latent(prog: &mmfuzz::mm::Program, v: &mmfuzz_harness::mm::Violation) -> bool {
    matches!(&prog.config.expect, Expect::Latent(i) if i.contains(&v.inv))
}

/// Provenance: every built-in path version names the kernel text it was checked against
/// (`source`), and `docs/kernel-sources.md` has a row for it.
#[test]
fn every_builtin_path_names_its_source_and_has_a_provenance_row() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/kernel-sources.md"),
    )
    .unwrap();
    for u in builtin::units() {
        for p in &u.paths {
            let id = format!("{}@{}", p.name, p.version);
            assert!(!p.meta.source.is_empty(), "{id}: no `source`");
            assert!(doc.contains(&id), "{id}: no row in docs/kernel-sources.md");
        }
    }
}
