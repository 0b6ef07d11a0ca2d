//! Counterexamples written the way they are posted to a list, every line at most [`WIDTH`]
//! columns. The default report is a commit message's race diagram: one column per CPU that
//! takes part, the kernel source of the steps that matter (lock operations, the flag tests
//! and sets, frees, the access that breaks, the first and last step of each numbered step;
//! the rest folded as `...`), the mechanism (a proxy invariant: I4's stale head, I2's reader
//! discipline) and the harm marked where they happen, then a paragraph in words and the
//! broken invariants with the state they are about. [`Detail::Full`] lists every model step
//! instead, one line each, with the locks held and the flags that changed.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use mmfuzz::mm::program::Insn;
use mmfuzz::mm::state::World;
use mmfuzz::mm::types::vm;
use mmfuzz::mm::{show_mm_flags, Event, Invariant, Loc, Lock, Prim, Program, Role, VmaStore};

use super::exec::{self, run, setup, Opts, Outcome, TraceStep};
use super::oracle::{freezer_flags, when_stuck, Oracle, Stuck, Violation};
use super::scenario::{Scenario, Setup};

/// Widest line of a text report (columns, counted in characters).
pub const WIDTH: usize = 80;

/// Longest text a diagram column is laid out for; a longer step wraps.
const COLUMN_TEXT: usize = 48;

/// How much a report shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Detail {
    /// The race diagram of the steps that matter (`mmfuzz explain`).
    #[default]
    Diagram,
    /// Every model step, one line each, and the numbered steps in short
    /// (`mmfuzz explain --full`).
    Full,
}

/// The locks as the report writes them: `mmap_lock(R)`, `oom_lock`, … (`-` for none).
pub(crate) fn locks(held: &[(Lock, bool)]) -> String {
    if held.is_empty() {
        return "-".into();
    }
    held.iter()
        .map(|(l, shared)| match l {
            Lock::MmapLock => format!("mmap_lock({})", if *shared { "R" } else { "W" }),
            other => other.name(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The primitive of a step (`None` for a step `prog` does not have).
fn prim_of(prog: &Program, s: &TraceStep) -> Option<Prim> {
    let code = prog.paths.get(s.at.0 as usize)?;
    match code.insns.get(s.at.1 as usize) {
        Some(Insn::Step(p) | Insn::Test(p, _, _)) => Some(*p),
        _ => None,
    }
}

/// The path (kernel function) of a step, `?` if `prog` does not have it.
fn path_of<'a>(prog: &'a Program, s: &TraceStep) -> &'a str {
    prog.paths
        .get(s.at.0 as usize)
        .map_or("?", |c| c.name.as_str())
}

/// A step as `path: primitive` with its value, in the model's words; `?` for a step `prog`
/// does not have.
pub(crate) fn step_text(prog: &Program, s: &TraceStep) -> String {
    let Some(code) = prog.paths.get(s.at.0 as usize) else {
        return "?".into();
    };
    let Some(prim) = prim_of(prog, s) else {
        return format!("{}: ?", code.name);
    };
    let mut t = format!("{}: {}", code.name, prim.name());
    match s.value {
        None => t.push_str(" (waits)"),
        Some(v) if prim.is_cond() => t.push_str(if v { " → true" } else { " → false" }),
        Some(_) => {}
    }
    t
}

/// A step in kernel source terms ([`Prim::kernel_text`]) with what it gave or did as a
/// comment: `test_bit(MMF_OOM_SKIP, &mm->flags)  /* false */`,
/// `vma = remove_vma(vma)  /* frees vma0 */`, `mmap_write_lock(mm)  /* waits */`.
pub fn kernel_step(prog: &Program, s: &TraceStep) -> String {
    let Some(prim) = prim_of(prog, s) else {
        return format!("{}: ?", path_of(prog, s));
    };
    let mut text = prim.kernel_text(prog.store() == VmaStore::Maple);
    let mut notes: Vec<String> = Vec::new();
    // A text that ends in a comment of its own (`schedule() /* frozen */`) gets one comment.
    if let Some(at) = text.rfind(" /* ").filter(|_| text.ends_with(" */")) {
        notes.push(text[at + 4..text.len() - 3].to_string());
        text.truncate(at);
    }
    match s.value {
        None => notes.push("waits".into()),
        Some(v) if prim.is_cond() => notes.push(v.to_string()),
        Some(_) => {}
    }
    let frees: BTreeSet<Loc> = s
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Free { loc, .. } => Some(*loc),
            _ => None,
        })
        .collect();
    if !frees.is_empty() {
        let names: Vec<String> = frees.iter().map(|l| l.name()).collect();
        notes.push(format!("frees {}", names.join(", ")));
    }
    if !notes.is_empty() {
        let _ = write!(text, "  /* {} */", notes.join("; "));
    }
    text
}

/// Word-wrap `s` at `width` characters (a longer word keeps its own line).
pub(crate) fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for w in s.split(' ') {
        if !cur.is_empty() && cur.chars().count() + 1 + w.chars().count() > width {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(w);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Word-wrap, then break any word still longer than `width` (after a `|`, `,` or `(` when
/// it can).
pub(crate) fn wrap_hard(s: &str, width: usize) -> Vec<String> {
    let width = width.max(4);
    let mut out = Vec::new();
    for line in wrap(s, width) {
        let mut rest: Vec<char> = line.chars().collect();
        while rest.len() > width {
            let cut = rest[..width]
                .iter()
                .rposition(|&c| matches!(c, '|' | ' ' | ',' | '('))
                .filter(|&i| i > width / 2)
                .map_or(width, |i| i + 1);
            out.push(
                rest[..cut]
                    .iter()
                    .collect::<String>()
                    .trim_end()
                    .to_string(),
            );
            rest.drain(..cut);
        }
        out.push(rest.into_iter().collect());
    }
    out
}

/// `text` wrapped to [`WIDTH`]: the first line after `first`, the others after `next`
/// (both prefixes counted in the width).
fn wrap_lines(text: &str, first: &str, next: &str) -> Vec<String> {
    let room = WIDTH.saturating_sub(first.chars().count().max(next.chars().count()));
    wrap_hard(text, room)
        .into_iter()
        .enumerate()
        .map(|(i, l)| format!("{}{l}", if i == 0 { first } else { next }))
        .collect()
}

/// `text` wrapped to [`WIDTH`] (see [`wrap_lines`]); nothing for empty text.
pub fn wrap_text(text: &str, first: &str, next: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .flat_map(|l| wrap_lines(l, first, next))
        .map(|l| l.trim_end().to_string())
        .collect()
}

/// Push `text` wrapped (see [`wrap_lines`]) onto `r`, one line each.
fn put(r: &mut String, text: &str, first: &str, next: &str) {
    for l in wrap_lines(text, first, next) {
        let _ = writeln!(r, "{}", l.trim_end());
    }
}

/// The `key=value` tokens of `now` that differ from `before` (all of them when there is none).
pub(crate) fn changed(before: Option<&str>, now: &str) -> String {
    let Some(before) = before else {
        return now.to_string();
    };
    let old: BTreeSet<&str> = before.split(' ').collect();
    now.split(' ')
        .filter(|t| !old.contains(t))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Describe the set-up in one line per operation.
pub(crate) fn setup_lines(sc: &Scenario) -> Vec<String> {
    let mut w = World::new();
    let mut out = Vec::new();
    for op in &sc.setup {
        let before = w.vmas.len();
        let _ = setup(&mut w, std::slice::from_ref(op));
        out.push(match op {
            Setup::Mmap { .. } if w.vmas.len() > before => {
                let v = &w.vmas[before];
                let kind = if v.anon { "anon" } else { "file" };
                let flags = match v.flags {
                    0 => String::new(),
                    f => format!("{} ", vm::show(f)),
                };
                format!(
                    "mmap vma{before} [{:#x}, {:#x}) {flags}{kind}",
                    v.start,
                    v.end()
                )
            }
            Setup::Fault { vma } => format!("fault in vma{vma}"),
            Setup::Mlock { vma } => format!("mlock vma{vma}"),
            Setup::Munmap { vma } => format!("munmap vma{vma}"),
            Setup::OomKill => "OOM kill: mark_oom_victim(victim) (TIF_MEMDIE, signal->oom_mm, MMF_OOM_VICTIM), SIGKILL, queued for the oom_reaper".into(),
            Setup::Kill => "SIGKILL to the victim".into(),
            Setup::CgroupFreeze => "cgroup v1 freezer: the victim's cgroup FROZEN (freezer.state), not thawed".into(),
            Setup::ForkFails { vma } => format!("fork: dup_mmap fails at the parent's VMA {vma} in address order (a fatal signal or -ENOMEM there; past the last VMA, arch_dup_mmap fails). The VMAs mapped above are the parent's; the threads share the child's mm"),
            other => format!("{other:?}"),
        });
    }
    if !sc.setup.iter().any(|op| matches!(op, Setup::Mmap { .. })) {
        out.insert(
            0,
            "no VMA: an empty mm (dup_mmap() failed before copying one)".into(),
        );
    }
    out
}

/// A thread's name in a report: the task, or the entry point where that says more
/// (`process_mrelease`, `pm_suspend`).
pub fn thread_name(role: Role) -> &'static str {
    match role {
        Role::Mrelease
        | Role::Pm
        | Role::Proc
        | Role::Holder
        | Role::Swapoff
        | Role::Maps
        | Role::Ptrace
        | Role::Fork => role.entry(),
        other => other.task(),
    }
}

/// `CPUk (name)`; a role that has several threads numbers them (`out_of_memory/2`).
fn cpu(roles: &[Role], t: usize) -> String {
    match roles.get(t) {
        Some(&r) => format!("CPU{t} ({}{})", thread_name(r), instance(roles, t)),
        None => format!("CPU{t} (?)"),
    }
}

/// `/k` when thread `t`'s role has several threads (it is the k-th), else nothing.
fn instance(roles: &[Role], t: usize) -> String {
    let r = roles[t];
    if roles.iter().filter(|&&x| x == r).count() < 2 {
        return String::new();
    }
    let k = roles[..t].iter().filter(|&&x| x == r).count() + 1;
    format!("/{k}")
}

/// The numbered step of each model step (1-based): consecutive steps of one thread are one
/// numbered step.
fn numbered(trace: &[TraceStep]) -> Vec<usize> {
    let mut k = 0;
    trace
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if i == 0 || trace[i - 1].tid != s.tid {
                k += 1;
            }
            k
        })
        .collect()
}

/// The run replayed step by step: each step's call stack (path indices, outermost first),
/// the world after the steps asked for, and whether the last step broke an invariant itself
/// (as opposed to a check after the run).
struct Replay {
    stacks: Vec<Vec<u16>>,
    worlds: Vec<(usize, World)>,
    last_step_broke: bool,
}

/// Replay `out`'s trace on `sc`'s set-up (the same threads in the same order, with the same
/// checks as [`exec::run`]); keep the world after each model step in `keep` (1-based). Stops
/// quietly where the trace does not fit the program.
fn replay(prog: &Program, sc: &Scenario, out: &Outcome, keep: &[usize]) -> Replay {
    let mut r = Replay {
        stacks: Vec::new(),
        worlds: Vec::new(),
        last_step_broke: false,
    };
    let Ok((_, mut world)) = exec::start(prog, &sc.setup, &sc.threads) else {
        return r;
    };
    let mut oracle = Oracle::new(world.threads.len());
    oracle.races = true;
    let mut ev = Vec::new();
    for (i, s) in out.trace.iter().enumerate() {
        while world.runnable().next().is_none() {
            if !matches!(when_stuck(prog, &mut world, &mut ev), Stuck::Fired) {
                break;
            }
        }
        let t = s.tid as usize;
        if t >= world.threads.len() || world.next_insn(s.tid) != Some(s.at) {
            break;
        }
        r.stacks
            .push(world.threads[t].frames.iter().map(|f| f.path).collect());
        let c = exec::step_checked(prog, &mut world, &mut oracle, s.tid, &mut ev);
        if keep.contains(&(i + 1)) {
            r.worlds.push((i + 1, world.clone()));
        }
        if i + 1 == out.trace.len() {
            r.last_step_broke = c.violation.is_some();
        }
    }
    r
}

/// The state an invariant is about, after a step: where the VMA walk starts (`mm->mmap ->
/// vma0 (freed)`, `mm->mm_mt: vma0 (freed), vma1`), `mm->flags` and `mm_users`; for a
/// suspend config, the freezer's flags and the OOM killer's.
pub fn state_lines(prog: &Program, world: &World) -> Vec<String> {
    let vma = |v: u8| match world.vmas.get(v as usize) {
        None => "XA_ZERO_ENTRY".into(),
        Some(x) if !x.live => format!("vma{v} (freed)"),
        Some(x) if x.parent => format!("vma{v} (the parent's)"),
        Some(_) => format!("vma{v}"),
    };
    let head = match prog.store() {
        VmaStore::List => match world.mm.mmap {
            Some(v) => format!("mm->mmap -> {}", vma(v)),
            None => "mm->mmap = NULL".into(),
        },
        VmaStore::Maple => {
            let e: Vec<String> = world
                .mm
                .tree
                .entries()
                .into_iter()
                .map(|(_, _, v)| vma(v))
                .collect();
            if e.is_empty() {
                "mm->mm_mt empty".into()
            } else {
                format!("mm->mm_mt -> {}", e.join(", "))
            }
        }
    };
    let mm = vec![
        head,
        format!("mm->flags = {}", show_mm_flags(world.mm.flags)),
        format!("mm_users = {}", world.mm.users),
    ];
    if prog.entry(Role::Pm).is_some() {
        freezer_flags(world)
            .split(' ')
            .map(str::to_string)
            .chain(mm.into_iter().skip(1))
            .collect()
    } else {
        mm
    }
}

/// What the report marks: the mechanism's model step (0-based) and violation, the harm's
/// model step (0-based; `None` when a check after the run found it), and the worlds after
/// them.
struct Marks<'a> {
    mechanism: Option<(usize, &'a Violation)>,
    harm: Option<usize>,
    replay: Replay,
}

impl<'a> Marks<'a> {
    fn of(prog: &Program, sc: &Scenario, out: &'a Outcome) -> Self {
        let mech = out
            .mechanism
            .as_ref()
            .filter(|m| m.step >= 1 && m.step <= out.trace.len());
        let mut keep = vec![out.trace.len()];
        if let Some(m) = mech {
            keep.push(m.step);
        }
        let replay = replay(prog, sc, out, &keep);
        let harm = (out.violation.is_some() && replay.last_step_broke).then(|| out.trace.len() - 1);
        Marks {
            mechanism: mech.map(|m| (m.step - 1, &m.violation)),
            harm,
            replay,
        }
    }

    /// The world after model step `i` (0-based), if replayed.
    fn world_after(&self, i: usize) -> Option<&World> {
        self.replay
            .worlds
            .iter()
            .find(|(s, _)| *s == i + 1)
            .map(|(_, w)| w)
    }
}

/// What a picture marks beside the harm (its last step): the mechanism's model step
/// (0-based), violation and marker text, and the state each of the mechanism and the harm
/// is about ([`state_lines`]).
pub(crate) struct Marked {
    pub mechanism: Option<(usize, Violation, String)>,
    pub mechanism_state: Vec<String>,
    pub harm_state: Vec<String>,
}

/// [`Marked`] for an executed, recorded run of `sc`.
pub(crate) fn marked(prog: &Program, sc: &Scenario, out: &Outcome) -> Marked {
    let marks = Marks::of(prog, sc, out);
    let mechanism = marks.mechanism.map(|(i, v)| {
        let note = mechanism_note(prog, v, marks.world_after(i));
        let note = note.trim_start_matches("<-- ").to_string();
        (i, v.clone(), note)
    });
    let state = |i: Option<usize>| {
        i.and_then(|i| marks.world_after(i))
            .map(|w| state_lines(prog, w))
            .unwrap_or_default()
    };
    let harm = out
        .violation
        .as_ref()
        .and_then(|_| out.trace.len().checked_sub(1));
    Marked {
        mechanism_state: state(mechanism.as_ref().map(|m| m.0)),
        harm_state: state(harm),
        mechanism,
    }
}

/// A few words for an invariant, for markers (`<-- I5: use after free`).
fn short(inv: Invariant) -> &'static str {
    match inv {
        Invariant::I1 => "page tables freed under a reader",
        Invariant::I2 => "VMA walk not ordered by mmap_lock",
        Invariant::I3 => "MMF_OOM_SKIP not set before the barrier",
        Invariant::I4 => "stale VMA head after unlock",
        Invariant::I5 => "use after free",
        Invariant::I6 => "XA_ZERO marker crossed",
        Invariant::I7 => "map_count or accounting off",
        Invariant::I8 => "refcount",
        Invariant::I9 => "oom_reaper_list corrupted",
        Invariant::I10 => "lock imbalance",
        Invariant::I11 => "oom_victims count off",
        Invariant::I12 => "OOM victim not frozen",
        Invariant::I12s => "user task runs after freeze",
        Invariant::I13 => "reaper frozen too early",
        Invariant::I14 => "per-VMA lock rule broken",
        Invariant::I15 => "freed under an RCU reader",
        Invariant::Race => "data race",
        Invariant::LockOrder => "lock order inversion",
        Invariant::Deadlock => "deadlock",
        Invariant::Liveness => "no progress",
        Invariant::Reference => "end state differs",
    }
}

/// Why a broken invariant matters, in a sentence.
fn why(inv: Invariant) -> &'static str {
    match inv {
        Invariant::I1 => "Freeing page tables under a walker is a use after free of page-table pages: the walker reads or clears entries of pages that may already be reused.",
        Invariant::I2 => "The reaper's walk is ordered against the VMAs' writers by mmap_lock alone: without it, it reads VMAs that exit_mmap() is changing or freeing.",
        Invariant::I3 => "A reader that tests MMF_OOM_SKIP under the lock may still walk the VMAs that are being freed.",
        Invariant::I4 => "Any reader that takes mmap_lock after this and does not stop at MMF_OOM_SKIP walks freed VMAs.",
        Invariant::I5 => "Reading a freed vm_area_struct is a use after free (a KASAN report); once the memory is reused, the walk follows garbage and may zap pages of another mm.",
        Invariant::I6 => "XA_ZERO_ENTRY is not a VMA (dereferencing it faults on address 0x406), and the entries past it are still the parent's VMAs: a walker of the child's mm treats both as the child's.",
        Invariant::I7 => "The counts no longer match the VMAs: BUG_ON() in exit_mmap(), or committed memory leaked.",
        Invariant::I8 => "A refcount that underflows or leaks frees an object in use or never frees it.",
        Invariant::I9 => "A corrupted oom_reaper_list loses victims or reaps one twice.",
        Invariant::I10 => "A lock left held (or released twice) hangs the next taker.",
        Invariant::I11 => "oom_victims no longer counts the victims: oom_killer_disable() waits forever or returns too early.",
        Invariant::I12 => "oom_killer_disable() promised that no OOM victim runs once user space is frozen; suspend goes on while the victim may still run and do I/O.",
        Invariant::I12s => "A user task runs between freeze_processes() returning 0 and freeze_kernel_threads(), in the window the suspend path treats as frozen.",
        Invariant::I13 => "A freezable kthread frozen before pm_nosig_freezing cannot do the work suspend still waits for.",
        Invariant::I14 => "A page fault that holds only the VMA's own lock relies on every writer write-locking the VMA before changing it, and on re-checking that the VMA it locked is still the one in the tree; otherwise it fills page tables that munmap is freeing.",
        Invariant::I15 => "A lockless reader relies on RCU: what it can reach inside rcu_read_lock stays allocated until a grace period has passed.",
        Invariant::Race => "Two CPUs access the same field with no ordering between them: the reader may see a torn or stale value.",
        Invariant::LockOrder => "Two paths take the same locks in opposite orders: a deadlock waiting for the right timing.",
        Invariant::Deadlock => "Every thread left waits for another: the system hangs.",
        Invariant::Liveness => "A thread never gets past this point: the operation hangs.",
        Invariant::Reference => "The end state differs from what the reference state machine allows.",
    }
}

/// The marker after the mechanism's step: `<-- I4: mm->mmap still points at freed vma0`.
fn mechanism_note(prog: &Program, v: &Violation, world: Option<&World>) -> String {
    let freed = |x: u8| world.is_some_and(|w| w.vmas.get(x as usize).is_some_and(|y| !y.live));
    let what = match (v.inv, world) {
        (Invariant::I4, Some(w)) => match prog.store() {
            VmaStore::List => {
                w.mm.mmap
                    .filter(|&x| freed(x))
                    .map(|x| format!("mm->mmap still points at freed vma{x}"))
            }
            VmaStore::Maple => {
                w.mm.tree
                    .entries()
                    .into_iter()
                    .map(|(_, _, x)| x)
                    .find(|&x| freed(x))
                    .map(|x| format!("mm->mm_mt still holds freed vma{x}"))
            }
        },
        (Invariant::I2, _) => v
            .msg
            .split_once(" touches ")
            .and_then(|(_, rest)| rest.split_once(" outside"))
            .map(|(loc, _)| format!("{loc} read without mmap_lock")),
        _ => None,
    };
    format!(
        "<-- {}: {}",
        v.inv,
        what.unwrap_or_else(|| short(v.inv).to_string())
    )
}

/// The marker after the harm's step: `<-- I5: use after free of vma0->vm_flags`.
fn harm_note(v: &Violation, s: Option<&TraceStep>) -> String {
    let uaf = s.and_then(|s| {
        s.events.iter().find_map(|e| match e {
            Event::Access {
                loc, freed: true, ..
            } => Some(*loc),
            _ => None,
        })
    });
    let race = v
        .msg
        .strip_prefix("data race on ")
        .and_then(|m| m.split_once(':'))
        .map(|(loc, _)| loc);
    match (uaf, race) {
        (Some(loc), _) => format!("<-- {}: use after free of {}", v.inv, loc.name()),
        (None, Some(loc)) => format!("<-- {}: data race on {loc}", v.inv),
        _ => format!("<-- {}: {}", v.inv, short(v.inv)),
    }
}

/// Whether a step is one the diagram shows for itself (the first and last step of each
/// numbered step and the marked ones are shown anyway): an `mmap_lock` operation, one on
/// another lock that another thread of the trace also takes, a free, a use after free, a wait, a change of the flags
/// that matter, a condition that decides a branch, or a step that is not bookkeeping.
fn matters(prog: &Program, s: &TraceStep, prev_flags: Option<&str>, shared: &[Lock]) -> bool {
    let Some(prim) = prim_of(prog, s) else {
        return true;
    };
    let lock_op = s.events.iter().any(|e| match e {
        Event::Acquire { lock, .. } | Event::Release { lock, .. } | Event::Block { lock, .. } => {
            *lock == Lock::MmapLock || shared.contains(lock)
        }
        Event::Free { .. } | Event::Fault { .. } => true,
        Event::Access { freed, .. } => *freed,
        Event::Atomic { .. } => false,
    });
    if lock_op || s.value.is_none() || prev_flags.is_some_and(|p| p != s.flags) {
        return true;
    }
    let bookkeeping = prim.info().local
        || matches!(
            prim,
            Prim::vma_first
                | Prim::vma_next
                | Prim::vma_test(_)
                | Prim::vma_is_anon_or_private
                | Prim::acct_vma
                | Prim::unmap_single_vma
                | Prim::unmap_page_range
                | Prim::munlock_vma
                | Prim::munlock_vma_pages
                | Prim::locked_vm
                | Prim::arch_exit_mmap
                | Prim::vm_unacct_memory
                | Prim::task_first
                | Prim::task_next
                | Prim::mm_has_notifiers
                | Prim::bug_on_map_count
                | Prim::oom_reaper_list_empty
                | Prim::frozen_current
                | Prim::get_task_struct
                | Prim::put_task_struct
                | Prim::task_lock
                | Prim::task_unlock
                | Prim::mutex_lock(_)
                | Prim::mutex_unlock(_)
                | Prim::spin_lock(_)
                | Prim::spin_unlock(_)
                | Prim::mmap_read_lock
                | Prim::mmap_read_unlock
                | Prim::mmap_write_lock
                | Prim::mmap_write_unlock
        );
    !bookkeeping
}

/// The locks (any mode) that two or more threads of the trace take.
fn shared_locks(trace: &[TraceStep]) -> Vec<Lock> {
    let mut by: Vec<(Lock, BTreeSet<u8>)> = Vec::new();
    for s in trace {
        for e in &s.events {
            if let Event::Acquire { tid, lock, .. } | Event::Block { tid, lock } = e {
                if matches!(lock, Lock::Ptl(_)) {
                    continue;
                }
                match by.iter_mut().find(|(l, _)| l == lock) {
                    Some((_, ts)) => {
                        ts.insert(*tid);
                    }
                    None => by.push((*lock, BTreeSet::from([*tid]))),
                }
            }
        }
    }
    by.into_iter()
        .filter(|(_, ts)| ts.len() > 1)
        .map(|(l, _)| l)
        .collect()
}

/// One line of a diagram, before layout.
#[derive(Clone, Debug)]
struct Item {
    tid: usize,
    depth: usize,
    text: String,
    note: Option<String>,
    /// A call line (`exit_mmap()`), not a step.
    call: bool,
    /// The numbered step this line starts (its first line only).
    group: Option<usize>,
}

/// The arguments a call line shows for the kernel functions the built-in paths model
/// (`exit_mmap(mm)`); `()` for the others.
fn call_args(path: &str) -> &'static str {
    match path {
        "exit_mmap" | "mmput" | "__mmput" | "__oom_reap_task_mm" => "(mm)",
        "oom_reap_task_mm" => "(tsk, mm)",
        "oom_reap_task" | "__oom_reap_task" | "wake_oom_reaper" | "queue_oom_reaper" => "(tsk)",
        "out_of_memory" => "(oc)",
        "__refrigerator" => "(false)",
        "try_to_freeze_tasks" => "(true)",
        "do_exit" => "(code)",
        _ => "()",
    }
}

/// Most levels of call a diagram indents.
const MAX_DEPTH: usize = 3;

/// The diagram's lines: per model step kept, its kernel text at its call depth (with the
/// call lines of the functions it entered), the rest folded as `...`.
fn items(prog: &Program, out: &Outcome, marks: &Marks<'_>) -> Vec<Item> {
    let trace = &out.trace;
    let groups = numbered(trace);
    let shared = shared_locks(trace);
    let keep: Vec<bool> = (0..trace.len())
        .map(|i| {
            let boundary = i == 0
                || i + 1 == trace.len()
                || trace[i - 1].tid != trace[i].tid
                || trace[i + 1].tid != trace[i].tid;
            let marked = marks.mechanism.is_some_and(|(m, _)| m == i) || marks.harm == Some(i);
            let prev = i.checked_sub(1).map(|p| trace[p].flags.as_str());
            boundary || marked || matters(prog, &trace[i], prev, &shared)
        })
        .collect();
    // Each line with whether it is kept; calls are kept when a step inside them is.
    let mut raw: Vec<(Item, bool)> = Vec::new();
    let mut last_stack: Vec<Option<&[u16]>> = Vec::new();
    for (i, s) in trace.iter().enumerate() {
        let t = s.tid as usize;
        if last_stack.len() <= t {
            last_stack.resize(t + 1, None);
        }
        let stack = marks.replay.stacks.get(i).map(Vec::as_slice);
        let group = (i == 0 || trace[i - 1].tid != s.tid).then_some(groups[i]);
        let mut first_group = group;
        if let Some(st) = stack {
            let prev = last_stack[t].unwrap_or(&st[..1.min(st.len())]);
            let common = st.iter().zip(prev).take_while(|(a, b)| a == b).count();
            for (d, p) in st.iter().enumerate().skip(common.max(1)) {
                let name = prog.paths.get(*p as usize).map_or("?", |c| c.name.as_str());
                raw.push((
                    Item {
                        tid: t,
                        depth: d - 1,
                        text: format!("{name}{}", call_args(name)),
                        note: None,
                        call: true,
                        group: first_group.take(),
                    },
                    false,
                ));
            }
            last_stack[t] = Some(st);
        }
        let mut notes = Vec::new();
        if let Some((m, v)) = marks.mechanism {
            if m == i {
                notes.push(mechanism_note(prog, v, marks.world_after(i)));
            }
        }
        if marks.harm == Some(i) {
            if let Some(v) = &out.violation {
                notes.push(harm_note(v, Some(s)));
            }
        }
        raw.push((
            Item {
                tid: t,
                depth: stack.map_or(0, |st| st.len().saturating_sub(1)),
                text: kernel_step(prog, s),
                note: (!notes.is_empty()).then(|| notes.join(" ")),
                call: false,
                group: first_group,
            },
            keep[i],
        ));
    }
    // A call line is kept when a kept step follows it before its thread leaves the call.
    for k in (0..raw.len()).rev() {
        if raw[k].1 || !raw[k].0.call {
            continue;
        }
        let (t, d) = (raw[k].0.tid, raw[k].0.depth);
        let inside = raw[k + 1..]
            .iter()
            .filter(|(it, _)| it.tid == t)
            .take_while(|(it, _)| it.depth > d)
            .any(|(_, kept)| *kept);
        raw[k].1 = inside;
    }
    // Fold each run of lines not kept (of one thread) into one `...`.
    let mut items: Vec<Item> = Vec::new();
    let mut folding = false;
    for (it, kept) in raw {
        if kept {
            folding = false;
            items.push(it);
        } else if folding && items.last().is_some_and(|l| l.tid == it.tid) {
            let last = items.last_mut().expect("a line");
            last.depth = last.depth.min(it.depth);
            if last.group.is_none() {
                last.group = it.group;
            }
        } else {
            folding = true;
            items.push(Item {
                text: "...".into(),
                note: None,
                call: false,
                ..it
            });
        }
    }
    items
}

/// Where the lanes of a side-by-side diagram start (columns after the gutter), and whether
/// each header takes two lines (`CPU0` over `(victim)`).
struct Columns {
    x: Vec<usize>,
    split: bool,
}

/// An item's lines at column `col` (after the gutter `lead` and `cont` strings): its text
/// wrapped, a trailing `/* comment */` kept whole on a line of its own when the text does not
/// fit, and its marker after it or under it.
fn item_lines(it: &Item, lead: &str, cont: &str) -> Vec<String> {
    let room = WIDTH.saturating_sub(cont.chars().count());
    let mut body = if lead.chars().count() + it.text.chars().count() <= WIDTH {
        vec![format!("{lead}{}", it.text)]
    } else {
        match it.text.split_once("  /* ") {
            Some((code, comment)) => {
                let mut b = wrap_lines(code, lead, cont);
                let comment = format!("/* {comment}");
                if b.len() == 1 && b[0].chars().count() + 2 + comment.chars().count() <= WIDTH {
                    b[0] = format!("{}  {comment}", b[0]);
                } else {
                    b.extend(wrap_lines(&comment, cont, &format!("{cont}   ")));
                }
                b
            }
            None => wrap_lines(&it.text, lead, cont),
        }
    };
    if let Some(note) = &it.note {
        let last = body.last_mut().expect("a line");
        if last.chars().count() + 2 + note.chars().count() <= WIDTH {
            last.push_str("  ");
            last.push_str(note);
        } else {
            let at = if room < 30 {
                " ".repeat(WIDTH.saturating_sub(note.chars().count().max(30)))
            } else {
                cont[..cont.len() - 2].to_string()
            };
            body.extend(wrap_lines(note, &at, &format!("{at}    ")));
        }
    }
    body
}

/// The race diagram, every line at most [`WIDTH`] columns: side by side when the lanes'
/// headers fit (on one line each, or on two when that wraps fewer steps), else one block per
/// numbered step.
fn diagram(items: &[Item], roles: &[Role]) -> Vec<String> {
    let lanes: Vec<usize> = items
        .iter()
        .map(|i| i.tid)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if lanes.is_empty() {
        // No thread took a step (a violation at the start, e.g. a mutant's set-up).
        return vec!["  (no thread took a step)".to_string()];
    }
    let last_group = items.iter().filter_map(|i| i.group).max().unwrap_or(0);
    let gutter = last_group.to_string().len() + 1;
    let avail = WIDTH - gutter;
    let heads: Vec<String> = lanes.iter().map(|&t| cpu(roles, t)).collect();
    let pos = |t: usize| lanes.iter().position(|&l| l == t).unwrap_or(0);
    let indent = |it: &Item| 2 * it.depth.min(MAX_DEPTH);
    // The longest text of each lane, up to a column's worth.
    let need: Vec<usize> = lanes
        .iter()
        .map(|&t| {
            items
                .iter()
                .filter(|i| i.tid == t)
                .map(|i| indent(i) + i.text.chars().count().min(COLUMN_TEXT))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let layout = |widths: Vec<usize>, split: bool| -> Option<Columns> {
        let n = widths.len();
        if widths.iter().sum::<usize>() > avail + 2 {
            return None;
        }
        let mut x = vec![0usize; n];
        for p in 1..n {
            x[p] = x[p - 1] + widths[p - 1];
        }
        let spare = avail.saturating_sub(x[n - 1] + widths[n - 1] - 2);
        let mut extra = if n > 1 { spare / (n - 1) } else { 0 };
        for (p, &xp) in x.iter().enumerate().skip(1) {
            extra = extra.min(avail.saturating_sub(xp + need[p]) / p);
        }
        for (p, xp) in x.iter_mut().enumerate() {
            *xp += p * extra;
        }
        Some(Columns { x, split })
    };
    let wraps = |c: &Columns| {
        items
            .iter()
            .filter(|i| c.x[pos(i.tid)] + indent(i) + i.text.chars().count() > avail)
            .count()
    };
    let one = layout(heads.iter().map(|h| h.chars().count() + 2).collect(), false);
    let two = layout(
        lanes
            .iter()
            .zip(&heads)
            .map(|(&t, h)| {
                let cpu = format!("CPU{t}").len();
                (h.chars().count() - cpu - 1).max(cpu) + 2
            })
            .collect(),
        true,
    );
    let cols = match (one, two) {
        // Headers on one line read best: two only when that saves wrapping two steps.
        (Some(a), Some(b)) if wraps(&b) + 1 < wraps(&a) => b,
        (Some(a), _) => a,
        (None, Some(b)) => b,
        (None, None) => return vertical(items, roles, gutter),
    };
    let head_rows: Vec<Vec<String>> = if cols.split {
        vec![
            lanes.iter().map(|t| format!("CPU{t}")).collect(),
            heads
                .iter()
                .zip(&lanes)
                .map(|(h, t)| h[format!("CPU{t} ").len()..].to_string())
                .collect(),
        ]
    } else {
        vec![heads.clone()]
    };
    let mut lines = Vec::new();
    for row in head_rows {
        let mut l = " ".repeat(gutter);
        for (p, h) in row.iter().enumerate() {
            let pad = (gutter + cols.x[p]).saturating_sub(l.chars().count());
            l.push_str(&" ".repeat(pad));
            l.push_str(h);
        }
        lines.push(l);
    }
    for it in items {
        let col = cols.x[pos(it.tid)] + indent(it);
        let num = it
            .group
            .map_or(String::new(), |g| format!("{g:>w$}", w = gutter - 1));
        let lead = format!("{num:<gutter$}{}", " ".repeat(col));
        let cont = format!("{}  ", " ".repeat(gutter + col));
        lines.extend(item_lines(it, &lead, &cont));
    }
    lines
}

/// The diagram as one block per numbered step, `N CPUk (name):` then its lines indented,
/// for lanes too many to stand side by side.
fn vertical(items: &[Item], roles: &[Role], gutter: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for it in items {
        if let Some(g) = it.group {
            lines.push(format!("{g:>w$} {}:", cpu(roles, it.tid), w = gutter - 1));
        }
        let lead = " ".repeat(gutter + 2 + 2 * it.depth.min(MAX_DEPTH));
        lines.extend(item_lines(it, &lead, &format!("{lead}  ")));
    }
    lines
}

/// Every model step, one line each: `model-step numbered-step CPUk path: primitive [locks]`,
/// with the flags that changed under it.
fn full_trace(prog: &Program, out: &Outcome, marks: &Marks<'_>) -> Vec<String> {
    let groups = numbered(&out.trace);
    let w = out.trace.len().to_string().len();
    let wg = groups.last().map_or(1, |g| g.to_string().len());
    let mut lines = vec![format!(
        "{:>w$} {:>wg$} CPU  path: primitive [locks held after it]",
        "#", "n"
    )];
    let pad = " ".repeat(w + wg + 2);
    for (i, s) in out.trace.iter().enumerate() {
        let held = s.held.get(s.tid as usize).map_or(&[][..], |h| h.as_slice());
        let mut text = format!("{} [{}]", step_text(prog, s), locks(held));
        if let Some((m, v)) = marks.mechanism {
            if m == i {
                let _ = write!(text, " <-- {} (the mechanism)", v.inv);
            }
        }
        if marks.harm == Some(i) {
            if let Some(v) = &out.violation {
                let _ = write!(text, " <-- {} (the harm)", v.inv);
            }
        }
        let first = format!("{:>w$} {:>wg$} CPU{} ", i + 1, groups[i], s.tid);
        lines.extend(wrap_lines(&text, &first, &format!("{pad}      ")));
        let prev = i.checked_sub(1).map(|p| out.trace[p].flags.as_str());
        let delta = changed(prev, &s.flags);
        if !delta.is_empty() {
            lines.extend(wrap_lines(
                &format!("flags: {delta}"),
                &format!("{pad}     "),
                &format!("{pad}       "),
            ));
        }
    }
    lines
}

/// The numbered steps in short: `N. CPUk (name): f → g [flags]`.
fn in_short(prog: &Program, out: &Outcome, roles: &[Role]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut k = 0;
    let mut i = 0;
    while i < out.trace.len() {
        let tid = out.trace[i].tid;
        let start = i;
        while i < out.trace.len() && out.trace[i].tid == tid {
            i += 1;
        }
        k += 1;
        let mut funcs: Vec<&str> = Vec::new();
        for s in &out.trace[start..i] {
            let name = path_of(prog, s);
            if funcs.last() != Some(&name) {
                funcs.push(name);
            }
        }
        let text = format!(
            "{}: {} [{}]",
            cpu(roles, tid as usize),
            funcs.join(" → "),
            out.trace[i - 1].flags
        );
        lines.extend(wrap_lines(&text, &format!("{k:>3}. "), "       "));
    }
    lines
}

/// What a thread did, for the summary: the functions it ran and the objects it freed.
fn deeds(prog: &Program, out: &Outcome, t: u8) -> String {
    let mut funcs: Vec<&str> = Vec::new();
    let mut freed: Vec<String> = Vec::new();
    for s in out.trace.iter().filter(|s| s.tid == t) {
        let name = path_of(prog, s);
        if !funcs.contains(&name) {
            funcs.push(name);
        }
        for e in &s.events {
            if let Event::Free { loc, .. } = e {
                let n = loc.name();
                if !freed.contains(&n) {
                    freed.push(n);
                }
            }
        }
    }
    let funcs: Vec<String> = funcs.iter().map(|f| format!("{f}()")).collect();
    let mut s = format!("runs {}", list(&funcs));
    if !freed.is_empty() {
        let _ = write!(s, " and frees {}", list(&freed));
    }
    s
}

/// `a`, `a and b`, `a, b and c`.
fn list(xs: &[String]) -> String {
    match xs {
        [] => String::new(),
        [a] => a.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// A message as the end of a sentence (with its full stop).
fn sentence_end(msg: &str) -> String {
    let m = msg.trim_end();
    if m.ends_with('.') {
        m.to_string()
    } else {
        format!("{m}.")
    }
}

/// The summary: who does what, what breaks where, and why it matters; one paragraph.
fn summary(
    prog: &Program,
    out: &Outcome,
    roles: &[Role],
    marks: &Marks<'_>,
    latent: Option<&str>,
) -> String {
    let groups = numbered(&out.trace);
    let mut order: Vec<u8> = Vec::new();
    for s in &out.trace {
        if !order.contains(&s.tid) {
            order.push(s.tid);
        }
    }
    let who: Vec<String> = order
        .iter()
        .map(|&t| format!("{} {}", cpu(roles, t as usize), deeds(prog, out, t)))
        .collect();
    let mut p = if who.is_empty() {
        "No thread takes a step.".to_string()
    } else {
        format!("{}.", who.join("; "))
    };
    let at = |i: usize| groups.get(i).copied().unwrap_or(0);
    if let Some((m, v)) = marks.mechanism {
        let _ = write!(
            p,
            " In step {}, {} breaks {} (the mechanism): {}",
            at(m),
            cpu(roles, v.tid as usize),
            v.inv,
            sentence_end(&v.msg)
        );
    }
    match &out.violation {
        Some(v) => {
            let when = match marks.harm {
                Some(h) => format!("In step {}", at(h)),
                None => "At the end of the run".into(),
            };
            let what = if marks.mechanism.is_some() {
                format!("hits {} (the harm)", v.inv)
            } else {
                format!("breaks {}", v.inv)
            };
            let _ = write!(
                p,
                " {when}, {} {what}: {} {}",
                cpu(roles, v.tid as usize),
                sentence_end(&v.msg),
                why(v.inv)
            );
        }
        None => {
            if let Some((_, v)) = marks.mechanism {
                let _ = write!(p, " {}", why(v.inv));
            }
            if latent.is_some() {
                p.push_str(" No harm follows in this scenario: the defect is latent here.");
            }
        }
    }
    p
}

/// For a latent defect: whether any continuation of the run reaches a harm
/// ([`super::harm::after`]), in a sentence.
fn latent_note(prog: &Program, sc: &Scenario, out: &Outcome) -> Option<String> {
    if !out.is_latent() {
        return None;
    }
    Some(match super::harm::after(prog, sc) {
        Some(found) => {
            let inv = run(prog, &found, Opts::default())
                .ok()
                .and_then(|o| o.violation.map(|v| v.inv.name()))
                .unwrap_or("a harm");
            format!(
                "This run reaches no harm, but another interleaving of the same threads after it reaches {inv}."
            )
        }
        None => format!(
            "No harm follows: no continuation of this run (up to {} states searched) has a thread of this scenario reach the freed state.",
            super::harm::MAX_STATES
        ),
    })
}

/// The verdict: the mechanism and the harm, each at its numbered step, with its message and
/// the state it is about; or that none broke.
fn verdict(
    prog: &Program,
    out: &Outcome,
    roles: &[Role],
    marks: &Marks<'_>,
    latent: Option<&str>,
) -> Vec<String> {
    let groups = numbered(&out.trace);
    let at = |i: usize| groups.get(i).copied().unwrap_or(0);
    let mut r = String::new();
    if let Some((m, v)) = marks.mechanism {
        let head = if latent.is_some() {
            format!(
                "latent {} (the mechanism, no harm) at step {} by {}:",
                v.inv,
                at(m),
                cpu(roles, v.tid as usize)
            )
        } else {
            format!(
                "{} (the mechanism) broken at step {} (model step {}) by {}:",
                v.inv,
                at(m),
                m + 1,
                cpu(roles, v.tid as usize)
            )
        };
        put(&mut r, &head, "", "  ");
        put(&mut r, &v.msg, "  ", "  ");
        if let Some(w) = marks.world_after(m) {
            put(
                &mut r,
                &format!("state: {}", state_lines(prog, w).join(", ")),
                "  ",
                "    ",
            );
        }
        if let Some(l) = latent {
            put(&mut r, l, "  ", "  ");
        }
    }
    match &out.violation {
        Some(v) => {
            let kind = if marks.mechanism.is_some() {
                " (the harm)"
            } else {
                ""
            };
            let when = match marks.harm {
                Some(h) => format!("at step {} (model step {})", at(h), h + 1),
                None => format!("after the run ({} model steps)", out.steps),
            };
            put(
                &mut r,
                &format!(
                    "{}{kind} broken {when} by {}:",
                    v.inv,
                    cpu(roles, v.tid as usize)
                ),
                "",
                "  ",
            );
            put(&mut r, &v.msg, "  ", "  ");
            if let Some(last) = out.trace.last() {
                let held: Vec<String> = (0..roles.len().max(last.held.len()))
                    .map(|t| {
                        let held = last.held.get(t).map_or(&[][..], |h| h.as_slice());
                        format!("CPU{t} {}", locks(held))
                    })
                    .collect();
                put(
                    &mut r,
                    &format!("locks held: {}", held.join(", ")),
                    "  ",
                    "    ",
                );
            }
            if let Some(w) = out
                .trace
                .len()
                .checked_sub(1)
                .and_then(|i| marks.world_after(i))
            {
                put(
                    &mut r,
                    &format!("state: {}", state_lines(prog, w).join(", ")),
                    "  ",
                    "    ",
                );
            }
        }
        None if marks.mechanism.is_none() => {
            let _ = writeln!(r, "no violation ({} model steps)", out.steps);
        }
        None => {}
    }
    r.lines().map(str::to_string).collect()
}

/// The report's head: the config, the paths with their kernel source, the set-up and the
/// threads.
fn head(prog: &Program, sc: &Scenario, roles: &[Role]) -> String {
    let cfg = &prog.config;
    let mut r = String::new();
    put(
        &mut r,
        &format!(
            "config {} [{}]: {}",
            cfg.name, cfg.meta.kernel, cfg.meta.note
        ),
        "",
        "  ",
    );
    for p in &prog.paths {
        if !p.meta.commit.is_empty() || p.name == "exit_mmap" {
            let src = if p.meta.source.is_empty() {
                &p.meta.file
            } else {
                &p.meta.source
            };
            let text = format!(
                "{}@{}: {} {} {src}",
                p.name, p.version, p.meta.kernel, p.meta.commit
            );
            put(&mut r, &text.replace("  ", " "), "  ", "      ");
        }
    }
    let _ = writeln!(r, "set-up:");
    for l in setup_lines(sc) {
        put(&mut r, &l, "  ", "    ");
    }
    let threads: Vec<String> = roles
        .iter()
        .enumerate()
        .map(|(i, role)| {
            format!(
                "CPU{i} {}{} ({})",
                role.task(),
                instance(roles, i),
                role.entry()
            )
        })
        .collect();
    put(
        &mut r,
        &format!("threads: {}", threads.join(", ")),
        "",
        "  ",
    );
    r
}

/// The report of an executed, recorded scenario at `detail`; every line at most [`WIDTH`]
/// columns.
pub fn render(prog: &Program, sc: &Scenario, out: &Outcome, detail: Detail) -> String {
    let roles = exec::roles(prog, &sc.threads);
    let marks = Marks::of(prog, sc, out);
    let latent = latent_note(prog, sc, out);
    let mut r = head(prog, sc, &roles);
    let _ = writeln!(r);
    let body = match detail {
        Detail::Diagram => diagram(&items(prog, out, &marks), &roles),
        Detail::Full => full_trace(prog, out, &marks),
    };
    if out.trace.is_empty() {
        let _ = writeln!(r, "no step was taken");
    }
    for l in body {
        let _ = writeln!(r, "{}", l.trim_end());
    }
    if detail == Detail::Full {
        let _ = writeln!(r, "\nIn short:");
        for l in in_short(prog, out, &roles) {
            let _ = writeln!(r, "{l}");
        }
    }
    let _ = writeln!(r);
    put(
        &mut r,
        &summary(prog, out, &roles, &marks, latent.as_deref()),
        "",
        "",
    );
    let _ = writeln!(r);
    for l in verdict(prog, out, &roles, &marks, latent.as_deref()) {
        let _ = writeln!(r, "{l}");
    }
    let mut start = World::new();
    let _ = setup(&mut start, &sc.setup);
    put(
        &mut r,
        &format!(
            "set-up state: mm_users {}, mm_count {}, mm->flags {}, victim TIF_MEMDIE {}, tsk_is_oom_victim {}",
            start.mm.users,
            start.mm.count,
            show_mm_flags(start.mm.flags),
            start.victim.memdie,
            start.victim.oom_mm
        ),
        "  ",
        "    ",
    );
    r
}

/// The default report (the race diagram) of an executed, recorded scenario.
pub fn explain_outcome(prog: &Program, sc: &Scenario, out: &Outcome) -> String {
    render(prog, sc, out, Detail::Diagram)
}

/// Run `sc` with recording and report it at `detail`.
pub fn explain_at(prog: &Program, sc: &Scenario, detail: Detail) -> String {
    match run(
        prog,
        sc,
        Opts {
            record: true,
            ..Opts::default()
        },
    ) {
        Ok(out) => render(prog, sc, &out, detail),
        Err(e) => wrap_lines(
            &format!("the scenario cannot run on {}: {}", prog.config.name, e.0),
            "",
            "  ",
        )
        .join("\n"),
    }
}

/// Run `sc` with recording and explain it (the race diagram).
pub fn explain(prog: &Program, sc: &Scenario) -> String {
    explain_at(prog, sc, Detail::Diagram)
}

/// The same report as JSON, for tools: the config and its kernel, the threads, every model
/// step with its numbered step, CPU, `path: primitive`, kernel source, locks held and flags,
/// the mechanism (a proxy invariant, with the numbered and model step that broke it) and the
/// violation (the harm, with the numbered step that broke it).
pub fn json(prog: &Program, sc: &Scenario, out: &Outcome) -> serde_json::Value {
    use serde_json::json;
    let roles = exec::roles(prog, &sc.threads);
    let groups = numbered(&out.trace);
    let numbered = groups.last().copied().unwrap_or(0);
    let steps: Vec<serde_json::Value> = out
        .trace
        .iter()
        .zip(&groups)
        .map(|(s, g)| {
            json!({
                "step": g,
                "cpu": s.tid,
                "what": step_text(prog, s),
                "kernel": kernel_step(prog, s),
                "locks": s.held.get(s.tid as usize).map_or("-".into(), |h| locks(h)),
                "flags": s.flags,
            })
        })
        .collect();
    let mechanism = out.mechanism.as_ref().filter(|m| m.step >= 1).map(|m| {
        json!({
            "invariant": m.violation.inv.name(),
            "cpu": m.violation.tid,
            "message": m.violation.msg,
            "at_step": groups.get(m.step - 1).copied().unwrap_or(numbered),
            "model_step": m.step,
        })
    });
    json!({
        "config": prog.config.name,
        "kernel": prog.config.meta.kernel,
        "paths": prog.paths.iter().map(|p| json!({
            "path": format!("{}@{}", p.name, p.version),
            "kernel": p.meta.kernel,
            "commit": p.meta.commit,
            "file": p.meta.file,
            "source": p.meta.source,
        })).collect::<Vec<_>>(),
        "setup": setup_lines(sc),
        "threads": roles.iter().enumerate().map(|(i, r)| json!({
            "cpu": i,
            "task": r.task(),
            "entry": r.entry(),
        })).collect::<Vec<_>>(),
        "steps": steps,
        "numbered_steps": numbered,
        "latent": out.is_latent(),
        "mechanism": mechanism,
        "violation": out.violation.as_ref().map(|v| json!({
            "invariant": v.inv.name(),
            "cpu": v.tid,
            "message": v.msg,
            "at_step": numbered,
        })),
    })
}
