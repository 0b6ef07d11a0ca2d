//! The victim's own exit (`kernel/exit.c`): `exit_mm`'s `current->mm = NULL`, `exit_files`,
//! and the user task's I/O and fatal signal.

use super::{fault, Cx, Exec};
use crate::mm::event::Event;
use crate::mm::invariant::Invariant;
use crate::mm::state::World;

/// `current->mm = NULL` in `exit_mm` (under task_lock).
pub(super) fn clear_task_mm(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let tid = cx.tid;
    if w.victim.alloc_lock.owner != Some(tid) {
        fault(
            tid,
            Invariant::I10,
            "current->mm = NULL without task_lock".into(),
            ev,
        );
    }
    // The task's mm is gone once its last thread with one clears it (find_lock_task_mm
    // finds none).
    w.victim.mm_threads &= !(1 << tid);
    if w.victim.mm_threads == 0 {
        w.victim.has_mm = false;
    }
    Exec::Val(true)
}

/// `fatal_signal_pending(current)` — condition.
pub(super) fn fatal_signal_pending(w: &mut World, cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    let t = cx.tid as usize;
    Exec::Val(w.threads[t].role.is_victim() && w.victim.exiting)
}

/// A user task's I/O (a syscall that touches a device or the disk).
pub(super) fn do_io(_w: &mut World, _cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    Exec::Val(true)
}

/// `exit_files(tsk)` in `do_exit` (after `exit_mm`): the last `fput` of a file may
/// flush it (I/O).
pub(super) fn exit_files(_w: &mut World, _cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    Exec::Val(true)
}

#[cfg(test)]
mod tests {
    use crate::mm::testutil::{faults, one_path, run_thread, started};
    use crate::mm::types::Role;
    use crate::mm::World;

    /// `exit_mm` clears `current->mm` under `task_lock` (I10 otherwise).
    #[test]
    fn clear_task_mm_needs_task_lock() {
        let ok = one_path("list", "  task_lock\n  clear_task_mm\n  task_unlock");
        let bad = one_path("list", "  clear_task_mm");
        for (prog, want) in [
            (ok, vec![]),
            (bad, vec!["I10: current->mm = NULL without task_lock"]),
        ] {
            let mut w = started(&prog, World::new(), &[Role::Exit]);
            let ev = run_thread(&prog, &mut w, 0);
            assert!(!w.victim.has_mm);
            assert_eq!(faults(&ev), want);
        }
    }
}
