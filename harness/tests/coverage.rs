//! `mmfuzz coverage`: never-hit branch directions are named in source terms, declared ones
//! are reported as declared (with their reason, and their hits if the declaration is wrong),
//! the `--json` contract, bad input, corpus replay, and the built-in configs' figures.

mod common;
use common::tmpdir;

use std::path::Path;
use std::process::{Command, Output};

use mmfuzz::mm::{builtin, Program};
use mmfuzz_harness::mm::coverage::{self, Budget, Summary};
use mmfuzz_harness::mm::{exec, Scenario, Schedule, Setup, Thread};

fn mmfuzz(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mmfuzz"))
        .args(args)
        .output()
        .expect("run mmfuzz")
}

/// A config whose victim's `exit_mm` has `branch` (no scenario makes `mm_has_notifiers` true).
fn config_file(dir: &Path, branch: &str) -> String {
    let text = format!(
        "config cov {{\n  expect safe\n  store maple\n  rwsem steal\n  use exit_mm@cov exit_mmap@v6.1\n  role exit proc\n}}\n\
         path exit_mm@cov {{\n  mmap_read_lock\n  task_lock\n  clear_task_mm\n  task_unlock\n  mmap_read_unlock\n{branch}\n  call mmput\n}}\n"
    );
    let file = dir.join("cov.mmp");
    std::fs::write(&file, text).unwrap();
    file.display().to_string()
}

/// `mmfuzz coverage --config FILE --execs 300 --jobs 1 [--json]`: exit status 0.
fn coverage_of(file: &str, json: bool) -> String {
    let mut args = vec![
        "coverage", "--config", file, "--execs", "300", "--jobs", "1",
    ];
    if json {
        args.push("--json");
    }
    let out = mmfuzz(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_branch_no_scenario_takes_is_named_as_never_hit() {
    let dir = tmpdir("cov-never");
    let file = config_file(&dir, "  if mm_has_notifiers {\n    count_inc\n  }");
    let text = coverage_of(&file, false);
    assert!(text.starts_with("cov: branch directions "), "{text}");
    let never = text
        .split("  never hit:\n")
        .nth(1)
        .expect("a never-hit section");
    assert!(
        never.contains("cov.mmp:14 exit_mm@cov: if mm_has_notifiers → true"),
        "{text}"
    );
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    let s: serde_json::Value = serde_json::from_str(&coverage_of(&file, true)).unwrap();
    let n = &s["never_hit"][0];
    assert_eq!(
        (n["what"].as_str(), n["how"].as_str()),
        (Some("if mm_has_notifiers"), Some("true"))
    );
    assert_eq!(n["line"], 14);
}

/// The declaration of the test's own path.
fn ours(s: &serde_json::Value) -> &serde_json::Value {
    let all = s["declared"].as_array().unwrap();
    all.iter().find(|d| d["path"] == "exit_mm@cov").unwrap()
}

#[test]
fn a_declared_branch_is_reported_as_declared() {
    let dir = tmpdir("cov-declared");
    let branch =
        "  if mm_has_notifiers {\n    unreachable \"no MMU notifiers here\"\n    count_inc\n  }";
    let file = config_file(&dir, branch);
    let text = coverage_of(&file, false);
    assert!(
        !text.contains("never hit") && text.contains("  declared unreachable:\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "    cov.mmp:14 exit_mm@cov: if mm_has_notifiers → true\n      no MMU notifiers here"
        ),
        "{text}"
    );
    let s: serde_json::Value = serde_json::from_str(&coverage_of(&file, true)).unwrap();
    let d = ours(&s);
    assert_eq!(
        (&d["reason"], &d["hits"]),
        (&"no MMU notifiers here".into(), &0.into())
    );
    assert_eq!(s["total"]["declared"], 4); // and exit_mmap@v6.1's three
                                           // The step under the declared branch is not counted as reachable.
    let paths = s["paths"].as_array().unwrap();
    let exit_mm = paths.iter().find(|p| p["path"] == "exit_mm@cov").unwrap();
    assert_eq!(exit_mm["steps"]["reachable"], 6);
}

#[test]
fn a_wrong_declaration_shows_its_hits() {
    let dir = tmpdir("cov-wrong");
    let branch = "  if mm_has_notifiers {\n    count_inc\n  } else {\n    unreachable \"wrong on purpose\"\n  }";
    let file = config_file(&dir, branch);
    let text = coverage_of(&file, false);
    assert!(
        text.contains("      HIT ") && text.contains(" times! wrong on purpose"),
        "{text}"
    );
    let s: serde_json::Value = serde_json::from_str(&coverage_of(&file, true)).unwrap();
    assert!(ours(&s)["hits"].as_u64().unwrap() > 0);
}

/// `--json`: one object per config with these keys.
#[test]
fn json_has_the_figures_and_the_lines() {
    let out = mmfuzz(&[
        "coverage", "--config", "v6.1", "--config", "v4.9", "--execs", "200", "--jobs", "1",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    let keys = |v: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    for r in &rows {
        assert_eq!(
            keys(r),
            [
                "config",
                "declared",
                "execs",
                "never_hit",
                "paths",
                "source",
                "total"
            ]
        );
        assert_eq!(
            keys(&r["total"]),
            ["at", "declared", "directions", "path", "returns", "steps"]
        );
        assert_eq!(keys(&r["total"]["directions"]), ["hit", "reachable"]);
        assert_eq!(
            (&r["source"], &r["execs"]),
            (&serde_json::json!("random"), &serde_json::json!(200))
        );
        let d = &r["declared"][0];
        assert_eq!(
            keys(d),
            ["file", "hits", "how", "line", "path", "reason", "what"]
        );
    }
    assert_eq!(rows[0]["config"], "v6.1");
}

#[test]
fn bad_input_is_one_line_and_status_2() {
    let out = mmfuzz(&[
        "coverage",
        "--config",
        "v6.1",
        "--corpus",
        "/nonexistent/corpus",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--corpus /nonexistent/corpus: "), "{err}");
    let out = mmfuzz(&["coverage", "--corpus", "x", "--execs", "5"]);
    assert_eq!(out.status.code(), Some(2));
    let out = mmfuzz(&["coverage", "--config", "v99"]);
    assert_eq!(out.status.code(), Some(2));
}

/// Corpus inputs are decoded as the fuzz target does: with --config each input is that
/// config's; without, its first byte picks one built-in config.
#[test]
fn a_corpus_is_replayed_as_the_fuzz_target_decodes_it() {
    let dir = tmpdir("cov-corpus");
    for (i, bytes) in [vec![0u8, 1, 2, 3], vec![5u8; 40], vec![]]
        .iter()
        .enumerate()
    {
        std::fs::write(dir.join(format!("input-{i}")), bytes).unwrap();
    }
    let d = dir.display().to_string();
    let execs = |args: &[&str]| -> Vec<u64> {
        let out = mmfuzz(args);
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["execs"]
                    .as_u64()
                    .unwrap()
            })
            .collect()
    };
    assert_eq!(
        execs(&["coverage", "--config", "v6.1", "--corpus", &d, "--json"]),
        [3]
    );
    let all = execs(&["coverage", "--corpus", &d, "--json"]);
    assert_eq!(
        (all.len(), all.iter().sum::<u64>()),
        (builtin::config_names().len(), 3)
    );
    assert_eq!(
        coverage::corpus_input(&[22, 7], Some((0, 22))),
        Some(&[7u8][..])
    );
    assert_eq!(coverage::corpus_input(&[], Some((0, 22))), Some(&[][..]));
    assert_eq!(coverage::corpus_input(&[23], Some((0, 22))), None);
}

/// A fixed budget on one job gives the same figures every time.
#[test]
fn a_fixed_budget_is_deterministic() {
    let args = [
        "coverage",
        "--config",
        "v5.17-rc3",
        "--execs",
        "500",
        "--jobs",
        "1",
        "--json",
    ];
    assert_eq!(mmfuzz(&args).stdout, mmfuzz(&args).stdout);
}

/// 30 000 random scenarios per config (one job, seed 0) take every reachable branch
/// direction, and no declared one. (`out_of_memory`'s failed `mutex_trylock(&oom_lock)` needs a
/// second OOM killer: the generator draws one.)
#[test]
fn builtin_configs_reach_every_reachable_direction() {
    for prog in builtin::programs() {
        let name = prog.config.name.clone();
        let b = Budget {
            time: None,
            execs: Some(30_000),
            seed: 0,
            jobs: 1,
        };
        let (cover, n) = coverage::random(&prog, &b);
        let s: Summary = coverage::analyze(&prog, &cover, "random", n);
        assert!(s.declared.iter().all(|d| d.hits == 0), "{}", s.text());
        assert!(s.complete(), "{name}: {}", s.text());
    }
}

/// How often `out_of_memory`'s `mutex_trylock_oom_lock` failed in one run of `sc`.
fn trylock_failures(prog: &Program, sc: &Scenario) -> u64 {
    let (p, cover) = prog.with_cover();
    exec::run(&p, sc, exec::Opts::default()).unwrap();
    common::oom_lock_trylock_failures(&p, &cover)
}

/// `out_of_memory`'s failed trylock, by hand: two OOM killers; a v4.14 reaper holding
/// `oom_lock` while an OOM killer tries it.
#[test]
fn the_trylock_gap_is_reachable_by_hand() {
    let mmap = Setup::Mmap {
        pages: 1,
        flags: Vec::new(),
        anon: true,
    };
    let two_killers = Scenario {
        setup: vec![mmap.clone()],
        threads: vec![Thread::OomKill, Thread::OomKill, Thread::Exit],
        schedule: Schedule::Segments(vec![(0, 1), (1, 1)]),
    };
    assert_eq!(
        trylock_failures(&builtin::program("v6.1").unwrap(), &two_killers),
        1
    );
    let reaper_holds_it = Scenario {
        setup: vec![mmap, Setup::OomKill],
        threads: vec![Thread::OomReaper, Thread::OomKill, Thread::Exit],
        schedule: Schedule::Segments(vec![(0, 5), (1, 1)]),
    };
    assert_eq!(
        trylock_failures(&builtin::program("v4.14").unwrap(), &reaper_holds_it),
        1
    );
}

/// Every `unreachable` of the built-in files holds in some built-in config, and the configs
/// an `in` names exist.
#[test]
fn builtin_declarations_name_real_configs_and_are_all_used() {
    use mmfuzz::mm::lang::Stmt;
    fn walk(body: &[Stmt], out: &mut Vec<(u32, Vec<String>)>) {
        for s in body {
            match s {
                Stmt::Unreachable(u, pos) => out.push((pos.line, u.configs.clone())),
                Stmt::If(_, a, b, _) => {
                    walk(a, out);
                    walk(b, out);
                }
                Stmt::ForEachVma(b, _)
                | Stmt::ForEachTask(b, _)
                | Stmt::While(_, b, _)
                | Stmt::Retry(_, b, _) => walk(b, out),
                _ => {}
            }
        }
    }
    let names = builtin::config_names();
    let used: std::collections::HashSet<(String, u32)> = builtin::programs()
        .iter()
        .flat_map(|p| p.paths.iter())
        .flat_map(|c| c.declared.iter().map(|d| (c.file.clone(), d.pos.line)))
        .collect();
    let mut n = 0;
    for unit in builtin::units() {
        for path in &unit.paths {
            let mut found = Vec::new();
            walk(&path.body, &mut found);
            for (line, configs) in found {
                n += 1;
                let at = format!("{}:{line}", path.origin.0);
                assert!(
                    configs.iter().all(|c| names.contains(&c.as_str())),
                    "{at}: {configs:?}"
                );
                assert!(
                    used.contains(&(path.origin.0.clone(), line)),
                    "{at}: in no config"
                );
            }
        }
    }
    assert!(n > 30, "{n} declarations");
}
