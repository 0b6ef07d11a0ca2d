//! The kernel's vocabulary, once: thread and VMA ids, `mm->flags`, `vm_flags`, `PF_*`, the
//! globals of the freezer and the OOM killer, the locks, and the roles threads play
//! (`include/linux/mm_types.h`, `include/linux/sched.h`, `include/linux/sched/coredump.h`). A
//! leaf module: it imports nothing else of the model.

/// Thread index.
pub type Tid = u8;
/// VMA index in [`World::vmas`](super::World) (a VMA is never reused, so the index is its
/// generation).
pub type VmaId = u8;

/// `A|B` for the names of the bits set in `bits`, or `none` when no bit is.
pub fn show_bits(names: &[(&str, u8)], bits: u8, none: &str) -> String {
    let v: Vec<&str> = names
        .iter()
        .filter(|(_, b)| bits & b != 0)
        .map(|(n, _)| *n)
        .collect();
    if v.is_empty() {
        none.into()
    } else {
        v.join("|")
    }
}

/// The bits named by `A|B`, or the first unknown name.
pub fn parse_bits<'a>(names: &[(&str, u8)], text: &'a str) -> Result<u8, &'a str> {
    let mut bits = 0;
    for part in text.split('|') {
        match names.iter().find(|(n, _)| *n == part) {
            Some((_, b)) => bits |= b,
            None => return Err(part),
        }
    }
    Ok(bits)
}

/// `mm->flags` bits the model knows (`include/linux/sched/coredump.h`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum MmFlag {
    /// `MMF_OOM_SKIP`: the OOM killer and reaper ignore this mm.
    MMF_OOM_SKIP,
    /// `MMF_UNSTABLE`: the reaper has started zapping; page faults may see zeroed pages.
    MMF_UNSTABLE,
    /// `MMF_OOM_VICTIM` (v4.15–v5.19): set by `mark_oom_victim`, never cleared.
    MMF_OOM_VICTIM,
    /// `MMF_OOM_REAP_QUEUED`: the mm has been queued for the reaper.
    MMF_OOM_REAP_QUEUED,
}

impl MmFlag {
    /// All flags, in bit order.
    pub const ALL: [MmFlag; 4] = [
        MmFlag::MMF_OOM_SKIP,
        MmFlag::MMF_UNSTABLE,
        MmFlag::MMF_OOM_VICTIM,
        MmFlag::MMF_OOM_REAP_QUEUED,
    ];
    /// The flag's bit in [`crate::mm::Mm::flags`].
    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }
    /// The kernel's name.
    pub fn name(self) -> &'static str {
        match self {
            MmFlag::MMF_OOM_SKIP => "MMF_OOM_SKIP",
            MmFlag::MMF_UNSTABLE => "MMF_UNSTABLE",
            MmFlag::MMF_OOM_VICTIM => "MMF_OOM_VICTIM",
            MmFlag::MMF_OOM_REAP_QUEUED => "MMF_OOM_REAP_QUEUED",
        }
    }
    /// Parse a kernel name.
    pub fn parse(s: &str) -> Option<MmFlag> {
        MmFlag::ALL.into_iter().find(|f| f.name() == s)
    }
}

/// `vm_flags` bits the model knows.
pub mod vm {
    /// `VM_SHARED`.
    pub const VM_SHARED: u8 = 1 << 0;
    /// `VM_LOCKED` (mlock).
    pub const VM_LOCKED: u8 = 1 << 1;
    /// `VM_ACCOUNT` (counted in `vm_committed_as`).
    pub const VM_ACCOUNT: u8 = 1 << 2;
    /// `VM_HUGETLB`.
    pub const VM_HUGETLB: u8 = 1 << 3;
    /// `VM_PFNMAP`.
    pub const VM_PFNMAP: u8 = 1 << 4;
    /// Names, for parsing and printing.
    pub const NAMES: [(&str, u8); 5] = [
        ("VM_SHARED", VM_SHARED),
        ("VM_LOCKED", VM_LOCKED),
        ("VM_ACCOUNT", VM_ACCOUNT),
        ("VM_HUGETLB", VM_HUGETLB),
        ("VM_PFNMAP", VM_PFNMAP),
    ];
    /// `VM_A|VM_B` for a flag set (`0` for none).
    pub fn show(flags: u8) -> String {
        super::show_bits(&NAMES, flags, "0")
    }
}

/// Global flags of the freezer and the OOM killer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[allow(non_camel_case_types)]
pub enum Global {
    /// `pm_freezing`.
    pm_freezing,
    /// `pm_nosig_freezing`.
    pm_nosig_freezing,
    /// `oom_killer_disabled`.
    oom_killer_disabled,
}

impl Global {
    /// Every global.
    pub const ALL: [Global; 3] = [
        Global::pm_freezing,
        Global::pm_nosig_freezing,
        Global::oom_killer_disabled,
    ];
    /// The kernel's name.
    pub fn name(self) -> &'static str {
        match self {
            Global::pm_freezing => "pm_freezing",
            Global::pm_nosig_freezing => "pm_nosig_freezing",
            Global::oom_killer_disabled => "oom_killer_disabled",
        }
    }
    /// Parse a kernel name.
    pub fn parse(s: &str) -> Option<Global> {
        Global::ALL.into_iter().find(|g| g.name() == s)
    }
}

/// `MMF_*` flags set on the mm, for traces (`0` for none).
pub fn show_mm_flags(flags: u8) -> String {
    let v: Vec<&str> = MmFlag::ALL
        .iter()
        .filter(|f| flags & f.bit() != 0)
        .map(|f| f.name())
        .collect();
    if v.is_empty() {
        "0".into()
    } else {
        v.join("|")
    }
}

/// `PF_*` bits of a task, as far as the freezer cares (`include/linux/sched.h`).
pub mod pf {
    /// `PF_KTHREAD`.
    pub const PF_KTHREAD: u8 = 1 << 0;
    /// `PF_NOFREEZE` (every kthread until `set_freezable`).
    pub const PF_NOFREEZE: u8 = 1 << 1;
    /// `PF_SUSPEND_TASK`: the task running `freeze_processes`.
    pub const PF_SUSPEND_TASK: u8 = 1 << 2;
    /// `PF_FREEZER_SKIP` (`freezer_do_not_count`, <= v6.0).
    pub const PF_FREEZER_SKIP: u8 = 1 << 3;
    /// Names.
    pub const NAMES: [(&str, u8); 4] = [
        ("PF_KTHREAD", PF_KTHREAD),
        ("PF_NOFREEZE", PF_NOFREEZE),
        ("PF_SUSPEND_TASK", PF_SUSPEND_TASK),
        ("PF_FREEZER_SKIP", PF_FREEZER_SKIP),
    ];
}

/// A lock of the model: one type for paths (`mutex_lock oom_lock`), events, lockdep classes
/// and pictures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Lock {
    /// `mm->mmap_lock` (rwsem).
    MmapLock,
    /// `oom_lock` (mutex, `mm/oom_kill.c`).
    OomLock,
    /// `oom_reaper_lock` (spinlock, `mm/oom_kill.c`).
    OomReaperLock,
    /// `task_lock(victim)` (`alloc_lock`, spinlock).
    TaskLock,
    /// `freezer_lock` (spinlock, `kernel/freezer.c`).
    FreezerLock,
    /// `inode->i_rwsem` of a file the victim shares with another task (a sleeping lock, taken
    /// for write; `include/linux/fs.h`).
    IRwsem,
    /// The page-table lock of one VMA's page tables.
    Ptl(VmaId),
    /// One VMA's lock (v6.4+: `vma->vm_lock->lock`, read-held by a page fault from
    /// `vma_start_read` to `vma_end_read`; `vma_start_write` takes it for write and marks the
    /// VMA write-locked until `mmap_write_unlock`).
    VmLock(VmaId),
}

impl Lock {
    /// The locks a path names as an argument (`mutex_lock LOCK`, `spin_lock LOCK`).
    pub const NAMED: [Lock; 4] = [
        Lock::OomLock,
        Lock::OomReaperLock,
        Lock::FreezerLock,
        Lock::IRwsem,
    ];
    /// Parse the name of a [`Lock::NAMED`] lock.
    pub fn parse(s: &str) -> Option<Lock> {
        Lock::NAMED.into_iter().find(|l| l.name() == s)
    }
    /// Kernel name.
    pub fn name(self) -> String {
        match self {
            Lock::Ptl(v) => format!("ptl(vma{v})"),
            Lock::VmLock(v) => format!("vm_lock(vma{v})"),
            other => other.class_name().into(),
        }
    }
    /// Every lock class, in the order pictures list them (lockdep's view: every page-table
    /// lock is one class, `Ptl(0)` stands for it).
    pub const CLASSES: [Lock; 8] = [
        Lock::MmapLock,
        Lock::OomLock,
        Lock::OomReaperLock,
        Lock::TaskLock,
        Lock::FreezerLock,
        Lock::Ptl(0),
        Lock::IRwsem,
        Lock::VmLock(0),
    ];
    /// The lock's class: its index in [`Lock::CLASSES`].
    pub fn class(self) -> usize {
        match self {
            Lock::MmapLock => 0,
            Lock::OomLock => 1,
            Lock::OomReaperLock => 2,
            Lock::TaskLock => 3,
            Lock::FreezerLock => 4,
            Lock::Ptl(_) => 5,
            Lock::IRwsem => 6,
            Lock::VmLock(_) => 7,
        }
    }
    /// The class's name (`ptl` for every page-table lock).
    pub fn class_name(self) -> &'static str {
        match self {
            Lock::MmapLock => "mmap_lock",
            Lock::OomLock => "oom_lock",
            Lock::OomReaperLock => "oom_reaper_lock",
            Lock::TaskLock => "task_lock",
            Lock::FreezerLock => "freezer_lock",
            Lock::Ptl(_) => "ptl",
            Lock::IRwsem => "i_rwsem",
            Lock::VmLock(_) => "vm_lock",
        }
    }
    /// Spinlocks may not be held across a sleep.
    pub fn is_spin(self) -> bool {
        matches!(
            self,
            Lock::OomReaperLock | Lock::TaskLock | Lock::FreezerLock | Lock::Ptl(_)
        )
    }
}

/// What a thread is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Role {
    /// The victim itself, exiting: `do_exit` → `exit_mm` → `mmput`.
    Exit,
    /// The `oom_reaper` kthread: `oom_reap_task(victim)`.
    OomReaper,
    /// A task calling `process_mrelease(pidfd of victim, 0)`.
    Mrelease,
    /// A third holder of the mm, e.g. a `/proc/PID/` reader: `get_task_mm` … `mmput`.
    Proc,
    /// An allocation failing in another task: `out_of_memory` → `mark_oom_victim` →
    /// `queue_oom_reaper`.
    OomKill,
    /// The task suspending the system: `freeze_processes`, `freeze_kernel_threads`, the
    /// suspended state, `thaw_processes` (`kernel/power/suspend.c`, `kernel/power/process.c`).
    Pm,
    /// The victim as a user task: I/O and `try_to_freeze` until a fatal signal, then `do_exit`.
    User,
    /// Another user task that enters the refrigerator holding `i_rwsem` of a file the victim
    /// shares (a freezable wait under a sleeping lock, e.g. an NFS RPC wait).
    Holder,
    /// `swapoff(2)`: `try_to_unuse` walks `mmlist`, pins each mm with `mmget_not_zero` and
    /// runs `unuse_mm` over its VMAs under `mmap_read_lock` (`mm/swapfile.c`).
    Swapoff,
    /// A reader of `/proc/PID/maps`: `proc_mem_open` (`mmgrab`), `m_start`
    /// (`mmget_not_zero`, `mmap_read_lock_killable`), the VMA walk, `m_stop`
    /// (`fs/proc/task_mmu.c`).
    Maps,
    /// A tracer reading the victim's memory: `ptrace(PTRACE_PEEKDATA)` →
    /// `access_process_vm` → `__access_remote_vm` (`mm/memory.c`).
    Ptrace,
    /// The parent forking: `copy_process` → `copy_mm` → `dup_mm` → `dup_mmap(mm, oldmm)`
    /// into the new mm (the model's mm), which fails at a VMA the set-up names; `dup_mm` then
    /// drops the new mm (`mmput`), and that runs `exit_mmap` on a half-copied tree
    /// (`kernel/fork.c`, `mm/mmap.c`).
    Fork,
    /// A thread of the victim taking a page fault on its lowest VMA (v6.4+: through
    /// `lock_vma_under_rcu`, without `mmap_lock`; the `mmap_read_lock` path when that fails),
    /// then killed: `do_exit` → `exit_mm` (`arch/x86/mm/fault.c`, `mm/memory.c`).
    Fault,
    /// A thread of the victim unmapping its lowest VMA (`munmap(2)` → `__vm_munmap` →
    /// `do_vmi_align_munmap`: write-lock, detach, downgrade, `unmap_region`, free), then
    /// killed: `do_exit` → `exit_mm` (`mm/mmap.c`).
    Munmap,
}

/// `XA_ZERO_ENTRY` (`include/linux/xarray.h`) as a tree entry: the marker a failed
/// `dup_mmap` stores at its failure point (v6.8+). Not a VMA: no [`World::vmas`](super::World)
/// index has this value.
pub const XA_ZERO_ENTRY: VmaId = VmaId::MAX;

impl Role {
    /// All roles.
    pub const ALL: [Role; 14] = [
        Role::Exit,
        Role::OomReaper,
        Role::Mrelease,
        Role::Proc,
        Role::OomKill,
        Role::Pm,
        Role::User,
        Role::Holder,
        Role::Swapoff,
        Role::Maps,
        Role::Ptrace,
        Role::Fork,
        Role::Fault,
        Role::Munmap,
    ];
    /// The role's name in configs.
    pub fn name(self) -> &'static str {
        match self {
            Role::Exit => "exit",
            Role::OomReaper => "oom_reaper",
            Role::Mrelease => "mrelease",
            Role::Proc => "proc",
            Role::OomKill => "oom_kill",
            Role::Pm => "pm",
            Role::User => "user",
            Role::Holder => "holder",
            Role::Swapoff => "swapoff",
            Role::Maps => "maps",
            Role::Ptrace => "ptrace",
            Role::Fork => "fork",
            Role::Fault => "fault",
            Role::Munmap => "munmap",
        }
    }
    /// The task it runs as, for traces.
    pub fn task(self) -> &'static str {
        match self {
            Role::Exit => "victim",
            Role::OomReaper => "oom_reaper",
            Role::Mrelease => "mrelease",
            Role::Proc => "proc",
            Role::OomKill => "allocator",
            Role::Pm => "pm",
            Role::User => "victim",
            Role::Holder => "holder",
            Role::Swapoff => "swapoff",
            Role::Maps => "maps",
            Role::Ptrace => "tracer",
            Role::Fork => "parent",
            Role::Fault => "victim",
            Role::Munmap => "victim",
        }
    }
    /// The path it starts in.
    pub fn entry(self) -> &'static str {
        match self {
            Role::Exit => "exit_mm",
            Role::OomReaper => "oom_reaper",
            Role::Mrelease => "process_mrelease",
            Role::Proc => "proc_reader",
            Role::OomKill => "out_of_memory",
            Role::Pm => "pm_suspend",
            Role::User => "victim_task",
            Role::Holder => "fs_holder",
            Role::Swapoff => "try_to_unuse",
            Role::Maps => "proc_pid_maps",
            Role::Ptrace => "access_process_vm",
            Role::Fork => "dup_mm",
            Role::Fault => "victim_fault",
            Role::Munmap => "victim_munmap",
        }
    }
    /// Whether the role's task is the victim.
    pub fn is_victim(self) -> bool {
        matches!(self, Role::Exit | Role::User | Role::Fault | Role::Munmap)
    }
    /// Whether the role is one of the mm's other walkers (swapoff, `/proc/PID/maps`, ptrace):
    /// it pins the mm, walks it and puts it.
    pub fn is_walker(self) -> bool {
        matches!(self, Role::Swapoff | Role::Maps | Role::Ptrace)
    }
    /// Whether the role's task is a kernel thread (`PF_KTHREAD`).
    pub fn is_kthread(self) -> bool {
        matches!(self, Role::OomReaper | Role::OomKill)
    }
    /// Parse a config role name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == s)
    }
}
