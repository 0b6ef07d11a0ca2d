//! `mlock` (`mm/mlock.c`): `munlock_vma_pages_all` in two steps, and `mm->locked_vm`.

use super::{Cx, Exec};
use crate::mm::event::{Event, Loc};
use crate::mm::state::World;
use crate::mm::types::vm;

/// `mm->locked_vm != 0` — condition.
pub(super) fn locked_vm(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let tid = cx.tid;
    w.access(tid, Loc::MmLockedVm, false, ev);
    Exec::Val(w.mm.locked_vm != 0)
}

/// `munlock_vma_pages_all` part 1 (`munlock_vma_pages_range`): clear `VM_LOCKED`, drop `locked_vm`.
pub(super) fn munlock_vma(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (tid, prim) = (cx.tid, cx.prim);
    let Some(c) = w.cursor(tid, prim, ev) else {
        return Exec::Val(true);
    };
    w.access(tid, Loc::VmaFlags(c), true, ev);
    let v = &mut w.vmas[c as usize];
    if v.flags & vm::VM_LOCKED != 0 {
        v.flags &= !vm::VM_LOCKED;
        let pages = v.pages;
        w.access(tid, Loc::MmLockedVm, true, ev);
        w.mm.locked_vm = w.mm.locked_vm.saturating_sub(pages);
    }
    Exec::Val(true)
}

/// `munlock_vma_pages_all` part 2: `follow_page_mask` over the VMA's PTEs (lock-free walk).
pub(super) fn munlock_vma_pages(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (tid, prim) = (cx.tid, cx.prim);
    let Some(c) = w.cursor(tid, prim, ev) else {
        return Exec::Val(true);
    };
    if w.vmas[c as usize].pt {
        w.access(tid, Loc::VmaPtes(c), false, ev);
    }
    Exec::Val(true)
}

#[cfg(test)]
mod tests {
    use crate::mm::testutil::{one_path, run_thread, started, world_with_vma};
    use crate::mm::types::{vm, Role};

    /// `munlock_vma_pages_all`'s first half clears `VM_LOCKED` and gives back `locked_vm`.
    #[test]
    fn munlock_vma_gives_back_locked_vm() {
        let prog = one_path(
            "list",
            "  if !locked_vm {\n    return -EINVAL\n  }\n  vma_first\n  munlock_vma\n  if locked_vm {\n    return -EBUSY\n  }\n  return 1",
        );
        let mut w = world_with_vma();
        w.setup_mlock(0).unwrap();
        assert_ne!(w.mm.locked_vm, 0);
        let mut w = started(&prog, w, &[Role::Exit]);
        run_thread(&prog, &mut w, 0);
        assert_eq!(w.threads[0].ret, 1);
        assert_eq!(w.vmas[0].flags & vm::VM_LOCKED, 0);
    }
}
