//! Pinning another process's pages (`mm/gup.c`): `get_user_pages_remote` for a tracer.

use super::{Cx, Exec};
use crate::mm::event::Event;
use crate::mm::state::World;

/// `get_user_pages_remote(mm, addr, 1, …)` for a page of the cursor VMA: `find_vma`, then
/// `follow_page_mask` → `follow_page_pte` reads the PTE under its lock (v6.1.20 mm/gup.c
/// `__get_user_pages`, `follow_page_pte`). Abstracted: the page itself (a fault-in when the
/// PTE is empty changes nothing the model tracks), `VM_PFNMAP`'s `vm_ops->access`.
pub(super) fn get_user_pages_remote(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    super::memory::walk_ptes(w, cx, ev, false);
    Exec::Val(true)
}
