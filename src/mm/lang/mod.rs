//! The path language: every version of every modelled kernel path, and every config, is a text
//! file in this format (`docs/path-language.md` describes it for users).
//!
//! ```text
//! path oom_reap_task_mm@v5.17
//!   kernel "v4.17..v6.x" commit 27ae357fa82b file "mm/oom_kill.c" function "oom_reap_task_mm"
//! {
//!   if !mmap_read_trylock { return false }
//!   if test_bit MMF_OOM_SKIP { mmap_read_unlock; return true }
//!   call __oom_reap_task_mm
//!   mmap_read_unlock
//! }
//!
//! config v5.17 {
//!   expect safe
//!   store list
//!   use exit_mmap@v5.17 oom_reap_task_mm@v5.17
//!   role exit oom_reaper mrelease
//! }
//! ```
//!
//! A statement is a step (one kernel primitive, [`Prim`]), a control form (`if`/`else`,
//! `for_each_vma`, `while`, `retry N`, `break`, `continue`, `return [VALUE]`, `call PATH`), a
//! local assignment (`let NAME = true|false`, `ret = VALUE`), or a declaration that a branch
//! direction is never taken (`unreachable "REASON"`, no code). Conditions are a primitive that
//! yields a truth value (itself a step) or a local (`vma`, `ret`, a `let` name), with an
//! optional `!`. Errors carry file, line and column.

use std::fmt;

use super::invariant::Invariant;
pub use super::prims::Prim;

mod parse;
pub use parse::parse;

/// A position in a source file (1-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Pos {
    /// Line.
    pub line: u32,
    /// Column.
    pub col: u32,
}

/// A parse or resolution error: file, line, column and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LangError {
    /// The file (or `<builtin>/NAME`).
    pub file: String,
    /// Where.
    pub pos: Pos,
    /// What.
    pub msg: String,
}

impl fmt::Display for LangError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.pos.line, self.pos.col, self.msg
        )
    }
}

impl std::error::Error for LangError {}

/// A value a path can return or assign to `ret`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    /// `true` (1).
    True,
    /// `false` / `0`.
    False,
    /// A negative errno.
    Errno(i32),
    /// The current value of `ret`.
    Ret,
}

/// Errno names the language accepts.
pub const ERRNOS: [(&str, i32); 6] = [
    ("-EBUSY", -16),
    ("-EINVAL", -22),
    ("-EAGAIN", -11),
    ("-ESRCH", -3),
    ("-EINTR", -4),
    ("-ENOMEM", -12),
];

/// A condition.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CondKind {
    /// A primitive evaluated as a step.
    Prim(Prim),
    /// The VMA cursor is not NULL (local, free).
    Vma,
    /// `ret` is non-zero (local, free).
    Ret,
    /// A `let` variable (local, free).
    Var(u8),
    /// The task cursor is not NULL (local, free).
    Task,
    /// `count` is non-zero (local, free).
    Count,
}

/// A condition with its negation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Cond {
    /// `!` in front.
    pub neg: bool,
    /// What is tested.
    pub kind: CondKind,
}

/// A statement.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Stmt {
    /// One step.
    Prim(Prim, Pos),
    /// `if c { } else { }`.
    If(Cond, Vec<Stmt>, Vec<Stmt>, Pos),
    /// `for_each_vma { }`: `vma_first`, then the body and `vma_next` while `vma`.
    ForEachVma(Vec<Stmt>, Pos),
    /// `for_each_task { }`: every other live task (`for_each_process_thread`).
    ForEachTask(Vec<Stmt>, Pos),
    /// `while c { }`.
    While(Cond, Vec<Stmt>, Pos),
    /// `retry N { }`: the body at most N times; `break` leaves early.
    Retry(u32, Vec<Stmt>, Pos),
    /// `break`.
    Break(Pos),
    /// `continue`.
    Continue(Pos),
    /// `return [v]`.
    Return(Option<Value>, Pos),
    /// `call NAME`.
    Call(String, Pos),
    /// `let NAME = b`.
    Let(u8, bool, Pos),
    /// `ret = v`.
    SetRet(Value, Pos),
    /// `unreachable [skip|exit] "REASON" [in CONFIG…]`: no code; a branch direction declared
    /// unreachable, for coverage reports.
    Unreachable(Unreachable, Pos),
}

/// Which direction an `unreachable` declares, relative to where it is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Toward {
    /// Into the enclosing block: an `if`'s true direction, an `else`'s false one, a loop's
    /// round.
    Into,
    /// `skip`: the enclosing loop is never entered (`for_each_*`, `while` on a local).
    Skip,
    /// `exit`: the enclosing loop ends by its condition (the cursor NULL, the condition false,
    /// `retry` exhausted).
    Exit,
}

/// A declaration that a branch direction is never taken.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Unreachable {
    /// Which direction.
    pub toward: Toward,
    /// Why.
    pub reason: String,
    /// The configs it holds in (`in v4.7-rc v4.7`); empty: every config using the path.
    pub configs: Vec<String>,
}

/// Source metadata of a path version or config.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Meta {
    /// Kernel version(s) (`kernel "v6.1"`).
    pub kernel: String,
    /// Commit id (`commit 27ae357fa82b`).
    pub commit: String,
    /// Source file (`file "mm/mmap.c"`).
    pub file: String,
    /// Kernel function (`function "exit_mmap"`).
    pub function: String,
    /// Free text (`note "..."`).
    pub note: String,
    /// The kernel text this version was checked against: tree and `file:line`
    /// (`source "v6.1-rc7 mm/mmap.c:3068-3126"`); `docs/kernel-sources.md` names the trees.
    pub source: String,
}

/// One version of one path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PathDef {
    /// Path name (the kernel function), e.g. `exit_mmap`.
    pub name: String,
    /// Version label, e.g. `v6.1`.
    pub version: String,
    /// Where it comes from.
    pub meta: Meta,
    /// The body.
    pub body: Vec<Stmt>,
    /// `let` variable names, by index.
    pub vars: Vec<String>,
    /// File and position, for errors.
    pub origin: (String, Pos),
    /// The source text of the whole `path` item.
    pub text: String,
}

/// Expected verdict of a config.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Expect {
    /// Some scenario breaks one of the named invariants (`bug I4/I5`).
    Bug(Vec<Invariant>),
    /// A proxy invariant breaks (`latent I4`) and no role of the config reaches a harm from
    /// it: a defect waiting for a reader.
    Latent(Vec<Invariant>),
    /// No violation within bounds.
    Safe,
    /// The model cannot decide; the harness reports what it finds.
    Unknown,
}

/// Which `freezing_slow_path` a config runs (`kernel/freezer.c`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Freezing {
    /// v4.7-rc3 and v4.7.4 (`kernel/freezer.c:45`, `test_thread_flag(TIF_MEMDIE)`): tests
    /// `current`'s `TIF_MEMDIE`, whatever task it is asked about (B15).
    CurrentMemdie,
    /// v4.9 .. v6.17 (`test_tsk_thread_flag(p, TIF_MEMDIE)`, v4.9 `kernel/freezer.c:45`): tests
    /// the task's own `TIF_MEMDIE`.
    TaskMemdie,
    /// v6.18: tests `tsk_is_oom_victim(p)`.
    OomVictim,
}

/// Which structure readers walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VmaStore {
    /// The `mm->mmap` linked list (≤ v6.0).
    List,
    /// The maple tree `mm->mm_mt` (≥ v6.1).
    Maple,
}

/// A config: path versions that were in one tree at once.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ConfigDef {
    /// Name, e.g. `v5.17-rc3`.
    pub name: String,
    /// Where it comes from.
    pub meta: Meta,
    /// Expected verdict.
    pub expect: Expect,
    /// The VMA structure readers walk.
    pub store: VmaStore,
    /// `name@version` choices.
    pub uses: Vec<(String, String, Pos)>,
    /// Thread roles scenarios may start; a role listed k times runs in up to k threads.
    pub roles: Vec<String>,
    /// The `freezing_slow_path` version (`freezer v4.7|v4.9|v6.1|v6.18`).
    pub freezer: Freezing,
    /// The freezer core of f5d39b020809 (`freezer v6.1`, `freezer v6.18`): `frozen(p)` is
    /// `p->__state & TASK_FROZEN`, and `freeze_task` freezes a `TASK_FREEZABLE` sleeper where it
    /// sleeps (`__freeze_task`, saving its state for `__thaw_task`). Before v6.1: `PF_FROZEN`,
    /// set under `freezer_lock` in `__refrigerator` only.
    pub task_frozen: bool,
    /// `check I12s`: also check the strict barrier (`kernel-paths.md` §4): from
    /// `freeze_processes()` returning 0 until `freeze_kernel_threads()` starts its round, no
    /// user task but the suspending one runs at all.
    pub strict: bool,
    /// `rwsem steal`: a reader may take an unowned `mmap_lock` past queued waiters (reader
    /// optimistic lock stealing, `kernel/locking/rwsem.c`: in v5.15.24 at :956, not in
    /// v4.19.1); `rwsem fifo` (default): a queued writer blocks new readers.
    pub rwsem_steal: bool,
    /// File and position.
    pub origin: (String, Pos),
    /// The source text of the whole `config` item.
    pub text: String,
}

/// Everything in one file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Unit {
    /// Path versions.
    pub paths: Vec<PathDef>,
    /// Configs.
    pub configs: Vec<ConfigDef>,
}
