//! When no thread can run (a timed sleep fires, or it is a deadlock or a liveness failure) and
//! when every thread has returned (lock and reference balance, I10 and I8; the reference state
//! machine, `reference`).

use mmfuzz::mm::state::{Sleep, World};
use mmfuzz::mm::{Event, Invariant, Program, Status, Tid};
use mmfuzz::reference::mm as reference;

use super::Violation;

/// What happens when no thread can run.
#[derive(Debug)]
pub enum Stuck {
    /// A timed sleep timed out; go on.
    Fired,
    /// Every thread returned (or is the reaper, idle on an empty queue): the run is over.
    Idle,
    /// `oom_killer_disable()` waits forever (liveness), or every live thread waits for another.
    Violation(Violation),
}

/// Every thread returned, or is the `oom_reaper` kthread asleep on an empty queue, or is
/// [`parked`].
pub fn is_idle(world: &World) -> bool {
    world.threads.iter().enumerate().all(|(i, t)| {
        t.status == Status::Done || world.oom_reaper_waiters & (1 << i) != 0 || parked(world, i)
    })
}

/// A thread of the victim frozen by its cgroup v1 freezer while the victim is no OOM victim:
/// frozen as its administrator asked, until a thaw that is not part of the scenario.
pub fn parked(world: &World, t: usize) -> bool {
    cgroup_frozen(world, t) && !world.victim.oom_mm
}

/// A thread of the victim asleep in the refrigerator of its frozen cgroup v1.
fn cgroup_frozen(world: &World, t: usize) -> bool {
    let th = &world.threads[t];
    world.cgroup_frozen
        && th.role.is_victim()
        && th.status == Status::Blocked
        && th.frz.sleep == Sleep::Frozen
}

/// No thread is runnable: a timed sleep times out, or the run is over, or it is a liveness
/// failure or a deadlock.
pub fn when_stuck(prog: &Program, world: &mut World, ev: &mut Vec<Event>) -> Stuck {
    if world.fire_timeout(prog, ev) {
        // The woken thread runs on to its next step: a fault on the way (e.g. a return
        // holding a lock, I10) is reported like any other.
        for e in ev.iter() {
            if let Event::Fault { tid, inv, msg } = e {
                return Stuck::Violation(Violation {
                    inv: *inv,
                    tid: *tid,
                    msg: msg.clone(),
                });
            }
        }
        return Stuck::Fired;
    }
    if is_idle(world) {
        return Stuck::Idle;
    }
    // oom_killer_disable() waiting with no timeout never returns, ...
    if let Some((i, _)) = world.threads.iter().enumerate().find(|(_, t)| {
        t.status == Status::Blocked && t.frz.sleep == Sleep::OomVictims { timeout: false }
    }) {
        return Stuck::Violation(Violation {
            inv: Invariant::Liveness,
            tid: i as Tid,
            msg: format!(
                "oom_killer_disable() never returns: oom_victims = {}, the victim is {}",
                world.oom_victims,
                victim_state(world)
            ),
        });
    }
    // ... an OOM victim's thread stays in the refrigerator of its frozen cgroup: nothing
    // will thaw it, and its SIGKILL cannot wake a frozen task, so the victim never exits ...
    if let Some(i) = (0..world.threads.len()).find(|&i| cgroup_frozen(world, i)) {
        return Stuck::Violation(Violation {
            inv: Invariant::Liveness,
            tid: i as Tid,
            msg: format!(
                "the OOM victim never exits: its thread {} stays in __refrigerator (cgroup \
                 frozen, SIGKILL pending){}",
                i,
                if world.victim.memdie {
                    ", TIF_MEMDIE on another thread"
                } else {
                    ""
                }
            ),
        });
    }
    // ... else every live thread waits for another: a deadlock.
    let waits: Vec<String> = world
        .threads
        .iter()
        .enumerate()
        .filter(|(_, t)| t.status == Status::Blocked)
        .map(|(i, t)| format!("{} {}", t.role.task(), thread_state(world, i as Tid, 2)))
        .collect();
    Stuck::Violation(Violation {
        inv: Invariant::Deadlock,
        tid: 0,
        msg: format!("every live thread is blocked: {}", waits.join(", ")),
    })
}

/// The checks of a completed run: lock and reference balance, then the reference state machine.
pub fn end_checks(initial: &World, world: &World) -> Option<Violation> {
    if let Some(v) = at_exit(world) {
        return Some(v);
    }
    if (0..world.threads.len()).any(|t| parked(world, t)) {
        // The victim has not exited: the reference describes only a finished teardown.
        return None;
    }
    reference::check(initial, world).err().map(|msg| Violation {
        inv: Invariant::Reference,
        tid: 0,
        msg,
    })
}

/// What a thread is doing, for liveness and deadlock reports: the lock it waits for and who
/// holds it, and what that holder is doing.
fn thread_state(world: &World, tid: Tid, depth: u8) -> String {
    let t = &world.threads[tid as usize];
    if t.status == Status::Done {
        return "gone".into();
    }
    if let Some((lock, owner)) = world.waits_on(tid) {
        return match owner {
            Some(o) if depth < 3 && o != tid => format!(
                "waiting for {} held by {}, which is {}",
                lock.name(),
                world.threads[o as usize].role.task(),
                thread_state(world, o, depth + 1)
            ),
            _ => format!("waiting for {}", lock.name()),
        };
    }
    match (t.frz.frozen, t.frz.sleep, t.status) {
        (true, Sleep::Frozen, _) if t.frz.saved.is_some() => {
            "frozen where it slept (TASK_FROZEN) until thaw_processes()".into()
        }
        (true, Sleep::Frozen, _) => "frozen in __refrigerator until thaw_processes()".into(),
        (_, _, Status::Runnable) => "running".into(),
        _ => "asleep".into(),
    }
}

/// Where the victim task is, for liveness reports.
fn victim_state(world: &World) -> String {
    match world.threads.iter().position(|t| t.role.is_victim()) {
        None => "not a thread of the scenario".into(),
        Some(i) if world.threads[i].status == Status::Done => "gone (exited)".into(),
        Some(i) => format!(
            "{} (TIF_MEMDIE {}, {})",
            thread_state(world, i as Tid, 0),
            world.victim.memdie,
            if world.victim.has_mm {
                "mm not yet released"
            } else {
                "mm released"
            }
        ),
    }
}

/// Checks when every thread has returned: lock balance and reference balance (I10, I8).
pub fn at_exit(world: &World) -> Option<Violation> {
    for (i, t) in world.threads.iter().enumerate() {
        let tid = i as Tid;
        if parked(world, i) {
            // Not returned: it keeps its task->mm and mm_users.
            continue;
        }
        let held = world.held_by(tid);
        if !held.is_empty() {
            let names: Vec<String> = held.iter().map(|(l, _)| l.name()).collect();
            return Some(Violation {
                inv: Invariant::I10,
                tid,
                msg: format!("{} returned holding {}", t.role.task(), names.join(", ")),
            });
        }
        for (what, n) in [
            ("mm_users", t.pins),
            ("mm_count", t.grabs),
            ("task_struct", t.task_refs),
        ] {
            if n != 0 {
                return Some(Violation {
                    inv: Invariant::I8,
                    tid,
                    msg: format!(
                        "{} returned with {n} unbalanced {what} reference(s)",
                        t.role.task()
                    ),
                });
            }
        }
    }
    None
}
