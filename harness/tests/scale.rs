//! Campaigns and proofs beyond one machine and within its memory: `--shard I/N` of `run`,
//! `check` and `review` joined by `mmfuzz merge` give the single machine's verdicts (for
//! `check`, its state count; for `review`, its rows); `--max-memory` stops a search
//! `incomplete`, never `safe`.

mod common;
use common::tmpdir;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn mmfuzz(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mmfuzz"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run mmfuzz")
}

/// The JSON rows of standard output.
fn rows(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON row"))
        .collect()
}

/// `mmfuzz merge --json` of the files.
fn merged(dir: &Path, files: &[String]) -> Vec<Value> {
    let mut args = vec!["merge", "--json"];
    args.extend(files.iter().map(String::as_str));
    let out = mmfuzz(dir, &args);
    // 1: a verdict not the expected one (a small budget), which the rows then show.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    rows(&out)
}

/// Run `args` once per shard of `n`, each to its own file; the files.
fn shards(dir: &Path, tag: &str, args: &[&str], n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let shard = format!("{i}/{n}");
            let mut a = args.to_vec();
            a.extend(["--json", "--shard", &shard]);
            let out = mmfuzz(dir, &a);
            let f = format!("{tag}.{i}.json");
            std::fs::write(dir.join(&f), &out.stdout).unwrap();
            f
        })
        .collect()
}

fn pick<'a>(rows: &'a [Value], config: &str) -> &'a Value {
    rows.iter().find(|r| r["config"] == config).expect(config)
}

#[test]
fn check_shards_add_up_to_the_single_search() {
    let dir = tmpdir("scale-check");
    let args = ["check", "--cpus", "2", "--vmas", "1", "--jobs", "1"];
    for config in ["v6.1", "v5.17-rc3"] {
        let mut a = args.to_vec();
        a.extend(["--config", config, "--json"]);
        let single = rows(&mmfuzz(&dir, &a)).remove(0);
        for n in [1, 2, 4] {
            let mut a = args.to_vec();
            a.extend(["--config", config]);
            let files = shards(&dir, &format!("{config}-{n}"), &a, n);
            let m = merged(&dir, &files).remove(0);
            assert_eq!(m["found"], single["found"], "{config} over {n}");
            assert_eq!(m["invariant"], single["invariant"], "{config} over {n}");
            assert_eq!(
                m["shortest_steps"], single["shortest_steps"],
                "{config} over {n}"
            );
            assert_eq!(m["roots"], single["roots"], "{config} over {n}");
            if single["found"] == "safe" {
                // A complete search: the shards partition its states exactly.
                assert_eq!(m["states"], single["states"], "{config} over {n}");
                assert_eq!(m["transitions"], single["transitions"], "{config} over {n}");
            }
        }
    }
}

#[test]
fn run_shards_merge_to_the_single_run_with_the_same_seeds() {
    let dir = tmpdir("scale-run");
    let configs = [
        "--config",
        "v6.1",
        "--config",
        "v5.17-rc3",
        "--config",
        "v4.9",
    ];
    let budget = ["run", "--execs", "1000", "--seed", "3"];
    for n in [1usize, 2, 4] {
        // One job per shard: the single run has n jobs, i.e. seed streams 3 .. 3+n-1.
        let jobs = n.to_string();
        let mut a = budget.to_vec();
        a.extend(configs);
        a.extend(["--jobs", &jobs, "--json"]);
        let single = rows(&mmfuzz(&dir, &a));
        let mut a = budget.to_vec();
        a.extend(configs);
        a.extend(["--jobs", "1"]);
        let m = merged(&dir, &shards(&dir, &format!("run-{n}"), &a, n));
        for c in ["v6.1", "v5.17-rc3", "v4.9"] {
            let (s, g) = (pick(&single, c), pick(&m, c));
            assert_eq!(g["found"], s["found"], "{c} over {n}");
            assert_eq!(g["invariant"], s["invariant"], "{c} over {n}");
            if s["found"] == "safe" {
                // Nothing stopped a stream early: the same scenarios, the same steps.
                assert_eq!(g["execs"], s["execs"], "{c} over {n}");
                assert_eq!(g["steps"], s["steps"], "{c} over {n}");
            }
        }
    }
}

#[test]
fn merge_names_a_missing_or_repeated_shard_and_bad_rows() {
    let dir = tmpdir("scale-merge");
    let a = [
        "check", "--config", "v6.1", "--cpus", "2", "--vmas", "1", "--jobs", "1",
    ];
    let files = shards(&dir, "m", &a, 3);
    let out = mmfuzz(&dir, &["merge", &files[0], &files[2]]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("shard 1/3 is missing"));
    let out = mmfuzz(&dir, &["merge", &files[0], &files[1], &files[1], &files[2]]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("shard 1/3 is also in"));
    std::fs::write(dir.join("bad.json"), "{\"config\": 1}\nnot json\n").unwrap();
    let out = mmfuzz(&dir, &["merge", "bad.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.json:1"));
    for bad in ["4/4", "1", "a/b", "0/0"] {
        let out = mmfuzz(&dir, &["check", "--config", "v6.1", "--shard", bad]);
        assert_eq!(out.status.code(), Some(2), "--shard {bad}");
    }
    for bad in ["12XB", "-3MiB", "MiB"] {
        let out = mmfuzz(&dir, &["check", "--config", "v6.1", "--max-memory", bad]);
        assert_eq!(out.status.code(), Some(2), "--max-memory {bad}");
    }
}

#[test]
fn the_memory_bound_stops_incomplete_and_is_kept() {
    let dir = tmpdir("scale-mem");
    let bound: u64 = 120 << 20;
    let out = mmfuzz(
        &dir,
        &[
            "check",
            "--config",
            "v6.1",
            "--cpus",
            "3",
            "--vmas",
            "2",
            "--jobs",
            "1",
            "--max-memory",
            "120MiB",
            "--json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = rows(&out).remove(0);
    assert_eq!(r["found"], "incomplete");
    assert_eq!(r["memory_bound"], true);
    assert_eq!(r["truncated"], true);
    assert_eq!(r["max_memory"], bound);
    if let Some(peak) = r["peak_rss_kib"].as_u64() {
        assert!(peak * 1024 <= bound, "peak {peak} KiB over the bound");
    }
}

#[test]
fn run_family_soaks_one_family() {
    let dir = tmpdir("scale-family");
    let run = |family: &str| -> Value {
        let out = mmfuzz(
            &dir,
            &[
                "run", "--config", "v6.12", "--family", family, "--execs", "3000", "--jobs", "1",
                "--json",
            ],
        );
        rows(&out).remove(0)
    };
    // B13 lives in the failing fork: its family finds it, the teardown family cannot.
    let fork = run("fork");
    assert_eq!(fork["found"], "bug");
    assert_eq!(fork["invariant"], "I6");
    let teardown = run("teardown");
    assert_eq!(teardown["found"], "safe");
    assert_eq!(teardown["execs"], 3000);
    let out = mmfuzz(&dir, &["run", "--config", "v6.1", "--family", "fork"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no scenario of that family"));
}

#[test]
fn review_shards_merge_to_the_single_review() {
    let dir = tmpdir("scale-review");
    // No random search: every field of a row is then the same on any machine.
    let args = [
        "review",
        "--config",
        "seed-akpm-1-fixed",
        "--cpus",
        "2",
        "--execs",
        "0",
    ];
    let mut single = args.to_vec();
    single.push("--json");
    let whole = rows(&mmfuzz(&dir, &single));
    assert!(whole.len() > 30, "{} mutants", whole.len());
    for n in [1, 2, 4] {
        let files = shards(&dir, &format!("review{n}"), &args, n);
        assert_eq!(merged(&dir, &files), whole, "{n} shards");
    }
    // A missing shard is named; pairs need every single and are refused with a shard.
    let files = shards(&dir, "gap", &args, 2);
    let out = mmfuzz(&dir, &["merge", &files[0]]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is in no file given"));
    let mut pairs = args.to_vec();
    pairs.extend(["--pairs", "--shard", "0/2"]);
    let out = mmfuzz(&dir, &pairs);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--shard with --pairs"));
}
