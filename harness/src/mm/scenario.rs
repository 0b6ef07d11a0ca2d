//! Scenarios: set-up operations, the threads to start, and the schedule. Plain serde data
//! (corpus files hold them); [`super::generate`] builds them.

use mmfuzz::mm::types::vm;
use mmfuzz::mm::Role;
use serde::{Deserialize, Serialize};

/// Most schedule choices in a scenario.
pub const MAX_CHOICES: usize = 256;

/// A set-up operation, applied atomically before the threads start.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Setup {
    /// `mmap` a new VMA.
    Mmap {
        /// Pages.
        pages: u8,
        /// `VM_*` flags, e.g. `["VM_ACCOUNT", "VM_SHARED"]`.
        #[serde(default)]
        flags: Vec<String>,
        /// Anonymous (else file-backed).
        anon: bool,
    },
    /// Fault every page of VMA `vma` in.
    Fault {
        /// VMA index (in creation order).
        vma: u8,
    },
    /// `mlock` VMA `vma`.
    Mlock {
        /// VMA index.
        vma: u8,
    },
    /// `munmap` VMA `vma`.
    Munmap {
        /// VMA index.
        vma: u8,
    },
    /// The OOM killer picks the victim (`mark_oom_victim`, SIGKILL, queued for the reaper).
    OomKill,
    /// SIGKILL to the victim without an OOM kill.
    Kill,
    /// The victim's cgroup v1 freezer set to `FROZEN` (`echo FROZEN > freezer.state`): its
    /// threads freeze at their next `try_to_freeze` and stay frozen.
    CgroupFreeze,
    /// A fork's `dup_mmap` fails at the parent's VMA `vma` (a fatal signal or `-ENOMEM` there,
    /// as fault injection gives); `vma` equal to the number of VMAs: `arch_dup_mmap` fails.
    /// The VMAs the set-up maps are the parent's.
    ForkFails {
        /// The parent's VMA (in address order) at which the copy stops.
        vma: u8,
    },
}

/// A thread to start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Thread {
    /// The victim exiting.
    Exit,
    /// The `oom_reaper` kthread.
    OomReaper,
    /// A `process_mrelease` caller.
    Mrelease,
    /// A `/proc` reader holding the mm.
    Proc,
    /// An allocation that fails: `out_of_memory` picks the victim and queues it for the reaper.
    OomKill,
    /// The task suspending the system.
    Pm,
    /// The victim as a user task doing I/O until killed.
    User,
    /// A user task that freezes holding `i_rwsem` of a file the victim's exit path needs.
    Holder,
    /// `swapoff(2)` walking the victim's mm (`try_to_unuse`, `unuse_mm`).
    Swapoff,
    /// A reader of `/proc/PID/maps` (`m_start`, the VMA walk, `m_stop`).
    Maps,
    /// A tracer reading the victim's memory (`access_process_vm`).
    Ptrace,
    /// The parent forking: `dup_mm` → `dup_mmap` into the child's mm, which fails at the VMA
    /// the set-up names, then `mmput` of the child's mm.
    Fork,
    /// A thread of the victim taking a page fault on its lowest VMA, then exiting.
    Fault,
    /// A thread of the victim unmapping its lowest VMA, then exiting.
    Munmap,
}

impl Thread {
    /// The model's role.
    pub fn role(self) -> Role {
        match self {
            Thread::Exit => Role::Exit,
            Thread::OomReaper => Role::OomReaper,
            Thread::Mrelease => Role::Mrelease,
            Thread::Proc => Role::Proc,
            Thread::OomKill => Role::OomKill,
            Thread::Pm => Role::Pm,
            Thread::User => Role::User,
            Thread::Holder => Role::Holder,
            Thread::Swapoff => Role::Swapoff,
            Thread::Maps => Role::Maps,
            Thread::Ptrace => Role::Ptrace,
            Thread::Fork => Role::Fork,
            Thread::Fault => Role::Fault,
            Thread::Munmap => Role::Munmap,
        }
    }
    /// From the model's role.
    pub fn from_role(r: Role) -> Thread {
        match r {
            Role::Exit => Thread::Exit,
            Role::OomReaper => Thread::OomReaper,
            Role::Mrelease => Thread::Mrelease,
            Role::Proc => Thread::Proc,
            Role::OomKill => Thread::OomKill,
            Role::Pm => Thread::Pm,
            Role::User => Thread::User,
            Role::Holder => Thread::Holder,
            Role::Swapoff => Thread::Swapoff,
            Role::Maps => Thread::Maps,
            Role::Ptrace => Thread::Ptrace,
            Role::Fork => Thread::Fork,
            Role::Fault => Thread::Fault,
            Role::Munmap => Thread::Munmap,
        }
    }
}

/// Which runnable thread steps next.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    /// At step `i`, the `choices[i] % runnable`-th runnable thread; past the end, the thread
    /// that ran last if it still can, else the first runnable one.
    Choices(Vec<u8>),
    /// Run thread `t` for `n` steps, for each `[t, n]` in turn (a segment ends early if its
    /// thread blocks or returns); past the end, as for `Choices`. This is the form shrinking
    /// produces and counterexamples are written in: one segment per numbered step.
    Segments(Vec<(u8, u16)>),
    /// PCT (Burckhardt et al.): random distinct thread priorities from `seed`, and `depth - 1`
    /// priority change points among the first `span` steps.
    Pct {
        /// Seed of the priorities and change points.
        seed: u64,
        /// Bug depth.
        depth: u8,
        /// Steps over which change points are spread.
        span: u16,
    },
}

/// One execution's input.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Scenario {
    /// Set-up operations, in order.
    pub setup: Vec<Setup>,
    /// Threads, in thread-id order.
    pub threads: Vec<Thread>,
    /// The interleaving.
    pub schedule: Schedule,
}

/// `VM_*` names to bits.
pub fn flag_bits(names: &[String]) -> Result<u8, String> {
    let mut b = 0;
    for n in names {
        match vm::NAMES.iter().find(|(x, _)| x == n) {
            Some((_, bit)) => b |= bit,
            None => return Err(format!("unknown VM flag {n:?}")),
        }
    }
    Ok(b)
}

/// `VM_*` bits to names.
pub fn flag_names(bits: u8) -> Vec<String> {
    vm::NAMES
        .iter()
        .filter(|(_, b)| bits & b != 0)
        .map(|(n, _)| n.to_string())
        .collect()
}
