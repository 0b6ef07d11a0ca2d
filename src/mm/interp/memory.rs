//! Zapping and page-table freeing (`mm/memory.c`): `unmap_single_vma`, `unmap_page_range`,
//! `free_pgtables`.

use super::{Cx, Exec};
use crate::mm::event::{Event, Loc};
use crate::mm::state::World;
use crate::mm::types::Lock;

/// `unmap_single_vma` from `unmap_vmas`: zap every PTE of the VMA (under its PT lock).
pub(super) fn unmap_single_vma(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (tid, prim) = (cx.tid, cx.prim);
    let Some(c) = w.cursor(tid, prim, ev) else {
        return Exec::Val(true);
    };
    w.access(tid, Loc::VmaObj(c), false, ev);
    if w.vmas[c as usize].pt {
        ev.push(Event::Acquire {
            tid,
            lock: Lock::Ptl(c),
            shared: false,
        });
        w.access(tid, Loc::VmaPtes(c), true, ev);
        ev.push(Event::Release {
            tid,
            lock: Lock::Ptl(c),
            shared: false,
        });
    }
    w.vmas[c as usize].resident = 0;
    Exec::Val(true)
}

/// `unmap_page_range` from the reaper: zap the VMA's PTEs (under its PT lock).
pub(super) fn unmap_page_range(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (tid, prim) = (cx.tid, cx.prim);
    let Some(c) = w.cursor(tid, prim, ev) else {
        return Exec::Val(true);
    };
    w.access(tid, Loc::VmaObj(c), false, ev);
    if w.vmas[c as usize].pt {
        ev.push(Event::Acquire {
            tid,
            lock: Lock::Ptl(c),
            shared: false,
        });
        w.access(tid, Loc::VmaPtes(c), true, ev);
        ev.push(Event::Release {
            tid,
            lock: Lock::Ptl(c),
            shared: false,
        });
    }
    w.vmas[c as usize].resident = 0;
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
