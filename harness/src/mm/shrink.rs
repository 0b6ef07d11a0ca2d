//! Shrinking a failing scenario to the shortest interleaving that still breaks the same
//! invariant: the schedule becomes explicit segments (one per numbered step of the report),
//! then segments, threads and set-up operations are removed and segments shortened while the
//! violation stays.

use mmfuzz::mm::{Invariant, Program};

use super::exec::{run, Opts, Outcome};
use super::scenario::{Scenario, Schedule, Setup, Thread};
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
        // Fewer threads (the schedule names thread ids, so re-derive it after each removal).
        let threads = ddmin(best.threads.clone(), |t: &[Thread]| {
            !t.is_empty() && {
                let c = Scenario {
                    threads: t.to_vec(),
                    ..best.clone()
                };
                fails_with(prog, &c, inv)
            }
        });
        best.threads = threads;
        // Fewer set-up operations.
        let setup = ddmin(best.setup.clone(), |s: &[Setup]| {
            let c = Scenario {
                setup: s.to_vec(),
                ..best.clone()
            };
            fails_with(prog, &c, inv)
        });
        best.setup = setup;
        // Fewer and shorter segments.
        if let Schedule::Segments(segs) = best.schedule.clone() {
            let segs = ddmin(segs, |s: &[(u8, u16)]| {
                let c = Scenario {
                    schedule: Schedule::Segments(s.to_vec()),
                    ..best.clone()
                };
                fails_with(prog, &c, inv)
            });
            best.schedule = Schedule::Segments(segs);
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

/// Number of segments (numbered steps) of a shrunk scenario's schedule.
pub fn length(sc: &Scenario) -> usize {
    match &sc.schedule {
        Schedule::Segments(s) => s.len(),
        Schedule::Choices(c) => c.len(),
        Schedule::Pct { .. } => 0,
    }
}
