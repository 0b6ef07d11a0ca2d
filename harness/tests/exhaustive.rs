//! Exhaustive mode under `cargo test`, at small bounds: every `safe` config of the table has
//! no violation in any interleaving, and every `bug` config's shortest counterexample is no
//! longer (in numbered steps) than the shortest one the corpus keeps for it.

use mmfuzz::mm::{builtin, Expect, Program};
use mmfuzz_harness::corpus::{self, Case, Expect as CaseExpect, Payload};
use mmfuzz_harness::mm::explore::{self, Bounds, VmaKind};
use mmfuzz_harness::mm::generate::Family;
use mmfuzz_harness::mm::Schedule;

/// The bound each family of scenarios is checked at in `cargo test` (`mmfuzz check` goes
/// further: docs/guide.md and docs/findings.md).
fn bounds(family: Family, safe: bool) -> Bounds {
    match family {
        // The victim, the suspend, the reaper and the allocator, at most two preemptions; the
        // holder task (tetsuo-i's hang needs it) makes five threads, which `mmfuzz check` runs.
        Family::Suspend => Bounds {
            threads: 4,
            vmas: 1,
            menu: vec![VmaKind::Anon],
            preemptions: Some(2),
            hb: false,
            ..Bounds::default()
        },
        // Two threads of a cgroup-frozen victim and the allocator (B14), two preemptions.
        Family::Cgroup => Bounds {
            threads: 3,
            vmas: 1,
            menu: vec![VmaKind::Anon],
            preemptions: Some(2),
            hb: !safe,
            ..Bounds::default()
        },
        // A fork failing at each VMA of a parent with two (three for the safe configs: the
        // parent's VMAs after the marker), against two swapoff walkers.
        Family::Fork => Bounds {
            threads: 3,
            vmas: if safe { 3 } else { 2 },
            menu: vec![VmaKind::Anon, VmaKind::File],
            ..Bounds::default()
        },
        Family::Teardown if safe => Bounds {
            threads: 3,
            vmas: 1,
            menu: vec![VmaKind::Anon, VmaKind::Mlock],
            hb: false,
            ..Bounds::default()
        },
        // The happens-before detector, as in random runs, so the lengths compare.
        Family::Teardown => Bounds {
            threads: 3,
            vmas: 1,
            menu: vec![VmaKind::Anon, VmaKind::File, VmaKind::Mlock],
            ..Bounds::default()
        },
    }
}

/// The search of one family of `prog`'s scenarios (all of them for a config of one family).
fn search(prog: &Program, family: Family, safe: bool) -> explore::Report {
    let b = bounds(family, safe);
    let several = Family::offered(&prog.offered()).len() > 1;
    let roots: Vec<_> = explore::roots(prog, &b)
        .into_iter()
        .filter(|r| !several || Family::of(&r.threads) == family)
        .collect();
    let rep = explore::search(prog, &b, &roots, |_, _, _| {}).unwrap();
    assert!(!rep.truncated, "{}: search truncated", prog.config.name);
    rep
}

#[test]
fn safe_configs_have_no_violation_in_any_interleaving() {
    for prog in builtin::programs() {
        if prog.config.expect != Expect::Safe {
            continue;
        }
        for family in Family::offered(&prog.offered()) {
            let rep = search(&prog, family, true);
            eprintln!(
                "{} ({}): {} states, {} transitions, {} set-ups",
                prog.config.name,
                family.name(),
                rep.states,
                rep.transitions,
                rep.roots
            );
            if let Some((sc, v)) = rep.counterexample {
                panic!(
                    "false alarm on {}: {} {}\n{}",
                    prog.config.name,
                    v.inv,
                    v.msg,
                    mmfuzz_harness::mm::report::explain(&prog, &sc)
                );
            }
        }
    }
}

/// The fewest numbered steps among the corpus's failing cases of `config`.
fn corpus_shortest(config: &str) -> Option<usize> {
    let files = corpus::collect(&[corpus::default_dir()]).unwrap();
    files
        .iter()
        .filter_map(|f| {
            let case = Case::load(f).unwrap();
            match (&case.payload, case.expect) {
                (
                    Payload::Mm {
                        config: c,
                        scenario,
                        ..
                    },
                    CaseExpect::Fail,
                ) if c == config => match &scenario.schedule {
                    Schedule::Segments(s) => Some(s.len()),
                    _ => None,
                },
                _ => None,
            }
        })
        .min()
}

#[test]
fn bug_configs_shortest_counterexample_is_no_longer_than_the_corpus_one() {
    for prog in builtin::programs() {
        if !matches!(prog.config.expect, Expect::Bug(_)) || prog.config.name.contains("tetsuo-i") {
            continue;
        }
        // The first family (in Family::offered's order) with a violation.
        let rep = Family::offered(&prog.offered())
            .into_iter()
            .map(|f| search(&prog, f, false))
            .find(|r| r.counterexample.is_some())
            .unwrap_or_else(|| panic!("{}: no violation within the bounds", prog.config.name));
        let (_, v) = rep
            .counterexample
            .as_ref()
            .unwrap_or_else(|| panic!("{}: no violation within the bounds", prog.config.name));
        let steps = rep.steps.unwrap();
        let kept = corpus_shortest(&prog.config.name);
        eprintln!(
            "{}: {} in {steps} numbered steps (corpus: {kept:?}); {} states",
            prog.config.name, v.inv, rep.states
        );
        if let Some(k) = kept {
            assert!(
                steps <= k,
                "{}: exhaustive {steps} steps > corpus {k}",
                prog.config.name
            );
        }
    }
}
