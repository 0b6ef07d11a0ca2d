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
