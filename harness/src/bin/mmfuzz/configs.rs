//! `mmfuzz configs` and `mmfuzz versions`: the built-in configs and path versions.

use mmfuzz::mm::builtin;
use mmfuzz_harness::corpus;
use mmfuzz_harness::rows::expected_word;

use crate::common::{out, outln, programs, CmdResult};

/// The configs, or with `versions` the path versions, or with `show` one config's text.
pub fn list(show: Option<&str>, versions: bool) -> CmdResult {
    if let Some(name) = show {
        let progs = programs(&[name.to_string()])?;
        for p in progs {
            out!("{}", corpus::prog_text(&p))?;
        }
        return Ok(true);
    }
    if versions {
        outln!(
            "{:<22} {:<18} {:<14} {:<18} source",
            "path",
            "version",
            "commit",
            "kernel"
        )?;
        for u in builtin::units() {
            for p in &u.paths {
                let src = if p.meta.source.is_empty() {
                    format!("{} {}", p.meta.file, p.meta.function)
                } else {
                    p.meta.source.clone()
                };
                outln!(
                    "{:<22} {:<18} {:<14} {:<18} {}",
                    p.name,
                    p.version,
                    p.meta.commit,
                    p.meta.kernel,
                    src
                )?;
            }
        }
        return Ok(true);
    }
    outln!("{:<18} {:<10} {:<24} note", "config", "expected", "kernel")?;
    for p in builtin::programs() {
        let e = match &p.config.expect {
            mmfuzz::mm::Expect::Bug(i) => format!("bug {}", mmfuzz::mm::Invariant::show_list(i)),
            e => expected_word(e).to_string(),
        };
        outln!(
            "{:<18} {:<10} {:<24} {}",
            p.config.name,
            e,
            p.config.meta.kernel,
            p.config.meta.note
        )?;
    }
    Ok(true)
}
