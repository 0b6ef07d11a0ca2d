//! Per-VMA locks and the lockless VMA lookup (v6.4+): `vma_start_read`, `vma_end_read`,
//! `vma_start_write`, `vma_mark_detached` (`include/linux/mm.h`; `mm/mmap_lock.c` in v6.18),
//! `rcu_read_lock` (`include/linux/rcupdate.h`), and the lookups `lock_vma_under_rcu` and
//! `find_vma` make at the faulting address (`mm/memory.c`, `mm/mmap.c`).
//!
//! Reads a lockless reader makes inside its `rcu_read_lock` section (the tree walk, the VMA's
//! lock word and `detached`) are the kernel's marked reads (`rcu_dereference`, `READ_ONCE`):
//! they report no access to the race detector, only a use after free when the VMA's memory is
//! really gone ([`World::rcu_read_vma`]).

use super::{fault, Cx, Exec};
use crate::mm::event::{Event, Loc};
use crate::mm::invariant::Invariant;
use crate::mm::state::{Status, World};
use crate::mm::types::{Lock, Tid, VmaId};

/// `rcu_read_lock()`.
pub(super) fn rcu_read_lock(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    if std::mem::replace(&mut w.threads[cx.tid as usize].rcu, true) {
        fault(
            cx.tid,
            Invariant::I10,
            "rcu_read_lock inside its own read-side section".into(),
            ev,
        );
    }
    Exec::Val(true)
}

/// `rcu_read_unlock()`.
pub(super) fn rcu_read_unlock(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    if !std::mem::replace(&mut w.threads[cx.tid as usize].rcu, false) {
        fault(
            cx.tid,
            Invariant::I10,
            "rcu_read_unlock outside a read-side section".into(),
            ev,
        );
    }
    Exec::Val(true)
}

/// `vma = mas_walk(&mas)` at the faulting address, in `lock_vma_under_rcu`: the tree read
/// under RCU (a node replaced meanwhile is seen old or new, never half-written: the model's
/// tree store is one step).
pub(super) fn mas_walk(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    rcu_walk_check(w, cx, ev);
    w.threads[cx.tid as usize].vma = w.mm.tree.mas_walk(w.fault_addr).entry;
    Exec::Val(true)
}

/// `vma = vma_find(&vmi, ULONG_MAX)` (`for_each_vma` under RCU: `lock_next_vma`'s
/// `vma_next`, v6.18 `mm/mmap_lock.c:297-361`): the first VMA, without `mmap_lock`.
pub(super) fn vma_first_rcu(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let t = cx.tid as usize;
    rcu_walk_check(w, cx, ev);
    let (v, next) = w.mas_find(0);
    w.threads[t].vma = v;
    w.threads[t].mas_index = next;
    Exec::Val(true)
}

/// The next VMA of that walk, under RCU.
pub(super) fn vma_next_rcu(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let t = cx.tid as usize;
    rcu_walk_check(w, cx, ev);
    w.mas_next_of(t);
    Exec::Val(true)
}

fn rcu_walk_check(w: &World, cx: Cx<'_>, ev: &mut Vec<Event>) {
    if !w.threads[cx.tid as usize].rcu {
        fault(
            cx.tid,
            Invariant::I15,
            format!("{} of mm->mm_mt outside rcu_read_lock", cx.prim.name()),
            ev,
        );
    }
}

/// `vma = find_vma(mm, address)` under `mmap_read_lock` (`lock_mm_and_find_vma`) or
/// `mmap_write_lock` (`do_vmi_munmap`'s `vma_find`): the VMA at the faulting address, or NULL
/// (the model's VMAs never grow down to it).
pub(super) fn find_vma(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    w.access(cx.tid, Loc::MmTree, false, ev);
    w.threads[cx.tid as usize].vma = w.mm.tree.mas_walk(w.fault_addr).entry;
    Exec::Val(true)
}

/// `vma_is_anonymous(vma) && vma->anon_vma` — condition (v6.4's `lock_vma_under_rcu` handles
/// only anonymous VMAs that have had a fault; the set-up's faults give the anon_vma).
pub(super) fn vma_is_anonymous(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let Some(v) = w.cursor(cx.tid, cx.prim, ev) else {
        return Exec::Val(false);
    };
    w.rcu_read_vma(cx.tid, v, ev);
    Exec::Val(w.vmas[v as usize].anon)
}

/// `vma_start_read(vma)` (v6.4 `include/linux/mm.h:642-662`) — condition: the VMA is not
/// write-locked (`vm_lock_seq != mm_lock_seq`, checked before and after) and
/// `down_read_trylock(&vma->vm_lock->lock)` succeeds (it fails while a writer waits).
pub(super) fn vma_start_read(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    start_read(w, cx, ev, false)
}

/// `vma = vma_start_read(mm, vma)` of v6.15+ (`mm/mmap_lock.c:142-217`): the seq check,
/// `__refcount_inc_not_zero_limited_acquire` on `vm_refcnt` (fails for a detached VMA, 0, or a
/// waiting writer), `vma->vm_mm != mm` (a `SLAB_TYPESAFE_BY_RCU` VMA reused by another mm:
/// the model allocates no VMA, so never), the seq again. On failure it has dropped RCU; the
/// cursor is NULL, or stays for `-EAGAIN` (detached).
pub(super) fn vma_start_read_refcnt(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    start_read(w, cx, ev, true)
}

fn start_read(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>, refcnt: bool) -> Exec {
    let Some(v) = w.cursor(cx.tid, cx.prim, ev) else {
        return Exec::Val(false);
    };
    w.rcu_read_vma(cx.tid, v, ev);
    let l = &w.vmas[v as usize].lock;
    let write_held = l.wlocked || l.writers_waiting != 0;
    if refcnt && (write_held || l.detached) {
        // v6.15+: on failure vma_start_read has dropped RCU itself (mm/mmap_lock.c:197-198).
        // A write-locked VMA fails the seq check first (:156): NULL. Otherwise a detached one
        // (vm_refcnt 0) fails the increment with ERR_PTR(-EAGAIN) (:167-170): the caller
        // retries, and the cursor stays non-NULL. A waiting writer: NULL.
        let eagain = !l.wlocked && l.detached;
        let t = cx.tid as usize;
        w.threads[t].rcu = false;
        if !eagain {
            w.threads[t].vma = None;
        }
        return Exec::Val(false);
    }
    if write_held {
        return Exec::Val(false);
    }
    w.vmas[v as usize].lock.readers |= 1 << cx.tid;
    ev.push(Event::Acquire {
        tid: cx.tid,
        lock: Lock::VmLock(v),
        shared: true,
    });
    Exec::Val(true)
}

/// `vma_end_read(vma)`: `up_read(&vma->vm_lock->lock)` (v6.15+: drop the `vm_refcnt`
/// reference), waking a writer waiting in `vma_start_write`.
pub(super) fn vma_end_read(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let Some(v) = w.cursor(cx.tid, cx.prim, ev) else {
        return Exec::Val(true);
    };
    let bit = 1u8 << cx.tid;
    if w.vmas[v as usize].lock.readers & bit == 0 {
        fault(
            cx.tid,
            Invariant::I10,
            format!("vma_end_read of vma{v}, whose lock this thread does not hold"),
            ev,
        );
        return Exec::Val(true);
    }
    w.rcu_read_vma(cx.tid, v, ev);
    w.vmas[v as usize].lock.readers &= !bit;
    ev.push(Event::Release {
        tid: cx.tid,
        lock: Lock::VmLock(v),
        shared: true,
    });
    let waiting = w.vmas[v as usize].lock.writers_waiting;
    for t in 0..w.threads.len() as Tid {
        if waiting & (1 << t) != 0 && w.threads[t as usize].status == Status::Blocked {
            w.threads[t as usize].status = Status::Runnable;
        }
    }
    Exec::Val(true)
}

/// `vma_start_write(vma)`: under `mmap_write_lock` (`mmap_assert_write_locked`), wait for the
/// VMA's readers (`down_write`), then mark it write-locked (`vm_lock_seq = mm_lock_seq`) until
/// the mmap write lock ends. New readers fail from then on.
pub(super) fn vma_start_write(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let Some(v) = w.cursor(cx.tid, cx.prim, ev) else {
        return Exec::Val(true);
    };
    if w.mm.lock.writer != Some(cx.tid) {
        fault(
            cx.tid,
            Invariant::I14,
            format!("vma_start_write of vma{v} without mmap_lock held for write"),
            ev,
        );
    }
    if w.vmas[v as usize].lock.wlocked {
        return Exec::Val(true);
    }
    let bit = 1u8 << cx.tid;
    if w.vmas[v as usize].lock.readers & !bit != 0 {
        w.might_sleep(cx.tid, "vma_start_write", ev);
        w.vmas[v as usize].lock.writers_waiting |= bit;
        ev.push(Event::Block {
            tid: cx.tid,
            lock: Lock::VmLock(v),
        });
        return Exec::Block;
    }
    ev.push(Event::Acquire {
        tid: cx.tid,
        lock: Lock::VmLock(v),
        shared: false,
    });
    w.access(cx.tid, Loc::VmaObj(v), true, ev);
    let l = &mut w.vmas[v as usize].lock;
    l.writers_waiting &= !bit;
    l.wlocked = true;
    ev.push(Event::Release {
        tid: cx.tid,
        lock: Lock::VmLock(v),
        shared: false,
    });
    Exec::Val(true)
}

/// `vma_mark_detached(vma)` (v6.4 `vma->detached = true`; v6.15+ drops the tree's
/// `vm_refcnt` and waits for readers): the VMA must be write-locked (`vma_assert_write_locked`).
pub(super) fn vma_mark_detached(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let Some(v) = w.cursor(cx.tid, cx.prim, ev) else {
        return Exec::Val(true);
    };
    w.access(cx.tid, Loc::VmaObj(v), true, ev);
    let l = &w.vmas[v as usize].lock;
    if !l.wlocked {
        fault(
            cx.tid,
            Invariant::I14,
            format!("vma_mark_detached of vma{v}, which is not write-locked"),
            ev,
        );
    }
    if l.readers & !(1 << cx.tid) != 0 {
        let r = l.readers.trailing_zeros() as Tid;
        fault(
            cx.tid,
            Invariant::I14,
            format!(
                "vma{v} detached while {} holds its lock for read",
                w.threads[r as usize].role.task()
            ),
            ev,
        );
    }
    w.vmas[v as usize].lock.detached = true;
    Exec::Val(true)
}

/// `vma->detached` — condition (v6.4 `lock_vma_under_rcu`'s re-check after locking).
pub(super) fn vma_detached(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let Some(v) = w.cursor(cx.tid, cx.prim, ev) else {
        return Exec::Val(false);
    };
    w.rcu_read_vma(cx.tid, v, ev);
    Exec::Val(w.vmas[v as usize].lock.detached)
}

/// `address < vma->vm_start || address >= vma->vm_end` — condition: the VMA found no longer
/// covers the faulting address (it was shrunk, or freed and reused as another VMA).
pub(super) fn vma_outside_addr(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let Some(v) = w.cursor(cx.tid, cx.prim, ev) else {
        return Exec::Val(true);
    };
    w.rcu_read_vma(cx.tid, v, ev);
    let x = &w.vmas[v as usize];
    Exec::Val(w.fault_addr < x.start || w.fault_addr >= x.end())
}

impl World {
    /// A lockless reader reads VMA `v`'s fields (lock word, `detached`, bounds, flags): fine
    /// while it is live, or freed through RCU and read inside a read-side section; otherwise
    /// a use after free.
    pub(super) fn rcu_read_vma(&self, tid: Tid, v: VmaId, ev: &mut Vec<Event>) {
        let x = &self.vmas[v as usize];
        if !(x.live || x.lock.rcu_freed && self.threads[tid as usize].rcu) {
            self.access(tid, Loc::VmaObj(v), false, ev);
        }
    }

    /// `vma_end_write_all(mm)` (every `mmap_write_unlock`, `mmap_write_downgrade`): every
    /// VMA write lock ends (`mm_lock_seq++`).
    pub(super) fn vma_end_write_all(&mut self) {
        for x in &mut self.vmas {
            x.lock.wlocked = false;
        }
    }

    /// I15 at a free with no grace period: no other thread may be inside an `rcu_read_lock`
    /// section, where it can still reach what is freed (every lockless reader of the model
    /// walks this mm).
    pub(super) fn free_without_grace(&self, tid: Tid, what: &str, ev: &mut Vec<Event>) {
        if let Some(r) = (0..self.threads.len()).find(|&r| r != tid as usize && self.threads[r].rcu)
        {
            fault(
                tid,
                Invariant::I15,
                format!(
                    "{what} freed without an RCU grace period while {} is inside rcu_read_lock and can still reach it",
                    self.threads[r].role.task()
                ),
                ev,
            );
        }
    }
}
