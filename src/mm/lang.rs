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
//! `for_each_vma`, `while`, `retry N`, `break`, `continue`, `return [VALUE]`, `call PATH`), or a
//! local assignment (`let NAME = true|false`, `ret = VALUE`). Conditions are a primitive that
//! yields a truth value (itself a step) or a local (`vma`, `ret`, a `let` name), with an
//! optional `!`. Errors carry file, line and column.

use std::fmt;

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

/// `mm->flags` bits the model knows (`include/linux/sched/coredump.h`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum MmFlag {
    /// `MMF_OOM_SKIP`: the OOM killer and reaper ignore this mm.
    MMF_OOM_SKIP,
    /// `MMF_UNSTABLE`: the reaper has started zapping; page faults may see zeroed pages.
    MMF_UNSTABLE,
    /// `MMF_OOM_VICTIM` (v4.15–v5.19): set by `mark_oom_victim`, never cleared.
    MMF_OOM_VICTIM,
    /// `MMF_OOM_REAP_QUEUED`: the mm has been queued for the reaper.
    MMF_OOM_REAP_QUEUED,
}

impl MmFlag {
    /// All flags, in bit order.
    pub const ALL: [MmFlag; 4] = [
        MmFlag::MMF_OOM_SKIP,
        MmFlag::MMF_UNSTABLE,
        MmFlag::MMF_OOM_VICTIM,
        MmFlag::MMF_OOM_REAP_QUEUED,
    ];
    /// The flag's bit in [`crate::mm::Mm::flags`].
    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }
    /// The kernel's name.
    pub fn name(self) -> &'static str {
        match self {
            MmFlag::MMF_OOM_SKIP => "MMF_OOM_SKIP",
            MmFlag::MMF_UNSTABLE => "MMF_UNSTABLE",
            MmFlag::MMF_OOM_VICTIM => "MMF_OOM_VICTIM",
            MmFlag::MMF_OOM_REAP_QUEUED => "MMF_OOM_REAP_QUEUED",
        }
    }
    fn parse(s: &str) -> Option<MmFlag> {
        MmFlag::ALL.into_iter().find(|f| f.name() == s)
    }
}

/// `vm_flags` bits the model knows.
pub mod vm {
    /// `VM_SHARED`.
    pub const VM_SHARED: u8 = 1 << 0;
    /// `VM_LOCKED` (mlock).
    pub const VM_LOCKED: u8 = 1 << 1;
    /// `VM_ACCOUNT` (counted in `vm_committed_as`).
    pub const VM_ACCOUNT: u8 = 1 << 2;
    /// `VM_HUGETLB`.
    pub const VM_HUGETLB: u8 = 1 << 3;
    /// `VM_PFNMAP`.
    pub const VM_PFNMAP: u8 = 1 << 4;
    /// Names, for parsing and printing.
    pub const NAMES: [(&str, u8); 5] = [
        ("VM_SHARED", VM_SHARED),
        ("VM_LOCKED", VM_LOCKED),
        ("VM_ACCOUNT", VM_ACCOUNT),
        ("VM_HUGETLB", VM_HUGETLB),
        ("VM_PFNMAP", VM_PFNMAP),
    ];
    /// `VM_A|VM_B` for a flag set.
    pub fn show(flags: u8) -> String {
        let v: Vec<&str> = NAMES
            .iter()
            .filter(|(_, b)| flags & b != 0)
            .map(|(n, _)| *n)
            .collect();
        if v.is_empty() {
            "0".into()
        } else {
            v.join("|")
        }
    }
}

/// Global flags of the freezer and the OOM killer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(non_camel_case_types)]
pub enum Global {
    /// `pm_freezing`.
    pm_freezing,
    /// `pm_nosig_freezing`.
    pm_nosig_freezing,
    /// `oom_killer_disabled`.
    oom_killer_disabled,
}

impl Global {
    fn parse(s: &str) -> Option<Global> {
        Some(match s {
            "pm_freezing" => Global::pm_freezing,
            "pm_nosig_freezing" => Global::pm_nosig_freezing,
            "oom_killer_disabled" => Global::oom_killer_disabled,
            _ => return None,
        })
    }
}

/// Global locks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GlobalLock {
    /// `oom_lock` (mutex, `mm/oom_kill.c`).
    OomLock,
    /// `oom_reaper_lock` (spinlock).
    OomReaperLock,
    /// `freezer_lock` (spinlock, `kernel/freezer.c`).
    FreezerLock,
    /// `inode->i_rwsem` of a file the victim shares with another task (a sleeping lock, taken
    /// for write; `include/linux/fs.h`).
    IRwsem,
}

impl GlobalLock {
    /// The kernel's name.
    pub fn name(self) -> &'static str {
        match self {
            GlobalLock::OomLock => "oom_lock",
            GlobalLock::OomReaperLock => "oom_reaper_lock",
            GlobalLock::FreezerLock => "freezer_lock",
            GlobalLock::IRwsem => "i_rwsem",
        }
    }
}

/// Kernel primitives: each is one atomic step of the model. Names are the kernel's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(non_camel_case_types)]
pub enum Prim {
    // mmap_lock (include/linux/mmap_lock.h)
    /// `mmap_read_lock(mm)`.
    mmap_read_lock,
    /// `mmap_read_trylock(mm)` — condition: acquired.
    mmap_read_trylock,
    /// `mmap_read_lock_killable(mm)` — condition: acquired (the model sends no fatal signal).
    mmap_read_lock_killable,
    /// `mmap_read_unlock(mm)`.
    mmap_read_unlock,
    /// `mmap_write_lock(mm)`.
    mmap_write_lock,
    /// `mmap_write_unlock(mm)`.
    mmap_write_unlock,
    /// `mutex_lock(LOCK)`.
    mutex_lock(GlobalLock),
    /// `mutex_unlock(LOCK)`.
    mutex_unlock(GlobalLock),
    /// `spin_lock(LOCK)`.
    spin_lock(GlobalLock),
    /// `spin_unlock(LOCK)`.
    spin_unlock(GlobalLock),
    // tasks (kernel/exit.c, mm/oom_kill.c)
    /// `find_lock_task_mm(victim)` — condition: the victim still has an mm; then holds task_lock.
    find_lock_task_mm,
    /// `task_lock(victim)`.
    task_lock,
    /// `task_unlock(victim)`.
    task_unlock,
    /// `get_task_mm(victim)` — condition: got a pinned mm (task_lock, mmget, task_unlock).
    get_task_mm,
    /// `current->mm = NULL` in `exit_mm` (under task_lock).
    clear_task_mm,
    /// `task_will_free_mem(victim)` — condition: the whole process is exiting (fatal signal)
    /// and its mm is not `MMF_OOM_SKIP` yet.
    task_will_free_mem,
    /// `tsk_is_oom_victim(current)` — condition.
    tsk_is_oom_victim,
    /// `get_task_struct(victim)`.
    get_task_struct,
    /// `put_task_struct(victim)`.
    put_task_struct,
    /// `select_bad_process` — condition: the victim is eligible (no OOM victim in progress).
    select_bad_process,
    /// `mark_oom_victim(victim)` and the SIGKILL of `oom_kill_process`.
    mark_oom_victim,
    /// `mutex_trylock(&oom_lock)` — condition: acquired.
    mutex_trylock_oom_lock,
    /// Push the victim on `oom_reaper_list` (caller holds `oom_reaper_lock`).
    oom_reaper_list_push,
    /// Pop the head of `oom_reaper_list` (caller holds `oom_reaper_lock`) — condition: popped.
    oom_reaper_list_pop,
    /// `wake_up(&oom_reaper_wait)`.
    wake_up_oom_reaper,
    /// `wait_event_freezable(oom_reaper_wait, oom_reaper_list != NULL)`.
    wait_oom_reaper_list,
    /// `oom_reaper_list == NULL` — condition.
    oom_reaper_list_empty,
    /// `tsk == oom_reaper_list || tsk->oom_reaper_list` — condition: the victim is queued
    /// (the v4.7..v4.19 guard of `wake_oom_reaper`).
    oom_reaper_queued,
    /// Sleep `TASK_INTERRUPTIBLE` on `oom_reaper_wait` until a wakeup (real or fake signal).
    sleep_oom_reaper_wait,
    // the freezer (kernel/freezer.c, kernel/power/process.c, mm/oom_kill.c)
    /// `current->flags |= PF_…`.
    set_pf(u8),
    /// `current->flags &= ~PF_…`.
    clear_pf(u8),
    /// Set a global (`pm_freezing`, `pm_nosig_freezing`, `oom_killer_disabled`).
    set_global(Global),
    /// Clear a global.
    clear_global(Global),
    /// Test a global — condition.
    test_global(Global),
    /// `atomic_inc(&system_freezing_cnt)` (`static_branch_inc(&freezer_active)` today).
    system_freezing_cnt_inc,
    /// `atomic_dec(&system_freezing_cnt)`.
    system_freezing_cnt_dec,
    /// `freezing(current)` — condition; the slow path is the config's `freezer` version.
    freezing_current,
    /// `frozen(current)` — condition.
    frozen_current,
    /// In `__refrigerator`: mark current frozen (`PF_FROZEN` / `TASK_FROZEN`).
    set_frozen,
    /// In `__refrigerator`: current is not to freeze after all.
    clear_frozen,
    /// `schedule()` in `__refrigerator`: sleep until thawed.
    schedule_frozen,
    /// `for_each_process_thread` cursor: the first other task (`for_each_task`).
    task_first,
    /// The next other task.
    task_next,
    /// `freeze_task(p)` — condition: p still has to freeze (a wakeup was sent).
    freeze_task,
    /// `__thaw_task(p)`.
    thaw_task,
    /// `__thaw_task(victim)` from `mark_oom_victim` (<= v6.17).
    thaw_victim,
    /// `thaw_process(victim)`: every thread of the victim (v6.18).
    thaw_process_victim,
    /// `count = 0`.
    count_reset,
    /// `msleep()` between freezing rounds (`TASK_UNINTERRUPTIBLE`: no signal wakes it).
    msleep,
    /// `wait_event(oom_victims_wait, !atomic_read(&oom_victims))` (v4.7, no timeout).
    wait_oom_victims_zero,
    /// `wait_event_interruptible_timeout(oom_victims_wait, …)` — condition: not timed out.
    wait_oom_victims_zero_timeout,
    /// `exit_oom_victim()`: clear the victim's `TIF_MEMDIE`; the last one wakes `oom_victims_wait`.
    exit_oom_victim,
    /// `test_thread_flag(TIF_MEMDIE)` of current — condition.
    test_memdie_current,
    /// `fatal_signal_pending(current)` — condition.
    fatal_signal_pending,
    /// A user task's I/O (a syscall that touches a device or the disk).
    do_io,
    /// `exit_files(tsk)` in `do_exit` (after `exit_mm`): the last `fput` of a file may flush it
    /// (I/O).
    exit_files,
    /// `freeze_processes()` has returned 0 to `suspend_freeze_processes()`: from here the
    /// caller relies on user space being frozen (the I12 window opens; with `check I12s` the
    /// strict window too, until `freeze_kernel_threads()` starts its round). A marker: no
    /// kernel code of its own.
    user_space_frozen,
    /// `suspend_devices_and_enter()`: devices go down (no modelled effect).
    suspend_devices,
    /// Resume from the suspended state (no modelled effect).
    resume_devices,
    /// `mm_has_notifiers(mm)` — condition; the model's mm has no MMU notifiers (false).
    mm_has_notifiers,
    // mm refcounts (kernel/fork.c)
    /// `mmget_not_zero(mm)` — condition: pinned.
    mmget_not_zero,
    /// `mmget(mm)` / `atomic_inc(&mm->mm_users)`: pin an mm known to have users.
    mmget,
    /// `atomic_dec_and_test(&mm->mm_users)` in `mmput` — condition: this was the last user.
    mm_users_dec_and_test,
    /// `mmgrab(mm)`.
    mmgrab,
    /// `mmdrop(mm)` (frees the mm_struct when `mm_count` reaches 0).
    mmdrop,
    // mm->flags
    /// `set_bit(FLAG, &mm->flags)`.
    set_bit(MmFlag),
    /// `clear_bit(FLAG, &mm->flags)`.
    clear_bit(MmFlag),
    /// `test_bit(FLAG, &mm->flags)` — condition.
    test_bit(MmFlag),
    /// `test_and_set_bit(FLAG, &mm->flags)` — condition: it was set.
    test_and_set_bit(MmFlag),
    /// `mm->locked_vm != 0` — condition.
    locked_vm,
    // the VMA walk
    /// `vma = mm->mmap` (list) or `vma = mas_find(&mas, ULONG_MAX)` from 0 (maple).
    vma_first,
    /// `vma = vma->vm_next` (list: reads the VMA) or `mas_find` onwards (maple: reads the tree).
    vma_next,
    /// `vma->vm_flags & (FLAGS)` — condition.
    vma_test(u8),
    /// `vma_is_anonymous(vma) || !(vma->vm_flags & VM_SHARED)` — condition.
    vma_is_anon_or_private,
    /// `unmap_single_vma` from `unmap_vmas`: zap every PTE of the VMA (under its PT lock).
    unmap_single_vma,
    /// `unmap_page_range` from the reaper: zap the VMA's PTEs (under its PT lock).
    unmap_page_range,
    /// `free_pgtables` for this VMA: free its page-table pages.
    free_pgtables,
    /// `if (vma->vm_flags & VM_ACCOUNT) nr_accounted += vma_pages(vma)`.
    acct_vma,
    /// `remove_vma(vma)` (maple era): close, fput, free; the cursor stays (use `vma_next`).
    remove_vma,
    /// `vma = remove_vma(vma)` (list era): read `vm_next`, then free the VMA.
    remove_vma_next,
    /// `munlock_vma_pages_all` part 1 (`munlock_vma_pages_range`): clear `VM_LOCKED`, drop `locked_vm`.
    munlock_vma,
    /// `munlock_vma_pages_all` part 2: `follow_page_mask` over the VMA's PTEs (lock-free walk).
    munlock_vma_pages,
    /// `arch_exit_mmap(mm)`: free arch-only page tables (LDT), which no VMA reaches.
    arch_exit_mmap,
    /// `mm->mmap = NULL` (f798a1d4f94d).
    mm_mmap_clear,
    /// `__mt_destroy(&mm->mm_mt)`.
    mt_destroy,
    /// `count++` in the maple-era remove loop.
    count_inc,
    /// `BUG_ON(count != mm->map_count)`.
    bug_on_map_count,
    /// `vm_unacct_memory(nr_accounted)`.
    vm_unacct_memory,
    /// A step with no modelled effect (`mmu_notifier_release`, `lru_add_drain`,
    /// `tlb_gather_mmu`, `tlb_finish_mmu`, `schedule_timeout_idle`, …): kept so traces read like
    /// the source and so that other threads may run between the neighbouring steps.
    nop(Nop),
}

/// Steps with no modelled effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(non_camel_case_types)]
pub enum Nop {
    /// `mmu_notifier_release(mm)`.
    mmu_notifier_release,
    /// `lru_add_drain()`.
    lru_add_drain,
    /// `flush_cache_mm(mm)`.
    flush_cache_mm,
    /// `tlb_gather_mmu[_fullmm]`.
    tlb_gather_mmu,
    /// `tlb_finish_mmu`.
    tlb_finish_mmu,
    /// `trace_exit_mmap(mm)`.
    trace_exit_mmap,
    /// `mt_clear_in_rcu(&mm->mm_mt)`.
    mt_clear_in_rcu,
    /// `schedule_timeout_idle(HZ/10)` between reaper attempts.
    schedule_timeout_idle,
    /// `cond_resched()`.
    cond_resched,
    /// `mmu_notifier_invalidate_range_start_nonblock` (never fails in the model).
    mmu_notifier_invalidate_range_start,
    /// `mmu_notifier_invalidate_range_end`.
    mmu_notifier_invalidate_range_end,
    /// `exit_fs(tsk)` in `do_exit`.
    exit_fs,
    /// `exit_notify(tsk, group_dead)` in `do_exit`.
    exit_notify,
    /// `exit_signals(tsk)` in `do_exit`: `PF_EXITING`.
    exit_signals,
}

const NOPS: [(&str, Nop); 14] = [
    ("exit_fs", Nop::exit_fs),
    ("exit_notify", Nop::exit_notify),
    ("exit_signals", Nop::exit_signals),
    ("mmu_notifier_release", Nop::mmu_notifier_release),
    ("lru_add_drain", Nop::lru_add_drain),
    ("flush_cache_mm", Nop::flush_cache_mm),
    ("tlb_gather_mmu", Nop::tlb_gather_mmu),
    ("tlb_finish_mmu", Nop::tlb_finish_mmu),
    ("trace_exit_mmap", Nop::trace_exit_mmap),
    ("mt_clear_in_rcu", Nop::mt_clear_in_rcu),
    ("schedule_timeout_idle", Nop::schedule_timeout_idle),
    ("cond_resched", Nop::cond_resched),
    (
        "mmu_notifier_invalidate_range_start",
        Nop::mmu_notifier_invalidate_range_start,
    ),
    (
        "mmu_notifier_invalidate_range_end",
        Nop::mmu_notifier_invalidate_range_end,
    ),
];

impl Prim {
    /// Whether the primitive yields a truth value (may stand in an `if`/`while`).
    pub fn is_cond(self) -> bool {
        use Prim::*;
        matches!(
            self,
            mmap_read_trylock
                | mmap_read_lock_killable
                | find_lock_task_mm
                | get_task_mm
                | task_will_free_mem
                | tsk_is_oom_victim
                | mmget_not_zero
                | select_bad_process
                | mutex_trylock_oom_lock
                | oom_reaper_list_pop
                | oom_reaper_list_empty
                | oom_reaper_queued
                | test_global(_)
                | freezing_current
                | frozen_current
                | freeze_task
                | wait_oom_victims_zero_timeout
                | test_memdie_current
                | fatal_signal_pending
                | mm_has_notifiers
                | mm_users_dec_and_test
                | test_bit(_)
                | test_and_set_bit(_)
                | locked_vm
                | vma_test(_)
                | vma_is_anon_or_private
        )
    }

    /// The kernel name, as written in path files.
    pub fn name(self) -> String {
        use Prim::*;
        match self {
            mutex_lock(l) => format!("mutex_lock {}", l.name()),
            mutex_unlock(l) => format!("mutex_unlock {}", l.name()),
            spin_lock(l) => format!("spin_lock {}", l.name()),
            spin_unlock(l) => format!("spin_unlock {}", l.name()),
            set_bit(f) => format!("set_bit {}", f.name()),
            clear_bit(f) => format!("clear_bit {}", f.name()),
            test_bit(f) => format!("test_bit {}", f.name()),
            test_and_set_bit(f) => format!("test_and_set_bit {}", f.name()),
            vma_test(fl) => format!("vma_test {}", vm::show(fl)),
            set_pf(b) => format!("set_pf {}", show_pf(b)),
            clear_pf(b) => format!("clear_pf {}", show_pf(b)),
            set_global(g) => format!("set_global {g:?}"),
            clear_global(g) => format!("clear_global {g:?}"),
            test_global(g) => format!("test_global {g:?}"),
            nop(n) => NOPS
                .iter()
                .find(|(_, x)| *x == n)
                .map(|(s, _)| s.to_string())
                .unwrap_or_default(),
            other => {
                let d = format!("{other:?}");
                d
            }
        }
    }
}

fn show_pf(b: u8) -> String {
    let v: Vec<&str> = super::state::pf::NAMES
        .iter()
        .filter(|(_, x)| b & x != 0)
        .map(|(n, _)| *n)
        .collect();
    v.join("|")
}

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
    /// Some scenario breaks the named invariant.
    Bug(String),
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
    /// Thread roles scenarios may start.
    pub roles: Vec<String>,
    /// The `freezing_slow_path` version (`freezer v4.7|v4.9|v6.18`).
    pub freezer: Freezing,
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

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Open,
    Close,
    Bang,
    Eq,
    Semi,
    Newline,
}

struct Lexer<'a> {
    file: &'a str,
    toks: Vec<(Tok, Pos)>,
    at: usize,
}

fn lex(file: &str, text: &str) -> Result<Vec<(Tok, Pos)>, LangError> {
    let mut toks = Vec::new();
    for (ln, line) in text.lines().enumerate() {
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let pos = Pos {
                line: ln as u32 + 1,
                col: i as u32 + 1,
            };
            match c {
                '#' => break,
                ' ' | '\t' | '\r' => i += 1,
                '{' => {
                    toks.push((Tok::Open, pos));
                    i += 1
                }
                '}' => {
                    toks.push((Tok::Close, pos));
                    i += 1
                }
                '!' => {
                    toks.push((Tok::Bang, pos));
                    i += 1
                }
                '=' => {
                    toks.push((Tok::Eq, pos));
                    i += 1
                }
                ';' => {
                    toks.push((Tok::Semi, pos));
                    i += 1
                }
                '"' => {
                    let start = i + 1;
                    let Some(end) = chars[start..].iter().position(|&c| c == '"') else {
                        return Err(LangError {
                            file: file.into(),
                            pos,
                            msg: "unterminated string".into(),
                        });
                    };
                    toks.push((Tok::Str(chars[start..start + end].iter().collect()), pos));
                    i = start + end + 1;
                }
                c if c.is_ascii_alphanumeric() || "_@.-|+/".contains(c) => {
                    let start = i;
                    while i < chars.len()
                        && (chars[i].is_ascii_alphanumeric() || "_@.-|+/".contains(chars[i]))
                    {
                        i += 1;
                    }
                    toks.push((Tok::Word(chars[start..i].iter().collect()), pos));
                }
                other => {
                    return Err(LangError {
                        file: file.into(),
                        pos,
                        msg: format!("unexpected character {other:?}"),
                    })
                }
            }
        }
        toks.push((
            Tok::Newline,
            Pos {
                line: ln as u32 + 1,
                col: chars.len() as u32 + 1,
            },
        ));
    }
    Ok(toks)
}

fn item_text(text: &str, from: Pos, to_line: u32) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let a = (from.line as usize).saturating_sub(1);
    let b = (to_line as usize).min(lines.len());
    lines[a..b].join("\n")
}

/// The source of a resolved program: its config, then every path version it uses.
pub fn print_program(prog: &super::program::Program) -> String {
    let mut out = prog.config.text.clone();
    out.push('\n');
    for p in &prog.paths {
        out.push('\n');
        out.push_str(&p.text);
        out.push('\n');
    }
    out
}

impl Lexer<'_> {
    /// Line of the token just consumed.
    fn last_line(&self) -> u32 {
        self.toks
            .get(self.at.saturating_sub(1))
            .map_or(0, |t| t.1.line)
    }

    fn err(&self, pos: Pos, msg: impl Into<String>) -> LangError {
        LangError {
            file: self.file.into(),
            pos,
            msg: msg.into(),
        }
    }
    fn pos(&self) -> Pos {
        self.toks
            .get(self.at)
            .or(self.toks.last())
            .map_or(Pos::default(), |t| t.1)
    }
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|t| &t.0)
    }
    fn skip_nl(&mut self) {
        while matches!(self.peek(), Some(Tok::Newline | Tok::Semi)) {
            self.at += 1;
        }
    }
    fn word(&mut self, what: &str) -> Result<(String, Pos), LangError> {
        let pos = self.pos();
        match self.toks.get(self.at) {
            Some((Tok::Word(w), p)) => {
                let r = (w.clone(), *p);
                self.at += 1;
                Ok(r)
            }
            _ => Err(self.err(pos, format!("expected {what}"))),
        }
    }
    fn string(&mut self, what: &str) -> Result<String, LangError> {
        let pos = self.pos();
        match self.toks.get(self.at) {
            Some((Tok::Str(s), _)) => {
                let r = s.clone();
                self.at += 1;
                Ok(r)
            }
            Some((Tok::Word(w), _)) => {
                let r = w.clone();
                self.at += 1;
                Ok(r)
            }
            _ => Err(self.err(pos, format!("expected {what}"))),
        }
    }
    fn expect(&mut self, t: Tok, what: &str) -> Result<(), LangError> {
        self.skip_nl_if(&t);
        let pos = self.pos();
        if self.peek() == Some(&t) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.err(pos, format!("expected {what}")))
        }
    }
    fn skip_nl_if(&mut self, t: &Tok) {
        if *t == Tok::Open || *t == Tok::Close {
            self.skip_nl();
        }
    }
    fn end_of_stmt(&mut self) -> Result<(), LangError> {
        match self.peek() {
            Some(Tok::Newline | Tok::Semi) => {
                self.at += 1;
                Ok(())
            }
            Some(Tok::Close) | None => Ok(()),
            _ => Err(self.err(self.pos(), "expected the end of the statement")),
        }
    }
}

/// Parse one primitive (name and argument) from words.
fn parse_prim(lx: &mut Lexer<'_>, name: &str, pos: Pos) -> Result<Prim, LangError> {
    use Prim::*;
    let lock_arg = |lx: &mut Lexer<'_>| -> Result<GlobalLock, LangError> {
        let (w, p) = lx.word("a lock (oom_lock, oom_reaper_lock, freezer_lock, i_rwsem)")?;
        match w.as_str() {
            "oom_lock" => Ok(GlobalLock::OomLock),
            "oom_reaper_lock" => Ok(GlobalLock::OomReaperLock),
            "freezer_lock" => Ok(GlobalLock::FreezerLock),
            "i_rwsem" => Ok(GlobalLock::IRwsem),
            _ => Err(lx.err(
                p,
                format!("unknown lock {w:?} (oom_lock, oom_reaper_lock, freezer_lock, i_rwsem)"),
            )),
        }
    };
    let flag_arg = |lx: &mut Lexer<'_>| -> Result<MmFlag, LangError> {
        let (w, p) = lx.word("an mm flag")?;
        MmFlag::parse(&w).ok_or_else(|| {
            let all: Vec<&str> = MmFlag::ALL.iter().map(|f| f.name()).collect();
            lx.err(p, format!("unknown mm flag {w:?} ({})", all.join(", ")))
        })
    };
    Ok(match name {
        "mmap_read_lock" => mmap_read_lock,
        "mmap_read_trylock" => mmap_read_trylock,
        "mmap_read_lock_killable" => mmap_read_lock_killable,
        "mmap_read_unlock" => mmap_read_unlock,
        "mmap_write_lock" => mmap_write_lock,
        "mmap_write_unlock" => mmap_write_unlock,
        "mutex_lock" => mutex_lock(lock_arg(lx)?),
        "mutex_unlock" => mutex_unlock(lock_arg(lx)?),
        "spin_lock" => spin_lock(lock_arg(lx)?),
        "spin_unlock" => spin_unlock(lock_arg(lx)?),
        "find_lock_task_mm" => find_lock_task_mm,
        "task_lock" => task_lock,
        "task_unlock" => task_unlock,
        "get_task_mm" => get_task_mm,
        "clear_task_mm" => clear_task_mm,
        "task_will_free_mem" => task_will_free_mem,
        "tsk_is_oom_victim" => tsk_is_oom_victim,
        "get_task_struct" => get_task_struct,
        "put_task_struct" => put_task_struct,
        "select_bad_process" => select_bad_process,
        "mark_oom_victim" => mark_oom_victim,
        "mutex_trylock_oom_lock" => mutex_trylock_oom_lock,
        "oom_reaper_list_push" => oom_reaper_list_push,
        "oom_reaper_list_pop" => oom_reaper_list_pop,
        "wake_up_oom_reaper" => wake_up_oom_reaper,
        "wait_oom_reaper_list" => wait_oom_reaper_list,
        "oom_reaper_list_empty" => oom_reaper_list_empty,
        "sleep_oom_reaper_wait" => sleep_oom_reaper_wait,
        "set_pf" | "clear_pf" => {
            let (w, p) = lx.word("PF_ flags, e.g. PF_SUSPEND_TASK")?;
            let mut bits = 0;
            for part in w.split('|') {
                let Some((_, b)) = super::state::pf::NAMES.iter().find(|(n, _)| *n == part) else {
                    return Err(lx.err(p, format!("unknown PF flag {part:?}")));
                };
                bits |= b;
            }
            if name == "set_pf" {
                set_pf(bits)
            } else {
                clear_pf(bits)
            }
        }
        "freezer_do_not_count" => set_pf(super::state::pf::PF_FREEZER_SKIP),
        "freezer_count" => clear_pf(super::state::pf::PF_FREEZER_SKIP),
        "set_global" | "clear_global" | "test_global" => {
            let (w, p) = lx.word("pm_freezing, pm_nosig_freezing or oom_killer_disabled")?;
            let g = Global::parse(&w).ok_or_else(|| {
                lx.err(p, format!("unknown global {w:?} (pm_freezing, pm_nosig_freezing, oom_killer_disabled)"))
            })?;
            match name {
                "set_global" => set_global(g),
                "clear_global" => clear_global(g),
                _ => test_global(g),
            }
        }
        "system_freezing_cnt_inc" => system_freezing_cnt_inc,
        "system_freezing_cnt_dec" => system_freezing_cnt_dec,
        "freezing_current" => freezing_current,
        "frozen_current" => frozen_current,
        "set_frozen" => set_frozen,
        "clear_frozen" => clear_frozen,
        "schedule_frozen" => schedule_frozen,
        "task_first" => task_first,
        "task_next" => task_next,
        "freeze_task" => freeze_task,
        "thaw_task" => thaw_task,
        "thaw_victim" => thaw_victim,
        "thaw_process_victim" => thaw_process_victim,
        "count_reset" => count_reset,
        "msleep" => msleep,
        "wait_oom_victims_zero" => wait_oom_victims_zero,
        "wait_oom_victims_zero_timeout" => wait_oom_victims_zero_timeout,
        "exit_oom_victim" => exit_oom_victim,
        "test_memdie_current" => test_memdie_current,
        "fatal_signal_pending" => fatal_signal_pending,
        "do_io" => do_io,
        "exit_files" => exit_files,
        "user_space_frozen" => user_space_frozen,
        "mm_has_notifiers" => mm_has_notifiers,
        "suspend_devices" => suspend_devices,
        "resume_devices" => resume_devices,
        "mmget_not_zero" => mmget_not_zero,
        "mmget" => mmget,
        "oom_reaper_queued" => oom_reaper_queued,
        "mm_users_dec_and_test" => mm_users_dec_and_test,
        "mmgrab" => mmgrab,
        "mmdrop" => mmdrop,
        "set_bit" => set_bit(flag_arg(lx)?),
        "clear_bit" => clear_bit(flag_arg(lx)?),
        "test_bit" => test_bit(flag_arg(lx)?),
        "test_and_set_bit" => test_and_set_bit(flag_arg(lx)?),
        "mm_is_oom_victim" => test_bit(MmFlag::MMF_OOM_VICTIM),
        "locked_vm" => locked_vm,
        "vma_first" => vma_first,
        "vma_next" => vma_next,
        "vma_test" => {
            let (w, p) = lx.word("VM_ flags, e.g. VM_LOCKED|VM_HUGETLB")?;
            let mut bits = 0;
            for part in w.split('|') {
                let Some((_, b)) = vm::NAMES.iter().find(|(n, _)| *n == part) else {
                    return Err(lx.err(p, format!("unknown vm flag {part:?}")));
                };
                bits |= b;
            }
            vma_test(bits)
        }
        "vma_is_anon_or_private" => vma_is_anon_or_private,
        "unmap_single_vma" => unmap_single_vma,
        "unmap_page_range" => unmap_page_range,
        "free_pgtables" => free_pgtables,
        "acct_vma" => acct_vma,
        "remove_vma" => remove_vma,
        "remove_vma_next" => remove_vma_next,
        "munlock_vma" => munlock_vma,
        "munlock_vma_pages" => munlock_vma_pages,
        "arch_exit_mmap" => arch_exit_mmap,
        "mm_mmap_clear" => mm_mmap_clear,
        "mt_destroy" => mt_destroy,
        "count_inc" => count_inc,
        "bug_on_map_count" => bug_on_map_count,
        "vm_unacct_memory" => vm_unacct_memory,
        other => match NOPS.iter().find(|(n, _)| *n == other) {
            Some((_, n)) => nop(*n),
            None => return Err(lx.err(pos, format!("unknown primitive {other:?}"))),
        },
    })
}

struct PathCtx {
    vars: Vec<String>,
    loops: u32,
}

fn parse_value(lx: &Lexer<'_>, w: &str, p: Pos) -> Result<Value, LangError> {
    Ok(match w {
        "true" | "1" => Value::True,
        "false" | "0" => Value::False,
        "ret" => Value::Ret,
        e => match ERRNOS.iter().find(|(n, _)| *n == e) {
            Some((_, v)) => Value::Errno(*v),
            None => return Err(lx.err(p, format!("unknown value {e:?}"))),
        },
    })
}

fn parse_cond(lx: &mut Lexer<'_>, ctx: &PathCtx) -> Result<Cond, LangError> {
    let mut neg = false;
    while lx.peek() == Some(&Tok::Bang) {
        neg = !neg;
        lx.at += 1;
    }
    let (w, p) = lx.word("a condition")?;
    let kind = match w.as_str() {
        "vma" => CondKind::Vma,
        "ret" => CondKind::Ret,
        "task" => CondKind::Task,
        "count" => CondKind::Count,
        _ => {
            if let Some(i) = ctx.vars.iter().position(|v| *v == w) {
                CondKind::Var(i as u8)
            } else {
                let prim = parse_prim(lx, &w, p)?;
                if !prim.is_cond() {
                    return Err(lx.err(p, format!("{w} does not yield a truth value")));
                }
                CondKind::Prim(prim)
            }
        }
    };
    Ok(Cond { neg, kind })
}

fn parse_block(lx: &mut Lexer<'_>, ctx: &mut PathCtx) -> Result<Vec<Stmt>, LangError> {
    lx.expect(Tok::Open, "`{`")?;
    let mut out = Vec::new();
    loop {
        lx.skip_nl();
        match lx.peek() {
            Some(Tok::Close) => {
                lx.at += 1;
                return Ok(out);
            }
            None => return Err(lx.err(lx.pos(), "unclosed `{`")),
            _ => out.push(parse_stmt(lx, ctx)?),
        }
    }
}

fn parse_stmt(lx: &mut Lexer<'_>, ctx: &mut PathCtx) -> Result<Stmt, LangError> {
    let (w, p) = lx.word("a statement")?;
    let st = match w.as_str() {
        "if" => {
            let c = parse_cond(lx, ctx)?;
            let then = parse_block(lx, ctx)?;
            // `else` may follow on the same line as `}` or on the next.
            let save = lx.at;
            lx.skip_nl();
            let els = if matches!(lx.peek(), Some(Tok::Word(e)) if e == "else") {
                lx.at += 1;
                if matches!(lx.peek(), Some(Tok::Word(i)) if i == "if") {
                    vec![parse_stmt(lx, ctx)?]
                } else {
                    parse_block(lx, ctx)?
                }
            } else {
                lx.at = save;
                Vec::new()
            };
            return Ok(Stmt::If(c, then, els, p));
        }
        "for_each_vma" => {
            ctx.loops += 1;
            let b = parse_block(lx, ctx)?;
            ctx.loops -= 1;
            return Ok(Stmt::ForEachVma(b, p));
        }
        "for_each_task" => {
            ctx.loops += 1;
            let b = parse_block(lx, ctx)?;
            ctx.loops -= 1;
            return Ok(Stmt::ForEachTask(b, p));
        }
        "while" => {
            let c = parse_cond(lx, ctx)?;
            ctx.loops += 1;
            let b = parse_block(lx, ctx)?;
            ctx.loops -= 1;
            return Ok(Stmt::While(c, b, p));
        }
        "retry" => {
            let (n, np) = lx.word("a retry count")?;
            let n: u32 = n
                .parse()
                .ok()
                .filter(|&n| (1..=64).contains(&n))
                .ok_or_else(|| lx.err(np, "retry count must be 1..=64"))?;
            ctx.loops += 1;
            let b = parse_block(lx, ctx)?;
            ctx.loops -= 1;
            return Ok(Stmt::Retry(n, b, p));
        }
        "break" | "continue" if ctx.loops == 0 => {
            return Err(lx.err(p, format!("`{w}` outside a loop")));
        }
        "break" => Stmt::Break(p),
        "continue" => Stmt::Continue(p),
        "return" => {
            let v = match lx.peek() {
                Some(Tok::Word(_)) => {
                    let (v, vp) = lx.word("a value")?;
                    Some(parse_value(lx, &v, vp)?)
                }
                _ => None,
            };
            Stmt::Return(v, p)
        }
        "call" => {
            let (name, _) = lx.word("a path name")?;
            Stmt::Call(name, p)
        }
        "let" => {
            let (name, np) = lx.word("a variable name")?;
            if name == "vma" || name == "ret" {
                return Err(lx.err(np, format!("`{name}` is built in")));
            }
            lx.expect(Tok::Eq, "`=`")?;
            let (v, vp) = lx.word("true or false")?;
            let b = match v.as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(lx.err(vp, "a `let` variable is true or false")),
            };
            let i = match ctx.vars.iter().position(|x| *x == name) {
                Some(i) => i,
                None => {
                    if ctx.vars.len() >= 8 {
                        return Err(lx.err(np, "at most 8 `let` variables per path"));
                    }
                    ctx.vars.push(name);
                    ctx.vars.len() - 1
                }
            };
            Stmt::Let(i as u8, b, p)
        }
        "ret" => {
            lx.expect(Tok::Eq, "`=`")?;
            let (v, vp) = lx.word("a value")?;
            Stmt::SetRet(parse_value(lx, &v, vp)?, p)
        }
        _ => Stmt::Prim(parse_prim(lx, &w, p)?, p),
    };
    lx.end_of_stmt()?;
    Ok(st)
}

fn parse_meta(lx: &mut Lexer<'_>, meta: &mut Meta) -> Result<bool, LangError> {
    let key = match lx.peek() {
        Some(Tok::Word(w)) => w.clone(),
        _ => return Ok(false),
    };
    let slot = match key.as_str() {
        "kernel" => &mut meta.kernel,
        "commit" => &mut meta.commit,
        "file" => &mut meta.file,
        "function" => &mut meta.function,
        "note" => &mut meta.note,
        "source" => &mut meta.source,
        _ => return Ok(false),
    };
    lx.at += 1;
    let v = lx.string(&format!("a value for `{key}`"))?;
    if !slot.is_empty() {
        slot.push(' ');
    }
    slot.push_str(&v);
    Ok(true)
}

/// Parse a whole file of path versions and configs. `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Unit, LangError> {
    let toks = lex(file, text)?;
    let mut lx = Lexer { file, toks, at: 0 };
    let mut unit = Unit::default();
    loop {
        lx.skip_nl();
        let Some(tok) = lx.peek() else { break };
        let pos = lx.pos();
        let Tok::Word(w) = tok.clone() else {
            return Err(lx.err(pos, "expected `path` or `config`"));
        };
        lx.at += 1;
        match w.as_str() {
            "path" => {
                let (full, np) = lx.word("NAME@VERSION")?;
                let Some((name, version)) = full.split_once('@') else {
                    return Err(lx.err(np, "a path is named NAME@VERSION, e.g. exit_mmap@v6.1"));
                };
                let mut meta = Meta::default();
                loop {
                    lx.skip_nl();
                    if !parse_meta(&mut lx, &mut meta)? {
                        break;
                    }
                }
                let mut ctx = PathCtx {
                    vars: Vec::new(),
                    loops: 0,
                };
                let body = parse_block(&mut lx, &mut ctx)?;
                unit.paths.push(PathDef {
                    name: name.into(),
                    version: version.into(),
                    meta,
                    body,
                    vars: ctx.vars,
                    origin: (file.into(), pos),
                    text: item_text(text, pos, lx.last_line()),
                });
            }
            "config" => {
                let (name, _) = lx.word("a config name")?;
                let mut meta = Meta::default();
                loop {
                    lx.skip_nl();
                    if !parse_meta(&mut lx, &mut meta)? {
                        break;
                    }
                }
                lx.expect(Tok::Open, "`{`")?;
                let mut cfg = ConfigDef {
                    name,
                    meta,
                    expect: Expect::Unknown,
                    store: VmaStore::List,
                    uses: Vec::new(),
                    roles: Vec::new(),
                    freezer: Freezing::TaskMemdie,
                    strict: false,
                    rwsem_steal: false,
                    origin: (file.into(), pos),
                    text: String::new(),
                };
                loop {
                    lx.skip_nl();
                    if lx.peek() == Some(&Tok::Close) {
                        lx.at += 1;
                        break;
                    }
                    if parse_meta(&mut lx, &mut cfg.meta)? {
                        lx.end_of_stmt()?;
                        continue;
                    }
                    let (k, kp) = lx.word("expect, store, freezer, rwsem, check, use or role")?;
                    match k.as_str() {
                        "expect" => {
                            let (v, vp) = lx.word("bug INVARIANT, safe or unknown")?;
                            cfg.expect = match v.as_str() {
                                "safe" => Expect::Safe,
                                "unknown" => Expect::Unknown,
                                "bug" => Expect::Bug(lx.word("the invariant, e.g. I1")?.0),
                                _ => {
                                    return Err(lx.err(vp, "expect bug INVARIANT, safe or unknown"))
                                }
                            };
                        }
                        "store" => {
                            let (v, vp) = lx.word("list or maple")?;
                            cfg.store = match v.as_str() {
                                "list" => VmaStore::List,
                                "maple" => VmaStore::Maple,
                                _ => return Err(lx.err(vp, "store is list or maple")),
                            };
                        }
                        "use" => {
                            while let Some(Tok::Word(_)) = lx.peek() {
                                let (u, up) = lx.word("NAME@VERSION")?;
                                let Some((n, v)) = u.split_once('@') else {
                                    return Err(lx.err(up, "use NAME@VERSION"));
                                };
                                cfg.uses.push((n.into(), v.into(), up));
                            }
                        }
                        "freezer" => {
                            let (v, vp) = lx.word("v4.7, v4.9 or v6.18")?;
                            cfg.freezer = match v.as_str() {
                                "v4.7-rc" | "v4.7" => Freezing::CurrentMemdie,
                                "v4.9" => Freezing::TaskMemdie,
                                "v6.18" => Freezing::OomVictim,
                                _ => return Err(lx.err(vp, "freezer is v4.7, v4.9 or v6.18")),
                            };
                        }
                        "rwsem" => {
                            let (v, vp) = lx.word("fifo or steal")?;
                            cfg.rwsem_steal = match v.as_str() {
                                "fifo" => false,
                                "steal" => true,
                                _ => return Err(lx.err(vp, "rwsem is fifo or steal")),
                            };
                        }
                        "check" => {
                            let (v, vp) = lx.word("I12s")?;
                            match v.as_str() {
                                "I12s" => cfg.strict = true,
                                _ => {
                                    return Err(lx.err(vp, "check takes I12s (the strict barrier)"))
                                }
                            }
                        }
                        "role" => {
                            while let Some(Tok::Word(_)) = lx.peek() {
                                cfg.roles.push(lx.word("a role")?.0);
                            }
                        }
                        _ => return Err(lx.err(kp, format!("unknown config key {k:?}"))),
                    }
                    lx.end_of_stmt()?;
                }
                cfg.text = item_text(text, pos, lx.last_line());
                unit.configs.push(cfg);
            }
            _ => return Err(lx.err(pos, format!("expected `path` or `config`, found {w:?}"))),
        }
    }
    Ok(unit)
}
