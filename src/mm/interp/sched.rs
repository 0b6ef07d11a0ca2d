//! Scheduling points and steps with no modelled effect (`kernel/sched/core.c`,
//! `kernel/time/timer.c`).

use super::{Cx, Exec};
use crate::mm::event::Event;
use crate::mm::state::World;

/// A step with no modelled effect (`mmu_notifier_release`, `lru_add_drain`, `tlb_gather_mmu`,
/// `cond_resched`, `exit_fs`, …): kept so traces read like the source and so that other
/// threads may run between the neighbouring steps.
pub(super) fn nop(_w: &mut World, _cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    Exec::Val(true)
}

/// `msleep()` between freezing rounds (`TASK_UNINTERRUPTIBLE`: no signal wakes it; the model
/// lets the other threads run instead of sleeping).
pub(super) fn msleep(_w: &mut World, _cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    Exec::Val(true)
}

/// `schedule_timeout_idle(HZ/10)` between reaper attempts: may sleep.
pub(super) fn schedule_timeout_idle(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    w.might_sleep(cx.tid, "schedule_timeout_idle", ev);
    Exec::Val(true)
}
