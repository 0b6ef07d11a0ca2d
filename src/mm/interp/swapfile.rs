//! `swapoff(2)`'s walk of an mm (`mm/swapfile.c`): `unuse_vma` over a VMA's page tables.

use super::{Cx, Exec};
use crate::mm::event::Event;
use crate::mm::state::World;

/// `try_to_unuse`'s pin: under `mmlist_lock`, the mm still on `mmlist`, then
/// `mmget_not_zero` (v6.1.20 mm/swapfile.c:2056-2064). `__mmput` unlinks the mm from `mmlist`
/// under the same lock after `exit_mmap` and before `mmdrop` (kernel/fork.c), so the walk
/// never finds a freed mm_struct: a freed mm is not found, without touching it. A fork's
/// child is on `mmlist` only once `copy_page_range` copied a swap entry into it.
pub(super) fn mmlist_mmget_not_zero(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    if w.mm.freed || !w.mm.on_mmlist {
        return Exec::Val(false);
    }
    super::fork::mmget_not_zero(w, cx, ev)
}

/// `unuse_vma(vma, type)`: `unuse_p4d_range` … `unuse_pte_range` over the cursor VMA, each
/// PTE table under its lock (`pte_offset_map_lock`), swapped-out entries made present again.
/// v6.1.20 mm/swapfile.c:1962-1981. Abstracted: the swap entries themselves (the walk reads
/// and writes the page tables whatever it finds there).
pub(super) fn unuse_vma(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    super::memory::walk_ptes(w, cx, ev, true);
    Exec::Val(true)
}
