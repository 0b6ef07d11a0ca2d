//! Exhaustive mode: every interleaving of a config's threads, over every set-up of a small
//! menu, breadth-first by numbered steps, so the first violation found is a shortest one.
//!
//! - A *numbered step* is a run of one thread (what the reports number and what shrinking
//!   minimises). The search is a 0-1 BFS: continuing the thread that ran last costs nothing,
//!   switching costs one, so levels are numbered-step counts.
//! - States are deduplicated on a hash of the world, the oracle's history (happens-before
//!   clocks, lock order) and the last thread. Per-thread step counters are cleared first.
//! - Reductions (`Bounds::reduce`; why each keeps every verdict: `docs/reductions.md`): a
//!   step that only touches its own thread is never preceded by a switch; a last thread that
//!   cannot run is forgotten; the happens-before clocks are rounded down to the epochs a check
//!   can still compare, and race history no thread may still check against is dropped
//!   ([`Oracle::normalize_clocks`]); under a preemption bound a state settled with fewer
//!   preemptions subsumes the same state with more; without one, a world settled at a lower
//!   cost dominates the same world with another last thread. Ways into one world at one cost
//!   share its expansion (exact: the same states, only less work).
//! - Each level is settled in batches, in order. A batch is settled before the children of
//!   the batch before it are queued; it is then expanded in parallel (rayon), in runs of
//!   nodes, while those are queued, in order. The visited set is in parts by key, settled in
//!   parallel, each in batch order. The order is fixed, so the result does not depend on
//!   `--jobs` or on timing.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};

use mmfuzz::mm::program::Futures;
use mmfuzz::mm::state::{Status, Thread as ThreadState, World, MAX_THREADS};
use mmfuzz::mm::Prim;
use mmfuzz::mm::{Decoded, Event, Lock, Program, Role, ThreadSpans, Tid};
use mmfuzz::mm::{Footprint, Loc};
use mmfuzz::pack::Reader;
use rayon::prelude::*;

use super::exec::{self, BadScenario, MAX_STEPS};
use super::oracle::{
    coenabled_race, end_checks, pack_state, when_stuck, Access, Oracle, Stuck, Violation,
};
use super::scenario::{flag_names, Scenario, Schedule, Setup, Thread};

/// Kinds of VMA the set-up menu offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VmaKind {
    /// Anonymous, `VM_ACCOUNT`, faulted in.
    Anon,
    /// File-backed, `VM_SHARED`, faulted in.
    File,
    /// Anonymous, `VM_ACCOUNT`, `mlock`ed.
    Mlock,
}

impl VmaKind {
    /// Every kind.
    pub const ALL: [VmaKind; 3] = [VmaKind::Anon, VmaKind::File, VmaKind::Mlock];
    /// The menu word.
    pub fn name(self) -> &'static str {
        match self {
            VmaKind::Anon => "anon",
            VmaKind::File => "file",
            VmaKind::Mlock => "mlock",
        }
    }
    /// Parse a menu word.
    pub fn parse(s: &str) -> Option<VmaKind> {
        VmaKind::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// The bounds of one search.
#[derive(Clone, Debug)]
pub struct Bounds {
    /// Most threads per scenario (the victim's exit counts as one); every smaller choice too.
    pub threads: usize,
    /// VMAs mapped by the set-up.
    pub vmas: u8,
    /// Kinds each VMA may be (every multiset of `vmas` of them is a set-up).
    pub menu: Vec<VmaKind>,
    /// Most switches away from a thread that could have gone on (unbounded if `None`).
    pub preemptions: Option<u8>,
    /// Stop (without a verdict) after this many states.
    pub max_states: u64,
    /// Stop (without a verdict) before this process's resident memory would pass this many
    /// bytes ([`MemoryBound`]); `None`: no bound.
    pub max_memory: Option<u64>,
    /// Deduplicate visited states.
    pub dedup: bool,
    /// Keep queued states encoded (compact bytes) rather than whole.
    pub compact: bool,
    /// Apply the reductions (`docs/reductions.md`).
    pub reduce: bool,
    /// With the reductions: expand a world once per cost, for every way it was reached
    /// (`docs/reductions.md`, 7); exact, it only saves work.
    pub share: bool,
    /// Races by the happens-before detector, its history part of the state (as in random
    /// runs: exact, larger state space); else as co-enabled conflicting steps (history-free,
    /// much smaller; a race may then take one numbered step more to show).
    pub hb: bool,
    /// A fixed set-up (from `import-maps`) instead of the menu's.
    pub setup: Option<Vec<Setup>>,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            threads: 3,
            vmas: 2,
            menu: vec![VmaKind::Anon, VmaKind::File],
            preemptions: None,
            max_states: 20_000_000,
            max_memory: None,
            dedup: true,
            compact: true,
            reduce: true,
            share: true,
            hb: true,
            setup: None,
        }
    }
}

/// One starting point: a set-up and the threads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Root {
    /// Set-up operations.
    pub setup: Vec<Setup>,
    /// Threads.
    pub threads: Vec<Thread>,
}

fn multisets(menu: &[VmaKind], n: u8) -> Vec<Vec<VmaKind>> {
    fn go(
        menu: &[VmaKind],
        n: u8,
        from: usize,
        cur: &mut Vec<VmaKind>,
        out: &mut Vec<Vec<VmaKind>>,
    ) {
        if n == 0 {
            out.push(cur.clone());
            return;
        }
        for i in from..menu.len() {
            cur.push(menu[i]);
            go(menu, n - 1, i, cur, out);
            cur.pop();
        }
    }
    let mut out = Vec::new();
    go(menu, n, 0, &mut Vec::new(), &mut out);
    out
}

fn combinations<T: Copy>(items: &[T], k: usize) -> Vec<Vec<T>> {
    if k == 0 {
        return vec![Vec::new()];
    }
    let mut out = Vec::new();
    for i in 0..items.len() {
        for mut rest in combinations(&items[i + 1..], k - 1) {
            rest.insert(0, items[i]);
            out.push(rest);
        }
    }
    out
}

/// Every set-up of `vmas` VMAs drawn from `menu`, each faulted in (or `mlock`ed).
fn menu_setups(menu: &[VmaKind], vmas: u8) -> Vec<Vec<Setup>> {
    let mut menu = menu.to_vec();
    menu.sort();
    menu.dedup();
    let mut setups = Vec::new();
    for kinds in multisets(&menu, vmas) {
        let mut setup = Vec::new();
        for (i, k) in kinds.iter().enumerate() {
            let (flags, anon) = match k {
                VmaKind::Anon | VmaKind::Mlock => {
                    (flag_names(mmfuzz::mm::types::vm::VM_ACCOUNT), true)
                }
                VmaKind::File => (flag_names(mmfuzz::mm::types::vm::VM_SHARED), false),
            };
            setup.push(Setup::Mmap {
                pages: 2,
                flags,
                anon,
            });
            setup.push(match k {
                VmaKind::Mlock => Setup::Mlock { vma: i as u8 },
                _ => Setup::Fault { vma: i as u8 },
            });
        }
        setups.push(setup);
    }
    setups
}

/// Every set-up of the menu (or the fixed one) and every legal choice of threads, for `prog`
/// (the same legality rules as the random generator: the reaper only runs for an OOM-killed
/// victim, a suspend scenario always runs the victim, the suspend and the reaper).
pub fn roots(prog: &Program, b: &Bounds) -> Vec<Root> {
    let offered = prog.offered();
    // A role listed k times gives k copies; a choice of threads is a multiset, so the same
    // choice reached through different copies is one root (identical instances are not
    // explored twice in each order of their copies).
    let copies = |roles: &[Role]| -> Vec<Thread> {
        roles
            .iter()
            .flat_map(|&r| std::iter::repeat_n(Thread::from_role(r), prog.instances(r)))
            .collect()
    };
    let choices = |pool: &[Thread], k: usize| -> Vec<Vec<Thread>> {
        let mut seen = std::collections::HashSet::new();
        (0..=k)
            .flat_map(|k| combinations(pool, k))
            .filter(|c| seen.insert(c.clone()))
            .collect()
    };
    let setups = match &b.setup {
        Some(s) => vec![s.clone()],
        None => menu_setups(&b.menu, b.vmas),
    };
    let mut out = Vec::new();
    let families = crate::mm::generate::Family::offered(&offered);
    let has = |f| families.contains(&f);
    use crate::mm::generate::Family;
    for setup in setups {
        if has(Family::Fork) {
            // A fork of the set-up's process failing at each of its VMAs (or after the last),
            // against the swapoff walkers.
            let live = setup
                .iter()
                .map(|s| match s {
                    Setup::Mmap { .. } => 1i32,
                    Setup::Munmap { .. } => -1,
                    _ => 0,
                })
                .sum::<i32>()
                .max(0) as u8;
            let extra = copies(&[Role::Swapoff]);
            let k = b.threads.saturating_sub(1).min(extra.len());
            for more in choices(&extra, k) {
                for at in 0..=live {
                    let mut s = setup.clone();
                    s.push(Setup::ForkFails { vma: at });
                    let mut threads = vec![Thread::Fork];
                    threads.extend(more.iter().copied());
                    out.push(Root { setup: s, threads });
                }
            }
        }
        if has(Family::Suspend) {
            let base = [Thread::User, Thread::Pm, Thread::OomReaper];
            let extra = copies(&[Role::OomKill, Role::Holder]);
            let k = b.threads.saturating_sub(base.len()).min(extra.len());
            for more in choices(&extra, k) {
                let mut threads = base.to_vec();
                threads.extend(more);
                out.push(Root {
                    setup: setup.clone(),
                    threads,
                });
            }
        }
        if has(Family::Cgroup) {
            // A user task's threads (one always runs) in a cgroup v1 freezer, frozen or not,
            // against the allocator and the reaper (which needs the allocator's kill).
            let mut extra: Vec<Thread> =
                std::iter::repeat_n(Thread::User, prog.instances(Role::User) - 1).collect();
            extra.extend(copies(&[Role::OomKill, Role::OomReaper]));
            let k = b.threads.saturating_sub(1).min(extra.len());
            for more in choices(&extra, k) {
                if more.contains(&Thread::OomReaper) && !more.contains(&Thread::OomKill) {
                    continue;
                }
                for freeze in [Some(Setup::CgroupFreeze), None] {
                    let mut s = setup.clone();
                    s.extend(freeze);
                    let mut threads = vec![Thread::User];
                    threads.extend(more.iter().copied());
                    out.push(Root { setup: s, threads });
                }
            }
        }
        if !has(Family::Teardown) {
            continue;
        }
        let others = copies(&[
            Role::OomReaper,
            Role::Mrelease,
            Role::Proc,
            Role::Swapoff,
            Role::Maps,
            Role::Ptrace,
            Role::OomKill,
            Role::Fault,
            Role::Munmap,
        ]);
        let k = b.threads.saturating_sub(1).min(others.len());
        for more in choices(&others, k) {
            let killer = more.contains(&Thread::OomKill);
            let reaper = more.contains(&Thread::OomReaper);
            let kills: &[Option<Setup>] = if killer {
                &[None]
            } else if reaper {
                &[Some(Setup::OomKill)]
            } else {
                &[Some(Setup::OomKill), Some(Setup::Kill), None]
            };
            for kill in kills {
                let mut s = setup.clone();
                s.extend(kill.clone());
                let mut threads = vec![Thread::Exit];
                threads.extend(more.iter().copied());
                out.push(Root { setup: s, threads });
            }
        }
    }
    out
}

/// A step that touches only its own thread's state and reports nothing to the oracles (the
/// table's footprint column, [`mmfuzz::mm::PrimInfo::local`]).
fn thread_local(p: Prim) -> bool {
    p.info().local
}

/// The result of a search.
#[derive(Clone, Debug)]
pub struct Report {
    /// The shortest counterexample (its numbered steps are `steps`), if any.
    pub counterexample: Option<(Scenario, Violation)>,
    /// With no counterexample, the shortest path on which a proxy invariant broke (a latent
    /// defect: the search went on past it and no harm followed anywhere), and that proxy.
    pub latent: Option<(Scenario, Violation)>,
    /// Numbered steps of the counterexample.
    pub steps: Option<usize>,
    /// Distinct states settled.
    pub states: u64,
    /// Edges of the state graph: each step from each state settled.
    pub transitions: u64,
    /// Steps taken: the transitions less those shared ([`Bounds::share`]).
    pub taken: u64,
    /// Set-ups × thread choices explored.
    pub roots: usize,
    /// Deepest level (numbered steps) completed.
    pub levels: usize,
    /// The search stopped at `max_states` or at `max_memory` before it was complete.
    pub truncated: bool,
    /// It stopped at `max_memory` (with [`Report::truncated`]).
    pub memory_bound: bool,
    /// The search was stopped from outside ([`search_until`]) before it was complete.
    pub interrupted: bool,
}

/// An estimate of the search's size before it starts: for each root, the product over threads
/// of (path length + 1) when each thread runs alone, summed. It counts program-counter
/// combinations; data and happens-before history can multiply it, deduplication divides it.
pub fn estimate(prog: &Program, roots: &[Root]) -> Result<f64, BadScenario> {
    let mut total = 0.0;
    for r in roots {
        let (_, world) = exec::start(prog, &r.setup, &r.threads)?;
        let mut prod = 1.0f64;
        for t in 0..world.threads.len() {
            // Run thread t first for as long as it can, then the rest.
            let sc = Scenario {
                setup: r.setup.clone(),
                threads: r.threads.clone(),
                schedule: Schedule::Segments(vec![(t as u8, u16::MAX)]),
            };
            let out = exec::run(
                prog,
                &sc,
                exec::Opts {
                    record: true,
                    races: false,
                },
            )?;
            let own = out.trace.iter().filter(|s| s.tid as usize == t).count();
            prod *= own as f64 + 1.0;
        }
        total += prod * world.threads.len() as f64;
    }
    Ok(total)
}

#[derive(Clone)]
struct Node {
    world: World,
    oracle: Oracle,
    head: Head,
}

/// One way a queued world was reached at its cost: the thread that ran last, the preemptions
/// spent, and the path (the arena index of the parent and the thread that stepped, `FIRE`: a
/// timeout fired).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Via {
    last: Option<Tid>,
    pre: u8,
    tid: Tid,
    depth: u32,
    parent: u32,
}

/// What the search keeps of a node beside its world and oracle (a packed node keeps it
/// unpacked).
#[derive(Clone, Copy)]
struct Head {
    root: u32,
    /// The world's and the oracle's [`fingerprint`] (not the last thread or the preemptions),
    /// computed where the node is made (in parallel).
    key: u64,
    /// The first way it was reached at its cost.
    via: Via,
    /// The others, chained through its [`Level`]'s `more` (`NONE`: none). Under the
    /// reductions every way to one world at one cost is one node, expanded once.
    more: u32,
}

const FIRE: Tid = Tid::MAX;
const NONE: u32 = u32::MAX;

/// Most ways into one node: one per last thread, and none.
const MAX_WAYS: usize = MAX_THREADS + 1;

/// The ways into a settled node that nothing settled before subsumes, each with its arena
/// index.
#[derive(Clone, Copy, Default)]
struct Ways {
    len: usize,
    at: [(u32, Via); MAX_WAYS],
    /// Without a preemption bound: the last threads (bit 7: none) of the ways into the same
    /// world expanded earlier at this cost, whose children [`expand`] need not queue again.
    prior: u8,
}

impl Ways {
    fn push(&mut self, w: (u32, Via)) {
        self.at[self.len] = w;
        self.len += 1;
    }

    fn as_slice(&self) -> &[(u32, Via)] {
        &self.at[..self.len]
    }
}

/// [`pack_state`] of a node: its bytes in `buf`, and the fingerprint of what its future
/// depends on but its last thread and preemptions ([`Frontier`] mixes in the rest).
fn encode(n: &Node, buf: &mut Vec<u8>) -> u64 {
    pack_state((&n.world, None), &n.oracle, buf)
}

thread_local! {
    /// Encoding scratch, reused.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// [`encode`]'s fingerprint alone.
fn fingerprint(n: &Node) -> u64 {
    SCRATCH.with_borrow_mut(|b| encode(n, b))
}

/// `key` with a small value mixed in (`salt` tells the values apart).
fn mix(key: u64, v: u64, salt: u32) -> u64 {
    key ^ v
        .wrapping_add(1)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .rotate_left(salt)
}

/// The fingerprint sets' hasher: the keys are already uniform 64-bit hashes.
#[derive(Default)]
struct Fp(u64);

impl Hasher for Fp {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, k: u64) {
        self.0 = k;
    }
}

/// Where a packed state's bytes are in an [`Arena`].
#[derive(Clone, Copy)]
struct Span {
    chunk: u32,
    off: u32,
    len: u32,
}

/// Encoded states, appended in order into chunks of `size` bytes: one allocation per chunk,
/// not per state, and the chunks before the oldest state still queued are freed.
struct Arena {
    chunks: VecDeque<Vec<u8>>,
    /// The sequence number of `chunks[0]`.
    base: u32,
    size: usize,
}

impl Arena {
    fn new(size: usize) -> Arena {
        Arena {
            chunks: VecDeque::new(),
            base: 0,
            size,
        }
    }

    fn push(&mut self, bytes: &[u8]) -> Span {
        let fits = self
            .chunks
            .back()
            .is_some_and(|c| c.len() + bytes.len() <= c.capacity());
        if !fits {
            self.chunks
                .push_back(Vec::with_capacity(self.size.max(bytes.len())));
        }
        let chunk = self.base + self.chunks.len() as u32 - 1;
        let c = self.chunks.back_mut().expect("a chunk was just made");
        let off = c.len() as u32;
        c.extend_from_slice(bytes);
        Span {
            chunk,
            off,
            len: bytes.len() as u32,
        }
    }

    fn get(&self, s: Span) -> &[u8] {
        &self.chunks[(s.chunk - self.base) as usize][s.off as usize..][..s.len as usize]
    }

    /// Free the chunks before `chunk`.
    fn release_before(&mut self, chunk: u32) {
        while self.base < chunk && self.chunks.pop_front().is_some() {
            self.base += 1;
        }
    }
}

/// Bytes of a frontier arena's chunk.
const CHUNK: usize = 1 << 20;

/// Bytes of a chunk of one batch's states, copied out of the queue.
const BATCH_CHUNK: usize = 1 << 16;

/// Bytes of the first chunk of one expansion's children (a few states each of
/// [`EXPAND_CHUNK`] nodes).
const EXPANSION_CHUNK: usize = 1 << 15;

/// Nodes of a batch expanded together, in order, into one [`Expansion`] (its tables are
/// allocated once for them all).
const EXPAND_CHUNK: usize = 64;

/// A queued state: whole, or (`Bounds::compact`) its world and oracle [`encode`]d (a tenth of
/// the whole node's heap or less) in an [`Arena`], decoded when it is settled. The encoding
/// is exact, so the search is the same either way.
enum Queued {
    Whole(Box<Node>),
    Packed { at: Span, head: Head },
}

impl Queued {
    /// Queue `n`, encoded into `arena` if `b.compact`.
    fn new(n: Node, b: &Bounds, arena: &mut Arena) -> Queued {
        if b.compact {
            SCRATCH.with_borrow_mut(|buf| {
                encode(&n, buf);
                Queued::Packed {
                    at: arena.push(buf),
                    head: n.head,
                }
            })
        } else {
            Queued::Whole(Box::new(n))
        }
    }

    /// The same state with its bytes copied from `from` to `to`.
    fn moved(mut self, from: &Arena, to: &mut Arena) -> Queued {
        if let Queued::Packed { at, .. } = &mut self {
            *at = to.push(from.get(*at));
        }
        self
    }

    /// The node, decoded from `arena` if packed, with where its threads' bytes are in
    /// [`Queued::bytes`] (`spans`; none if whole).
    fn node<'a>(&'a self, arena: &Arena, spans: &mut ThreadSpans) -> std::borrow::Cow<'a, Node> {
        spans.clear();
        match self {
            Queued::Whole(n) => std::borrow::Cow::Borrowed(n),
            Queued::Packed { at, head } => {
                let mut r = Reader::new(arena.get(*at));
                let world = World::unpack_spans(&mut r, spans);
                let oracle = Oracle::unpack(&mut r);
                assert!(
                    r.done(),
                    "a queued state decodes: it was encoded by this process"
                );
                std::borrow::Cow::Owned(Node {
                    world,
                    oracle,
                    head: *head,
                })
            }
        }
    }

    /// The encoded bytes (none if whole).
    fn bytes<'a>(&self, arena: &'a Arena) -> &'a [u8] {
        match self {
            Queued::Whole(_) => &[],
            Queued::Packed { at, .. } => arena.get(*at),
        }
    }

    fn head(&self) -> Head {
        match self {
            Queued::Whole(n) => n.head,
            Queued::Packed { head, .. } => *head,
        }
    }

    fn head_mut(&mut self) -> &mut Head {
        match self {
            Queued::Whole(n) => &mut n.head,
            Queued::Packed { head, .. } => head,
        }
    }
}

/// A violation found expanding a node: its cost above the node's level, the arena index of
/// the way it continues, the steps after the node, the violation.
type Found = (u8, u32, Vec<Tid>, Violation);

/// What expanding a run of nodes gave, in order.
struct Expansion {
    /// Children at the node's cost and at the next (packed into `bytes` if `Bounds::compact`).
    zero: Vec<Queued>,
    one: Vec<Queued>,
    bytes: Arena,
    /// The cheapest violation.
    violation: Option<Found>,
    /// The same for the first proxy broken on a path ([`Oracle::mechanism`]).
    latent: Option<Found>,
    /// Edges of the state graph: steps from each way in.
    transitions: u64,
    /// Steps taken.
    taken: u64,
}

impl Expansion {
    fn new() -> Expansion {
        Expansion {
            zero: Vec::new(),
            one: Vec::new(),
            bytes: Arena::new(EXPANSION_CHUNK),
            violation: None,
            latent: None,
            transitions: 0,
            taken: 0,
        }
    }

    /// Keep `f` if it is cheaper than the violation kept (ties: the first).
    fn found(slot: &mut Option<Found>, f: Found) {
        if slot.as_ref().is_none_or(|g| f.0 < g.0) {
            *slot = Some(f);
        }
    }
}

/// The last thread a child keeps ([`Bounds::reduce`]): one that cannot run while another can
/// is forgotten, since every next step then switches and none preempts, so states that differ
/// only in it are one. (With none runnable it is kept: a timeout may wake it to go on at no
/// cost.)
fn kept_last(b: &Bounds, w: &World, last: Option<Tid>) -> Option<Tid> {
    let forget =
        |l: Tid| w.threads[l as usize].status != Status::Runnable && w.runnable().next().is_some();
    if b.reduce {
        last.filter(|&l| !forget(l))
    } else {
        last
    }
}

/// Queue a child of root `root` at each of `heads` (its cost above the node's and the way it
/// came), unless a state settled in `q` subsumes it. One encoding serves every way (whole,
/// not `compact`: a copy each); it copies the bytes of the threads the child shares with
/// `parent`.
fn keep(
    (q, b): (&Visited, &Bounds),
    root: u32,
    (world, oracle, parent): (&World, &Oracle, Option<Decoded<'_>>),
    heads: &[(u8, Via)],
    x: &mut Expansion,
) {
    SCRATCH.with_borrow_mut(|buf| {
        let key = pack_state((world, parent), oracle, buf);
        let mut at: Option<Span> = None;
        for &(cost, via) in heads {
            if b.dedup && q.has(key, via, cost) {
                continue;
            }
            let head = Head {
                root,
                key: if b.dedup { key } else { 0 },
                via,
                more: NONE,
            };
            let c = if b.compact {
                Queued::Packed {
                    at: *at.get_or_insert_with(|| x.bytes.push(buf)),
                    head,
                }
            } else {
                Queued::Whole(Box::new(Node {
                    world: world.clone(),
                    oracle: oracle.clone(),
                    head,
                }))
            };
            if cost == 0 {
                x.zero.push(c);
            } else {
                x.one.push(c);
            }
        }
    });
}

/// A way into the node [`expand`] expands: its arena index and way, the last thread if it can
/// run, and the one thread it must go on with (a thread-local next step, never preceded by a
/// switch) if any.
struct Arrival {
    idx: u32,
    via: Via,
    last_runs: Option<Tid>,
    only: Option<Tid>,
}

/// What the ways into world `w` expanded earlier at this cost (last threads `prior`, bit 7:
/// none) queued for each thread's next step: the cheapest cost, if any. Only without a
/// preemption bound (there a cheaper way may have spent more preemptions) and with the
/// happens-before detector (the co-enabled check needs every step's accesses).
fn earlier(
    (prog, w): (&Program, &World),
    runnable: &[Tid],
    prior: u8,
    b: &Bounds,
) -> [Option<u8>; MAX_THREADS] {
    let mut best = [None; MAX_THREADS];
    if prior == 0 || !b.hb || !b.reduce || !b.share || b.preemptions.is_some() {
        return best;
    }
    // A way whose last thread can run and whose next step is thread-local continued only it.
    let only = |l: usize| {
        let l = l as Tid;
        runnable.contains(&l) && w.next_prim(prog, l).is_some_and(thread_local)
    };
    for &t in runnable {
        let t = t as usize;
        best[t] = if prior & 1 << t != 0 {
            Some(0)
        } else if (0..8).any(|l| prior & 1 << l != 0 && (l == 7 || !only(l))) {
            Some(1)
        } else {
            None
        };
    }
    best
}

/// A short list kept inline (at most one item per thread or per way in: no allocation).
type Few<T> = smallvec::SmallVec<[T; MAX_WAYS]>;

/// A step from an entry: its cost, the preemptions after it, the entry's index.
type Cand = (u8, u8, usize);

/// The steps from `entries` by thread `t` within the bounds, cheapest first (then fewest
/// preemptions, then the first entry).
fn candidates(entries: &[Arrival], t: Tid, b: &Bounds) -> Few<Cand> {
    let mut c: Few<Cand> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.only.is_none_or(|o| o == t))
        .map(|(k, e)| {
            let cost = u8::from(Some(t) != e.via.last);
            let preempt = e.last_runs.is_some() && Some(t) != e.last_runs;
            (cost, e.via.pre + u8::from(preempt), k)
        })
        .filter(|&(_, pre, _)| b.preemptions.is_none_or(|p| pre <= p))
        .collect();
    c.sort_by_key(|&(cost, pre, k)| (cost, pre, k));
    c
}

/// The candidates a child is queued with: one per cost that no cheaper one dominates (under
/// a preemption bound, one with at least as few preemptions; without one, any). The same
/// world with the same last thread at a higher cost is subsumed by the settled one
/// (`docs/reductions.md`, 4 and 6), so dropping it here changes nothing.
fn kept_candidates(c: &[Cand], b: &Bounds) -> Few<Cand> {
    let mut kept: Few<Cand> = Few::new();
    for &(cost, pre, k) in c {
        let dominated = kept
            .iter()
            .any(|&(kc, kp, _)| kc <= cost && (b.preemptions.is_none() || kp <= pre));
        if !(b.reduce && dominated) {
            kept.push((cost, pre, k));
        }
    }
    kept
}

/// Expand the node `n`, settled through `ways`, into `x` (after what it holds): each step
/// from it is taken once, and a child is queued for the cheapest ways it continues
/// ([`kept_candidates`]). The result is the union of what expanding each way alone would
/// queue.
fn expand(
    (prog, futures): (&Program, &Futures),
    initial: &[World],
    (n, ways, (bytes, spans)): (std::borrow::Cow<'_, Node>, &Ways, (&[u8], &ThreadSpans)),
    (q, b): (&Visited, &Bounds),
    (x, ev): (&mut Expansion, &mut Vec<Event>),
) {
    let root = n.head.root;
    let mechanism = n.oracle.mechanism.is_some();
    let runnable: Few<Tid> = n.world.runnable().collect();
    if runnable.is_empty() {
        stuck((prog, initial), &n, ways.as_slice(), (q, b), x);
        return;
    }
    let entries: Few<Arrival> = ways
        .as_slice()
        .iter()
        .filter(|(_, v)| (v.depth as usize) < MAX_STEPS)
        .map(|&(idx, via)| {
            let last_runs = via.last.filter(|l| runnable.contains(l));
            let only = last_runs
                .filter(|&l| b.reduce && n.world.next_prim(prog, l).is_some_and(thread_local));
            Arrival {
                idx,
                via,
                last_runs,
                only,
            }
        })
        .collect();
    let before = earlier((prog, &n.world), &runnable, ways.prior, b);
    let mut plan: Few<(Tid, Few<Cand>)> = Few::new();
    for &t in &runnable {
        let mut c = candidates(&entries, t, b);
        x.transitions += c.len() as u64;
        // A step whose every way in costs no less than from a way expanded before at this
        // cost gives nothing new: that way queued the same child, no dearer, and reported
        // the same violation.
        c.retain(|&mut (cost, _, _)| before[t as usize].is_none_or(|p| cost < p));
        if !c.is_empty() {
            plan.push((t, c));
        }
    }
    // Accesses of each thread's next step with the exclusive locks held at each, and the
    // entries that step continues, for the co-enabled race check.
    let mut acc: Vec<(Tid, Vec<Access>)> = Vec::new();
    let mut acc_from: Vec<u8> = Vec::new();
    // The last step takes the node's own world and oracle, when they are not borrowed and
    // not needed after the loop (the co-enabled check reads the node's world).
    let owned = b.hb && matches!(n, std::borrow::Cow::Owned(_));
    let take_at = plan.len().checked_sub(1).filter(|_| owned);
    // What the node's clocks are abstracted for (not after a timeout fired, or at a root).
    let abstracted =
        (b.reduce && b.hb && n.head.via.tid != FIRE).then(|| abstraction_inputs(futures, &n.world));
    // The node's threads, for the child that takes its world (the others read them in the
    // node) to copy the bytes of those it shares.
    let kept: Option<Vec<ThreadState>> = take_at
        .filter(|_| !spans.is_empty())
        .map(|_| n.world.threads.clone());
    let mut n = Some(n);
    // Whether a step from this node broke an invariant (`x` may hold an earlier node's).
    let mut broke = false;
    for (i, (t, cands)) in plan.into_iter().enumerate() {
        let (mut w, mut o) = if take_at == Some(i) {
            let n = n.take().expect("taken once").into_owned();
            (n.world, n.oracle)
        } else {
            let n = n.as_ref().expect("not taken yet");
            (n.world.clone(), n.oracle.clone())
        };
        let step = exec::step_checked(prog, &mut w, &mut o, t, ev);
        x.taken += 1;
        if !b.hb {
            acc.push((t, accesses(t, &step.held_before, ev)));
            acc_from.push(cands.iter().fold(0, |m, &(_, _, k)| m | 1 << k));
        }
        let (cost, _, k) = cands[0];
        if let Some(v) = step.violation {
            Expansion::found(&mut x.violation, (cost, entries[k].idx, vec![t], v));
            broke = true;
            continue;
        }
        if let Some(m) = o.mechanism.clone().filter(|_| !mechanism) {
            Expansion::found(&mut x.latent, (cost, entries[k].idx, vec![t], m));
        }
        for th in &mut w.threads {
            th.steps = 0;
        }
        if b.reduce && b.hb {
            abstract_clocks(futures, (&w, &mut o), ev, abstracted);
        }
        let last = kept_last(b, &w, Some(t));
        let heads: Few<(u8, Via)> = kept_candidates(&cands, b)
            .into_iter()
            .map(|(cost, pre, k)| {
                let (parent, depth) = (entries[k].idx, entries[k].via.depth + 1);
                let tid = t;
                (
                    cost,
                    Via {
                        last,
                        pre,
                        tid,
                        depth,
                        parent,
                    },
                )
            })
            .collect();
        let threads: &[ThreadState] = match (&kept, &n) {
            (Some(k), _) => k,
            (None, Some(n)) => &n.world.threads,
            (None, None) => &[],
        };
        let parent = (!spans.is_empty()).then_some((threads, bytes, spans));
        keep((q, b), root, (&w, &o, parent), &heads, x);
    }
    if !broke && !b.hb {
        let n = n.as_ref().expect("kept for the co-enabled check");
        for (k, e) in entries.iter().enumerate() {
            // The steps this way may take (usually all of them).
            let mine: std::borrow::Cow<'_, [(Tid, Vec<Access>)]> =
                if acc_from.iter().all(|&from| from & 1 << k != 0) {
                    std::borrow::Cow::Borrowed(&acc)
                } else {
                    let zip = acc.iter().zip(&acc_from);
                    let from = zip.filter(|(_, &from)| from & 1 << k != 0);
                    std::borrow::Cow::Owned(from.map(|(a, _)| a.clone()).collect())
                };
            if let Some((c, tids, v)) = coenabled_race(&n.world, e.via.last, &mine) {
                Expansion::found(&mut x.violation, (c, e.idx, tids, v));
            }
        }
    }
}

/// Expand a node where no thread can run: a timeout fires (one child per way in: their last
/// threads differ), or the run is over and the end checks run, or the stuck state is itself
/// a violation.
fn stuck(
    (prog, initial): (&Program, &[World]),
    n: &Node,
    ways: &[(u32, Via)],
    (q, b): (&Visited, &Bounds),
    x: &mut Expansion,
) {
    let mut w = n.world.clone();
    let mut ev = Vec::new();
    let first = ways[0].0;
    match when_stuck(prog, &mut w, &mut ev) {
        Stuck::Fired => {
            x.transitions += ways.len() as u64;
            x.taken += 1;
            let heads: Vec<(u8, Via)> = ways
                .iter()
                .map(|&(idx, v)| {
                    let via = Via {
                        last: kept_last(b, &w, v.last),
                        pre: v.pre,
                        tid: FIRE,
                        depth: v.depth + 1,
                        parent: idx,
                    };
                    (0, via)
                })
                .collect();
            keep((q, b), n.head.root, (&w, &n.oracle, None), &heads, x);
        }
        Stuck::Idle => {
            if let Some(v) = end_checks(&initial[n.head.root as usize], &n.world) {
                Expansion::found(&mut x.violation, (0, first, Vec::new(), v));
            }
        }
        Stuck::Violation(v) => Expansion::found(&mut x.violation, (0, first, Vec::new(), v)),
    }
}

/// Abstract a child's clocks ([`Oracle::normalize_clocks`]) for its world `w`, unless its
/// step left them abstracted: a step with no event the race detector records, that leaves
/// every thread's future and the done threads as they were in the node, whose clocks were
/// abstracted for `abstracted` (the abstraction is idempotent).
fn abstract_clocks(
    futures: &Futures,
    (w, o): (&World, &mut Oracle),
    ev: &[Event],
    abstracted: Option<(u8, [Footprint; MAX_THREADS])>,
) {
    let now = abstraction_inputs(futures, w);
    let quiet = !ev.iter().any(|e| {
        matches!(
            e,
            Event::Acquire { .. }
                | Event::Release { .. }
                | Event::Atomic { .. }
                | Event::Access { .. }
        )
    });
    if !(quiet && abstracted == Some(now)) {
        o.normalize_clocks(now.0, &now.1);
    } else if cfg!(test) {
        let mut again = o.clone();
        again.normalize_clocks(now.0, &now.1);
        assert!(again == *o, "a quiet step left the clocks unabstracted");
    }
}

/// What [`Oracle::normalize_clocks`] abstracts a world's clocks for: the done threads, and
/// what each thread may still touch.
fn abstraction_inputs(futures: &Futures, w: &World) -> (u8, [Footprint; MAX_THREADS]) {
    let mut done = 0u8;
    let mut future = [Footprint::default(); MAX_THREADS];
    for (i, th) in w.threads.iter().enumerate() {
        done |= u8::from(th.status == Status::Done) << i;
        future[i] = futures.of(&th.frames);
    }
    (done, future)
}

/// The accesses of `t`'s step (its events `ev`), each with the exclusive locks `t` held at
/// it (`held_before` the step, then its own acquires and releases), for the co-enabled race
/// check.
fn accesses(t: Tid, held_before: &[(Lock, bool)], ev: &[Event]) -> Vec<Access> {
    let mut locks: Vec<Lock> = held_before
        .iter()
        .filter(|(_, shared)| !shared)
        .map(|(l, _)| *l)
        .collect();
    let mut mine = Vec::new();
    for e in ev {
        match *e {
            Event::Acquire {
                tid,
                lock,
                shared: false,
            } if tid == t => locks.push(lock),
            Event::Release { tid, lock, .. } if tid == t => locks.retain(|l| *l != lock),
            Event::Access {
                tid, loc, write, ..
            } if tid == t && loc != Loc::MmStruct => mine.push((loc, write, locks.clone())),
            _ => {}
        }
    }
    mine
}

/// Explore every interleaving of every root within the bounds. `progress` is called after
/// each batch with (level, states, transitions).
pub fn search(
    prog: &Program,
    b: &Bounds,
    roots: &[Root],
    progress: impl FnMut(usize, u64, u64),
) -> Result<Report, BadScenario> {
    search_until(prog, b, roots, &AtomicBool::new(false), progress)
}

/// What the visited set keeps of a settled state.
#[derive(Clone, Copy)]
struct Seen {
    /// The cost it was first settled at (`by_world`).
    level: u32,
    /// `by_world`: the last threads it was settled with at that cost (bit 7: none); else 0.
    bits: u8,
    /// `by_world`: those of `bits` whose way was expanded (not cut at `MAX_STEPS`).
    expanded: u8,
}

/// What the visited set keeps of a settled world under preemption subsumption (`subsume`),
/// one lookup for both of its rules.
#[derive(Clone, Copy)]
struct SeenBounded {
    /// The cost it was first settled at, and the fewest preemptions it was settled with
    /// then (last-thread dominance under a bound).
    level: u32,
    first: u8,
    /// For each last thread ([`Visited::slot`]), the preemptions it was last settled with
    /// (the fewest: a state is settled again only with fewer); `u8::MAX`: never.
    pre: [u8; 8],
}

/// The states queued at one cost, in order: their bytes, the further ways into each
/// ([`Head::more`]), and the queue keys with their positions. A key whose position was
/// taken (settled) is not queued; it stays in the map until the level is done, which saves
/// a lookup per state.
struct Level {
    queue: VecDeque<Queued>,
    bytes: Arena,
    more: Vec<(Via, u32)>,
    keys: HashMap<u64, u32, std::hash::BuildHasherDefault<Fp>>,
    /// How many were taken from the front: a position less this is an index into `queue`.
    taken: u32,
}

impl Level {
    fn new() -> Level {
        Level {
            queue: VecDeque::new(),
            bytes: Arena::new(CHUNK),
            more: Vec::new(),
            keys: HashMap::default(),
            taken: 0,
        }
    }

    /// The ways into the queued node with head `h`.
    fn ways(&self, h: Head) -> impl Iterator<Item = Via> + '_ {
        std::iter::successors(Some((h.via, h.more)), |&(_, next)| {
            (next != NONE).then(|| self.more[next as usize])
        })
        .map(|(v, _)| v)
    }

    /// Queue `c` (its bytes in `from`) under key `k`: a new node (true), else (`merge`) a new
    /// way into the node queued under `k`, or a better one in place of the way with the same
    /// last thread (`subsume`: fewer preemptions), or nothing.
    fn add(&mut self, k: u64, c: Queued, from: &Arena, (merge, subsume): (bool, bool)) -> bool {
        let pos = self.taken + self.queue.len() as u32;
        let at = match self.keys.entry(k) {
            Entry::Occupied(e) if *e.get() >= self.taken => {
                if !merge {
                    return false;
                }
                (*e.get() - self.taken) as usize
            }
            e => {
                e.insert_entry(pos);
                self.queue.push_back(c.moved(from, &mut self.bytes));
                return true;
            }
        };
        let v = c.head().via;
        let better = |w: &Via| subsume && v.pre < w.pre;
        let h = self.queue[at].head_mut();
        if h.via.last == v.last {
            if better(&h.via) {
                h.via = v;
            }
            return false;
        }
        let (mut link, mut tail) = (h.more, None);
        while link != NONE {
            let (w, next) = &mut self.more[link as usize];
            if w.last == v.last {
                if better(w) {
                    *w = v;
                }
                return false;
            }
            tail = Some(link);
            link = *next;
        }
        let new = self.more.len() as u32;
        self.more.push((v, NONE));
        match tail {
            None => self.queue[at].head_mut().more = new,
            Some(t) => self.more[t as usize].1 = new,
        }
        false
    }
}

/// The queues of the search: the states queued at this cost (`work`) and at the next, the
/// settled states, and the arena of settled ways.
struct Frontier {
    /// A state queued at the next cost and then reached at this one is queued again here;
    /// its later copy is dropped when settled. Within one level a state already queued is not
    /// stored again (the frontier would otherwise hold every duplicate until it is settled).
    work: Level,
    next: Level,
    seen: Visited,
    /// Settled ways.
    arena: Trail,
}

/// The settled ways, in order: each way's parent (its index here) and the thread that stepped
/// into it; a root's entry is its root's index and [`ROOT`]. In chunks, so that it never
/// copies itself to grow (the search's largest table after the visited set).
#[derive(Default)]
struct Trail {
    chunks: Vec<Vec<(u32, Tid)>>,
    len: u32,
}

/// Entries of a [`Trail`] chunk.
const TRAIL_CHUNK: usize = 1 << 16;

/// The thread of a root's [`Trail`] entry.
const ROOT: Tid = Tid::MAX - 1;

impl Trail {
    /// Add the way `v` into a node of root `root`; its index.
    fn push(&mut self, v: Via, root: u32) -> u32 {
        if self.len as usize % TRAIL_CHUNK == 0 {
            self.chunks.push(Vec::with_capacity(TRAIL_CHUNK));
        }
        let e = if v.parent == NONE {
            (root, ROOT)
        } else {
            (v.parent, v.tid)
        };
        self.chunks
            .last_mut()
            .expect("a chunk was just made")
            .push(e);
        self.len += 1;
        self.len - 1
    }

    fn get(&self, i: u32) -> (u32, Tid) {
        self.chunks[i as usize / TRAIL_CHUNK][i as usize % TRAIL_CHUNK]
    }
}

/// The settled states, and how states are keyed: what [`expand`] reads, while the queues
/// take the batch before's children.
struct Visited {
    /// The cost being settled.
    level: u32,
    /// The settled states, split by key ([`shard`]) so that a batch is settled in parallel.
    shards: Vec<Shard>,
    dedup: bool,
    /// Every way into one world at one cost is one node, expanded once (the reductions, with
    /// dedup): the queues key on the world alone.
    merge: bool,
    /// The preemptions are part of the key (a bound, no reduction).
    with_pre: bool,
    /// Preemption subsumption: a state already settled with at most as many preemptions
    /// subsumes it (states are settled in order of cost, so it came at no greater cost, and
    /// every run from it is open to the earlier one within the bound). A state reached again
    /// with fewer preemptions is settled again.
    subsume: bool,
    /// Last-thread dominance with no preemption bound, in the visited set itself: a world
    /// settled at a lower cost with any last thread dominates the same world with another one
    /// (the earlier copy can switch to that thread for one numbered step, and one preemption,
    /// and then run the same steps). Under a bound, `bounded` does it.
    by_world: bool,
}

/// One part of the visited set: the settled states whose keys [`shard`] gives it.
#[derive(Default)]
struct Shard {
    /// Settled states ([`Seen`]): keyed by world and oracle alone under `by_world`, else also
    /// by the last thread (and the preemptions, under a bound without the reductions).
    visited: HashMap<u64, Seen, std::hash::BuildHasherDefault<Fp>>,
    /// Under `subsume`, the settled worlds instead, with their last threads and preemptions.
    bounded: HashMap<u64, SeenBounded, std::hash::BuildHasherDefault<Fp>>,
}

/// Parts of the visited set. Every key is in one part, and a part's states are settled in
/// batch order, so the parts can be settled at once with the result of settling in order.
const SHARDS: usize = 8;

/// The part of the visited set that holds map key `k` (bits the maps' own hashing does not
/// use: not the low bits of the bucket index, not the top seven of the control byte).
fn shard(k: u64) -> usize {
    (k >> 40) as usize % SHARDS
}

/// A way popped from the queue to be settled: its node's index in the batch, the way, and
/// the visited set's key of it.
type ToSettle = (u32, Via, u64);

impl Frontier {
    fn new(level: Vec<Node>, b: &Bounds) -> Frontier {
        let mut work = Level::new();
        for n in level {
            let q = Queued::new(n, b, &mut work.bytes);
            work.queue.push_back(q);
        }
        Frontier {
            work,
            next: Level::new(),
            seen: Visited {
                level: 0,
                shards: (0..SHARDS).map(|_| Shard::default()).collect(),
                dedup: b.dedup,
                merge: b.dedup && b.reduce && b.share,
                with_pre: b.preemptions.is_some() && !b.reduce,
                subsume: b.reduce && b.preemptions.is_some(),
                by_world: b.reduce && b.preemptions.is_none(),
            },
            arena: Trail::default(),
        }
    }

    /// Settle the next batch of this cost's queue (in order): each node with its ways that
    /// nothing settled subsumes, each given an arena index. A node with none left is dropped.
    /// The packed ones' bytes are copied out of `work.bytes` into the returned arena, so that
    /// the queues can take more while the batch is expanded. A batch is the nodes popped
    /// until they hold `BATCH` ways; the parts of the visited set settle them in parallel.
    fn settle_batch(&mut self) -> (Vec<(Ways, Queued)>, Arena) {
        // States are queued and settled in order: the bytes before the first are done with.
        if let Some(Queued::Packed { at, .. }) = self.work.queue.front() {
            self.work.bytes.release_before(at.chunk);
        }
        let mut popped: Vec<Queued> = Vec::with_capacity(BATCH);
        let mut todo: Vec<ToSettle> = Vec::with_capacity(BATCH + MAX_WAYS);
        while let Some(n) = self.work.queue.pop_front() {
            self.work.taken += 1;
            let h = n.head();
            let i = popped.len() as u32;
            todo.extend(
                self.work
                    .ways(h)
                    .map(|v| (i, v, self.seen.seen_key(h.key, v))),
            );
            popped.push(n);
            if todo.len() >= BATCH {
                break;
            }
        }
        // What settling each way gave (`settle`), in `todo`'s order.
        let priors: Vec<Option<u8>> = if self.seen.dedup {
            self.seen.settle_all(&todo)
        } else {
            vec![Some(0); todo.len()]
        };
        let mut batch = Vec::with_capacity(popped.len());
        let mut bytes = Arena::new(BATCH_CHUNK);
        let mut at = 0;
        for (i, n) in popped.into_iter().enumerate() {
            let root = n.head().root;
            let mut ways = Ways::default();
            while at < todo.len() && todo[at].0 as usize == i {
                let v = todo[at].1;
                if let Some(prior) = priors[at] {
                    if ways.len == 0 {
                        ways.prior = prior;
                    }
                    ways.push((self.arena.push(v, root), v));
                }
                at += 1;
            }
            if ways.len > 0 {
                batch.push((ways, n.moved(&self.work.bytes, &mut bytes)));
            }
        }
        (batch, bytes)
    }

    /// What the next batch may allocate: whichever table it makes grow, if it queues twice
    /// what the last one did (`queued`).
    fn growth(&self, queued: (usize, usize)) -> u64 {
        let (z, o) = (2 * queued.0, 2 * queued.1);
        let (w, n, s) = (&self.work, &self.next, &self.seen);
        [
            (w.keys.len(), w.keys.capacity(), SET, z),
            (n.keys.len(), n.keys.capacity(), SET, o),
            // A new chunk of the trail.
            (0, 0, 5 * TRAIL_CHUNK, 1),
            (w.queue.len(), w.queue.capacity(), NODE, z),
            (n.queue.len(), n.queue.capacity(), NODE, o),
            (w.more.len(), w.more.capacity(), WAY, z),
            (n.more.len(), n.more.capacity(), WAY, o),
            // The batch's bytes, copied out (a few states a kilobyte).
            (0, 0, 1024, BATCH),
        ]
        .map(|(l, c, e, n)| table_growth(l, c, e, n))
        .iter()
        .sum::<u64>()
            + s.growth()
    }

    /// On to the next cost: its queue becomes the current one; false if it is empty.
    fn next_level(&mut self) -> bool {
        if self.next.queue.is_empty() {
            return false;
        }
        self.work = std::mem::replace(&mut self.next, Level::new());
        self.seen.level += 1;
        true
    }
}

impl Visited {
    /// The key of world `key` with the way's last thread (and preemptions, `with_pre`).
    fn full(&self, key: u64, v: Via) -> u64 {
        let k = mix(key, v.last.map_or(7, u64::from), 13);
        if self.with_pre {
            mix(k, u64::from(v.pre), 41)
        } else {
            k
        }
    }

    /// The queue key of a way into world `key`: the world alone when ways merge.
    fn queue_key(&self, key: u64, v: Via) -> u64 {
        if self.merge {
            key
        } else {
            self.full(key, v)
        }
    }

    /// The visited set's key: the world alone under `by_world` and `subsume`.
    fn seen_key(&self, key: u64, v: Via) -> u64 {
        if self.by_world || self.subsume {
            key
        } else {
            self.full(key, v)
        }
    }

    /// The way's last thread as a bit index (7: none).
    fn slot(v: Via) -> usize {
        v.last.map_or(7, |t| usize::from(t.min(7)))
    }

    fn last_bit(v: Via) -> u8 {
        1 << Self::slot(v)
    }

    /// Whether a state settled before subsumes the way `v` into world `key` at cost `level`.
    fn subsumed(&self, key: u64, v: Via, level: u32) -> bool {
        let k = self.seen_key(key, v);
        self.shards[shard(k)].subsumed(self.rules(), (k, v), level)
    }

    /// What the parts of the visited set apply.
    fn rules(&self) -> Rules {
        Rules {
            subsume: self.subsume,
            by_world: self.by_world,
        }
    }

    /// [`Shard::settle`] each of `todo` at this cost, each part of the visited set in
    /// parallel, its ways in order; the results in `todo`'s order.
    fn settle_all(&mut self, todo: &[ToSettle]) -> Vec<Option<u8>> {
        let (rules, level) = (self.rules(), self.level);
        let parts: Vec<Vec<(usize, Option<u8>)>> = self
            .shards
            .par_iter_mut()
            .with_max_len(1)
            .enumerate()
            .map(|(p, part)| {
                let mine = todo.iter().enumerate().filter(|(_, t)| shard(t.2) == p);
                mine.map(|(at, &(_, v, k))| (at, part.settle(rules, (k, v), level)))
                    .collect()
            })
            .collect();
        let mut out = vec![None; todo.len()];
        for (at, r) in parts.into_iter().flatten() {
            out[at] = r;
        }
        out
    }

    /// What the visited set's next batch may allocate: each part's table that would grow
    /// if it took twice its share of a batch.
    fn growth(&self) -> u64 {
        let share = 2 * BATCH / SHARDS;
        self.shards
            .iter()
            .map(|p| {
                table_growth(p.visited.len(), p.visited.capacity(), VISITED, share)
                    + table_growth(p.bounded.len(), p.bounded.capacity(), BOUNDED, share)
            })
            .sum()
    }

    /// Whether the way `v` into world `key` reached at `cost` above this level is subsumed by
    /// a settled state ([`queue`] drops what is queued already).
    fn has(&self, key: u64, v: Via, cost: u8) -> bool {
        self.subsumed(key, v, self.level + u32::from(cost))
    }
}

/// The rules of subsumption a [`Shard`] applies ([`Visited`]'s flags of the same names).
#[derive(Clone, Copy)]
struct Rules {
    subsume: bool,
    by_world: bool,
}

impl Shard {
    /// Whether a state settled before subsumes the way `v` (map key `k`: [`Visited::seen_key`])
    /// at cost `level`.
    fn subsumed(&self, r: Rules, (k, v): (u64, Via), level: u32) -> bool {
        if r.subsume {
            // Last-thread dominance with its preemption (the world settled at a lower cost
            // with fewer), or the same state settled with at most as many.
            return self.bounded.get(&k).is_some_and(|w| {
                (w.level < level && w.first < v.pre) || w.pre[Visited::slot(v)] <= v.pre
            });
        }
        // Else the same state (with its preemptions, `with_pre`) settled at all.
        self.visited
            .get(&k)
            .is_some_and(|s| !r.by_world || s.level < level || s.bits & Visited::last_bit(v) != 0)
    }

    /// Settle the way `v` (map key `k`) at cost `level`, unless a settled
    /// state subsumes it (`None`). Under `by_world`, also the last threads of the ways into
    /// the same world expanded at this cost before ([`Ways::prior`]).
    fn settle(&mut self, r: Rules, (k, v): (u64, Via), level: u32) -> Option<u8> {
        if self.subsumed(r, (k, v), level) {
            return None;
        }
        if r.subsume {
            let w = self.bounded.entry(k).or_insert(SeenBounded {
                level,
                first: v.pre,
                pre: [u8::MAX; 8],
            });
            if w.level == level {
                w.first = w.first.min(v.pre);
            }
            w.pre[Visited::slot(v)] = v.pre;
            return Some(0);
        }
        let bits = if r.by_world { Visited::last_bit(v) } else { 0 };
        let expanded = if (v.depth as usize) < MAX_STEPS {
            bits
        } else {
            0
        };
        let mut prior = 0;
        self.visited
            .entry(k)
            .and_modify(|s| {
                if r.by_world {
                    prior = s.expanded;
                    s.bits |= bits;
                    s.expanded |= expanded;
                }
            })
            .or_insert(Seen {
                level,
                bits,
                expanded,
            });
        Some(prior)
    }
}

/// Queue an expansion's children (at this cost, in `work`, and the next); how many new nodes
/// were queued. Those subsumed by a settled state when it was expanded were dropped by
/// [`expand`]; one settled since is dropped when it is settled.
fn queue((work, next): (&mut Level, &mut Level), seen: &Visited, x: Expansion) -> (usize, usize) {
    let Expansion {
        zero, one, bytes, ..
    } = x;
    let how = (seen.merge, seen.subsume);
    let mut count = [0, 0];
    for (i, (children, level)) in [(zero, work), (one, next)].into_iter().enumerate() {
        for c in children {
            if !seen.dedup {
                level.queue.push_back(c.moved(&bytes, &mut level.bytes));
                count[i] += 1;
            } else if level.add(seen.queue_key(c.head().key, c.head().via), c, &bytes, how) {
                count[i] += 1;
            }
        }
    }
    (count[0], count[1])
}

/// [`search`], ending at the next batch once `stop` is set (Ctrl-C): the report is then
/// `interrupted`, with the states and transitions covered so far.
pub fn search_until(
    prog: &Program,
    b: &Bounds,
    roots: &[Root],
    stop: &AtomicBool,
    mut progress: impl FnMut(usize, u64, u64),
) -> Result<Report, BadScenario> {
    let (initial, level) = root_nodes(prog, b, roots)?;
    let futures = Futures::new(prog);
    let mut q = Frontier::new(level, b);
    let mut rep = Report {
        counterexample: None,
        latent: None,
        steps: None,
        states: 0,
        transitions: 0,
        taken: 0,
        roots: roots.len(),
        levels: 0,
        truncated: false,
        memory_bound: false,
        interrupted: false,
    };
    let mut memory = b.max_memory.map(MemoryBound::new);
    let mut cost = 0usize;
    // A violation one level up, found while finishing this level.
    let mut found: Option<(usize, u32, Vec<Tid>, Violation)> = None;
    let mut latent: Option<(usize, u32, Vec<Tid>, Violation)> = None;
    // The expansions of the batch before, queued while the next batch is expanded (the next
    // batch is settled first, from what was queued before them).
    let mut pending: Vec<Expansion> = Vec::new();
    loop {
        loop {
            let (batch, bytes) = q.settle_batch();
            if batch.is_empty() && pending.is_empty() {
                break;
            }
            rep.states += batch.iter().map(|(w, _)| w.len as u64).sum::<u64>();
            let Frontier {
                work, next, seen, ..
            } = &mut q;
            let seen = &*seen;
            let (queued, mut exps) = rayon::join(
                || {
                    pending.drain(..).fold((0, 0), |(z, o), x| {
                        let (dz, dn) = queue((&mut *work, &mut *next), seen, x);
                        (z + dz, o + dn)
                    })
                },
                || {
                    batch
                        .par_chunks(EXPAND_CHUNK)
                        .with_max_len(1)
                        .map(|chunk| {
                            let mut x = Expansion::new();
                            let mut ev = Vec::with_capacity(16);
                            let mut spans = ThreadSpans::new();
                            for (ways, q) in chunk {
                                let n = q.node(&bytes, &mut spans);
                                let node = (n, ways, (q.bytes(&bytes), &spans));
                                let ctx = (prog, &futures);
                                expand(ctx, &initial, node, (seen, b), (&mut x, &mut ev));
                            }
                            x
                        })
                        .collect::<Vec<Expansion>>()
                },
            );
            for x in &mut exps {
                rep.transitions += x.transitions;
                rep.taken += x.taken;
                if let Some((c, i, t, v)) = x.violation.take() {
                    let at = cost + usize::from(c);
                    if found.as_ref().is_none_or(|f| at < f.0) {
                        found = Some((at, i, t, v));
                    }
                }
                if let Some((c, i, t, v)) = x.latent.take() {
                    let at = cost + usize::from(c);
                    if latent.as_ref().is_none_or(|f| at < f.0) {
                        latent = Some((at, i, t, v));
                    }
                }
            }
            pending = exps;
            progress(cost, rep.states, rep.transitions);
            if rep.states >= b.max_states {
                rep.truncated = true;
                break;
            }
            if memory
                .as_mut()
                .is_some_and(|m| m.would_pass(q.growth(queued)))
            {
                rep.truncated = true;
                rep.memory_bound = true;
                break;
            }
            if stop.load(Ordering::Relaxed) {
                rep.interrupted = true;
                break;
            }
        }
        if found.as_ref().is_some_and(|f| f.0 <= cost + 1) {
            break;
        }
        if rep.truncated || rep.interrupted || !q.next_level() {
            break;
        }
        rep.levels = cost + 1;
        cost += 1;
    }
    if let Some((_, idx, ext, v)) = found {
        let (sc, got) = rebuild(prog, roots, &q.arena, (idx, ext, v))?;
        rep.steps = Some(numbered(&sc));
        rep.counterexample = Some((sc, got));
    } else if let Some((_, idx, ext, v)) = latent {
        let (sc, got) = rebuild(prog, roots, &q.arena, (idx, ext, v))?;
        rep.steps = Some(numbered(&sc));
        rep.latent = Some((sc, got));
    }
    Ok(rep)
}

/// The set-up state of each root (for the reference comparison) and its first node.
fn root_nodes(
    prog: &Program,
    b: &Bounds,
    roots: &[Root],
) -> Result<(Vec<World>, Vec<Node>), BadScenario> {
    let mut initial = Vec::new();
    let mut level: Vec<Node> = Vec::new();
    for (i, r) in roots.iter().enumerate() {
        let (init, mut world) = exec::start(prog, &r.setup, &r.threads)?;
        let n = world.threads.len();
        initial.push(init);
        for th in &mut world.threads {
            th.steps = 0;
        }
        let mut oracle = Oracle::new(n);
        oracle.races = b.hb;
        let mut n = Node {
            world,
            oracle,
            head: Head {
                root: i as u32,
                key: 0,
                via: Via {
                    last: None,
                    pre: 0,
                    tid: FIRE,
                    depth: 0,
                    parent: NONE,
                },
                more: NONE,
            },
        };
        n.head.key = fingerprint(&n);
        level.push(n);
    }
    Ok((initial, level))
}

/// The scenario of the path to the settled node `idx` (through the [`Trail`]), extended by the steps `ext` that broke `v`, and what its replay (with the
/// happens-before detector) reports: another check may fire on the same path, never nothing.
fn rebuild(
    prog: &Program,
    roots: &[Root],
    arena: &Trail,
    (idx, ext, v): (u32, Vec<Tid>, Violation),
) -> Result<(Scenario, Violation), BadScenario> {
    let mut tids: Vec<Tid> = ext.into_iter().rev().collect();
    let mut i = idx;
    let root;
    loop {
        let (p, t) = arena.get(i);
        if t == ROOT {
            root = p;
            break;
        }
        tids.push(t);
        i = p;
    }
    tids.reverse();
    let mut segs: Vec<(u8, u16)> = Vec::new();
    for t in tids.into_iter().filter(|&t| t != FIRE) {
        match segs.last_mut() {
            Some((l, n)) if *l == t => *n += 1,
            _ => segs.push((t, 1)),
        }
    }
    let r = &roots[root as usize];
    let sc = Scenario {
        setup: r.setup.clone(),
        threads: r.threads.clone(),
        schedule: Schedule::Segments(segs),
    };
    let replay = exec::run(prog, &sc, exec::Opts::default())?;
    let Some(got) = replay.headline().cloned() else {
        return Err(BadScenario(format!(
            "internal: the shortest path ({}: {}) does not fail when replayed",
            v.inv, v.msg
        )));
    };
    Ok((sc, got))
}

/// Numbered steps of a segments schedule.
pub fn numbered(sc: &Scenario) -> usize {
    match &sc.schedule {
        Schedule::Segments(s) => s.len(),
        _ => 0,
    }
}

/// States settled per batch (expanded in parallel between two checks of the bounds).
const BATCH: usize = 4096;

/// Bytes a queued node takes inline (its encoded bytes or its world's vectors are counted by
/// [`MemoryBound`]'s measurement of the batches before).
const NODE: usize = std::mem::size_of::<Queued>();

/// Bytes a queue's key map allocates per element of capacity (a 16-byte slot: the key and a
/// position, padded; a control byte; buckets at most 7/8 full).
const SET: usize = 20;

/// Bytes of a further way into a queued node ([`Level`]'s `more`).
const WAY: usize = std::mem::size_of::<(Via, u32)>();

/// The same for the visited map (a 16-byte slot: the key and a [`Seen`], padded).
const VISITED: usize = 20;

/// The same for the bounded search's visited map (a 24-byte slot: the key and a
/// [`SeenBounded`]).
const BOUNDED: usize = 29;

/// Bytes a table of `len` of `cap` elements of `elem` bytes allocates when `more` elements
/// would make it grow (it doubles, and the old allocation lives until the copy is done); 0 if
/// they fit.
fn table_growth(len: usize, cap: usize, elem: usize, more: usize) -> u64 {
    if len + more <= cap {
        return 0;
    }
    ((len + more).max(2 * cap) * elem) as u64
}

/// `--max-memory`: the search stops (incomplete) before this process's resident memory would
/// pass the bound. Measured after each batch (`VmRSS`), plus what the next batch may add: the
/// largest growth of one batch so far, twice, and the tables it would make grow.
#[derive(Clone, Debug)]
pub struct MemoryBound {
    max: u64,
    last: Option<u64>,
    step: u64,
}

impl MemoryBound {
    /// A bound of `max` bytes.
    pub fn new(max: u64) -> Self {
        MemoryBound {
            max,
            last: None,
            step: 0,
        }
    }

    /// Whether the next batch, with tables growing by `growth` bytes, could pass the bound.
    /// Where the system does not tell resident memory, never.
    fn would_pass(&mut self, growth: u64) -> bool {
        let Some(now) = rss_kib().map(|k| k * 1024) else {
            return false;
        };
        if let Some(l) = self.last {
            self.step = self.step.max(now.saturating_sub(l));
        }
        self.last = Some(now);
        now + 2 * self.step + growth > self.max
    }
}

/// Resident memory of this process in KiB (`VmRSS`), where the kernel reports it.
pub fn rss_kib() -> Option<u64> {
    status_kib("VmRSS:")
}

/// The default `--max-memory`: half of this machine's memory, or three quarters of what is
/// available now if that is less (`/proc/meminfo`); `None` where the system does not tell.
pub fn default_max_memory() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib = |key: &str| -> Option<u64> {
        s.lines()
            .find(|l| l.starts_with(key))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    let total = kib("MemTotal:")? * 1024;
    let avail = kib("MemAvailable:").map_or(total, |k| k * 1024);
    Some((total / 2).min(avail / 4 * 3))
}

/// The chance that hash compaction left out a state: the search keeps 64-bit fingerprints of
/// the `states` it settled (and queued), and a state whose fingerprint equals an earlier one's
/// is taken as seen. Bounded by the birthday bound n(n-1)/2 / 2^64.
pub fn omission_probability(states: u64) -> f64 {
    let n = states as f64;
    (n * (n - 1.0) / 2.0 / 2f64.powi(64)).min(1.0)
}

/// Peak resident memory of this process in KiB (`VmHWM`), where the kernel reports it.
pub fn peak_rss_kib() -> Option<u64> {
    status_kib("VmHWM:")
}

fn status_kib(key: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmfuzz::mm::builtin;

    /// The same world queued with last thread `last` and `pre` preemptions.
    fn queued(b: &Bounds, last: Tid, pre: u8) -> Node {
        let prog = builtin::program("v6.1").unwrap();
        let roots = roots(
            &prog,
            &Bounds {
                threads: 2,
                ..b.clone()
            },
        );
        let (_, mut level) = root_nodes(&prog, b, &roots[..1]).unwrap();
        let mut n = level.remove(0);
        n.head.via.last = Some(last);
        n.head.via.pre = pre;
        n
    }

    /// Whether a state settled in `f` subsumes `n` at cost `level`.
    fn sub(f: &Frontier, n: Node, level: u32) -> bool {
        f.seen.subsumed(n.head.key, n.head.via, level)
    }

    /// v6.1 at 3 CPUs and 1 VMA.
    fn v61() -> (Program, Bounds) {
        let b = Bounds {
            threads: 3,
            vmas: 1,
            ..Bounds::default()
        };
        (builtin::program("v6.1").unwrap(), b)
    }

    /// The frontier's encoding is exact: every state on a few runs of each v6.1 set-up and
    /// thread choice (3 CPUs, 1 VMA) decodes to the same world and the same fingerprint, and
    /// each child encoded with its parent's thread bytes copied is encoded as on its own.
    #[test]
    fn queued_states_decode_to_themselves() {
        let (prog, b) = v61();
        let roots = roots(&prog, &b);
        let (_, level) = root_nodes(&prog, &b, &roots).unwrap();
        let mut arena = Arena::new(CHUNK);
        let mut ev = Vec::new();
        let (mut checked, mut copied) = (0, 0);
        for (r, root) in level.into_iter().enumerate() {
            for first in 0..root.world.threads.len() {
                let mut n = root.clone();
                let mut spans = ThreadSpans::new();
                for i in 0..MAX_STEPS {
                    let q = Queued::new(n.clone(), &b, &mut arena);
                    let back = q.node(&arena, &mut spans);
                    assert_eq!(back.world, n.world, "root {r}");
                    assert_eq!(back.oracle, n.oracle, "root {r}");
                    assert_eq!(fingerprint(&back), fingerprint(&n), "root {r}");
                    checked += 1;
                    let runnable: Vec<Tid> = n.world.runnable().collect();
                    let Some(&t) = runnable.get((first + i / 3) % runnable.len().max(1)) else {
                        break;
                    };
                    let step = exec::step_checked(&prog, &mut n.world, &mut n.oracle, t, &mut ev);
                    if step.violation.is_some() {
                        break;
                    }
                    // The child's encoding with its parent's thread bytes copied is its own.
                    let parent = (&back.world.threads[..], q.bytes(&arena), &spans);
                    let (mut own, mut reused) = (Vec::new(), Vec::new());
                    let key = pack_state((&n.world, None), &n.oracle, &mut own);
                    let again = pack_state((&n.world, Some(parent)), &n.oracle, &mut reused);
                    assert_eq!((key, &own), (again, &reused), "root {r}, step {i}");
                    copied += usize::from(spans.len() > 1);
                }
            }
        }
        assert!(checked > 10_000, "{checked} states checked");
        assert!(copied > 5_000, "{copied} children with threads to copy");
    }

    #[test]
    fn quiet_steps_keep_the_clocks_abstracted() {
        // `expand` skips the clock abstraction after a step the race detector does not see,
        // and (under `cfg(test)`) checks that abstracting again changes nothing.
        let prog = builtin::program("v6.1").unwrap();
        for (threads, preemptions) in [(2, None), (3, Some(1))] {
            let b = Bounds {
                threads,
                vmas: 1,
                preemptions,
                ..Bounds::default()
            };
            let rep = search(&prog, &b, &roots(&prog, &b), |_, _, _| {}).unwrap();
            assert!(
                rep.counterexample.is_none() && rep.states > 1000,
                "{}",
                rep.states
            );
        }
    }

    /// Ways into one world at one cost share its expansion: fewer steps are taken than the
    /// state graph has edges, over the same states and edges as expanding each way alone
    /// (which takes every edge).
    #[test]
    fn ways_into_one_world_share_its_steps() {
        let (prog, b) = v61();
        let roots = roots(&prog, &b);
        let on = search(&prog, &b, &roots, |_, _, _| {}).unwrap();
        let alone = Bounds {
            share: false,
            ..b.clone()
        };
        let off = search(&prog, &alone, &roots, |_, _, _| {}).unwrap();
        assert_eq!((on.states, on.transitions), (off.states, off.transitions));
        assert_eq!(off.taken, off.transitions);
        assert!(
            on.taken * 20 < on.transitions * 19,
            "{} steps taken of {} transitions",
            on.taken,
            on.transitions
        );
    }

    /// The parts of the visited set settle a batch as one set settling it in order would: on
    /// ways into a few worlds (so that one world comes many times in a batch, with several
    /// last threads, preemptions and depths), over three costs, with and without a bound.
    #[test]
    fn a_batch_settled_in_parts_is_settled_in_order() {
        for pre in [None, Some(2)] {
            let b = Bounds {
                preemptions: pre,
                ..Bounds::default()
            };
            let mut parts = Frontier::new(Vec::new(), &b).seen;
            let mut one = Frontier::new(Vec::new(), &b).seen;
            let (mut checked, mut settled) = (0, 0);
            for level in 0..3u32 {
                parts.level = level;
                one.level = level;
                let todo: Vec<ToSettle> = (0..3000u32)
                    .map(|i| {
                        let world = mix(u64::from(i * 7 % 61), u64::from(level % 2), 3);
                        let v = Via {
                            last: (i % 5 != 4).then_some((i % 5) as Tid),
                            pre: (i / 5 % 3) as u8,
                            tid: 0,
                            depth: if i % 11 == 0 { MAX_STEPS as u32 } else { 1 },
                            parent: i,
                        };
                        (i, v, parts.seen_key(world, v))
                    })
                    .collect();
                let got = parts.settle_all(&todo);
                let rules = one.rules();
                for (&(_, v, k), g) in todo.iter().zip(&got) {
                    // The same ways, one at a time, in order, all in one part.
                    let want = one.shards[0].settle(rules, (k, v), level);
                    assert_eq!(*g, want, "{pre:?} level {level} way {v:?}");
                    checked += 1;
                    settled += usize::from(want.is_some());
                }
            }
            assert!(
                settled > 100 && settled < checked / 2,
                "{settled} of {checked}"
            );
        }
    }

    /// Last-thread dominance: a world settled at cost 0 with thread 0 last dominates the same
    /// world with thread 1 last at cost 1, not at cost 0 (continuing thread 1 is free there);
    /// under a preemption bound only if it also came with fewer preemptions.
    #[test]
    fn a_world_settled_cheaper_dominates_another_last_thread() {
        let b = Bounds::default();
        let mut f = Frontier::new(vec![queued(&b, 0, 0)], &b);
        assert_eq!(f.settle_batch().0.len(), 1);
        let other = queued(&b, 1, 0);
        assert!(!sub(&f, other.clone(), 0));
        assert!(sub(&f, other, 1));
        assert!(sub(&f, queued(&b, 0, 0), 0));

        let b = Bounds {
            preemptions: Some(3),
            ..Bounds::default()
        };
        let mut f = Frontier::new(vec![queued(&b, 0, 1)], &b);
        assert_eq!(f.settle_batch().0.len(), 1);
        assert!(!sub(&f, queued(&b, 1, 1), 1), "one more preemption");
        assert!(sub(&f, queued(&b, 1, 2), 1));
        assert!(!sub(&f, queued(&b, 1, 2), 0), "same cost");
        assert!(sub(&f, queued(&b, 0, 2), 0), "same last, more preemptions");
        assert!(
            !sub(&f, queued(&b, 0, 0), 0),
            "same last, fewer preemptions"
        );
    }
}
