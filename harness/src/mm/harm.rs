//! From mechanism to harm: when a run breaks a proxy invariant (I4's stale head, I2's reader
//! discipline; [`super::oracle::is_proxy`]) and reaches no harm itself, every continuation of
//! the same scenario from the state where the proxy broke is searched, breadth-first, for the
//! first harm a role of the config reaches (a use of the freed VMA, I5; page tables freed
//! under a walker, I1; or any other violation). Found: a scenario whose schedule is the run's
//! prefix then the harm's steps. Not found within the bound: the defect stays latent in this
//! scenario (another scenario of the campaign or of `check` may still reach a harm).

use std::collections::{HashSet, VecDeque};

use mmfuzz::mm::state::World;
use mmfuzz::mm::{Program, Tid};

use super::exec::{self, Opts, MAX_STEPS};
use super::oracle::{end_checks, pack_state, when_stuck, Oracle, Stuck};
use super::scenario::{Scenario, Schedule};
use super::shrink::segments_of;

/// States one continuation search may visit (the tail after `exit_mmap`'s unlock is short:
/// the remaining threads' paths to their end).
pub const MAX_STATES: usize = 20_000;

struct Node {
    world: World,
    oracle: Oracle,
    /// Arena index of the parent and the thread that stepped (`None`: a timeout fired).
    parent: usize,
    tid: Option<Tid>,
    depth: usize,
}

/// A scenario of `prog` that extends `sc`'s run past its mechanism to a harm, if `sc`'s run
/// breaks a proxy and no harm follows in it, and some continuation (within [`MAX_STATES`])
/// reaches one. Deterministic.
pub fn after(prog: &Program, sc: &Scenario) -> Option<Scenario> {
    let rec = Opts {
        record: true,
        ..Opts::default()
    };
    let (out, snap) = exec::run_inner(prog, sc, rec).ok()?;
    if out.violation.is_some() {
        return None;
    }
    let (mech, snap) = (out.mechanism.as_ref()?, snap?);
    let (initial, world, oracle) = *snap;
    let tail = search(prog, &initial, world, oracle, mech.step)?;
    let prefix = exec::Outcome {
        trace: out.trace[..mech.step].to_vec(),
        ..out.clone()
    };
    let mut segs = segments_of(&prefix);
    for t in tail {
        match segs.last_mut() {
            Some((l, n)) if *l == t => *n += 1,
            _ => segs.push((t, 1)),
        }
    }
    let found = Scenario {
        schedule: Schedule::Segments(segs),
        ..sc.clone()
    };
    let check = exec::run(prog, &found, Opts::default()).ok()?;
    check.violation.is_some().then_some(found)
}

fn key(world: &World, oracle: &Oracle) -> u64 {
    pack_state((world, None), oracle, &mut Vec::new())
}

/// Breadth-first from `(world, oracle)` (reached after `steps` model steps): the threads'
/// steps to the first violation, fewest first.
fn search(
    prog: &Program,
    initial: &World,
    world: World,
    oracle: Oracle,
    steps: usize,
) -> Option<Vec<Tid>> {
    let mut arena: Vec<(usize, Option<Tid>)> = Vec::new();
    let mut seen: HashSet<u64> = HashSet::new();
    let mut work: VecDeque<Node> = VecDeque::new();
    seen.insert(key(&world, &oracle));
    work.push_back(Node {
        world,
        oracle,
        parent: usize::MAX,
        tid: None,
        depth: steps,
    });
    let mut ev = Vec::with_capacity(16);
    let path = |arena: &[(usize, Option<Tid>)], mut i: usize, last: Option<Tid>| {
        let mut tids: Vec<Tid> = last.into_iter().collect();
        while i != usize::MAX {
            let (p, t) = arena[i];
            tids.extend(t);
            i = p;
        }
        tids.reverse();
        tids
    };
    while let Some(n) = work.pop_front() {
        if arena.len() >= MAX_STATES {
            return None;
        }
        arena.push((n.parent, n.tid));
        let idx = arena.len() - 1;
        let runnable: Vec<Tid> = n.world.runnable().collect();
        let mut push = |world: World, oracle: Oracle, tid: Option<Tid>| {
            if seen.insert(key(&world, &oracle)) {
                work.push_back(Node {
                    world,
                    oracle,
                    parent: idx,
                    tid,
                    depth: n.depth + usize::from(tid.is_some()),
                });
            }
        };
        if runnable.is_empty() {
            let mut w = n.world.clone();
            match when_stuck(prog, &mut w, &mut ev) {
                Stuck::Fired => push(w, n.oracle.clone(), None),
                Stuck::Idle => {
                    if end_checks(initial, &n.world).is_some() {
                        return Some(path(&arena, idx, None));
                    }
                }
                Stuck::Violation(_) => return Some(path(&arena, idx, None)),
            }
            continue;
        }
        if n.depth >= MAX_STEPS {
            continue;
        }
        for t in runnable {
            let mut w = n.world.clone();
            let mut o = n.oracle.clone();
            let step = exec::step_checked(prog, &mut w, &mut o, t, &mut ev);
            if step.violation.is_some() {
                return Some(path(&arena, idx, Some(t)));
            }
            for th in &mut w.threads {
                th.steps = 0;
            }
            push(w, o, Some(t));
        }
    }
    None
}
