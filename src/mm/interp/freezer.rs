//! The freezer and suspend (`kernel/freezer.c`, `kernel/power/process.c`,
//! `kernel/power/suspend.c`): `PF_*`, the globals, `__refrigerator`, `freeze_task`, thawing.

use super::{fault, Cx, Exec};
use crate::mm::event::Event;
use crate::mm::invariant::Invariant;
use crate::mm::lang::Freezing;
use crate::mm::prims::PfFlags;
use crate::mm::program::Program;
use crate::mm::state::World;
use crate::mm::state::{Sleep, Status};
use crate::mm::types::{pf, Global, Tid};

/// `current->flags |= PF_…`.
pub(super) fn set_pf(w: &mut World, cx: Cx<'_>, _ev: &mut Vec<Event>, f: PfFlags) -> Exec {
    let t = cx.tid as usize;
    w.threads[t].frz.pf |= f.0;
    Exec::Val(true)
}

/// `current->flags &= ~PF_…`.
pub(super) fn clear_pf(w: &mut World, cx: Cx<'_>, _ev: &mut Vec<Event>, f: PfFlags) -> Exec {
    let t = cx.tid as usize;
    w.threads[t].frz.pf &= !f.0;
    Exec::Val(true)
}

/// Set a global (`pm_freezing`, `pm_nosig_freezing`, `oom_killer_disabled`).
pub(super) fn set_global(w: &mut World, _cx: Cx<'_>, _ev: &mut Vec<Event>, g: Global) -> Exec {
    w.set_global(g, true);
    Exec::Val(true)
}

/// Clear a global.
pub(super) fn clear_global(w: &mut World, _cx: Cx<'_>, _ev: &mut Vec<Event>, g: Global) -> Exec {
    w.set_global(g, false);
    Exec::Val(true)
}

/// Test a global — condition.
pub(super) fn test_global(w: &mut World, _cx: Cx<'_>, _ev: &mut Vec<Event>, g: Global) -> Exec {
    Exec::Val(match g {
        Global::pm_freezing => w.pm_freezing,
        Global::pm_nosig_freezing => w.pm_nosig_freezing,
        Global::oom_killer_disabled => w.oom_killer_disabled,
    })
}

/// `atomic_inc(&system_freezing_cnt)` (`static_branch_inc(&freezer_active)` today).
pub(super) fn system_freezing_cnt_inc(w: &mut World, _cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    w.freezing_cnt += 1;
    Exec::Val(true)
}

/// `atomic_dec(&system_freezing_cnt)`.
pub(super) fn system_freezing_cnt_dec(w: &mut World, _cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    // The first step of thaw_processes(): the claim ends here.
    w.frozen_claim = false;
    w.strict_window = false;
    w.freezing_cnt -= 1;
    Exec::Val(true)
}

/// `freezing(current)` — condition; the slow path is the config's `freezer` version.
pub(super) fn freezing_current(w: &mut World, cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    let (prog, tid) = (cx.prog, cx.tid);
    Exec::Val(w.freezing(prog, tid, tid))
}

/// `frozen(current)` — condition.
pub(super) fn frozen_current(w: &mut World, cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    let t = cx.tid as usize;
    Exec::Val(w.threads[t].frz.frozen)
}

/// In `__refrigerator`: mark current frozen (`PF_FROZEN` / `TASK_FROZEN`).
pub(super) fn set_frozen(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (tid, t) = (cx.tid, cx.tid as usize);
    if w.freezer_lock.owner != Some(tid) {
        fault(
            tid,
            Invariant::I10,
            "PF_FROZEN set without freezer_lock".into(),
            ev,
        );
    }
    w.threads[t].frz.frozen = true;
    Exec::Val(true)
}

/// In `__refrigerator`: current is not to freeze after all.
pub(super) fn clear_frozen(w: &mut World, cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    let t = cx.tid as usize;
    w.threads[t].frz.frozen = false;
    Exec::Val(true)
}

/// `schedule()` in `__refrigerator`: sleep until thawed.
pub(super) fn schedule_frozen(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let tid = cx.tid;
    w.sleep(tid, Sleep::Frozen, "__refrigerator", ev)
}

/// In `__refrigerator` (v6.1+, f5d39b020809): `WRITE_ONCE(current->__state, TASK_FROZEN)`
/// and `saved_state = TASK_RUNNING` under `pi_lock` (v6.18.2 kernel/freezer.c:73-76). Not under
/// `freezer_lock`: `freeze_task` and `__thaw_task` see the task frozen from here, before it has
/// tested `freezing(current)`.
pub(super) fn set_task_frozen(w: &mut World, cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    let f = &mut w.threads[cx.tid as usize].frz;
    f.frozen = true;
    f.frozen_stable = true;
    f.saved = None;
    Exec::Val(true)
}

/// Leaving `__refrigerator` (v6.1+): `__set_current_state(TASK_RUNNING)` (v6.18.2
/// kernel/freezer.c:88).
pub(super) fn set_task_running(w: &mut World, cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    let f = &mut w.threads[cx.tid as usize].frz;
    f.frozen = false;
    f.frozen_stable = false;
    Exec::Val(true)
}

/// `for_each_process_thread` cursor: the first other task (`for_each_task`).
pub(super) fn task_first(w: &mut World, cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    let next = w.next_task(cx.tid, None);
    w.threads[cx.tid as usize].task_cursor = next;
    Exec::Val(true)
}

/// The next other task.
pub(super) fn task_next(w: &mut World, cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    let t = cx.tid as usize;
    let next = match w.threads[t].task_cursor {
        None => None,
        from => w.next_task(cx.tid, from),
    };
    w.threads[t].task_cursor = next;
    Exec::Val(true)
}

/// `freeze_task(p)` — condition: p still has to freeze (a wakeup was sent). v4.7.4
/// kernel/freezer.c:123-145; v6.18.2 :151-175 with `__freeze_task` (v6.1+, `freezer v6.1` or
/// `v6.18`): a `TASK_FREEZABLE` sleeper is frozen where it sleeps and counts as done.
///
/// One atomic step under `freezer_lock`. The reads of `freezing(p)`, `frozen(p)` and p's state
/// are made at one instant; in the kernel they are made one after the other, but what they read
/// is written either under `freezer_lock` (`__refrigerator`'s v4.x flag, `set_freezable`), or
/// under p's `pi_lock`, which `__freeze_task`'s `task_call_func` holds (p's sleep, its
/// v6.1+ `TASK_FROZEN`), or by `mark_oom_victim`, whose `__thaw_task` then takes `freezer_lock`
/// after this step and thaws whatever it froze: the same end as the instant before or after.
pub(super) fn freeze_task(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (prog, tid, t) = (cx.prog, cx.tid, cx.tid as usize);
    let Some(p) = w.threads[t].task_cursor else {
        return Exec::Val(false);
    };
    let f = w.threads[p as usize].frz;
    if f.pf & pf::PF_FREEZER_SKIP != 0 {
        // freezer_should_skip(p), tested before the lock (v4.7..v6.0).
        return Exec::Val(false);
    }
    if w.freezer_lock.owner.is_some_and(|o| o != tid) {
        // spin_lock_irqsave(&freezer_lock): the `!freezing(p) || frozen(p)` test
        // is made under the lock in every version (v4.7.4 kernel/freezer.c:134,
        // v6.18.2 the same), so it never sees __refrigerator's transient PF_FROZEN.
        return Exec::Spin;
    }
    if !w.freezing(prog, p, tid) || f.frozen {
        return Exec::Val(false);
    }
    if prog.config.task_frozen
        && w.threads[p as usize].status == Status::Blocked
        && f.sleep == Sleep::Freezable
    {
        // __freeze_task (v6.1+, v6.18.2 kernel/freezer.c:106-147): a task asleep in a
        // TASK_FREEZABLE state, neither runnable nor on a CPU, is frozen where it sleeps;
        // its state is kept in saved_state for __thaw_task.
        let g = &mut w.threads[p as usize].frz;
        g.saved = Some(g.sleep);
        g.sleep = Sleep::Frozen;
        g.frozen = true;
        g.frozen_stable = true;
        return Exec::Val(false);
    }
    // fake_signal_wake_up (user task) / wake_up_state(TASK_INTERRUPTIBLE) (kthread)
    w.wake(prog, p, false, ev);
    Exec::Val(true)
}

/// `__thaw_task(p)` (it takes `freezer_lock`).
pub(super) fn thaw_task(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    if w.freezer_lock.owner.is_some_and(|o| o != cx.tid) {
        return Exec::Spin;
    }
    if let Some(p) = w.threads[cx.tid as usize].task_cursor {
        w.thaw(cx.prog, p, ev);
    }
    Exec::Val(true)
}

/// `__thaw_task(victim)` from `mark_oom_victim` (<= v6.17).
pub(super) fn thaw_victim(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    // The task mark_oom_victim was given: the thread with TIF_MEMDIE (the first with an mm).
    let one = w
        .victim
        .memdie_thread
        .or_else(|| (0..w.threads.len() as Tid).find(|&t| w.threads[t as usize].role.is_victim()));
    thaw_victims(w, cx, ev, one)
}

/// `thaw_process(victim)`: every thread of the victim (v6.18).
pub(super) fn thaw_process_victim(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    thaw_victims(w, cx, ev, None)
}

/// Thaw the frozen threads of the victim (`only`: that thread alone), under `freezer_lock`.
fn thaw_victims(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>, only: Option<Tid>) -> Exec {
    if w.freezer_lock.owner.is_some_and(|o| o != cx.tid) {
        return Exec::Spin;
    }
    for p in 0..w.threads.len() {
        if only.is_some_and(|o| o as usize != p) {
            continue;
        }
        if w.threads[p].role.is_victim() {
            w.thaw(cx.prog, p as Tid, ev);
        }
    }
    Exec::Val(true)
}

/// `count = 0`.
pub(super) fn count_reset(w: &mut World, cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    let t = cx.tid as usize;
    w.threads[t].count = 0;
    Exec::Val(true)
}

/// `suspend_devices_and_enter()`: devices go down (no modelled effect).
pub(super) fn suspend_devices(_w: &mut World, _cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    Exec::Val(true)
}

/// Resume from the suspended state (no modelled effect).
pub(super) fn resume_devices(_w: &mut World, _cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    Exec::Val(true)
}

/// `freeze_processes()` has returned 0 to `suspend_freeze_processes()`: from here the
/// caller relies on user space being frozen (the I12 window opens; with `check I12s`
/// the strict window too, until `freeze_kernel_threads()` starts its round). A
/// marker: no kernel code of its own.
pub(super) fn user_space_frozen(w: &mut World, _cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    w.frozen_claim = true;
    w.strict_window = true;
    Exec::Val(true)
}

impl World {
    /// The thread has `TIF_MEMDIE` (a thread flag: only the victim's thread that
    /// `mark_oom_victim` was given).
    pub(super) fn memdie(&self, t: Tid) -> bool {
        self.threads[t as usize].role.is_victim()
            && self.victim.memdie
            && self.victim.memdie_thread.is_none_or(|m| m == t)
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
        // cgroup_freezing(p): the victim's cgroup v1 freezer.
        if self.pm_nosig_freezing
            || (self.cgroup_frozen && self.threads[p as usize].role.is_victim())
        {
            return true;
        }
        self.pm_freezing && f.pf & pf::PF_KTHREAD == 0
    }

    /// `__thaw_task(p)` with `freezer_lock` held: if p is frozen, wake it (v4.7..v6.0:
    /// `wake_up_process`); v6.1+ (v6.18.2 kernel/freezer.c:185-209) first restores the state
    /// `__freeze_task` saved, and then p sleeps on where it was frozen, unwoken, unless a
    /// wakeup came meanwhile (`saved_state` is `TASK_RUNNING` then).
    pub(super) fn thaw(&mut self, prog: &Program, p: Tid, ev: &mut Vec<Event>) {
        let f = &mut self.threads[p as usize].frz;
        if !f.frozen {
            return;
        }
        if let Some(s) = f.saved.take() {
            // __restore_freezer_state
            f.sleep = s;
            f.frozen = false;
            f.frozen_stable = false;
            return;
        }
        self.wake(prog, p, true, ev);
    }

    /// Wake a thread sleeping in a way `wakes` accepts (a fake signal or a real wakeup;
    /// `frozen_too`: `wake_up_state(p, TASK_FROZEN)` of a thaw).
    pub(super) fn wake(&mut self, prog: &Program, t: Tid, frozen_too: bool, ev: &mut Vec<Event>) {
        let th = &mut self.threads[t as usize];
        if frozen_too && prog.config.task_frozen {
            // v6.1+: frozen(p) is __state & TASK_FROZEN, and the wakeup sets TASK_RUNNING.
            th.frz.frozen = false;
            th.frz.frozen_stable = false;
        }
        if th.status == Status::Runnable {
            // Not asleep yet: its coming schedule() returns at once.
            th.frz.woken = true;
            return;
        }
        if th.status != Status::Blocked {
            return;
        }
        let sleep = th.frz.sleep;
        match sleep {
            Sleep::Interruptible | Sleep::Freezable => {
                self.oom_reaper_waiters &= !(1 << t);
                self.complete_with(prog, t, true, ev);
            }
            Sleep::Frozen if frozen_too => self.complete_with(prog, t, true, ev),
            Sleep::Frozen if th.frz.wake_saved() => self.oom_reaper_waiters &= !(1 << t),
            _ => {}
        }
    }

    /// The next live task after `from` (not `current`), for `for_each_process_thread`.
    pub(super) fn next_task(&self, current: Tid, from: Option<Tid>) -> Option<Tid> {
        let start = from.map_or(0, |f| f as usize + 1);
        (start..self.threads.len())
            .find(|&i| i != current as usize && self.threads[i].status != Status::Done)
            .map(|i| i as Tid)
    }
}

impl World {
    /// `pm_freezing`, `pm_nosig_freezing` or `oom_killer_disabled` set to `v`, with what the
    /// model tracks of the suspend windows.
    fn set_global(&mut self, g: Global, v: bool) {
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
    }
}

#[cfg(test)]
mod tests {
    use crate::mm::state::{Sleep, Status, World};
    use crate::mm::testutil::{faults, program, thread_of};
    use crate::mm::types::{Role, Tid};

    /// `freeze_task` makes its `freezing(p) || frozen(p)` test under `freezer_lock` (v4.7.4
    /// kernel/freezer.c:131-135): while the victim holds the lock inside `__refrigerator`, with
    /// `PF_FROZEN` set for a moment, the freezer spins instead of reading the transient flag.
    #[test]
    fn freeze_task_waits_for_freezer_lock() {
        let prog = program(
            r#"
    config t {
      expect safe
      freezer v4.9
      use pm_suspend@t victim_task@t
      role pm user
    }
    path pm_suspend@t kernel "test" {
      system_freezing_cnt_inc
      set_global pm_freezing
      task_first
      if freeze_task {
        count_inc
      }
    }
    path victim_task@t kernel "test" {
      spin_lock freezer_lock
      set_frozen
      clear_frozen
      spin_unlock freezer_lock
    }
    "#,
        );
        let mut w = World::new();
        w.start(&prog, &[Role::Pm, Role::User]);
        let (pm, user) = (thread_of(&w, Role::Pm), thread_of(&w, Role::User));
        let mut ev = Vec::new();
        for _ in 0..3 {
            w.step(&prog, pm, &mut ev); // freezing on, cursor on the victim
        }
        w.step(&prog, user, &mut ev); // spin_lock freezer_lock
        w.step(&prog, user, &mut ev); // set_frozen: PF_FROZEN, transiently
        assert!(w.threads[user as usize].frz.frozen);
        let before = w.next_insn(pm);
        assert_eq!(w.step(&prog, pm, &mut ev), None, "freeze_task spins");
        assert_eq!(w.next_insn(pm), before);
        w.step(&prog, user, &mut ev); // clear_frozen
        w.step(&prog, user, &mut ev); // spin_unlock
        assert_eq!(
            w.step(&prog, pm, &mut ev),
            Some(true),
            "the victim is freezing and not frozen: freeze_task sends it a wakeup"
        );
        assert!(faults(&ev).is_empty(), "{:?}", faults(&ev));
    }

    /// `__thaw_task` takes `freezer_lock`: it spins while another task holds it, then wakes
    /// the frozen task; `set_frozen` outside `freezer_lock` is lock misuse (I10).
    #[test]
    fn thaw_waits_for_freezer_lock_and_set_frozen_needs_it() {
        let prog = program(
            r#"
config t {
  expect safe
  freezer v4.9
  use pm_suspend@t victim_task@t
  role pm user
}
path pm_suspend@t kernel "test" {
  spin_lock freezer_lock
  spin_unlock freezer_lock
}
path victim_task@t kernel "test" {
  set_frozen
  thaw_victim
}
"#,
        );
        let mut w = World::new();
        w.start(&prog, &[Role::Pm, Role::User]);
        let (pm, user) = (thread_of(&w, Role::Pm), thread_of(&w, Role::User));
        let mut ev = Vec::new();
        w.step(&prog, user, &mut ev); // set_frozen without the lock
        assert_eq!(faults(&ev), ["I10: PF_FROZEN set without freezer_lock"]);
        w.step(&prog, pm, &mut ev); // pm: freezer_lock
        assert_eq!(w.step(&prog, user, &mut ev), None, "thaw spins");
        w.step(&prog, pm, &mut ev); // unlock
        assert_eq!(w.step(&prog, user, &mut ev), Some(true));
        assert!(w.all_done());
    }

    /// The v6.1+ core (f5d39b020809): the reaper asleep in `wait_event_freezable`
    /// (`TASK_INTERRUPTIBLE|TASK_FREEZABLE`) and a freezing round of `freeze_kernel_threads`.
    fn reaper_and_freezer(freezer: &str, pm: &str) -> crate::mm::Program {
        program(&format!(
            r#"
config t {{
  expect safe
  freezer {freezer}
  use pm_suspend@t oom_reaper@t
  role pm oom_reaper
}}
path pm_suspend@t kernel "test" {{
  system_freezing_cnt_inc
  set_global pm_nosig_freezing
  task_first
  if freeze_task {{
    count_inc
  }}
{pm}
}}
path oom_reaper@t kernel "test" {{
  clear_pf PF_NOFREEZE
  sleep_oom_reaper_wait_freezable
}}
"#
        ))
    }

    /// Run the reaper into its sleep and the freezer through `freeze_task`.
    fn frozen_in_place(prog: &crate::mm::Program) -> (World, Tid, Tid, Option<bool>) {
        let mut w = World::new();
        w.start(prog, &[Role::Pm, Role::OomReaper]);
        let (pm, reaper) = (thread_of(&w, Role::Pm), thread_of(&w, Role::OomReaper));
        let mut ev = Vec::new();
        w.step(prog, reaper, &mut ev); // set_freezable
        w.step(prog, reaper, &mut ev); // asleep on oom_reaper_wait
        assert_eq!(w.threads[reaper as usize].status, Status::Blocked);
        for _ in 0..3 {
            w.step(prog, pm, &mut ev);
        }
        let sent = w.step(prog, pm, &mut ev);
        assert!(faults(&ev).is_empty(), "{:?}", faults(&ev));
        (w, pm, reaper, sent)
    }

    /// `__freeze_task` (v6.18.2 kernel/freezer.c:106-147) freezes a `TASK_FREEZABLE` sleeper
    /// where it sleeps: `freeze_task` sends no wakeup and the reaper never runs. Before v6.1
    /// the freezer wakes it to freeze in `__refrigerator`.
    #[test]
    fn a_freezable_sleeper_is_frozen_where_it_sleeps_from_v6_1() {
        let (w, _, reaper, sent) = frozen_in_place(&reaper_and_freezer("v6.1", ""));
        assert_eq!(
            sent,
            Some(false),
            "frozen in place: nothing left to wait for"
        );
        let f = w.threads[reaper as usize].frz;
        assert_eq!(w.threads[reaper as usize].status, Status::Blocked);
        assert!(f.frozen && f.sleep == Sleep::Frozen && f.saved == Some(Sleep::Freezable));

        let (w, _, reaper, sent) = frozen_in_place(&reaper_and_freezer("v4.9", ""));
        assert_eq!(sent, Some(true), "v4.9: a wakeup is sent");
        let f = w.threads[reaper as usize].frz;
        assert_ne!(w.threads[reaper as usize].status, Status::Blocked, "woken");
        assert!(!f.frozen && f.saved.is_none());
    }

    /// `__thaw_task` restores the saved state: with no wakeup meanwhile the reaper sleeps on,
    /// unwoken; a `wake_up(&oom_reaper_wait)` while it was frozen sets its `saved_state` to
    /// `TASK_RUNNING` (`ttwu_state_match`), it stays frozen, and the thaw wakes it.
    #[test]
    fn thaw_restores_the_sleep_or_delivers_the_wakeup_that_came_meanwhile() {
        let prog = reaper_and_freezer("v6.18", "  thaw_task");
        let (mut w, pm, reaper, _) = frozen_in_place(&prog);
        let mut ev = Vec::new();
        w.step(&prog, pm, &mut ev); // __thaw_task
        let f = w.threads[reaper as usize].frz;
        assert_eq!(w.threads[reaper as usize].status, Status::Blocked);
        assert!(!f.frozen && f.sleep == Sleep::Freezable && f.saved.is_none());

        let prog = reaper_and_freezer("v6.18", "  wake_up_oom_reaper\n  thaw_task");
        let (mut w, pm, reaper, _) = frozen_in_place(&prog);
        w.step(&prog, pm, &mut ev); // wake_up(&oom_reaper_wait)
        let f = w.threads[reaper as usize].frz;
        assert_eq!(
            w.threads[reaper as usize].status,
            Status::Blocked,
            "still frozen"
        );
        assert!(f.frozen && f.saved.is_none());
        w.step(&prog, pm, &mut ev); // __thaw_task: wake_up_state(p, TASK_FROZEN)
        assert_ne!(w.threads[reaper as usize].status, Status::Blocked, "woken");
        assert!(!w.threads[reaper as usize].frz.frozen);
        assert!(faults(&ev).is_empty(), "{:?}", faults(&ev));
    }

    /// v6.1+ `__refrigerator` sets `TASK_FROZEN` under `pi_lock` before it tests
    /// `freezing(current)` under `freezer_lock` (v6.18.2 kernel/freezer.c:73-80): a
    /// `freeze_task` in between sees the task frozen and counts it done.
    #[test]
    fn freeze_task_sees_task_frozen_before_the_refrigerator_decides() {
        let prog = program(
            r#"
config t {
  expect safe
  freezer v6.18
  use pm_suspend@t victim_task@t
  role pm user
}
path pm_suspend@t kernel "test" {
  system_freezing_cnt_inc
  set_global pm_freezing
  task_first
  if freeze_task {
    count_inc
  }
}
path victim_task@t kernel "test" {
  set_task_frozen
  spin_lock freezer_lock
  spin_unlock freezer_lock
  set_task_running
}
"#,
        );
        let mut w = World::new();
        w.start(&prog, &[Role::Pm, Role::User]);
        let (pm, user) = (thread_of(&w, Role::Pm), thread_of(&w, Role::User));
        let mut ev = Vec::new();
        for _ in 0..3 {
            w.step(&prog, pm, &mut ev);
        }
        w.step(&prog, user, &mut ev); // TASK_FROZEN, not under freezer_lock
        assert_eq!(
            w.step(&prog, pm, &mut ev),
            Some(false),
            "frozen(p): no wakeup"
        );
        w.step(&prog, user, &mut ev);
        w.step(&prog, user, &mut ev);
        w.step(&prog, user, &mut ev); // TASK_RUNNING
        assert!(!w.threads[user as usize].frz.frozen);
        assert!(faults(&ev).is_empty(), "{:?}", faults(&ev));
    }
}
