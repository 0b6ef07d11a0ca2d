//! Task and mm references (`kernel/fork.c`, `include/linux/sched/mm.h`,
//! `include/linux/sched/task.h`).

use super::{fault, Cx, Exec};
use crate::mm::event::{Event, Loc};
use crate::mm::invariant::Invariant;
use crate::mm::state::World;
use crate::mm::types::Lock;

/// `get_task_mm(victim)` — condition: got a pinned mm (task_lock, mmget, task_unlock).
pub(super) fn get_task_mm(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (prog, tid, t) = (cx.prog, cx.tid, cx.tid as usize);
    match w.mutex_lock(tid, Lock::TaskLock, ev) {
        Exec::Val(_) => {
            let got = w.victim.has_mm;
            if got {
                w.atomic(tid, ev);
                w.mm.users += 1;
                w.threads[t].pins += 1;
            }
            w.mutex_unlock(prog, tid, Lock::TaskLock, ev);
            Exec::Val(got)
        }
        other => other,
    }
}

/// `get_task_struct(victim)`.
pub(super) fn get_task_struct(w: &mut World, cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    let t = cx.tid as usize;
    w.victim.usage += 1;
    w.threads[t].task_refs += 1;
    Exec::Val(true)
}

/// `mmget(mm)` / `atomic_inc(&mm->mm_users)`: pin an mm known to have users.
pub(super) fn mmget(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (tid, t) = (cx.tid, cx.tid as usize);
    w.atomic(tid, ev);
    if w.mm.users <= 0 {
        fault(
            tid,
            Invariant::I8,
            "mmget on an mm with no users".into(),
            ev,
        );
    }
    w.mm.users += 1;
    w.threads[t].pins += 1;
    Exec::Val(true)
}

/// `put_task_struct(victim)`.
pub(super) fn put_task_struct(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (tid, t) = (cx.tid, cx.tid as usize);
    w.victim.usage -= 1;
    w.threads[t].task_refs -= 1;
    if w.threads[t].task_refs < 0 || w.victim.usage < 0 {
        fault(
            tid,
            Invariant::I8,
            "put_task_struct without a reference".into(),
            ev,
        );
    }
    Exec::Val(true)
}

/// `mmget_not_zero(mm)` — condition: pinned.
pub(super) fn mmget_not_zero(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (tid, t) = (cx.tid, cx.tid as usize);
    w.atomic(tid, ev);
    if w.mm.users > 0 {
        w.mm.users += 1;
        w.threads[t].pins += 1;
        Exec::Val(true)
    } else {
        Exec::Val(false)
    }
}

/// `atomic_dec_and_test(&mm->mm_users)` in `mmput` — condition: this was the last user.
pub(super) fn mm_users_dec_and_test(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (tid, t) = (cx.tid, cx.tid as usize);
    w.atomic(tid, ev);
    let th = &mut w.threads[t];
    th.pins -= 1;
    if th.pins < 0 {
        fault(
            tid,
            Invariant::I8,
            "mmput without a pin (mm_users)".into(),
            ev,
        );
    }
    w.mm.users -= 1;
    if w.mm.users < 0 {
        fault(tid, Invariant::I8, "mm_users below zero".into(), ev);
    }
    let last = w.mm.users == 0;
    if last {
        // The last user inherits the users' mm_count reference (__mmput's mmdrop).
        w.threads[t].grabs += 1;
    }
    Exec::Val(last)
}

/// `mmgrab(mm)`.
pub(super) fn mmgrab(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (tid, t) = (cx.tid, cx.tid as usize);
    w.atomic(tid, ev);
    w.mm.count += 1;
    w.threads[t].grabs += 1;
    Exec::Val(true)
}

/// `mmdrop(mm)` (frees the mm_struct when `mm_count` reaches 0).
pub(super) fn mmdrop(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let tid = cx.tid;
    w.atomic(tid, ev);
    let th = &mut w.threads[tid as usize];
    th.grabs -= 1;
    if th.grabs < 0 {
        fault(
            tid,
            Invariant::I8,
            "mmdrop without a matching mmgrab".into(),
            ev,
        );
    }
    w.mm.count -= 1;
    if w.mm.count < 0 {
        fault(tid, Invariant::I8, "mm_count below zero".into(), ev);
    }
    if w.mm.count == 0 && !w.mm.freed {
        w.mm.freed = true;
        ev.push(Event::Free {
            tid,
            loc: Loc::MmStruct,
        });
    }
    Exec::Val(true)
}

#[cfg(test)]
mod tests {
    use crate::mm::event::Loc;
    use crate::mm::testutil::{faults, frees, one_path, run_thread, started};
    use crate::mm::types::Role;
    use crate::mm::World;

    /// `mmput`'s `atomic_dec_and_test(&mm->mm_users)`: the last user inherits the users'
    /// `mm_count` reference, and its `mmdrop` frees the `mm_struct`.
    #[test]
    fn the_last_mmput_and_mmdrop_free_the_mm() {
        let prog = one_path("list", "  if mm_users_dec_and_test {\n    mmdrop\n  }");
        let mut w = started(&prog, World::new(), &[Role::Exit]);
        let ev = run_thread(&prog, &mut w, 0);
        assert_eq!(w.mm.users, 0);
        assert_eq!(frees(&ev), [Loc::MmStruct]);
        assert!(w.mm.freed);
        assert!(faults(&ev).is_empty(), "{:?}", faults(&ev));
    }

    /// Refcount misuse is I8: a put without a pin, `mmdrop` without `mmgrab`, `mmget` on an
    /// mm with no users; `mmget_not_zero` fails on one.
    #[test]
    fn refcount_misuse_is_i8() {
        let prog = one_path(
            "list",
            "  mm_users_dec_and_test\n  mm_users_dec_and_test\n  if mmget_not_zero {\n    return 1\n  }\n  mmget\n  put_task_struct",
        );
        let mut w = started(&prog, World::new(), &[Role::Exit]);
        let ev = run_thread(&prog, &mut w, 0);
        assert_eq!(
            faults(&ev),
            [
                "I8: mmput without a pin (mm_users)",
                "I8: mm_users below zero",
                "I8: mmget on an mm with no users",
                "I8: put_task_struct without a reference"
            ]
        );
    }
}
