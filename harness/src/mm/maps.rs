//! `mmfuzz import-maps`: a real process's address space, from `/proc/PID/maps` or
//! `/proc/PID/smaps` (`fs/proc/task_mmu.c`, `show_map_vma`/`show_smap`), as set-up operations.
//!
//! The model keeps at most [`MAX_VMAS`] VMAs, so mappings are grouped by what the teardown
//! paths care about: anonymous or not and the `VM_*` flags the model has (`VM_SHARED`,
//! `VM_ACCOUNT`, `VM_LOCKED`, `VM_HUGETLB`, `VM_PFNMAP`). Each group becomes one VMA, in the
//! order its first mapping appears; its size is the group's pages, capped at 255. From plain
//! `maps` the flags are inferred as `mmap_region` sets them (`VM_ACCOUNT` for private
//! writable mappings, `accountable_mapping` in mm/mmap.c); `smaps` gives them exactly
//! (`VmFlags:` `sh`, `ac`, `lo`, `ht`, `pf`; `show_smap_vma_flags`) and says which mappings
//! have resident pages. Every import is kernel-possible ([`super::kernel_possible`]).

use mmfuzz::mm::state::MAX_VMAS;
use mmfuzz::mm::types::vm;
use serde::{Deserialize, Serialize};

use super::kernel_possible;
use super::scenario::{flag_names, Setup};

/// One mapping line (and, from smaps, its details).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// Line number in the file (1-based).
    pub line: usize,
    /// Start address.
    pub start: u64,
    /// End address (exclusive).
    pub end: u64,
    /// `rwxp` / `rwxs`.
    pub perms: String,
    /// Inode number (0 for anonymous and special mappings).
    pub inode: u64,
    /// Path or `[heap]`, `[stack]`, `[vdso]`, …; empty for anonymous.
    pub path: String,
    /// `VmFlags:` two-letter codes (smaps only).
    pub vmflags: Option<Vec<String>>,
    /// `Rss:` in kB (smaps only).
    pub rss_kb: Option<u64>,
}

/// A bad maps file: the line and the problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapsError {
    /// 1-based line number (0: the file as a whole).
    pub line: usize,
    /// What is wrong.
    pub msg: String,
}

fn hex(s: &str, what: &str, line: usize) -> Result<u64, MapsError> {
    u64::from_str_radix(s, 16).map_err(|_| MapsError {
        line,
        msg: format!("{what} {s:?} is not hexadecimal"),
    })
}

/// Parse `/proc/PID/maps` or `/proc/PID/smaps` text.
pub fn parse(text: &str) -> Result<Vec<Mapping>, MapsError> {
    let mut out: Vec<Mapping> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let l = raw.trim_end();
        if l.is_empty() {
            continue;
        }
        let mut f = l.split_whitespace();
        let first = f.next().unwrap_or_default();
        // smaps detail lines: `Key: value [kB]`.
        if first.ends_with(':') && !first.contains('-') {
            let Some(m) = out.last_mut() else {
                return Err(MapsError {
                    line,
                    msg: format!("{first} before any mapping line"),
                });
            };
            match first {
                "VmFlags:" => m.vmflags = Some(f.map(String::from).collect()),
                "Rss:" => {
                    let v = f.next().unwrap_or_default();
                    m.rss_kb = Some(v.parse().map_err(|_| MapsError {
                        line,
                        msg: format!("Rss: {v:?} is not a number"),
                    })?);
                }
                _ => {}
            }
            continue;
        }
        let bad = |msg: String| MapsError { line, msg };
        let (s, e) = first
            .split_once('-')
            .ok_or_else(|| bad(format!("{first:?} is not an address range start-end")))?;
        let (start, end) = (hex(s, "start", line)?, hex(e, "end", line)?);
        if start >= end || start % 4096 != 0 || end % 4096 != 0 {
            return Err(bad(format!(
                "range {first} is empty, reversed or not page-aligned"
            )));
        }
        if let Some(prev) = out.last() {
            if start < prev.end {
                return Err(bad(format!(
                    "range {first} overlaps or precedes the mapping on line {}",
                    prev.line
                )));
            }
        }
        let perms = f.next().ok_or_else(|| bad("no permissions".into()))?;
        let ok = perms.len() == 4
            && perms
                .chars()
                .zip("rwx".chars())
                .all(|(c, p)| c == p || c == '-')
            && matches!(perms.as_bytes()[3], b'p' | b's');
        if !ok {
            return Err(bad(format!(
                "permissions {perms:?} are not of the form rwxp / rwxs"
            )));
        }
        let offset = f.next().ok_or_else(|| bad("no offset".into()))?;
        hex(offset, "offset", line)?;
        let dev = f.next().ok_or_else(|| bad("no device".into()))?;
        let dev_ok = dev.split_once(':').is_some_and(|(a, b)| {
            u32::from_str_radix(a, 16).is_ok() && u32::from_str_radix(b, 16).is_ok()
        });
        if !dev_ok {
            return Err(bad(format!("device {dev:?} is not major:minor")));
        }
        let inode = f.next().ok_or_else(|| bad("no inode".into()))?;
        let inode: u64 = inode
            .parse()
            .map_err(|_| bad(format!("inode {inode:?} is not a number")))?;
        let path = f.collect::<Vec<_>>().join(" ");
        out.push(Mapping {
            line,
            start,
            end,
            perms: perms.to_string(),
            inode,
            path,
            vmflags: None,
            rss_kb: None,
        });
    }
    if out.is_empty() {
        return Err(MapsError {
            line: 0,
            msg: "no mappings (a kernel thread's maps is empty)".into(),
        });
    }
    for m in &out {
        let k = m.kind();
        kernel_possible::vma(k.flags, k.anon).map_err(|e| MapsError {
            line: m.line,
            msg: format!("VmFlags no kernel shows: {e}"),
        })?;
    }
    Ok(out)
}

/// How one mapping looks to the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Kind {
    /// Anonymous (no file, not a special mapping).
    pub anon: bool,
    /// `VM_*` bits of the model (`mmfuzz::mm::types::vm`).
    pub flags: u8,
}

impl Mapping {
    /// `[vsyscall]` is the x86-64 gate area: not a VMA of the mm (`get_gate_vma`).
    pub fn is_gate(&self) -> bool {
        self.path == "[vsyscall]"
    }

    /// Pages.
    pub fn pages(&self) -> u64 {
        (self.end - self.start) / 4096
    }

    /// Whether any page is resident (unknown from plain maps: assumed, except `VM_PFNMAP`).
    pub fn resident(&self) -> bool {
        self.rss_kb.is_none_or(|r| r > 0)
    }

    /// Anonymous or not, and the model's `VM_*` flags: from smaps `VmFlags:` exactly
    /// (`ht` is `VM_HUGETLB`; `hg` is `VM_HUGEPAGE`, THP advice, and not modelled), from
    /// plain maps as `mmap_region` would set them. Either way the kind obeys
    /// [`kernel_possible::vma`] (smaps flags a kernel never prints are refused by [`parse`]).
    pub fn kind(&self) -> Kind {
        let flags = if let Some(codes) = &self.vmflags {
            let has = |c: &str| codes.iter().any(|x| x == c);
            let mut b = 0;
            for (code, bit) in [
                ("sh", vm::VM_SHARED),
                ("ac", vm::VM_ACCOUNT),
                ("lo", vm::VM_LOCKED),
                ("ht", vm::VM_HUGETLB),
                ("pf", vm::VM_PFNMAP),
            ] {
                if has(code) {
                    b |= bit;
                }
            }
            b
        } else {
            let shared = self.perms.ends_with('s');
            let hugetlb =
                self.path.starts_with("/anon_hugepage") || self.path.starts_with("/dev/hugepages");
            let mut b = 0;
            if shared {
                b |= vm::VM_SHARED;
            }
            // accountable_mapping(): private writable, not a hugetlbfs file.
            if hugetlb {
                b |= vm::VM_HUGETLB;
            } else if !shared && self.perms.as_bytes()[1] == b'w' {
                b |= vm::VM_ACCOUNT;
            }
            if self.path == "[vvar]" || self.path.starts_with("[vvar_") {
                b |= vm::VM_PFNMAP;
            }
            b
        };
        let special = self.path.starts_with('[')
            && !self.path.starts_with("[heap]")
            && !self.path.starts_with("[stack")
            && !self.path.starts_with("[anon:");
        // Shared anonymous memory is shmem; hugetlb and PFN mappings have a file or driver.
        let anon = self.inode == 0
            && !special
            && !self.path.starts_with('/')
            && flags & (vm::VM_SHARED | vm::VM_HUGETLB | vm::VM_PFNMAP) == 0;
        Kind { anon, flags }
    }
}

/// One model VMA made of a group of real mappings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// `anon` or the first mapping's path.
    pub label: String,
    /// Anonymous.
    pub anon: bool,
    /// `VM_*` names.
    pub flags: Vec<String>,
    /// Real mappings in the group.
    pub mappings: usize,
    /// Real pages in the group.
    pub pages: u64,
    /// Lines of the file in the group, as ranges: `1-3,7,9-12`.
    pub lines: String,
}

/// A set-up file: what `import-maps` writes and `run --setup` / `check --setup` read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupFile {
    /// Where the address space came from.
    pub source: String,
    /// The model VMAs and the mappings behind each.
    pub groups: Vec<Group>,
    /// Mappings left out (the gate area, or groups beyond the model's VMA limit).
    pub skipped: Vec<usize>,
    /// The set-up operations.
    pub setup: Vec<Setup>,
}

/// Group `maps` into at most [`MAX_VMAS`] model VMAs (the largest groups, by pages, if there
/// are more kinds than that) and write their set-up: `mmap`, then `mlock` for `VM_LOCKED`
/// groups or `fault` for groups with resident pages.
pub fn import(source: &str, maps: &[Mapping]) -> SetupFile {
    /// One model VMA being gathered.
    struct Acc {
        kind: Kind,
        label: String,
        mappings: usize,
        pages: u64,
        resident: bool,
        lines: Vec<usize>,
    }
    let mut groups: Vec<Acc> = Vec::new();
    let mut skipped = Vec::new();
    for m in maps {
        if m.is_gate() {
            skipped.push(m.line);
            continue;
        }
        let kind = m.kind();
        let i = match groups.iter().position(|g| g.kind == kind) {
            Some(i) => i,
            None => {
                groups.push(Acc {
                    kind,
                    label: if m.path.is_empty() {
                        "anon".into()
                    } else {
                        m.path.clone()
                    },
                    mappings: 0,
                    pages: 0,
                    resident: false,
                    lines: Vec::new(),
                });
                groups.len() - 1
            }
        };
        let g = &mut groups[i];
        g.mappings += 1;
        g.pages += m.pages();
        g.lines.push(m.line);
        g.resident |= m.resident() && kind.flags & vm::VM_PFNMAP == 0;
    }
    if groups.len() > MAX_VMAS {
        // Keep the largest groups, in their order of appearance.
        let mut by_size: Vec<usize> = (0..groups.len()).collect();
        by_size.sort_by_key(|&i| std::cmp::Reverse(groups[i].pages));
        let keep = &by_size[..MAX_VMAS];
        let mut kept = Vec::new();
        for (i, g) in groups.into_iter().enumerate() {
            if keep.contains(&i) {
                kept.push(g);
            } else {
                skipped.extend(g.lines);
            }
        }
        groups = kept;
    }
    skipped.sort_unstable();
    let mmaps = groups.iter().map(|g| Setup::Mmap {
        pages: g.pages.clamp(1, 255) as u8,
        flags: flag_names(g.kind.flags & !vm::VM_LOCKED),
        anon: g.kind.anon,
    });
    let faults = groups.iter().enumerate().filter_map(|(i, g)| {
        let vma = i as u8;
        if g.kind.flags & vm::VM_LOCKED != 0 {
            Some(Setup::Mlock { vma })
        } else if g.resident {
            Some(Setup::Fault { vma })
        } else {
            None
        }
    });
    let setup = mmaps.chain(faults).collect();
    SetupFile {
        source: source.to_string(),
        groups: groups
            .into_iter()
            .map(|g| Group {
                label: g.label,
                anon: g.kind.anon,
                flags: flag_names(g.kind.flags),
                mappings: g.mappings,
                pages: g.pages,
                lines: ranges(&g.lines),
            })
            .collect(),
        skipped,
        setup,
    }
}

/// `1-3,7,9-12` for sorted line numbers.
fn ranges(lines: &[usize]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let mut j = i;
        while j + 1 < lines.len() && lines[j + 1] == lines[j] + 1 {
            j += 1;
        }
        out.push(if i == j {
            lines[i].to_string()
        } else {
            format!("{}-{}", lines[i], lines[j])
        });
        i = j + 1;
    }
    out.join(",")
}

/// Is this set-up fit to start a scenario from: only `mmap`/`fault`/`mlock`/`munmap` of VMAs
/// that exist, and kernel-possible ([`kernel_possible::check`])? The threads and kills are
/// drawn or enumerated as usual.
pub fn check_setup(setup: &[Setup]) -> Result<(), String> {
    let mut n = 0u8;
    for (i, s) in setup.iter().enumerate() {
        match s {
            Setup::Mmap { flags, .. } => {
                super::scenario::flag_bits(flags).map_err(|e| format!("setup[{i}]: {e}"))?;
                n += 1;
            }
            Setup::Fault { vma } | Setup::Mlock { vma } | Setup::Munmap { vma } => {
                if *vma >= n {
                    return Err(format!("setup[{i}]: no VMA {vma} mapped before it"));
                }
            }
            Setup::OomKill | Setup::Kill | Setup::CgroupFreeze | Setup::ForkFails { .. } => {
                return Err(format!(
                    "setup[{i}]: kills, the cgroup freezer and a fork's failure are chosen by the scenario, not the set-up file"
                ))
            }
        }
    }
    if usize::from(n) > MAX_VMAS {
        return Err(format!("{n} VMAs; the model keeps at most {MAX_VMAS}"));
    }
    if n == 0 {
        return Err("no mmap in the set-up".into());
    }
    kernel_possible::check(setup)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPS: &str = "\
55d0c7a00000-55d0c7a02000 r--p 00000000 fd:01 1054 /usr/bin/cat
55d0c7a02000-55d0c7a07000 r-xp 00002000 fd:01 1054 /usr/bin/cat
55d0c7a0b000-55d0c7a0c000 rw-p 0000a000 fd:01 1054 /usr/bin/cat
55d0c8a3e000-55d0c8a5f000 rw-p 00000000 00:00 0 [heap]
7f1d2c000000-7f1d2c021000 rw-s 00000000 00:01 2048 /dev/shm/x (deleted)
7ffc4f1e0000-7ffc4f201000 rw-p 00000000 00:00 0 [stack]
7ffc4f3c2000-7ffc4f3c6000 r--p 00000000 00:00 0 [vvar]
7ffc4f3c6000-7ffc4f3c8000 r-xp 00000000 00:00 0 [vdso]
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]
";

    #[test]
    fn groups_by_kind_and_skips_the_gate_area() {
        let m = parse(MAPS).unwrap();
        assert_eq!(m.len(), 9);
        let f = import("maps", &m);
        assert_eq!(f.skipped, vec![9]);
        let labels: Vec<&str> = f.groups.iter().map(|g| g.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "/usr/bin/cat",
                "/usr/bin/cat",
                "[heap]",
                "/dev/shm/x (deleted)",
                "[vvar]"
            ]
        );
        // [vdso] is a special mapping: to the teardown paths, a private read-only file one.
        assert_eq!(f.groups[0].lines, "1-2,8");
        // Private writable file data is accounted; the heap and stack are one anonymous group.
        assert_eq!(f.groups[1].flags, ["VM_ACCOUNT"]);
        assert_eq!(f.groups[2].lines, "4,6");
        assert!(f.groups[2].anon);
        assert_eq!(f.groups[3].flags, ["VM_SHARED"]);
        assert_eq!(f.groups[4].flags, ["VM_PFNMAP"]);
        check_setup(&f.setup).unwrap();
        // No fault for the PFN mapping.
        assert!(!f.setup.contains(&Setup::Fault { vma: 4 }));
    }

    #[test]
    fn smaps_flags_are_exact() {
        let s = "\
7f00000000-7f00002000 rw-p 00000000 00:00 0
Rss:                   8 kB
VmFlags: rd wr mr mw me lo ac sd
7f00003000-7f00004000 r--p 00000000 00:00 0
Rss:                   0 kB
VmFlags: rd mr mw me sd
";
        let f = import("smaps", &parse(s).unwrap());
        assert_eq!(
            f.setup,
            [
                Setup::Mmap {
                    pages: 2,
                    flags: vec!["VM_ACCOUNT".into()],
                    anon: true
                },
                Setup::Mmap {
                    pages: 1,
                    flags: vec![],
                    anon: true
                },
                Setup::Mlock { vma: 0 },
            ]
        );
    }

    #[test]
    fn imports_are_kernel_possible() {
        let smaps = "\
7f00000000-7f00200000 rw-s 00000000 00:0f 4242 /anon_hugepage (deleted)
Rss:                   0 kB
VmFlags: rd wr sh mr mw me ms de ht sd
7f00200000-7f00400000 rw-p 00000000 00:00 0
Rss:                 512 kB
VmFlags: rd wr mr mw me ac hg sd
7f00400000-7f00401000 rw-s 00000000 00:06 11 /dev/mem
Rss:                   0 kB
VmFlags: rd wr sh mr mw me ms io pf dd
7f00401000-7f00402000 rw-s 00000000 00:01 9 /dev/zero (deleted)
Rss:                   4 kB
VmFlags: rd wr sh mr mw me ms sd
";
        let f = import("smaps", &parse(smaps).unwrap());
        // ht is hugetlb, hg (THP advice) is not; shared /dev/zero is shmem, not anonymous.
        let kinds: Vec<(bool, Vec<String>)> =
            f.groups.iter().map(|g| (g.anon, g.flags.clone())).collect();
        let n = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            kinds,
            [
                (false, n(&["VM_SHARED", "VM_HUGETLB"])),
                (true, n(&["VM_ACCOUNT"])),
                (false, n(&["VM_SHARED", "VM_PFNMAP"])),
                (false, n(&["VM_SHARED"])),
            ]
        );
        for (what, text) in [("maps", MAPS), ("smaps", smaps)] {
            let f = import(what, &parse(text).unwrap());
            kernel_possible::check(&f.setup).unwrap();
            check_setup(&f.setup).unwrap();
        }
        // A real process, both files.
        for p in ["/proc/self/maps", "/proc/self/smaps"] {
            if let Ok(text) = std::fs::read_to_string(p) {
                let f = import(p, &parse(&text).unwrap());
                check_setup(&f.setup).unwrap_or_else(|e| panic!("{p}: {e}"));
            }
        }
    }

    #[test]
    fn flags_no_kernel_shows_are_refused() {
        for (codes, word) in [
            ("sh ac", "accountable_mapping"),
            ("ht ac", "accountable_mapping"),
            ("ht lo", "VM_LOCKED"),
            ("pf lo", "VM_LOCKED"),
        ] {
            let s =
                format!("7f00000000-7f00001000 rw-s 00000000 00:06 11 /x\nVmFlags: rd {codes}\n");
            let e = parse(&s).unwrap_err();
            assert!(e.line == 1 && e.msg.contains(word), "{codes}: {e:?}");
        }
        let e = check_setup(&[
            Setup::Mmap {
                pages: 1,
                flags: vec!["VM_PFNMAP".into()],
                anon: false,
            },
            Setup::Mlock { vma: 0 },
        ])
        .unwrap_err();
        assert!(e.contains("mlock_fixup"), "{e}");
    }

    #[test]
    fn bad_lines_are_named() {
        let e =
            parse("00400000-00401000 r-xp 00000000 fd:01 12 /bin/x\nzz-00402000 r--p 0 0:0 0\n")
                .unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.msg.contains("not hexadecimal"), "{}", e.msg);
        let e = parse("00400000-00401000 rwzp 00000000 fd:01 12\n").unwrap_err();
        assert!(e.msg.contains("permissions"), "{}", e.msg);
        let e = parse("00402000-00401000 r--p 00000000 fd:01 12\n").unwrap_err();
        assert!(e.msg.contains("reversed"), "{}", e.msg);
        assert_eq!(parse("\n").unwrap_err().line, 0);
        let e = parse("Rss: 4 kB\n").unwrap_err();
        assert_eq!(e.line, 1);
    }
}
