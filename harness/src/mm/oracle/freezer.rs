//! The freezer and the OOM victim count: I11, I12, I12s, I13 (`kernel-paths.md` §4).

use mmfuzz::mm::state::World;
use mmfuzz::mm::types::pf;
use mmfuzz::mm::{Invariant, Prim, Program, Role, Tid};

use super::Violation;

/// The flag values that matter to the freezer and the OOM killer, as the seed lists them.
pub fn freezer_flags(world: &World) -> String {
    format!(
        "pm_freezing={} pm_nosig_freezing={} oom_killer_disabled={} TIF_MEMDIE={} oom_victims={}",
        u8::from(world.pm_freezing),
        u8::from(world.pm_nosig_freezing),
        u8::from(world.oom_killer_disabled),
        u8::from(world.victim.memdie),
        world.oom_victims
    )
}

/// Whether thread `t` is the OOM victim and has returned from `exit_mm` (its mm released and
/// `exit_oom_victim` done): what `oom_killer_disable()` waits for (I12 lets it run on).
fn victim_past_exit_mm(world: &World, t: usize) -> bool {
    let th = &world.threads[t];
    th.role.is_victim() && world.victim.oom_mm && th.exited_mm && !world.victim.memdie
}

/// Whether thread `t` counts as quiescent for I12 (`kernel-paths.md` §4): frozen, asleep
/// with `PF_FREEZER_SKIP`, past the point in `do_exit` where it sets `PF_NOFREEZE`, or dead.
/// An OOM victim that is frozen before `exit_mm` counts too: it does not run until the thaw,
/// which is what 74070542099c (v4.7) relies on when its second freezing round freezes a victim
/// whose `TIF_MEMDIE` the reaper cleared.
fn quiescent(world: &World, t: usize) -> bool {
    let th = &world.threads[t];
    th.status == mmfuzz::mm::Status::Done
        // frozen(p) as a reader under freezer_lock sees it: PF_FROZEN set inside
        // __refrigerator's lock hold is a decision in progress.
        || th.frz.frozen_stable
        || th.frz.pf & pf::PF_NOFREEZE != 0
        || (th.frz.pf & pf::PF_FREEZER_SKIP != 0 && th.status == mmfuzz::mm::Status::Blocked)
}

/// I11, I12, I12s, I13: the freezer and the OOM victim count (`kernel-paths.md` §4).
pub(super) fn freezer_checks(
    prog: &Program,
    world: &World,
    tid: Tid,
    step: (Option<Prim>, Option<bool>),
) -> Option<Violation> {
    let v = |inv: Invariant, msg: String| Some(Violation { inv, tid, msg });
    let memdie = i32::from(world.victim.memdie);
    if world.oom_victims != memdie {
        return v(
            Invariant::I11,
            format!(
                "oom_victims = {} but {memdie} task(s) have TIF_MEMDIE",
                world.oom_victims
            ),
        );
    }
    let role = world.threads[tid as usize].role;
    let user = |r: Role| !r.is_kthread() && r != Role::Pm;
    match step.0 {
        Some(Prim::mark_oom_victim) if world.oom_killer_disabled => {
            return v(
                Invariant::I12,
                "mark_oom_victim after oom_killer_disable() (WARN_ON(oom_killer_disabled))".into(),
            );
        }
        Some(Prim::freezing_current)
            if step.1 == Some(true) && role.is_kthread() && !world.pm_nosig_freezing =>
        {
            return v(
                Invariant::I13,
                format!(
                    "{} decides to freeze before pm_nosig_freezing (before oom_killer_disable)",
                    role.task()
                ),
            );
        }
        Some(Prim::user_space_frozen) => {
            if world.oom_victims != 0 {
                return v(
                    Invariant::I12,
                    format!(
                        "freeze_processes() returned 0 with {}",
                        freezer_flags(world)
                    ),
                );
            }
            for (i, t) in world.threads.iter().enumerate() {
                if user(t.role) && !quiescent(world, i) && !victim_past_exit_mm(world, i) {
                    let why = if t.role.is_victim() && world.victim.oom_mm {
                        "an OOM victim that has not finished exit_mm"
                    } else {
                        "not frozen"
                    };
                    return v(
                        Invariant::I12,
                        format!(
                            "freeze_processes() returned 0 while {} is {why} ({})",
                            t.role.task(),
                            freezer_flags(world)
                        ),
                    );
                }
            }
            return None;
        }
        _ => {}
    }
    if !user(role) || !world.frozen_claim || world.threads[tid as usize].frz.frozen_stable {
        // A frozen task woken spuriously (a fake signal that came before its schedule())
        // goes round __refrigerator's loop and sleeps again: it does not run.
        return None;
    }
    // A user task took a step inside the window.
    let what = step.0.map(|p| p.name()).unwrap_or_default();
    if !victim_past_exit_mm(world, tid as usize) {
        return v(
            Invariant::I12,
            format!(
                "{} runs ({what}) after freeze_processes() returned 0 ({})",
                role.task(),
                freezer_flags(world)
            ),
        );
    }
    if prog.config.strict && world.strict_window {
        return v(
            Invariant::I12s,
            format!(
                "{} runs ({what}) after freeze_processes() returned 0 and before \
                 freeze_kernel_threads(): an OOM victim past exit_mm, still in do_exit ({})",
                role.task(),
                freezer_flags(world)
            ),
        );
    }
    None
}
