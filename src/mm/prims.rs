//! Every kernel primitive of the path language, declared once.
//!
//! A primitive is one atomic step of the model, named after the kernel function it stands
//! for. [`with_prim_table!`] is the table: one row per primitive with its argument, the
//! function that gives its semantics (in the `interp` module named after the kernel file:
//! `memory::free_pgtables` for `mm/memory.c`), the kernel file, whether it is a condition,
//! its footprint, whether it may sleep, and the kernel source a report prints for it
//! ([`Prim::kernel_text`]: `"vma = mm->mmap" / "vma = mas_find(&mas, ULONG_MAX)"` for a list
//! and a maple-tree config). The table is expanded twice: here into [`Prim`],
//! its parser, printer and [`PrimInfo`], and in `interp` into the dispatch to the semantics.
//! Adding a primitive is one row here and one function in one `interp` module.

use super::types::{parse_bits, pf, show_bits, vm, Global, Lock, MmFlag};

/// A primitive's argument: how it is written in a path file.
pub trait Arg: Copy {
    /// What the parser expects, for errors.
    const EXPECT: &'static str;
    /// Parse one word; the error names what is wrong.
    fn parse(word: &str) -> Result<Self, String>;
    /// The word back.
    fn show(self) -> String;
}

impl Arg for Lock {
    const EXPECT: &'static str = "a lock (oom_lock, oom_reaper_lock, freezer_lock, i_rwsem)";
    fn parse(w: &str) -> Result<Self, String> {
        Lock::parse(w).ok_or_else(|| {
            format!("unknown lock {w:?} (oom_lock, oom_reaper_lock, freezer_lock, i_rwsem)")
        })
    }
    fn show(self) -> String {
        self.name()
    }
}

impl Arg for MmFlag {
    const EXPECT: &'static str = "an mm flag";
    fn parse(w: &str) -> Result<Self, String> {
        MmFlag::parse(w).ok_or_else(|| {
            let all: Vec<&str> = MmFlag::ALL.iter().map(|f| f.name()).collect();
            format!("unknown mm flag {w:?} ({})", all.join(", "))
        })
    }
    fn show(self) -> String {
        self.name().into()
    }
}

impl Arg for Global {
    const EXPECT: &'static str = "pm_freezing, pm_nosig_freezing or oom_killer_disabled";
    fn parse(w: &str) -> Result<Self, String> {
        Global::parse(w).ok_or_else(|| {
            format!("unknown global {w:?} (pm_freezing, pm_nosig_freezing, oom_killer_disabled)")
        })
    }
    fn show(self) -> String {
        self.name().into()
    }
}

/// `vm_flags` bits as an argument (`VM_LOCKED|VM_HUGETLB`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VmFlags(pub u8);

impl Arg for VmFlags {
    const EXPECT: &'static str = "VM_ flags, e.g. VM_LOCKED|VM_HUGETLB";
    fn parse(w: &str) -> Result<Self, String> {
        parse_bits(&vm::NAMES, w)
            .map(VmFlags)
            .map_err(|part| format!("unknown vm flag {part:?}"))
    }
    fn show(self) -> String {
        vm::show(self.0)
    }
}

/// `PF_*` bits as an argument (`PF_SUSPEND_TASK`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PfFlags(pub u8);

impl Arg for PfFlags {
    const EXPECT: &'static str = "PF_ flags, e.g. PF_SUSPEND_TASK";
    fn parse(w: &str) -> Result<Self, String> {
        parse_bits(&pf::NAMES, w)
            .map(PfFlags)
            .map_err(|part| format!("unknown PF flag {part:?}"))
    }
    fn show(self) -> String {
        show_bits(&pf::NAMES, self.0, "")
    }
}

/// What the table says of one primitive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrimInfo {
    /// The name in path files.
    pub name: &'static str,
    /// The function that gives its semantics (`memory::free_pgtables`, in `src/mm/interp/`).
    pub semantics: &'static str,
    /// The kernel file of the function it stands for.
    pub file: &'static str,
    /// It yields a truth value (may stand in an `if`/`while`).
    pub cond: bool,
    /// Footprint: it touches only the calling thread's own state and reports nothing to the
    /// oracles, so it commutes with every other thread's step (the exhaustive search's
    /// reduction relies on this). Otherwise it may touch shared state.
    pub local: bool,
    /// It may sleep (block, or call `schedule()`): the model checks `might_sleep` in it.
    pub sleeps: bool,
    /// The kernel source it stands for, as a report prints it (`set_bit({}, &mm->flags)`:
    /// `{}` is the argument); see [`Prim::kernel_text`].
    pub kernel: &'static str,
    /// The same for a config that keeps its VMAs in the maple tree (`mm->mm_mt`).
    pub kernel_maple: &'static str,
}

/// Reads a primitive's argument from a path file ([`Prim::parse`]).
pub trait Words {
    /// The reader's error.
    type Err;
    /// Read and parse the next word as a `T`.
    fn arg<T: Arg>(&mut self) -> Result<T, Self::Err>;
}

/// The words of the table's flag columns.
macro_rules! word {
    (cond) => {
        true
    };
    (step) => {
        false
    };
    (local) => {
        true
    };
    (shared) => {
        false
    };
    (sleeps) => {
        true
    };
    (atomic) => {
        false
    };
}

/// The last of the kernel-text column's one or two literals (the maple tree's text).
macro_rules! last {
    ($a:literal) => {
        $a
    };
    ($a:literal, $b:literal) => {
        $b
    };
}

/// One row's [`PrimInfo`].
macro_rules! prim_info {
    ($name:ident, $module:ident :: $func:ident, $file:literal, $text:literal $(/ $maple:literal)?,
     $kind:ident, $fp:ident, $sl:ident) => {
        PrimInfo {
            name: stringify!($name),
            semantics: concat!(stringify!($module), "::", stringify!($func)),
            file: $file,
            cond: word!($kind),
            local: word!($fp),
            sleeps: word!($sl),
            kernel: $text,
            kernel_maple: last!($text $(, $maple)?),
        }
    };
}

/// `_` for a variant's argument, in patterns.
macro_rules! wild {
    ($t:ty) => {
        _
    };
}

macro_rules! define_prims {
    ($( $(#[$m:meta])* $name:ident $(($a:ident : $t:ty))? => $module:ident :: $func:ident,
        $file:literal, $text:literal $(/ $maple:literal)?, $kind:ident, $fp:ident, $sl:ident; )*) => {
        /// Kernel primitives: each is one atomic step of the model. Names are the kernel's.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[allow(non_camel_case_types)]
        pub enum Prim {
            $( $(#[$m])* $name $(($t))?, )*
        }

        impl Prim {
            /// The table, one row per primitive, in declaration order.
            pub const TABLE: &'static [PrimInfo] = &[ $( prim_info!($name, $module::$func, $file, $text $(/ $maple)?, $kind, $fp, $sl), )* ];

            /// This primitive's row.
            pub fn info(self) -> &'static PrimInfo {
                match self { $( Prim::$name $((wild!($t)))? => &prim_info!($name, $module::$func, $file, $text $(/ $maple)?, $kind, $fp, $sl), )* }
            }

            /// The kernel name with its argument, as written in path files.
            pub fn name(self) -> String {
                match self { $( Prim::$name $(($a))? => {
                    let args: &[String] = &[ $( Arg::show($a) )? ];
                    let mut s = String::from(stringify!($name));
                    for a in args {
                        s.push(' ');
                        s.push_str(a);
                    }
                    s
                } )* }
            }

            /// The primitive called `name` (its argument read from `words`), or `None` if
            /// there is no such primitive.
            pub fn parse<W: Words>(name: &str, words: &mut W) -> Option<Result<Prim, W::Err>> {
                Some(Ok(match name {
                    $( stringify!($name) => Prim::$name $(({
                        match words.arg::<$t>() {
                            Ok(a) => a,
                            Err(e) => return Some(Err(e)),
                        }
                    }))?, )*
                    _ => return ALIASES.iter().find(|(n, _)| *n == name).map(|(_, p)| Ok(*p)),
                }))
            }
        }
    };
}

/// Calls `$callback!` with the primitive table.
macro_rules! with_prim_table {
    ($callback:ident) => {
        $callback! {
            // mmap_lock (include/linux/mmap_lock.h over kernel/locking/rwsem.c)
            /// `mmap_read_lock(mm)`.
            mmap_read_lock => locking::mmap_read_lock, "include/linux/mmap_lock.h", "mmap_read_lock(mm)", step, shared, sleeps;
            /// `mmap_read_trylock(mm)` — condition: acquired.
            mmap_read_trylock => locking::mmap_read_trylock, "include/linux/mmap_lock.h", "mmap_read_trylock(mm)", cond, shared, atomic;
            /// `mmap_read_lock_killable(mm)` — condition: acquired (the model sends no fatal signal).
            mmap_read_lock_killable => locking::mmap_read_lock_killable, "include/linux/mmap_lock.h", "!mmap_read_lock_killable(mm)", cond, shared, sleeps;
            /// `mmap_read_unlock(mm)`.
            mmap_read_unlock => locking::mmap_read_unlock, "include/linux/mmap_lock.h", "mmap_read_unlock(mm)", step, shared, atomic;
            /// `mmap_write_lock(mm)`.
            mmap_write_lock => locking::mmap_write_lock, "include/linux/mmap_lock.h", "mmap_write_lock(mm)", step, shared, sleeps;
            /// `mmap_write_lock_killable(mm)` (`dup_mmap`, `kernel/fork.c`) — condition:
            /// acquired (the model sends no fatal signal to a waiter).
            mmap_write_lock_killable => locking::mmap_write_lock_killable, "include/linux/mmap_lock.h", "!mmap_write_lock_killable(mm)", cond, shared, sleeps;
            /// `mmap_write_unlock(mm)`.
            mmap_write_unlock => locking::mmap_write_unlock, "include/linux/mmap_lock.h", "mmap_write_unlock(mm)", step, shared, atomic;
            // mutexes and spinlocks (kernel/locking/mutex.c, spinlock.c)
            /// `mutex_lock(LOCK)`.
            mutex_lock(l: Lock) => locking::mutex_lock, "kernel/locking/mutex.c", "mutex_lock(&{})", step, shared, sleeps;
            /// `mutex_unlock(LOCK)`.
            mutex_unlock(l: Lock) => locking::mutex_unlock, "kernel/locking/mutex.c", "mutex_unlock(&{})", step, shared, atomic;
            /// `spin_lock(LOCK)`.
            spin_lock(l: Lock) => locking::spin_lock, "kernel/locking/spinlock.c", "spin_lock(&{})", step, shared, atomic;
            /// `spin_unlock(LOCK)`.
            spin_unlock(l: Lock) => locking::spin_unlock, "kernel/locking/spinlock.c", "spin_unlock(&{})", step, shared, atomic;
            /// `mutex_trylock(&oom_lock)` — condition: acquired.
            mutex_trylock_oom_lock => locking::mutex_trylock_oom_lock, "kernel/locking/mutex.c", "mutex_trylock(&oom_lock)", cond, shared, atomic;
            /// `task_lock(victim)`.
            task_lock => locking::task_lock, "include/linux/sched/task.h", "task_lock(p)", step, shared, atomic;
            /// `task_unlock(victim)`.
            task_unlock => locking::task_unlock, "include/linux/sched/task.h", "task_unlock(p)", step, shared, atomic;
            // tasks and their mm (kernel/fork.c, kernel/exit.c)
            /// `get_task_mm(victim)` — condition: got a pinned mm (task_lock, mmget, task_unlock).
            get_task_mm => fork::get_task_mm, "kernel/fork.c", "mm = get_task_mm(p)", cond, shared, atomic;
            /// `get_task_struct(victim)`.
            get_task_struct => fork::get_task_struct, "include/linux/sched/task.h", "get_task_struct(p)", step, shared, atomic;
            /// `put_task_struct(victim)`.
            put_task_struct => fork::put_task_struct, "include/linux/sched/task.h", "put_task_struct(p)", step, shared, atomic;
            /// `mmget_not_zero(mm)` — condition: pinned.
            mmget_not_zero => fork::mmget_not_zero, "include/linux/sched/mm.h", "mmget_not_zero(mm)", cond, shared, atomic;
            /// `mmget(mm)` / `atomic_inc(&mm->mm_users)`: pin an mm known to have users.
            mmget => fork::mmget, "include/linux/sched/mm.h", "mmget(mm)", step, shared, atomic;
            /// `atomic_dec_and_test(&mm->mm_users)` in `mmput` — condition: this was the last user.
            mm_users_dec_and_test => fork::mm_users_dec_and_test, "kernel/fork.c", "atomic_dec_and_test(&mm->mm_users)", cond, shared, atomic;
            /// `mmgrab(mm)`.
            mmgrab => fork::mmgrab, "include/linux/sched/mm.h", "mmgrab(mm)", step, shared, atomic;
            /// `mmdrop(mm)` (frees the mm_struct when `mm_count` reaches 0).
            mmdrop => fork::mmdrop, "kernel/fork.c", "mmdrop(mm)", step, shared, atomic;
            // dup_mmap (kernel/fork.c v6.8; mm/mmap.c since v6.16)
            /// `__mt_dup(&oldmm->mm_mt, &mm->mm_mt, GFP_KERNEL)`: the child's tree, a clone of
            /// the parent's, its entries the parent's VMAs (v6.8 d24062914837).
            mt_dup => fork::mt_dup, "lib/maple_tree.c", "__mt_dup(&oldmm->mm_mt, &mm->mm_mt, GFP_KERNEL)", step, shared, atomic;
            /// `fatal_signal_pending(current)` or an allocation failing at this point of
            /// `dup_mmap` — condition: the set-up's failure point (copied VMAs == the VMA it
            /// names; after the loop, `arch_dup_mmap` fails).
            dup_mmap_fails => fork::dup_mmap_fails, "kernel/fork.c", "fatal_signal_pending(current)", cond, local, atomic;
            /// `arch_dup_mmap(oldmm, mm)` after the loop — condition: it fails (the set-up's
            /// failure point is past the last VMA).
            arch_dup_mmap_fails => fork::dup_mmap_fails, "kernel/fork.c", "retval = arch_dup_mmap(oldmm, mm)", cond, local, atomic;
            /// `tmp = vm_area_dup(mpnt)` … `vma_iter_bulk_store(&vmi, tmp); mm->map_count++`: the
            /// child's copy of the cursor VMA (charged if `VM_ACCOUNT`, `VM_LOCKED` cleared)
            /// replaces the parent's in the child's tree.
            vma_iter_bulk_store => fork::vma_iter_bulk_store, "kernel/fork.c", "tmp = vm_area_dup(mpnt); vma_iter_bulk_store(&vmi, tmp); mm->map_count++", step, shared, atomic;
            /// `copy_page_range(tmp, mpnt)`: the child's page tables; an anonymous VMA's swap
            /// entries put the child on `mmlist` (`copy_nonpresent_pte`), where swapoff finds it.
            copy_page_range => fork::copy_page_range, "mm/memory.c", "copy_page_range(tmp, mpnt)", step, shared, atomic;
            /// `mas_set_range(&vmi.mas, mpnt->vm_start, mpnt->vm_end - 1); mas_store(&vmi.mas,
            /// XA_ZERO_ENTRY)`: the failure point marked; later entries stay the parent's.
            mas_store_zero => fork::mas_store_zero, "kernel/fork.c", "mas_store(&vmi.mas, XA_ZERO_ENTRY)", step, shared, atomic;
            /// `xa_is_zero(vma)` — condition: the cursor is the `XA_ZERO_ENTRY` marker.
            xa_is_zero => fork::xa_is_zero, "include/linux/xarray.h", "xa_is_zero(vma)", cond, local, atomic;
            /// `current->mm = NULL` in `exit_mm` (under task_lock).
            clear_task_mm => exit::clear_task_mm, "kernel/exit.c", "current->mm = NULL", step, shared, atomic;
            /// `exit_files(tsk)` in `do_exit` (after `exit_mm`): the last `fput` of a file may
            /// flush it (I/O).
            exit_files => exit::exit_files, "kernel/exit.c", "exit_files(current)", step, shared, atomic;
            /// `fatal_signal_pending(current)` — condition.
            fatal_signal_pending => exit::fatal_signal_pending, "include/linux/sched/signal.h", "fatal_signal_pending(current)", cond, shared, atomic;
            /// A user task's I/O (a syscall that touches a device or the disk).
            do_io => exit::do_io, "fs/read_write.c", "vfs_write(file, ...)", step, shared, atomic;
            /// `exit_fs(tsk)` in `do_exit`.
            exit_fs => sched::nop, "kernel/exit.c", "exit_fs(current)", step, local, atomic;
            /// `exit_notify(tsk, group_dead)` in `do_exit`.
            exit_notify => sched::nop, "kernel/exit.c", "exit_notify(current, group_dead)", step, local, atomic;
            /// `exit_signals(tsk)` in `do_exit`: `PF_EXITING`.
            exit_signals => sched::nop, "kernel/signal.c", "exit_signals(current)", step, local, atomic;
            // the OOM killer and reaper (mm/oom_kill.c)
            /// `find_lock_task_mm(victim)` — condition: the victim still has an mm; then holds task_lock.
            find_lock_task_mm => oom_kill::find_lock_task_mm, "mm/oom_kill.c", "find_lock_task_mm(p)", cond, shared, atomic;
            /// `task_will_free_mem(victim)` — condition: the whole process is exiting (fatal signal)
            /// and its mm is not `MMF_OOM_SKIP` yet.
            task_will_free_mem => oom_kill::task_will_free_mem, "mm/oom_kill.c", "task_will_free_mem(p)", cond, shared, atomic;
            /// `tsk_is_oom_victim(current)` — condition.
            tsk_is_oom_victim => oom_kill::tsk_is_oom_victim, "include/linux/oom.h", "tsk_is_oom_victim(current)", cond, shared, atomic;
            /// `select_bad_process` — condition: the victim is eligible (no OOM victim in progress).
            select_bad_process => oom_kill::select_bad_process, "mm/oom_kill.c", "select_bad_process(oc)", cond, shared, atomic;
            /// `select_bad_process` of a sysrq-f OOM (`is_sysrq_oom`, order -1) — condition: the
            /// victim is chosen again while it is still an OOM victim, unless already reaped.
            select_bad_process_sysrq => oom_kill::select_bad_process_sysrq, "mm/oom_kill.c", "select_bad_process(oc) /* is_sysrq_oom */", cond, shared, atomic;
            /// `mark_oom_victim(victim)` and the SIGKILL of `oom_kill_process`.
            mark_oom_victim => oom_kill::mark_oom_victim, "mm/oom_kill.c", "mark_oom_victim(victim)", step, shared, atomic;
            /// Push the victim on `oom_reaper_list` (caller holds `oom_reaper_lock`).
            oom_reaper_list_push => oom_kill::oom_reaper_list_push, "mm/oom_kill.c", "oom_reaper_list = tsk", step, shared, atomic;
            /// Pop the head of `oom_reaper_list` (caller holds `oom_reaper_lock`) — condition: popped.
            oom_reaper_list_pop => oom_kill::oom_reaper_list_pop, "mm/oom_kill.c", "tsk = oom_reaper_list (pop)", cond, shared, atomic;
            /// `wake_up(&oom_reaper_wait)`.
            wake_up_oom_reaper => oom_kill::wake_up_oom_reaper, "mm/oom_kill.c", "wake_up(&oom_reaper_wait)", step, shared, atomic;
            /// `wait_event_freezable(oom_reaper_wait, oom_reaper_list != NULL)`.
            wait_oom_reaper_list => oom_kill::wait_oom_reaper_list, "mm/oom_kill.c", "wait_event_freezable(oom_reaper_wait, oom_reaper_list != NULL)", step, shared, sleeps;
            /// `oom_reaper_list == NULL` — condition.
            oom_reaper_list_empty => oom_kill::oom_reaper_list_empty, "mm/oom_kill.c", "oom_reaper_list == NULL", cond, shared, atomic;
            /// `tsk == oom_reaper_list || tsk->oom_reaper_list` — condition: the victim is queued
            /// (the v4.7..v4.19 guard of `wake_oom_reaper`).
            oom_reaper_queued => oom_kill::oom_reaper_queued, "mm/oom_kill.c", "tsk == oom_reaper_list || tsk->oom_reaper_list", cond, shared, atomic;
            /// `tsk->oom_reaper_list` — condition: the victim is queued with another task behind
            /// it (bb29902a7515's guard alone, before af8e15cc85a2 added the head test).
            tsk_oom_reaper_list => oom_kill::tsk_oom_reaper_list, "mm/oom_kill.c", "tsk->oom_reaper_list", cond, shared, atomic;
            /// Sleep `TASK_INTERRUPTIBLE` on `oom_reaper_wait` until a wakeup (real or fake signal).
            sleep_oom_reaper_wait => oom_kill::sleep_oom_reaper_wait, "mm/oom_kill.c", "schedule() /* oom_reaper_wait */", step, shared, sleeps;
            /// Sleep `TASK_INTERRUPTIBLE|TASK_FREEZABLE` on `oom_reaper_wait` (v6.1+
            /// `wait_event_freezable`): `freeze_task` may freeze the sleeper where it sleeps.
            sleep_oom_reaper_wait_freezable => oom_kill::sleep_oom_reaper_wait_freezable, "mm/oom_kill.c", "schedule() /* oom_reaper_wait, TASK_FREEZABLE */", step, shared, sleeps;
            /// `wait_event(oom_victims_wait, !atomic_read(&oom_victims))` (v4.7, no timeout).
            wait_oom_victims_zero => oom_kill::wait_oom_victims_zero, "mm/oom_kill.c", "wait_event(oom_victims_wait, !atomic_read(&oom_victims))", step, shared, sleeps;
            /// `wait_event_interruptible_timeout(oom_victims_wait, …)` — condition: not timed out.
            wait_oom_victims_zero_timeout => oom_kill::wait_oom_victims_zero_timeout, "mm/oom_kill.c", "wait_event_interruptible_timeout(oom_victims_wait, !atomic_read(&oom_victims), timeout) > 0", cond, shared, sleeps;
            /// `exit_oom_victim()`: clear the victim's `TIF_MEMDIE`; the last one wakes `oom_victims_wait`.
            exit_oom_victim => oom_kill::exit_oom_victim, "mm/oom_kill.c", "exit_oom_victim()", step, shared, atomic;
            /// `test_thread_flag(TIF_MEMDIE)` of current — condition.
            test_memdie_current => oom_kill::test_memdie_current, "include/linux/thread_info.h", "test_thread_flag(TIF_MEMDIE)", cond, shared, atomic;
            /// `mm_has_notifiers(mm)` — condition; the model's mm has no MMU notifiers (false).
            mm_has_notifiers => oom_kill::mm_has_notifiers, "include/linux/mmu_notifier.h", "mm_has_notifiers(mm)", cond, shared, atomic;
            // the freezer (kernel/freezer.c, kernel/power/process.c, kernel/power/suspend.c)
            /// `current->flags |= PF_…`.
            set_pf(f: PfFlags) => freezer::set_pf, "include/linux/sched.h", "current->flags |= {}", step, shared, atomic;
            /// `current->flags &= ~PF_…`.
            clear_pf(f: PfFlags) => freezer::clear_pf, "include/linux/sched.h", "current->flags &= ~{}", step, shared, atomic;
            /// Set a global (`pm_freezing`, `pm_nosig_freezing`, `oom_killer_disabled`).
            set_global(g: Global) => freezer::set_global, "kernel/power/process.c", "{} = true", step, shared, atomic;
            /// Clear a global.
            clear_global(g: Global) => freezer::clear_global, "kernel/power/process.c", "{} = false", step, shared, atomic;
            /// Test a global — condition.
            test_global(g: Global) => freezer::test_global, "kernel/freezer.c", "{}", cond, shared, atomic;
            /// `atomic_inc(&system_freezing_cnt)` (`static_branch_inc(&freezer_active)` today).
            system_freezing_cnt_inc => freezer::system_freezing_cnt_inc, "kernel/power/process.c", "atomic_inc(&system_freezing_cnt)", step, shared, atomic;
            /// `atomic_dec(&system_freezing_cnt)`.
            system_freezing_cnt_dec => freezer::system_freezing_cnt_dec, "kernel/power/process.c", "atomic_dec(&system_freezing_cnt)", step, shared, atomic;
            /// `freezing(current)` — condition; the slow path is the config's `freezer` version.
            freezing_current => freezer::freezing_current, "kernel/freezer.c", "freezing(current)", cond, shared, atomic;
            /// `frozen(current)` — condition.
            frozen_current => freezer::frozen_current, "include/linux/freezer.h", "frozen(current)", cond, shared, atomic;
            /// In `__refrigerator`: mark current frozen (`PF_FROZEN` / `TASK_FROZEN`).
            set_frozen => freezer::set_frozen, "kernel/freezer.c", "current->flags |= PF_FROZEN", step, shared, atomic;
            /// In `__refrigerator`: current is not to freeze after all.
            clear_frozen => freezer::clear_frozen, "kernel/freezer.c", "current->flags &= ~PF_FROZEN", step, shared, atomic;
            /// `schedule()` in `__refrigerator`: sleep until thawed.
            schedule_frozen => freezer::schedule_frozen, "kernel/freezer.c", "schedule() /* frozen */", step, shared, sleeps;
            /// In `__refrigerator` (v6.1+): `WRITE_ONCE(current->__state, TASK_FROZEN)` and
            /// `current->saved_state = TASK_RUNNING`, under `pi_lock`, not `freezer_lock`.
            set_task_frozen => freezer::set_task_frozen, "kernel/freezer.c", "WRITE_ONCE(current->__state, TASK_FROZEN)", step, shared, atomic;
            /// Leaving `__refrigerator` (v6.1+): `__set_current_state(TASK_RUNNING)`.
            set_task_running => freezer::set_task_running, "kernel/freezer.c", "__set_current_state(TASK_RUNNING)", step, shared, atomic;
            /// `for_each_process_thread` cursor: the first other task (`for_each_task`).
            task_first => freezer::task_first, "include/linux/sched/signal.h", "for_each_process_thread(g, p)", step, shared, atomic;
            /// The next other task.
            task_next => freezer::task_next, "include/linux/sched/signal.h", "p = next_thread(p)", step, shared, atomic;
            /// `freeze_task(p)` — condition: p still has to freeze (a wakeup was sent).
            freeze_task => freezer::freeze_task, "kernel/freezer.c", "freeze_task(p)", cond, shared, atomic;
            /// `__thaw_task(p)`.
            thaw_task => freezer::thaw_task, "kernel/freezer.c", "__thaw_task(p)", step, shared, atomic;
            /// `__thaw_task(victim)` from `mark_oom_victim` (<= v6.17).
            thaw_victim => freezer::thaw_victim, "kernel/freezer.c", "__thaw_task(victim)", step, shared, atomic;
            /// `thaw_process(victim)`: every thread of the victim (v6.18).
            thaw_process_victim => freezer::thaw_process_victim, "kernel/freezer.c", "thaw_process(victim)", step, shared, atomic;
            /// `count = 0`.
            count_reset => freezer::count_reset, "kernel/power/process.c", "todo = 0", step, local, atomic;
            /// `msleep()` between freezing rounds (`TASK_UNINTERRUPTIBLE`: no signal wakes it).
            msleep => sched::msleep, "kernel/time/timer.c", "msleep(...)", step, local, atomic;
            /// `freeze_processes()` has returned 0 to `suspend_freeze_processes()`: from here the
            /// caller relies on user space being frozen (the I12 window opens; with `check I12s`
            /// the strict window too, until `freeze_kernel_threads()` starts its round). A
            /// marker: no kernel code of its own.
            user_space_frozen => freezer::user_space_frozen, "kernel/power/suspend.c", "/* freeze_processes() returned 0 */", step, shared, atomic;
            /// `suspend_devices_and_enter()`: devices go down (no modelled effect).
            suspend_devices => freezer::suspend_devices, "kernel/power/suspend.c", "suspend_devices_and_enter(state)", step, shared, atomic;
            /// Resume from the suspended state (no modelled effect).
            resume_devices => freezer::resume_devices, "kernel/power/suspend.c", "/* resume from suspend */", step, shared, atomic;
            // mm->flags (include/linux/sched/coredump.h; atomic bitops)
            /// `set_bit(FLAG, &mm->flags)`.
            set_bit(f: MmFlag) => bitops::set_bit, "include/asm-generic/bitops/atomic.h", "set_bit({}, &mm->flags)", step, shared, atomic;
            /// `clear_bit(FLAG, &mm->flags)`.
            clear_bit(f: MmFlag) => bitops::clear_bit, "include/asm-generic/bitops/atomic.h", "clear_bit({}, &mm->flags)", step, shared, atomic;
            /// `test_bit(FLAG, &mm->flags)` — condition.
            test_bit(f: MmFlag) => bitops::test_bit, "include/asm-generic/bitops/atomic.h", "test_bit({}, &mm->flags)", cond, shared, atomic;
            /// `test_and_set_bit(FLAG, &mm->flags)` — condition: it was set.
            test_and_set_bit(f: MmFlag) => bitops::test_and_set_bit, "include/asm-generic/bitops/atomic.h", "test_and_set_bit({}, &mm->flags)", cond, shared, atomic;
            // the VMA walk and exit_mmap's bookkeeping (mm/mmap.c)
            /// `vma = mm->mmap` (list) or `vma = mas_find(&mas, ULONG_MAX)` from 0 (maple).
            vma_first => mmap::vma_first, "mm/mmap.c", "vma = mm->mmap" / "vma = mas_find(&mas, ULONG_MAX)", step, shared, atomic;
            /// `vma = vma->vm_next` (list: reads the VMA) or `mas_find` onwards (maple: reads the tree).
            vma_next => mmap::vma_next, "mm/mmap.c", "vma = vma->vm_next" / "vma = mas_find(&mas, ULONG_MAX)", step, shared, atomic;
            /// `mas_for_each_rev(&mas, vma, 0)`'s first step from `ULONG_MAX` (maple; v6.18
            /// `__oom_reap_task_mm`): the last VMA.
            vma_last => mmap::vma_last, "lib/maple_tree.c", "vma = mas_find_rev(&mas, 0)", step, shared, atomic;
            /// `mas_for_each_rev` onwards: the VMA below the cursor's.
            vma_prev => mmap::vma_prev, "lib/maple_tree.c", "vma = mas_find_rev(&mas, 0)", step, shared, atomic;
            /// `vma->vm_flags & (FLAGS)` — condition.
            vma_test(f: VmFlags) => mmap::vma_test, "include/linux/mm.h", "vma->vm_flags & ({})", cond, shared, atomic;
            /// `vma_is_anonymous(vma) || !(vma->vm_flags & VM_SHARED)` — condition.
            vma_is_anon_or_private => mmap::vma_is_anon_or_private, "mm/oom_kill.c", "vma_is_anonymous(vma) || !(vma->vm_flags & VM_SHARED)", cond, shared, atomic;
            /// `vma->anon_vma` — condition (`unuse_mm`): the VMA has an anon_vma, modelled as
            /// anonymous or private (the anon_vma a private VMA gets at its first write fault).
            vma_anon_vma => mmap::vma_anon_vma, "mm/swapfile.c", "vma->anon_vma", cond, shared, atomic;
            /// `if (vma->vm_flags & VM_ACCOUNT) nr_accounted += vma_pages(vma)`.
            acct_vma => mmap::acct_vma, "mm/mmap.c", "nr_accounted += vma_pages(vma)", step, shared, atomic;
            /// `remove_vma(vma)` (maple era): close, fput, free; the cursor stays (use `vma_next`).
            remove_vma => mmap::remove_vma, "mm/mmap.c", "remove_vma(vma)", step, shared, atomic;
            /// `vma = remove_vma(vma)` (list era): read `vm_next`, then free the VMA.
            remove_vma_next => mmap::remove_vma_next, "mm/mmap.c", "vma = remove_vma(vma)", step, shared, atomic;
            /// `arch_exit_mmap(mm)`: free arch-only page tables (LDT), which no VMA reaches.
            arch_exit_mmap => mmap::arch_exit_mmap, "arch/x86/include/asm/mmu_context.h", "arch_exit_mmap(mm)", step, shared, atomic;
            /// `mm->mmap = NULL` (f798a1d4f94d).
            mm_mmap_clear => mmap::mm_mmap_clear, "mm/mmap.c", "mm->mmap = NULL", step, shared, atomic;
            /// `__mt_destroy(&mm->mm_mt)`.
            mt_destroy => mmap::mt_destroy, "lib/maple_tree.c", "__mt_destroy(&mm->mm_mt)", step, shared, atomic;
            /// `count++` in the maple-era remove loop.
            count_inc => mmap::count_inc, "mm/mmap.c", "count++", step, local, atomic;
            /// `BUG_ON(count != mm->map_count)`.
            bug_on_map_count => mmap::bug_on_map_count, "mm/mmap.c", "BUG_ON(count != mm->map_count)", step, shared, atomic;
            /// `vm_unacct_memory(nr_accounted)`.
            vm_unacct_memory => mmap::vm_unacct_memory, "mm/util.c", "vm_unacct_memory(nr_accounted)", step, shared, atomic;
            // zapping and page-table freeing (mm/memory.c)
            /// `unmap_single_vma` from `unmap_vmas`: zap every PTE of the VMA (under its PT lock).
            unmap_single_vma => memory::unmap_single_vma, "mm/memory.c", "unmap_single_vma(&tlb, vma, ...)", step, shared, atomic;
            /// `unmap_page_range` from the reaper: zap the VMA's PTEs (under its PT lock).
            unmap_page_range => memory::unmap_page_range, "mm/memory.c", "unmap_page_range(&tlb, vma, ...)", step, shared, atomic;
            /// `free_pgtables` for this VMA: free its page-table pages.
            free_pgtables => memory::free_pgtables, "mm/memory.c", "free_pgtables(&tlb, vma, ...)", step, shared, atomic;
            // per-VMA locks and the lockless lookup (v6.4+: include/linux/mm.h, mm/mmap_lock.c,
            // include/linux/rcupdate.h, mm/memory.c), and munmap (mm/mmap.c, mm/vma.c)
            /// `rcu_read_lock()`.
            rcu_read_lock => vma_lock::rcu_read_lock, "include/linux/rcupdate.h", "rcu_read_lock()", step, shared, atomic;
            /// `rcu_read_unlock()`.
            rcu_read_unlock => vma_lock::rcu_read_unlock, "include/linux/rcupdate.h", "rcu_read_unlock()", step, shared, atomic;
            /// `vma = mas_walk(&mas)` at the faulting address, under RCU (`lock_vma_under_rcu`).
            mas_walk => vma_lock::mas_walk, "mm/memory.c", "vma = mas_walk(&mas)", step, shared, atomic;
            /// `vma = vma_next(&vmi)` from 0 under RCU (the lockless `/proc/PID/maps` walk).
            vma_first_rcu => vma_lock::vma_first_rcu, "mm/mmap_lock.c", "vma = vma_next(&vmi) /* under RCU */", step, shared, atomic;
            /// The next VMA of that walk, under RCU.
            vma_next_rcu => vma_lock::vma_next_rcu, "mm/mmap_lock.c", "vma = vma_next(&vmi) /* under RCU */", step, shared, atomic;
            /// `vma = find_vma(mm, address)` (or `vma_find`) under `mmap_lock`: the VMA at the
            /// faulting address.
            find_vma => vma_lock::find_vma, "mm/mmap.c", "vma = find_vma(mm, address)", step, shared, atomic;
            /// `vma_is_anonymous(vma) && vma->anon_vma` — condition.
            vma_is_anonymous => vma_lock::vma_is_anonymous, "mm/memory.c", "vma_is_anonymous(vma) && vma->anon_vma", cond, shared, atomic;
            /// `vma_start_read(vma)` — condition: not write-locked, `down_read_trylock` taken.
            vma_start_read => vma_lock::vma_start_read, "include/linux/mm.h", "vma_start_read(vma)", cond, shared, atomic;
            /// `vma_start_read(mm, vma)` (v6.15+) — condition: a `vm_refcnt` reference taken
            /// (fails on a detached VMA), the VMA not write-locked, `vma->vm_mm == mm`.
            vma_start_read_refcnt => vma_lock::vma_start_read_refcnt, "mm/mmap_lock.c", "vma = vma_start_read(mm, vma)", cond, shared, atomic;
            /// `vma_end_read(vma)`.
            vma_end_read => vma_lock::vma_end_read, "include/linux/mm.h", "vma_end_read(vma)", step, shared, atomic;
            /// `vma_start_write(vma)`: wait for the VMA's readers, then mark it write-locked
            /// until `mmap_write_unlock`; only under `mmap_write_lock`.
            vma_start_write => vma_lock::vma_start_write, "include/linux/mm.h", "vma_start_write(vma)", step, shared, sleeps;
            /// `vma_mark_detached(vma)` (v6.4: `vma->detached = true`).
            vma_mark_detached => vma_lock::vma_mark_detached, "include/linux/mm.h", "vma_mark_detached(vma, true)", step, shared, atomic;
            /// `vma->detached` — condition (v6.4 `lock_vma_under_rcu`'s re-check).
            vma_detached => vma_lock::vma_detached, "mm/memory.c", "vma->detached", cond, shared, atomic;
            /// `address < vma->vm_start || address >= vma->vm_end` — condition.
            vma_outside_addr => vma_lock::vma_outside_addr, "mm/memory.c", "address < vma->vm_start || address >= vma->vm_end", cond, shared, atomic;
            /// `handle_mm_fault(vma, address, flags, regs)` → `do_anonymous_page`: one page
            /// installed under the PTE lock unless `check_stable_address_space` sees
            /// `MMF_UNSTABLE`.
            handle_mm_fault => memory::handle_mm_fault, "mm/memory.c", "fault = handle_mm_fault(vma, address, flags, regs)", step, shared, atomic;
            /// `mmap_write_downgrade(mm)`: `vma_end_write_all`, then the writer becomes a reader.
            mmap_write_downgrade => locking::mmap_write_downgrade, "include/linux/mmap_lock.h", "mmap_write_downgrade(mm)", step, shared, atomic;
            /// `vma_iter_clear(vmi)` and `mm->map_count -= count`: the cursor's VMA leaves
            /// the tree (munmap, under `mmap_write_lock`).
            vma_iter_clear => mmap::vma_iter_clear, "mm/mmap.c", "vma_iter_clear_gfp(vmi, start, end, GFP_KERNEL); mm->map_count -= count", step, shared, atomic;
            /// `remove_vma(vma, false)`: freed through `call_rcu` (v6.4) or into a
            /// `SLAB_TYPESAFE_BY_RCU` cache (v6.15+).
            remove_vma_rcu => mmap::remove_vma_rcu, "mm/mmap.c", "remove_vma(vma, false)", step, shared, atomic;
            // the other mm walkers (mm/swapfile.c, fs/proc/task_mmu.c)
            /// `try_to_unuse`'s `mmget_not_zero(mm)` on an mm found on `mmlist` under
            /// `mmlist_lock` — condition: pinned. `__mmput` takes the mm off the list under
            /// that lock before its `mmdrop`, so a freed mm is never found.
            mmlist_mmget_not_zero => swapfile::mmlist_mmget_not_zero, "mm/swapfile.c", "mmget_not_zero(mm) /* on mmlist, under mmlist_lock */", cond, shared, atomic;
            /// `unuse_vma(vma, type)` (`mm/swapfile.c`): walk the cursor VMA's page tables under
            /// its PTE lock, putting swapped-out pages back.
            unuse_vma => swapfile::unuse_vma, "mm/swapfile.c", "unuse_vma(vma, type)", step, shared, atomic;
            /// `show_map_vma(m, vma)` (`fs/proc/task_mmu.c`): read the cursor VMA's fields
            /// (`vm_start`, `vm_end`, `vm_flags`, `vm_file`).
            show_map_vma => task_mmu::show_map_vma, "fs/proc/task_mmu.c", "show_map_vma(m, vma)", step, shared, atomic;
            /// `get_user_pages_remote(mm, addr, 1, …)` (`mm/gup.c`) for a page of the cursor VMA:
            /// `follow_page_pte` reads its PTE under the PTE lock.
            get_user_pages_remote => gup::get_user_pages_remote, "mm/gup.c", "get_user_pages_remote(mm, addr, 1, gup_flags, &page, &vma, NULL)", step, shared, atomic;
            // mlock (mm/mlock.c)
            /// `mm->locked_vm != 0` — condition.
            locked_vm => mlock::locked_vm, "mm/mmap.c", "mm->locked_vm", cond, shared, atomic;
            /// `munlock_vma_pages_all` part 1 (`munlock_vma_pages_range`): clear `VM_LOCKED`, drop `locked_vm`.
            munlock_vma => mlock::munlock_vma, "mm/mlock.c", "munlock_vma_pages_range(vma, ...)", step, shared, atomic;
            /// `munlock_vma_pages_all` part 2: `follow_page_mask` over the VMA's PTEs (lock-free walk).
            munlock_vma_pages => mlock::munlock_vma_pages, "mm/mlock.c", "follow_page_mask(vma, addr, ...)", step, shared, atomic;
            // steps with no modelled effect: kept so traces read like the source and so that
            // other threads may run between the neighbouring steps
            /// `mmu_notifier_release(mm)`.
            mmu_notifier_release => sched::nop, "mm/mmu_notifier.c", "mmu_notifier_release(mm)", step, local, atomic;
            /// `lru_add_drain()`.
            lru_add_drain => sched::nop, "mm/swap.c", "lru_add_drain()", step, local, atomic;
            /// `flush_cache_mm(mm)`.
            flush_cache_mm => sched::nop, "include/asm-generic/cacheflush.h", "flush_cache_mm(mm)", step, local, atomic;
            /// `tlb_gather_mmu[_fullmm]`.
            tlb_gather_mmu => sched::nop, "mm/mmu_gather.c", "tlb_gather_mmu(&tlb, mm)", step, local, atomic;
            /// `tlb_finish_mmu`.
            tlb_finish_mmu => sched::nop, "mm/mmu_gather.c", "tlb_finish_mmu(&tlb)", step, local, atomic;
            /// `trace_exit_mmap(mm)`.
            trace_exit_mmap => sched::nop, "include/trace/events/mmap.h", "trace_exit_mmap(mm)", step, local, atomic;
            /// `mt_clear_in_rcu(&mm->mm_mt)`.
            mt_clear_in_rcu => sched::nop, "include/linux/maple_tree.h", "mt_clear_in_rcu(&mm->mm_mt)", step, local, atomic;
            /// `cond_resched()`.
            cond_resched => sched::nop, "kernel/sched/core.c", "cond_resched()", step, local, atomic;
            /// `mmu_notifier_invalidate_range_start_nonblock` (never fails in the model).
            mmu_notifier_invalidate_range_start => sched::nop, "mm/mmu_notifier.c", "mmu_notifier_invalidate_range_start_nonblock(&range)", step, local, atomic;
            /// `mmu_notifier_invalidate_range_end`.
            mmu_notifier_invalidate_range_end => sched::nop, "mm/mmu_notifier.c", "mmu_notifier_invalidate_range_end(&range)", step, local, atomic;
            /// `schedule_timeout_idle(HZ/10)` between reaper attempts.
            schedule_timeout_idle => sched::schedule_timeout_idle, "kernel/time/timer.c", "schedule_timeout_idle(HZ/10)", step, local, sleeps;
        }
    };
}

pub(crate) use with_prim_table;

with_prim_table!(define_prims);

/// Other names for a primitive (kernel helpers that are one primitive with a fixed argument).
pub const ALIASES: [(&str, Prim); 3] = [
    (
        "freezer_do_not_count",
        Prim::set_pf(PfFlags(pf::PF_FREEZER_SKIP)),
    ),
    (
        "freezer_count",
        Prim::clear_pf(PfFlags(pf::PF_FREEZER_SKIP)),
    ),
    ("mm_is_oom_victim", Prim::test_bit(MmFlag::MMF_OOM_VICTIM)),
];

/// Kernel text that depends on the argument beyond the table's `{}`: the helpers named for
/// one argument (`mm_is_oom_victim(mm)` is `test_bit(MMF_OOM_VICTIM, &mm->flags)`).
pub const KERNEL_TEXT: [(Prim, &str); 5] = [
    (
        Prim::test_bit(MmFlag::MMF_OOM_VICTIM),
        "mm_is_oom_victim(mm)",
    ),
    (
        Prim::set_pf(PfFlags(pf::PF_FREEZER_SKIP)),
        "freezer_do_not_count()",
    ),
    (
        Prim::clear_pf(PfFlags(pf::PF_FREEZER_SKIP)),
        "freezer_count()",
    ),
    (Prim::mutex_lock(Lock::IRwsem), "inode_lock(inode)"),
    (Prim::mutex_unlock(Lock::IRwsem), "inode_unlock(inode)"),
];

impl Prim {
    /// The modelled locations (by class) this primitive may read and write, as its semantics
    /// in `interp` report them (`World::access`). The exhaustive search drops race history
    /// no thread can still check against ([`super::Footprint`]), so a missing class would hide
    /// a race: every reported access is checked against this table as it happens (the
    /// harness's oracle panics on one it does not cover).
    pub fn footprint(self) -> super::Footprint {
        use super::event::class::*;
        let (reads, writes) = match self {
            // A PTE walk reads the VMA and reads or writes its page tables (memory::walk_ptes).
            Prim::unmap_single_vma | Prim::unmap_page_range | Prim::unuse_vma => (OBJ | PTES, PTES),
            Prim::get_user_pages_remote | Prim::munlock_vma_pages => (OBJ | PTES, 0),
            Prim::handle_mm_fault | Prim::free_pgtables => (OBJ, PTES),
            Prim::copy_page_range => (0, PTES),
            Prim::mt_dup
            | Prim::vma_iter_bulk_store
            | Prim::mas_store_zero
            | Prim::vma_iter_clear
            | Prim::mt_destroy => (0, TREE),
            Prim::locked_vm => (LOCKED, 0),
            Prim::munlock_vma => (0, FLAGS | LOCKED),
            Prim::vma_first => (MMAP | TREE, 0),
            Prim::vma_next => (OBJ | TREE, 0),
            Prim::vma_last | Prim::vma_prev | Prim::find_vma => (TREE, 0),
            Prim::vma_test(_)
            | Prim::vma_is_anon_or_private
            | Prim::vma_anon_vma
            | Prim::acct_vma => (FLAGS, 0),
            Prim::remove_vma
            | Prim::remove_vma_next
            | Prim::remove_vma_rcu
            | Prim::vma_start_write
            | Prim::vma_mark_detached => (0, OBJ),
            Prim::arch_exit_mmap => (0, ARCH),
            Prim::mm_mmap_clear => (0, MMAP),
            // Lockless readers read the VMA they found (vma_lock::rcu_read_vma).
            Prim::show_map_vma
            | Prim::vma_is_anonymous
            | Prim::vma_start_read
            | Prim::vma_start_read_refcnt
            | Prim::vma_end_read
            | Prim::vma_detached
            | Prim::vma_outside_addr => (OBJ, 0),
            _ => (0, 0),
        };
        super::Footprint { reads, writes }
    }
}

impl Prim {
    /// Whether the primitive yields a truth value (may stand in an `if`/`while`).
    pub fn is_cond(self) -> bool {
        self.info().cond
    }

    /// The kernel source this step stands for, as a report prints it: the table's text with
    /// the argument in place of `{}` (`set_bit(MMF_OOM_SKIP, &mm->flags)`), or the helper of
    /// [`KERNEL_TEXT`]. A condition's text is true exactly when the primitive yields true
    /// (`!mmap_read_lock_killable(mm)`: acquired). `maple`: the config keeps its VMAs in the
    /// maple tree.
    pub fn kernel_text(self, maple: bool) -> String {
        if let Some((_, t)) = KERNEL_TEXT.iter().find(|(p, _)| *p == self) {
            return (*t).to_string();
        }
        let info = self.info();
        let text = if maple {
            info.kernel_maple
        } else {
            info.kernel
        };
        let name = self.name();
        match name.split_once(' ') {
            Some((_, arg)) => text.replacen("{}", arg, 1),
            None => text.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Prim;

    /// The table is consistent with the code and the docs: names are unique and parse back,
    /// each row's semantics is in the `interp` module it names, and `docs/path-language.md`
    /// documents every primitive.
    #[test]
    fn the_table_matches_the_modules_and_the_docs() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let doc = std::fs::read_to_string(root.join("docs/path-language.md")).unwrap();
        let mut names = std::collections::HashSet::new();
        for row in Prim::TABLE {
            assert!(names.insert(row.name), "{} twice", row.name);
            let (module, func) = row.semantics.split_once("::").unwrap();
            let src = std::fs::read_to_string(root.join(format!("src/mm/interp/{module}.rs")))
                .unwrap_or_else(|_| panic!("{}: no module {module}", row.name));
            assert!(
                src.contains(&format!("pub(super) fn {func}(")),
                "{}: no fn {func} in {module}.rs",
                row.name
            );
            assert!(
                doc.contains(&format!("`{}", row.name)),
                "{} is not in docs/path-language.md",
                row.name
            );
            assert!(!row.file.is_empty());
        }
    }

    /// Reads, for any argument type, the first of a few words it parses.
    struct AnyWord;

    impl super::Words for AnyWord {
        type Err = String;
        fn arg<T: super::Arg>(&mut self) -> Result<T, String> {
            [
                "oom_lock",
                "MMF_OOM_SKIP",
                "pm_freezing",
                "VM_LOCKED",
                "PF_SUSPEND_TASK",
            ]
            .iter()
            .find_map(|w| T::parse(w).ok())
            .ok_or_else(|| T::EXPECT.to_string())
        }
    }

    /// Every primitive has its kernel text, for both VMA stores, with its argument in place
    /// (or a helper of `KERNEL_TEXT` that names it).
    #[test]
    fn every_primitive_has_its_kernel_text() {
        for row in Prim::TABLE {
            let p = Prim::parse(row.name, &mut AnyWord).unwrap().unwrap();
            for maple in [false, true] {
                let text = p.kernel_text(maple);
                assert!(!text.trim().is_empty(), "{}: no kernel text", row.name);
                assert!(!text.contains("{}"), "{}: {text}", row.name);
                if let Some((_, arg)) = p.name().split_once(' ') {
                    assert!(text.contains(arg), "{}: {text} lacks {arg}", row.name);
                }
            }
            assert_eq!(
                row.kernel.matches("{}").count(),
                usize::from(p.name().contains(' '))
            );
        }
        for (p, text) in super::KERNEL_TEXT {
            assert_eq!(p.kernel_text(false), text);
        }
        use crate::mm::types::{Global, MmFlag};
        assert_eq!(
            Prim::test_bit(MmFlag::MMF_OOM_SKIP).kernel_text(false),
            "test_bit(MMF_OOM_SKIP, &mm->flags)"
        );
        assert_eq!(
            Prim::test_bit(MmFlag::MMF_OOM_VICTIM).kernel_text(false),
            "mm_is_oom_victim(mm)"
        );
        assert_eq!(
            Prim::test_global(Global::pm_freezing).kernel_text(false),
            "pm_freezing"
        );
        assert_eq!(Prim::vma_first.kernel_text(false), "vma = mm->mmap");
        assert!(Prim::vma_first
            .kernel_text(true)
            .starts_with("vma = mas_find"));
    }

    /// `name()` prints what the parser reads, argument included.
    #[test]
    fn names_print_as_written_in_path_files() {
        use super::{PfFlags, VmFlags};
        use crate::mm::types::{pf, vm, Global, Lock, MmFlag};
        let cases = [
            (Prim::free_pgtables, "free_pgtables"),
            (Prim::mutex_lock(Lock::OomLock), "mutex_lock oom_lock"),
            (
                Prim::test_bit(MmFlag::MMF_OOM_SKIP),
                "test_bit MMF_OOM_SKIP",
            ),
            (
                Prim::vma_test(VmFlags(vm::VM_LOCKED | vm::VM_HUGETLB)),
                "vma_test VM_LOCKED|VM_HUGETLB",
            ),
            (Prim::set_pf(PfFlags(pf::PF_NOFREEZE)), "set_pf PF_NOFREEZE"),
            (
                Prim::test_global(Global::pm_nosig_freezing),
                "test_global pm_nosig_freezing",
            ),
            (Prim::cond_resched, "cond_resched"),
        ];
        for (p, text) in cases {
            assert_eq!(p.name(), text);
        }
        assert!(Prim::mmap_read_trylock.is_cond() && !Prim::mmap_read_lock.is_cond());
        assert!(Prim::msleep.info().local && !Prim::free_pgtables.info().local);
    }
}
