//! Replay of the maple tree test suite's recorded VMA-tree traces (`check_erase2_sets` in
//! `tools/testing/radix-tree/maple.c`), kept beside the repository in `shared/data/maple-erase2`.
//!
//! Each set runs on a fresh store and a fresh reference. Per op, as `check_erase2_testset`
//! does: apply it, compare with the reference, `mt_validate`, compare the entry counts, and
//! check that index 0 stays empty. After the set, the follow-up assertions the kernel makes
//! for that set (reverse empty-area results, finds, loads) are checked on both sides.

use std::fmt;
use std::path::{Path, PathBuf};

use mmfuzz::maple::{MaState, MapleTree};
use mmfuzz::reference::RangeMap;

/// Environment variable naming the folder of `.ops` files.
pub const ENV_DIR: &str = "MMFUZZ_ERASE2_DIR";

/// One recorded operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Erase2Op {
    /// `STORE start end`: `mtree_store_range(start, end, xa_mk_value(start))`.
    Store(u64, u64),
    /// `SNULL start end`: `mtree_store_range(start, end, NULL)`.
    Snull(u64, u64),
    /// `ERASE start end`: `mtree_erase(start)`, which must return `start`.
    Erase(u64, u64),
}

/// One trace file.
#[derive(Clone, Debug)]
pub struct Erase2Set {
    /// File stem (`set`, `set02`, …).
    pub name: String,
    /// The operations.
    pub ops: Vec<Erase2Op>,
}

/// A trace file that could not be read, or a replay that failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Erase2Error(pub String);

impl fmt::Display for Erase2Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Erase2Error {}

/// Parse one `.ops` file (`#` comment lines, then `OP start end` per line).
pub fn parse(path: &Path) -> Result<Erase2Set, Erase2Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Erase2Error(format!("{}: {e}", path.display())))?;
    let mut ops = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad =
            |what: &str| Erase2Error(format!("{}:{}: {what}: {line:?}", path.display(), n + 1));
        let mut it = line.split_whitespace();
        let (Some(op), Some(a), Some(b), None) = (it.next(), it.next(), it.next(), it.next())
        else {
            return Err(bad("expected `OP start end`"));
        };
        let a: u64 = a.parse().map_err(|_| bad("bad start"))?;
        let b: u64 = b.parse().map_err(|_| bad("bad end"))?;
        ops.push(match op {
            "STORE" => Erase2Op::Store(a, b),
            "SNULL" => Erase2Op::Snull(a, b),
            "ERASE" => Erase2Op::Erase(a, b),
            _ => return Err(bad("unknown op (STORE, SNULL or ERASE)")),
        });
    }
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Erase2Set { name, ops })
}

/// The trace folder: `$MMFUZZ_ERASE2_DIR`, else `shared/data/maple-erase2` beside the repo.
pub fn find_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os(ENV_DIR) {
        return Some(PathBuf::from(d));
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent()?;
    let d = repo.parent()?.join("shared/data/maple-erase2");
    d.is_dir().then_some(d)
}

/// Every `.ops` file in `dir`, sorted by name.
pub fn load_dir(dir: &Path) -> Result<Vec<Erase2Set>, Erase2Error> {
    let rd = std::fs::read_dir(dir).map_err(|e| Erase2Error(format!("{}: {e}", dir.display())))?;
    let mut paths: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ops"))
        .collect();
    paths.sort();
    paths.iter().map(|p| parse(p)).collect()
}

/// Replay one set with every check. Returns the number of operations replayed.
pub fn replay(set: &Erase2Set) -> Result<usize, Erase2Error> {
    let mut tree = MapleTree::<u64>::new();
    let mut reference = RangeMap::<u64>::new();
    let fail = |i: usize, op: &Erase2Op, what: String| {
        Erase2Error(format!("{}: op {} ({op:?}): {what}", set.name, i + 1))
    };
    for (i, op) in set.ops.iter().enumerate() {
        match *op {
            Erase2Op::Store(a, b) => {
                tree.mtree_store_range(a, b, Some(a))
                    .map_err(|e| fail(i, op, e.to_string()))?;
                reference
                    .mtree_store_range(a, b, Some(a))
                    .expect("valid range");
            }
            Erase2Op::Snull(a, b) => {
                tree.mtree_store_range(a, b, None)
                    .map_err(|e| fail(i, op, e.to_string()))?;
                reference
                    .mtree_store_range(a, b, None)
                    .expect("valid range");
            }
            Erase2Op::Erase(a, _) => {
                let want = reference.mtree_erase(a);
                let got = tree.mtree_erase(a);
                if got != want || got != Some(a) {
                    return Err(fail(
                        i,
                        op,
                        format!("erase returned {got:?}, want {want:?}"),
                    ));
                }
            }
        }
        tree.validate().map_err(|e| fail(i, op, e.to_string()))?;
        if tree.count() != reference.count() {
            let (t, r) = (tree.count(), reference.count());
            return Err(fail(i, op, format!("{t} entries, reference has {r}")));
        }
        if tree.mtree_load(0).is_some() {
            return Err(fail(i, op, "index 0 is not empty".into()));
        }
    }
    if tree.entries() != reference.entries() {
        return Err(Erase2Error(format!("{}: final content differs", set.name)));
    }
    follow_up(set, &mut tree, &mut reference)?;
    Ok(set.ops.len())
}

/// The assertions `check_erase2_sets` makes after some sets, on both store and reference.
fn follow_up(
    set: &Erase2Set,
    tree: &mut MapleTree<u64>,
    reference: &mut RangeMap<u64>,
) -> Result<(), Erase2Error> {
    let err = |what: String| Erase2Error(format!("{}: follow-up check: {what}", set.name));
    if set.name == "set13" {
        let (t, r) = (
            tree.mtree_erase(140373516443648),
            reference.mtree_erase(140373516443648),
        );
        if t != r {
            return Err(err(format!("erase returned {t:?}, reference {r:?}")));
        }
        tree.validate().map_err(|e| err(e.to_string()))?;
    }
    let (tree, reference) = (&*tree, &*reference);
    let rev = |min: u64, max: u64, size: u64| -> Result<u64, Erase2Error> {
        let t = tree.mas_empty_area_rev(min, max, size);
        let r = reference.mas_empty_area_rev(min, max, size);
        if t != r {
            return Err(err(format!(
                "mas_empty_area_rev({min}, {max}, {size}) = {t:?}, reference {r:?}"
            )));
        }
        t.map(|(_, last)| last)
            .map_err(|e| err(format!("mas_empty_area_rev({min}, {max}, {size}) = {e}")))
    };
    let expect_last = |min, max, size, want: u64| -> Result<(), Erase2Error> {
        let got = rev(min, max, size)?;
        if got != want {
            return Err(err(format!(
                "mas_empty_area_rev({min}, {max}, {size}) ends at {got}, want {want}"
            )));
        }
        Ok(())
    };
    let expect_empty = |index: u64| -> Result<(), Erase2Error> {
        match (tree.mtree_load(index), reference.mtree_load(index)) {
            (None, None) => Ok(()),
            (t, r) => Err(err(format!(
                "load({index}) = {t:?} (reference {r:?}), want NULL"
            ))),
        }
    };
    match set.name.as_str() {
        "set02" => {
            let mut mas = MaState::new(140735933894656);
            let t = tree.mas_find(&mut mas, 140735933906943);
            if t.is_some() {
                return Err(err(format!("mas_find found {t:?}, want nothing")));
            }
        }
        "set11" => expect_last(12288, 140014592737280, 0x2000, 140014592573439)?,
        "set12" if tree.count() > 13 => {
            return Err(err(format!(
                "{} entries, at most 13 expected",
                tree.count()
            )));
        }
        "set13" => {
            rev(0, 140373518663680, 4096)?;
        }
        "set16" => expect_last(4096, 139921865637888, 0x6000, 139921865547775)?,
        "set17" => expect_last(4096, 139953197334528, 0x1000, 139953197322239)?,
        "set18" => expect_last(4096, 140222972858368, 2215936, 140222968475647)?,
        "set19" => {
            let mut mas = MaState::new(140656779083776);
            let e = tree.mas_find(&mut mas, u64::MAX);
            if e != Some(140656779083776) {
                return Err(err(format!("mas_find = {e:?}, want 140656779083776")));
            }
            let e = tree.mas_prev(&mut mas, 0);
            if e != Some(140656766251008) {
                return Err(err(format!("mas_prev = {e:?}, want 140656766251008")));
            }
        }
        "set20" => expect_empty(94849009414144)?,
        "set22" => {
            let (a, b) = (
                tree.mtree_load(140551363362816),
                tree.mtree_load(140551363420159),
            );
            if a == b {
                return Err(err(format!("entries at the two indices are equal ({a:?})")));
            }
        }
        "set26" => expect_last(4096, 140109042671616, 409600, 140109040959487)?,
        "set27" => expect_empty(140415537422336)?,
        "set28" => {
            let last = rev(4096, 139918413357056, 2097152)?;
            let start = (last + 1 - 2097152) & !2093056;
            if start != 139918401601536 {
                return Err(err(format!("aligned start {start}, want 139918401601536")));
            }
        }
        "set33" => expect_last(4096, 140583656296448, 134217728, 140583003750399)?,
        "set37" | "set38" => expect_empty(94637033459712)?,
        "set42" => expect_last(4096, 4052029440, 28672, 4041211903)?,
        _ => {}
    }
    Ok(())
}
