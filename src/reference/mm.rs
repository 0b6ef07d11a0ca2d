//! The reference MM state machine: the scenario's operations applied atomically.
//!
//! Every thread's operation (the victim's `exit_mm`, a `/proc` holder's `get_task_mm` …
//! `mmput`, `oom_reap_task`, `process_mrelease`) is one atomic transition here. Whatever order
//! they complete in, the last `mmput` tears the address space down, so when every thread has
//! returned the observable state is the same for every order; only `process_mrelease`'s return
//! value depends on the order, and it must be one the kernel documents for some order.

use crate::mm::state::{Role, World};
use crate::mm::types::vm;

/// Errnos `process_mrelease` may return (`mm/oom_kill.c`, `man 2 process_mrelease`).
const ESRCH: i32 = -3;
const EINTR: i32 = -4;
const EAGAIN: i32 = -11;
const EINVAL: i32 = -22;

/// What the reference says the final state is, given the state the threads started from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Final {
    /// `mm_users`.
    pub users: i32,
    /// `mm_count`.
    pub count: i32,
    /// The `mm_struct` is freed.
    pub mm_freed: bool,
    /// `vm_committed_as` (pages).
    pub committed: i64,
    /// Per VMA that was live at the start: (index, live, resident, page tables freed).
    pub vmas: Vec<(usize, bool, u64, bool)>,
    /// `task->mm` cleared.
    pub task_has_mm: bool,
    /// The victim's task_struct usage.
    pub task_usage: i32,
    /// VMAs created by the run (a fork's copies) still live at the end.
    pub new_vmas_live: usize,
}

/// The final state after every thread (`roles`) has run its operation atomically on `start`.
/// `queued`: entries left on `oom_reaper_list`. `marked`: whether the racing allocation's
/// `out_of_memory` picked the victim (it does if it
/// runs before the victim's `exit_mm`, and not after: both orders are allowed).
pub fn expected(start: &World, roles: &[Role], marked: bool, queued: usize) -> Final {
    let exit = roles.iter().any(|r| r.is_victim());
    // A failed fork: the child's mm (one user, the forking task's) is torn down; the parent's
    // VMAs, which the set-up built, stay as they are, and every copy is freed again.
    let fork = roles.contains(&Role::Fork);
    let mut committed = start.committed;
    let mut vmas = Vec::new();
    for (i, v) in start.vmas.iter().enumerate() {
        if v.live {
            if exit {
                if v.flags & vm::VM_ACCOUNT != 0 {
                    committed -= v.pages as i64;
                }
                vmas.push((i, false, 0, v.pt));
            } else {
                vmas.push((i, true, v.resident, false));
            }
        }
    }
    // The last mmput drops the users' mm_count; marking a victim grabs one for signal->oom_mm.
    let count = start.mm.count - i32::from(exit || fork) + i32::from(marked);
    Final {
        users: if exit || fork { 0 } else { start.mm.users },
        count,
        mm_freed: count == 0,
        committed,
        vmas,
        task_has_mm: !exit,
        // Each queueing on oom_reaper_list takes a task reference that oom_reap_task drops:
        // in any order, what is left is one reference per entry still queued.
        task_usage: queued as i32,
        new_vmas_live: 0,
    }
}

/// The final state of an implementation run, in the same terms.
pub fn observed(start: &World, end: &World) -> Final {
    let vmas = start
        .vmas
        .iter()
        .enumerate()
        .filter(|(_, v)| v.live)
        .map(|(i, _)| {
            let v = &end.vmas[i];
            (i, v.live, v.resident, v.pt_freed)
        })
        .collect();
    Final {
        users: end.mm.users,
        count: end.mm.count,
        mm_freed: end.mm.freed,
        committed: end.committed,
        vmas,
        task_has_mm: end.victim.has_mm,
        task_usage: end.victim.usage,
        new_vmas_live: end.vmas[start.vmas.len().min(end.vmas.len())..]
            .iter()
            .filter(|v| v.live)
            .count(),
    }
}

/// Return values `process_mrelease` may give for some order of the operations.
pub fn mrelease_allowed(start: &World) -> Vec<i32> {
    let mut v = vec![0, ESRCH, EAGAIN, EINTR];
    if !start.victim.exiting {
        v.push(EINVAL);
    }
    v
}

/// Compare a finished run with the reference: `Err` names the first difference.
pub fn check(start: &World, end: &World) -> Result<(), String> {
    let roles: Vec<Role> = end.threads.iter().map(|t| t.role).collect();
    let marked = end.victim.oom_mm && !start.victim.oom_mm;
    let queued = end.oom_reaper_list.len();
    let (want, got) = (
        expected(start, &roles, marked, queued),
        observed(start, end),
    );
    macro_rules! same {
        ($f:ident, $what:expr) => {
            if want.$f != got.$f {
                return Err(format!(
                    "{}: reference {:?}, model {:?}",
                    $what, want.$f, got.$f
                ));
            }
        };
    }
    same!(users, "mm_users");
    same!(count, "mm_count");
    same!(mm_freed, "mm_struct freed");
    same!(committed, "vm_committed_as");
    same!(task_has_mm, "task->mm set");
    same!(task_usage, "task_struct usage");
    same!(new_vmas_live, "the fork's copies of VMAs still live");
    let reaper = roles.contains(&Role::OomReaper) || roles.contains(&Role::Mrelease);
    // A page fault may give the VMA at its address page tables (pte_alloc) before it is torn
    // down, in some orders (not if munmap or the reaper got there first).
    let faulted = |i: usize| roles.contains(&Role::Fault) && start.vmas[i].start == end.fault_addr;
    for (w, g) in want.vmas.iter().zip(&got.vmas) {
        if faulted(w.0) && (w.0, w.1, w.2) == (g.0, g.1, g.2) && g.3 {
            continue;
        }
        // Without the exit, a reaper may have zapped a VMA's pages (or not, if it lost the race).
        let zapped_ok = w.1 && g.1 && reaper && g.2 == 0 && w.3 == g.3;
        if w != g && !zapped_ok {
            return Err(format!(
                "vma{}: reference (live {}, resident {}, page tables freed {}), model (live {}, resident {}, page tables freed {})",
                w.0, w.1, w.2, w.3, g.1, g.2, g.3
            ));
        }
    }
    for t in &end.threads {
        if t.role == Role::Mrelease && !mrelease_allowed(start).contains(&t.ret) {
            return Err(format!(
                "process_mrelease returned {}, which no order of the operations allows",
                t.ret
            ));
        }
    }
    Ok(())
}
