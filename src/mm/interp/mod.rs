//! The step function: one primitive of one thread, then the thread's free local instructions.
//!
//! A step is a deterministic function of the world and the thread chosen. This module is the
//! virtual machine (threads, frames, control flow, the return check); the semantics of each
//! primitive live in the module named after the kernel file it models ([`memory`] for
//! `mm/memory.c`, [`oom_kill`] for `mm/oom_kill.c`, …), reached through the table of
//! [`crate::mm::prims`].
//!
//! A step reports what it did as [`Event`]s (lock operations, accesses to modelled objects,
//! frees) for the harness's oracles, which judge them. The model raises a fault itself
//! ([`Event::Fault`]) only where the kernel itself would notice: a `BUG_ON` (I7), a refcount
//! underflow (I8), list misuse (I9), lock misuse (I10), a NULL VMA cursor (I5) and a loop
//! that never ends (liveness).

mod bitops;
mod exit;
mod fork;
mod freezer;
mod gup;
mod locking;
mod memory;
mod mlock;
mod mmap;
mod oom_kill;
mod sched;
mod swapfile;
mod task_mmu;
mod vma_lock;

use super::event::{Event, Loc};
use super::invariant::Invariant;
use super::lang::Value;
use super::prims::{with_prim_table, Prim};
use super::program::{Insn, Local, Program};
use super::state::{Frame, Freezer, Sleep, Status, Thread, World, MAX_THREADS};
use super::types::{pf, Lock, Role, Tid, VmaId, XA_ZERO_ENTRY};

/// What a primitive's semantics did.
pub(crate) enum Exec {
    /// Completed with this value (`true` for a plain step).
    Val(bool),
    /// The thread sleeps (on a lock or a wait queue) until another step wakes it.
    Block,
    /// The thread spins (a spinlock, a busy wait): it stays runnable and retries this step.
    Spin,
}

/// Who runs a primitive: the program, the thread, and the primitive itself.
#[derive(Clone, Copy)]
pub(crate) struct Cx<'a> {
    /// The resolved config.
    pub prog: &'a Program,
    /// The thread.
    pub tid: Tid,
    /// The primitive (for faults that name it).
    pub prim: Prim,
}

/// Record a fault the kernel itself would hit.
fn fault(tid: Tid, inv: Invariant, msg: String, ev: &mut Vec<Event>) {
    ev.push(Event::Fault { tid, inv, msg });
}

macro_rules! define_dispatch {
    ($( $(#[$m:meta])* $name:ident $(($a:ident : $t:ty))? => $module:ident :: $func:ident,
        $file:literal, $text:literal $(/ $maple:literal)?, $kind:ident, $fp:ident, $sl:ident; )*) => {
        /// The semantics of `cx.prim`: one line per primitive, into its kernel file's module.
        fn dispatch(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
            match cx.prim {
                $( Prim::$name $(($a))? => $module::$func(w, cx, ev $(, $a)?), )*
            }
        }
    };
}

with_prim_table!(define_dispatch);

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
        if roles.contains(&Role::Fork) {
            self.become_fork_child();
        }
        if roles
            .iter()
            .any(|r| matches!(r, Role::Fault | Role::Munmap))
        {
            self.fault_addr = self
                .mas_find(0)
                .0
                .map_or(0, |v| self.vmas[v as usize].start);
        }
        for &role in roles {
            let entry = prog.entry(role).expect("role offered by the config");
            let mut t = Thread {
                role,
                frames: smallvec::smallvec![Frame {
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
                    saved: None,
                    woken: false,
                },
                task_cursor: None,
                exited_mm: false,
                rcu: false,
            };
            match role {
                Role::Exit | Role::User | Role::Fault | Role::Munmap => {
                    // Each thread of the victim holds its task->mm and one mm_users (copy_mm:
                    // CLONE_VM takes mmget); the first is the World's initial user.
                    t.pins = 1;
                    if self.victim.mm_threads != 0 {
                        self.mm.users += 1;
                    }
                    self.victim.mm_threads |= 1 << self.threads.len();
                }
                Role::OomReaper => {}
                Role::Mrelease => {
                    // pidfd_get_task: a task reference for the call.
                    t.task_refs = 1;
                    self.victim.usage += 1;
                }
                Role::Proc
                | Role::OomKill
                | Role::Pm
                | Role::Holder
                | Role::Swapoff
                | Role::Maps
                | Role::Ptrace => {}
                // dup_mm: the new mm's one user (mm_init sets mm_users to 1).
                Role::Fork => t.pins = 1,
            }
            self.threads.push(t);
        }
        if self.victim.memdie && self.victim.memdie_thread.is_none() {
            // A set-up's OOM kill marked the group leader, the first thread.
            self.victim.memdie_thread =
                (0..self.threads.len() as Tid).find(|&t| self.victim.mm_threads & (1 << t) != 0);
        }
        let mut ev = Vec::new();
        for tid in 0..self.threads.len() {
            self.advance(prog, tid as Tid, &mut ev, 0);
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
        self.mutexes()
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
        for (l, m) in self.mutexes() {
            if m.owner == Some(tid) {
                v.push((l, false));
            }
        }
        for (i, x) in self.vmas.iter().enumerate() {
            if x.lock.readers & (1 << tid) != 0 {
                v.push((Lock::VmLock(i as VmaId), true));
            }
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
        let v = match dispatch(self, Cx { prog, tid, prim }, ev) {
            Exec::Val(v) => v,
            Exec::Block => {
                self.threads[t].status = Status::Blocked;
                return None;
            }
            Exec::Spin => return None,
        };
        let to = match next {
            Some((neg, target)) if v == neg => {
                prog.cover.branch(p, pc, false, false);
                target
            }
            _ => {
                prog.cover.ran(p, pc);
                pc + 1
            }
        };
        self.set_pc(tid, to);
        self.advance(prog, tid, ev, pc);
        Some(v)
    }

    fn set_pc(&mut self, tid: Tid, pc: u16) {
        if let Some(f) = self.threads[tid as usize].frames.last_mut() {
            f.pc = pc;
        }
    }

    /// A blocked waiter was handed the lock: its acquire completes (value true).
    pub(super) fn complete(&mut self, prog: &Program, tid: Tid, ev: &mut Vec<Event>) {
        self.complete_with(prog, tid, true, ev);
    }

    /// A sleeping thread resumes after its blocking primitive, which yields `value`.
    pub fn complete_with(&mut self, prog: &Program, tid: Tid, value: bool, ev: &mut Vec<Event>) {
        let Some((p, pc)) = self.next_insn(tid) else {
            return;
        };
        self.threads[tid as usize].frz.sleep = Sleep::No;
        let (next, held) = match prog.paths[p as usize].insns[pc as usize] {
            Insn::Test(_, neg, target) if value == neg => (target, false),
            _ => (pc + 1, true),
        };
        prog.cover.branch(p, pc, held, false);
        self.set_pc(tid, next);
        self.threads[tid as usize].status = Status::Runnable;
        self.advance(prog, tid, ev, pc);
    }

    /// Run free instructions until the next step or the end of the thread. `from`: the pc
    /// the thread last ran in its current frame (0 at a path's entry), which tells a loop's
    /// entry test from a later one for coverage.
    fn advance(&mut self, prog: &Program, tid: Tid, ev: &mut Vec<Event>, mut from: u16) {
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
            let pc = f.pc;
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
                    prog.cover.branch(code, pc, v != neg, from > pc);
                    f.pc = if v != neg { f.pc + 1 } else { target };
                }
                Insn::Jump(target) => {
                    prog.cover.ran(code, pc);
                    f.pc = target;
                }
                Insn::Call(path) => {
                    prog.cover.ran(code, pc);
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
                    prog.cover.ran(code, pc);
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
                    prog.cover.ran(code, pc);
                    if b {
                        f.vars |= 1 << i;
                    } else {
                        f.vars &= !(1 << i);
                    }
                    f.pc += 1;
                }
                Insn::SetRet(v) => {
                    prog.cover.ran(code, pc);
                    f.ret = value(v, f.ret);
                    f.pc += 1;
                }
                Insn::CtrInit(c) => {
                    prog.cover.ran(code, pc);
                    f.counters[c as usize] = 0;
                    f.pc += 1;
                }
                Insn::CtrNext(c, n, target) => {
                    let more = f.counters[c as usize] < n;
                    prog.cover.branch(code, pc, more, from > pc);
                    if more {
                        f.counters[c as usize] += 1;
                        f.pc += 1;
                    } else {
                        f.pc = target;
                    }
                }
            }
            // A call enters its callee at 0; a return resumes past the call.
            from = match insn {
                Insn::Call(_) | Insn::Ret(_) => 0,
                _ => pc,
            };
        }
        ev.push(Event::Fault {
            tid,
            inv: Invariant::Liveness,
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
        let rwsem = u8::from(self.mm.lock.readers & (1 << tid) != 0)
            | u8::from(self.mm.lock.writer == me) << 1;
        self.mutexes()
            .iter()
            .enumerate()
            .fold(rwsem, |m, (i, (_, x))| {
                m | (u8::from(x.owner == me) << (i + 2))
            })
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
        fault(
            tid,
            Invariant::I10,
            format!("{}@{} returned {}", c.name, c.version, what.join(" and ")),
            ev,
        );
    }

    pub(super) fn holds_spin(&self, tid: Tid) -> Option<Lock> {
        self.held_by(tid)
            .into_iter()
            .map(|(l, _)| l)
            .find(|l| l.is_spin())
    }

    pub(super) fn might_sleep(&self, tid: Tid, what: &str, ev: &mut Vec<Event>) {
        if let Some(l) = self.holds_spin(tid) {
            ev.push(Event::Fault {
                tid,
                inv: Invariant::I10,
                msg: format!("{what} may sleep while holding spinlock {}", l.name()),
            });
        }
    }

    pub(super) fn access(&self, tid: Tid, loc: Loc, write: bool, ev: &mut Vec<Event>) {
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

    pub(super) fn atomic(&self, tid: Tid, ev: &mut Vec<Event>) {
        self.access(tid, Loc::MmStruct, true, ev);
        ev.push(Event::Atomic {
            tid,
            loc: Loc::MmStruct,
        });
    }

    /// The VMA at the cursor, or a fault if there is none, if it is a failed fork's
    /// `XA_ZERO_ENTRY` (I6: the kernel dereferences the marker as a VMA), or if it is the
    /// parent's VMA reached from the child's tree (I6: past the marker the entries are still
    /// the parent's). `dup_mmap`'s own use of the parent's VMAs goes through
    /// [`World::dup_cursor`].
    pub(super) fn cursor(&self, tid: Tid, prim: Prim, ev: &mut Vec<Event>) -> Option<VmaId> {
        let c = self.threads[tid as usize].vma;
        match c {
            None => fault(
                tid,
                Invariant::I5,
                format!("{} with a NULL vma (NULL pointer dereference)", prim.name()),
                ev,
            ),
            Some(XA_ZERO_ENTRY) => {
                fault(
                    tid,
                    Invariant::I6,
                    format!(
                        "{} on XA_ZERO_ENTRY: a failed dup_mmap's marker taken for a VMA",
                        prim.name()
                    ),
                    ev,
                );
                return None;
            }
            Some(v) if self.vmas[v as usize].parent => fault(
                tid,
                Invariant::I6,
                format!(
                    "{} on the parent's vma{v}, reached from the child's tree past the XA_ZERO_ENTRY marker",
                    prim.name()
                ),
                ev,
            ),
            Some(_) => {}
        }
        c
    }

    /// `mpnt` in `dup_mmap`: the parent's VMA at the cursor (the loop walks the child's tree
    /// while it still points at the parent's VMAs).
    pub(super) fn dup_cursor(&self, tid: Tid, prim: Prim, ev: &mut Vec<Event>) -> Option<VmaId> {
        match self.threads[tid as usize].vma {
            Some(v) if v != XA_ZERO_ENTRY && self.vmas[v as usize].parent => Some(v),
            _ => {
                fault(
                    tid,
                    Invariant::I6,
                    format!("{} on an entry that is not the parent's VMA", prim.name()),
                    ev,
                );
                None
            }
        }
    }

    /// A fork scenario: the set-up built the parent's address space; the model's mm is the
    /// child's, empty until `dup_mmap` (`dup_mm` → `mm_init`), and not yet on `mmlist`.
    fn become_fork_child(&mut self) {
        for v in &mut self.vmas {
            v.parent = true;
            v.next = None;
        }
        self.mm.tree = crate::maple::MapleTree::new();
        self.mm.mmap = None;
        self.mm.map_count = 0;
        self.mm.locked_vm = 0;
        self.mm.on_mmlist = false;
    }

    /// The entry at or below `at`, and the index to go on from (below its range).
    pub(super) fn mas_find_rev(&self, at: u64) -> (Option<VmaId>, Option<u64>) {
        let w = self.mm.tree.mas_walk(at);
        let (e, first) = match w.entry {
            Some(e) => (Some(e), w.first),
            None => {
                let mut mas = crate::maple::MaState::new(at);
                let e = self.mm.tree.mas_prev(&mut mas, 0);
                (e, mas.index)
            }
        };
        match e {
            Some(v) => (Some(v), first.checked_sub(1)),
            None => (None, None),
        }
    }

    /// The thread's maple cursor moved on (`mas_find` from past its last entry): the next
    /// entry, or NULL at the end.
    pub(super) fn mas_next_of(&mut self, t: usize) {
        let (v, next) = match self.threads[t].mas_index {
            Some(i) => self.mas_find(i),
            None => (None, None),
        };
        self.threads[t].vma = v;
        self.threads[t].mas_index = next;
    }

    pub(super) fn mas_find(&self, from: u64) -> (Option<VmaId>, Option<u64>) {
        let mut mas = crate::maple::MaState::new(from);
        match self.mm.tree.mas_find(&mut mas, u64::MAX) {
            Some(v) => (Some(v), mas.last.checked_add(1)),
            None => (None, None),
        }
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

    pub(super) fn sleep(&mut self, tid: Tid, how: Sleep, what: &str, ev: &mut Vec<Event>) -> Exec {
        self.might_sleep(tid, what, ev);
        if std::mem::take(&mut self.threads[tid as usize].frz.woken) {
            return Exec::Val(true);
        }
        self.threads[tid as usize].frz.sleep = how;
        Exec::Block
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

#[cfg(test)]
mod tests {
    use crate::mm::state::World;
    use crate::mm::testutil::{faults, one_path, program};
    use crate::mm::types::Role;

    /// With a cover, steps count when done and a loop's test on entry (skipped) counts apart
    /// from its test after a round (exited); without one nothing is counted anywhere.
    #[test]
    fn coverage_tells_a_skipped_loop_from_an_exited_one() {
        use crate::mm::cover::Way;
        let plain = one_path("list", "  for_each_vma {\n    count_inc\n  }");
        let (prog, cover) = plain.with_cover();
        assert_eq!(prog, plain);
        for vmas in [0, 2] {
            let mut w = World::new();
            for _ in 0..vmas {
                w.setup_mmap(1, 0, true).unwrap();
            }
            w.start(&prog, &[Role::Exit]);
            let mut ev = Vec::new();
            while !w.all_done() {
                w.step(&prog, 0, &mut ev);
            }
        }
        let at = |pc, way| cover.count(0, pc, way);
        // pc 0 vma_first, 1 the loop's test, 2 count_inc, 5 the end of the path.
        assert_eq!(
            (at(0, Way::True), at(2, Way::True), at(5, Way::True)),
            (2, 2, 2)
        );
        assert_eq!(
            (at(1, Way::True), at(1, Way::Skipped), at(1, Way::Exited)),
            (2, 1, 1)
        );
        assert_eq!(at(1, Way::False), 2);
    }

    /// I10 at every return: a path that returns holding a lock it took is reported, naming the
    /// path and the lock; an early return counts as a return.
    #[test]
    fn a_path_returning_with_a_lock_held_is_i10() {
        let prog = program(
            r#"
    config t {
      expect safe
      use out_of_memory@t
      role oom_kill
    }
    path out_of_memory@t kernel "test" {
      task_lock
      if select_bad_process {
        return true
      }
      task_unlock
    }
    "#,
        );
        let mut w = World::new();
        w.start(&prog, &[Role::OomKill]);
        let mut ev = Vec::new();
        w.step(&prog, 0, &mut ev); // task_lock
        w.step(&prog, 0, &mut ev); // select_bad_process → true: early return
        assert_eq!(
            faults(&ev),
            vec!["I10: out_of_memory@t returned holding task_lock".to_string()]
        );
        assert!(w.all_done());
    }
}
