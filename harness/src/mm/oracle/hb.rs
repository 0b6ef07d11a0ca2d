//! Happens-before race detection (FastTrack-style vector clocks over the scenario's threads):
//! locks and atomics order threads; two accesses to a modelled location, one a write, with no
//! order between them are a data race. [`coenabled_race`] is the exhaustive search's form.

use mmfuzz::mm::state::{World, MAX_THREADS};
use mmfuzz::mm::{Footprint, Invariant, Loc, Lock, Tid};

use super::{Oracle, Violation};

/// A vector clock over the scenario's threads.
pub(super) type Vc = [u32; MAX_THREADS];

pub(super) fn join(a: &mut Vc, b: &Vc) {
    for i in 0..MAX_THREADS {
        a[i] = a[i].max(b[i]);
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Shadow {
    /// Last write: thread and its clock then.
    pub(super) write: Option<(Tid, u32)>,
    /// Last read clock per thread (0 = none).
    pub(super) reads: Vc,
}

/// A map kept as a vector sorted by key: the oracle's maps hold a few entries, and a vector
/// clones, encodes and decodes with one allocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct SortedMap<K, V>(Vec<(K, V)>);

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        SortedMap(Vec::new())
    }
}

impl<K: Ord + Copy, V> SortedMap<K, V> {
    pub(super) fn get(&self, k: &K) -> Option<&V> {
        let i = self.0.binary_search_by(|(x, _)| x.cmp(k)).ok()?;
        Some(&self.0[i].1)
    }
    /// The value at `k`, inserted as `new()` if absent.
    pub(super) fn entry_or(&mut self, k: K, new: impl FnOnce() -> V) -> &mut V {
        let i = match self.0.binary_search_by(|(x, _)| x.cmp(&k)) {
            Ok(i) => i,
            Err(i) => {
                self.0.insert(i, (k, new()));
                i
            }
        };
        &mut self.0[i].1
    }
    pub(super) fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, v)| v)
    }
    pub(super) fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.0.iter_mut().map(|(_, v)| v)
    }
    pub(super) fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.0.retain_mut(|(k, v)| keep(k, v));
    }
    pub(super) fn iter(&self) -> impl Iterator<Item = &(K, V)> {
        self.0.iter()
    }
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }
    /// From entries in increasing key order.
    pub(super) fn from_sorted(v: Vec<(K, V)>) -> Self {
        debug_assert!(v.windows(2).all(|w| w[0].0 < w[1].0));
        SortedMap(v)
    }
}

impl Oracle {
    pub(super) fn tick(&mut self, t: Tid) {
        self.clocks[t as usize][t as usize] += 1;
    }

    /// `tid` takes `lock`: it now knows what the lock's last holder knew.
    pub(super) fn hb_acquire(&mut self, tid: Tid, lock: Lock) {
        if let Some(lc) = self.lock_clocks.get(&lock).filter(|_| self.races) {
            let lc = *lc;
            join(&mut self.clocks[tid as usize], &lc);
        }
    }

    /// `tid` releases `lock`: the lock carries what it knows.
    pub(super) fn hb_release(&mut self, tid: Tid, lock: Lock) {
        if self.races {
            let c = self.clocks[tid as usize];
            join(self.lock_clocks.entry_or(lock, || [0; MAX_THREADS]), &c);
            self.tick(tid);
        }
    }

    /// Abstracts the clocks to what the detector can still tell apart.
    ///
    /// First, *dead* history goes. `future[u]` is what thread `u` may still read and write
    /// ([`mmfuzz::mm::program::Futures`]). A write epoch of thread `t` on `loc` is reported
    /// against a later read or write of `loc` by another thread `u` whose entry for `t` is below
    /// it, a read epoch against a later write; entries only grow, so once every such `u` that
    /// may still make such an access knows the epoch, it never fires and is dropped (a location
    /// with no epoch left has no shadow; a done thread's future is empty). A done thread
    /// (`done`) does nothing again: its clock is never read or joined and is cleared.
    ///
    /// Then, in component `t` the only values a check compares against are the *epochs*: the
    /// shadow's write and read clocks of `t` (a race is an epoch above the accessing thread's
    /// entry) and `t`'s own entry (the epoch of every later access of `t`); 0 is "never". Every
    /// other entry (a thread's or a lock's knowledge of `t`) is rounded down to the greatest
    /// epoch at or below it, and the epochs are renamed by rank. Rounding down to a set
    /// commutes with the join (max), never moves a value across an epoch, and the own entry,
    /// the only one that ticks, is an epoch and the largest value of its component; so a state
    /// and its abstraction give the same verdicts from here on. Exhaustive mode keys states
    /// after it: histories that differ only in clock values no check can see are one state.
    pub fn normalize_clocks(&mut self, done: u8, future: &[Footprint]) {
        if !self.races {
            return;
        }
        let n = self.clocks.len();
        for (u, c) in self.clocks.iter_mut().enumerate() {
            if done & (1 << u) != 0 {
                *c = [0; MAX_THREADS];
            }
        }
        let clocks = &self.clocks;
        // Does every thread but `t` that may still check `loc` against `t`'s epoch `e` (any
        // access for a write epoch, a write for a read epoch) know it?
        let known = |loc: Loc, t: usize, e: u32, write: bool| {
            (0..n).all(|u| {
                let checks = if write {
                    future[u].may_access(loc)
                } else {
                    future[u].may_write(loc)
                };
                u == t || clocks[u][t] >= e || !checks
            })
        };
        self.shadow.retain(|&loc, s| {
            if let Some((w, c)) = s.write {
                if known(loc, w as usize, c, true) {
                    s.write = None;
                }
            }
            for t in 0..n {
                if s.reads[t] > 0 && known(loc, t, s.reads[t], false) {
                    s.reads[t] = 0;
                }
            }
            s.write.is_some() || s.reads.iter().any(|&r| r > 0)
        });
        if !self.rank_by_masks(n) {
            self.rank_by_sorting(n);
        }
    }

    /// The epochs' renaming by rank ([`Oracle::normalize_clocks`]) with each component's
    /// epochs as one bit mask, when every epoch is below 64 (the usual case: the values are
    /// ranks already, plus the ticks of one step): the floor of a value is then a population
    /// count. Returns false, changing nothing, when an epoch is 64 or more.
    fn rank_by_masks(&mut self, n: usize) -> bool {
        let mut masks = [1u64; MAX_THREADS];
        let mut small = true;
        let mut cut = |t: usize, c: u32| {
            if c < 64 {
                masks[t] |= 1 << c;
            } else {
                small = false;
            }
        };
        for t in 0..n {
            cut(t, self.clocks[t][t]);
        }
        for s in self.shadow.values() {
            for t in 0..n {
                cut(t, s.reads[t]);
            }
            if let Some((w, c)) = s.write {
                cut(w as usize, c);
            }
        }
        if !small {
            return false;
        }
        // The rank of the greatest epoch of `t` at or below `v` (0 is one).
        let floor = |t: usize, v: u32| {
            let below = if v >= 63 {
                masks[t]
            } else {
                masks[t] & ((2u64 << v) - 1)
            };
            below.count_ones() - 1
        };
        let floor_all = |c: &mut Vc| {
            for (t, v) in c[..n].iter_mut().enumerate() {
                *v = floor(t, *v);
            }
        };
        self.clocks.iter_mut().for_each(floor_all);
        self.lock_clocks.values_mut().for_each(floor_all);
        floor_all(&mut self.atomic);
        for s in self.shadow.values_mut() {
            floor_all(&mut s.reads);
            if let Some((w, c)) = &mut s.write {
                *c = floor(*w as usize, *c);
            }
        }
        true
    }

    /// The same renaming with each component's epochs sorted, for any values.
    fn rank_by_sorting(&mut self, n: usize) {
        let mut cuts: Vec<u32> = Vec::with_capacity(32);
        for t in 0..n {
            cuts.clear();
            cuts.push(0);
            cuts.push(self.clocks[t][t]);
            for s in self.shadow.values() {
                cuts.push(s.reads[t]);
                if let Some((_, c)) = s.write.filter(|(w, _)| *w as usize == t) {
                    cuts.push(c);
                }
            }
            cuts.sort_unstable();
            cuts.dedup();
            // The index of the greatest epoch at or below `v` (0 is one).
            let floor = |v: &mut u32| *v = (cuts.partition_point(|&c| c <= *v) - 1) as u32;
            self.clocks.iter_mut().for_each(|c| floor(&mut c[t]));
            self.lock_clocks.values_mut().for_each(|c| floor(&mut c[t]));
            floor(&mut self.atomic[t]);
            for s in self.shadow.values_mut() {
                floor(&mut s.reads[t]);
                if let Some((w, c)) = &mut s.write {
                    if *w as usize == t {
                        floor(c);
                    }
                }
            }
        }
    }

    /// An atomic read-modify-write with full ordering.
    pub(super) fn hb_atomic(&mut self, tid: Tid) {
        if !self.races {
            return;
        }
        let a = self.atomic;
        join(&mut self.clocks[tid as usize], &a);
        let c = self.clocks[tid as usize];
        join(&mut self.atomic, &c);
        self.tick(tid);
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
    pub(super) fn race(
        &mut self,
        world: &World,
        tid: Tid,
        loc: Loc,
        write: bool,
    ) -> Option<Violation> {
        let me = self.clocks[tid as usize];
        let s = self.shadow.entry_or(loc, Shadow::default);
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

/// One access of a step: the location, whether it writes, and the exclusive locks held.
pub type Access = (Loc, bool, Vec<Lock>);

/// Two threads whose next steps conflict on a location (one writes, no common exclusive lock)
/// can run in either order from `world`: a data race, whatever the history (the exhaustive
/// form of the happens-before detector that random runs use). `last` ran the step before.
/// Returns the cost (steps that switch thread) and the two steps.
pub fn coenabled_race(
    world: &World,
    last: Option<Tid>,
    acc: &[(Tid, Vec<Access>)],
) -> Option<(u8, Vec<Tid>, Violation)> {
    for (i, (a, aa)) in acc.iter().enumerate() {
        for (b, bb) in &acc[i + 1..] {
            for (loc, aw, al) in aa {
                let Some((_, bw, _)) = bb.iter().find(|(l, w, bl)| {
                    l == loc && (*aw || *w) && !bl.iter().any(|x| al.contains(x))
                }) else {
                    continue;
                };
                // Run the thread that ran last first, when it is one of them.
                let ((first, fw), (second, sw)) = if last == Some(*b) {
                    ((*b, *bw), (*a, *aw))
                } else {
                    ((*a, *aw), (*b, *bw))
                };
                let task = |t: Tid| world.threads[t as usize].role.task();
                let verb = |w: bool| if w { "writes" } else { "reads" };
                let v = Violation {
                    inv: Oracle::race_invariant(*loc),
                    tid: second,
                    msg: format!(
                        "data race on {}: {} {} it and {} {} it, in either order from the same state",
                        loc.name(),
                        task(first),
                        verb(fw),
                        task(second),
                        verb(sw)
                    ),
                };
                return Some((u8::from(Some(first) != last) + 1, vec![first, second], v));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mm::exec;
    use crate::mm::scenario::Thread;
    use mmfuzz::mm::builtin;
    use proptest::prelude::*;

    /// Every thread may still touch everything.
    const ALL: [Footprint; MAX_THREADS] = [Footprint {
        reads: u8::MAX,
        writes: u8::MAX,
    }; MAX_THREADS];

    /// One happens-before event: a lock taken or released, an atomic, an access.
    #[derive(Clone, Copy, Debug)]
    enum Op {
        Acquire(Lock),
        Release(Lock),
        Atomic,
        Access(Loc, bool),
    }

    fn op() -> impl Strategy<Value = (Tid, Op)> {
        let lock = prop_oneof![Just(Lock::MmapLock), Just(Lock::OomLock)];
        let loc = prop_oneof![Just(Loc::MmMmap), Just(Loc::VmaPtes(0)), Just(Loc::MmTree)];
        let op = prop_oneof![
            lock.clone().prop_map(Op::Acquire),
            lock.prop_map(Op::Release),
            Just(Op::Atomic),
            (loc, any::<bool>()).prop_map(|(l, w)| Op::Access(l, w)),
        ];
        (0..3 as Tid, op)
    }

    fn apply(o: &mut Oracle, world: &World, (t, op): (Tid, Op)) -> Option<Invariant> {
        match op {
            Op::Acquire(l) => o.hb_acquire(t, l),
            Op::Release(l) => o.hb_release(t, l),
            Op::Atomic => o.hb_atomic(t),
            Op::Access(loc, w) => return o.race(world, t, loc, w).map(|v| v.inv),
        }
        None
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// The abstraction keeps every verdict: an oracle abstracted after each event reports a
        /// race exactly where the exact one does, on any sequence of events (lock discipline
        /// not required: the detector's arithmetic is what is checked).
        #[test]
        fn abstract_clocks_give_the_same_races(ops in proptest::collection::vec(op(), 1..60)) {
            let prog = builtin::program("v6.1").unwrap();
            let threads = [Thread::Exit, Thread::OomReaper, Thread::Mrelease];
            let (_, world) = exec::start(&prog, &[], &threads).unwrap();
            let (mut exact, mut abs) = (Oracle::new(3), Oracle::new(3));
            for (i, &e) in ops.iter().enumerate() {
                let a = apply(&mut exact, &world, e);
                let b = apply(&mut abs, &world, e);
                // What each thread still does: the accesses of its later events; a thread with
                // no later event is done.
                let mut future = [Footprint::default(); MAX_THREADS];
                let mut done = 0b111u8;
                for &(t, op) in &ops[i + 1..] {
                    done &= !(1 << t);
                    if let Op::Access(loc, w) = op {
                        let f = &mut future[t as usize];
                        if w {
                            f.writes |= loc.class_bit();
                        } else {
                            f.reads |= loc.class_bit();
                        }
                    }
                }
                abs.normalize_clocks(done, &future);
                prop_assert_eq!(a, b, "event {} of {:?}", i, ops);
                if a.is_some() {
                    break;
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]
        /// The two renamings by rank agree: the bit-mask one (epochs below 64) gives the
        /// oracle the sorting one does.
        #[test]
        fn both_renamings_agree(ops in proptest::collection::vec(op(), 1..80)) {
            let prog = builtin::program("v6.1").unwrap();
            let threads = [Thread::Exit, Thread::OomReaper, Thread::Mrelease];
            let (_, world) = exec::start(&prog, &[], &threads).unwrap();
            let mut o = Oracle::new(3);
            for &e in &ops {
                if apply(&mut o, &world, e).is_some() {
                    break;
                }
                let (mut by_masks, mut by_sorting) = (o.clone(), o.clone());
                prop_assert!(by_masks.rank_by_masks(3));
                by_sorting.rank_by_sorting(3);
                prop_assert_eq!(&by_masks, &by_sorting);
                // Unrenamed values too, now and then, so that both see gaps.
                if ops.len() % 2 == 0 {
                    o = by_masks;
                }
            }
        }
    }

    #[test]
    fn a_read_epoch_survives_the_abstraction() {
        // Thread 1 reads, then moves on (a lock of its own); thread 0 takes and drops a lock
        // many times, then writes with nothing ordering it after the read: a race, however far
        // the clocks have counted.
        let prog = builtin::program("v6.1").unwrap();
        let (_, world) = exec::start(&prog, &[], &[Thread::Exit, Thread::OomReaper]).unwrap();
        let mut o = Oracle::new(2);
        assert!(o.race(&world, 1, Loc::MmMmap, false).is_none());
        o.hb_acquire(1, Lock::OomReaperLock);
        o.hb_release(1, Lock::OomReaperLock);
        o.normalize_clocks(0, &ALL);
        for _ in 0..5 {
            o.hb_acquire(0, Lock::OomLock);
            o.hb_release(0, Lock::OomLock);
            o.normalize_clocks(0, &ALL);
        }
        assert!(o.race(&world, 0, Loc::MmMmap, true).is_some());
    }
}
