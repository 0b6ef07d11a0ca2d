//! The `mmfuzz` binary on bad input and when interrupted: one line naming the file and the
//! place, exit status 2 (130 for Ctrl-C), and nothing in the corpus folder changed.

mod common;
use common::tmpdir;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn mmfuzz(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mmfuzz"))
        .args(args)
        .output()
        .expect("run mmfuzz")
}

/// Every file below `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn copy_corpus(to: &Path) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/mm");
    std::fs::create_dir_all(to.join("mm")).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, to.join("mm").join(p.file_name().unwrap())).unwrap();
    }
}

/// Exit status 2 and exactly one line on standard error that contains each of `want`.
fn bad_input(out: &Output, want: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line wanted: {err}");
    for w in want {
        assert!(err.contains(w), "{w:?} not in {err:?}");
    }
}

#[test]
fn broken_corpus_files_are_named_and_nothing_changes() {
    let dir = tmpdir("cli-corpus");
    copy_corpus(&dir);
    let mm = dir.join("mm");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&mm)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    // One truncated, one hand-broken (a field of the wrong type).
    let truncated = &files[0];
    let text = std::fs::read_to_string(truncated).unwrap();
    std::fs::write(truncated, &text[..text.len() / 2]).unwrap();
    let edited = &files[1];
    let text = std::fs::read_to_string(edited).unwrap();
    let broken = text.replacen("\"expect\": ", "\"expect\": 7, \"x\": ", 1);
    assert_ne!(broken, text, "the case files have an expect field");
    std::fs::write(edited, broken).unwrap();
    let before = snapshot(&dir);
    let t = truncated.to_str().unwrap();
    let e = edited.to_str().unwrap();
    let d = dir.to_str().unwrap();
    bad_input(&mmfuzz(&["replay", t]), &[t, "line", "column"]);
    bad_input(&mmfuzz(&["replay", e]), &[e, "line", "column"]);
    bad_input(&mmfuzz(&["replay", d]), &["line", "column"]);
    bad_input(&mmfuzz(&["explain", t]), &[t, "line"]);
    bad_input(&mmfuzz(&["minimize", t, "--save", d]), &[t, "line"]);
    bad_input(
        &mmfuzz(&[
            "corpus", "add", "--target", "mm", "--config", "v6.1", e, "--dir", d,
        ]),
        &[e, "line"],
    );
    assert_eq!(snapshot(&dir), before, "the corpus folder changed");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_config_maps_and_setup_files_are_named() {
    let dir = tmpdir("cli-files");
    let cfg = dir.join("mine.mmp");
    std::fs::write(&cfg, "config mine\nuse exit_mmap@nonesuch\n").unwrap();
    let c = cfg.to_str().unwrap();
    let out = mmfuzz(&["run", "--config", c, "--out", dir.to_str().unwrap()]);
    bad_input(&out, &[c]);

    let maps = dir.join("bad.maps");
    std::fs::write(
        &maps,
        "00400000-00401000 r-xp 00000000 fd:01 12 /bin/x\n00401000-00402000 r--q 00000000 fd:01 12 /bin/x\n",
    )
    .unwrap();
    let m = maps.to_str().unwrap();
    bad_input(
        &mmfuzz(&["import-maps", m]),
        &[&format!("{m}:2:"), "permissions"],
    );
    bad_input(
        &mmfuzz(&["run", "--config", "v6.1", "--setup", m]),
        &[&format!("{m}:1:"), "not a set-up file"],
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn import_maps_of_a_real_process_drives_a_campaign() {
    let dir = tmpdir("cli-maps");
    let setup = dir.join("self.json");
    let s = setup.to_str().unwrap();
    let out = mmfuzz(&["import-maps", "/proc/self/maps", "--out", s]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let f = dir.to_str().unwrap();
    let out = mmfuzz(&[
        "run",
        "--config",
        "v6.1",
        "--setup",
        s,
        "--seconds",
        "0.3",
        "--jobs",
        "1",
        "--out",
        f,
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(line["found"], "safe");
    assert!(line["execs"].as_u64().unwrap() > 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn ctrl_c_keeps_what_was_found_and_prints_the_table() {
    let dir = tmpdir("cli-sigint");
    let d = dir.to_str().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_mmfuzz"))
        .args([
            "run",
            "--config",
            "v5.17-rc3",
            "--config",
            "v6.1",
            "--config",
            "v6.18",
            "--seconds",
            "60",
            "--jobs",
            "1",
            "--out",
            d,
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(3));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(130), "{stdout}");
    assert!(stdout.contains(" v5.17-rc3 "), "{stdout}");
    // The config cut short says `incomplete`, as `--json` does, never `safe`.
    let cut = stdout.lines().find(|l| l.starts_with("!v6.1 ")).unwrap();
    assert!(cut.contains(" incomplete "), "{stdout}");
    assert!(
        !cut.contains("safe   safe") && !cut.contains(" stop "),
        "{stdout}"
    );
    assert!(stdout.contains("not run (interrupted): v6.18"), "{stdout}");
    let kept = std::fs::read_dir(dir.join("mm")).unwrap().count();
    assert_eq!(kept, 1, "the v5.17-rc3 counterexample is kept");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// SIGINT to `mmfuzz` after `secs` seconds: its output once it has ended.
fn interrupted(args: &[&str], secs: u64) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_mmfuzz"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(secs));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    child.wait_with_output().unwrap()
}

/// Ctrl-C stops `check` (about 50 s at these bounds) at its next batch: the states and
/// transitions covered, the verdict `incomplete` (never `safe`), exit status 130. `--threads`
/// is the old name of `--cpus`.
#[test]
fn ctrl_c_stops_check_with_an_incomplete_verdict() {
    let dir = tmpdir("cli-check-sigint");
    let d = dir.to_str().unwrap();
    let bounds = ["--config", "v4.9", "--vmas", "1", "--races", "coenabled"];
    let more = ["--preemptions", "3", "--jobs", "1", "--out", d];
    let text: Vec<&str> = ["check", "--threads", "4"]
        .iter()
        .chain(&bounds)
        .chain(&more)
        .copied()
        .collect();
    let out = interrupted(&text, 3);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stdout}{stderr}");
    assert!(
        stdout.starts_with("v4.9: incomplete: interrupted"),
        "{stdout}"
    );
    assert!(
        stdout.contains(" states, ") && stdout.contains(" transitions"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("safe") && !stdout.contains("no violation:"),
        "{stdout}"
    );
    assert!(stderr.contains("stopping at the next"), "{stderr}");

    let json: Vec<&str> = ["check", "--cpus", "4", "--json"]
        .iter()
        .chain(&bounds)
        .chain(&more)
        .copied()
        .collect();
    let out = interrupted(&json, 3);
    assert_eq!(out.status.code(), Some(130));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["found"], "incomplete", "{v}");
    assert_eq!(v["interrupted"], true, "{v}");
    assert_eq!(v["truncated"], false, "{v}");
    assert_eq!(v["threads"], 4, "{v}");
    assert!(v["states"].as_u64().unwrap() > 0, "{v}");
    assert!(!dir.join("mm").exists(), "nothing saved");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A case found that has the shape of an older one (same config, invariant and steps, another
/// set-up) is not saved; `run`, `check` and `corpus add` say whose duplicate it is, and the
/// JSON `counterexample` is the older file, with `duplicate` true.
#[test]
fn a_duplicate_of_an_older_case_says_so() {
    let dir = tmpdir("cli-dup");
    let (f, g, c) = (dir.join("f"), dir.join("g"), dir.join("c"));
    let (f, g, c) = (
        f.to_str().unwrap(),
        g.to_str().unwrap(),
        c.to_str().unwrap(),
    );
    let run = |seed: &str, json: bool| {
        let mut a = vec![
            "run",
            "--config",
            "v5.17-rc3",
            "--execs",
            "5000",
            "--jobs",
            "1",
        ];
        a.extend(["--seed", seed, "--out", f]);
        if json {
            a.push("--json");
        }
        mmfuzz(&a)
    };
    let first: serde_json::Value = serde_json::from_slice(&run("0", true).stdout).unwrap();
    assert_eq!(first["duplicate"], false, "{first}");
    let older = first["counterexample"].as_str().unwrap().to_string();
    let again: serde_json::Value = serde_json::from_slice(&run("2", true).stdout).unwrap();
    assert_eq!(again["duplicate"], true, "{again}");
    assert_eq!(again["counterexample"].as_str(), Some(older.as_str()));
    let text = String::from_utf8(run("2", false).stdout).unwrap();
    assert!(text.contains(&format!("{older} (duplicate)")), "{text}");
    assert!(
        text.contains(&format!(
            "not saved: a duplicate of {older}, same config, invariant and steps"
        )),
        "{text}"
    );
    assert!(
        text.contains("(duplicate): the case found was not saved"),
        "{text}"
    );

    let check = |out: &str| {
        let o = mmfuzz(&[
            "check",
            "--config",
            "v5.17-rc3",
            "--cpus",
            "2",
            "--vmas",
            "1",
            "--json",
            "--out",
            out,
        ]);
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let dup = check(f);
    assert_eq!(dup["duplicate"], true, "{dup}");
    assert_eq!(dup["counterexample"].as_str(), Some(older.as_str()));
    let fresh = check(g);
    assert_eq!(fresh["duplicate"], false, "{fresh}");
    let other = fresh["counterexample"].as_str().unwrap();
    assert_ne!(other, older);

    let add = |case: &str| {
        String::from_utf8(mmfuzz(&["corpus", "add", case, "--dir", c]).stderr).unwrap()
    };
    assert!(add(&older).starts_with("saved "));
    let said = add(other);
    let kept = Path::new(c)
        .join("mm")
        .join(Path::new(&older).file_name().unwrap());
    assert!(
        said.contains(&format!("not saved: a duplicate of {}", kept.display())),
        "{said}"
    );
    assert_eq!(
        std::fs::read_dir(Path::new(c).join("mm")).unwrap().count(),
        1
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// From `fuzz/`, where the README leaves a fuzzing user, `corpus add` writes into the
/// repository's `corpus/` (not `fuzz/corpus/`, libFuzzer's) and says so; a config file given
/// as an absolute path (as the fuzz target's hint gives it) works from there.
#[test]
fn corpus_add_from_fuzz_writes_the_repository_corpus() {
    let repo = tmpdir("cli-fuzzdir");
    std::fs::create_dir_all(repo.join("harness")).unwrap();
    std::fs::create_dir_all(repo.join("fuzz/artifacts/exit_vs_reaper")).unwrap();
    std::fs::write(
        repo.join("Cargo.toml"),
        "[workspace]\nmembers = [\"harness\"]\n",
    )
    .unwrap();
    std::fs::write(repo.join("harness/Cargo.toml"), "").unwrap();
    std::fs::write(
        repo.join("fuzz/Cargo.toml"),
        "[workspace]\nmembers = [\".\"]\n",
    )
    .unwrap();
    let shown = mmfuzz(&["configs", "--show", "v5.17-rc3"]);
    let text = String::from_utf8(shown.stdout).unwrap();
    let cfg = repo.join("mine.mmp");
    std::fs::write(&cfg, text.replace("config v5.17-rc3 ", "config mine ")).unwrap();
    let art = repo.join("fuzz/artifacts/exit_vs_reaper/crash-1");
    std::fs::write(&art, [7u8; 64]).unwrap();
    let add = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_mmfuzz"))
            .args(["corpus", "add"])
            .args(args)
            .current_dir(repo.join("fuzz"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stderr).unwrap()
    };
    let a = "artifacts/exit_vs_reaper/crash-1";
    let said = add(&["--target", "mm", "--config", cfg.to_str().unwrap(), a]);
    assert!(said.contains("saved ../corpus/mm/"), "{said}");
    let said = add(&["--target", "maple_store", a]);
    assert!(said.contains("saved ../corpus/maple_store/"), "{said}");
    let said = add(&["--target", "mm", a]);
    assert!(said.contains("../corpus/mm/"), "{said}");
    assert!(!repo.join("fuzz/corpus").exists());
    assert_eq!(snapshot(&repo.join("corpus")).len(), 3);
    std::fs::remove_dir_all(&repo).unwrap();
}

#[test]
fn explain_json_gives_the_steps_the_mechanism_and_the_violation() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/mm");
    let case = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with("B9-") && !n.contains("-on-")
        })
        .expect("the B9 case");
    let out = mmfuzz(&["explain", case.to_str().unwrap(), "--json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["config"], "v5.17-rc3");
    assert_eq!(v["violation"]["invariant"], "I5");
    assert_eq!(v["numbered_steps"], v["violation"]["at_step"]);
    // The mechanism: I4 where exit_mmap drops mmap_lock, before the harm.
    let m = &v["mechanism"];
    assert_eq!(m["invariant"], "I4");
    assert_eq!(m["at_step"], 2);
    assert_eq!(v["latent"], false);
    let steps = v["steps"].as_array().unwrap();
    let at = m["model_step"].as_u64().unwrap() as usize;
    assert_eq!(steps[at - 1]["what"], "exit_mmap: mmap_write_unlock");
    assert_eq!(steps[at - 1]["kernel"], "mmap_write_unlock(mm)");
    // The locks each CPU holds, by their kernel names.
    assert!(steps
        .iter()
        .any(|s| s["locks"].as_str().is_some_and(|l| l.contains("task_lock"))));
    assert!(steps.iter().any(|s| s["locks"] == "mmap_lock(W)"));
}

/// A path that returns holding a lock is reported at its return (I10), naming the lock and the
/// path: v6.1 with `task_unlock` deleted from `out_of_memory`, by `run` and by `check`.
#[test]
fn a_lock_left_held_at_return_is_i10() {
    let dir = tmpdir("cli-leak");
    let shown = mmfuzz(&["configs", "--show", "v6.1"]);
    assert!(shown.status.success());
    let text = String::from_utf8(shown.stdout).unwrap();
    let mut out = String::new();
    let mut in_oom = false;
    for line in text.lines() {
        if line.starts_with("path out_of_memory@") {
            in_oom = true;
        } else if line.starts_with('}') {
            in_oom = false;
        }
        if in_oom && line.trim() == "task_unlock" {
            continue;
        }
        out.push_str(
            &line
                .replace("config v6.1 ", "config leak ")
                .replace("out_of_memory@v5.18", "out_of_memory@leak"),
        );
        out.push('\n');
    }
    assert!(out.contains("path out_of_memory@leak"), "{out}");
    let file = dir.join("leak.mmp");
    std::fs::write(&file, &out).unwrap();
    let f = file.to_str().unwrap();
    let findings = dir.join("findings");
    let fd = findings.to_str().unwrap();
    for args in [
        vec![
            "run",
            "--config",
            f,
            "--seconds",
            "2",
            "--json",
            "--out",
            fd,
        ],
        vec![
            "check", "--config", f, "--cpus", "3", "--vmas", "1", "--json", "--out", fd,
        ],
    ] {
        let o = mmfuzz(&args);
        let line = String::from_utf8(o.stdout).unwrap();
        let v: serde_json::Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
        assert_eq!(v["found"], "bug", "{args:?}: {line}");
        assert_eq!(v["invariant"], "I10", "{args:?}: {line}");
        let case = v["counterexample"].as_str().unwrap();
        let e = mmfuzz(&["explain", case, "--json"]);
        let ex: serde_json::Value = serde_json::from_slice(&e.stdout).unwrap();
        assert_eq!(
            ex["violation"]["message"], "out_of_memory@leak returned holding task_lock",
            "{args:?}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `explain` takes several case files (a shell glob), one report after the other.
#[test]
fn explain_takes_several_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/mm");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            (n.starts_with("B8-") || n.starts_with("B9-")) && n.ends_with(".json")
        })
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 2);
    let args: Vec<&str> = std::iter::once("explain")
        .chain(cases.iter().map(|p| p.to_str().unwrap()))
        .collect();
    let out = mmfuzz(&args);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("I1 broken at step 2"), "{text}");
    assert!(
        text.contains("I4 (the mechanism) broken at step 2"),
        "{text}"
    );
    assert!(text.contains("I5 (the harm) broken at step 3"), "{text}");
}

/// A reader that stops early (`mmfuzz configs | head -1`): the command ends quietly, status 0,
/// nothing on standard error (it used to panic with "failed printing to stdout: Broken pipe").
#[test]
fn a_closed_standard_output_ends_quietly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/mm");
    let mut cases: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path().to_string_lossy().into_owned())
        .collect();
    cases.sort();
    // More than a pipe holds, so a write fails once the reader is gone.
    let explain: Vec<&str> = std::iter::once("explain")
        .chain(cases.iter().map(String::as_str))
        .collect();
    let configs = ["configs"];
    let replay = ["replay", "--json", dir.to_str().unwrap()];
    for args in [&explain[..], &configs[..], &replay[..]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mmfuzz"))
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run mmfuzz");
        // Close the read end at once: every write fails.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: {err}");
    }
}

/// `review` and `bench-search` on bad flags and files: named, exit status 2.
#[test]
fn review_and_bench_search_name_bad_input() {
    bad_input(
        &mmfuzz(&["review", "--config", "v6.1", "--path", "no_such_path"]),
        &["no_such_path", "v6.1 uses no path"],
    );
    bad_input(
        &mmfuzz(&["bench-search", "--drivers", "run,afl", "--config", "v6.1"]),
        &["--drivers afl", "unknown driver"],
    );
    let dir = tmpdir("cli-bench-cases");
    let f = dir.join("cases.jsonl");
    std::fs::write(&f, "{\"id\": 1}\n").unwrap();
    bad_input(
        &mmfuzz(&["bench-search", "--cases", f.to_str().unwrap()]),
        &["cases.jsonl:1", "not a case"],
    );
    // A case whose text no longer loads would count as a miss: it is refused, named.
    let stale = serde_json::json!({
        "id": "stale", "config": "v6.1", "path": "exit_mmap@v6.1", "mutation": "delete",
        "change": "x", "invariant": "I5", "numbered_steps": 1,
        "text": "config v6.1 kernel \"v6.1\" {\n  role swapoff\n}\n"
    });
    std::fs::write(&f, format!("{stale}\n")).unwrap();
    bad_input(
        &mmfuzz(&["bench-search", "--cases", f.to_str().unwrap()]),
        &["cases.jsonl:1", "case \"stale\" does not load"],
    );
}
