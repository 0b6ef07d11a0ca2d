//! The invariants of `kernel-paths.md` §4 that are not a special case of the generic
//! detectors: I1 (page tables freed under readers), I2 (reader discipline), I4 (no stale head),
//! and the use-after-free classification (I1 page tables, I5 VMAs, I8 the mm).

use mmfuzz::mm::state::World;
use mmfuzz::mm::{Invariant, Loc, Lock, MmFlag, Prim, Program, Role, Tid, VmaStore};

use super::{Oracle, Violation};

impl Oracle {
    /// I1 when `tid` frees `loc`: no reader that walks, or may yet walk, the VMAs holds
    /// `mmap_lock` while page tables are freed.
    pub(super) fn page_tables_freed(
        &self,
        prog: &Program,
        world: &World,
        tid: Tid,
        loc: Loc,
    ) -> Option<Violation> {
        let role = |t: Tid| world.threads[t as usize].role;
        if let Loc::VmaPtes(v) = loc {
            if world.vmas[v as usize].lock.detached {
                // munmap frees the page tables of VMAs it detached under mmap_write_lock after
                // mmap_write_downgrade (v6.4 mm/mmap.c:2553, "VMAs were isolated before we
                // downgraded mmap_lock"): no walker of the tree reaches them. A page fault
                // that locked the VMA before it was detached and uses it anyway breaks I14 at
                // handle_mm_fault, and its page-table access is a use after free.
                return None;
            }
            // A reader is a hazard if it is walking, or if MMF_OOM_SKIP is still clear
            // so that it may yet walk (kernel-paths.md §4, I1).
            let hazard = if world.mm.test(MmFlag::MMF_OOM_SKIP) {
                self.walking
            } else {
                u8::MAX
            };
            let mut others = world.other_readers(tid) & hazard & !self.leaving;
            // A reader whose next step is mmget_not_zero on an mm with no users (v4.9's
            // __oom_reap_task_mm takes the read trylock first, then the pin) will fail
            // the pin and leave without walking: mm_users never rises from 0.
            for r in 0..world.threads.len() as Tid {
                if others & (1 << r) != 0
                    && world.mm.users == 0
                    && world.threads[r as usize].pins == 0
                    && world.next_prim(prog, r) == Some(Prim::mmget_not_zero)
                    && leaves_after_failed_pin(prog, world, r)
                {
                    others &= !(1 << r);
                }
            }
            if others != 0 {
                let who = (0..world.threads.len() as Tid)
                    .find(|t| others & (1 << t) != 0)
                    .unwrap_or(0);
                return Some(Violation {
                    inv: Invariant::I1,
                    tid,
                    msg: format!(
                        "free_pgtables frees vma{v}'s page tables while {} holds mmap_lock for read",
                        role(who).task()
                    ),
                });
            }
        }
        None
    }

    /// One access by `tid`: a use after free (I1, I5, I8), a walker outside its read section
    /// (I2; not inside `exit_mmap`, which a walker runs when its `mmput` is the last), then the
    /// race detector.
    pub(super) fn access(
        &mut self,
        world: &World,
        tid: Tid,
        (loc, write, freed): (Loc, bool, bool),
        in_exit_mmap: bool,
    ) -> Option<Violation> {
        let role = |t: Tid| world.threads[t as usize].role;
        if freed {
            let (inv, what) = match loc {
                Loc::VmaPtes(_) => (Invariant::I1, "freed page tables"),
                Loc::VmaObj(_) | Loc::VmaFlags(_) => (Invariant::I5, "a freed vm_area_struct"),
                _ => (Invariant::I8, "a freed mm_struct"),
            };
            return Some(Violation {
                inv,
                tid,
                msg: format!(
                    "use after free: {} {} {what} ({})",
                    role(tid).task(),
                    if write { "writes" } else { "reads" },
                    loc.name()
                ),
            });
        }
        let walker = matches!(role(tid), Role::OomReaper | Role::Mrelease);
        let vma_state = matches!(
            loc,
            Loc::VmaObj(_) | Loc::VmaFlags(_) | Loc::VmaPtes(_) | Loc::MmMmap | Loc::MmTree
        );
        if walker
            && vma_state
            && !in_exit_mmap
            && world.held_by(tid).iter().all(|(l, _)| *l != Lock::MmapLock)
        {
            // A proxy (`super::is_proxy`): kept as the mechanism, the run goes on.
            self.mechanism.get_or_insert_with(|| Violation {
                inv: Invariant::I2,
                tid,
                msg: format!(
                    "{} touches {} {}",
                    role(tid).task(),
                    loc.name(),
                    super::DISCIPLINE
                ),
            });
        }
        if self.races && loc != Loc::MmStruct {
            if let Some(v) = self.race(world, tid, loc, write) {
                return Some(v);
            }
        }
        None
    }
}

/// Whether thread `tid` is running inside the path `name` (any frame of its call stack).
pub(super) fn inside(prog: &Program, world: &World, tid: Tid, name: &str) -> bool {
    world.threads[tid as usize]
        .frames
        .iter()
        .any(|f| prog.paths[f.path as usize].name == name)
}

/// Whether reader `r`, whose next step is `mmget_not_zero` on an mm with no users, unlocks
/// `mmap_lock` right after the pin fails (so it never walks the VMAs).
pub(super) fn leaves_after_failed_pin(prog: &Program, world: &World, r: Tid) -> bool {
    let mut w = world.clone();
    let mut ev = Vec::new();
    w.step(prog, r, &mut ev) == Some(false) && w.next_prim(prog, r) == Some(Prim::mmap_read_unlock)
}

/// I4: when `mmap_lock` is released, the structure readers walk must not lead to a freed VMA
/// unless `MMF_OOM_SKIP` is set (so a later reader does nothing).
pub(super) fn stale_head(prog: &Program, world: &World, tid: Tid) -> Option<Violation> {
    if world.mm.test(MmFlag::MMF_OOM_SKIP) {
        return None;
    }
    let stale = match prog.store() {
        VmaStore::List => world.mm.mmap.filter(|&v| !world.vmas[v as usize].live),
        VmaStore::Maple => world
            .mm
            .tree
            .entries()
            .into_iter()
            .map(|(_, _, v)| v)
            .find(|&v| world.vmas.get(v as usize).is_some_and(|x| !x.live)),
    };
    stale.map(|v| Violation {
        inv: Invariant::I4,
        tid,
        msg: format!(
            "mmap_lock released with {} still leading to freed vma{v} and MMF_OOM_SKIP clear",
            match prog.store() {
                VmaStore::List => "mm->mmap",
                VmaStore::Maple => "mm->mm_mt",
            }
        ),
    })
}
