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

/// `mmap_write_lock_killable(mm)`: `dup_mmap`'s way in (v5.8+ `kernel/fork.c`; `down_write_killable`
/// before). A fatal signal to the waiter would return `-EINTR`; the model sends none, so it is
/// `mmap_write_lock` that yields `true`.
pub(super) fn mmap_write_lock_killable(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    w.rwsem_lock(cx.prog, cx.tid, true, false, ev)
}

/// `mmap_write_unlock(mm)`.
pub(super) fn mmap_write_unlock(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (prog, tid) = (cx.prog, cx.tid);
    w.rwsem_unlock(prog, tid, true, ev);
    Exec::Val(true)
}

/// `mmap_write_downgrade(mm)`: `vma_end_write_all(mm)`, then `downgrade_write`: the writer
/// becomes a reader, and readers queued at the head get the lock with it.
pub(super) fn mmap_write_downgrade(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let tid = cx.tid;
    if w.mm.lock.writer != Some(tid) {
        ev.push(Event::Fault {
            tid,
            inv: Invariant::I10,
            msg: "mmap_write_downgrade of a lock this thread does not hold for write".into(),
        });
        return Exec::Val(true);
    }
    w.vma_end_write_all();
    w.mm.lock.writer = None;
    w.mm.lock.readers |= 1 << tid;
    ev.push(Event::Release {
        tid,
        lock: Lock::MmapLock,
        shared: false,
    });
    ev.push(Event::Acquire {
        tid,
        lock: Lock::MmapLock,
        shared: true,
    });
    w.rwsem_grant(cx.prog, ev);
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
            self.vma_end_write_all();
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

#[cfg(test)]
mod tests {
    use crate::mm::state::{Status, World};
    use crate::mm::testutil::{faults, program};
    use crate::mm::types::{Lock, Role};

    /// A reader may take an unowned `mmap_lock` past a queued writer only with `rwsem steal`
    /// (reader optimistic lock stealing); a woken writer then finds it held and waits again.
    #[test]
    fn readers_steal_an_unowned_mmap_lock_only_where_the_kernel_does() {
        let text = |rwsem: &str| {
            format!(
                r#"
    config t {{
      expect safe
      rwsem {rwsem}
      use exit_mm@t proc_reader@t process_mrelease@t
      role exit proc mrelease
    }}
    path exit_mm@t kernel "test" {{
      mmap_write_lock
      mmap_write_unlock
    }}
    path proc_reader@t kernel "test" {{
      mmap_read_lock
      mmap_read_unlock
    }}
    path process_mrelease@t kernel "test" {{
      mmap_read_lock
      mmap_read_unlock
    }}
    "#
            )
        };
        for (rwsem, steals) in [("fifo", false), ("steal", true)] {
            let prog = program(&text(rwsem));
            let mut w = World::new();
            w.start(&prog, &[Role::Exit, Role::Proc, Role::Mrelease]);
            let (writer, r1, r2) = (0, 1, 2);
            let mut ev = Vec::new();
            assert_eq!(w.step(&prog, r1, &mut ev), Some(true)); // R held
            assert_eq!(w.step(&prog, writer, &mut ev), None); // the writer queues
            assert_eq!(w.step(&prog, r1, &mut ev), Some(true)); // R released: the writer is woken
            assert!(w.runnable().any(|t| t == writer), "{rwsem}: woken writer");
            assert!(
                w.held_by(writer).is_empty(),
                "{rwsem}: it must retake the lock itself"
            );
            let got = w.step(&prog, r2, &mut ev) == Some(true);
            assert_eq!(got, steals, "{rwsem}: a new reader with the lock unowned");
            let writer_got = w.step(&prog, writer, &mut ev) == Some(true);
            assert_eq!(writer_got, !steals, "{rwsem}: the woken writer");
            assert!(w
                .held_by(if steals { r2 } else { writer })
                .contains(&(Lock::MmapLock, steals)));
            assert!(faults(&ev).is_empty(), "{:?}", faults(&ev));
        }
    }

    /// `__down_read_trylock` fails while a writer waits (`RWSEM_READ_FAILED_MASK`), even
    /// though only readers hold the lock.
    #[test]
    fn mmap_read_trylock_fails_behind_a_queued_writer() {
        let prog = program(
            r#"
config t {
  expect safe
  use exit_mm@t proc_reader@t oom_reaper@t
  role exit proc oom_reaper
}
path exit_mm@t kernel "test" {
  mmap_write_lock
  mmap_write_unlock
}
path proc_reader@t kernel "test" {
  mmap_read_lock
  mmap_read_unlock
}
path oom_reaper@t kernel "test" {
  if mmap_read_trylock {
    mmap_read_unlock
  }
}
"#,
        );
        let mut w = World::new();
        w.start(&prog, &[Role::Exit, Role::Proc, Role::OomReaper]);
        let (writer, reader, reaper) = (0, 1, 2);
        let mut ev = Vec::new();
        let mut alone = w.clone();
        assert_eq!(
            alone.step(&prog, reaper, &mut ev),
            Some(true),
            "uncontended: taken"
        );
        assert_eq!(w.step(&prog, reader, &mut ev), Some(true)); // R held
        assert_eq!(w.step(&prog, writer, &mut ev), None); // W queues behind it
        assert_eq!(
            w.step(&prog, reaper, &mut ev),
            Some(false),
            "trylock behind a writer"
        );
        assert!(w.held_by(reaper).is_empty());
        assert_eq!(w.threads[reaper as usize].status, Status::Done);
        assert!(faults(&ev).is_empty(), "{:?}", faults(&ev));
    }

    /// `mmap_write_lock_killable` queues behind a reader like `mmap_write_lock`, and yields
    /// `true` once the lock is handed over.
    #[test]
    fn mmap_write_lock_killable_waits_then_yields_true() {
        let prog = program(
            r#"
config t {
  expect safe
  use exit_mm@t proc_reader@t
  role exit proc
}
path exit_mm@t kernel "test" {
  if !mmap_write_lock_killable {
    return -EINTR
  }
  mmap_write_unlock
  return 1
}
path proc_reader@t kernel "test" {
  mmap_read_lock
  mmap_read_unlock
}
"#,
        );
        let mut w = World::new();
        w.start(&prog, &[Role::Exit, Role::Proc]);
        let (writer, reader) = (0, 1);
        let mut ev = Vec::new();
        assert_eq!(w.step(&prog, reader, &mut ev), Some(true));
        assert_eq!(
            w.step(&prog, writer, &mut ev),
            None,
            "queued behind the reader"
        );
        w.step(&prog, reader, &mut ev); // unlock: the writer is woken
        assert_eq!(w.step(&prog, writer, &mut ev), Some(true));
        assert!(w.held_by(writer).contains(&(Lock::MmapLock, false)));
        w.step(&prog, writer, &mut ev);
        assert_eq!(w.threads[writer as usize].ret, 1);
        assert!(faults(&ev).is_empty(), "{:?}", faults(&ev));
    }

    /// A mutex or spinlock taken twice by its holder is a self-deadlock (I10); an unlock of a
    /// lock the thread does not hold is lock misuse (I10).
    #[test]
    fn taking_a_lock_twice_or_releasing_one_not_held_is_i10() {
        let prog = program(
            r#"
config t {
  expect safe
  use out_of_memory@t
  role oom_kill
}
path out_of_memory@t kernel "test" {
  mutex_unlock oom_lock
  mutex_lock oom_lock
  mutex_lock oom_lock
}
"#,
        );
        let mut w = World::new();
        w.start(&prog, &[Role::OomKill]);
        let mut ev = Vec::new();
        w.step(&prog, 0, &mut ev);
        w.step(&prog, 0, &mut ev);
        assert_eq!(w.step(&prog, 0, &mut ev), None);
        assert_eq!(
            faults(&ev),
            [
                "I10: unlock of oom_lock which this thread does not hold",
                "I10: oom_lock taken twice (self-deadlock)"
            ]
        );
    }

    /// A contended spinlock spins (the thread stays runnable and retries); a contended mutex
    /// sleeps until the holder hands it over, FIFO.
    #[test]
    fn a_contended_spinlock_spins_and_a_contended_mutex_sleeps() {
        let prog = program(
            r#"
config t {
  expect safe
  use out_of_memory@t proc_reader@t
  role oom_kill proc
}
path out_of_memory@t kernel "test" {
  spin_lock freezer_lock
  mutex_lock oom_lock
  spin_unlock freezer_lock
  mutex_unlock oom_lock
}
path proc_reader@t kernel "test" {
  mutex_lock oom_lock
  spin_lock freezer_lock
  spin_unlock freezer_lock
  mutex_unlock oom_lock
}
"#,
        );
        let mut w = World::new();
        w.start(&prog, &[Role::OomKill, Role::Proc]);
        let (a, b) = (0, 1);
        let mut ev = Vec::new();
        assert_eq!(w.step(&prog, a, &mut ev), Some(true)); // a: freezer_lock
        assert_eq!(w.step(&prog, b, &mut ev), Some(true)); // b: oom_lock
        assert_eq!(w.step(&prog, b, &mut ev), None); // b spins on freezer_lock
        assert_eq!(w.threads[b as usize].status, Status::Runnable);
        assert_eq!(w.step(&prog, a, &mut ev), None); // a sleeps on oom_lock
        assert_eq!(w.threads[a as usize].status, Status::Blocked);
        assert_eq!(w.waits_on(a), Some((Lock::OomLock, Some(b))));
        // a holds a spinlock while it sleeps: might_sleep reports it.
        assert_eq!(
            faults(&ev),
            ["I10: oom_lock may sleep while holding spinlock freezer_lock"]
        );
    }
}
