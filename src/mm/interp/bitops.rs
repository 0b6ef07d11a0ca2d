//! `mm->flags` bit operations (`include/asm-generic/bitops/atomic.h` on the `MMF_*` bits of
//! `include/linux/sched/coredump.h`).

use super::{Cx, Exec};
use crate::mm::event::{Event, Loc};
use crate::mm::state::World;
use crate::mm::types::MmFlag;

/// `set_bit(FLAG, &mm->flags)`.
pub(super) fn set_bit(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>, f: MmFlag) -> Exec {
    let tid = cx.tid;
    w.access(tid, Loc::MmStruct, true, ev);
    w.mm.flags |= f.bit();
    Exec::Val(true)
}

/// `clear_bit(FLAG, &mm->flags)`.
pub(super) fn clear_bit(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>, f: MmFlag) -> Exec {
    let tid = cx.tid;
    w.access(tid, Loc::MmStruct, true, ev);
    w.mm.flags &= !f.bit();
    Exec::Val(true)
}

/// `test_bit(FLAG, &mm->flags)` — condition.
pub(super) fn test_bit(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>, f: MmFlag) -> Exec {
    let tid = cx.tid;
    w.access(tid, Loc::MmStruct, false, ev);
    Exec::Val(w.mm.test(f))
}

/// `test_and_set_bit(FLAG, &mm->flags)` — condition: it was set.
pub(super) fn test_and_set_bit(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>, f: MmFlag) -> Exec {
    let tid = cx.tid;
    w.atomic(tid, ev);
    let was = w.mm.test(f);
    w.mm.flags |= f.bit();
    Exec::Val(was)
}
