//! Oracles checked after every step: general detectors first (use after free of every modelled
//! object, happens-before races on every modelled shared field, lock misuse, lockdep-style
//! lock-order cycles, deadlock), then the invariants of `kernel-paths.md` §4 that are not a
//! special case of those (I1 PT-free exclusion, I2 reader discipline, I4 no stale head).

use std::collections::HashMap;

use mmfuzz::mm::state::{World, MAX_THREADS};
use mmfuzz::mm::types::pf;
use mmfuzz::mm::{Event, Invariant, Loc, Lock, MmFlag, Prim, Program, Role, Tid, VmaStore};

/// A vector clock over the scenario's threads.
type Vc = [u32; MAX_THREADS];

fn join(a: &mut Vc, b: &Vc) {
    for i in 0..MAX_THREADS {
        a[i] = a[i].max(b[i]);
    }
}

/// A broken invariant: which, where, and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The invariant broken.
    pub inv: Invariant,
    /// Thread that made the violating step.
    pub tid: Tid,
    /// What happened, in kernel terms.
    pub msg: String,
}

#[derive(Clone, Debug, Default, Hash)]
struct Shadow {
    /// Last write: thread and its clock then.
    write: Option<(Tid, u32)>,
    /// Last read clock per thread (0 = none).
    reads: Vc,
    /// Whether the last write was a free (for naming).
    freed_by: Option<Tid>,
}

/// Lock classes for lockdep (all page-table locks are one class).
fn class(l: Lock) -> usize {
    match l {
        Lock::MmapLock => 0,
        Lock::OomLock => 1,
        Lock::OomReaperLock => 2,
        Lock::TaskLock => 3,
        Lock::Ptl(_) => 4,
        Lock::FreezerLock => 5,
        Lock::IRwsem => 6,
    }
}

const CLASSES: usize = 7;
const CLASS_NAMES: [&str; CLASSES] = [
    "mmap_lock",
    "oom_lock",
    "oom_reaper_lock",
    "task_lock",
    "ptl",
    "freezer_lock",
    "i_rwsem",
];

/// Per-execution oracle state.
#[derive(Clone, Debug)]
pub struct Oracle {
    clocks: Vec<Vc>,
    lock_clocks: HashMap<Lock, Vc>,
    atomic: Vc,
    shadow: HashMap<Loc, Shadow>,
    /// lockdep: `order[a][b]` = some thread took class b while holding class a.
    order: [[bool; CLASSES]; CLASSES],
    /// Whether to run the race detector.
    pub races: bool,
    /// Threads that saw `MMF_OOM_SKIP` clear in their current `mmap_lock` read section: they
    /// are walking the VMAs.
    walking: u8,
    /// Threads whose `mm_users` pin failed in their current read section: they leave it
    /// without walking.
    leaving: u8,
}

/// The oracle's history as part of a state (exhaustive mode deduplicates on it): two
/// executions that reach the same world with the same happens-before facts, lock order and
/// walkers are interchangeable for every check. Map entries are hashed in key order.
impl std::hash::Hash for Oracle {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.order.hash(h);
        self.races.hash(h);
        self.walking.hash(h);
        self.leaving.hash(h);
        if !self.races {
            // Without the race detector the clocks and shadow memory are never read.
            return;
        }
        self.clocks.hash(h);
        let mut locks: Vec<_> = self.lock_clocks.iter().collect();
        locks.sort_unstable_by_key(|(l, _)| **l);
        locks.hash(h);
        self.atomic.hash(h);
        let mut shadow: Vec<_> = self.shadow.iter().collect();
        shadow.sort_unstable_by_key(|(l, _)| **l);
        shadow.hash(h);
    }
}

impl Oracle {
    /// A fresh oracle for `n` threads.
    pub fn new(n: usize) -> Self {
        let mut clocks = vec![[0; MAX_THREADS]; n];
        for (i, c) in clocks.iter_mut().enumerate() {
            c[i] = 1;
        }
        Oracle {
            clocks,
            lock_clocks: HashMap::new(),
            atomic: [0; MAX_THREADS],
            shadow: HashMap::new(),
            order: [[false; CLASSES]; CLASSES],
            races: true,
            walking: 0,
            leaving: 0,
        }
    }

    fn tick(&mut self, t: Tid) {
        self.clocks[t as usize][t as usize] += 1;
    }

    /// Check one step's events against the world after the step. `held_before` are the locks
    /// `tid` held before the step (for lockdep).
    pub fn check(
        &mut self,
        prog: &Program,
        world: &World,
        stepper: Tid,
        step: (Option<Prim>, Option<bool>),
        held_before: &[(Lock, bool)],
        ev: &[Event],
    ) -> Option<Violation> {
        if let Some(v) = freezer_checks(prog, world, stepper, step) {
            return Some(v);
        }
        let reading = world.mm.lock.readers & (1 << stepper) != 0;
        match step {
            (Some(Prim::test_bit(MmFlag::MMF_OOM_SKIP)), Some(false)) if reading => {
                self.walking |= 1 << stepper;
            }
            // v4.9's reaper pins mm_users under the read lock: a pin means it walks, a failed
            // pin (exit_mmap owns the mm) means it unlocks without touching a VMA.
            (Some(Prim::mmget_not_zero), Some(true)) if reading => self.walking |= 1 << stepper,
            (Some(Prim::mmget_not_zero), Some(false)) if reading => self.leaving |= 1 << stepper,
            _ => {}
        }
        for e in ev {
            if let Some(v) = self.event(prog, world, stepper, held_before, e) {
                return Some(v);
            }
        }
        None
    }

    fn event(
        &mut self,
        prog: &Program,
        world: &World,
        stepper: Tid,
        held_before: &[(Lock, bool)],
        e: &Event,
    ) -> Option<Violation> {
        let role = |t: Tid| world.threads[t as usize].role;
        match *e {
            Event::Fault { tid, inv, ref msg } => {
                return Some(Violation {
                    inv,
                    tid,
                    msg: msg.clone(),
                })
            }
            Event::Acquire { tid, lock, .. } => {
                if let Some(lc) = self.lock_clocks.get(&lock).filter(|_| self.races) {
                    let lc = *lc;
                    join(&mut self.clocks[tid as usize], &lc);
                }
                if tid == stepper {
                    return self.lockdep(tid, lock, held_before);
                }
            }
            Event::Block { tid, lock } => return self.lockdep(tid, lock, held_before),
            Event::Release { tid, lock, .. } => {
                if lock == Lock::MmapLock {
                    self.walking &= !(1 << tid);
                    self.leaving &= !(1 << tid);
                }
                if self.races {
                    let c = self.clocks[tid as usize];
                    join(self.lock_clocks.entry(lock).or_insert([0; MAX_THREADS]), &c);
                    self.tick(tid);
                }
                // I4 is about the teardown's own release (VMAs are freed by exit_mmap, under
                // the write lock from v5.17, with no lock before): a reader's unlock after a
                // lock-free teardown is not it (<= v5.16 readers are kept out by MMF_OOM_SKIP
                // or an mm_users pin; a reader that walks anyway is a use after free, I5).
                if lock == Lock::MmapLock && inside(prog, world, tid, "exit_mmap") {
                    if let Some(v) = stale_head(prog, world, tid) {
                        return Some(v);
                    }
                }
            }
            Event::Atomic { .. } if !self.races => {}
            Event::Atomic { tid, .. } => {
                let a = self.atomic;
                join(&mut self.clocks[tid as usize], &a);
                let c = self.clocks[tid as usize];
                join(&mut self.atomic, &c);
                self.tick(tid);
            }
            Event::Free { tid, loc } => {
                if let Loc::VmaPtes(v) = loc {
                    // A reader is a hazard if it is walking, or if MMF_OOM_SKIP is still clear
                    // so that it may yet walk (kernel-paths.md §4, I1).
                    let hazard = if world.mm.test(MmFlag::MMF_OOM_SKIP) {
                        self.walking
                    } else {
                        u8::MAX
                    };
                    let mut others = world.other_readers(tid) & hazard & !self.leaving;
                    // A reader whose next step is mmget_not_zero on an mm with no users (v4.9's
                    // __oom_reap_task_mm takes the read trylock first, then the pin) will fail
                    // the pin and leave without walking: mm_users never rises from 0.
                    for r in 0..world.threads.len() as Tid {
                        if others & (1 << r) != 0
                            && world.mm.users == 0
                            && world.threads[r as usize].pins == 0
                            && world.next_prim(prog, r) == Some(Prim::mmget_not_zero)
                            && leaves_after_failed_pin(prog, world, r)
                        {
                            others &= !(1 << r);
                        }
                    }
                    if others != 0 {
                        let who = (0..world.threads.len() as Tid)
                            .find(|t| others & (1 << t) != 0)
                            .unwrap_or(0);
                        return Some(Violation {
                            inv: Invariant::I1,
                            tid,
                            msg: format!(
                                "free_pgtables frees vma{v}'s page tables while {} holds mmap_lock for read",
                                role(who).task()
                            ),
                        });
                    }
                }
                if let Some(s) = self.shadow.get_mut(&loc) {
                    s.freed_by = Some(tid);
                }
            }
            Event::Access {
                tid,
                loc,
                write,
                freed,
            } => {
                if freed {
                    let (inv, what) = match loc {
                        Loc::VmaPtes(_) => (Invariant::I1, "freed page tables"),
                        Loc::VmaObj(_) | Loc::VmaFlags(_) => {
                            (Invariant::I5, "a freed vm_area_struct")
                        }
                        _ => (Invariant::I8, "a freed mm_struct"),
                    };
                    return Some(Violation {
                        inv,
                        tid,
                        msg: format!(
                            "use after free: {} {} {what} ({})",
                            role(tid).task(),
                            if write { "writes" } else { "reads" },
                            loc.name()
                        ),
                    });
                }
                let walker = matches!(role(tid), Role::OomReaper | Role::Mrelease);
                let vma_state = matches!(
                    loc,
                    Loc::VmaObj(_) | Loc::VmaFlags(_) | Loc::VmaPtes(_) | Loc::MmMmap | Loc::MmTree
                );
                if walker
                    && vma_state
                    && !inside(prog, world, tid, "exit_mmap")
                    && world.held_by(tid).iter().all(|(l, _)| *l != Lock::MmapLock)
                {
                    return Some(Violation {
                        inv: Invariant::I2,
                        tid,
                        msg: format!(
                            "{} touches {} outside an mmap_lock read section",
                            role(tid).task(),
                            loc.name()
                        ),
                    });
                }
                if self.races && loc != Loc::MmStruct {
                    if let Some(v) = self.race(world, tid, loc, write) {
                        return Some(v);
                    }
                }
            }
        }
        None
    }

    /// lockdep: record "`lock` taken while holding `held`" and report a cycle.
    fn lockdep(&mut self, tid: Tid, lock: Lock, held: &[(Lock, bool)]) -> Option<Violation> {
        let b = class(lock);
        for &(h, _) in held {
            let a = class(h);
            if a != b && !self.order[a][b] {
                self.order[a][b] = true;
                if self.reaches(b, a) {
                    return Some(Violation {
                        inv: Invariant::LockOrder,
                        tid,
                        msg: format!(
                            "{} taken under {}, but {} is also taken (directly or not) under {}: possible ABBA deadlock",
                            CLASS_NAMES[b], CLASS_NAMES[a], CLASS_NAMES[a], CLASS_NAMES[b]
                        ),
                    });
                }
            }
        }
        None
    }

    fn reaches(&self, from: usize, to: usize) -> bool {
        let mut seen = [false; CLASSES];
        let mut stack = vec![from];
        while let Some(x) = stack.pop() {
            if x == to {
                return true;
            }
            if std::mem::replace(&mut seen[x], true) {
                continue;
            }
            for y in 0..CLASSES {
                if self.order[x][y] {
                    stack.push(y);
                }
            }
        }
        false
    }

    /// The invariant a data race on `loc` breaks: page tables I1 (their free is not excluded),
    /// `vm_flags` I2 (the flags a reader decides by are not stable), anything else `race`.
    pub fn race_invariant(loc: Loc) -> Invariant {
        match loc {
            Loc::VmaPtes(_) => Invariant::I1,
            Loc::VmaFlags(_) => Invariant::I2,
            _ => Invariant::Race,
        }
    }

    /// FastTrack-style check of one access against the location's history.
    fn race(&mut self, world: &World, tid: Tid, loc: Loc, write: bool) -> Option<Violation> {
        let me = self.clocks[tid as usize];
        let s = self.shadow.entry(loc).or_default();
        let conflict = |other: Tid, other_write: bool| {
            let task = |t: Tid| world.threads[t as usize].role.task();
            // Races on page tables break I1 (their free is not excluded), on vm_flags I2 (the
            // flags a reader decides by are not stable); on the VMA structure itself they are
            // reported as such (a use after free needs the free to win, which is I5).
            Violation {
                inv: Oracle::race_invariant(loc),
                tid,
                msg: format!(
                    "data race on {}: {} {} it while {} {} it, with no lock or ordering between them",
                    loc.name(),
                    task(tid),
                    if write { "writes" } else { "reads" },
                    task(other),
                    if other_write { "wrote" } else { "read" },
                ),
            }
        };
        if let Some((wt, wc)) = s.write {
            if wt != tid && wc > me[wt as usize] {
                return Some(conflict(wt, true));
            }
        }
        if write {
            for (t, &rc) in s.reads.iter().enumerate() {
                if t != tid as usize && rc > 0 && rc > me[t] {
                    return Some(conflict(t as Tid, false));
                }
            }
            s.write = Some((tid, me[tid as usize]));
            s.reads = [0; MAX_THREADS];
        } else {
            s.reads[tid as usize] = me[tid as usize];
        }
        None
    }
}

/// The flag values that matter to the freezer and the OOM killer, as the seed lists them.
pub fn freezer_flags(world: &World) -> String {
    format!(
        "pm_freezing={} pm_nosig_freezing={} oom_killer_disabled={} TIF_MEMDIE={} oom_victims={}",
        u8::from(world.pm_freezing),
        u8::from(world.pm_nosig_freezing),
        u8::from(world.oom_killer_disabled),
        u8::from(world.victim.memdie),
        world.oom_victims
    )
}

/// Whether thread `tid` is running inside the path `name` (any frame of its call stack).
fn inside(prog: &Program, world: &World, tid: Tid, name: &str) -> bool {
    world.threads[tid as usize]
        .frames
        .iter()
        .any(|f| prog.paths[f.path as usize].name == name)
}

/// Whether reader `r`, whose next step is `mmget_not_zero` on an mm with no users, unlocks
/// `mmap_lock` right after the pin fails (so it never walks the VMAs).
fn leaves_after_failed_pin(prog: &Program, world: &World, r: Tid) -> bool {
    let mut w = world.clone();
    let mut ev = Vec::new();
    w.step(prog, r, &mut ev) == Some(false) && w.next_prim(prog, r) == Some(Prim::mmap_read_unlock)
}

/// Whether thread `t` is the OOM victim and has returned from `exit_mm` (its mm released and
/// `exit_oom_victim` done): what `oom_killer_disable()` waits for (I12 lets it run on).
fn victim_past_exit_mm(world: &World, t: usize) -> bool {
    let th = &world.threads[t];
    th.role.is_victim() && world.victim.oom_mm && th.exited_mm && !world.victim.memdie
}

/// Whether thread `t` counts as quiescent for I12 (`kernel-paths.md` §4): frozen, asleep
/// with `PF_FREEZER_SKIP`, past the point in `do_exit` where it sets `PF_NOFREEZE`, or dead.
/// An OOM victim that is frozen before `exit_mm` counts too: it does not run until the thaw,
/// which is what 74070542099c (v4.7) relies on when its second freezing round freezes a victim
/// whose `TIF_MEMDIE` the reaper cleared.
fn quiescent(world: &World, t: usize) -> bool {
    let th = &world.threads[t];
    th.status == mmfuzz::mm::Status::Done
        // frozen(p) as a reader under freezer_lock sees it: PF_FROZEN set inside
        // __refrigerator's lock hold is a decision in progress.
        || th.frz.frozen_stable
        || th.frz.pf & pf::PF_NOFREEZE != 0
        || (th.frz.pf & pf::PF_FREEZER_SKIP != 0 && th.status == mmfuzz::mm::Status::Blocked)
}

/// I11, I12, I12s, I13: the freezer and the OOM victim count (`kernel-paths.md` §4).
fn freezer_checks(
    prog: &Program,
    world: &World,
    tid: Tid,
    step: (Option<Prim>, Option<bool>),
) -> Option<Violation> {
    let v = |inv: Invariant, msg: String| Some(Violation { inv, tid, msg });
    let memdie = i32::from(world.victim.memdie);
    if world.oom_victims != memdie {
        return v(
            Invariant::I11,
            format!(
                "oom_victims = {} but {memdie} task(s) have TIF_MEMDIE",
                world.oom_victims
            ),
        );
    }
    let role = world.threads[tid as usize].role;
    let user = |r: Role| !r.is_kthread() && r != Role::Pm;
    match step.0 {
        Some(Prim::mark_oom_victim) if world.oom_killer_disabled => {
            return v(
                Invariant::I12,
                "mark_oom_victim after oom_killer_disable() (WARN_ON(oom_killer_disabled))".into(),
            );
        }
        Some(Prim::freezing_current)
            if step.1 == Some(true) && role.is_kthread() && !world.pm_nosig_freezing =>
        {
            return v(
                Invariant::I13,
                format!(
                    "{} decides to freeze before pm_nosig_freezing (before oom_killer_disable)",
                    role.task()
                ),
            );
        }
        Some(Prim::user_space_frozen) => {
            if world.oom_victims != 0 {
                return v(
                    Invariant::I12,
                    format!(
                        "freeze_processes() returned 0 with {}",
                        freezer_flags(world)
                    ),
                );
            }
            for (i, t) in world.threads.iter().enumerate() {
                if user(t.role) && !quiescent(world, i) && !victim_past_exit_mm(world, i) {
                    let why = if t.role.is_victim() && world.victim.oom_mm {
                        "an OOM victim that has not finished exit_mm"
                    } else {
                        "not frozen"
                    };
                    return v(
                        Invariant::I12,
                        format!(
                            "freeze_processes() returned 0 while {} is {why} ({})",
                            t.role.task(),
                            freezer_flags(world)
                        ),
                    );
                }
            }
            return None;
        }
        _ => {}
    }
    if !user(role) || !world.frozen_claim || world.threads[tid as usize].frz.frozen_stable {
        // A frozen task woken spuriously (a fake signal that came before its schedule())
        // goes round __refrigerator's loop and sleeps again: it does not run.
        return None;
    }
    // A user task took a step inside the window.
    let what = step.0.map(|p| p.name()).unwrap_or_default();
    if !victim_past_exit_mm(world, tid as usize) {
        return v(
            Invariant::I12,
            format!(
                "{} runs ({what}) after freeze_processes() returned 0 ({})",
                role.task(),
                freezer_flags(world)
            ),
        );
    }
    if prog.config.strict && world.strict_window {
        return v(
            Invariant::I12s,
            format!(
                "{} runs ({what}) after freeze_processes() returned 0 and before \
                 freeze_kernel_threads(): an OOM victim past exit_mm, still in do_exit ({})",
                role.task(),
                freezer_flags(world)
            ),
        );
    }
    None
}

/// I4: when `mmap_lock` is released, the structure readers walk must not lead to a freed VMA
/// unless `MMF_OOM_SKIP` is set (so a later reader does nothing).
fn stale_head(prog: &Program, world: &World, tid: Tid) -> Option<Violation> {
    if world.mm.test(MmFlag::MMF_OOM_SKIP) {
        return None;
    }
    let stale = match prog.store() {
        VmaStore::List => world.mm.mmap.filter(|&v| !world.vmas[v as usize].live),
        VmaStore::Maple => world
            .mm
            .tree
            .entries()
            .into_iter()
            .map(|(_, _, v)| v)
            .find(|&v| !world.vmas[v as usize].live),
    };
    stale.map(|v| Violation {
        inv: Invariant::I4,
        tid,
        msg: format!(
            "mmap_lock released with {} still leading to freed vma{v} and MMF_OOM_SKIP clear",
            match prog.store() {
                VmaStore::List => "mm->mmap",
                VmaStore::Maple => "mm->mm_mt",
            }
        ),
    })
}

/// Checks when every thread has returned: lock balance and reference balance (I10, I8).
pub fn at_exit(world: &World) -> Option<Violation> {
    for (i, t) in world.threads.iter().enumerate() {
        let tid = i as Tid;
        let held = world.held_by(tid);
        if !held.is_empty() {
            let names: Vec<String> = held.iter().map(|(l, _)| l.name()).collect();
            return Some(Violation {
                inv: Invariant::I10,
                tid,
                msg: format!("{} returned holding {}", t.role.task(), names.join(", ")),
            });
        }
        for (what, n) in [
            ("mm_users", t.pins),
            ("mm_count", t.grabs),
            ("task_struct", t.task_refs),
        ] {
            if n != 0 {
                return Some(Violation {
                    inv: Invariant::I8,
                    tid,
                    msg: format!(
                        "{} returned with {n} unbalanced {what} reference(s)",
                        t.role.task()
                    ),
                });
            }
        }
    }
    None
}
