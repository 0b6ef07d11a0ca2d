//! Pinning another process's pages (`mm/gup.c`): `get_user_pages_remote` for a tracer.

use super::{Cx, Exec};
use crate::mm::event::{Event, Loc};
use crate::mm::state::World;
use crate::mm::types::Lock;

/// `get_user_pages_remote(mm, addr, 1, …)` for a page of the cursor VMA: `find_vma`, then
/// `follow_page_mask` → `follow_page_pte` reads the PTE under its lock (v6.1.20 mm/gup.c
/// `__get_user_pages`, `follow_page_pte`). Abstracted: the page itself (a fault-in when the
/// PTE is empty changes nothing the model tracks), `VM_PFNMAP`'s `vm_ops->access`.
pub(super) fn get_user_pages_remote(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let tid = cx.tid;
    let Some(c) = w.cursor(tid, cx.prim, ev) else {
        return Exec::Val(true);
    };
    w.access(tid, Loc::VmaObj(c), false, ev);
    if w.vmas[c as usize].pt {
        ev.push(Event::Acquire {
            tid,
            lock: Lock::Ptl(c),
            shared: false,
        });
        w.access(tid, Loc::VmaPtes(c), false, ev);
        ev.push(Event::Release {
            tid,
            lock: Lock::Ptl(c),
            shared: false,
        });
    }
    Exec::Val(true)
}
