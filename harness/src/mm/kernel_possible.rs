//! Kernel-possible set-ups: the one place that says whether a [`Setup`] list maps only what a
//! kernel can create, and if not, which rule it breaks. The generators, the exhaustive menu,
//! `import-maps` and the shrinker all keep to it.
//!
//! The rules, from the kernel text (the same tests from v4.4 to v6.x, the versions modelled):
//!
//! - **anon ⇒ private.** `mmap_region` (mm/mmap.c; mm/vma.c `__mmap_region` from v6.12) gives a
//!   `MAP_SHARED|MAP_ANONYMOUS` mapping a shmem file (`shmem_zero_setup`), so it is never
//!   anonymous in `vma_is_anonymous`'s sense (the model's `anon`).
//! - **`VM_HUGETLB` ⇒ file, no `VM_ACCOUNT`.** Only `hugetlbfs_file_mmap` (fs/hugetlbfs/inode.c)
//!   sets `VM_HUGETLB`; `MAP_HUGETLB|MAP_ANONYMOUS` maps the file of `hugetlb_file_setup`
//!   (`ksys_mmap_pgoff`). `accountable_mapping` returns 0 for `is_file_hugepages(file)`:
//!   hugetlb reserves its pages itself.
//! - **`VM_ACCOUNT` ⇒ not `VM_SHARED`.** `accountable_mapping`:
//!   `(vm_flags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) == VM_WRITE`; `mprotect_fixup`
//!   (mm/mprotect.c) adds it later under the same conditions.
//! - **`VM_PFNMAP` ⇒ a driver's or special mapping, not hugetlb.** It is set by
//!   `remap_pfn_range` (mm/memory.c: `VM_IO|VM_PFNMAP|VM_DONTEXPAND|VM_DONTDUMP`) from a
//!   driver's `->mmap`, by drivers that insert PFNs at fault time (`vfio_pci_mmap`), or by a
//!   special mapping (`[vvar]`): never anonymous, never hugetlbfs. A private writable one is
//!   accounted (`accountable_mapping` does not look at the driver; `remap_pfn_range` accepts
//!   a COW mapping that it covers whole, e.g. `/dev/mem` `MAP_PRIVATE`), so `VM_ACCOUNT` is
//!   allowed with it.
//! - **`VM_LOCKED` never on `VM_SPECIAL` (`VM_PFNMAP`) or hugetlb VMAs.** `mmap_region` clears
//!   it for `MAP_LOCKED` (`vm_flags & VM_SPECIAL || is_vm_hugetlb_page(vma)`), and
//!   `mlock_fixup` (mm/mlock.c) skips them ("VM_LOCKED never gets set for these"). The model's
//!   `World::setup_mlock` sets `VM_LOCKED` on any VMA, so an `mlock` set-up op on such a VMA is
//!   refused here (a `fault` is its kernel-possible form: `__mm_populate` faults hugetlb pages).
//! - **Operations name a live VMA.** `fault`, `mlock` and `munmap` act on a VMA mapped
//!   before them and not yet unmapped.
//!
//! Faulting a `VM_PFNMAP` VMA in is allowed: its PTEs exist from `remap_pfn_range` at mmap
//! time, or are inserted by the driver's fault handler (`vmf_insert_pfn`).
//! An empty mm is possible (`dup_mmap` failed before copying a VMA).

use mmfuzz::mm::types::vm;

use super::scenario::{flag_bits, Setup};

/// Whether one `mmap` of `flags` (the model's `VM_*` bits), anonymous or not, is one the
/// kernel can create; else the rule it breaks.
pub fn vma(flags: u8, anon: bool) -> Result<(), &'static str> {
    let has = |b: u8| flags & b != 0;
    if anon && has(vm::VM_SHARED) {
        return Err("a shared anonymous mapping is shmem (shmem_zero_setup), not anonymous");
    }
    if has(vm::VM_HUGETLB) {
        if anon {
            return Err("VM_HUGETLB is a hugetlbfs file (MAP_HUGETLB too), never anonymous");
        }
        if has(vm::VM_ACCOUNT) {
            return Err("accountable_mapping() never accounts a hugetlbfs file (VM_ACCOUNT)");
        }
        if has(vm::VM_PFNMAP) {
            return Err("hugetlbfs_file_mmap() never sets VM_PFNMAP");
        }
    }
    if has(vm::VM_ACCOUNT) && has(vm::VM_SHARED) {
        return Err("accountable_mapping() accounts private writable mappings only, not VM_SHARED");
    }
    if has(vm::VM_PFNMAP) && anon {
        return Err("VM_PFNMAP is a driver's or special mapping (remap_pfn_range), not anonymous");
    }
    if has(vm::VM_LOCKED) && has(vm::VM_HUGETLB | vm::VM_PFNMAP) {
        return Err("mmap_region() clears VM_LOCKED on VM_SPECIAL and hugetlb VMAs");
    }
    Ok(())
}

/// Whether `mlock` over a VMA of `flags` sets `VM_LOCKED` (`mlock_fixup`: not for
/// `VM_SPECIAL` or hugetlb VMAs).
pub fn mlockable(flags: u8) -> bool {
    flags & (vm::VM_HUGETLB | vm::VM_PFNMAP) == 0
}

/// Whether `setup` is one the kernel can create; else `setup[i]: rule`.
pub fn check(setup: &[Setup]) -> Result<(), String> {
    // Per VMA index: its flags while it is mapped, `None` once unmapped.
    let mut vmas: Vec<Option<u8>> = Vec::new();
    for (i, s) in setup.iter().enumerate() {
        let live = |v: u8| -> Result<u8, String> {
            match vmas.get(usize::from(v)) {
                Some(Some(f)) => Ok(*f),
                Some(None) => Err(format!("setup[{i}]: VMA {v} was unmapped before")),
                None => Err(format!("setup[{i}]: no VMA {v} mapped before")),
            }
        };
        match s {
            Setup::Mmap { flags, anon, .. } => {
                let bits = flag_bits(flags).map_err(|e| format!("setup[{i}]: {e}"))?;
                vma(bits, *anon).map_err(|e| format!("setup[{i}]: {e}"))?;
                vmas.push(Some(bits));
            }
            Setup::Fault { vma } => {
                live(*vma)?;
            }
            Setup::Mlock { vma } => {
                if !mlockable(live(*vma)?) {
                    return Err(format!(
                        "setup[{i}]: mlock_fixup() does not set VM_LOCKED on a hugetlb or \
                         VM_PFNMAP VMA"
                    ));
                }
            }
            Setup::Munmap { vma } => {
                live(*vma)?;
                vmas[usize::from(*vma)] = None;
            }
            Setup::OomKill | Setup::Kill | Setup::CgroupFreeze => {}
            Setup::ForkFails { vma } => {
                let n = vmas.iter().flatten().count();
                if usize::from(*vma) > n {
                    return Err(format!(
                        "setup[{i}]: dup_mmap cannot fail at VMA {vma}: the parent has {n}"
                    ));
                }
            }
        }
    }
    Ok(())
}

/// [`check`] as a test.
pub fn possible(setup: &[Setup]) -> bool {
    check(setup).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mm::scenario::flag_names;

    fn mmap(flags: u8, anon: bool) -> Setup {
        Setup::Mmap {
            pages: 1,
            flags: flag_names(flags),
            anon,
        }
    }

    #[test]
    fn the_kernel_made_kinds_pass() {
        use vm::*;
        for (f, anon) in [
            (0, true),
            (VM_ACCOUNT, true),
            (VM_ACCOUNT | VM_LOCKED, true),
            (0, false),
            (VM_ACCOUNT, false),
            (VM_SHARED, false),
            (VM_SHARED | VM_LOCKED, false),
            (VM_HUGETLB, false),
            (VM_HUGETLB | VM_SHARED, false),
            (VM_PFNMAP, false),
            (VM_PFNMAP | VM_SHARED, false),
            (VM_PFNMAP | VM_ACCOUNT, false),
        ] {
            assert_eq!(vma(f, anon), Ok(()), "{} anon={anon}", show(f));
        }
    }

    #[test]
    fn impossible_kinds_name_their_rule() {
        use vm::*;
        for (f, anon, word) in [
            (VM_SHARED, true, "shmem"),
            (VM_HUGETLB, true, "hugetlbfs"),
            (VM_HUGETLB | VM_ACCOUNT, false, "accountable_mapping"),
            (VM_ACCOUNT | VM_SHARED, false, "accountable_mapping"),
            (VM_PFNMAP, true, "remap_pfn_range"),
            (VM_PFNMAP | VM_HUGETLB, false, "hugetlbfs_file_mmap"),
            (VM_PFNMAP | VM_LOCKED, false, "VM_LOCKED"),
            (VM_HUGETLB | VM_LOCKED, false, "VM_LOCKED"),
            (VM_SHARED | VM_ACCOUNT | VM_HUGETLB | VM_PFNMAP, false, ""),
        ] {
            let e = vma(f, anon).unwrap_err();
            assert!(e.contains(word), "{} anon={anon}: {e}", show(f));
        }
    }

    #[test]
    fn operations_need_a_live_mlockable_vma() {
        let hugetlb = mmap(vm::VM_HUGETLB, false);
        let e = check(&[hugetlb.clone(), Setup::Mlock { vma: 0 }]).unwrap_err();
        assert!(e.starts_with("setup[1]: mlock_fixup"), "{e}");
        check(&[hugetlb, Setup::Fault { vma: 0 }]).unwrap();
        check(&[mmap(vm::VM_PFNMAP, false), Setup::Fault { vma: 0 }]).unwrap();
        let anon = mmap(vm::VM_ACCOUNT, true);
        let e = check(&[anon.clone(), Setup::Fault { vma: 1 }]).unwrap_err();
        assert!(e.contains("no VMA 1"), "{e}");
        let e = check(&[
            anon.clone(),
            Setup::Munmap { vma: 0 },
            Setup::Fault { vma: 0 },
        ])
        .unwrap_err();
        assert!(e.contains("unmapped"), "{e}");
        check(&[]).unwrap();
        check(&[anon, Setup::Mlock { vma: 0 }, Setup::OomKill]).unwrap();
    }
}
