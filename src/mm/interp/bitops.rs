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

#[cfg(test)]
mod tests {
    use crate::mm::testutil::{one_path, run_thread, started};
    use crate::mm::types::{MmFlag, Role};
    use crate::mm::World;

    /// `test_and_set_bit` returns the old value and sets the bit; `clear_bit` clears it.
    #[test]
    fn test_and_set_bit_returns_the_old_value() {
        let prog = one_path(
            "list",
            "  if test_and_set_bit MMF_UNSTABLE {\n    return -EBUSY\n  }\n  if !test_and_set_bit MMF_UNSTABLE {\n    return -EINVAL\n  }\n  clear_bit MMF_UNSTABLE\n  if test_bit MMF_UNSTABLE {\n    return -EAGAIN\n  }\n  return 1",
        );
        let mut w = started(&prog, World::new(), &[Role::Exit]);
        run_thread(&prog, &mut w, 0);
        assert_eq!(w.threads[0].ret, 1);
        assert!(!w.mm.test(MmFlag::MMF_UNSTABLE));
    }
}
