//! Entry points shared by every driver: cargo-fuzz targets, bolero checks, proptests, the CLI.
//! Each takes the fuzzer's bytes, decodes a case, runs its oracle and panics with the report.

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
            "{d}\n{} ops in the case; keep it with `mmfuzz corpus add --target maple_store ARTIFACT`",
            ops.len()
        );
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

/// `fuzz/fuzz_targets/exit_vs_reaper.rs`: one scenario against one config. With
/// `MMFUZZ_CONFIG=NAME|FILE`, any violation of that config is a crash (to find its bugs);
/// without it, the first byte picks a built-in config and only a violation of a config
/// expected `safe` is a crash (a false alarm, or a bug nobody listed).
pub fn mm(data: &[u8]) {
    let progs = mm_programs();
    let single = std::env::var_os(ENV_CONFIG).is_some();
    let (pick, rest) = match data.split_first() {
        Some((b, rest)) if !single => (*b as usize % progs.len(), rest),
        _ => (0, data),
    };
    let (prog, want) = &progs[pick];
    let mut sc = crate::mm::generate::decode(prog, rest);
    let Ok(mut out) = crate::mm::run(prog, &sc, crate::mm::Opts::default()) else {
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
            let small = crate::mm::shrink::shrink(prog, &sc, v.inv);
            panic!(
                "{}: {} violated\n{}\nkeep it with `mmfuzz corpus add --target mm --config {} ARTIFACT`",
                prog.config.name,
                v.inv,
                crate::mm::report::explain(prog, &small),
                prog.config.name
            );
        }
    }
}
