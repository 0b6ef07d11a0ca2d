//! The exhaustive search's reductions (`Bounds::reduce`, each argued in `docs/reductions.md`:
//! the thread-local step never preceded by a switch, a last thread that cannot run forgotten,
//! the happens-before clocks renamed by rank and their dead history dropped, preemption
//! subsumption, last-thread dominance, one expansion per world and cost) keep every violation
//! and its length: on every bug config, and on a sample of review mutants, the reduced search
//! finds a violation exactly when the unreduced one does, in the same number of numbered
//! steps, and never explores more states. The full comparison over every mutant is
//! `cargo bench --bench exhaustive`'s.

use mmfuzz::mm::{builtin, Expect, Program};
use mmfuzz_harness::mm::explore::{self, Bounds, Report, VmaKind};
use mmfuzz_harness::mm::generate::Family;
use mmfuzz_harness::mm::review;

/// Two CPUs, one VMA, the happens-before detector (its history is what the clock renaming
/// reduces); a fifth of a million states at most.
fn small(hb: bool) -> Bounds {
    Bounds {
        threads: 2,
        vmas: 1,
        menu: vec![VmaKind::Anon, VmaKind::File],
        hb,
        max_states: 200_000,
        ..Bounds::default()
    }
}

fn both(prog: &Program, b: &Bounds, roots: &[explore::Root]) -> (Report, Report) {
    let on = explore::search(prog, b, roots, |_, _, _| {}).unwrap();
    let off = Bounds {
        reduce: false,
        ..b.clone()
    };
    let off = explore::search(prog, &off, roots, |_, _, _| {}).unwrap();
    (on, off)
}

/// Same verdict and length; no more states when both completed.
fn same(what: &str, on: &Report, off: &Report) -> bool {
    if on.truncated || off.truncated {
        return false;
    }
    let inv = |r: &Report| r.counterexample.as_ref().map(|(_, v)| v.inv);
    assert_eq!(
        (inv(on).is_some(), on.steps),
        (inv(off).is_some(), off.steps),
        "{what}: reduced {:?} in {:?} steps, unreduced {:?} in {:?}",
        inv(on),
        on.steps,
        inv(off),
        off.steps
    );
    assert!(
        on.states <= off.states,
        "{what}: reduced {} states, unreduced {}",
        on.states,
        off.states
    );
    true
}

#[test]
fn every_bug_config_keeps_its_violation_and_length() {
    let mut compared = 0;
    for prog in builtin::programs() {
        if !matches!(prog.config.expect, Expect::Bug(_)) {
            continue;
        }
        for family in Family::offered(&prog.offered()) {
            // Without a preemption bound (last-thread dominance) and with one (preemption
            // subsumption and dominance with its preemption).
            for (hb, preemptions) in [(true, None), (false, None), (false, Some(1))] {
                let b = Bounds {
                    preemptions,
                    ..small(hb)
                };
                let roots: Vec<_> = explore::roots(&prog, &b)
                    .into_iter()
                    .filter(|r| Family::of(&r.threads) == family)
                    .collect();
                let (on, off) = both(&prog, &b, &roots);
                let what = format!(
                    "{} ({}, hb {hb}, preemptions {preemptions:?})",
                    prog.config.name,
                    family.name()
                );
                compared += usize::from(same(&what, &on, &off));
            }
        }
    }
    eprintln!("{compared} complete comparisons");
    assert!(compared >= 20, "only {compared} complete comparisons");
}

#[test]
fn review_mutants_keep_their_verdicts() {
    // exit_mmap of the seed thread's fixed rework and of v6.1: deleted steps, moved locks,
    // reordered and forced checks.
    let mut broken = 0;
    let mut compared = 0;
    for (config, path) in [("seed-akpm-1-fixed", "exit_mmap"), ("v6.1", "exit_mmap")] {
        let prog = builtin::program(config).unwrap();
        let b = small(true);
        for m in review::mutants(&prog, path).unwrap().iter().step_by(3) {
            let Ok(mp) = review::mutant_program(config, &m.text) else {
                continue;
            };
            let roots = explore::roots(&mp, &b);
            let Ok(on) = explore::search(&mp, &b, &roots, |_, _, _| {}) else {
                continue;
            };
            let off = Bounds {
                reduce: false,
                ..b.clone()
            };
            let off = explore::search(&mp, &off, &roots, |_, _, _| {}).unwrap();
            let what = format!("{config}: {}", m.label);
            if same(&what, &on, &off) {
                compared += 1;
                broken += usize::from(on.counterexample.is_some());
            }
        }
    }
    eprintln!("{compared} mutants compared, {broken} broken");
    assert!(compared >= 30, "only {compared} complete comparisons");
    assert!(broken >= 5, "only {broken} broken mutants in the sample");
}

/// Expanding a world once per cost for every way it was reached (`Bounds::share`,
/// `docs/reductions.md`, 7) is exact: on every bug config and on a sample of review mutants,
/// it finds a violation of the same length exactly when expanding each way alone does, and
/// without a preemption bound it settles the same states over the same transitions. (Under a
/// bound the count of states settled again with fewer preemptions depends on the order they
/// come in, so it may differ a little either way.)
#[test]
fn sharing_an_expansion_keeps_every_state_and_violation() {
    let search = |prog: &Program, b: &Bounds, roots: &[explore::Root], share: bool| {
        let b = Bounds { share, ..b.clone() };
        explore::search(prog, &b, roots, |_, _, _| {}).unwrap()
    };
    let mut compared = 0;
    let mut cases: Vec<(String, Program, Bounds, Vec<explore::Root>)> = Vec::new();
    for prog in builtin::programs() {
        if !matches!(prog.config.expect, Expect::Bug(_)) {
            continue;
        }
        for (hb, preemptions) in [(true, None), (false, None), (false, Some(1))] {
            let b = Bounds {
                preemptions,
                ..small(hb)
            };
            let roots = explore::roots(&prog, &b);
            let what = format!(
                "{} (hb {hb}, preemptions {preemptions:?})",
                prog.config.name
            );
            cases.push((what, prog.clone(), b, roots));
        }
    }
    for (config, path) in [("seed-akpm-1-fixed", "exit_mmap"), ("v6.1", "exit_mmap")] {
        let prog = builtin::program(config).unwrap();
        for m in review::mutants(&prog, path).unwrap().iter().step_by(7) {
            let Ok(mp) = review::mutant_program(config, &m.text) else {
                continue;
            };
            let b = small(true);
            let roots = explore::roots(&mp, &b);
            cases.push((format!("{config}: {}", m.label), mp, b, roots));
        }
    }
    for (what, prog, b, roots) in &cases {
        let (on, off) = (search(prog, b, roots, true), search(prog, b, roots, false));
        if on.truncated || off.truncated {
            continue;
        }
        let verdict = |r: &Report| (r.counterexample.as_ref().map(|(_, v)| v.inv), r.steps);
        assert_eq!(verdict(&on), verdict(&off), "{what}: shared, alone");
        if b.preemptions.is_none() {
            assert_eq!(
                (on.states, on.transitions),
                (off.states, off.transitions),
                "{what}: states and transitions shared, alone"
            );
        }
        compared += 1;
    }
    eprintln!("{compared} complete comparisons");
    assert!(compared >= 40, "only {compared} complete comparisons");
}
