//! The built-in path versions and configs (`src/mm/kernel/*.mmp`), embedded in the binary.

use std::sync::OnceLock;

use super::lang::{parse, LangError, Unit};
use super::program::{resolve, Program};

/// The embedded files: name and text.
pub const FILES: [(&str, &str); 8] = [
    ("generic.mmp", include_str!("kernel/generic.mmp")),
    ("exit_mmap.mmp", include_str!("kernel/exit_mmap.mmp")),
    ("oom_reaper.mmp", include_str!("kernel/oom_reaper.mmp")),
    (
        "process_mrelease.mmp",
        include_str!("kernel/process_mrelease.mmp"),
    ),
    ("freezer.mmp", include_str!("kernel/freezer.mmp")),
    ("fork.mmp", include_str!("kernel/fork.mmp")),
    ("vma_lock.mmp", include_str!("kernel/vma_lock.mmp")),
    ("configs.mmp", include_str!("kernel/configs.mmp")),
];

/// Every built-in file, parsed (once).
pub fn units() -> &'static [Unit] {
    static UNITS: OnceLock<Vec<Unit>> = OnceLock::new();
    UNITS.get_or_init(|| {
        FILES
            .iter()
            .map(|(name, text)| {
                parse(&format!("<builtin>/{name}"), text)
                    .unwrap_or_else(|e| panic!("built-in path file does not parse: {e}"))
            })
            .collect()
    })
}

/// Names of the built-in configs, in file order.
pub fn config_names() -> Vec<&'static str> {
    units()
        .iter()
        .flat_map(|u| u.configs.iter().map(|c| c.name.as_str()))
        .collect()
}

/// A built-in config, resolved.
pub fn program(name: &str) -> Result<Program, LangError> {
    let all: Vec<&Unit> = units().iter().collect();
    for u in units() {
        if let Some(c) = u.configs.iter().find(|c| c.name == name) {
            return resolve(c, &all);
        }
    }
    Err(LangError {
        file: "<builtin>".into(),
        pos: Default::default(),
        msg: format!(
            "no built-in config {name:?} (have: {})",
            config_names().join(", ")
        ),
    })
}

/// Every built-in config, resolved.
pub fn programs() -> Vec<Program> {
    config_names()
        .into_iter()
        .map(|n| program(n).unwrap_or_else(|e| panic!("built-in config does not resolve: {e}")))
        .collect()
}

/// Parse a user's file and resolve each config in it; its paths override the built-in ones.
pub fn load_file(file: &str, text: &str) -> Result<Vec<Program>, LangError> {
    let unit = parse(file, text)?;
    if unit.configs.is_empty() {
        return Err(LangError {
            file: file.into(),
            pos: Default::default(),
            msg: "no `config` in the file (start from `mmfuzz configs --show NAME`)".into(),
        });
    }
    let mut all: Vec<&Unit> = vec![&unit];
    all.extend(units());
    unit.configs.iter().map(|c| resolve(c, &all)).collect()
}
