//! What a step reports: lock operations, accesses to modelled locations, frees, and faults the
//! kernel itself would hit (a `BUG_ON`, a refcount underflow, lock misuse). The harness's
//! oracles judge the rest.

use super::invariant::Invariant;
use super::types::{Lock, Tid, VmaId};

/// A modelled memory location (for use-after-free and race detection).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Loc {
    /// The `vm_area_struct` itself (fields other than flags).
    VmaObj(VmaId),
    /// `vma->vm_flags`.
    VmaFlags(VmaId),
    /// The VMA's page-table entries and page-table pages.
    VmaPtes(VmaId),
    /// `mm->mmap`.
    MmMmap,
    /// `mm->mm_mt`.
    MmTree,
    /// `mm->locked_vm`.
    MmLockedVm,
    /// The arch-only page tables.
    MmArchPt,
    /// Any other field of the `mm_struct` (flags, counters).
    MmStruct,
}

impl Loc {
    /// Kernel-style name.
    pub fn name(self) -> String {
        match self {
            Loc::VmaObj(v) => format!("vma{v}"),
            Loc::VmaFlags(v) => format!("vma{v}->vm_flags"),
            Loc::VmaPtes(v) => format!("vma{v} page tables"),
            Loc::MmMmap => "mm->mmap".into(),
            Loc::MmTree => "mm->mm_mt".into(),
            Loc::MmLockedVm => "mm->locked_vm".into(),
            Loc::MmArchPt => "arch page tables".into(),
            Loc::MmStruct => "mm_struct".into(),
        }
    }
}

/// The classes of location a [`Footprint`] names, one bit each ([`Loc::class_bit`]).
pub mod class {
    /// `VmaObj`, of any VMA.
    pub const OBJ: u8 = 1;
    /// `VmaFlags`.
    pub const FLAGS: u8 = 2;
    /// `VmaPtes`.
    pub const PTES: u8 = 4;
    /// `MmMmap`.
    pub const MMAP: u8 = 8;
    /// `MmTree`.
    pub const TREE: u8 = 16;
    /// `MmLockedVm`.
    pub const LOCKED: u8 = 32;
    /// `MmArchPt`.
    pub const ARCH: u8 = 64;
}

impl Loc {
    /// The location's class as one bit of a [`Footprint`] mask (VMA locations of every VMA
    /// share their class). `MmStruct` (flags and counters, only touched atomically) has none:
    /// the race detector does not track it.
    pub fn class_bit(self) -> u8 {
        match self {
            Loc::VmaObj(_) => class::OBJ,
            Loc::VmaFlags(_) => class::FLAGS,
            Loc::VmaPtes(_) => class::PTES,
            Loc::MmMmap => class::MMAP,
            Loc::MmTree => class::TREE,
            Loc::MmLockedVm => class::LOCKED,
            Loc::MmArchPt => class::ARCH,
            Loc::MmStruct => 0,
        }
    }
}

/// The classes of location ([`Loc::class_bit`]) a step may read and may write: the
/// exhaustive search's knowledge of what a thread can still touch. Every access a step reports
/// is checked against its primitive's footprint ([`Footprint::covers`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Footprint {
    /// Classes it may read.
    pub reads: u8,
    /// Classes it may write.
    pub writes: u8,
}

impl Footprint {
    /// Both.
    pub fn union(self, o: Footprint) -> Footprint {
        Footprint {
            reads: self.reads | o.reads,
            writes: self.writes | o.writes,
        }
    }
    /// Does it allow this access?
    pub fn covers(self, loc: Loc, write: bool) -> bool {
        let m = if write { self.writes } else { self.reads };
        loc.class_bit() & !m == 0
    }
    /// May it write `loc`?
    pub fn may_write(self, loc: Loc) -> bool {
        self.writes & loc.class_bit() != 0
    }
    /// May it read or write `loc`?
    pub fn may_access(self, loc: Loc) -> bool {
        (self.reads | self.writes) & loc.class_bit() != 0
    }
}

/// What a step did.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    /// A lock was taken (also on hand-off to a waiter: `tid` is the new holder).
    Acquire {
        /// Holder.
        tid: Tid,
        /// Lock.
        lock: Lock,
        /// For read.
        shared: bool,
    },
    /// A lock was released.
    Release {
        /// Former holder.
        tid: Tid,
        /// Lock.
        lock: Lock,
        /// Was held for read.
        shared: bool,
    },
    /// A thread went to sleep waiting for a lock.
    Block {
        /// Waiter.
        tid: Tid,
        /// Lock.
        lock: Lock,
    },
    /// A read or write of a modelled location; `freed` if its object was already freed.
    Access {
        /// Accessor.
        tid: Tid,
        /// Location.
        loc: Loc,
        /// Write (else read).
        write: bool,
        /// The object had been freed (use after free).
        freed: bool,
    },
    /// An atomic read-modify-write with full ordering (refcounts, `test_and_set_bit`).
    Atomic {
        /// Thread.
        tid: Tid,
        /// Location.
        loc: Loc,
    },
    /// An object was freed.
    Free {
        /// Thread.
        tid: Tid,
        /// What (`VmaObj`, `VmaPtes`, `MmArchPt` or `MmStruct`).
        loc: Loc,
    },
    /// The kernel would misbehave here (BUG_ON, refcount underflow, lock misuse).
    Fault {
        /// Thread.
        tid: Tid,
        /// The invariant it breaks.
        inv: Invariant,
        /// What.
        msg: String,
    },
}
