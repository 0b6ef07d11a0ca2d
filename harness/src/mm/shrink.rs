//! Shrinking a failing scenario to the shortest interleaving that still breaks the same
//! invariant: the schedule becomes explicit segments (one per numbered step of the report),
//! then segments, threads and set-up operations are removed and segments shortened while the
//! violation stays. The set-up is reduced too (VMAs, operations, flags, sizes), and a
//! set-up candidate must stay kernel-possible ([`kernel_possible::check`]).

use mmfuzz::mm::{Invariant, Program};

use super::exec::{run, Opts, Outcome};
use super::kernel_possible;
use super::scenario::{Scenario, Schedule, Setup};
use crate::minimize::ddmin;

/// The schedule a recorded run actually followed, as segments.
pub fn segments_of(out: &Outcome) -> Vec<(u8, u16)> {
    let mut segs: Vec<(u8, u16)> = Vec::new();
    for s in &out.trace {
        match segs.last_mut() {
            Some((t, n)) if *t == s.tid => *n += 1,
            _ => segs.push((s.tid, 1)),
        }
    }
    segs
}

/// Whether `sc`'s run is reported by `inv` ([`Outcome::headline`]): the same harm, or for a
/// latent defect the same mechanism and still no harm.
fn fails_with(prog: &Program, sc: &Scenario, inv: Invariant) -> bool {
    run(prog, sc, Opts::default()).is_ok_and(|o| o.headline().is_some_and(|v| v.inv == inv))
}

/// Shrink `sc`, which must break `inv` on `prog` (a harm, or a latent defect's mechanism).
/// Deterministic.
pub fn shrink(prog: &Program, sc: &Scenario, inv: Invariant) -> Scenario {
    let rec = Opts {
        record: true,
        ..Opts::default()
    };
    let Ok(out) = run(prog, sc, rec) else {
        return sc.clone();
    };
    let mut best = Scenario {
        schedule: Schedule::Segments(segments_of(&out)),
        ..sc.clone()
    };
    if !fails_with(prog, &best, inv) {
        return sc.clone();
    }
    for _ in 0..4 {
        let before = best.clone();
        // Fewer threads: the schedule's segments name threads by index, so the kept threads'
        // segments are renumbered and the others' dropped.
        let all: Vec<u8> = (0..best.threads.len() as u8).collect();
        let keep = ddmin(all, |k: &[u8]| {
            !k.is_empty() && fails_with(prog, &with_threads(&best, k), inv)
        });
        best = with_threads(&best, &keep);
        // A smaller set-up: fewer VMAs and operations, fewer flags, fewer pages.
        best.setup = shrink_setup(&best.setup, |s| {
            kernel_possible::possible(s) && {
                let c = Scenario {
                    setup: s.to_vec(),
                    ..best.clone()
                };
                fails_with(prog, &c, inv)
            }
        });
        // Fewer and shorter segments.
        if let Schedule::Segments(segs) = best.schedule.clone() {
            let segs = ddmin(segs, |s: &[(u8, u16)]| {
                let c = Scenario {
                    schedule: Schedule::Segments(s.to_vec()),
                    ..best.clone()
                };
                fails_with(prog, &c, inv)
            });
            best.schedule = Schedule::Segments(shorter_segments(prog, &best, segs, inv));
        }
        // Fewer context switches: move a later segment of a thread up into an earlier one
        // (or an earlier one down into a later one).
        if let Schedule::Segments(mut segs) = best.schedule.clone() {
            let mut i = 0;
            while i < segs.len() {
                let mut j = i + 1;
                while j < segs.len() {
                    if segs[j].0 == segs[i].0 {
                        for down in [false, true] {
                            let mut c = segs.clone();
                            let n = c[if down { i } else { j }].1;
                            if down {
                                c[j].1 += n;
                                c.remove(i);
                            } else {
                                c[i].1 += n;
                                c.remove(j);
                            }
                            let cand = Scenario {
                                schedule: Schedule::Segments(c.clone()),
                                ..best.clone()
                            };
                            if fails_with(prog, &cand, inv) {
                                segs = c;
                                break;
                            }
                        }
                    }
                    j += 1;
                }
                i += 1;
            }
            best.schedule = Schedule::Segments(segs);
        }
        // Re-record so the segments are exactly what ran (merges neighbours, drops no-ops).
        if let Ok(out) = run(prog, &best, rec) {
            let c = Scenario {
                schedule: Schedule::Segments(segments_of(&out)),
                ..best.clone()
            };
            if fails_with(prog, &c, inv) {
                best = c;
            }
        }
        if best == before {
            break;
        }
    }
    best
}

/// `setup` without VMA `v`: its `mmap` and the operations naming it removed, later VMAs
/// renumbered.
pub fn without_vma(setup: &[Setup], v: u8) -> Vec<Setup> {
    let mut n = 0u8;
    let mut out = Vec::new();
    for s in setup {
        let keep = match s {
            Setup::Mmap { .. } => {
                n += 1;
                n - 1 != v
            }
            Setup::Fault { vma } | Setup::Mlock { vma } | Setup::Munmap { vma } => *vma != v,
            Setup::OomKill | Setup::Kill | Setup::CgroupFreeze => true,
            // Failing at the removed VMA becomes failing at the next one.
            Setup::ForkFails { .. } => true,
        };
        if keep {
            let mut s = s.clone();
            if let Setup::Fault { vma }
            | Setup::Mlock { vma }
            | Setup::Munmap { vma }
            | Setup::ForkFails { vma } = &mut s
            {
                if *vma > v {
                    *vma -= 1;
                }
            }
            out.push(s);
        }
    }
    out
}

/// Reduce a set-up while `keep` holds (the caller makes `keep` require a kernel-possible
/// set-up): whole VMAs (with the operations naming them), then single operations, then
/// `mlock` to `fault`, then each `VM_*` flag, then pages (to 1, else halved).
pub fn shrink_setup(setup: &[Setup], mut keep: impl FnMut(&[Setup]) -> bool) -> Vec<Setup> {
    let mut best = setup.to_vec();
    let vmas = |s: &[Setup]| s.iter().filter(|x| matches!(x, Setup::Mmap { .. })).count();
    // Whole VMAs, last first so that earlier indices stay put.
    for v in (0..vmas(&best)).rev() {
        let c = without_vma(&best, v as u8);
        if keep(&c) {
            best = c;
        }
    }
    // Single operations; removing an `mmap` this way renumbers nothing, so such candidates
    // are usually rejected (the VMA pass above removes VMAs).
    best = ddmin(best, |s: &[Setup]| keep(s));
    for i in 0..best.len() {
        if let Setup::Mlock { vma } = best[i] {
            let mut c = best.clone();
            c[i] = Setup::Fault { vma };
            if keep(&c) {
                best = c;
            }
        }
    }
    for i in 0..best.len() {
        let Setup::Mmap { flags, .. } = &best[i] else {
            continue;
        };
        for f in flags.clone() {
            let mut c = best.clone();
            if let Setup::Mmap { flags, .. } = &mut c[i] {
                flags.retain(|x| *x != f);
            }
            if keep(&c) {
                best = c;
            }
        }
        loop {
            let Setup::Mmap { pages, .. } = best[i] else {
                unreachable!()
            };
            let tries = if pages > 2 {
                vec![1, pages / 2]
            } else {
                vec![1]
            };
            let smaller = tries.into_iter().filter(|&p| p < pages).find_map(|p| {
                let mut c = best.clone();
                if let Setup::Mmap { pages, .. } = &mut c[i] {
                    *pages = p;
                }
                keep(&c).then_some(c)
            });
            match smaller {
                Some(c) => best = c,
                None => break,
            }
        }
    }
    best
}

/// Each segment cut to the fewest steps that still break `inv` with no more segments and
/// fewer steps in all, as re-recorded (a thread stops where its part ends: the teardown at
/// its unlock, not at the end of `do_exit`; the scheduler's fallback must not then run it on
/// in a new segment).
fn shorter_segments(
    prog: &Program,
    sc: &Scenario,
    mut segs: Vec<(u8, u16)>,
    inv: Invariant,
) -> Vec<(u8, u16)> {
    let rec = Opts {
        record: true,
        ..Opts::default()
    };
    let total = |s: &[(u8, u16)]| s.iter().map(|(_, n)| usize::from(*n)).sum::<usize>();
    // Compare with what the segments run as (the fallback may add segments after them).
    let as_run = Scenario {
        schedule: Schedule::Segments(segs.clone()),
        ..sc.clone()
    };
    if let Ok(out) = run(prog, &as_run, rec) {
        if out.headline().is_some_and(|v| v.inv == inv) {
            segs = segments_of(&out);
        }
    }
    let mut i = 0;
    while i < segs.len() {
        for n in 1..segs[i].1 {
            let mut c = segs.clone();
            c[i].1 = n;
            let cand = Scenario {
                schedule: Schedule::Segments(c),
                ..sc.clone()
            };
            let Ok(out) = run(prog, &cand, rec) else {
                continue;
            };
            if out.headline().is_some_and(|v| v.inv == inv) {
                let got = segments_of(&out);
                if got.len() <= segs.len() && total(&got) < total(&segs) {
                    segs = got;
                    break;
                }
            }
        }
        i += 1;
    }
    segs
}

/// `sc` with only the threads at the indices `keep` (in order), its segments renumbered.
fn with_threads(sc: &Scenario, keep: &[u8]) -> Scenario {
    let schedule = match &sc.schedule {
        Schedule::Segments(segs) => Schedule::Segments(
            segs.iter()
                .filter_map(|&(t, n)| {
                    let i = keep.iter().position(|&k| k == t)?;
                    Some((i as u8, n))
                })
                .collect(),
        ),
        other => other.clone(),
    };
    Scenario {
        threads: keep.iter().map(|&i| sc.threads[i as usize]).collect(),
        schedule,
        setup: sc.setup.clone(),
    }
}

/// Number of segments (numbered steps) of a shrunk scenario's schedule.
pub fn length(sc: &Scenario) -> usize {
    match &sc.schedule {
        Schedule::Segments(s) => s.len(),
        Schedule::Choices(c) => c.len(),
        Schedule::Pct { .. } => 0,
    }
}
