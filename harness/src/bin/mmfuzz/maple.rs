//! `mmfuzz maple` and `mmfuzz erase2`: the maple-style store against its reference.

use std::path::{Path, PathBuf};

use mmfuzz_harness::campaign::{self, Settings};
use mmfuzz_harness::corpus::{Case, Expect};
use mmfuzz_harness::maple::erase2;
use mmfuzz_harness::targets;

use crate::common::{check_seconds, jobs_or_all, outln, save_case, BadInput, CmdResult};

/// Random op streams against the reference, time-boxed; the first failure shrunk and saved.
pub fn campaign(seconds: f64, jobs: Option<usize>, seed: u64) -> CmdResult {
    let s = Settings {
        time: check_seconds(seconds)?,
        jobs: jobs_or_all(jobs)?,
        seed,
        case_bytes: 2048,
        max_execs_per_job: None,
        setup: None,
    };
    let rep = campaign::maple_store(&s);
    let secs = rep.elapsed.as_secs_f64();
    outln!(
        "maple_store: {} cases, {} ops in {secs:.1} s ({:.0} cases/s), {} failure(s)",
        rep.execs,
        rep.ops,
        rep.execs as f64 / secs,
        rep.failures.len()
    )?;
    if let Some((_, ops, d)) = rep.failures.first() {
        outln!("{d}")?;
        let min = targets::minimize_maple(ops.clone()).unwrap_or_else(|| ops.clone());
        let case = Case::maple_store(d.kind(), Expect::Pass, "found by mmfuzz maple", min);
        save_case(Path::new("mmfuzz-findings/maple_store"), &case)?;
    }
    Ok(rep.failures.is_empty())
}

/// Replay the kernel's erase2 traces (from `dir`, or where [`erase2::find_dir`] finds them).
pub fn erase2(dir: Option<PathBuf>) -> CmdResult {
    let dir = dir.or_else(erase2::find_dir).ok_or_else(|| {
        BadInput(format!(
            "no erase2 traces: give a folder or set {}",
            erase2::ENV_DIR
        ))
    })?;
    let sets = erase2::load_dir(&dir).map_err(|e| BadInput(e.to_string()))?;
    let mut total = 0;
    let mut ok = true;
    for set in &sets {
        match erase2::replay(set) {
            Ok(n) => {
                total += n;
                outln!("ok   {:<6} {n:>5} ops", set.name)?;
            }
            Err(e) => {
                ok = false;
                outln!("FAIL {e}")?;
            }
        }
    }
    outln!(
        "{} sets, {total} operations replayed from {}",
        sets.len(),
        dir.display()
    )?;
    Ok(ok)
}
