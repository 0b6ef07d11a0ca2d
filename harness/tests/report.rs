//! The text report of a counterexample as a list post: every line of every corpus case at
//! most 80 columns (the diagram and `--full`, through the library and the binary), the race
//! diagram in kernel source terms with the mechanism and the harm marked at their steps, the
//! four threads of B1 side by side, and a latent mechanism said to be one.

mod common;
use common::root;

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use mmfuzz::mm::{Program, Role};
use mmfuzz_harness::corpus::{Case, Payload};
use mmfuzz_harness::mm::report::{self, Detail, WIDTH};
use mmfuzz_harness::mm::{exec, Opts, Scenario};

/// Every case file of `corpus/` (mm and maple), sorted.
fn corpus_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["corpus/mm", "corpus/maple_store"] {
        for e in fs::read_dir(root().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "json") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

/// The mm case whose file name starts with `prefix` (not a replay on a fixed version).
fn load(prefix: &str) -> (Program, Scenario) {
    let path = corpus_files()
        .into_iter()
        .find(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with(prefix) && !n.contains("-on-")
        })
        .unwrap_or_else(|| panic!("no corpus case {prefix}*"));
    let case = Case::load(&path).unwrap();
    let prog = case.program(&path).unwrap().expect("an mm case");
    let Payload::Mm { scenario, .. } = &case.payload else {
        panic!("not an mm case");
    };
    (prog, scenario.clone())
}

/// The lines of `text` wider than [`WIDTH`] characters, with their numbers.
fn too_wide(text: &str) -> Vec<String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.chars().count() > WIDTH)
        .map(|(i, l)| format!("line {}: {} columns: {l}", i + 1, l.chars().count()))
        .collect()
}

fn render(prog: &Program, sc: &Scenario, detail: Detail) -> String {
    let opts = Opts {
        record: true,
        ..Opts::default()
    };
    let out = exec::run(prog, sc, opts).unwrap();
    report::render(prog, sc, &out, detail)
}

#[test]
fn every_corpus_report_fits_80_columns() {
    let mut checked = 0;
    for path in corpus_files() {
        let case = Case::load(&path).unwrap();
        let Payload::Mm { scenario, .. } = &case.payload else {
            continue;
        };
        let prog = case.program(&path).unwrap().expect("an mm case");
        for detail in [Detail::Diagram, Detail::Full] {
            let text = render(&prog, scenario, detail);
            let wide = too_wide(&text);
            assert!(
                wide.is_empty(),
                "{} ({detail:?}):\n{}",
                path.display(),
                wide.join("\n")
            );
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} reports");
}

/// The binary's output too (case names, notes, maple cases), all files in one call.
#[test]
fn explain_prints_no_line_over_80_columns() {
    let files: Vec<String> = corpus_files()
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    for full in [false, true] {
        let mut args = vec!["explain".to_string()];
        if full {
            args.push("--full".into());
        }
        args.extend(files.iter().cloned());
        let out = Command::new(env!("CARGO_BIN_EXE_mmfuzz"))
            .args(&args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let wide = too_wide(&text);
        assert!(wide.is_empty(), "--full {full}:\n{}", wide.join("\n"));
        assert!(text.contains("passes ("), "maple cases are explained too");
    }
}

/// B9: process_mrelease against exit_mmap on v5.17-rc3. The diagram speaks the kernel's
/// source, shows both lanes, marks I4 where exit_mmap unlocks and I5 where the reaper reads
/// the freed VMA, and folds the bookkeeping.
#[test]
fn b9_is_a_race_diagram_with_mechanism_and_harm() {
    let (prog, sc) = load("B9-");
    let text = render(&prog, &sc, Detail::Diagram);
    for want in [
        "CPU0 (process_mrelease)",
        "CPU1 (victim)",
        "mmgrab(mm)",
        "mmap_write_lock(mm)",
        "vma = remove_vma(vma)  /* frees vma0 */",
        "mmap_write_unlock(mm)",
        "test_bit(MMF_OOM_SKIP, &mm->flags)  /* false */",
        "mm_is_oom_victim(mm)  /* false */",
        "__oom_reap_task_mm(mm)",
        "<-- I4: mm->mmap still points at",
        "<-- I5: use after free of vma0->vm_flags",
        "I4 (the mechanism) broken at step 2",
        "I5 (the harm) broken at step 3",
        "state: mm->mmap -> vma0 (freed)",
    ] {
        assert!(text.contains(want), "no {want:?} in\n{text}");
    }
    assert!(
        text.lines().any(|l| l.trim() == "..."),
        "nothing folded:\n{text}"
    );
    // The model's own words stay out of the diagram; the steps of the walk loop fold.
    for model in ["test_bit MMF", "remove_vma_next", "vma_first", "→"] {
        assert!(!text.contains(model), "{model:?} in\n{text}");
    }
    // The I4 marker comes before the I5 one, and the unlock before the reader's lock.
    let at = |s: &str| text.find(s).unwrap();
    assert!(at("<-- I4") < at("<-- I5"));
    assert!(at("mmap_write_unlock(mm)") < at("!mmap_read_lock_killable(mm)"));
    // The full trace: one line per model step, every step there.
    let full = render(&prog, &sc, Detail::Full);
    assert!(full.contains("exit_mmap: remove_vma_next"), "{full}");
    assert!(full.contains("<-- I4 (the mechanism)") && full.contains("<-- I5 (the harm)"));
    assert!(full.contains("In short:"));
}

/// B1 (v4.7-rc): four threads, side by side within 80 columns, in the freezer's words.
#[test]
fn b1_fits_four_lanes_side_by_side() {
    let (prog, sc) = load("v4.7-rc-I12-");
    let text = render(&prog, &sc, Detail::Diagram);
    let head = text
        .lines()
        .position(|l| l.trim_start().starts_with("CPU0"))
        .expect("a header row");
    let row = text.lines().nth(head).unwrap();
    for t in 1..4 {
        assert!(row.contains(&format!("CPU{t}")), "{row}");
    }
    for want in [
        "(pm_suspend)",
        "current->flags |= PF_SUSPEND_TASK",
        "pm_freezing = true",
        "freezing(current)  /* true */",
        "mark_oom_victim(victim)",
        "oom_killer_disabled = true",
        "<-- I12",
        "I12 broken at step 7",
        "state: pm_freezing=1",
    ] {
        assert!(text.contains(want), "no {want:?} in\n{text}");
    }
    assert!(too_wide(&text).is_empty());
}

/// A mechanism no thread follows to a harm is reported as latent (B9 without its reader).
#[test]
fn a_mechanism_without_harm_is_latent() {
    let (prog, mut sc) = load("B9-");
    sc.threads.retain(|t| t.role() == Role::Exit);
    let opts = Opts {
        record: true,
        ..Opts::default()
    };
    let out = exec::run(&prog, &sc, opts).unwrap();
    assert!(out.is_latent(), "{out:?}");
    let text = report::render(&prog, &sc, &out, Detail::Diagram);
    assert!(text.contains("latent I4"), "{text}");
    assert!(text.contains("<-- I4: mm->mmap still points at"), "{text}");
    assert!(text.contains("No harm follows"), "{text}");
    let json = report::json(&prog, &sc, &out);
    assert_eq!(json["mechanism"]["invariant"], "I4");
    assert_eq!(json["latent"], true);
    assert!(json["violation"].is_null());
}
