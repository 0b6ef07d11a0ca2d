//! The modelled state: one mm and its VMAs, the victim task, the locks, and the threads.
//! Plain data: cheap to clone, hashable, no clocks, no randomness.

use crate::maple::MapleTree;

use super::types::Lock;
pub use super::types::{pf, Role, Tid, VmaId};
use super::types::{vm, MmFlag};

/// Most threads in one scenario.
pub const MAX_THREADS: usize = 6;
/// Most VMAs in one scenario.
pub const MAX_VMAS: usize = 8;
/// Pages are 4 KiB.
pub const PAGE_SIZE: u64 = 4096;

/// A `vm_area_struct`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Vma {
    /// `vm_start`.
    pub start: u64,
    /// Number of pages (`vma_pages`).
    pub pages: u64,
    /// `vm_flags` ([`vm`] bits).
    pub flags: u8,
    /// `vma_is_anonymous`.
    pub anon: bool,
    /// Resident (mapped) pages.
    pub resident: u64,
    /// Page-table pages are allocated.
    pub pt: bool,
    /// Page-table pages were freed by `free_pgtables`.
    pub pt_freed: bool,
    /// Not yet freed by `remove_vma`.
    pub live: bool,
    /// `vm_unacct_memory` already counted it.
    pub unaccounted: bool,
    /// `vm_next` in `mm->mmap`.
    pub next: Option<VmaId>,
    /// It belongs to the parent of a fork (`vma->vm_mm == oldmm`): the child's tree points at
    /// it from `__mt_dup` until `dup_mmap` stores the child's copy over it (v6.8+).
    pub parent: bool,
    /// Per-VMA lock (v6.4+, `include/linux/mm.h`).
    pub lock: VmaLock,
}

/// A VMA's own lock and state for lockless readers (v6.4+): `vm_lock_seq` against
/// `mm_lock_seq`, the `vm_lock->lock` rwsem, `vma->detached`, and how it was freed.
/// `mm_lock_seq` is abstracted away: "`vm_lock_seq == mm_lock_seq`" is [`VmaLock::wlocked`],
/// which `vma_end_write_all` (every `mmap_write_unlock`, `mmap_write_downgrade`) clears.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct VmaLock {
    /// Write-locked by `vma_start_write` under `mmap_write_lock`, until the write lock ends.
    pub wlocked: bool,
    /// Threads holding `vm_lock->lock` for read (`vma_start_read` .. `vma_end_read`).
    pub readers: u8,
    /// Threads in `vma_start_write` waiting for those readers (`down_write`): a
    /// `down_read_trylock` fails meanwhile.
    pub writers_waiting: u8,
    /// `vma->detached` (v6.4 `vma_mark_detached`; v6.15+ a zero `vm_refcnt`): no longer in
    /// the mm's tree.
    pub detached: bool,
    /// Freed through RCU (`vm_area_free` → `call_rcu` in v6.4; a `SLAB_TYPESAFE_BY_RCU`
    /// cache in v6.15+): a reader inside an `rcu_read_lock` section that found it before it
    /// was detached may still read its fields.
    pub rcu_freed: bool,
}

impl Vma {
    /// `vm_end`.
    pub fn end(&self) -> u64 {
        self.start + self.pages * PAGE_SIZE
    }
}

/// The `mmap_lock` rwsem (`kernel/locking/rwsem.c`): readers, a writer, and a FIFO of waiters.
/// A reader queues behind any waiter (so a waiting writer blocks new readers) unless the
/// config lets readers steal an unowned lock, `trylock` fails if anyone waits, and unlock
/// grants the lock to every reader at the head up to the next writer, or wakes a writer at
/// the head, which then takes the lock itself. Not modelled, both only with two writers
/// (`exit_mmap` is the only one here): v5.x `rwsem_mark_wake` also wakes readers queued behind
/// a writer, and a new writer may take the lock before a woken one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Rwsem {
    /// Bitmask of reader threads.
    pub readers: u8,
    /// The writer.
    pub writer: Option<Tid>,
    /// Waiters in arrival order: thread and whether it wants write.
    pub waiters: Vec<(Tid, bool)>,
}

/// A mutex or spinlock with FIFO hand-off.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Mutex {
    /// The holder.
    pub owner: Option<Tid>,
    /// Waiters in arrival order.
    pub waiters: Vec<Tid>,
}

/// The `mm_struct`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Mm {
    /// `mm_users`.
    pub users: i32,
    /// `mm_count`.
    pub count: i32,
    /// `mm->flags` ([`MmFlag::bit`]).
    pub flags: u8,
    /// `mm->mmap`, the list head.
    pub mmap: Option<VmaId>,
    /// `mm->mm_mt`.
    pub tree: MapleTree<VmaId>,
    /// `mm->map_count`.
    pub map_count: u32,
    /// `mm->locked_vm` (pages).
    pub locked_vm: u64,
    /// Arch-only page tables (e.g. the LDT's) are allocated.
    pub arch_pt: bool,
    /// The `mm_struct` itself was freed (`mm_count` reached 0).
    pub freed: bool,
    /// `mm->mmap_lock`.
    pub lock: Rwsem,
    /// On `mmlist` (it has swap entries), where `swapoff` finds it: from the start for a
    /// process, from `copy_page_range`'s first swap entry for a fork's child.
    pub on_mmlist: bool,
}

impl Mm {
    /// Is the flag set?
    pub fn test(&self, f: MmFlag) -> bool {
        self.flags & f.bit() != 0
    }
}

/// The victim task (the process whose mm is torn down).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Task {
    /// `task->mm` is still set (cleared by `exit_mm`).
    pub has_mm: bool,
    /// `TIF_MEMDIE` is set on one of its threads.
    pub memdie: bool,
    /// The thread that has `TIF_MEMDIE`: the one `find_lock_task_mm` found (the first thread
    /// with an mm; None until threads start, for a set-up's kill).
    pub memdie_thread: Option<Tid>,
    /// The threads of the victim that still have `task->mm` (bit per thread id).
    pub mm_threads: u8,
    /// `signal->oom_mm` is set (`tsk_is_oom_victim`).
    pub oom_mm: bool,
    /// A fatal signal is pending / the group is exiting (`task_will_free_mem`).
    pub exiting: bool,
    /// `task_struct` usage count held by others (queue, pidfd).
    pub usage: i32,
    /// `task_lock(p)`.
    pub alloc_lock: Mutex,
}

/// A thread's run state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Status {
    /// May be chosen.
    Runnable,
    /// Waiting for a lock, a wakeup, or a thaw.
    Blocked,
    /// Returned from its entry path.
    Done,
}

/// One activation of a path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Frame {
    /// Index of the compiled path.
    pub path: u16,
    /// Next instruction.
    pub pc: u16,
    /// `let` variables (bit i = variable i).
    pub vars: u8,
    /// Loop counters of `retry` loops.
    pub counters: [u8; 4],
    /// This activation's `ret` (set by `ret = …` and by the return value of a `call`).
    pub ret: i32,
    /// The locks the thread held when the path was entered ([`World::held_mask`]): a path
    /// must return holding exactly these (I10, checked at every `return`, early ones too).
    pub held: u8,
}

/// A call stack, inline up to four activations (the search clones and decodes one per thread
/// per state: no allocation for the usual depths).
pub type Frames = smallvec::SmallVec<[Frame; 4]>;

/// A thread of the scenario.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Thread {
    /// What it is.
    pub role: Role,
    /// Call stack; empty when done.
    pub frames: Frames,
    /// The VMA cursor (`vma`).
    pub vma: Option<VmaId>,
    /// Next index for `mas_find` in the maple era.
    pub mas_index: Option<u64>,
    /// The entry path's return value, once it has returned.
    pub ret: i32,
    /// `count` of the maple-era remove loop.
    pub count: u32,
    /// `nr_accounted`.
    pub nr_accounted: u64,
    /// Run state.
    pub status: Status,
    /// `mm_users` references this thread holds.
    pub pins: i8,
    /// `mm_count` references this thread holds.
    pub grabs: i8,
    /// `task_struct` references this thread holds.
    pub task_refs: i8,
    /// Steps taken.
    pub steps: u32,
    /// The task's freezer state.
    pub frz: Freezer,
    /// `for_each_process_thread` cursor (another thread's id).
    pub task_cursor: Option<Tid>,
    /// The thread has returned from `exit_mm` (its mm released, `exit_oom_victim` done).
    pub exited_mm: bool,
    /// Inside an `rcu_read_lock` section.
    pub rcu: bool,
}

/// How a thread sleeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Sleep {
    /// Not sleeping.
    No,
    /// In `__refrigerator` (`TASK_UNINTERRUPTIBLE`, or `TASK_FROZEN` today): only a thaw wakes it.
    Frozen,
    /// `TASK_INTERRUPTIBLE` on a wait queue (the reaper's `oom_reaper_wait`, `msleep`); any
    /// wakeup, a fake signal included, wakes it.
    Interruptible,
    /// `TASK_INTERRUPTIBLE|TASK_FREEZABLE` on a wait queue (v6.1+ `wait_event_freezable`): woken
    /// as [`Sleep::Interruptible`], and `__freeze_task` may freeze it where it sleeps.
    Freezable,
    /// `wait_event(oom_victims_wait, !atomic_read(&oom_victims))`, with a timeout or not.
    OomVictims {
        /// `wait_event_interruptible_timeout` (v4.9+).
        timeout: bool,
    },
}

/// A task's freezer state (`kernel/freezer.c`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Freezer {
    /// `PF_*` bits ([`pf`]).
    pub pf: u8,
    /// `PF_FROZEN` (<= v6.0) / `TASK_FROZEN` (>= v6.1).
    pub frozen: bool,
    /// `frozen` as of the task's last release of `freezer_lock`: what `frozen(p)` tells a
    /// reader that takes `freezer_lock`, as the kernel's do (`__refrigerator` sets the flag
    /// and may clear it again within one hold of the lock).
    pub frozen_stable: bool,
    /// How it sleeps.
    pub sleep: Sleep,
    /// `p->saved_state` (v6.1+, f5d39b020809): the sleep `__freeze_task` froze it in, until
    /// a wakeup that sleep accepts (`ttwu_state_match` sets it to `TASK_RUNNING`: `None`) or
    /// `__thaw_task`, which restores it.
    pub saved: Option<Sleep>,
    /// A wakeup came while it was still running towards `schedule()` (the task state was set
    /// back to `TASK_RUNNING`): its next sleep returns at once.
    pub woken: bool,
}

impl Freezer {
    /// A wakeup that the sleep it was frozen in accepts, on a task `__freeze_task` froze where
    /// it slept (v6.1+; `ttwu_state_match`, v6.18.2 kernel/sched/core.c:3992-4021): its
    /// `saved_state` becomes `TASK_RUNNING` and it stays frozen until `__thaw_task` wakes it.
    /// Whether it was such a task.
    pub fn wake_saved(&mut self) -> bool {
        let hit = self.sleep == Sleep::Frozen && self.saved.is_some();
        if hit {
            self.saved = None;
        }
        hit
    }
}

/// The whole modelled world.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct World {
    /// The mm being torn down.
    pub mm: Mm,
    /// Every VMA ever created (freed ones stay, marked not live).
    pub vmas: Vec<Vma>,
    /// The victim task.
    pub victim: Task,
    /// `oom_lock`.
    pub oom_lock: Mutex,
    /// `oom_reaper_lock`.
    pub oom_reaper_lock: Mutex,
    /// `vm_committed_as`, in pages.
    pub committed: i64,
    /// `oom_reaper_list`: queued tasks, head first (the victim is task 0).
    pub oom_reaper_list: Vec<u8>,
    /// Threads sleeping in `wait_event_freezable(oom_reaper_wait, oom_reaper_list != NULL)`.
    pub oom_reaper_waiters: u8,
    /// `oom_victims`: tasks marked by `mark_oom_victim` and not yet through `exit_oom_victim`.
    pub oom_victims: i32,
    /// `system_freezing_cnt` (the static key `freezer_active` today).
    pub freezing_cnt: i32,
    /// `pm_freezing`.
    pub pm_freezing: bool,
    /// `pm_nosig_freezing`.
    pub pm_nosig_freezing: bool,
    /// `oom_killer_disabled`.
    pub oom_killer_disabled: bool,
    /// The victim's cgroup v1 freezer is `FROZEN` (`cgroup_freezing(p)`,
    /// `kernel/cgroup/legacy_freezer.c`), with no thaw to come.
    pub cgroup_frozen: bool,
    /// `freezer_lock`.
    pub freezer_lock: Mutex,
    /// `inode->i_rwsem` of a file the victim and the holder task share.
    pub i_rwsem: Mutex,
    /// `freeze_processes()` has returned 0 and `thaw_processes()` has not yet cleared
    /// `pm_freezing`: the caller relies on user space being frozen (the I12 window).
    pub frozen_claim: bool,
    /// The first part of that window, before `freeze_kernel_threads()` sets
    /// `pm_nosig_freezing` for its round (the I12s window).
    pub strict_window: bool,
    /// The parent's VMA at which a fork's `dup_mmap` fails (a fatal signal or `-ENOMEM`
    /// there); the number of VMAs: `arch_dup_mmap` fails after the loop.
    pub fork_fail_at: u8,
    /// The user address a `fault` thread faults on and a `munmap` thread unmaps: the start
    /// of the lowest VMA when the threads start (0: none).
    pub fault_addr: u64,
    /// The threads.
    pub threads: Vec<Thread>,
}

/// A set-up operation refused (e.g. a VMA index that does not exist).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetupError(pub String);

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

impl World {
    /// Every mutex and spinlock with its [`Lock`], in [`crate::mm::interp::HELD_LOCKS`]
    /// order (after `mmap_lock`'s two modes). A new one goes here, in `mutex_of`
    /// (`interp/locking.rs`) and in `HELD_LOCKS`.
    pub fn mutexes(&self) -> [(Lock, &Mutex); 5] {
        [
            (Lock::OomLock, &self.oom_lock),
            (Lock::OomReaperLock, &self.oom_reaper_lock),
            (Lock::TaskLock, &self.victim.alloc_lock),
            (Lock::FreezerLock, &self.freezer_lock),
            (Lock::IRwsem, &self.i_rwsem),
        ]
    }

    /// A process with an empty mm (`mm_users` 1, `mm_count` 1) and arch page tables.
    pub fn new() -> Self {
        World {
            mm: Mm {
                users: 1,
                count: 1,
                flags: 0,
                mmap: None,
                tree: MapleTree::new(),
                map_count: 0,
                locked_vm: 0,
                arch_pt: true,
                freed: false,
                lock: Rwsem::default(),
                on_mmlist: true,
            },
            vmas: Vec::new(),
            victim: Task {
                has_mm: true,
                ..Task::default()
            },
            oom_lock: Mutex::default(),
            oom_reaper_lock: Mutex::default(),
            committed: 0,
            oom_reaper_list: Vec::new(),
            oom_reaper_waiters: 0,
            oom_victims: 0,
            freezing_cnt: 0,
            pm_freezing: false,
            pm_nosig_freezing: false,
            oom_killer_disabled: false,
            cgroup_frozen: false,
            freezer_lock: Mutex::default(),
            i_rwsem: Mutex::default(),
            frozen_claim: false,
            strict_window: false,
            fork_fail_at: 0,
            fault_addr: 0,
            threads: Vec::new(),
        }
    }

    /// Live VMAs reachable from `mm->mmap`, in order.
    pub fn list(&self) -> Vec<VmaId> {
        let mut v = Vec::new();
        let mut at = self.mm.mmap;
        while let Some(i) = at {
            if v.len() > MAX_VMAS {
                break;
            }
            v.push(i);
            at = self.vmas[i as usize].next;
        }
        v
    }

    fn relink(&mut self, order: &[VmaId]) {
        self.mm.mmap = order.first().copied();
        for (k, &i) in order.iter().enumerate() {
            self.vmas[i as usize].next = order.get(k + 1).copied();
        }
    }

    /// `mmap(2)` of `pages` pages with `flags` (set-up, atomic): the new VMA is placed above
    /// the others with a one-page hole, linked into `mm->mmap` and stored in `mm->mm_mt`.
    pub fn setup_mmap(&mut self, pages: u64, flags: u8, anon: bool) -> Result<VmaId, SetupError> {
        if self.vmas.len() >= MAX_VMAS {
            return Err(SetupError(format!("at most {MAX_VMAS} VMAs")));
        }
        let pages = pages.clamp(1, 512);
        let start = self.vmas.iter().map(|v| v.end()).max().unwrap_or(0x10_0000) + PAGE_SIZE;
        let id = self.vmas.len() as VmaId;
        self.vmas.push(Vma {
            start,
            pages,
            flags: flags & !vm::VM_LOCKED,
            anon,
            resident: 0,
            pt: false,
            pt_freed: false,
            live: true,
            unaccounted: false,
            next: None,
            parent: false,
            lock: VmaLock::default(),
        });
        let mut order = self.list();
        order.push(id);
        self.relink(&order);
        self.mm
            .tree
            .mtree_store_range(start, start + pages * PAGE_SIZE - 1, Some(id))
            .expect("valid range");
        self.mm.map_count += 1;
        if flags & vm::VM_ACCOUNT != 0 {
            self.committed += pages as i64;
        }
        if flags & vm::VM_LOCKED != 0 {
            self.setup_mlock(id)?;
        }
        Ok(id)
    }

    fn live_vma(&self, id: VmaId) -> Result<usize, SetupError> {
        match self.vmas.get(id as usize) {
            Some(v) if v.live => Ok(id as usize),
            _ => Err(SetupError(format!("no live VMA {id}"))),
        }
    }

    /// A page fault on every page of the VMA (set-up): pages resident, page tables allocated.
    pub fn setup_fault(&mut self, id: VmaId) -> Result<(), SetupError> {
        let i = self.live_vma(id)?;
        let v = &mut self.vmas[i];
        if v.flags & (vm::VM_PFNMAP) == 0 || v.resident == 0 {
            v.resident = v.pages;
        }
        v.pt = true;
        Ok(())
    }

    /// `mlock(2)` over the VMA (set-up): `VM_LOCKED`, `locked_vm`, populated.
    pub fn setup_mlock(&mut self, id: VmaId) -> Result<(), SetupError> {
        let i = self.live_vma(id)?;
        if self.vmas[i].flags & vm::VM_LOCKED == 0 {
            self.vmas[i].flags |= vm::VM_LOCKED;
            self.mm.locked_vm += self.vmas[i].pages;
        }
        self.setup_fault(id)
    }

    /// `munmap(2)` of the whole VMA (set-up, under the write lock with nobody else).
    pub fn setup_munmap(&mut self, id: VmaId) -> Result<(), SetupError> {
        let i = self.live_vma(id)?;
        let order: Vec<VmaId> = self.list().into_iter().filter(|&x| x != id).collect();
        self.relink(&order);
        let v = self.vmas[i].clone();
        self.mm
            .tree
            .mtree_store_range(v.start, v.end() - 1, None)
            .expect("valid range");
        self.mm.map_count -= 1;
        if v.flags & vm::VM_LOCKED != 0 {
            self.mm.locked_vm -= v.pages;
        }
        if v.flags & vm::VM_ACCOUNT != 0 {
            self.committed -= v.pages as i64;
        }
        let v = &mut self.vmas[i];
        v.resident = 0;
        v.pt_freed = v.pt;
        v.live = false;
        v.unaccounted = true;
        v.next = None;
        Ok(())
    }

    /// The OOM killer picks the victim (set-up): `mark_oom_victim` (`TIF_MEMDIE`,
    /// `signal->oom_mm` with `mmgrab`, `MMF_OOM_VICTIM`), SIGKILL, and the victim queued for the
    /// reaper (`get_task_struct`, `MMF_OOM_REAP_QUEUED`).
    pub fn setup_oom_kill(&mut self) -> Result<(), SetupError> {
        if self.victim.oom_mm {
            return Err(SetupError("the victim is already marked".into()));
        }
        self.mark_oom_victim();
        self.victim.usage += 1;
        self.mm.flags |= MmFlag::MMF_OOM_REAP_QUEUED.bit();
        self.oom_reaper_list.push(0);
        Ok(())
    }

    /// `mark_oom_victim(victim)` with the SIGKILL of `oom_kill_process` (`mm/oom_kill.c`):
    /// `TIF_MEMDIE`, `signal->oom_mm` (one `mmgrab`), `MMF_OOM_VICTIM`, `oom_victims++`.
    pub fn mark_oom_victim(&mut self) {
        self.victim.exiting = true;
        if self.victim.memdie {
            return;
        }
        self.victim.memdie = true;
        // find_lock_task_mm: the first thread of the group that still has its mm.
        self.victim.memdie_thread =
            (0..self.threads.len() as Tid).find(|&t| self.victim.mm_threads & (1 << t) != 0);
        if !self.victim.oom_mm {
            self.victim.oom_mm = true;
            self.mm.count += 1;
            self.mm.flags |= MmFlag::MMF_OOM_VICTIM.bit();
        }
        self.oom_victims += 1;
    }

    /// The victim's cgroup v1 freezer set to `FROZEN` (set-up): `freezer_apply_state`
    /// raises `freezer_active` and every task of the cgroup freezes at its next
    /// `try_to_freeze`.
    pub fn setup_cgroup_freeze(&mut self) -> Result<(), SetupError> {
        if self.cgroup_frozen {
            return Err(SetupError("the victim's cgroup is already frozen".into()));
        }
        self.cgroup_frozen = true;
        self.freezing_cnt += 1;
        Ok(())
    }

    /// A fork's `dup_mmap` fails at the parent's VMA `vma` (set-up; fault injection, as
    /// syzbot's `fail_nth`): `vma` equal to the number of VMAs makes `arch_dup_mmap` fail.
    pub fn setup_fork_fails(&mut self, vma: u8) -> Result<(), SetupError> {
        let n = self.vmas.iter().filter(|v| v.live).count();
        if usize::from(vma) > n {
            return Err(SetupError(format!(
                "dup_mmap cannot fail at VMA {vma}: the parent has {n}"
            )));
        }
        self.fork_fail_at = vma;
        Ok(())
    }

    /// A fatal signal to the victim without an OOM kill (set-up): `task_will_free_mem` holds.
    pub fn setup_kill(&mut self) {
        self.victim.exiting = true;
    }

    /// Is some thread other than `tid` holding `mmap_lock` for read?
    pub fn other_readers(&self, tid: Tid) -> u8 {
        self.mm.lock.readers & !(1 << tid)
    }
}
