//! Zapping and page-table freeing (`mm/memory.c`): `unmap_single_vma`, `unmap_page_range`,
//! `free_pgtables`.

use super::{fault, Cx, Exec};
use crate::mm::event::{Event, Loc};
use crate::mm::invariant::Invariant;
use crate::mm::state::World;
use crate::mm::types::{Lock, MmFlag, VmaId};

/// `unmap_single_vma` from `unmap_vmas`: zap every PTE of the VMA (under its PT lock).
pub(super) fn unmap_single_vma(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    zap_pte_range(w, cx, ev)
}

/// `unmap_page_range` from the reaper: zap the VMA's PTEs (under its PT lock).
pub(super) fn unmap_page_range(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    zap_pte_range(w, cx, ev)
}

/// `zap_pte_range` over the cursor's VMA, which both unmap paths end in: its page-table lock
/// is taken and released within the step.
fn zap_pte_range(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    if let Some(c) = walk_ptes(w, cx, ev, true) {
        w.vmas[c as usize].resident = 0;
    }
    Exec::Val(true)
}

/// A page-table walk of the cursor's VMA (the zap, swapoff's `unuse_vma`, a tracer's
/// `follow_page_pte`): the VMA read, then its PTEs read or written under the PTE lock, taken
/// and released within the step. The cursor's VMA, if there is one.
pub(super) fn walk_ptes(
    w: &mut World,
    cx: Cx<'_>,
    ev: &mut Vec<Event>,
    write: bool,
) -> Option<VmaId> {
    let tid = cx.tid;
    let c = w.cursor(tid, cx.prim, ev)?;
    w.access(tid, Loc::VmaObj(c), false, ev);
    if w.vmas[c as usize].pt {
        ev.push(Event::Acquire {
            tid,
            lock: Lock::Ptl(c),
            shared: false,
        });
        w.access(tid, Loc::VmaPtes(c), write, ev);
        ev.push(Event::Release {
            tid,
            lock: Lock::Ptl(c),
            shared: false,
        });
    }
    Some(c)
}

/// `handle_mm_fault(vma, address, flags)` → `do_anonymous_page` for one page (`mm/memory.c`):
/// `pte_alloc` (the VMA gets page tables), `pte_offset_map_lock`, `check_stable_address_space`
/// (`MMF_UNSTABLE`: the reaper has zapped this mm, `VM_FAULT_SIGBUS`), `set_pte_at`, unlock.
/// The VMA must be held: its lock for read (`FAULT_FLAG_VMA_LOCK`) or `mmap_lock`; and still
/// in the tree (I14: a fault on a detached VMA writes page tables `unmap_region` frees).
pub(super) fn handle_mm_fault(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let tid = cx.tid;
    let Some(c) = w.cursor(tid, cx.prim, ev) else {
        return Exec::Val(true);
    };
    let bit = 1u8 << tid;
    let x = &w.vmas[c as usize];
    let held =
        x.lock.readers & bit != 0 || w.mm.lock.readers & bit != 0 || w.mm.lock.writer == Some(tid);
    if !held {
        fault(
            tid,
            Invariant::I14,
            format!("handle_mm_fault on vma{c} holding neither its lock nor mmap_lock"),
            ev,
        );
    } else if x.lock.detached {
        fault(
            tid,
            Invariant::I14,
            format!(
                "handle_mm_fault on vma{c}, which munmap has detached from mm->mm_mt: the fault was not re-checked after vma_start_read, and unmap_region frees the page tables it fills"
            ),
            ev,
        );
    }
    w.access(tid, Loc::VmaObj(c), false, ev);
    ev.push(Event::Acquire {
        tid,
        lock: Lock::Ptl(c),
        shared: false,
    });
    w.access(tid, Loc::VmaPtes(c), true, ev);
    w.access(tid, Loc::MmStruct, false, ev);
    let v = &mut w.vmas[c as usize];
    if !v.pt_freed {
        v.pt = true;
        if !w.mm.test(MmFlag::MMF_UNSTABLE) && v.resident < v.pages {
            v.resident += 1;
        }
    }
    ev.push(Event::Release {
        tid,
        lock: Lock::Ptl(c),
        shared: false,
    });
    Exec::Val(true)
}

/// `free_pgtables` for this VMA: free its page-table pages.
pub(super) fn free_pgtables(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (tid, prim) = (cx.tid, cx.prim);
    let Some(c) = w.cursor(tid, prim, ev) else {
        return Exec::Val(true);
    };
    w.access(tid, Loc::VmaObj(c), false, ev);
    let v = &w.vmas[c as usize];
    if v.pt {
        w.access(tid, Loc::VmaPtes(c), true, ev);
        if !v.pt_freed {
            ev.push(Event::Free {
                tid,
                loc: Loc::VmaPtes(c),
            });
        }
        w.vmas[c as usize].pt_freed = true;
    }
    Exec::Val(true)
}

#[cfg(test)]
mod tests {
    use crate::mm::event::{Event, Loc};
    use crate::mm::testutil::{faults, frees, one_path, run_thread, started, world_with_vma};
    use crate::mm::types::{Lock, Role};
    use crate::mm::World;

    /// `free_pgtables` frees a VMA's page tables once: a second call on the same VMA writes
    /// them (a use after free the oracle sees) but frees nothing more.
    #[test]
    fn free_pgtables_frees_page_tables_once() {
        let prog = one_path("list", "  vma_first\n  free_pgtables\n  free_pgtables");
        let mut w = started(&prog, world_with_vma(), &[Role::Exit]);
        let ev = run_thread(&prog, &mut w, 0);
        assert_eq!(frees(&ev), [Loc::VmaPtes(0)]);
        assert!(w.vmas[0].pt_freed);
        let late = ev.iter().rev().find_map(|e| match e {
            Event::Access { loc, freed, .. } if *loc == Loc::VmaPtes(0) => Some(*freed),
            _ => None,
        });
        assert_eq!(
            late,
            Some(true),
            "the second call touches freed page tables"
        );
        assert!(faults(&ev).is_empty());
    }

    /// `unmap_page_range` zaps the PTEs under the VMA's page-table lock, taken and released
    /// within the step.
    #[test]
    fn unmap_zaps_under_the_page_table_lock() {
        let prog = one_path("maple", "  vma_first\n  unmap_page_range");
        let mut w = started(&prog, world_with_vma(), &[Role::Exit]);
        assert!(w.vmas[0].resident > 0);
        let ev = run_thread(&prog, &mut w, 0);
        let kinds: Vec<&str> = ev
            .iter()
            .filter_map(|e| match e {
                Event::Acquire {
                    lock: Lock::Ptl(0), ..
                } => Some("lock"),
                Event::Access {
                    loc: Loc::VmaPtes(0),
                    write: true,
                    ..
                } => Some("zap"),
                Event::Release {
                    lock: Lock::Ptl(0), ..
                } => Some("unlock"),
                _ => None,
            })
            .collect();
        assert_eq!(kinds, ["lock", "zap", "unlock"]);
        assert_eq!(w.vmas[0].resident, 0);
    }

    /// A VMA step with a NULL cursor is a NULL pointer dereference (I5).
    #[test]
    fn a_vma_step_on_a_null_cursor_is_i5() {
        let prog = one_path("list", "  vma_first\n  free_pgtables");
        let mut w = started(&prog, World::new(), &[Role::Exit]);
        let ev = run_thread(&prog, &mut w, 0);
        assert_eq!(
            faults(&ev),
            ["I5: free_pgtables with a NULL vma (NULL pointer dereference)"]
        );
    }
}
