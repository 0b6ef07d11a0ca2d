//! Exhaustive mode under `cargo test`, at small bounds: every `safe` config of the table has
//! no violation in any interleaving, and every `bug` config's shortest counterexample is no
//! longer (in numbered steps) than the shortest one the corpus keeps for it.

use mmfuzz::mm::{builtin, Expect, Program, Role};
use mmfuzz_harness::corpus::{self, Case, Expect as CaseExpect, Payload};
use mmfuzz_harness::mm::explore::{self, Bounds, VmaKind};
use mmfuzz_harness::mm::Schedule;

fn suspend(prog: &Program) -> bool {
    prog.entry(Role::Pm).is_some()
}

/// The bound each kind of config is checked at in `cargo test` (`mmfuzz check` goes further:
/// docs/guide.md and docs/findings.md).
fn bounds(prog: &Program, safe: bool) -> Bounds {
    if suspend(prog) {
        // The victim, the suspend, the reaper and the allocator, at most two preemptions; the
        // holder task (tetsuo-i's hang needs it) makes five threads, which `mmfuzz check` runs.
        Bounds {
            threads: 4,
            vmas: 1,
            menu: vec![VmaKind::Anon],
            preemptions: Some(2),
            hb: false,
            ..Bounds::default()
        }
    } else if prog.entry(Role::User).is_some() {
        // Two threads of a cgroup-frozen victim and the allocator (B14), two preemptions.
        Bounds {
            threads: 3,
            vmas: 1,
            menu: vec![VmaKind::Anon],
            preemptions: Some(2),
            hb: !safe,
            ..Bounds::default()
        }
    } else if prog.entry(Role::Fork).is_some() {
        // A fork failing at each VMA of a parent with two (three for the safe configs: the
        // parent's VMAs after the marker), against two swapoff walkers.
        Bounds {
            threads: 3,
            vmas: if safe { 3 } else { 2 },
            menu: vec![VmaKind::Anon, VmaKind::File],
            ..Bounds::default()
        }
    } else if safe {
        Bounds {
            threads: 3,
            vmas: 1,
            menu: vec![VmaKind::Anon, VmaKind::Mlock],
            hb: false,
            ..Bounds::default()
        }
    } else {
        // The happens-before detector, as in random runs, so the lengths compare.
        Bounds {
            threads: 3,
            vmas: 1,
            menu: vec![VmaKind::Anon, VmaKind::File, VmaKind::Mlock],
            ..Bounds::default()
        }
    }
}

fn search(prog: &Program, b: &Bounds) -> explore::Report {
    let roots = explore::roots(prog, b);
    let rep = explore::search(prog, b, &roots, |_, _, _| {}).unwrap();
    assert!(!rep.truncated, "{}: search truncated", prog.config.name);
    rep
}

#[test]
fn safe_configs_have_no_violation_in_any_interleaving() {
    for prog in builtin::programs() {
        if prog.config.expect != Expect::Safe {
            continue;
        }
        let b = bounds(&prog, true);
        let rep = search(&prog, &b);
        eprintln!(
            "{}: {} states, {} transitions, {} set-ups",
            prog.config.name, rep.states, rep.transitions, rep.roots
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
        let b = bounds(&prog, false);
        let rep = search(&prog, &b);
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
