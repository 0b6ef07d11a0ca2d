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
