//! The step function: one primitive of one thread, then the thread's free local instructions.
//!
//! A step is a deterministic function of the world and the thread chosen. It reports what it
//! did as [`Event`]s (lock operations, accesses to modelled objects, frees, faults) for the
//! harness's oracles; the model itself only records facts (e.g. that an access hit a freed
//! object), it does not judge them.

use super::lang::{vm, Freezing, Global, GlobalLock, MmFlag, Prim, Value, VmaStore};
use super::program::{Insn, Local, Program};
use super::state::{
    pf, Frame, Freezer, Mutex, Role, Sleep, Status, Thread, Tid, VmaId, World, MAX_THREADS,
};

/// A lock, for events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lock {
    /// `mm->mmap_lock`.
    MmapLock,
    /// `oom_lock`.
    OomLock,
    /// `oom_reaper_lock`.
    OomReaperLock,
    /// `task_lock(victim)` (`alloc_lock`).
    TaskLock,
    /// `freezer_lock`.
    FreezerLock,
    /// `inode->i_rwsem` of the shared file.
    IRwsem,
    /// The page-table lock of one VMA's page tables.
    Ptl(VmaId),
}

impl Lock {
    /// Kernel name.
    pub fn name(self) -> String {
        match self {
            Lock::MmapLock => "mmap_lock".into(),
            Lock::OomLock => "oom_lock".into(),
            Lock::OomReaperLock => "oom_reaper_lock".into(),
            Lock::TaskLock => "task_lock".into(),
            Lock::FreezerLock => "freezer_lock".into(),
            Lock::IRwsem => "i_rwsem".into(),
            Lock::Ptl(v) => format!("ptl(vma{v})"),
        }
    }
    /// Spinlocks may not be held across a sleep.
    pub fn is_spin(self) -> bool {
        matches!(
            self,
            Lock::OomReaperLock | Lock::TaskLock | Lock::FreezerLock | Lock::Ptl(_)
        )
    }
}

/// A modelled memory location (for use-after-free and race detection).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Loc {
    /// The `vm_area_struct` itself (fields other than flags).
    VmaObj(VmaId),
    /// `vma->vm_flags`.
    VmaFlags(VmaId),
    /// The VMA's page-table entries and page-table pages.
    VmaPtes(VmaId),
    /// `mm->mmap`.
    MmMmap,
    /// `mm->mm_mt`.
    MmTree,
    /// `mm->locked_vm`.
    MmLockedVm,
    /// The arch-only page tables.
    MmArchPt,
    /// Any other field of the `mm_struct` (flags, counters).
    MmStruct,
}

impl Loc {
    /// Kernel-style name.
    pub fn name(self) -> String {
        match self {
            Loc::VmaObj(v) => format!("vma{v}"),
            Loc::VmaFlags(v) => format!("vma{v}->vm_flags"),
            Loc::VmaPtes(v) => format!("vma{v} page tables"),
            Loc::MmMmap => "mm->mmap".into(),
            Loc::MmTree => "mm->mm_mt".into(),
            Loc::MmLockedVm => "mm->locked_vm".into(),
            Loc::MmArchPt => "arch page tables".into(),
            Loc::MmStruct => "mm_struct".into(),
        }
    }
}

/// What a step did.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    /// A lock was taken (also on hand-off to a waiter: `tid` is the new holder).
    Acquire {
        /// Holder.
        tid: Tid,
        /// Lock.
        lock: Lock,
        /// For read.
        shared: bool,
    },
    /// A lock was released.
    Release {
        /// Former holder.
        tid: Tid,
        /// Lock.
        lock: Lock,
        /// Was held for read.
        shared: bool,
    },
    /// A thread went to sleep waiting for a lock.
    Block {
        /// Waiter.
        tid: Tid,
        /// Lock.
        lock: Lock,
    },
    /// A read or write of a modelled location; `freed` if its object was already freed.
    Access {
        /// Accessor.
        tid: Tid,
        /// Location.
        loc: Loc,
        /// Write (else read).
        write: bool,
        /// The object had been freed (use after free).
        freed: bool,
    },
    /// An atomic read-modify-write with full ordering (refcounts, `test_and_set_bit`).
    Atomic {
        /// Thread.
        tid: Tid,
        /// Location.
        loc: Loc,
    },
    /// An object was freed.
    Free {
        /// Thread.
        tid: Tid,
        /// What (`VmaObj`, `VmaPtes`, `MmArchPt` or `MmStruct`).
        loc: Loc,
    },
    /// The kernel would misbehave here (BUG_ON, refcount underflow, lock misuse).
    Fault {
        /// Thread.
        tid: Tid,
        /// Invariant (`I7`, `I8`, `I10`, …).
        inv: &'static str,
        /// What.
        msg: String,
    },
}

enum Exec {
    Val(bool),
    Block,
    Spin,
}

/// Every lock the return check covers, with whether it is held for read, in the bit order of
/// [`World::held_mask`]. Page-table locks are taken and released inside one step
/// (`unmap_page_range`), so no path can return holding one.
pub const HELD_LOCKS: [(Lock, bool); 7] = [
    (Lock::MmapLock, true),
    (Lock::MmapLock, false),
    (Lock::OomLock, false),
    (Lock::OomReaperLock, false),
    (Lock::TaskLock, false),
    (Lock::FreezerLock, false),
    (Lock::IRwsem, false),
];

/// Most local instructions one step may run before it is declared stuck.
const MAX_LOCAL_RUN: usize = 10_000;

impl World {
    /// Start one thread per role (entry paths from `prog`) and run them to their first step.
    pub fn start(&mut self, prog: &Program, roles: &[Role]) {
        for &role in roles {
            let entry = prog.entry(role).expect("role offered by the config");
            let mut t = Thread {
                role,
                frames: vec![Frame {
                    path: entry,
                    pc: 0,
                    vars: 0,
                    counters: [0; 4],
                    ret: 0,
                    held: 0,
                }],
                vma: None,
                mas_index: None,
                ret: 0,
                count: 0,
                nr_accounted: 0,
                status: Status::Runnable,
                pins: 0,
                grabs: 0,
                task_refs: 0,
                steps: 0,
                frz: Freezer {
                    pf: if role.is_kthread() {
                        pf::PF_KTHREAD | pf::PF_NOFREEZE
                    } else {
                        0
                    },
                    frozen: false,
                    frozen_stable: false,
                    sleep: Sleep::No,
                    woken: false,
                },
                task_cursor: None,
                exited_mm: false,
            };
            match role {
                Role::Exit | Role::User => t.pins = 1,
                Role::OomReaper => {}
                Role::Mrelease => {
                    // pidfd_get_task: a task reference for the call.
                    t.task_refs = 1;
                    self.victim.usage += 1;
                }
                Role::Proc | Role::OomKill | Role::Pm | Role::Holder => {}
            }
            self.threads.push(t);
        }
        let mut ev = Vec::new();
        for tid in 0..self.threads.len() {
            self.advance(prog, tid as Tid, &mut ev);
        }
    }

    /// Threads that may be chosen now.
    pub fn runnable(&self) -> impl Iterator<Item = Tid> + '_ {
        self.threads
            .iter()
            .enumerate()
            .filter(|(_, t)| t.status == Status::Runnable)
            .map(|(i, _)| i as Tid)
    }

    /// Every thread has returned.
    pub fn all_done(&self) -> bool {
        self.threads.iter().all(|t| t.status == Status::Done)
    }

    /// The instruction a thread will execute next (path index, pc), if any.
    pub fn next_insn(&self, tid: Tid) -> Option<(u16, u16)> {
        self.threads[tid as usize]
            .frames
            .last()
            .map(|f| (f.path, f.pc))
    }

    /// The primitive a runnable thread will execute on its next step.
    pub fn next_prim(&self, prog: &Program, tid: Tid) -> Option<Prim> {
        let (p, pc) = self.next_insn(tid)?;
        match prog.paths[p as usize].insns[pc as usize] {
            Insn::Step(x) | Insn::Test(x, _, _) => Some(x),
            _ => None,
        }
    }

    /// The sleeping lock `tid` waits for, and its holder (for liveness and deadlock reports).
    pub fn waits_on(&self, tid: Tid) -> Option<(Lock, Option<Tid>)> {
        if self.mm.lock.waiters.iter().any(|&(w, _)| w == tid) {
            let holder =
                self.mm.lock.writer.or_else(|| {
                    (0..MAX_THREADS as Tid).find(|i| self.mm.lock.readers & (1 << i) != 0)
                });
            return Some((Lock::MmapLock, holder));
        }
        [
            (Lock::OomLock, &self.oom_lock),
            (Lock::OomReaperLock, &self.oom_reaper_lock),
            (Lock::TaskLock, &self.victim.alloc_lock),
            (Lock::FreezerLock, &self.freezer_lock),
            (Lock::IRwsem, &self.i_rwsem),
        ]
        .into_iter()
        .find(|(_, m)| m.waiters.contains(&tid))
        .map(|(l, m)| (l, m.owner))
    }

    /// Locks `tid` holds now.
    pub fn held_by(&self, tid: Tid) -> Vec<(Lock, bool)> {
        let mut v = Vec::new();
        if self.mm.lock.writer == Some(tid) {
            v.push((Lock::MmapLock, false));
        }
        if self.mm.lock.readers & (1 << tid) != 0 {
            v.push((Lock::MmapLock, true));
        }
        if self.oom_lock.owner == Some(tid) {
            v.push((Lock::OomLock, false));
        }
        if self.oom_reaper_lock.owner == Some(tid) {
            v.push((Lock::OomReaperLock, false));
        }
        if self.victim.alloc_lock.owner == Some(tid) {
            v.push((Lock::TaskLock, false));
        }
        if self.freezer_lock.owner == Some(tid) {
            v.push((Lock::FreezerLock, false));
        }
        if self.i_rwsem.owner == Some(tid) {
            v.push((Lock::IRwsem, false));
        }
        v
    }

    /// Execute one step of `tid` (which must be runnable), appending what happened to `ev`.
    /// Returns the primitive's value, or `None` if the thread blocked or spun on a lock.
    pub fn step(&mut self, prog: &Program, tid: Tid, ev: &mut Vec<Event>) -> Option<bool> {
        let t = tid as usize;
        let (p, pc) = self.next_insn(tid)?;
        let insn = prog.paths[p as usize].insns[pc as usize];
        self.threads[t].steps += 1;
        let (prim, next) = match insn {
            Insn::Step(prim) => (prim, None),
            Insn::Test(prim, neg, target) => (prim, Some((neg, target))),
            _ => unreachable!("advance stops at steps"),
        };
        let v = match self.exec(prog, tid, prim, ev) {
            Exec::Val(v) => v,
            Exec::Block => {
                self.threads[t].status = Status::Blocked;
                return None;
            }
            Exec::Spin => return None,
        };
        let to = match next {
            Some((neg, target)) if v == neg => target,
            _ => pc + 1,
        };
        self.set_pc(tid, to);
        self.advance(prog, tid, ev);
        Some(v)
    }

    fn set_pc(&mut self, tid: Tid, pc: u16) {
        if let Some(f) = self.threads[tid as usize].frames.last_mut() {
            f.pc = pc;
        }
    }

    /// A blocked waiter was handed the lock: its acquire completes (value true).
    fn complete(&mut self, prog: &Program, tid: Tid, ev: &mut Vec<Event>) {
        self.complete_with(prog, tid, true, ev);
    }

    /// A sleeping thread resumes after its blocking primitive, which yields `value`.
    pub fn complete_with(&mut self, prog: &Program, tid: Tid, value: bool, ev: &mut Vec<Event>) {
        let Some((p, pc)) = self.next_insn(tid) else {
            return;
        };
        self.threads[tid as usize].frz.sleep = Sleep::No;
        let next = match prog.paths[p as usize].insns[pc as usize] {
            Insn::Test(_, neg, target) => {
                if value != neg {
                    pc + 1
                } else {
                    target
                }
            }
            _ => pc + 1,
        };
        self.set_pc(tid, next);
        self.threads[tid as usize].status = Status::Runnable;
        self.advance(prog, tid, ev);
    }

    /// Run free instructions until the next step or the end of the thread.
    fn advance(&mut self, prog: &Program, tid: Tid, ev: &mut Vec<Event>) {
        let t = tid as usize;
        for _ in 0..MAX_LOCAL_RUN {
            let Some(f) = self.threads[t].frames.last() else {
                self.threads[t].status = Status::Done;
                return;
            };
            let (code, entry) = (f.path, f.held);
            let insn = prog.paths[code as usize].insns[f.pc as usize];
            if let Insn::Ret(_) = insn {
                self.check_return(prog, tid, code, entry, ev);
                if prog.paths[code as usize].name == "exit_mm" {
                    self.threads[t].exited_mm = true;
                }
            }
            let held = match insn {
                Insn::Call(_) => self.held_mask(tid),
                _ => 0,
            };
            let th = &mut self.threads[t];
            let f = th.frames.last_mut().expect("checked above");
            match insn {
                Insn::Step(_) | Insn::Test(..) => return,
                Insn::Local(l, neg, target) => {
                    let v = match l {
                        Local::Vma => th.vma.is_some(),
                        Local::Ret => f.ret != 0,
                        Local::Var(i) => f.vars & (1 << i) != 0,
                        Local::Task => th.task_cursor.is_some(),
                        Local::Count => th.count != 0,
                    };
                    f.pc = if v != neg { f.pc + 1 } else { target };
                }
                Insn::Jump(target) => f.pc = target,
                Insn::Call(path) => {
                    f.pc += 1;
                    th.frames.push(Frame {
                        path,
                        pc: 0,
                        vars: 0,
                        counters: [0; 4],
                        ret: 0,
                        held,
                    });
                }
                Insn::Ret(v) => {
                    let v = v.map(|v| value(v, f.ret));
                    th.frames.pop();
                    if let Some(v) = v {
                        match th.frames.last_mut() {
                            Some(caller) => caller.ret = v,
                            None => th.ret = v,
                        }
                    }
                }
                Insn::Let(i, b) => {
                    if b {
                        f.vars |= 1 << i;
                    } else {
                        f.vars &= !(1 << i);
                    }
                    f.pc += 1;
                }
                Insn::SetRet(v) => {
                    f.ret = value(v, f.ret);
                    f.pc += 1;
                }
                Insn::CtrInit(c) => {
                    f.counters[c as usize] = 0;
                    f.pc += 1;
                }
                Insn::CtrNext(c, n, target) => {
                    if f.counters[c as usize] >= n {
                        f.pc = target;
                    } else {
                        f.counters[c as usize] += 1;
                        f.pc += 1;
                    }
                }
            }
        }
        ev.push(Event::Fault {
            tid,
            inv: "liveness",
            msg: "the path loops without taking a step".into(),
        });
        self.threads[t].frames.clear();
        self.threads[t].status = Status::Done;
    }

    /// The locks `tid` holds, as a bit set (bit i = [`HELD_LOCKS`]`[i]`).
    /// Computed from the lock fields directly (it runs at every call and return), in the
    /// order of [`HELD_LOCKS`].
    pub fn held_mask(&self, tid: Tid) -> u8 {
        let me = Some(tid);
        [
            self.mm.lock.readers & (1 << tid) != 0,
            self.mm.lock.writer == me,
            self.oom_lock.owner == me,
            self.oom_reaper_lock.owner == me,
            self.victim.alloc_lock.owner == me,
            self.freezer_lock.owner == me,
            self.i_rwsem.owner == me,
        ]
        .iter()
        .enumerate()
        .fold(0, |m, (i, &held)| m | (u8::from(held) << i))
    }

    /// I10 at every return of every path: the locks held must be those held at entry.
    fn check_return(&self, prog: &Program, tid: Tid, code: u16, entry: u8, ev: &mut Vec<Event>) {
        let now = self.held_mask(tid);
        if now == entry {
            return;
        }
        let names = |m: u8| {
            HELD_LOCKS
                .iter()
                .enumerate()
                .filter(|(i, _)| m & (1 << i) != 0)
                .map(|(_, (l, r))| format!("{}{}", l.name(), if *r { "(R)" } else { "" }))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let c = &prog.paths[code as usize];
        let mut what = Vec::new();
        if now & !entry != 0 {
            what.push(format!("holding {}", names(now & !entry)));
        }
        if entry & !now != 0 {
            what.push(format!(
                "having released {}, which its caller holds",
                names(entry & !now)
            ));
        }
        Self::fault(
            tid,
            "I10",
            format!("{}@{} returned {}", c.name, c.version, what.join(" and ")),
            ev,
        );
    }

    fn holds_spin(&self, tid: Tid) -> Option<Lock> {
        self.held_by(tid)
            .into_iter()
            .map(|(l, _)| l)
            .find(|l| l.is_spin())
    }

    fn might_sleep(&self, tid: Tid, what: &str, ev: &mut Vec<Event>) {
        if let Some(l) = self.holds_spin(tid) {
            ev.push(Event::Fault {
                tid,
                inv: "I10",
                msg: format!("{what} may sleep while holding spinlock {}", l.name()),
            });
        }
    }

    /// After a release: readers at the head of the queue are granted the lock in
    /// `rwsem_mark_wake` (up to the first writer); a writer at the head is only woken and
    /// must take the lock itself (`rwsem_down_write_slowpath` retries
    /// `rwsem_try_write_lock`), so the lock is free for a moment and a reader may steal it
    /// where the config's rwsem allows (`rwsem steal`).
    fn rwsem_grant(&mut self, prog: &Program, ev: &mut Vec<Event>) {
        while let Some(&(w, write)) = self.mm.lock.waiters.first() {
            let l = &mut self.mm.lock;
            if write {
                if l.readers == 0 && l.writer.is_none() {
                    let th = &mut self.threads[w as usize];
                    if th.status == Status::Blocked {
                        th.status = Status::Runnable;
                    }
                }
                return;
            }
            if l.writer.is_some() {
                return;
            }
            l.readers |= 1 << w;
            l.waiters.remove(0);
            ev.push(Event::Acquire {
                tid: w,
                lock: Lock::MmapLock,
                shared: true,
            });
            self.complete(prog, w, ev);
        }
    }

    fn rwsem_lock(
        &mut self,
        prog: &Program,
        tid: Tid,
        write: bool,
        try_only: bool,
        ev: &mut Vec<Event>,
    ) -> Exec {
        let bit = 1u8 << tid;
        let l = &self.mm.lock;
        if l.writer == Some(tid) || l.readers & bit != 0 {
            ev.push(Event::Fault {
                tid,
                inv: "I10",
                msg: format!(
                    "mmap_{}lock while already holding mmap_lock (self-deadlock)",
                    if write { "write_" } else { "read_" }
                ),
            });
        }
        let queued = l.waiters.iter().position(|&(w, _)| w == tid);
        let unowned = l.writer.is_none() && l.readers == 0;
        let free = if write {
            // A woken writer at the head retries; a new writer queues behind any waiter.
            unowned && (l.waiters.is_empty() || queued == Some(0))
        } else if try_only {
            // __down_read_trylock: fails on RWSEM_READ_FAILED_MASK (writer, waiters).
            l.writer.is_none() && l.waiters.is_empty()
        } else if prog.config.rwsem_steal {
            // rwsem_down_read_slowpath: a reader takes an unowned lock past queued waiters
            // (reader optimistic lock stealing; not when readers own it, rcnt > 1).
            l.writer.is_none() && (l.waiters.is_empty() || l.readers == 0)
        } else {
            l.writer.is_none() && l.waiters.is_empty()
        };
        if free {
            if let Some(i) = queued {
                self.mm.lock.waiters.remove(i);
            }
            if write {
                self.mm.lock.writer = Some(tid);
            } else {
                self.mm.lock.readers |= bit;
            }
            ev.push(Event::Acquire {
                tid,
                lock: Lock::MmapLock,
                shared: !write,
            });
            return Exec::Val(true);
        }
        if try_only {
            return Exec::Val(false);
        }
        self.might_sleep(tid, "mmap_lock", ev);
        if queued.is_none() {
            self.mm.lock.waiters.push((tid, write));
        }
        ev.push(Event::Block {
            tid,
            lock: Lock::MmapLock,
        });
        Exec::Block
    }

    fn rwsem_unlock(&mut self, prog: &Program, tid: Tid, write: bool, ev: &mut Vec<Event>) {
        let bit = 1u8 << tid;
        let held = if write {
            self.mm.lock.writer == Some(tid)
        } else {
            self.mm.lock.readers & bit != 0
        };
        if !held {
            ev.push(Event::Fault {
                tid,
                inv: "I10",
                msg: format!(
                    "mmap_{}_unlock of a lock this thread does not hold",
                    if write { "write" } else { "read" }
                ),
            });
            return;
        }
        if write {
            self.mm.lock.writer = None;
        } else {
            self.mm.lock.readers &= !bit;
        }
        ev.push(Event::Release {
            tid,
            lock: Lock::MmapLock,
            shared: !write,
        });
        self.rwsem_grant(prog, ev);
    }

    fn mutex_of(&mut self, l: Lock) -> &mut Mutex {
        match l {
            Lock::OomLock => &mut self.oom_lock,
            Lock::OomReaperLock => &mut self.oom_reaper_lock,
            Lock::TaskLock => &mut self.victim.alloc_lock,
            Lock::FreezerLock => &mut self.freezer_lock,
            Lock::IRwsem => &mut self.i_rwsem,
            _ => unreachable!("not a mutex"),
        }
    }

    fn mutex_lock(&mut self, tid: Tid, l: Lock, ev: &mut Vec<Event>) -> Exec {
        let m = self.mutex_of(l);
        if m.owner == Some(tid) {
            ev.push(Event::Fault {
                tid,
                inv: "I10",
                msg: format!("{} taken twice (self-deadlock)", l.name()),
            });
            return Exec::Block;
        }
        if m.owner.is_none() && m.waiters.is_empty() {
            m.owner = Some(tid);
            ev.push(Event::Acquire {
                tid,
                lock: l,
                shared: false,
            });
            return Exec::Val(true);
        }
        if l.is_spin() {
            return Exec::Spin;
        }
        self.might_sleep(tid, &l.name(), ev);
        self.mutex_of(l).waiters.push(tid);
        ev.push(Event::Block { tid, lock: l });
        Exec::Block
    }

    fn mutex_unlock(&mut self, prog: &Program, tid: Tid, l: Lock, ev: &mut Vec<Event>) {
        if l == Lock::FreezerLock && self.freezer_lock.owner == Some(tid) {
            let f = &mut self.threads[tid as usize].frz;
            f.frozen_stable = f.frozen;
        }
        let m = self.mutex_of(l);
        if m.owner != Some(tid) {
            ev.push(Event::Fault {
                tid,
                inv: "I10",
                msg: format!("unlock of {} which this thread does not hold", l.name()),
            });
            return;
        }
        m.owner = None;
        ev.push(Event::Release {
            tid,
            lock: l,
            shared: false,
        });
        if !m.waiters.is_empty() {
            let w = m.waiters.remove(0);
            m.owner = Some(w);
            ev.push(Event::Acquire {
                tid: w,
                lock: l,
                shared: false,
            });
            self.complete(prog, w, ev);
        }
    }

    fn access(&self, tid: Tid, loc: Loc, write: bool, ev: &mut Vec<Event>) {
        let freed = match loc {
            Loc::VmaObj(v) | Loc::VmaFlags(v) => !self.vmas[v as usize].live,
            Loc::VmaPtes(v) => self.vmas[v as usize].pt_freed,
            Loc::MmArchPt => !self.mm.arch_pt && self.mm.freed,
            Loc::MmMmap | Loc::MmTree | Loc::MmLockedVm | Loc::MmStruct => self.mm.freed,
        };
        ev.push(Event::Access {
            tid,
            loc,
            write,
            freed,
        });
    }

    fn atomic(&self, tid: Tid, ev: &mut Vec<Event>) {
        self.access(tid, Loc::MmStruct, true, ev);
        ev.push(Event::Atomic {
            tid,
            loc: Loc::MmStruct,
        });
    }

    fn fault(tid: Tid, inv: &'static str, msg: String, ev: &mut Vec<Event>) {
        ev.push(Event::Fault { tid, inv, msg });
    }

    /// The VMA at the cursor, or a fault if there is none.
    fn cursor(&self, tid: Tid, prim: Prim, ev: &mut Vec<Event>) -> Option<VmaId> {
        let c = self.threads[tid as usize].vma;
        if c.is_none() {
            Self::fault(
                tid,
                "I5",
                format!("{} with a NULL vma (NULL pointer dereference)", prim.name()),
                ev,
            );
        }
        c
    }

    fn mas_find(&self, from: u64) -> (Option<VmaId>, Option<u64>) {
        let mut mas = crate::maple::MaState::new(from);
        match self.mm.tree.mas_find(&mut mas, u64::MAX) {
            Some(v) => (Some(v), mas.last.checked_add(1)),
            None => (None, None),
        }
    }

    fn mm_drop(&mut self, tid: Tid, ev: &mut Vec<Event>) {
        self.atomic(tid, ev);
        let th = &mut self.threads[tid as usize];
        th.grabs -= 1;
        if th.grabs < 0 {
            Self::fault(tid, "I8", "mmdrop without a matching mmgrab".into(), ev);
        }
        self.mm.count -= 1;
        if self.mm.count < 0 {
            Self::fault(tid, "I8", "mm_count below zero".into(), ev);
        }
        if self.mm.count == 0 && !self.mm.freed {
            self.mm.freed = true;
            ev.push(Event::Free {
                tid,
                loc: Loc::MmStruct,
            });
        }
    }

    /// The task a thread runs as has `TIF_MEMDIE`.
    fn memdie(&self, t: Tid) -> bool {
        self.threads[t as usize].role.is_victim() && self.victim.memdie
    }

    /// `freezing(p)` as `current` sees it: `freezing_slow_path` of the config's version.
    pub fn freezing(&self, prog: &Program, p: Tid, current: Tid) -> bool {
        if self.freezing_cnt <= 0 {
            return false;
        }
        let f = &self.threads[p as usize].frz;
        if f.pf & (pf::PF_NOFREEZE | pf::PF_SUSPEND_TASK) != 0 {
            return false;
        }
        let oom = match prog.config.freezer {
            Freezing::CurrentMemdie => self.memdie(current),
            Freezing::TaskMemdie => self.memdie(p),
            Freezing::OomVictim => self.threads[p as usize].role.is_victim() && self.victim.oom_mm,
        };
        if oom {
            return false;
        }
        if self.pm_nosig_freezing {
            return true;
        }
        self.pm_freezing && f.pf & pf::PF_KTHREAD == 0
    }

    /// Wake a thread sleeping in a way `wakes` accepts (a fake signal or a real wakeup).
    fn wake(&mut self, prog: &Program, t: Tid, frozen_too: bool, ev: &mut Vec<Event>) {
        let th = &mut self.threads[t as usize];
        if th.status == Status::Runnable {
            // Not asleep yet: its coming schedule() returns at once.
            th.frz.woken = true;
            return;
        }
        if th.status != Status::Blocked {
            return;
        }
        match th.frz.sleep {
            Sleep::Interruptible => {
                self.oom_reaper_waiters &= !(1 << t);
                self.complete_with(prog, t, true, ev);
            }
            Sleep::Frozen if frozen_too => self.complete_with(prog, t, true, ev),
            _ => {}
        }
    }

    /// The next live task after `from` (not `current`), for `for_each_process_thread`.
    fn next_task(&self, current: Tid, from: Option<Tid>) -> Option<Tid> {
        let start = from.map_or(0, |f| f as usize + 1);
        (start..self.threads.len())
            .find(|&i| i != current as usize && self.threads[i].status != Status::Done)
            .map(|i| i as Tid)
    }

    /// The timeout of a timed sleep fires (the executor calls this when nothing else can run).
    pub fn fire_timeout(&mut self, prog: &Program, ev: &mut Vec<Event>) -> bool {
        let Some(t) = self.threads.iter().position(|th| {
            th.status == Status::Blocked && th.frz.sleep == Sleep::OomVictims { timeout: true }
        }) else {
            return false;
        };
        self.complete_with(prog, t as Tid, false, ev);
        true
    }

    fn sleep(&mut self, tid: Tid, how: Sleep, what: &str, ev: &mut Vec<Event>) -> Exec {
        self.might_sleep(tid, what, ev);
        if std::mem::take(&mut self.threads[tid as usize].frz.woken) {
            return Exec::Val(true);
        }
        self.threads[tid as usize].frz.sleep = how;
        Exec::Block
    }

    fn exec(&mut self, prog: &Program, tid: Tid, prim: Prim, ev: &mut Vec<Event>) -> Exec {
        use Prim::*;
        let t = tid as usize;
        let list = prog.store() == VmaStore::List;
        match prim {
            mmap_read_lock => self.rwsem_lock(prog, tid, false, false, ev),
            mmap_read_lock_killable => self.rwsem_lock(prog, tid, false, false, ev),
            mmap_read_trylock => self.rwsem_lock(prog, tid, false, true, ev),
            mmap_write_lock => self.rwsem_lock(prog, tid, true, false, ev),
            mmap_read_unlock => {
                self.rwsem_unlock(prog, tid, false, ev);
                Exec::Val(true)
            }
            mmap_write_unlock => {
                self.rwsem_unlock(prog, tid, true, ev);
                Exec::Val(true)
            }
            mutex_lock(l) => self.mutex_lock(tid, lock_of(l), ev),
            spin_lock(l) => self.mutex_lock(tid, lock_of(l), ev),
            mutex_unlock(l) | spin_unlock(l) => {
                self.mutex_unlock(prog, tid, lock_of(l), ev);
                Exec::Val(true)
            }
            task_lock => self.mutex_lock(tid, Lock::TaskLock, ev),
            task_unlock => {
                self.mutex_unlock(prog, tid, Lock::TaskLock, ev);
                Exec::Val(true)
            }
            find_lock_task_mm => match self.mutex_lock(tid, Lock::TaskLock, ev) {
                Exec::Val(_) => {
                    if self.victim.has_mm {
                        Exec::Val(true)
                    } else {
                        self.mutex_unlock(prog, tid, Lock::TaskLock, ev);
                        Exec::Val(false)
                    }
                }
                other => other,
            },
            get_task_mm => match self.mutex_lock(tid, Lock::TaskLock, ev) {
                Exec::Val(_) => {
                    let got = self.victim.has_mm;
                    if got {
                        self.atomic(tid, ev);
                        self.mm.users += 1;
                        self.threads[t].pins += 1;
                    }
                    self.mutex_unlock(prog, tid, Lock::TaskLock, ev);
                    Exec::Val(got)
                }
                other => other,
            },
            clear_task_mm => {
                if self.victim.alloc_lock.owner != Some(tid) {
                    Self::fault(
                        tid,
                        "I10",
                        "current->mm = NULL without task_lock".into(),
                        ev,
                    );
                }
                self.victim.has_mm = false;
                Exec::Val(true)
            }
            task_will_free_mem => {
                // __task_will_free_mem (the group is exiting), then
                // `if (test_bit(MMF_OOM_SKIP, &mm->flags)) return false;` (v4.14.5, v5.15.24
                // mm/oom_kill.c:834, v6.18.2 :901). No other process shares the mm here.
                self.access(tid, Loc::MmStruct, false, ev);
                Exec::Val(self.victim.exiting && !self.mm.test(MmFlag::MMF_OOM_SKIP))
            }
            tsk_is_oom_victim => {
                Exec::Val(self.threads[t].role == Role::Exit && self.victim.oom_mm)
            }
            get_task_struct => {
                self.victim.usage += 1;
                self.threads[t].task_refs += 1;
                Exec::Val(true)
            }
            select_bad_process => {
                // oom_evaluate_task: a victim still being torn down aborts the selection.
                Exec::Val(self.victim.has_mm && !self.victim.oom_mm)
            }
            mark_oom_victim => {
                if self.oom_lock.owner != Some(tid) {
                    Self::fault(tid, "I10", "mark_oom_victim without oom_lock".into(), ev);
                }
                self.atomic(tid, ev);
                self.mark_oom_victim();
                Exec::Val(true)
            }
            mutex_trylock_oom_lock => {
                if self.oom_lock.owner.is_none() && self.oom_lock.waiters.is_empty() {
                    self.oom_lock.owner = Some(tid);
                    ev.push(Event::Acquire {
                        tid,
                        lock: Lock::OomLock,
                        shared: false,
                    });
                    Exec::Val(true)
                } else {
                    Exec::Val(false)
                }
            }
            oom_reaper_list_push => {
                if self.oom_reaper_lock.owner != Some(tid) {
                    Self::fault(
                        tid,
                        "I9",
                        "oom_reaper_list pushed without oom_reaper_lock".into(),
                        ev,
                    );
                }
                if self.oom_reaper_list.contains(&0) {
                    Self::fault(
                        tid,
                        "I9",
                        "the victim is queued on oom_reaper_list twice".into(),
                        ev,
                    );
                }
                // The list entry owns the task reference the pusher took.
                self.oom_reaper_list.insert(0, 0);
                self.threads[t].task_refs -= 1;
                Exec::Val(true)
            }
            oom_reaper_list_pop => {
                if self.oom_reaper_lock.owner != Some(tid) {
                    Self::fault(
                        tid,
                        "I9",
                        "oom_reaper_list popped without oom_reaper_lock".into(),
                        ev,
                    );
                }
                if self.oom_reaper_list.is_empty() {
                    Exec::Val(false)
                } else {
                    self.oom_reaper_list.remove(0);
                    self.threads[t].task_refs += 1;
                    Exec::Val(true)
                }
            }
            wake_up_oom_reaper => {
                let w = std::mem::take(&mut self.oom_reaper_waiters);
                for (i, th) in self.threads.iter_mut().enumerate() {
                    if w & (1 << i) != 0 {
                        th.status = Status::Runnable;
                    }
                }
                Exec::Val(true)
            }
            wait_oom_reaper_list => {
                if self.oom_reaper_list.is_empty() {
                    self.might_sleep(tid, "wait_event_freezable", ev);
                    self.oom_reaper_waiters |= 1 << tid;
                    // Not a lock: the waker makes the thread runnable and it re-checks.
                    self.threads[t].status = Status::Blocked;
                    return Exec::Spin;
                }
                Exec::Val(true)
            }
            oom_reaper_list_empty => Exec::Val(self.oom_reaper_list.is_empty()),
            oom_reaper_queued => Exec::Val(self.oom_reaper_list.contains(&0)),
            mmget => {
                self.atomic(tid, ev);
                if self.mm.users <= 0 {
                    Self::fault(tid, "I8", "mmget on an mm with no users".into(), ev);
                }
                self.mm.users += 1;
                self.threads[t].pins += 1;
                Exec::Val(true)
            }
            sleep_oom_reaper_wait => {
                // prepare_to_wait, then the condition again, then schedule: no lost wakeup.
                if !self.oom_reaper_list.is_empty() {
                    return Exec::Val(true);
                }
                self.oom_reaper_waiters |= 1 << tid;
                self.sleep(tid, Sleep::Interruptible, "wait_event_freezable", ev)
            }
            set_pf(b) => {
                self.threads[t].frz.pf |= b;
                Exec::Val(true)
            }
            clear_pf(b) => {
                self.threads[t].frz.pf &= !b;
                Exec::Val(true)
            }
            set_global(g) | clear_global(g) => {
                let v = matches!(prim, set_global(_));
                match g {
                    Global::pm_freezing => {
                        self.pm_freezing = v;
                        if !v {
                            // thaw_processes(): user space is no longer claimed frozen.
                            self.frozen_claim = false;
                            self.strict_window = false;
                        }
                    }
                    Global::pm_nosig_freezing => {
                        self.pm_nosig_freezing = v;
                        // freeze_kernel_threads() starts the next freezing round.
                        self.strict_window = false;
                    }
                    Global::oom_killer_disabled => self.oom_killer_disabled = v,
                }
                Exec::Val(true)
            }
            test_global(g) => Exec::Val(match g {
                Global::pm_freezing => self.pm_freezing,
                Global::pm_nosig_freezing => self.pm_nosig_freezing,
                Global::oom_killer_disabled => self.oom_killer_disabled,
            }),
            system_freezing_cnt_inc => {
                self.freezing_cnt += 1;
                Exec::Val(true)
            }
            system_freezing_cnt_dec => {
                // The first step of thaw_processes(): the claim ends here.
                self.frozen_claim = false;
                self.strict_window = false;
                self.freezing_cnt -= 1;
                Exec::Val(true)
            }
            freezing_current => Exec::Val(self.freezing(prog, tid, tid)),
            frozen_current => Exec::Val(self.threads[t].frz.frozen),
            set_frozen => {
                if self.freezer_lock.owner != Some(tid) {
                    Self::fault(tid, "I10", "PF_FROZEN set without freezer_lock".into(), ev);
                }
                self.threads[t].frz.frozen = true;
                Exec::Val(true)
            }
            clear_frozen => {
                self.threads[t].frz.frozen = false;
                Exec::Val(true)
            }
            schedule_frozen => self.sleep(tid, Sleep::Frozen, "__refrigerator", ev),
            task_first | task_next => {
                let from = if prim == task_first {
                    None
                } else {
                    self.threads[t].task_cursor
                };
                let next = if prim == task_next && from.is_none() {
                    None
                } else {
                    self.next_task(tid, from)
                };
                self.threads[t].task_cursor = next;
                Exec::Val(true)
            }
            freeze_task => {
                let Some(p) = self.threads[t].task_cursor else {
                    return Exec::Val(false);
                };
                let f = self.threads[p as usize].frz;
                if f.pf & pf::PF_FREEZER_SKIP != 0 {
                    // freezer_should_skip(p), tested before the lock (v4.7..v6.0).
                    return Exec::Val(false);
                }
                if self.freezer_lock.owner.is_some_and(|o| o != tid) {
                    // spin_lock_irqsave(&freezer_lock): the `!freezing(p) || frozen(p)` test
                    // is made under the lock in every version (v4.7.4 kernel/freezer.c:134,
                    // v6.18.2 the same), so it never sees __refrigerator's transient PF_FROZEN.
                    return Exec::Spin;
                }
                if !self.freezing(prog, p, tid) || f.frozen {
                    return Exec::Val(false);
                }
                // fake_signal_wake_up (user task) / wake_up_state(TASK_INTERRUPTIBLE) (kthread)
                self.wake(prog, p, false, ev);
                Exec::Val(true)
            }
            thaw_task | thaw_victim | thaw_process_victim
                if self.freezer_lock.owner.is_some_and(|o| o != tid) =>
            {
                // __thaw_task takes freezer_lock.
                Exec::Spin
            }
            thaw_task => {
                if let Some(p) = self.threads[t].task_cursor {
                    if self.threads[p as usize].frz.frozen {
                        self.wake(prog, p, true, ev);
                    }
                }
                Exec::Val(true)
            }
            thaw_victim | thaw_process_victim => {
                for p in 0..self.threads.len() {
                    if self.threads[p].role.is_victim() && self.threads[p].frz.frozen {
                        self.wake(prog, p as Tid, true, ev);
                    }
                }
                Exec::Val(true)
            }
            count_reset => {
                self.threads[t].count = 0;
                Exec::Val(true)
            }
            msleep => Exec::Val(true),
            wait_oom_victims_zero | wait_oom_victims_zero_timeout => {
                if self.oom_victims == 0 {
                    return Exec::Val(true);
                }
                let timeout = prim == wait_oom_victims_zero_timeout;
                self.sleep(tid, Sleep::OomVictims { timeout }, "oom_killer_disable", ev)
            }
            exit_oom_victim => {
                if self.victim.memdie {
                    self.victim.memdie = false;
                    self.oom_victims -= 1;
                    if self.oom_victims == 0 {
                        for w in 0..self.threads.len() {
                            let th = &self.threads[w];
                            if th.status == Status::Blocked
                                && matches!(th.frz.sleep, Sleep::OomVictims { .. })
                            {
                                self.complete_with(prog, w as Tid, true, ev);
                            }
                        }
                    }
                }
                Exec::Val(true)
            }
            test_memdie_current => Exec::Val(self.memdie(tid)),
            fatal_signal_pending => {
                Exec::Val(self.threads[t].role.is_victim() && self.victim.exiting)
            }
            do_io | exit_files | suspend_devices | resume_devices => Exec::Val(true),
            user_space_frozen => {
                self.frozen_claim = true;
                self.strict_window = true;
                Exec::Val(true)
            }
            mm_has_notifiers => Exec::Val(false),
            put_task_struct => {
                self.victim.usage -= 1;
                self.threads[t].task_refs -= 1;
                if self.threads[t].task_refs < 0 || self.victim.usage < 0 {
                    Self::fault(tid, "I8", "put_task_struct without a reference".into(), ev);
                }
                Exec::Val(true)
            }
            mmget_not_zero => {
                self.atomic(tid, ev);
                if self.mm.users > 0 {
                    self.mm.users += 1;
                    self.threads[t].pins += 1;
                    Exec::Val(true)
                } else {
                    Exec::Val(false)
                }
            }
            mm_users_dec_and_test => {
                self.atomic(tid, ev);
                let th = &mut self.threads[t];
                th.pins -= 1;
                if th.pins < 0 {
                    Self::fault(tid, "I8", "mmput without a pin (mm_users)".into(), ev);
                }
                self.mm.users -= 1;
                if self.mm.users < 0 {
                    Self::fault(tid, "I8", "mm_users below zero".into(), ev);
                }
                let last = self.mm.users == 0;
                if last {
                    // The last user inherits the users' mm_count reference (__mmput's mmdrop).
                    self.threads[t].grabs += 1;
                }
                Exec::Val(last)
            }
            mmgrab => {
                self.atomic(tid, ev);
                self.mm.count += 1;
                self.threads[t].grabs += 1;
                Exec::Val(true)
            }
            mmdrop => {
                self.mm_drop(tid, ev);
                Exec::Val(true)
            }
            set_bit(f) => {
                self.access(tid, Loc::MmStruct, true, ev);
                self.mm.flags |= f.bit();
                Exec::Val(true)
            }
            clear_bit(f) => {
                self.access(tid, Loc::MmStruct, true, ev);
                self.mm.flags &= !f.bit();
                Exec::Val(true)
            }
            test_bit(f) => {
                self.access(tid, Loc::MmStruct, false, ev);
                Exec::Val(self.mm.test(f))
            }
            test_and_set_bit(f) => {
                self.atomic(tid, ev);
                let was = self.mm.test(f);
                self.mm.flags |= f.bit();
                Exec::Val(was)
            }
            locked_vm => {
                self.access(tid, Loc::MmLockedVm, false, ev);
                Exec::Val(self.mm.locked_vm != 0)
            }
            vma_first => {
                let th = &self.threads[t];
                let _ = th;
                if list {
                    self.access(tid, Loc::MmMmap, false, ev);
                    self.threads[t].vma = self.mm.mmap;
                } else {
                    self.access(tid, Loc::MmTree, false, ev);
                    let (v, next) = self.mas_find(0);
                    self.threads[t].vma = v;
                    self.threads[t].mas_index = next;
                }
                Exec::Val(true)
            }
            vma_next => {
                if list {
                    let Some(c) = self.cursor(tid, prim, ev) else {
                        return Exec::Val(true);
                    };
                    self.access(tid, Loc::VmaObj(c), false, ev);
                    self.threads[t].vma = self.vmas[c as usize].next;
                } else {
                    self.access(tid, Loc::MmTree, false, ev);
                    let (v, next) = match self.threads[t].mas_index {
                        Some(i) => self.mas_find(i),
                        None => (None, None),
                    };
                    self.threads[t].vma = v;
                    self.threads[t].mas_index = next;
                }
                Exec::Val(true)
            }
            vma_test(mask) => {
                let Some(c) = self.cursor(tid, prim, ev) else {
                    return Exec::Val(false);
                };
                self.access(tid, Loc::VmaFlags(c), false, ev);
                Exec::Val(self.vmas[c as usize].flags & mask != 0)
            }
            vma_is_anon_or_private => {
                let Some(c) = self.cursor(tid, prim, ev) else {
                    return Exec::Val(false);
                };
                self.access(tid, Loc::VmaFlags(c), false, ev);
                let v = &self.vmas[c as usize];
                Exec::Val(v.anon || v.flags & vm::VM_SHARED == 0)
            }
            unmap_single_vma | unmap_page_range => {
                let Some(c) = self.cursor(tid, prim, ev) else {
                    return Exec::Val(true);
                };
                self.access(tid, Loc::VmaObj(c), false, ev);
                if self.vmas[c as usize].pt {
                    ev.push(Event::Acquire {
                        tid,
                        lock: Lock::Ptl(c),
                        shared: false,
                    });
                    self.access(tid, Loc::VmaPtes(c), true, ev);
                    ev.push(Event::Release {
                        tid,
                        lock: Lock::Ptl(c),
                        shared: false,
                    });
                }
                self.vmas[c as usize].resident = 0;
                Exec::Val(true)
            }
            free_pgtables => {
                let Some(c) = self.cursor(tid, prim, ev) else {
                    return Exec::Val(true);
                };
                self.access(tid, Loc::VmaObj(c), false, ev);
                let v = &self.vmas[c as usize];
                if v.pt {
                    self.access(tid, Loc::VmaPtes(c), true, ev);
                    if !v.pt_freed {
                        ev.push(Event::Free {
                            tid,
                            loc: Loc::VmaPtes(c),
                        });
                    }
                    self.vmas[c as usize].pt_freed = true;
                }
                Exec::Val(true)
            }
            acct_vma => {
                let Some(c) = self.cursor(tid, prim, ev) else {
                    return Exec::Val(true);
                };
                self.access(tid, Loc::VmaFlags(c), false, ev);
                let v = &mut self.vmas[c as usize];
                if v.flags & vm::VM_ACCOUNT != 0 {
                    if v.unaccounted {
                        Self::fault(tid, "I7", format!("vma{c} unaccounted twice"), ev);
                    }
                    v.unaccounted = true;
                    self.threads[t].nr_accounted += v.pages;
                }
                Exec::Val(true)
            }
            remove_vma | remove_vma_next => {
                let Some(c) = self.cursor(tid, prim, ev) else {
                    return Exec::Val(true);
                };
                self.access(tid, Loc::VmaObj(c), true, ev);
                if prim == remove_vma_next {
                    self.threads[t].vma = self.vmas[c as usize].next;
                }
                if self.vmas[c as usize].live {
                    ev.push(Event::Free {
                        tid,
                        loc: Loc::VmaObj(c),
                    });
                }
                self.vmas[c as usize].live = false;
                Exec::Val(true)
            }
            munlock_vma => {
                let Some(c) = self.cursor(tid, prim, ev) else {
                    return Exec::Val(true);
                };
                self.access(tid, Loc::VmaFlags(c), true, ev);
                let v = &mut self.vmas[c as usize];
                if v.flags & vm::VM_LOCKED != 0 {
                    v.flags &= !vm::VM_LOCKED;
                    let pages = v.pages;
                    self.access(tid, Loc::MmLockedVm, true, ev);
                    self.mm.locked_vm = self.mm.locked_vm.saturating_sub(pages);
                }
                Exec::Val(true)
            }
            munlock_vma_pages => {
                let Some(c) = self.cursor(tid, prim, ev) else {
                    return Exec::Val(true);
                };
                if self.vmas[c as usize].pt {
                    self.access(tid, Loc::VmaPtes(c), false, ev);
                }
                Exec::Val(true)
            }
            arch_exit_mmap => {
                self.access(tid, Loc::MmArchPt, true, ev);
                if self.mm.arch_pt {
                    ev.push(Event::Free {
                        tid,
                        loc: Loc::MmArchPt,
                    });
                }
                self.mm.arch_pt = false;
                Exec::Val(true)
            }
            mm_mmap_clear => {
                self.access(tid, Loc::MmMmap, true, ev);
                self.mm.mmap = None;
                Exec::Val(true)
            }
            mt_destroy => {
                self.access(tid, Loc::MmTree, true, ev);
                self.mm.tree.mt_destroy();
                Exec::Val(true)
            }
            count_inc => {
                self.threads[t].count += 1;
                Exec::Val(true)
            }
            bug_on_map_count => {
                self.access(tid, Loc::MmStruct, false, ev);
                let (c, m) = (self.threads[t].count, self.mm.map_count);
                if c != m {
                    Self::fault(
                        tid,
                        "I7",
                        format!("BUG_ON(count != mm->map_count): removed {c}, map_count {m}"),
                        ev,
                    );
                }
                Exec::Val(true)
            }
            vm_unacct_memory => {
                self.committed -= self.threads[t].nr_accounted as i64;
                self.threads[t].nr_accounted = 0;
                Exec::Val(true)
            }
            nop(super::lang::Nop::schedule_timeout_idle) => {
                self.might_sleep(tid, "schedule_timeout_idle", ev);
                Exec::Val(true)
            }
            nop(_) => Exec::Val(true),
        }
    }
}

fn lock_of(l: GlobalLock) -> Lock {
    match l {
        GlobalLock::OomLock => Lock::OomLock,
        GlobalLock::OomReaperLock => Lock::OomReaperLock,
        GlobalLock::FreezerLock => Lock::FreezerLock,
        GlobalLock::IRwsem => Lock::IRwsem,
    }
}

fn value(v: Value, ret: i32) -> i32 {
    match v {
        Value::True => 1,
        Value::False => 0,
        Value::Errno(e) => e,
        Value::Ret => ret,
    }
}

/// `MMF_*` flags set on the mm, for traces.
pub fn show_mm_flags(flags: u8) -> String {
    let v: Vec<&str> = MmFlag::ALL
        .iter()
        .filter(|f| flags & f.bit() != 0)
        .map(|f| f.name())
        .collect();
    if v.is_empty() {
        "0".into()
    } else {
        v.join("|")
    }
}
