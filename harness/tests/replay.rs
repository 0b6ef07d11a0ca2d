//! Replays, with their counts always printed (this test has its own `main`, so its output is
//! not captured): every case in `corpus/` must give its expected verdict, and every recorded
//! VMA-tree trace of the kernel's maple tree test suite (`check_erase2_sets`) must replay through
//! store and reference with `mt_validate` after every op.

use std::process::ExitCode;

use mmfuzz_harness::corpus::{self, Case};
use mmfuzz_harness::maple::erase2;

fn corpus_replay() -> Result<String, String> {
    let dir = corpus::default_dir();
    let files = corpus::collect(std::slice::from_ref(&dir)).map_err(|e| e.to_string())?;
    if files.is_empty() {
        return Err(format!("{}: the corpus is empty", dir.display()));
    }
    let mut failed = Vec::new();
    for f in &files {
        let case = Case::load(f).map_err(|e| e.to_string())?;
        if let Err(report) = case.replay() {
            failed.push(format!("{}: {}\n{report}", f.display(), case.name));
        }
    }
    if !failed.is_empty() {
        return Err(format!(
            "cases that no longer give their verdict:\n{}",
            failed.join("\n")
        ));
    }
    Ok(format!(
        "corpus: replayed {} cases from {}",
        files.len(),
        dir.display()
    ))
}

fn erase2_replay() -> Result<String, String> {
    let Some(dir) = erase2::find_dir() else {
        return Ok(format!(
            "*** erase2 traces NOT FOUND: set {} or put shared/data/maple-erase2 beside the \
             repo; nothing was replayed ***",
            erase2::ENV_DIR
        ));
    };
    let sets = erase2::load_dir(&dir).map_err(|e| e.to_string())?;
    if sets.is_empty() {
        return Err(format!("{}: no .ops files", dir.display()));
    }
    // .ci/run insists on every set.
    if let Some(want) = std::env::var_os("MMFUZZ_ERASE2_EXPECT_SETS") {
        let want: usize = want
            .to_string_lossy()
            .trim()
            .parse()
            .map_err(|_| "bad count")?;
        if sets.len() != want {
            return Err(format!(
                "expected {want} erase2 sets in {}, found {}",
                dir.display(),
                sets.len()
            ));
        }
    }
    let mut total = 0;
    for set in &sets {
        total += erase2::replay(set).map_err(|e| e.to_string())?;
    }
    Ok(format!(
        "erase2: replayed {} sets, {total} operations from {}",
        sets.len(),
        dir.display()
    ))
}

fn main() -> ExitCode {
    let mut passed = 0;
    let mut failed = 0;
    for (name, f) in [
        (
            "corpus_replay",
            corpus_replay as fn() -> Result<String, String>,
        ),
        ("erase2_replay", erase2_replay),
    ] {
        match f() {
            Ok(msg) => {
                passed += 1;
                println!("test {name} ... ok\n  {msg}");
            }
            Err(msg) => {
                failed += 1;
                println!("test {name} ... FAILED\n{msg}");
            }
        }
    }
    println!("replay: {passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
