//! Task and mm references (`kernel/fork.c`, `include/linux/sched/mm.h`,
//! `include/linux/sched/task.h`).

use super::{fault, Cx, Exec};
use crate::mm::event::{Event, Loc};
use crate::mm::invariant::Invariant;
use crate::mm::state::World;
use crate::mm::types::{vm, Lock, XA_ZERO_ENTRY};

/// `get_task_mm(victim)` — condition: got a pinned mm (task_lock, mmget, task_unlock).
pub(super) fn get_task_mm(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (prog, tid, t) = (cx.prog, cx.tid, cx.tid as usize);
    match w.mutex_lock(tid, Lock::TaskLock, ev) {
        Exec::Val(_) => {
            let got = w.victim.has_mm;
            if got {
                w.atomic(tid, ev);
                w.mm.users += 1;
                w.threads[t].pins += 1;
            }
            w.mutex_unlock(prog, tid, Lock::TaskLock, ev);
            Exec::Val(got)
        }
        other => other,
    }
}

/// `get_task_struct(victim)`.
pub(super) fn get_task_struct(w: &mut World, cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    let t = cx.tid as usize;
    w.victim.usage += 1;
    w.threads[t].task_refs += 1;
    Exec::Val(true)
}

/// `mmget(mm)` / `atomic_inc(&mm->mm_users)`: pin an mm known to have users.
pub(super) fn mmget(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (tid, t) = (cx.tid, cx.tid as usize);
    w.atomic(tid, ev);
    if w.mm.users <= 0 {
        fault(
            tid,
            Invariant::I8,
            "mmget on an mm with no users".into(),
            ev,
        );
    }
    w.mm.users += 1;
    w.threads[t].pins += 1;
    Exec::Val(true)
}

/// `put_task_struct(victim)`.
pub(super) fn put_task_struct(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (tid, t) = (cx.tid, cx.tid as usize);
    w.victim.usage -= 1;
    w.threads[t].task_refs -= 1;
    if w.threads[t].task_refs < 0 || w.victim.usage < 0 {
        fault(
            tid,
            Invariant::I8,
            "put_task_struct without a reference".into(),
            ev,
        );
    }
    Exec::Val(true)
}

/// `mmget_not_zero(mm)` — condition: pinned.
pub(super) fn mmget_not_zero(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (tid, t) = (cx.tid, cx.tid as usize);
    w.atomic(tid, ev);
    if w.mm.users > 0 {
        w.mm.users += 1;
        w.threads[t].pins += 1;
        Exec::Val(true)
    } else {
        Exec::Val(false)
    }
}

/// `atomic_dec_and_test(&mm->mm_users)` in `mmput` — condition: this was the last user.
pub(super) fn mm_users_dec_and_test(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (tid, t) = (cx.tid, cx.tid as usize);
    w.atomic(tid, ev);
    let th = &mut w.threads[t];
    th.pins -= 1;
    if th.pins < 0 {
        fault(
            tid,
            Invariant::I8,
            "mmput without a pin (mm_users)".into(),
            ev,
        );
    }
    w.mm.users -= 1;
    if w.mm.users < 0 {
        fault(tid, Invariant::I8, "mm_users below zero".into(), ev);
    }
    let last = w.mm.users == 0;
    if last {
        // The last user inherits the users' mm_count reference (__mmput's mmdrop).
        w.threads[t].grabs += 1;
    }
    Exec::Val(last)
}

/// `mmgrab(mm)`.
pub(super) fn mmgrab(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (tid, t) = (cx.tid, cx.tid as usize);
    w.atomic(tid, ev);
    w.mm.count += 1;
    w.threads[t].grabs += 1;
    Exec::Val(true)
}

/// `mmdrop(mm)` (frees the mm_struct when `mm_count` reaches 0).
pub(super) fn mmdrop(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let tid = cx.tid;
    w.atomic(tid, ev);
    let th = &mut w.threads[tid as usize];
    th.grabs -= 1;
    if th.grabs < 0 {
        fault(
            tid,
            Invariant::I8,
            "mmdrop without a matching mmgrab".into(),
            ev,
        );
    }
    w.mm.count -= 1;
    if w.mm.count < 0 {
        fault(tid, Invariant::I8, "mm_count below zero".into(), ev);
    }
    if w.mm.count == 0 && !w.mm.freed {
        w.mm.freed = true;
        ev.push(Event::Free {
            tid,
            loc: Loc::MmStruct,
        });
    }
    Exec::Val(true)
}

/// `__mt_dup(&oldmm->mm_mt, &mm->mm_mt, GFP_KERNEL)` (v6.8 d24062914837, `dup_mmap`): the
/// child's tree becomes a node-for-node copy of the parent's, so every entry is the parent's
/// VMA until the loop stores the child's copy over it.
pub(super) fn mt_dup(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    w.access(cx.tid, Loc::MmTree, true, ev);
    for i in 0..w.vmas.len() {
        let v = &w.vmas[i];
        if v.parent && v.live {
            let (first, last) = (v.start, v.end() - 1);
            w.mm.tree
                .mtree_store_range(first, last, Some(i as u8))
                .expect("valid range");
        }
    }
    Exec::Val(true)
}

/// `dup_mmap`'s failure (v6.8 kernel/fork.c:683 `fatal_signal_pending(current)`, or
/// `-ENOMEM` from `vm_area_dup`/`anon_vma_fork`, or `arch_dup_mmap` after the loop) — condition:
/// as many VMAs copied as the set-up's failure point.
pub(super) fn dup_mmap_fails(w: &mut World, _cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    Exec::Val(w.mm.map_count == u32::from(w.fork_fail_at))
}

/// `tmp = vm_area_dup(mpnt)` … `vma_iter_bulk_store(&vmi, tmp); mm->map_count++` (v6.8
/// kernel/fork.c:687-739): the child's copy of the parent's VMA, charged with
/// `security_vm_enough_memory_mm` if `VM_ACCOUNT`, `VM_LOCKED` cleared, stored over the
/// parent's entry. Abstracted: the anon_vma chain, the file's `i_mmap` and the mempolicy (no
/// modelled reader uses them).
pub(super) fn vma_iter_bulk_store(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let Some(p) = w.dup_cursor(cx.tid, cx.prim, ev) else {
        return Exec::Val(true);
    };
    w.access(cx.tid, Loc::MmTree, true, ev);
    let mut tmp = w.vmas[p as usize].clone();
    tmp.flags &= !vm::VM_LOCKED;
    tmp.parent = false;
    tmp.resident = 0;
    tmp.pt = false;
    tmp.pt_freed = false;
    tmp.unaccounted = false;
    tmp.next = None;
    if tmp.flags & vm::VM_ACCOUNT != 0 {
        w.committed += tmp.pages as i64;
    }
    let (first, last) = (tmp.start, tmp.end() - 1);
    let id = w.vmas.len() as u8;
    w.vmas.push(tmp);
    w.mm.tree
        .mtree_store_range(first, last, Some(id))
        .expect("valid range");
    w.mm.map_count += 1;
    Exec::Val(true)
}

/// `copy_page_range(tmp, mpnt)` (mm/memory.c): copies the page tables where
/// `vma_needs_copy` says so (an anonymous or private VMA with pages, hugetlb, `VM_PFNMAP`); a
/// swap entry puts the child on `mmlist` (`copy_nonpresent_pte`, under `mmlist_lock`).
/// Abstracted: an anonymous VMA's resident pages stand for its swap entries too.
pub(super) fn copy_page_range(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let Some(p) = w.dup_cursor(cx.tid, cx.prim, ev) else {
        return Exec::Val(true);
    };
    let src = w.vmas[p as usize].clone();
    let Some(c) =
        w.mm.tree
            .mtree_load(src.start)
            .filter(|&c| c != XA_ZERO_ENTRY)
    else {
        return Exec::Val(true);
    };
    let needs = src.anon
        || src.flags & (vm::VM_HUGETLB | vm::VM_PFNMAP) != 0
        || src.flags & vm::VM_SHARED == 0;
    if needs && src.pt && src.resident > 0 {
        w.access(cx.tid, Loc::VmaPtes(c), true, ev);
        let tmp = &mut w.vmas[c as usize];
        tmp.pt = true;
        tmp.resident = src.resident;
        if src.anon {
            w.mm.on_mmlist = true;
        }
    }
    Exec::Val(true)
}

/// `mas_set_range(&vmi.mas, mpnt->vm_start, mpnt->vm_end - 1); mas_store(&vmi.mas,
/// XA_ZERO_ENTRY)` (v6.8 kernel/fork.c:756-767): the failure point marked in the child's tree.
pub(super) fn mas_store_zero(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let Some(p) = w.dup_cursor(cx.tid, cx.prim, ev) else {
        return Exec::Val(true);
    };
    w.access(cx.tid, Loc::MmTree, true, ev);
    let v = &w.vmas[p as usize];
    let (first, last) = (v.start, v.end() - 1);
    w.mm.tree
        .mtree_store_range(first, last, Some(XA_ZERO_ENTRY))
        .expect("valid range");
    Exec::Val(true)
}

/// `xa_is_zero(vma)` — condition: the cursor is the marker.
pub(super) fn xa_is_zero(w: &mut World, cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    Exec::Val(w.threads[cx.tid as usize].vma == Some(XA_ZERO_ENTRY))
}

#[cfg(test)]
mod tests {
    use crate::mm::event::Loc;
    use crate::mm::testutil::{faults, frees, one_path, run_thread, started};
    use crate::mm::types::Role;
    use crate::mm::World;

    /// `mmput`'s `atomic_dec_and_test(&mm->mm_users)`: the last user inherits the users'
    /// `mm_count` reference, and its `mmdrop` frees the `mm_struct`.
    #[test]
    fn the_last_mmput_and_mmdrop_free_the_mm() {
        let prog = one_path("list", "  if mm_users_dec_and_test {\n    mmdrop\n  }");
        let mut w = started(&prog, World::new(), &[Role::Exit]);
        let ev = run_thread(&prog, &mut w, 0);
        assert_eq!(w.mm.users, 0);
        assert_eq!(frees(&ev), [Loc::MmStruct]);
        assert!(w.mm.freed);
        assert!(faults(&ev).is_empty(), "{:?}", faults(&ev));
    }

    /// Refcount misuse is I8: a put without a pin, `mmdrop` without `mmgrab`, `mmget` on an
    /// mm with no users; `mmget_not_zero` fails on one.
    #[test]
    fn refcount_misuse_is_i8() {
        let prog = one_path(
            "list",
            "  mm_users_dec_and_test\n  mm_users_dec_and_test\n  if mmget_not_zero {\n    return 1\n  }\n  mmget\n  put_task_struct",
        );
        let mut w = started(&prog, World::new(), &[Role::Exit]);
        let ev = run_thread(&prog, &mut w, 0);
        assert_eq!(
            faults(&ev),
            [
                "I8: mmput without a pin (mm_users)",
                "I8: mm_users below zero",
                "I8: mmget on an mm with no users",
                "I8: put_task_struct without a reference"
            ]
        );
    }
}
