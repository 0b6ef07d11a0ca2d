//! Running a scenario against a config: set-up, the scheduler, the oracles after every step,
//! the end-of-run checks and the reference comparison.

use mmfuzz::mm::state::{World, MAX_THREADS};
use mmfuzz::mm::{Event, Lock, Program, Role, Tid};

use super::oracle::{end_checks, is_idle, when_stuck, CallStack, Oracle, Stuck, Violation};
use super::scenario::{flag_bits, Scenario, Setup};
use super::sched::Picker;

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

/// A proxy invariant broken on the way ([`super::oracle::is_proxy`]): the mechanism.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mechanism {
    /// Model steps taken when it broke (it broke in step `step`, counting from 1).
    pub step: usize,
    /// What broke.
    pub violation: Violation,
}

/// How an execution ended. A `violation` is a harm (or any non-proxy invariant); a
/// `mechanism` with no `violation` is a latent defect: a proxy broke and this run reached no
/// harm from it ([`super::harm::after`] searches every continuation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The first violation, if any.
    pub violation: Option<Violation>,
    /// The first proxy invariant broken, if any (before the violation).
    pub mechanism: Option<Mechanism>,
    /// Steps taken.
    pub steps: usize,
    /// The steps (if recording was asked for).
    pub trace: Vec<TraceStep>,
    /// Every thread returned.
    pub completed: bool,
}

impl Outcome {
    /// What the run is reported by: the violation, else the mechanism of a latent defect.
    pub fn headline(&self) -> Option<&Violation> {
        self.violation
            .as_ref()
            .or(self.mechanism.as_ref().map(|m| &m.violation))
    }

    /// A proxy broke and no harm followed in this run.
    pub fn is_latent(&self) -> bool {
        self.violation.is_none() && self.mechanism.is_some()
    }
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
            Setup::CgroupFreeze => world.setup_cgroup_freeze(),
            Setup::ForkFails { vma } => world.setup_fork_fails(*vma),
            Setup::Kill => {
                world.setup_kill();
                Ok(())
            }
        };
        r.map_err(|e| BadScenario(format!("{op:?}: {}", e.0)))?;
    }
    Ok(())
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

/// What one checked step did.
#[derive(Clone, Debug)]
pub struct Checked {
    /// The primitive's value (`None`: the thread blocked or spun on a lock).
    pub value: Option<bool>,
    /// The locks the thread held before the step.
    pub held_before: Vec<(Lock, bool)>,
    /// The first violation the oracles found in the step.
    pub violation: Option<Violation>,
}

/// One step of `tid` with every per-step check: the model's step (its events in `ev`), then
/// the oracles. Random runs ([`run`]) and the exhaustive search both step through here.
pub fn step_checked(
    prog: &Program,
    world: &mut World,
    oracle: &mut Oracle,
    tid: Tid,
    ev: &mut Vec<Event>,
) -> Checked {
    ev.clear();
    let held_before = world.held_by(tid);
    let stack = CallStack::of(world, tid);
    let prim = world.next_prim(prog, tid);
    let value = world.step(prog, tid, ev);
    let violation = oracle.check(prog, world, tid, (prim, value), (&held_before, &stack), ev);
    Checked {
        value,
        held_before,
        violation,
    }
}

/// Run `sc` against `prog`.
pub fn run(prog: &Program, sc: &Scenario, opts: Opts) -> Result<Outcome, BadScenario> {
    run_inner(prog, sc, opts).map(|(out, _)| out)
}

/// Where a run stood when its mechanism broke: the set-up state (for the reference), the
/// world and the oracle after that step.
pub(crate) type Snapshot = Box<(World, World, Oracle)>;

/// [`run`], also giving the state at the mechanism (if one broke).
pub(crate) fn run_inner(
    prog: &Program,
    sc: &Scenario,
    opts: Opts,
) -> Result<(Outcome, Option<Snapshot>), BadScenario> {
    run_fed(prog, sc, opts, None)
}

/// [`run`], feeding the model's own coverage to `feature` (for libFuzzer's extra counters):
/// for each step, its path position, the role that ran it and the locks that role held; for
/// each switch between threads, the pair of positions (the interleaving coverage of
/// concurrency fuzzers). Features are 32-bit hashes.
pub fn run_with_features(
    prog: &Program,
    sc: &Scenario,
    opts: Opts,
    feature: &mut dyn FnMut(u32),
) -> Result<Outcome, BadScenario> {
    run_fed(prog, sc, opts, Some(feature)).map(|(out, _)| out)
}

/// The locks held, as a small mask (read or write for `mmap_lock`, any page-table lock).
fn lock_mask(held: &[(Lock, bool)]) -> u32 {
    held.iter().fold(0, |m, &(l, w)| {
        m | match l {
            Lock::MmapLock if w => 1,
            Lock::MmapLock => 2,
            Lock::OomLock => 4,
            Lock::OomReaperLock => 8,
            Lock::TaskLock => 16,
            Lock::FreezerLock => 32,
            Lock::IRwsem => 64,
            Lock::Ptl(_) => 128,
            Lock::VmLock(_) => 256,
        }
    })
}

/// A feature's hash (FNV-1a over the words).
fn feature_hash(words: &[u32]) -> u32 {
    words.iter().fold(0x811c_9dc5u32, |h, &w| {
        w.to_le_bytes()
            .iter()
            .fold(h, |h, &b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
    })
}

fn run_fed(
    prog: &Program,
    sc: &Scenario,
    opts: Opts,
    mut feature: Option<&mut dyn FnMut(u32)>,
) -> Result<(Outcome, Option<Snapshot>), BadScenario> {
    let mut prev: Option<(Tid, (u16, u16))> = None;
    let (initial, mut world) = start(prog, &sc.setup, &sc.threads)?;
    let nthreads = world.threads.len();
    let mut oracle = Oracle::new(nthreads);
    oracle.races = opts.races;
    let mut sched = Picker::new(&sc.schedule, nthreads);
    let mut ev: Vec<Event> = Vec::with_capacity(16);
    let mut runnable: Vec<Tid> = Vec::with_capacity(MAX_THREADS);
    let mut spun = false;
    let mut snap: Option<Snapshot> = None;
    let mut out = Outcome {
        violation: None,
        mechanism: None,
        steps: 0,
        trace: Vec::new(),
        completed: false,
    };
    while out.steps < MAX_STEPS {
        runnable.clear();
        runnable.extend(world.runnable());
        if runnable.is_empty() {
            ev.clear();
            match when_stuck(prog, &mut world, &mut ev) {
                Stuck::Fired => continue,
                Stuck::Idle => break,
                Stuck::Violation(v) => {
                    out.violation = Some(v);
                    return Ok((out, snap));
                }
            }
        }
        let tid = sched.pick(&runnable, spun);
        let at = world.next_insn(tid).expect("runnable thread has code");
        let step = step_checked(prog, &mut world, &mut oracle, tid, &mut ev);
        spun = step.value.is_none();
        if let Some(f) = feature.as_deref_mut() {
            let role = world.threads[tid as usize].role as u32;
            let (p, pc) = (u32::from(at.0), u32::from(at.1));
            f(feature_hash(&[
                1,
                p,
                pc,
                role,
                lock_mask(&step.held_before),
            ]));
            if let Some((_, pat)) = prev.filter(|&(pt, _)| pt != tid) {
                f(feature_hash(&[
                    2,
                    u32::from(pat.0),
                    u32::from(pat.1),
                    p,
                    pc,
                ]));
            }
            prev = Some((tid, at));
        }
        out.steps += 1;
        if opts.record {
            out.trace.push(TraceStep {
                tid,
                at,
                value: step.value,
                held: held_all(&world),
                flags: flags_of(prog, &world),
                events: ev.clone(),
            });
        }
        if out.mechanism.is_none() {
            if let Some(m) = &oracle.mechanism {
                out.mechanism = Some(Mechanism {
                    step: out.steps,
                    violation: m.clone(),
                });
                snap = Some(Box::new((initial.clone(), world.clone(), oracle.clone())));
            }
        }
        if let Some(v) = step.violation {
            out.violation = Some(v);
            return Ok((out, snap));
        }
    }
    out.completed = is_idle(&world);
    if out.completed {
        out.violation = end_checks(&initial, &world);
    }
    Ok((out, snap))
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
    let families = super::generate::Family::offered(&prog.offered());
    let suspend = roles.contains(&Role::Pm) || families == [super::generate::Family::Suspend];
    if suspend && !(roles.contains(&Role::User) && roles.contains(&Role::OomReaper)) {
        return Err(BadScenario(
            "a suspend scenario runs the victim (user) and the oom_reaper kthread".into(),
        ));
    }
    if families == [super::generate::Family::Fork] && !roles.contains(&Role::Fork) {
        return Err(BadScenario(
            "a fork scenario runs the forking parent (fork)".into(),
        ));
    }
    if roles.contains(&Role::Fork) && roles.iter().any(|&r| r != Role::Fork && r != Role::Swapoff) {
        return Err(BadScenario(
            "a fork scenario runs the forking parent (fork) and swapoff only: the model's mm is the child's".into(),
        ));
    }
    let initial = world.clone();
    world.start(prog, &roles);
    Ok((initial, world))
}
