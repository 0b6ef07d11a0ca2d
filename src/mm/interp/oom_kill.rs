//! The OOM killer and the reaper's queue (`mm/oom_kill.c`): victim selection and marking,
//! `oom_reaper_list`, `oom_victims` and `oom_killer_disable()`'s wait.

use super::{fault, Cx, Exec};
use crate::mm::event::{Event, Loc};
use crate::mm::invariant::Invariant;
use crate::mm::state::World;
use crate::mm::state::{Sleep, Status};
use crate::mm::types::{Lock, MmFlag, Role, Tid};

/// `find_lock_task_mm(victim)` — condition: the victim still has an mm; then holds task_lock.
pub(super) fn find_lock_task_mm(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (prog, tid) = (cx.prog, cx.tid);
    match w.mutex_lock(tid, Lock::TaskLock, ev) {
        Exec::Val(_) => {
            if w.victim.has_mm {
                Exec::Val(true)
            } else {
                w.mutex_unlock(prog, tid, Lock::TaskLock, ev);
                Exec::Val(false)
            }
        }
        other => other,
    }
}

/// `task_will_free_mem(victim)` — condition: the whole process is exiting (fatal signal)
/// and its mm is not `MMF_OOM_SKIP` yet.
pub(super) fn task_will_free_mem(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let tid = cx.tid;
    // __task_will_free_mem (the group is exiting), then
    // `if (test_bit(MMF_OOM_SKIP, &mm->flags)) return false;` (v4.14.5, v5.15.24
    // mm/oom_kill.c:834, v6.18.2 :901). No other process shares the mm here.
    w.access(tid, Loc::MmStruct, false, ev);
    Exec::Val(w.victim.exiting && !w.mm.test(MmFlag::MMF_OOM_SKIP))
}

/// `tsk_is_oom_victim(current)` — condition.
pub(super) fn tsk_is_oom_victim(w: &mut World, cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    let t = cx.tid as usize;
    Exec::Val(w.threads[t].role == Role::Exit && w.victim.oom_mm)
}

/// `select_bad_process` — condition: the victim is eligible (no OOM victim in progress).
pub(super) fn select_bad_process(w: &mut World, _cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    // oom_evaluate_task: a victim still being torn down aborts the selection.
    Exec::Val(w.victim.has_mm && !w.victim.oom_mm)
}

/// `select_bad_process` under `is_sysrq_oom` — condition. v4.7-rc3 mm/oom_kill.c:286
/// `if (!is_sysrq_oom(oc) && atomic_read(&task->signal->oom_victims)) return OOM_SCAN_ABORT;`:
/// a sysrq-f OOM does not wait for the victim in progress and may choose it again;
/// `oom_badness` (:183) gives 0 to an mm already reaped (`MMF_OOM_REAPED`, the model's
/// `MMF_OOM_SKIP`).
pub(super) fn select_bad_process_sysrq(w: &mut World, _cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    Exec::Val(w.victim.has_mm && !w.mm.test(MmFlag::MMF_OOM_SKIP))
}

/// `mark_oom_victim(victim)` and the SIGKILL of `oom_kill_process`.
pub(super) fn mark_oom_victim(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let tid = cx.tid;
    if w.oom_lock.owner != Some(tid) {
        fault(
            tid,
            Invariant::I10,
            "mark_oom_victim without oom_lock".into(),
            ev,
        );
    }
    w.atomic(tid, ev);
    w.mark_oom_victim();
    Exec::Val(true)
}

/// Push the victim on `oom_reaper_list` (caller holds `oom_reaper_lock`).
pub(super) fn oom_reaper_list_push(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (tid, t) = (cx.tid, cx.tid as usize);
    if w.oom_reaper_lock.owner != Some(tid) {
        fault(
            tid,
            Invariant::I9,
            "oom_reaper_list pushed without oom_reaper_lock".into(),
            ev,
        );
    }
    if w.oom_reaper_list.contains(&0) {
        let what = if w.oom_reaper_list.first() == Some(&0) {
            // tsk->oom_reaper_list = oom_reaper_list (= tsk): a cycle.
            "the victim is queued on oom_reaper_list twice: it is the head, so \
             tsk->oom_reaper_list = tsk, a cycle; the oom_reaper pops it forever"
        } else {
            "the victim is queued on oom_reaper_list twice"
        };
        fault(tid, Invariant::I9, what.into(), ev);
    }
    // The list entry owns the task reference the pusher took.
    w.oom_reaper_list.insert(0, 0);
    w.threads[t].task_refs -= 1;
    Exec::Val(true)
}

/// Pop the head of `oom_reaper_list` (caller holds `oom_reaper_lock`) — condition: popped.
pub(super) fn oom_reaper_list_pop(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (tid, t) = (cx.tid, cx.tid as usize);
    if w.oom_reaper_lock.owner != Some(tid) {
        fault(
            tid,
            Invariant::I9,
            "oom_reaper_list popped without oom_reaper_lock".into(),
            ev,
        );
    }
    if w.oom_reaper_list.is_empty() {
        Exec::Val(false)
    } else {
        w.oom_reaper_list.remove(0);
        w.threads[t].task_refs += 1;
        Exec::Val(true)
    }
}

/// `wake_up(&oom_reaper_wait)`.
pub(super) fn wake_up_oom_reaper(w: &mut World, _cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    let waiters = std::mem::take(&mut w.oom_reaper_waiters);
    for (i, th) in w.threads.iter_mut().enumerate() {
        // A sleeper frozen where it slept (v6.1+) stays frozen until __thaw_task.
        if waiters & (1 << i) != 0 && th.status == Status::Blocked && !th.frz.wake_saved() {
            th.status = Status::Runnable;
        }
    }
    Exec::Val(true)
}

/// `wait_event_freezable(oom_reaper_wait, oom_reaper_list != NULL)`.
pub(super) fn wait_oom_reaper_list(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (tid, t) = (cx.tid, cx.tid as usize);
    if w.oom_reaper_list.is_empty() {
        w.might_sleep(tid, "wait_event_freezable", ev);
        w.oom_reaper_waiters |= 1 << tid;
        // Not a lock: the waker makes the thread runnable and it re-checks.
        w.threads[t].status = Status::Blocked;
        return Exec::Spin;
    }
    Exec::Val(true)
}

/// `oom_reaper_list == NULL` — condition.
pub(super) fn oom_reaper_list_empty(w: &mut World, _cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    Exec::Val(w.oom_reaper_list.is_empty())
}

/// `tsk == oom_reaper_list || tsk->oom_reaper_list` — condition: the victim is queued
/// (the v4.7..v4.19 guard of `wake_oom_reaper`).
pub(super) fn oom_reaper_queued(w: &mut World, _cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    Exec::Val(w.oom_reaper_list.contains(&0))
}

/// `tsk->oom_reaper_list` — condition: the victim's link is not NULL, i.e. it is queued and
/// not the last entry (the model queues one task, so a queued victim is always the last).
pub(super) fn tsk_oom_reaper_list(w: &mut World, _cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    let at = w.oom_reaper_list.iter().position(|&t| t == 0);
    Exec::Val(at.is_some_and(|i| i + 1 < w.oom_reaper_list.len()))
}

/// Sleep `TASK_INTERRUPTIBLE` on `oom_reaper_wait` until a wakeup (real or fake signal).
pub(super) fn sleep_oom_reaper_wait(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    sleep_on_oom_reaper_wait(w, cx.tid, Sleep::Interruptible, ev)
}

/// Sleep `TASK_INTERRUPTIBLE|TASK_FREEZABLE` on `oom_reaper_wait` (v6.1+ `wait_event_freezable`,
/// v6.18.2 include/linux/wait.h:368-370): as [`sleep_oom_reaper_wait`], and `freeze_task` may
/// freeze the sleeper where it sleeps.
pub(super) fn sleep_oom_reaper_wait_freezable(
    w: &mut World,
    cx: Cx<'_>,
    ev: &mut Vec<Event>,
) -> Exec {
    sleep_on_oom_reaper_wait(w, cx.tid, Sleep::Freezable, ev)
}

/// prepare_to_wait on `oom_reaper_wait`, the condition again, then schedule (no lost wakeup).
fn sleep_on_oom_reaper_wait(w: &mut World, tid: Tid, how: Sleep, ev: &mut Vec<Event>) -> Exec {
    if !w.oom_reaper_list.is_empty() {
        return Exec::Val(true);
    }
    w.oom_reaper_waiters |= 1 << tid;
    let r = w.sleep(tid, how, "wait_event_freezable", ev);
    if matches!(r, Exec::Val(_)) {
        // A wakeup came before schedule(): the thread never slept, so it is off the queue.
        w.oom_reaper_waiters &= !(1 << tid);
    }
    r
}

/// `wait_event(oom_victims_wait, !atomic_read(&oom_victims))` (v4.7, no timeout).
pub(super) fn wait_oom_victims_zero(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    wait_oom_victims(w, cx, ev, false)
}

/// `wait_event_interruptible_timeout(oom_victims_wait, …)` — condition: not timed out.
pub(super) fn wait_oom_victims_zero_timeout(
    w: &mut World,
    cx: Cx<'_>,
    ev: &mut Vec<Event>,
) -> Exec {
    wait_oom_victims(w, cx, ev, true)
}

/// `oom_killer_disable()`'s wait for `oom_victims` to reach 0, with a timeout or not.
fn wait_oom_victims(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>, timeout: bool) -> Exec {
    if w.oom_victims == 0 {
        return Exec::Val(true);
    }
    w.sleep(
        cx.tid,
        Sleep::OomVictims { timeout },
        "oom_killer_disable",
        ev,
    )
}

/// `exit_oom_victim()`: clear the victim's `TIF_MEMDIE`; the last one wakes `oom_victims_wait`.
pub(super) fn exit_oom_victim(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    if w.victim.memdie {
        w.victim.memdie = false;
        w.victim.memdie_thread = None;
        w.oom_victims -= 1;
        if w.oom_victims == 0 {
            for waiter in 0..w.threads.len() {
                let th = &w.threads[waiter];
                if th.status == Status::Blocked && matches!(th.frz.sleep, Sleep::OomVictims { .. })
                {
                    w.complete_with(cx.prog, waiter as Tid, true, ev);
                }
            }
        }
    }
    Exec::Val(true)
}

/// `test_thread_flag(TIF_MEMDIE)` of current — condition.
pub(super) fn test_memdie_current(w: &mut World, cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    let tid = cx.tid;
    Exec::Val(w.memdie(tid))
}

/// `mm_has_notifiers(mm)` — condition; the model's mm has no MMU notifiers (false).
pub(super) fn mm_has_notifiers(_w: &mut World, _cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    Exec::Val(false)
}

#[cfg(test)]
mod tests {
    use crate::mm::state::{Status, World};
    use crate::mm::testutil::{faults, one_path, program, run_thread, started, thread_of};
    use crate::mm::types::{MmFlag, Role};

    /// `oom_reaper_list` is touched under `oom_reaper_lock` and holds a task once (I9).
    #[test]
    fn oom_reaper_list_misuse_is_i9() {
        let prog = one_path(
            "list",
            "  get_task_struct\n  oom_reaper_list_push\n  spin_lock oom_reaper_lock\n  get_task_struct\n  oom_reaper_list_push\n  if oom_reaper_list_pop {\n    put_task_struct\n  }\n  if oom_reaper_list_pop {\n    ret = 1\n  }\n  spin_unlock oom_reaper_lock\n  return ret",
        );
        let mut w = started(&prog, World::new(), &[Role::Exit]);
        let ev = run_thread(&prog, &mut w, 0);
        assert_eq!(
            faults(&ev),
            [
                "I9: oom_reaper_list pushed without oom_reaper_lock",
                "I9: the victim is queued on oom_reaper_list twice: it is the head, so \
                 tsk->oom_reaper_list = tsk, a cycle; the oom_reaper pops it forever"
            ]
        );
        assert_eq!(
            w.threads[0].ret, 1,
            "the victim is on the list twice: a second pop finds it"
        );
    }

    /// `exit_oom_victim` clears `TIF_MEMDIE`; the last victim wakes `oom_killer_disable()`.
    #[test]
    fn exit_oom_victim_wakes_oom_killer_disable() {
        let prog = program(
            r#"
config t {
  expect safe
  use exit_mm@t pm_suspend@t
  role exit pm
}
path exit_mm@t kernel "test" {
  exit_oom_victim
}
path pm_suspend@t kernel "test" {
  wait_oom_victims_zero
}
"#,
        );
        let mut w = World::new();
        w.setup_oom_kill().unwrap();
        assert!(w.victim.memdie);
        let mut w = started(&prog, w, &[Role::Exit, Role::Pm]);
        let (victim, pm) = (thread_of(&w, Role::Exit), thread_of(&w, Role::Pm));
        let mut ev = Vec::new();
        assert_eq!(w.step(&prog, pm, &mut ev), None);
        assert_eq!(w.threads[pm as usize].status, Status::Blocked);
        w.step(&prog, victim, &mut ev);
        assert!(!w.victim.memdie);
        assert_eq!(w.oom_victims, 0);
        assert_eq!(
            w.threads[pm as usize].status,
            Status::Done,
            "woken and returned"
        );
        assert!(faults(&ev).is_empty(), "{:?}", faults(&ev));
    }

    /// `task_will_free_mem`: the victim is exiting and its mm is not `MMF_OOM_SKIP` yet.
    #[test]
    fn task_will_free_mem_is_false_once_the_mm_is_skipped() {
        let prog = one_path(
            "list",
            "  if task_will_free_mem {\n    ret = 1\n  }\n  set_bit MMF_OOM_SKIP\n  if task_will_free_mem {\n    ret = -EBUSY\n  }\n  return ret",
        );
        let mut w = World::new();
        w.setup_kill();
        let mut w = started(&prog, w, &[Role::Exit]);
        run_thread(&prog, &mut w, 0);
        assert!(w.mm.test(MmFlag::MMF_OOM_SKIP));
        assert_eq!(w.threads[0].ret, 1);
    }
}
