//! `/proc/PID/maps` (`fs/proc/task_mmu.c`): reading a VMA for its line.

use super::{Cx, Exec};
use crate::mm::event::{Event, Loc};
use crate::mm::state::World;

/// `show_map_vma(m, vma)`: one line of `/proc/PID/maps` from the cursor VMA's `vm_start`,
/// `vm_end`, `vm_flags`, `vm_pgoff` and `vm_file` (v6.1.20 fs/proc/task_mmu.c:274-346).
pub(super) fn show_map_vma(w: &mut World, cx: Cx<'_>, ev: &mut Vec<Event>) -> Exec {
    let tid = cx.tid;
    let Some(c) = w.cursor(tid, cx.prim, ev) else {
        return Exec::Val(true);
    };
    w.access(tid, Loc::VmaObj(c), false, ev);
    Exec::Val(true)
}
