//! Entry points shared by every driver: cargo-fuzz targets, bolero checks, proptests, the CLI.
//! Each takes the fuzzer's bytes, decodes a case, runs its oracle and panics with the report.

use std::path::Path;

use crate::maple::{self, Op};
use crate::minimize;

/// `fuzz/fuzz_targets/maple_store.rs`: the store against its reference.
pub fn maple_store(data: &[u8]) {
    maple_store_ops(&maple::decode(data));
}

/// Run decoded operations; panic with the divergence report.
pub fn maple_store_ops(ops: &[Op]) {
    if let Err(d) = maple::execute(ops) {
        panic!(
            "{d}\n{} ops in the case; {}",
            ops.len(),
            keep_hint("--target maple-store")
        );
    }
}

/// How to keep a crash as a corpus case, for the fuzz targets' panic messages: a `cargo run`
/// of this checkout (its manifest as an absolute path) that works from any folder, `fuzz/`
/// included, and writes into the checkout's `corpus/`. `args` are `corpus add`'s flags.
pub fn keep_hint(args: &str) -> String {
    let harness = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = harness.parent().unwrap_or(harness).join("Cargo.toml");
    format!(
        "keep it with\n  cargo run --release --manifest-path {} -- corpus add {args} ARTIFACT\n\
         (ARTIFACT: the crash file libFuzzer names below)",
        shell_word(&manifest.display().to_string())
    )
}

/// `s` as one shell word: as it is when it needs no quoting, else in single quotes.
fn shell_word(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=@+,%".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The `--config` value that names `prog` in a hint: the file `MMFUZZ_CONFIG` names (as a
/// canonical path, so the hint works from any folder), else the config's name.
fn config_arg(prog: &mmfuzz::mm::Program) -> String {
    match std::env::var(ENV_CONFIG) {
        Ok(v) if Path::new(&v).is_file() => {
            let p = std::fs::canonicalize(&v).or_else(|_| std::path::absolute(&v));
            p.map_or(v, |p| p.display().to_string())
        }
        _ => prog.config.name.clone(),
    }
}

/// Smaller versions of one op, simplest first, for [`minimize_maple`].
fn simpler_op(op: &Op) -> Vec<Op> {
    let smaller = |v: u64| -> Vec<u64> {
        let mut c = vec![0, v / 2, v.saturating_sub(1)];
        c.retain(|&x| x < v);
        c.dedup();
        c
    };
    let mut out = Vec::new();
    match *op {
        Op::Store { first, last, entry } => {
            for f in smaller(first) {
                out.push(Op::Store {
                    first: f,
                    last: f + (last - first),
                    entry,
                });
            }
            for l in smaller(last - first) {
                out.push(Op::Store {
                    first,
                    last: first + l,
                    entry,
                });
            }
            if let Some(e) = entry {
                if e > 1 {
                    out.push(Op::Store {
                        first,
                        last,
                        entry: Some(1),
                    });
                }
            }
        }
        Op::Erase { index } => {
            out.extend(smaller(index).into_iter().map(|index| Op::Erase { index }))
        }
        _ => out.push(Op::Count),
    }
    out.retain(|o| o != op);
    out
}

/// Shrink a failing maple-store case: fewest ops, then smallest values, keeping the same kind
/// of failure. Returns `None` if the case does not fail.
pub fn minimize_maple(ops: Vec<Op>) -> Option<Vec<Op>> {
    let first = maple::execute(&ops).err()?;
    let kind = first.kind();
    // Nothing after the first divergence matters.
    let mut ops = ops;
    ops.truncate(first.op_index + 1);
    let fails = |c: &[Op]| maple::execute(c).err().is_some_and(|d| d.kind() == kind);
    let ops = minimize::ddmin(ops, fails);
    let ops = minimize::simplify(ops, simpler_op, fails);
    Some(minimize::ddmin(ops, fails))
}

/// Environment variable choosing the config of the `exit_vs_reaper` fuzz target.
pub const ENV_CONFIG: &str = "MMFUZZ_CONFIG";

fn mm_programs() -> &'static [(mmfuzz::mm::Program, Vec<mmfuzz::mm::Invariant>)] {
    static PROGS: std::sync::OnceLock<Vec<(mmfuzz::mm::Program, Vec<mmfuzz::mm::Invariant>)>> =
        std::sync::OnceLock::new();
    PROGS.get_or_init(|| {
        let progs = match std::env::var(ENV_CONFIG) {
            Ok(name) => {
                let text = std::fs::read_to_string(&name).ok();
                match text {
                    Some(t) => mmfuzz::mm::builtin::load_file(&name, &t)
                        .unwrap_or_else(|e| panic!("{ENV_CONFIG}={name}: {e}")),
                    None => vec![mmfuzz::mm::builtin::program(&name)
                        .unwrap_or_else(|e| panic!("{ENV_CONFIG}={name}: {}", e.msg))],
                }
            }
            Err(_) => mmfuzz::mm::builtin::programs(),
        };
        progs
            .into_iter()
            .map(|p| {
                let want = expected_invariants(&p.config.expect);
                (p, want)
            })
            .collect()
    })
}

/// The invariants a config expected `bug` names (`bug I4/I5`: `[I4, I5]`), for
/// [`crate::campaign::mm_config`]; none for `safe` and `unknown`.
pub fn expected_invariants(e: &mmfuzz::mm::Expect) -> Vec<mmfuzz::mm::Invariant> {
    match e {
        mmfuzz::mm::Expect::Bug(i) => i.clone(),
        _ => Vec::new(),
    }
}

/// Without `MMFUZZ_CONFIG`, how [`mm`] reads its input: the first byte picks one of `n`
/// built-in configs (its index), the rest is the scenario.
pub fn pick_config(data: &[u8], n: usize) -> (usize, &[u8]) {
    match data.split_first() {
        Some((b, rest)) => (*b as usize % n.max(1), rest),
        None => (0, data),
    }
}

/// `MMFUZZ_FAST_CRASH`: crash at the first violation without shrinking or explaining it (the
/// bug benchmark, `scripts/bench_search.py`).
pub const ENV_FAST_CRASH: &str = "MMFUZZ_FAST_CRASH";

/// `fuzz/fuzz_targets/exit_vs_reaper.rs`: one scenario against one config. With
/// `MMFUZZ_CONFIG=NAME|FILE`, any violation of that config is a crash (to find its bugs);
/// without it, the first byte picks a built-in config and only a violation of a config
/// expected `safe` is a crash (a false alarm, or a bug nobody listed).
pub fn mm(data: &[u8]) {
    mm_fed(data, None);
}

/// [`mm`], feeding the model's coverage of the run to `feature` ([`crate::mm::exec::run_with_features`]):
/// the fuzz target turns it into libFuzzer's extra counters.
pub fn mm_fed(data: &[u8], feature: Option<&mut dyn FnMut(u32)>) {
    let progs = mm_programs();
    let single = std::env::var_os(ENV_CONFIG).is_some();
    let (pick, rest) = if single {
        (0, data)
    } else {
        pick_config(data, progs.len())
    };
    let (prog, want) = &progs[pick];
    let mut sc = crate::mm::generate::decode(prog, rest);
    let opts = crate::mm::Opts::default();
    let run = match feature {
        Some(f) => crate::mm::exec::run_with_features(prog, &sc, opts, f),
        None => crate::mm::run(prog, &sc, opts),
    };
    let Ok(mut out) = run else {
        return;
    };
    // A latent defect: the harm this scenario can go on to, if any.
    if let Some(h) = out
        .is_latent()
        .then(|| crate::mm::harm::after(prog, &sc))
        .flatten()
    {
        if let Ok(o) = crate::mm::run(prog, &h, crate::mm::Opts::default()) {
            (out, sc) = (o, h);
        }
    }
    if let Some(v) = out.headline().cloned() {
        let _ = want;
        let expected = !single && prog.config.expect != mmfuzz::mm::Expect::Safe;
        if !expected {
            if std::env::var_os(ENV_FAST_CRASH).is_some() {
                // The bug benchmark times the first violation, not its report.
                panic!("{}: {} violated", prog.config.name, v.inv);
            }
            let small = crate::mm::shrink::shrink(prog, &sc, v.inv);
            let flags = if single {
                format!("--target mm --config {}", shell_word(&config_arg(prog)))
            } else {
                "--target mm".to_string()
            };
            panic!(
                "{}: {} violated\n{}\n{}",
                prog.config.name,
                v.inv,
                crate::mm::report::explain(prog, &small),
                keep_hint(&flags)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hint runs this checkout's `mmfuzz` from any folder (`fuzz/`, where cargo-fuzz runs).
    #[test]
    fn the_keep_hint_works_from_any_folder() {
        let h = keep_hint("--target mm --config v6.1");
        let harness = Path::new(env!("CARGO_MANIFEST_DIR"));
        let manifest = harness.parent().unwrap().join("Cargo.toml");
        assert!(
            h.contains(&format!("--manifest-path {}", manifest.display())),
            "{h}"
        );
        assert!(manifest.is_absolute() && manifest.is_file());
        assert!(
            h.contains("-- corpus add --target mm --config v6.1 ARTIFACT"),
            "{h}"
        );
    }

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(shell_word("/a/b-c.mmp"), "/a/b-c.mmp");
        assert_eq!(shell_word("/my dir/x.mmp"), "'/my dir/x.mmp'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
    }

    #[test]
    fn the_first_byte_picks_the_config() {
        assert_eq!(pick_config(&[5, 1, 2], 3), (2, &[1u8, 2][..]));
        assert_eq!(pick_config(&[], 3), (0, &[][..]));
    }
}
