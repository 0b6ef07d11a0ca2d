//! `mmfuzz run`: random scenarios against configs, time-boxed; a table (or JSON lines) of
//! verdicts; counterexamples shrunk and saved.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use mmfuzz::mm::{Expect, Program};
use mmfuzz_harness::campaign::{self, Finding, Settings};
use mmfuzz_harness::corpus::{self, Saved};
use mmfuzz_harness::mm::generate::{only_family, Family};
use mmfuzz_harness::mm::{report, shrink};
use mmfuzz_harness::rows::RunRow;
use mmfuzz_harness::targets;

use crate::common::{
    check_seconds, jobs_or_all, json_line, load_setup, outln, programs, saved_or_warn, BadInput,
    CmdResult, Stop,
};
use crate::progress::{interrupt_switch, show_progress};
use crate::RunArgs;

/// How `run` reports: JSON lines, or the table and (with `explain`) each counterexample.
#[derive(Clone, Copy)]
struct Show {
    json: bool,
    explain: bool,
    /// Standard error is a terminal: a progress bar.
    tty: bool,
}

/// `mmfuzz run`.
pub fn run(args: RunArgs) -> CmdResult {
    let RunArgs {
        configs,
        seconds,
        execs,
        jobs,
        seed,
        json,
        out,
        explain,
        setup,
        shard,
        family,
    } = args;
    let shard = shard.shard;
    let (json, seed, out) = (json.json, seed.seed, out.out);
    let show = Show {
        json,
        explain: !json && (explain || !configs.is_empty()),
        tty: !json && std::io::IsTerminal::is_terminal(&std::io::stderr()),
    };
    let setup = load_setup(setup.setup.as_deref())?;
    let time = check_seconds(seconds)?;
    let jobs = jobs_or_all(jobs.jobs)?;
    let mut progs = programs(&configs)?;
    if let Some(f) = &family {
        let fam = Family::parse(f).ok_or_else(|| {
            BadInput(format!(
                "--family {f}: not a family (teardown, suspend, cgroup, fork)"
            ))
        })?;
        progs = progs
            .iter()
            .map(|p| {
                only_family(p, fam).ok_or_else(|| {
                    BadInput(format!(
                        "--family {f}: {} has no scenario of that family",
                        p.config.name
                    ))
                })
            })
            .collect::<Result<_, _>>()?;
    }
    // Shard I of N takes the seed streams I*J .. I*J+J-1 of the N*J a single run of
    // `--jobs N*J` would take (stream j draws from seed + j).
    let s = Settings {
        time,
        jobs,
        seed: seed.wrapping_add(shard.map_or(0, |sh| (sh.index * jobs) as u64)),
        case_bytes: 0,
        max_execs_per_job: execs,
        setup,
    };
    if !json {
        let part = shard.map_or(String::new(), |sh| {
            format!(
                ", shard {sh}: seed streams {}..{} of {}",
                sh.index * jobs,
                (sh.index + 1) * jobs - 1,
                sh.count * jobs
            )
        });
        let fam = family
            .as_ref()
            .map_or(String::new(), |f| format!(", family {f}"));
        eprintln!(
            "mmfuzz run: {} config(s){fam}, {seconds} s each on {jobs} job(s), seed {seed}{part}",
            progs.len()
        );
        outln!(
            "{:<24} {:>8} {:>6} {:>10} {:>9} {:>9} {:>9} {:>6}  counterexample",
            "config",
            "expected",
            "found",
            "invariant",
            "execs",
            "execs/s",
            "to first",
            "steps"
        )?;
    }
    let (mut all_ok, mut any_unknown, mut any_dup, mut stories) = (true, false, false, Vec::new());
    let stop = interrupt_switch("scenario");
    for (k, prog) in progs.iter().enumerate() {
        if stop.load(Ordering::Relaxed) {
            not_run(&progs[k..], json)?;
            all_ok = false;
            break;
        }
        let label = format!("[{}/{}] {}", k + 1, progs.len(), prog.config.name);
        let (mut row, story) = one_config(prog, &s, &out, &label, &stop, show);
        row.shard = shard.map(|sh| sh.to_string());
        stories.extend(story);
        // An `unknown` row does not change the exit status (shared/spec/README.md); a `bug`
        // row must break the named invariant (one of `I4/I5`).
        let ok = !row.interrupted && campaign::as_expected(&prog.config.expect, row.finding());
        let unknown = prog.config.expect == Expect::Unknown;
        any_unknown |= unknown;
        any_dup |= row.duplicate;
        all_ok &= ok;
        if json {
            json_line(&row)?;
        } else {
            outln!("{}", table_line(&row, ok, unknown))?;
        }
    }
    for s in stories {
        outln!("\n{s}")?;
    }
    if stop.load(Ordering::Relaxed) {
        eprintln!(
            "mmfuzz: interrupted; counterexamples found so far are in {}",
            out.join("mm").display()
        );
    }
    if !json {
        summary(all_ok, any_unknown, any_dup, stop.load(Ordering::Relaxed))?;
    }
    Ok(all_ok)
}

/// The campaign on one config, its counterexample shrunk and saved in `out`: the row, and
/// the counterexample's story if `show.explain`.
fn one_config(
    prog: &Program,
    s: &Settings,
    out: &Path,
    label: &str,
    stop: &Arc<AtomicBool>,
    show: Show,
) -> (RunRow, Option<String>) {
    let want = targets::expected_invariants(&prog.config.expect);
    let live = campaign::Live::new(stop.clone());
    let rep = std::thread::scope(|scope| {
        let worker = scope.spawn(|| campaign::mm_config_live(prog, &want, s, &live));
        show_progress(label, s.time, &live, &worker, show.tty, show.json);
        worker.join().expect("campaign thread")
    });
    let (mut saved, mut shortest, mut story) = (None, None, None);
    let mut found = Finding::Safe;
    // A violation, else a latent defect (a proxy broke and no scenario reached a harm).
    let shown = (rep.shown().map(|f| (f, false))).or(rep.latent.as_ref().map(|f| (f, true)));
    if let Some(((_, _, sc, v), latent)) = shown {
        let small = shrink::shrink(prog, sc, v.inv);
        found = if latent {
            Finding::Latent(v.inv)
        } else {
            let out = mmfuzz_harness::mm::run(prog, &small, Default::default());
            let via = out.ok().and_then(|o| o.mechanism).map(|m| m.violation.inv);
            Finding::Bug(v.inv, via)
        };
        shortest = Some(shrink::length(&small));
        let text = show.explain.then(|| report::explain(prog, &small));
        let note = format!("found by mmfuzz run (seed {}): {}", s.seed, v.msg);
        saved = saved_or_warn(corpus::save_counterexample(out, prog, v.inv, &note, small));
        story = text.map(|t| match &saved {
            Some(Saved::SameShape(p)) => format!(
                "The case found (not saved: a duplicate of {}, same config, invariant and steps; \
                 its set-up may differ):\n{t}",
                p.display()
            ),
            _ => t,
        });
    }
    (
        RunRow::new(prog, &rep, found, shortest, saved.as_ref()),
        story,
    )
}

/// A line of the table: `!` marks a verdict that is not the expected one, `?` a config
/// expected `unknown`.
fn table_line(row: &RunRow, ok: bool, unknown: bool) -> String {
    let mark = if !ok {
        '!'
    } else if unknown {
        '?'
    } else {
        ' '
    };
    let dup = if row.duplicate { " (duplicate)" } else { "" };
    // `incomplete` takes the room of the invariant column (`-` then), so the columns align.
    let inv_width = 10usize.saturating_sub(row.found.len().saturating_sub(6));
    format!(
        "{mark}{:<23} {:>8} {:>6} {:>inv_width$} {:>9} {:>9.0} {:>9} {:>6}  {}{dup}",
        row.config,
        row.expected,
        row.found,
        invariant_cell(row),
        row.execs,
        row.execs_per_sec,
        row.execs_to_first.map_or("-".into(), |n| n.to_string()),
        row.shortest_steps.map_or("-".into(), |n| n.to_string()),
        row.counterexample.as_deref().unwrap_or("-"),
    )
}

/// The invariant column: the harm, after its mechanism if one broke first (`I4→I5`).
fn invariant_cell(row: &RunRow) -> String {
    match (row.mechanism, row.invariant) {
        (Some(m), Some(i)) if m != i => format!("{m}→{i}"),
        (_, Some(i)) => i.name().to_string(),
        (_, None) => "-".into(),
    }
}

/// The configs Ctrl-C left out: a line of the table, or (`json`) a line on standard error.
fn not_run(rest: &[Program], json: bool) -> Result<(), Stop> {
    let names = rest
        .iter()
        .map(|p| p.config.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    if json {
        eprintln!("mmfuzz: not run (interrupted): {names}");
        return Ok(());
    }
    outln!(
        "!{:<23} not run (interrupted): {names}",
        rest[0].config.name
    )
}

/// The lines under the table.
fn summary(all_ok: bool, any_unknown: bool, any_dup: bool, interrupted: bool) -> Result<(), Stop> {
    if any_dup {
        outln!(
            "(duplicate): the case found was not saved; the file named holds an older case with \
             the same config, invariant and steps (its set-up may differ)"
        )?;
    }
    outln!(
        "{}",
        if all_ok {
            "every config with a decided expectation gave its expected verdict"
        } else if interrupted {
            "'!' marks a config whose verdict differs from the expected one, or that Ctrl-C cut \
             short (`incomplete`: no violation so far) or left out (`not run`)"
        } else {
            "'!' marks a config whose verdict differs from the expected one"
        }
    )?;
    if any_unknown {
        outln!(
            "'?' marks a config the model cannot decide (expected `unknown`): what it finds \
             is explained in docs/findings.md, section \"The unknown rows\""
        )?;
    }
    Ok(())
}
