//! [`Pack`] for the modelled state ([`World`] and what it holds) and for the names the
//! harness's oracles keep ([`Lock`], [`Loc`], [`Invariant`]).

use super::event::Loc;
use super::invariant::Invariant;
use super::state::{
    Frame, Freezer, Mm, Mutex, Rwsem, Sleep, Status, Task, Thread, Vma, VmaLock, World,
};
use super::types::{Lock, Role};
use crate::pack::{Pack, Reader};
use crate::{pack_enum, pack_struct};

pack_struct!(VmaLock {
    wlocked,
    readers,
    writers_waiting,
    detached,
    rcu_freed
});
pack_struct!(Vma {
    start,
    pages,
    flags,
    anon,
    resident,
    pt,
    pt_freed,
    live,
    unaccounted,
    next,
    parent,
    lock,
});
pack_struct!(Rwsem {
    readers,
    writer,
    waiters
});
pack_struct!(Mutex { owner, waiters });
pack_struct!(Mm {
    users,
    count,
    flags,
    mmap,
    tree,
    map_count,
    locked_vm,
    arch_pt,
    freed,
    lock,
    on_mmlist,
});
pack_struct!(Task {
    has_mm,
    memdie,
    memdie_thread,
    mm_threads,
    oom_mm,
    exiting,
    usage,
    alloc_lock,
});
pack_struct!(Frame {
    path,
    pc,
    vars,
    counters,
    ret,
    held
});
pack_struct!(Freezer {
    pf,
    frozen,
    frozen_stable,
    sleep,
    saved,
    woken
});
pack_struct!(Thread {
    role,
    frames,
    vma,
    mas_index,
    ret,
    count,
    nr_accounted,
    status,
    pins,
    grabs,
    task_refs,
    steps,
    frz,
    task_cursor,
    exited_mm,
    rcu,
});
/// Where each thread's encoding lies in the bytes a [`World`] was decoded from
/// ([`World::unpack_spans`]): what [`World::pack_reusing`] copies instead of encoding again.
pub type ThreadSpans = smallvec::SmallVec<[(u32, u32); 6]>;

/// A world decoded earlier: its threads, the bytes it was decoded from, and the threads' spans.
pub type Decoded<'a> = (&'a [Thread], &'a [u8], &'a ThreadSpans);

/// [`World`]'s encoding: every field but the threads (named here in declaration order,
/// each once; the destructuring names every field, so a new one does not compile until it is
/// listed), then the threads, each of which may be copied from a parent's bytes.
macro_rules! world_encoding {
    ($($f:ident),* $(,)?) => {
        impl World {
            /// [`Pack::pack`], copying the encoding of each thread equal to the same thread of
            /// `parent` from the parent's bytes (the encoding is canonical: equal values, equal
            /// bytes). The exhaustive search encodes each child of a state this way: a step
            /// changes one thread, seldom more.
            pub fn pack_reusing(&self, parent: Option<Decoded<'_>>, out: &mut Vec<u8>) {
                let World { $($f,)* threads } = self;
                $( $f.pack(out); )*
                crate::pack::put_uleb(out, threads.len() as u64);
                for (i, t) in threads.iter().enumerate() {
                    let same = parent.and_then(|(threads, bytes, spans)| {
                        let &(a, b) = spans.get(i)?;
                        (threads.get(i)? == t).then(|| &bytes[a as usize..b as usize])
                    });
                    match same {
                        Some(b) => out.extend_from_slice(b),
                        None => t.pack(out),
                    }
                }
            }

            /// [`Pack::unpack`], also setting `spans` to where each thread's bytes are
            /// (offsets in the reader's bytes).
            pub fn unpack_spans(r: &mut Reader<'_>, spans: &mut ThreadSpans) -> World {
                $( let $f = Pack::unpack(r); )*
                let n = r.uleb() as usize;
                spans.clear();
                let mut threads = Vec::with_capacity(n);
                for _ in 0..n {
                    let a = r.at() as u32;
                    threads.push(Thread::unpack(r));
                    spans.push((a, r.at() as u32));
                }
                World { $($f,)* threads }
            }
        }
    };
}

world_encoding!(
    mm,
    vmas,
    victim,
    oom_lock,
    oom_reaper_lock,
    committed,
    oom_reaper_list,
    oom_reaper_waiters,
    oom_victims,
    freezing_cnt,
    pm_freezing,
    pm_nosig_freezing,
    oom_killer_disabled,
    cgroup_frozen,
    freezer_lock,
    i_rwsem,
    frozen_claim,
    strict_window,
    fork_fail_at,
    fault_addr,
);

impl Pack for World {
    fn pack(&self, out: &mut Vec<u8>) {
        self.pack_reusing(None, out);
    }
    fn unpack(r: &mut Reader<'_>) -> Self {
        World::unpack_spans(r, &mut ThreadSpans::new())
    }
}

pack_enum!(Role, Role::ALL);
pack_enum!(Invariant, Invariant::ALL);

impl Pack for Status {
    fn pack(&self, out: &mut Vec<u8>) {
        out.push(match self {
            Status::Runnable => 0,
            Status::Blocked => 1,
            Status::Done => 2,
        });
    }
    fn unpack(r: &mut Reader<'_>) -> Self {
        match r.byte() {
            0 => Status::Runnable,
            1 => Status::Blocked,
            2 => Status::Done,
            b => panic!("packed Status {b}"),
        }
    }
}

impl Pack for Sleep {
    fn pack(&self, out: &mut Vec<u8>) {
        out.push(match self {
            Sleep::No => 0,
            Sleep::Frozen => 1,
            Sleep::Interruptible => 2,
            Sleep::Freezable => 3,
            Sleep::OomVictims { timeout: false } => 4,
            Sleep::OomVictims { timeout: true } => 5,
        });
    }
    fn unpack(r: &mut Reader<'_>) -> Self {
        match r.byte() {
            0 => Sleep::No,
            1 => Sleep::Frozen,
            2 => Sleep::Interruptible,
            3 => Sleep::Freezable,
            4 => Sleep::OomVictims { timeout: false },
            5 => Sleep::OomVictims { timeout: true },
            b => panic!("packed Sleep {b}"),
        }
    }
}

impl Pack for Lock {
    fn pack(&self, out: &mut Vec<u8>) {
        match *self {
            Lock::MmapLock => out.push(0),
            Lock::OomLock => out.push(1),
            Lock::OomReaperLock => out.push(2),
            Lock::TaskLock => out.push(3),
            Lock::FreezerLock => out.push(4),
            Lock::IRwsem => out.push(5),
            Lock::Ptl(v) => out.extend_from_slice(&[6, v]),
            Lock::VmLock(v) => out.extend_from_slice(&[7, v]),
        }
    }
    fn unpack(r: &mut Reader<'_>) -> Self {
        match r.byte() {
            0 => Lock::MmapLock,
            1 => Lock::OomLock,
            2 => Lock::OomReaperLock,
            3 => Lock::TaskLock,
            4 => Lock::FreezerLock,
            5 => Lock::IRwsem,
            6 => Lock::Ptl(r.byte()),
            7 => Lock::VmLock(r.byte()),
            b => panic!("packed Lock {b}"),
        }
    }
}

impl Pack for Loc {
    fn pack(&self, out: &mut Vec<u8>) {
        match *self {
            Loc::VmaObj(v) => out.extend_from_slice(&[0, v]),
            Loc::VmaFlags(v) => out.extend_from_slice(&[1, v]),
            Loc::VmaPtes(v) => out.extend_from_slice(&[2, v]),
            Loc::MmMmap => out.push(3),
            Loc::MmTree => out.push(4),
            Loc::MmLockedVm => out.push(5),
            Loc::MmArchPt => out.push(6),
            Loc::MmStruct => out.push(7),
        }
    }
    fn unpack(r: &mut Reader<'_>) -> Self {
        match r.byte() {
            0 => Loc::VmaObj(r.byte()),
            1 => Loc::VmaFlags(r.byte()),
            2 => Loc::VmaPtes(r.byte()),
            3 => Loc::MmMmap,
            4 => Loc::MmTree,
            5 => Loc::MmLockedVm,
            6 => Loc::MmArchPt,
            7 => Loc::MmStruct,
            b => panic!("packed Loc {b}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::unpack_all;

    #[test]
    fn variant_tables_are_in_declaration_order() {
        for (i, r) in Role::ALL.iter().enumerate() {
            assert_eq!(*r as usize, i, "{}", r.name());
        }
        for (i, v) in Invariant::ALL.iter().enumerate() {
            assert_eq!(*v as usize, i, "{}", v.name());
        }
    }

    #[test]
    fn a_world_with_vmas_round_trips() {
        let mut w = World::new();
        let a = w.setup_mmap(4, 0, true).unwrap();
        w.setup_mmap(2, 0, false).unwrap();
        w.setup_fault(a).unwrap();
        w.setup_oom_kill().unwrap();
        let mut b = Vec::new();
        w.pack(&mut b);
        assert_eq!(unpack_all::<World>(&b), w);
        for l in [Lock::MmapLock, Lock::Ptl(3), Lock::VmLock(1), Lock::IRwsem] {
            b.clear();
            l.pack(&mut b);
            assert_eq!(unpack_all::<Lock>(&b), l);
        }
        for l in [Loc::VmaPtes(2), Loc::MmStruct, Loc::MmTree] {
            b.clear();
            l.pack(&mut b);
            assert_eq!(unpack_all::<Loc>(&b), l);
        }
    }
}
