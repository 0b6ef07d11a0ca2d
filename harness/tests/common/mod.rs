//! Helpers shared by the integration tests (`mod common;` in each test file).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// A fresh, empty temporary folder for one test: `mmfuzz-TAG-PID` in the system's temp dir.
pub fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mmfuzz-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The repository's root folder.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// How often `out_of_memory`'s `if !mutex_trylock(&oom_lock)` was taken (another task held
/// `oom_lock`) in the runs of `prog`, whose coverage `cover` counts
/// (`mmfuzz::mm::Program::with_cover`).
pub fn oom_lock_trylock_failures(
    prog: &mmfuzz::mm::Program,
    cover: &mmfuzz::mm::cover::Cover,
) -> u64 {
    use mmfuzz::mm::program::Insn;
    let path = prog
        .paths
        .iter()
        .position(|c| c.name == "out_of_memory")
        .unwrap();
    let pc = prog.paths[path]
        .insns
        .iter()
        .position(|i| {
            matches!(
                i,
                Insn::Test(mmfuzz::mm::Prim::mutex_trylock_oom_lock, true, _)
            )
        })
        .unwrap();
    cover.count(path as u16, pc as u16, mmfuzz::mm::cover::Way::True)
}
