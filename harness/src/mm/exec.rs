//! Running a scenario against a config: set-up, the scheduler, the oracles after every step,
//! the end-of-run checks and the reference comparison.

use mmfuzz::mm::state::{Sleep, World, MAX_THREADS};
use mmfuzz::mm::{Event, Invariant, Lock, Program, Role, Status, Tid};
use mmfuzz::reference::mm as reference;

use super::oracle::{self, Oracle, Violation};
use super::scenario::{flag_bits, Scenario, Schedule, Setup};
use crate::campaign::SplitMix64;

/// Most steps one execution may take (the reaper's ten attempts fit well within it).
pub const MAX_STEPS: usize = 2_000;

/// One executed step, for traces.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TraceStep {
    /// Thread.
    pub tid: Tid,
    /// Path index and pc of the primitive.
    pub at: (u16, u16),
    /// Its value (`None`: blocked or spinning).
    pub value: Option<bool>,
    /// Locks every thread holds after the step.
    pub held: Vec<Vec<(Lock, bool)>>,
    /// The flags that matter after the step (`MMF_*`, the freezer's, the OOM killer's).
    pub flags: String,
    /// What the step did: locks, accesses, frees.
    pub events: Vec<Event>,
}

/// How an execution ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The first violation, if any.
    pub violation: Option<Violation>,
    /// Steps taken.
    pub steps: usize,
    /// The steps (if recording was asked for).
    pub trace: Vec<TraceStep>,
    /// Every thread returned.
    pub completed: bool,
}

/// A scenario that cannot run against the config (set-up refused).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadScenario(pub String);

/// Apply the set-up operations; the world's state is then what the threads start from.
pub fn setup(world: &mut World, ops: &[Setup]) -> Result<(), BadScenario> {
    for op in ops {
        let r = match op {
            Setup::Mmap { pages, flags, anon } => {
                let bits = flag_bits(flags).map_err(BadScenario)?;
                world.setup_mmap(u64::from(*pages), bits, *anon).map(|_| ())
            }
            Setup::Fault { vma } => world.setup_fault(*vma),
            Setup::Mlock { vma } => world.setup_mlock(*vma),
            Setup::Munmap { vma } => world.setup_munmap(*vma),
            Setup::OomKill => world.setup_oom_kill(),
            Setup::Kill => {
                world.setup_kill();
                Ok(())
            }
        };
        r.map_err(|e| BadScenario(format!("{op:?}: {}", e.0)))?;
    }
    Ok(())
}

/// The scheduler: picks the next thread among the runnable ones.
struct Sched {
    kind: Schedule,
    at: usize,
    /// Segment index and steps taken in it.
    seg: (usize, u16),
    last: Option<Tid>,
    prio: Vec<u32>,
    change: Vec<usize>,
    /// Threads whose last step since the last progress spun on a lock.
    spinners: u8,
}

impl Sched {
    fn new(kind: &Schedule, n: usize) -> Self {
        let mut s = Sched {
            kind: kind.clone(),
            at: 0,
            seg: (0, 0),
            last: None,
            prio: Vec::new(),
            change: Vec::new(),
            spinners: 0,
        };
        if let Schedule::Pct { seed, depth, span } = *kind {
            let mut rng = SplitMix64(seed);
            // Distinct priorities above the change-point ones: a random permutation.
            let mut p: Vec<u32> = (0..n as u32).map(|i| i + u32::from(depth) + 1).collect();
            for i in (1..n).rev() {
                let j = (rng.next_u64() % (i as u64 + 1)) as usize;
                p.swap(i, j);
            }
            s.prio = p;
            s.change = (1..depth)
                .map(|_| (rng.next_u64() % u64::from(span.max(1))) as usize)
                .collect();
        }
        s
    }

    /// Pick the next thread. `spun`: the previous step made no progress (a spinning or
    /// blocking lock attempt), so the fallback moves on to the next runnable thread instead of
    /// spinning forever.
    fn pick(&mut self, runnable: &[Tid], spun: bool) -> Tid {
        let i = self.at;
        self.at += 1;
        match (spun, self.last) {
            (true, Some(l)) => self.spinners |= 1 << l,
            _ => self.spinners = 0,
        }
        if runnable.iter().all(|&t| self.spinners & (1 << t) != 0) {
            self.spinners = 0;
        }
        let spinners = self.spinners;
        let live = |t: &&Tid| spinners & (1 << **t) == 0;
        let fallback = |last: Option<Tid>| match last {
            Some(l) if runnable.contains(&l) && !spun => l,
            Some(l) => *runnable
                .iter()
                .filter(live)
                .find(|&&t| t > l)
                .or_else(|| runnable.iter().find(live))
                .unwrap_or(&runnable[0]),
            None => runnable[0],
        };
        let t = match &self.kind {
            Schedule::Segments(segs) => loop {
                let Some(&(t, n)) = segs.get(self.seg.0) else {
                    break fallback(self.last);
                };
                if self.seg.1 < n && runnable.contains(&t) {
                    self.seg.1 += 1;
                    break t;
                }
                self.seg = (self.seg.0 + 1, 0);
            },
            Schedule::Choices(c) => match c.get(i) {
                Some(&b) => runnable[b as usize % runnable.len()],
                None => fallback(self.last),
            },
            Schedule::Pct { .. } => {
                // Spinning threads yield to the highest-priority thread that can progress.
                let t = *runnable
                    .iter()
                    .filter(live)
                    .max_by_key(|&&t| self.prio[t as usize])
                    .expect("some runnable");
                if let Some(k) = self.change.iter().position(|&c| c == i) {
                    // Change point k: the running thread drops below every other.
                    self.prio[t as usize] = k as u32 + 1;
                }
                t
            }
        };
        self.last = Some(t);
        t
    }
}

/// The flags a report shows after each numbered step.
fn flags_of(prog: &Program, world: &World) -> String {
    let mm = format!(
        "mm_users={} mm->flags={}",
        world.mm.users,
        mmfuzz::mm::show_mm_flags(world.mm.flags)
    );
    if prog.entry(Role::Pm).is_some() {
        format!("{} {mm}", super::oracle::freezer_flags(world))
    } else {
        mm
    }
}

/// What a thread is doing, for liveness and deadlock reports: the lock it waits for and who
/// holds it, and what that holder is doing.
fn thread_state(world: &World, tid: Tid, depth: u8) -> String {
    let t = &world.threads[tid as usize];
    if t.status == Status::Done {
        return "gone".into();
    }
    if let Some((lock, owner)) = world.waits_on(tid) {
        return match owner {
            Some(o) if depth < 3 && o != tid => format!(
                "waiting for {} held by {}, which is {}",
                lock.name(),
                world.threads[o as usize].role.task(),
                thread_state(world, o, depth + 1)
            ),
            _ => format!("waiting for {}", lock.name()),
        };
    }
    match (t.frz.frozen, t.frz.sleep, t.status) {
        (true, Sleep::Frozen, _) => "frozen in __refrigerator until thaw_processes()".into(),
        (_, _, Status::Runnable) => "running".into(),
        _ => "asleep".into(),
    }
}

/// The threads' roles, as [`run`] starts them: those the config offers, at most
/// [`MAX_THREADS`].
pub(crate) fn roles(prog: &Program, threads: &[super::scenario::Thread]) -> Vec<Role> {
    threads
        .iter()
        .map(|t| t.role())
        .filter(|r| prog.entry(*r).is_some())
        .take(MAX_THREADS)
        .collect()
}

/// The flags [`TraceStep::flags`] shows, before the first step (`None`: set-up refused).
pub(crate) fn start_flags(prog: &Program, sc: &Scenario) -> Option<String> {
    let (_, world) = start(prog, &sc.setup, &sc.threads).ok()?;
    Some(flags_of(prog, &world))
}

/// Where the victim task is, for liveness reports.
fn victim_state(world: &World) -> String {
    match world.threads.iter().position(|t| t.role.is_victim()) {
        None => "not a thread of the scenario".into(),
        Some(i) if world.threads[i].status == Status::Done => "gone (exited)".into(),
        Some(i) => format!(
            "{} (TIF_MEMDIE {}, {})",
            thread_state(world, i as Tid, 0),
            world.victim.memdie,
            if world.victim.has_mm {
                "mm not yet released"
            } else {
                "mm released"
            }
        ),
    }
}

/// Options of one execution.
#[derive(Clone, Copy, Debug)]
pub struct Opts {
    /// Record the trace.
    pub record: bool,
    /// Run the happens-before race detector.
    pub races: bool,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            record: false,
            races: true,
        }
    }
}

fn held_all(world: &World) -> Vec<Vec<(Lock, bool)>> {
    (0..world.threads.len() as Tid)
        .map(|t| world.held_by(t))
        .collect()
}

/// Run `sc` against `prog`.
pub fn run(prog: &Program, sc: &Scenario, opts: Opts) -> Result<Outcome, BadScenario> {
    let (initial, mut world) = start(prog, &sc.setup, &sc.threads)?;
    let nthreads = world.threads.len();
    let mut oracle = Oracle::new(nthreads);
    oracle.races = opts.races;
    let mut sched = Sched::new(&sc.schedule, nthreads);
    let mut ev: Vec<Event> = Vec::with_capacity(16);
    let mut trace = Vec::new();
    let mut runnable: Vec<Tid> = Vec::with_capacity(MAX_THREADS);
    let mut steps = 0;
    let mut spun = false;
    let out = |violation, steps, trace, completed| Outcome {
        violation,
        steps,
        trace,
        completed,
    };
    while steps < MAX_STEPS {
        runnable.clear();
        runnable.extend(world.runnable());
        if runnable.is_empty() {
            ev.clear();
            match when_stuck(prog, &mut world, &mut ev) {
                Stuck::Fired => continue,
                Stuck::Idle => break,
                Stuck::Violation(v) => return Ok(out(Some(v), steps, trace, false)),
            }
        }
        let tid = sched.pick(&runnable, spun);
        let at = world.next_insn(tid).expect("runnable thread has code");
        let held_before = world.held_by(tid);
        let prim = world.next_prim(prog, tid);
        ev.clear();
        let value = world.step(prog, tid, &mut ev);
        spun = value.is_none();
        steps += 1;
        if opts.record {
            trace.push(TraceStep {
                tid,
                at,
                value,
                held: held_all(&world),
                flags: flags_of(prog, &world),
                events: ev.clone(),
            });
        }
        if let Some(v) = oracle.check(prog, &world, tid, (prim, value), &held_before, &ev) {
            return Ok(out(Some(v), steps, trace, false));
        }
    }
    let completed = is_idle(&world);
    if completed {
        if let Some(v) = end_checks(&initial, &world) {
            return Ok(out(Some(v), steps, trace, true));
        }
    }
    Ok(out(None, steps, trace, completed))
}

/// What happens when no thread can run.
#[derive(Debug)]
pub enum Stuck {
    /// A timed sleep timed out; go on.
    Fired,
    /// Every thread returned (or is the reaper, idle on an empty queue): the run is over.
    Idle,
    /// `oom_killer_disable()` waits forever (liveness), or every live thread waits for another.
    Violation(Violation),
}

/// Every thread returned, or is the `oom_reaper` kthread asleep on an empty queue.
pub fn is_idle(world: &World) -> bool {
    world
        .threads
        .iter()
        .enumerate()
        .all(|(i, t)| t.status == Status::Done || world.oom_reaper_waiters & (1 << i) != 0)
}

/// No thread is runnable: a timed sleep times out, or the run is over, or it is a liveness
/// failure or a deadlock.
pub fn when_stuck(prog: &Program, world: &mut World, ev: &mut Vec<Event>) -> Stuck {
    if world.fire_timeout(prog, ev) {
        // The woken thread runs on to its next step: a fault on the way (e.g. a return
        // holding a lock, I10) is reported like any other.
        for e in ev.iter() {
            if let Event::Fault { tid, inv, msg } = e {
                return Stuck::Violation(Violation {
                    inv: *inv,
                    tid: *tid,
                    msg: msg.clone(),
                });
            }
        }
        return Stuck::Fired;
    }
    if is_idle(world) {
        return Stuck::Idle;
    }
    // oom_killer_disable() waiting with no timeout never returns, ...
    if let Some((i, _)) = world.threads.iter().enumerate().find(|(_, t)| {
        t.status == Status::Blocked && t.frz.sleep == Sleep::OomVictims { timeout: false }
    }) {
        return Stuck::Violation(Violation {
            inv: Invariant::Liveness,
            tid: i as Tid,
            msg: format!(
                "oom_killer_disable() never returns: oom_victims = {}, the victim is {}",
                world.oom_victims,
                victim_state(world)
            ),
        });
    }
    // ... else every live thread waits for another: a deadlock.
    let waits: Vec<String> = world
        .threads
        .iter()
        .enumerate()
        .filter(|(_, t)| t.status == Status::Blocked)
        .map(|(i, t)| format!("{} {}", t.role.task(), thread_state(world, i as Tid, 2)))
        .collect();
    Stuck::Violation(Violation {
        inv: Invariant::Deadlock,
        tid: 0,
        msg: format!("every live thread is blocked: {}", waits.join(", ")),
    })
}

/// The checks of a completed run: lock and reference balance, then the reference state machine.
pub fn end_checks(initial: &World, world: &World) -> Option<Violation> {
    if let Some(v) = oracle::at_exit(world) {
        return Some(v);
    }
    reference::check(initial, world).err().map(|msg| Violation {
        inv: Invariant::Reference,
        tid: 0,
        msg,
    })
}

/// The world of a scenario's set-up and threads, before the first step: the set-up state (for
/// the reference) and the started world. Threads a config does not offer are dropped.
pub fn start(
    prog: &Program,
    setup_ops: &[Setup],
    threads: &[super::scenario::Thread],
) -> Result<(World, World), BadScenario> {
    let mut world = World::new();
    setup(&mut world, setup_ops)?;
    let roles = roles(prog, threads);
    if prog.entry(Role::Pm).is_some()
        && !(roles.contains(&Role::User) && roles.contains(&Role::OomReaper))
    {
        return Err(BadScenario(
            "a suspend scenario runs the victim (user) and the oom_reaper kthread".into(),
        ));
    }
    let initial = world.clone();
    world.start(prog, &roles);
    Ok((initial, world))
}
