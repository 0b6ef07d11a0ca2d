//! Locks: `mmap_lock` (an rwsem, `kernel/locking/rwsem.c` under `include/linux/mmap_lock.h`),
//! mutexes and spinlocks (`kernel/locking/mutex.c`, `spinlock.c`) and `task_lock`.

use super::{Cx, Exec};
use crate::mm::event::Event;
use crate::mm::invariant::Invariant;
use crate::mm::program::Program;
use crate::mm::state::{Mutex, Status, World};
use crate::mm::types::{Lock, Tid};

/// `mmap_read_lock(mm)`.
pub(super) fn mmap_read_lock(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (prog, tid) = (cx.prog, cx.tid);
    w.rwsem_lock(prog, tid, false, false, ev)
}

/// `mmap_read_lock_killable(mm)` — condition: acquired (the model sends no fatal signal).
pub(super) fn mmap_read_lock_killable(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (prog, tid) = (cx.prog, cx.tid);
    w.rwsem_lock(prog, tid, false, false, ev)
}

/// `mmap_read_trylock(mm)` — condition: acquired.
pub(super) fn mmap_read_trylock(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (prog, tid) = (cx.prog, cx.tid);
    w.rwsem_lock(prog, tid, false, true, ev)
}

/// `mmap_write_lock(mm)`.
pub(super) fn mmap_write_lock(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (prog, tid) = (cx.prog, cx.tid);
    w.rwsem_lock(prog, tid, true, false, ev)
}

/// `mmap_read_unlock(mm)`.
pub(super) fn mmap_read_unlock(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (prog, tid) = (cx.prog, cx.tid);
    w.rwsem_unlock(prog, tid, false, ev);
    Exec::Val(true)
}

/// `mmap_write_unlock(mm)`.
pub(super) fn mmap_write_unlock(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (prog, tid) = (cx.prog, cx.tid);
    w.rwsem_unlock(prog, tid, true, ev);
    Exec::Val(true)
}

/// `mutex_lock(LOCK)`.
pub(super) fn mutex_lock(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>, l: Lock) -> Exec {
    let tid = cx.tid;
    w.mutex_lock(tid, l, ev)
}

/// `spin_lock(LOCK)`.
pub(super) fn spin_lock(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>, l: Lock) -> Exec {
    let tid = cx.tid;
    w.mutex_lock(tid, l, ev)
}

/// `mutex_unlock(LOCK)`.
pub(super) fn mutex_unlock(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>, l: Lock) -> Exec {
    let (prog, tid) = (cx.prog, cx.tid);
    w.mutex_unlock(prog, tid, l, ev);
    Exec::Val(true)
}

/// `spin_unlock(LOCK)`.
pub(super) fn spin_unlock(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>, l: Lock) -> Exec {
    let (prog, tid) = (cx.prog, cx.tid);
    w.mutex_unlock(prog, tid, l, ev);
    Exec::Val(true)
}

/// `task_lock(victim)`.
pub(super) fn task_lock(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let tid = cx.tid;
    w.mutex_lock(tid, Lock::TaskLock, ev)
}

/// `task_unlock(victim)`.
pub(super) fn task_unlock(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (prog, tid) = (cx.prog, cx.tid);
    w.mutex_unlock(prog, tid, Lock::TaskLock, ev);
    Exec::Val(true)
}

/// `mutex_trylock(&oom_lock)` — condition: acquired.
pub(super) fn mutex_trylock_oom_lock(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let tid = cx.tid;
    if w.oom_lock.owner.is_none() && w.oom_lock.waiters.is_empty() {
        w.oom_lock.owner = Some(tid);
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

impl World {
    /// After a release: readers at the head of the queue are granted the lock in
    /// `rwsem_mark_wake` (up to the first writer); a writer at the head is only woken and
    /// must take the lock itself (`rwsem_down_write_slowpath` retries
    /// `rwsem_try_write_lock`), so the lock is free for a moment and a reader may steal it
    /// where the config's rwsem allows (`rwsem steal`).
    pub(super) fn rwsem_grant(&mut self, prog: &Program, ev: &mut Vec<Event>) {
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

    pub(super) fn rwsem_lock(
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
                inv: Invariant::I10,
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

    pub(super) fn rwsem_unlock(
        &mut self,
        prog: &Program,
        tid: Tid,
        write: bool,
        ev: &mut Vec<Event>,
    ) {
        let bit = 1u8 << tid;
        let held = if write {
            self.mm.lock.writer == Some(tid)
        } else {
            self.mm.lock.readers & bit != 0
        };
        if !held {
            ev.push(Event::Fault {
                tid,
                inv: Invariant::I10,
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

    pub(super) fn mutex_of(&mut self, l: Lock) -> &mut Mutex {
        match l {
            Lock::OomLock => &mut self.oom_lock,
            Lock::OomReaperLock => &mut self.oom_reaper_lock,
            Lock::TaskLock => &mut self.victim.alloc_lock,
            Lock::FreezerLock => &mut self.freezer_lock,
            Lock::IRwsem => &mut self.i_rwsem,
            _ => unreachable!("not a mutex"),
        }
    }

    pub(super) fn mutex_lock(&mut self, tid: Tid, l: Lock, ev: &mut Vec<Event>) -> Exec {
        let m = self.mutex_of(l);
        if m.owner == Some(tid) {
            ev.push(Event::Fault {
                tid,
                inv: Invariant::I10,
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

    pub(super) fn mutex_unlock(&mut self, prog: &Program, tid: Tid, l: Lock, ev: &mut Vec<Event>) {
        if l == Lock::FreezerLock && self.freezer_lock.owner == Some(tid) {
            let f = &mut self.threads[tid as usize].frz;
            f.frozen_stable = f.frozen;
        }
        let m = self.mutex_of(l);
        if m.owner != Some(tid) {
            ev.push(Event::Fault {
                tid,
                inv: Invariant::I10,
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
}
