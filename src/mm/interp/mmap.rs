//! The VMA walk and `exit_mmap`'s bookkeeping (`mm/mmap.c`): the cursor over `mm->mmap` or
//! `mm->mm_mt`, `remove_vma`, accounting, `arch_exit_mmap`, `__mt_destroy`.

use super::{fault, Cx, Exec};
use crate::mm::event::{Event, Loc};
use crate::mm::invariant::Invariant;
use crate::mm::lang::VmaStore;
use crate::mm::prims::VmFlags;
use crate::mm::state::World;
use crate::mm::types::{vm, VmaId};

/// `vma = mm->mmap` (list) or `vma = mas_find(&mas, ULONG_MAX)` from 0 (maple).
pub(super) fn vma_first(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (tid, t, list) = (cx.tid, cx.tid as usize, cx.prog.store() == VmaStore::List);
    let th = &w.threads[t];
    let _ = th;
    if list {
        w.access(tid, Loc::MmMmap, false, ev);
        w.threads[t].vma = w.mm.mmap;
    } else {
        w.access(tid, Loc::MmTree, false, ev);
        let (v, next) = w.mas_find(0);
        w.threads[t].vma = v;
        w.threads[t].mas_index = next;
    }
    Exec::Val(true)
}

/// `vma = vma->vm_next` (list: reads the VMA) or `mas_find` onwards (maple: reads the tree).
pub(super) fn vma_next(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (tid, t, list, prim) = (
        cx.tid,
        cx.tid as usize,
        cx.prog.store() == VmaStore::List,
        cx.prim,
    );
    if list {
        let Some(c) = w.cursor(tid, prim, ev) else {
            return Exec::Val(true);
        };
        w.access(tid, Loc::VmaObj(c), false, ev);
        w.threads[t].vma = w.vmas[c as usize].next;
    } else {
        w.access(tid, Loc::MmTree, false, ev);
        w.mas_next_of(t);
    }
    Exec::Val(true)
}

/// `vma = mas_find_rev(&mas, 0)` from `ULONG_MAX` (`mas_for_each_rev`, lib/maple_tree.c): the
/// highest entry. A list-era config has no reverse walk: the cursor is NULL.
pub(super) fn vma_last(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (tid, t) = (cx.tid, cx.tid as usize);
    w.access(tid, Loc::MmTree, false, ev);
    let (v, next) = match cx.prog.store() {
        VmaStore::Maple => w.mas_find_rev(u64::MAX),
        VmaStore::List => (None, None),
    };
    w.threads[t].vma = v;
    w.threads[t].mas_index = next;
    Exec::Val(true)
}

/// `mas_find_rev` onwards: the entry below the cursor's range.
pub(super) fn vma_prev(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (tid, t) = (cx.tid, cx.tid as usize);
    w.access(tid, Loc::MmTree, false, ev);
    let (v, next) = match w.threads[t].mas_index {
        Some(i) if cx.prog.store() == VmaStore::Maple => w.mas_find_rev(i),
        _ => (None, None),
    };
    w.threads[t].vma = v;
    w.threads[t].mas_index = next;
    Exec::Val(true)
}

/// `vma->vm_flags & (FLAGS)` — condition.
pub(super) fn vma_test(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>, f: VmFlags) -> Exec {
    let (tid, prim) = (cx.tid, cx.prim);
    let Some(c) = w.cursor(tid, prim, ev) else {
        return Exec::Val(false);
    };
    w.access(tid, Loc::VmaFlags(c), false, ev);
    Exec::Val(w.vmas[c as usize].flags & f.0 != 0)
}

/// `vma_is_anonymous(vma) || !(vma->vm_flags & VM_SHARED)` — condition.
pub(super) fn vma_is_anon_or_private(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (tid, prim) = (cx.tid, cx.prim);
    let Some(c) = w.cursor(tid, prim, ev) else {
        return Exec::Val(false);
    };
    w.access(tid, Loc::VmaFlags(c), false, ev);
    let v = &w.vmas[c as usize];
    Exec::Val(v.anon || v.flags & vm::VM_SHARED == 0)
}

/// `vma->anon_vma` — condition: anonymous or private (the anon_vma a private VMA gets at its
/// first write fault; the set-up faults every VMA in).
pub(super) fn vma_anon_vma(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    vma_is_anon_or_private(w, cx, ev)
}

/// `if (vma->vm_flags & VM_ACCOUNT) nr_accounted += vma_pages(vma)`.
pub(super) fn acct_vma(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (tid, t, prim) = (cx.tid, cx.tid as usize, cx.prim);
    let Some(c) = w.cursor(tid, prim, ev) else {
        return Exec::Val(true);
    };
    w.access(tid, Loc::VmaFlags(c), false, ev);
    let v = &mut w.vmas[c as usize];
    if v.flags & vm::VM_ACCOUNT != 0 {
        if v.unaccounted {
            fault(tid, Invariant::I7, format!("vma{c} unaccounted twice"), ev);
        }
        v.unaccounted = true;
        w.threads[t].nr_accounted += v.pages;
    }
    Exec::Val(true)
}

/// `remove_vma(vma)` (maple era): close, fput, free; the cursor stays (use `vma_next`).
pub(super) fn remove_vma(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let Some(c) = w.cursor(cx.tid, cx.prim, ev) else {
        return Exec::Val(true);
    };
    w.access(cx.tid, Loc::VmaObj(c), true, ev);
    free_vma(w, cx, ev, c)
}

/// `vma = remove_vma(vma)` (list era): read `vm_next`, then free the VMA.
pub(super) fn remove_vma_next(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let Some(c) = w.cursor(cx.tid, cx.prim, ev) else {
        return Exec::Val(true);
    };
    w.access(cx.tid, Loc::VmaObj(c), true, ev);
    w.threads[cx.tid as usize].vma = w.vmas[c as usize].next;
    free_vma(w, cx, ev, c)
}

/// `remove_vma(vma, false)` (v6.4 `do_vmi_align_munmap` → `remove_mt`): close, fput, and
/// `vm_area_free`, which frees through `call_rcu` (v6.4) or into the `SLAB_TYPESAFE_BY_RCU`
/// cache (v6.15+): a lockless reader that found the VMA before it was detached may still
/// read it inside its read-side section.
pub(super) fn remove_vma_rcu(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let Some(c) = w.cursor(cx.tid, cx.prim, ev) else {
        return Exec::Val(true);
    };
    w.access(cx.tid, Loc::VmaObj(c), true, ev);
    w.vmas[c as usize].lock.rcu_freed = true;
    free_vma(w, cx, ev, c)
}

/// `vma_iter_clear(vmi)` (`do_vmi_align_munmap`, under `mmap_write_lock`): the cursor's VMA
/// is no longer in `mm->mm_mt`, then `mm->locked_vm -= locked_vm` and
/// `mm->map_count -= count` (the next lines, under the same lock).
pub(super) fn vma_iter_clear(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let Some(c) = w.cursor(cx.tid, cx.prim, ev) else {
        return Exec::Val(true);
    };
    w.access(cx.tid, Loc::MmTree, true, ev);
    let (start, end) = (w.vmas[c as usize].start, w.vmas[c as usize].end());
    w.mm.tree
        .mtree_store_range(start, end - 1, None)
        .expect("valid range");
    w.mm.map_count -= 1;
    if w.vmas[c as usize].flags & vm::VM_LOCKED != 0 {
        w.mm.locked_vm -= w.vmas[c as usize].pages;
    }
    Exec::Val(true)
}

/// `vm_area_free(vma)`: the VMA object is gone.
fn free_vma(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>, c: VmaId) -> Exec {
    if w.vmas[c as usize].lock.rcu_freed {
        // Readers that still hold its lock are inside their read-side section (they found
        // it under RCU): the memory outlives them; what they do after is checked at access.
    } else if w.vmas[c as usize].lock.readers & !(1 << cx.tid) != 0 {
        let r = w.vmas[c as usize].lock.readers.trailing_zeros() as usize;
        fault(
            cx.tid,
            Invariant::I14,
            format!(
                "vma{c} freed while {} holds its lock for read",
                w.threads[r].role.task()
            ),
            ev,
        );
    } else {
        w.free_without_grace(cx.tid, &format!("vma{c}"), ev);
    }
    if w.vmas[c as usize].live {
        ev.push(Event::Free {
            tid: cx.tid,
            loc: Loc::VmaObj(c),
        });
    }
    w.vmas[c as usize].live = false;
    Exec::Val(true)
}

/// `arch_exit_mmap(mm)`: free arch-only page tables (LDT), which no VMA reaches.
pub(super) fn arch_exit_mmap(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let tid = cx.tid;
    w.access(tid, Loc::MmArchPt, true, ev);
    if w.mm.arch_pt {
        ev.push(Event::Free {
            tid,
            loc: Loc::MmArchPt,
        });
    }
    w.mm.arch_pt = false;
    Exec::Val(true)
}

/// `mm->mmap = NULL` (f798a1d4f94d).
pub(super) fn mm_mmap_clear(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let tid = cx.tid;
    w.access(tid, Loc::MmMmap, true, ev);
    w.mm.mmap = None;
    Exec::Val(true)
}

/// `__mt_destroy(&mm->mm_mt)`.
pub(super) fn mt_destroy(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let tid = cx.tid;
    w.access(tid, Loc::MmTree, true, ev);
    w.free_without_grace(tid, "mm->mm_mt's nodes", ev);
    w.mm.tree.mt_destroy();
    Exec::Val(true)
}

/// `count++` in the maple-era remove loop.
pub(super) fn count_inc(w: &mut World, cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    let t = cx.tid as usize;
    w.threads[t].count += 1;
    Exec::Val(true)
}

/// `BUG_ON(count != mm->map_count)`.
pub(super) fn bug_on_map_count(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let (tid, t) = (cx.tid, cx.tid as usize);
    w.access(tid, Loc::MmStruct, false, ev);
    let (c, m) = (w.threads[t].count, w.mm.map_count);
    if c != m {
        fault(
            tid,
            Invariant::I7,
            format!("BUG_ON(count != mm->map_count): removed {c}, map_count {m}"),
            ev,
        );
    }
    Exec::Val(true)
}

/// `vm_unacct_memory(nr_accounted)`.
pub(super) fn vm_unacct_memory(w: &mut World, cx: Cx<'_>, _ev: &mut Vec<Event>) -> Exec {
    let t = cx.tid as usize;
    w.committed -= w.threads[t].nr_accounted as i64;
    w.threads[t].nr_accounted = 0;
    Exec::Val(true)
}

#[cfg(test)]
mod tests {
    use crate::mm::event::Loc;
    use crate::mm::testutil::{faults, frees, one_path, run_thread, started, world_with_vma};
    use crate::mm::types::{vm, Role};
    use crate::mm::World;

    fn two_vmas() -> World {
        let mut w = world_with_vma();
        w.setup_mmap(1, vm::VM_SHARED, false).unwrap();
        w
    }

    /// The list era's `vma = remove_vma(vma)` reads `vm_next` before the free; the maple
    /// era's `remove_vma` keeps the cursor and the walk goes on in the tree.
    #[test]
    fn remove_vma_frees_each_vma_once_in_both_eras() {
        let list = one_path(
            "list",
            "  vma_first\n  while vma {\n    remove_vma_next\n  }",
        );
        let maple = one_path(
            "maple",
            "  for_each_vma {\n    remove_vma\n    count_inc\n  }\n  bug_on_map_count",
        );
        for prog in [list, maple] {
            let mut w = started(&prog, two_vmas(), &[Role::Exit]);
            let ev = run_thread(&prog, &mut w, 0);
            assert_eq!(frees(&ev), [Loc::VmaObj(0), Loc::VmaObj(1)]);
            assert!(w.vmas.iter().all(|v| !v.live));
            assert!(faults(&ev).is_empty(), "{:?}", faults(&ev));
        }
    }

    /// `BUG_ON(count != mm->map_count)` (v6.1 `exit_mmap`) and a VMA unaccounted twice are I7.
    #[test]
    fn counting_mistakes_are_i7() {
        let prog = one_path(
            "maple",
            "  vma_first\n  acct_vma\n  acct_vma\n  count_inc\n  bug_on_map_count",
        );
        let mut w = started(&prog, two_vmas(), &[Role::Exit]);
        let ev = run_thread(&prog, &mut w, 0);
        assert_eq!(
            faults(&ev),
            [
                "I7: vma0 unaccounted twice",
                "I7: BUG_ON(count != mm->map_count): removed 1, map_count 2"
            ]
        );
        assert_eq!(w.threads[0].nr_accounted, 4);
    }

    /// `vma_test` reads `vm_flags`; the walk visits VMAs in address order.
    #[test]
    fn vma_test_reads_the_cursor_s_flags() {
        let prog = one_path(
            "maple",
            "  vma_next\n  vma_first\n  if vma_test VM_SHARED {\n    return 1\n  }\n  vma_next\n  if vma_test VM_SHARED {\n    return -EBUSY\n  }",
        );
        let mut w = started(&prog, two_vmas(), &[Role::Exit]);
        run_thread(&prog, &mut w, 0);
        assert_eq!(w.threads[0].ret, -16, "the second VMA is the shared one");
    }
}
