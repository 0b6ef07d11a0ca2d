//! The maple-store oracle: apply each operation to the store under test and to the reference,
//! compare every return value and the whole content, and run `mt_validate` after every op.

use std::fmt::{self, Write as _};

use mmfuzz::maple::{MaState, MapleError, MapleTree, ValidateError, Walk};
use mmfuzz::reference::RangeMap;

use super::ops::Op;

/// The store API both sides implement, so one `apply` drives either.
pub trait RangeStore {
    /// `mtree_store_range`.
    fn store_range(&mut self, first: u64, last: u64, e: Option<u32>) -> Result<(), MapleError>;
    /// `mtree_erase`.
    fn erase(&mut self, index: u64) -> Option<u32>;
    /// `mtree_load`.
    fn load(&self, index: u64) -> Option<u32>;
    /// `mas_walk`.
    fn walk(&self, index: u64) -> Walk<u32>;
    /// `mas_find`.
    fn find(&self, mas: &mut MaState, max: u64) -> Option<u32>;
    /// `mas_prev`.
    fn prev(&self, mas: &mut MaState, min: u64) -> Option<u32>;
    /// `mas_empty_area`.
    fn empty_area(&self, min: u64, max: u64, size: u64) -> Result<(u64, u64), MapleError>;
    /// `mas_empty_area_rev`.
    fn empty_area_rev(&self, min: u64, max: u64, size: u64) -> Result<(u64, u64), MapleError>;
    /// All entries in order.
    fn entries(&self) -> Vec<(u64, u64, u32)>;
    /// `__mt_destroy`.
    fn destroy(&mut self);
}

macro_rules! impl_range_store {
    ($t:ty) => {
        impl RangeStore for $t {
            fn store_range(&mut self, a: u64, b: u64, e: Option<u32>) -> Result<(), MapleError> {
                self.mtree_store_range(a, b, e)
            }
            fn erase(&mut self, index: u64) -> Option<u32> {
                self.mtree_erase(index)
            }
            fn load(&self, index: u64) -> Option<u32> {
                self.mtree_load(index)
            }
            fn walk(&self, index: u64) -> Walk<u32> {
                self.mas_walk(index)
            }
            fn find(&self, mas: &mut MaState, max: u64) -> Option<u32> {
                self.mas_find(mas, max)
            }
            fn prev(&self, mas: &mut MaState, min: u64) -> Option<u32> {
                self.mas_prev(mas, min)
            }
            fn empty_area(&self, a: u64, b: u64, size: u64) -> Result<(u64, u64), MapleError> {
                self.mas_empty_area(a, b, size)
            }
            fn empty_area_rev(&self, a: u64, b: u64, size: u64) -> Result<(u64, u64), MapleError> {
                self.mas_empty_area_rev(a, b, size)
            }
            fn entries(&self) -> Vec<(u64, u64, u32)> {
                <$t>::entries(self)
            }
            fn destroy(&mut self) {
                self.mt_destroy()
            }
        }
    };
}
impl_range_store!(MapleTree<u32>);
impl_range_store!(RangeMap<u32>);

/// What one operation returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A store or destroy.
    Done(Result<(), MapleError>),
    /// An entry or NULL.
    Entry(Option<u32>),
    /// A walk.
    Walk(Walk<u32>),
    /// Each cursor step: entry and the cursor's `[index, last]` after it.
    Cursor(Vec<(Option<u32>, u64, u64)>),
    /// An empty-area search.
    Area(Result<(u64, u64), MapleError>),
    /// A count.
    Count(usize),
}

/// Apply one operation.
pub fn apply<S: RangeStore>(s: &mut S, op: &Op) -> Outcome {
    match *op {
        Op::Store { first, last, entry } => Outcome::Done(s.store_range(first, last, entry)),
        Op::Erase { index } => Outcome::Entry(s.erase(index)),
        Op::Load { index } => Outcome::Entry(s.load(index)),
        Op::Walk { index } => Outcome::Walk(s.walk(index)),
        Op::Find { index, max, steps } => {
            let mut mas = MaState::new(index);
            let mut v = Vec::new();
            for _ in 0..steps {
                let e = s.find(&mut mas, max);
                v.push((e, mas.index, mas.last));
                if e.is_none() {
                    break;
                }
            }
            Outcome::Cursor(v)
        }
        Op::Prev { index, min, steps } => {
            let mut mas = MaState::new(index);
            let mut v = Vec::new();
            for _ in 0..steps {
                let e = s.prev(&mut mas, min);
                v.push((e, mas.index, mas.last));
                if e.is_none() {
                    break;
                }
            }
            Outcome::Cursor(v)
        }
        Op::EmptyArea { min, max, size } => Outcome::Area(s.empty_area(min, max, size)),
        Op::EmptyAreaRev { min, max, size } => Outcome::Area(s.empty_area_rev(min, max, size)),
        Op::Count => Outcome::Count(s.entries().len()),
        Op::Destroy => {
            s.destroy();
            Outcome::Done(Ok(()))
        }
    }
}

/// What went wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The store returned something the reference does not.
    Return {
        /// Reference result.
        expected: Outcome,
        /// Store result.
        actual: Outcome,
    },
    /// The store's content differs from the reference's after the op.
    Content {
        /// First differing entry on the reference side.
        expected: Option<(u64, u64, u32)>,
        /// First differing entry on the store side.
        actual: Option<(u64, u64, u32)>,
    },
    /// `mt_validate` failed after the op.
    Validate(ValidateError),
}

/// The first divergence of a case: where, what, and a picture of the ranges around it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// Index of the operation in the case.
    pub op_index: usize,
    /// The operation.
    pub op: Op,
    /// What went wrong.
    pub failure: Failure,
    /// The ranges around the operation, reference beside store.
    pub picture: String,
}

impl Divergence {
    /// A short name for the kind of failure (used in corpus names and summaries).
    pub fn kind(&self) -> &'static str {
        match self.failure {
            Failure::Return { .. } => "return-value",
            Failure::Content { .. } => "content",
            Failure::Validate(_) => "mt_validate",
        }
    }
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "maple_store: divergence at op #{}: {:?}",
            self.op_index, self.op
        )?;
        match &self.failure {
            Failure::Return { expected, actual } => {
                writeln!(f, "  expected (reference): {expected:?}")?;
                writeln!(f, "  actual   (store):     {actual:?}")?;
            }
            Failure::Content { expected, actual } => {
                writeln!(f, "  content differs after the op")?;
                writeln!(f, "  expected (reference): {}", fmt_entry(*expected))?;
                writeln!(f, "  actual   (store):     {}", fmt_entry(*actual))?;
            }
            Failure::Validate(e) => writeln!(f, "  {e}")?,
        }
        write!(f, "{}", self.picture)
    }
}

fn fmt_entry(e: Option<(u64, u64, u32)>) -> String {
    match e {
        Some((a, b, v)) => format!("[{a:#x}, {b:#x}] -> {v}"),
        None => "(none)".into(),
    }
}

/// Figures of one execution.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Operations applied.
    pub ops: usize,
    /// Tallest the store grew.
    pub max_height: usize,
    /// Most entries held at once.
    pub max_entries: usize,
}

/// How much checking to do after each op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// Return values, whole content and `mt_validate` after every op.
    Full,
    /// Return values and entry counts after every op, whole content and validate at the end.
    Light,
}

/// Run a case through the store and the reference. `Ok` with figures, or the first divergence.
pub fn execute(ops: &[Op]) -> Result<Stats, Box<Divergence>> {
    execute_with(ops, Check::Full)
}

/// [`execute`] with a choice of checking depth.
pub fn execute_with(ops: &[Op], check: Check) -> Result<Stats, Box<Divergence>> {
    let mut tree = MapleTree::<u32>::new();
    let mut reference = RangeMap::<u32>::new();
    let mut stats = Stats::default();
    for (i, op) in ops.iter().enumerate() {
        let expected = apply(&mut reference, op);
        let actual = apply(&mut tree, op);
        let fail = |failure| {
            Box::new(Divergence {
                op_index: i,
                op: op.clone(),
                failure,
                picture: picture(&reference, &tree, focus(op)),
            })
        };
        if expected != actual {
            return Err(fail(Failure::Return { expected, actual }));
        }
        let last = i + 1 == ops.len();
        if check == Check::Full || last {
            if let Err(e) = tree.validate() {
                return Err(fail(Failure::Validate(e)));
            }
            let (re, te) = (reference.entries(), tree.entries());
            if re != te {
                let k = re.iter().zip(&te).take_while(|(a, b)| a == b).count();
                return Err(fail(Failure::Content {
                    expected: re.get(k).copied(),
                    actual: te.get(k).copied(),
                }));
            }
        } else if reference.count() != tree.count() {
            return Err(fail(Failure::Content {
                expected: None,
                actual: None,
            }));
        }
        stats.ops += 1;
        stats.max_height = stats.max_height.max(tree.height());
        stats.max_entries = stats.max_entries.max(reference.count());
    }
    Ok(stats)
}

/// The index an operation is about.
pub fn focus(op: &Op) -> u64 {
    match *op {
        Op::Store { first, .. } => first,
        Op::Erase { index }
        | Op::Load { index }
        | Op::Walk { index }
        | Op::Find { index, .. }
        | Op::Prev { index, .. } => index,
        Op::EmptyArea { min, .. } | Op::EmptyAreaRev { min, .. } => min,
        Op::Count | Op::Destroy => 0,
    }
}

/// Ranges around `at`: up to four before and after, by walking.
fn ranges_around<S: RangeStore>(s: &S, at: u64) -> Vec<Walk<u32>> {
    let mut v = vec![s.walk(at)];
    for _ in 0..4 {
        let f = v[0].first;
        if f == 0 {
            break;
        }
        v.insert(0, s.walk(f - 1));
    }
    for _ in 0..4 {
        let l = v[v.len() - 1].last;
        if l == u64::MAX {
            break;
        }
        v.push(s.walk(l + 1));
    }
    v
}

fn fmt_walk(w: &Walk<u32>) -> String {
    let e = w
        .entry
        .map_or_else(|| "NULL".to_string(), |e| e.to_string());
    format!("[{:#x}, {:#x}] {e}", w.first, w.last)
}

/// One character per index from `w0`: `.` for NULL, a letter per entry (`a` + entry mod 26).
fn strip<S: RangeStore>(s: &S, w0: u64, width: u64) -> String {
    (0..width)
        .map(|k| match w0.checked_add(k).and_then(|i| s.load(i)) {
            None => '.',
            Some(e) => (b'a' + (e % 26) as u8) as char,
        })
        .collect()
}

/// The picture in a divergence report: a strip of 64 indices around `at` for both sides (in
/// the style of `tools/testing/vma`), then the ranges around `at`, reference beside store, with
/// `!` on the lines that differ.
pub fn picture(reference: &RangeMap<u32>, tree: &MapleTree<u32>, at: u64) -> String {
    let w0 = at.saturating_sub(16);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  indices {w0:#x}.. (one char each; '.' = NULL, letter = entry mod 26):"
    );
    let _ = writeln!(out, "    reference  {}", strip(reference, w0, 64));
    let _ = writeln!(out, "    store      {}", strip(tree, w0, 64));
    let _ = writeln!(
        out,
        "               {}^ {at:#x}",
        " ".repeat((at - w0) as usize)
    );
    let (r, t) = (ranges_around(reference, at), ranges_around(tree, at));
    let _ = writeln!(out, "  ranges around {at:#x}:");
    let _ = writeln!(out, "    {:<44}  store", "reference");
    for k in 0..r.len().max(t.len()) {
        let a = r.get(k).map(fmt_walk).unwrap_or_default();
        let b = t.get(k).map(fmt_walk).unwrap_or_default();
        let mark = if a == b { ' ' } else { '!' };
        let _ = writeln!(out, "  {mark} {a:<44}  {b}");
    }
    out
}
