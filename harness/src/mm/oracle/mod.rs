//! Oracles: after every step, the step's events are judged here (wasmtime's `oracles`): the
//! model's own faults first, then the generic detectors (use after free, happens-before races,
//! lockdep-style lock order), then the invariants of `kernel-paths.md` §4 that are not a
//! special case of those; when no thread can run, deadlock and liveness; when all have
//! returned, lock and reference balance and the reference state machine. `docs/invariants.md`
//! lists each invariant with the function that checks it.
//!
//! - [`hb`]: vector clocks, the race detector, and its exhaustive form;
//! - [`lockdep`]: lock classes and order cycles;
//! - [`invariants`]: I1, I2, I4 and the use-after-free classification;
//! - [`freezer`]: I11, I12, I12s, I13;
//! - [`at_exit`]: deadlock, liveness, balance at exit, the reference comparison.

use mmfuzz::mm::state::{World, MAX_THREADS};
use mmfuzz::mm::{Decoded, Event, Invariant, Loc, Lock, MmFlag, Prim, Program, Tid};
use mmfuzz::pack::{Pack, Reader};

pub mod at_exit;
pub mod freezer;
pub mod hb;
pub mod invariants;
pub mod lockdep;

pub use at_exit::{at_exit, end_checks, is_idle, when_stuck, Stuck};
pub use freezer::freezer_flags;
pub use hb::{coenabled_race, Access};
use hb::{Shadow, SortedMap, Vc};
use lockdep::CLASSES;

/// The paths on a thread's call stack when its step began (bottom first, the 8 deepest frames
/// at most; deeper ones are judged by the stack after the step).
#[derive(Clone, Copy, Debug, Default)]
pub struct CallStack {
    paths: [u16; 8],
    depth: u8,
}

impl CallStack {
    /// `tid`'s call stack now.
    pub fn of(world: &World, tid: Tid) -> CallStack {
        let mut s = CallStack::default();
        for f in world.threads[tid as usize].frames.iter().take(8) {
            s.paths[s.depth as usize] = f.path;
            s.depth += 1;
        }
        s
    }

    /// Whether a path called `name` is on the stack.
    pub fn inside(&self, prog: &Program, name: &str) -> bool {
        self.paths[..self.depth as usize]
            .iter()
            .any(|&p| prog.paths[p as usize].name == name)
    }
}

/// A broken invariant: which, where, and what.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Violation {
    /// The invariant broken.
    pub inv: Invariant,
    /// Thread that made the violating step.
    pub tid: Tid,
    /// What happened, in kernel terms.
    pub msg: String,
}

/// Per-execution oracle state.
#[derive(Clone, Debug, PartialEq)]
pub struct Oracle {
    clocks: Vec<Vc>,
    lock_clocks: SortedMap<Lock, Vc>,
    atomic: Vc,
    shadow: SortedMap<Loc, Shadow>,
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
    /// The first proxy invariant broken so far ([`is_proxy`]): the mechanism of a harm that
    /// may follow. It does not stop the run; not part of the hash (a state is judged by what
    /// can still happen from it).
    pub mechanism: Option<Violation>,
}

/// Whether `v` breaks a proxy invariant: one that predicts a harm rather than being one. I4
/// (`exit_mmap` dropped `mmap_lock` with the readers' structure leading to freed VMAs) and
/// I2's reader discipline (a walker touches VMA state outside its read section) are defects
/// only if some thread then uses what was freed (I5) or walks page tables being freed (I1);
/// when no role of the config can, the verdict is `latent`.
pub fn is_proxy(v: &Violation) -> bool {
    v.inv == Invariant::I4 || (v.inv == Invariant::I2 && v.msg.ends_with(DISCIPLINE))
}

/// The end of an I2 reader-discipline message (as opposed to I2 from a race on `vm_flags`,
/// which is a harm in itself).
pub(crate) const DISCIPLINE: &str = "outside an mmap_lock read section";

/// Encode a state, `world` and `oracle`, into `buf` (cleared first; [`mmfuzz::pack`]) and
/// return its key: xxh3 over the world and [`Oracle::pack_keyed`]. The searches deduplicate
/// on it: two executions that reach the same world with the same happens-before facts, lock
/// order and walkers are interchangeable for every check. The encoding is canonical (the
/// maps are sorted), so equal states have equal keys. `parent`: a world decoded earlier whose
/// threads' bytes may be copied ([`World::pack_reusing`]; the bytes are the same).
pub fn pack_state(
    (world, parent): (&World, Option<Decoded<'_>>),
    oracle: &Oracle,
    buf: &mut Vec<u8>,
) -> u64 {
    buf.clear();
    world.pack_reusing(parent, buf);
    oracle.pack_keyed(buf);
    let key = xxhash_rust::xxh3::xxh3_64(buf);
    oracle.pack_rest(buf);
    key
}

mmfuzz::pack_struct!(Violation { inv, tid, msg });

/// The oracle's encoding (exhaustive mode queues it with the world): [`Oracle::pack_keyed`],
/// the history a state is keyed on, then [`Oracle::pack_rest`] ([`pack_state`]).
impl Oracle {
    /// Encode the history that checks read: lockdep's order (one bit mask per class), the
    /// walkers, and the race detector's clocks and shadow memory when it runs (without it they
    /// are never read).
    pub fn pack_keyed(&self, out: &mut Vec<u8>) {
        for row in &self.order {
            row.iter()
                .fold(0u64, |m, &b| (m << 1) | u64::from(b))
                .pack(out);
        }
        self.races.pack(out);
        self.walking.pack(out);
        self.leaving.pack(out);
        if self.races {
            self.pack_clocks(out);
        }
    }

    /// Encode the rest: the clocks when the race detector is off, and the mechanism.
    pub fn pack_rest(&self, out: &mut Vec<u8>) {
        if !self.races {
            self.pack_clocks(out);
        }
        self.mechanism.pack(out);
    }

    /// The clocks, each vector clock cut to the scenario's threads (the entries past them are
    /// never ticked or joined: zero).
    fn pack_clocks(&self, out: &mut Vec<u8>) {
        let n = self.clocks.len();
        let vc = |c: &Vc, out: &mut Vec<u8>| {
            assert!(
                c[n..].iter().all(|&x| x == 0),
                "a clock entry past the threads"
            );
            c[..n].iter().for_each(|x| x.pack(out));
        };
        (n as u8).pack(out);
        self.clocks.iter().for_each(|c| vc(c, out));
        (self.lock_clocks.len() as u8).pack(out);
        for (l, c) in self.lock_clocks.iter() {
            l.pack(out);
            vc(c, out);
        }
        vc(&self.atomic, out);
        (self.shadow.len() as u8).pack(out);
        for (loc, s) in self.shadow.iter() {
            loc.pack(out);
            s.write.pack(out);
            vc(&s.reads, out);
        }
    }

    /// Decode what [`Oracle::pack_keyed`] and [`Oracle::pack_rest`] wrote.
    pub fn unpack(r: &mut Reader<'_>) -> Oracle {
        let mut order = [[false; CLASSES]; CLASSES];
        for row in &mut order {
            let m = u64::unpack(r);
            for (i, b) in row.iter_mut().enumerate() {
                *b = m >> (CLASSES - 1 - i) & 1 != 0;
            }
        }
        let races = bool::unpack(r);
        let walking = u8::unpack(r);
        let leaving = u8::unpack(r);
        let n = r.byte() as usize;
        let vc = |r: &mut Reader<'_>| {
            let mut c = [0; MAX_THREADS];
            c[..n].iter_mut().for_each(|x| *x = u32::unpack(r));
            c
        };
        let clocks = (0..n).map(|_| vc(r)).collect();
        let locks = r.byte() as usize;
        let lock_clocks = SortedMap::from_sorted(
            (0..locks)
                .map(|_| {
                    let l = Lock::unpack(r);
                    (l, vc(r))
                })
                .collect(),
        );
        let atomic = vc(r);
        let locs = r.byte() as usize;
        let shadow = SortedMap::from_sorted(
            (0..locs)
                .map(|_| {
                    let loc = Loc::unpack(r);
                    let write = Option::unpack(r);
                    (
                        loc,
                        Shadow {
                            write,
                            reads: vc(r),
                        },
                    )
                })
                .collect(),
        );
        Oracle {
            clocks,
            lock_clocks,
            atomic,
            shadow,
            order,
            races,
            walking,
            leaving,
            mechanism: Option::unpack(r),
        }
    }

    /// A fresh oracle for `n` threads.
    pub fn new(n: usize) -> Self {
        let mut clocks = vec![[0; MAX_THREADS]; n];
        for (i, c) in clocks.iter_mut().enumerate() {
            c[i] = 1;
        }
        Oracle {
            clocks,
            lock_clocks: SortedMap::default(),
            atomic: [0; MAX_THREADS],
            shadow: SortedMap::default(),
            order: [[false; CLASSES]; CLASSES],
            races: true,
            walking: 0,
            leaving: 0,
            mechanism: None,
        }
    }

    /// Check one step's events against the world after the step. `held_before` are the locks
    /// `tid` held before the step (for lockdep).
    pub fn check(
        &mut self,
        prog: &Program,
        world: &World,
        stepper: Tid,
        step: (Option<Prim>, Option<bool>),
        (held_before, stack): (&[(Lock, bool)], &CallStack),
        ev: &[Event],
    ) -> Option<Violation> {
        if let Some(v) = freezer::freezer_checks(prog, world, stepper, step) {
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
            if let Event::Access {
                tid, loc, write, ..
            } = *e
            {
                // The exhaustive search drops race history by these footprints: an access
                // outside them is a defect of the table, never to pass in silence.
                let fp = step.0.map(Prim::footprint).unwrap_or_default();
                assert!(
                    tid == stepper && fp.covers(loc, write),
                    "model defect: {} by thread {tid} {} {}, outside Prim::footprint \
                     (src/mm/prims.rs)",
                    step.0.map_or("a step with no primitive".into(), Prim::name),
                    if write { "writes" } else { "reads" },
                    loc.name()
                );
            }
            if let Some(v) = self.event(prog, world, stepper, (held_before, stack), e) {
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
        (held_before, stack): (&[(Lock, bool)], &CallStack),
        e: &Event,
    ) -> Option<Violation> {
        // The step's events happened where the thread was when it began: it may have returned
        // from `exit_mmap` within the step.
        let in_exit_mmap = |t: Tid| {
            (t == stepper && stack.inside(prog, "exit_mmap"))
                || invariants::inside(prog, world, t, "exit_mmap")
        };
        match *e {
            Event::Fault { tid, inv, ref msg } => {
                return Some(Violation {
                    inv,
                    tid,
                    msg: msg.clone(),
                })
            }
            Event::Acquire { tid, lock, .. } => {
                self.hb_acquire(tid, lock);
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
                self.hb_release(tid, lock);
                // I4 is about the teardown's own release (VMAs are freed by exit_mmap, under
                // the write lock from v5.17, with no lock before): a reader's unlock after a
                // lock-free teardown is not it (<= v5.16 readers are kept out by MMF_OOM_SKIP
                // or an mm_users pin; a reader that walks anyway is a use after free, I5).
                if lock == Lock::MmapLock && in_exit_mmap(tid) && self.mechanism.is_none() {
                    self.mechanism = invariants::stale_head(prog, world, tid);
                }
            }
            Event::Atomic { tid, .. } => self.hb_atomic(tid),
            Event::Free { tid, loc } => {
                if let Some(v) = self.page_tables_freed(prog, world, tid, loc) {
                    return Some(v);
                }
            }
            Event::Access {
                tid,
                loc,
                write,
                freed,
            } => return self.access(world, tid, (loc, write, freed), in_exit_mmap(tid)),
        }
        None
    }
}
