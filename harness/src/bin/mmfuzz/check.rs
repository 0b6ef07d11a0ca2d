//! `mmfuzz check`: exhaustive mode, every interleaving within bounds, breadth-first.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use mmfuzz::mm::Program;
use mmfuzz_harness::campaign::{self, Finding};
use mmfuzz_harness::corpus::{self, Saved};
use mmfuzz_harness::mm::exec::BadScenario;
use mmfuzz_harness::mm::explore::{self as search, Bounds, Root};
use mmfuzz_harness::mm::generate::Family;
use mmfuzz_harness::mm::report;
use mmfuzz_harness::rows::{expected_word, CheckRow};

use crate::common::{
    jobs_or_all, json_line, load_setup, outln, programs, saved_or_warn, BadInput, CmdResult,
};
use crate::progress::{interrupt_switch, SearchProgress};
use crate::{CheckArgs, MaxMemory, Races};

/// `mmfuzz check`.
pub fn check(args: CheckArgs) -> CmdResult {
    let kinds: Result<Vec<_>, _> = args
        .menu
        .iter()
        .map(|m| {
            search::VmaKind::parse(m)
                .ok_or_else(|| BadInput(format!("--menu {m}: not a VMA kind (anon, file, mlock)")))
        })
        .collect();
    let setup = load_setup(args.setup.setup.as_deref());
    let b = Bounds {
        threads: args.cpus,
        vmas: args.vmas,
        menu: kinds?,
        preemptions: args.preemptions,
        max_states: args.max_states,
        max_memory: match args.max_memory {
            Some(MaxMemory::Bytes(n)) => Some(n),
            Some(MaxMemory::Unbounded) => None,
            None => search::default_max_memory(),
        },
        dedup: !args.no_dedup,
        compact: !args.no_compact,
        reduce: !args.no_reduce,
        share: !args.no_share,
        hb: matches!(args.races, Races::Hb),
        setup: setup?,
    };
    let json = args.json.json;
    check_ranges(&b)?;
    let jobs = jobs_or_all(args.jobs.jobs)?;
    let prog = one_program(&args.config)?;
    let bounds = bounds_text(&b);
    let mut roots = search::roots(&prog, &b);
    if let Some(f) = &args.family {
        let fam = Family::parse(f).ok_or_else(|| {
            BadInput(format!(
                "--family {f}: not a family (teardown, suspend, cgroup, fork)"
            ))
        })?;
        roots.retain(|r| Family::of(&r.threads) == fam);
        if roots.is_empty() {
            return Err(BadInput(format!(
                "--family {f}: {} has no scenario of that family",
                args.config
            ))
            .into());
        }
    }
    if let Some(sh) = args.shard.shard {
        // Every N-th root from the I-th: the N shards partition the roots, and no state is
        // reachable from two roots (their set-ups or threads differ), so their state counts
        // add up to the whole search's.
        roots = roots
            .into_iter()
            .enumerate()
            .filter(|(k, _)| k % sh.count == sh.index)
            .map(|(_, r)| r)
            .collect();
    }
    let bad = |e: BadScenario| BadInput(format!("{}: {}", args.config, e.0));
    let est = search::estimate(&prog, &roots).map_err(bad)?;
    if !json {
        eprintln!(
            "mmfuzz check {}: {} set-up(s) x thread choice(s), {bounds}; estimate {:.2e} states (per-thread path lengths; history can multiply it)",
            prog.config.name,
            roots.len(),
            est
        );
    }
    let limit = b.max_memory.map_or("none".into(), gib);
    if !json {
        if let Some(per) = bytes_per_state(&prog, &b, &roots, est, jobs) {
            let need = per * est.min(b.max_states as f64);
            let fits = b.max_memory.is_none_or(|m| need <= m as f64);
            eprintln!(
                "mmfuzz check {}: memory ~{} for the estimate at ~{per:.0} bytes a state (measured on its first states; history can multiply it), bound {limit} (--max-memory){}",
                prog.config.name,
                gib(need as u64),
                if fits {
                    ""
                } else {
                    "; it will likely stop incomplete at the bound: lower --cpus or --vmas, or bound --preemptions"
                }
            );
        }
    }
    if est > b.max_states as f64 && !args.force {
        return Err(BadInput(format!(
            "{}: the estimate ({est:.2e} states) exceeds --max-states {}; lower --cpus or --vmas, \
             bound --preemptions, or pass --force",
            args.config, b.max_states
        ))
        .into());
    }
    let t0 = Instant::now();
    let label = format!("mmfuzz check {}", prog.config.name);
    let rep = run_search(&prog, &b, &roots, jobs, &label, json).map_err(|e| match e {
        Failed::Pool(e) => BadInput(format!("--jobs {jobs}: {e}")),
        Failed::Scenario(e) => bad(e),
    })?;
    let secs = t0.elapsed().as_secs_f64();
    let peak = search::peak_rss_kib();
    let shown = rep.counterexample.as_ref().or(rep.latent.as_ref());
    let saved = shown.and_then(|(sc, v)| {
        let note = format!(
            "shortest counterexample from mmfuzz check ({bounds}): {}",
            v.msg
        );
        saved_or_warn(corpus::save_counterexample(
            &args.out.out,
            &prog,
            v.inv,
            &note,
            sc.clone(),
        ))
    });
    let found = match (&rep.counterexample, &rep.latent) {
        (Some((sc, v)), _) => {
            let out = mmfuzz_harness::mm::run(&prog, sc, Default::default());
            Finding::Bug(
                v.inv,
                out.ok().and_then(|o| o.mechanism).map(|m| m.violation.inv),
            )
        }
        // A latent defect is claimed only by a complete search.
        (None, _) if rep.truncated || rep.interrupted => Finding::Incomplete,
        (None, Some((_, v))) => Finding::Latent(v.inv),
        (None, None) => Finding::Safe,
    };
    let mut row = check_row(&prog, &b, &rep, (secs, peak), saved.as_ref(), found);
    row.shard = args.shard.shard.map(|s| s.to_string());
    if json {
        json_line(&row)?;
    } else {
        print_text(&prog, &b, &rep, &row, &bounds)?;
    }
    Ok(campaign::search_as_expected(&prog.config.expect, found))
}

/// A size in MiB or GiB, as the reports print it.
fn gib(bytes: u64) -> String {
    let mib = bytes as f64 / (1u64 << 20) as f64;
    if mib >= 1024.0 {
        format!("{:.1} GiB", mib / 1024.0)
    } else {
        format!("{mib:.0} MiB")
    }
}

/// Resident bytes a settled state costs, measured on a short search of the same roots (their
/// first 40,000 states, within the memory bound): the growth over its second half, so what
/// the process holds before the first states (worker heaps, the first chunks and tables) is
/// not spread over them. What the estimate's memory is projected from; the early states weigh
/// more (the frontier is most of them), so it errs high. `None` for a search that small, or
/// where the system does not tell resident memory.
fn bytes_per_state(
    prog: &Program,
    b: &Bounds,
    roots: &[Root],
    est: f64,
    jobs: usize,
) -> Option<f64> {
    const SAMPLE: u64 = 40_000;
    if est < 2.0 * SAMPLE as f64 {
        return None;
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .ok()?;
    let sample = Bounds {
        max_states: SAMPLE,
        ..b.clone()
    };
    // (states, resident KiB) once half the sample is settled, and the peak after.
    let mut half: Option<(u64, u64)> = None;
    let mut peak = 0;
    let rep = pool.install(|| {
        search::search(prog, &sample, roots, |_, states, _| {
            let now = search::rss_kib().unwrap_or(0);
            match half {
                None if states >= SAMPLE / 2 => half = Some((states, now)),
                None => {}
                Some(_) => peak = peak.max(now),
            }
        })
    });
    let states = rep.ok()?.states;
    let (at, rss) = half?;
    (states > at).then(|| peak.saturating_sub(rss) as f64 * 1024.0 / (states - at) as f64)
}

/// `--cpus` and `--vmas` in range.
fn check_ranges(b: &Bounds) -> Result<(), BadInput> {
    if b.threads == 0 || b.threads > mmfuzz::mm::state::MAX_THREADS {
        return Err(BadInput(format!(
            "--cpus {}: between 1 and {}",
            b.threads,
            mmfuzz::mm::state::MAX_THREADS
        )));
    }
    if b.vmas > 8 {
        return Err(BadInput(format!("--vmas {}: at most 8", b.vmas)));
    }
    Ok(())
}

/// The one config `--config` names.
fn one_program(config: &str) -> Result<Program, BadInput> {
    let mut progs = programs(&[config.to_string()])?;
    if progs.len() != 1 {
        return Err(BadInput(format!(
            "--config {config}: names {} configs; check takes one",
            progs.len()
        )));
    }
    Ok(progs.remove(0))
}

/// The bounds in words, for the report and the saved case's note.
fn bounds_text(b: &Bounds) -> String {
    format!(
        "cpus {}, vmas {} of {{{}}}, preemptions {}, races {}",
        b.threads,
        b.vmas,
        b.menu
            .iter()
            .map(|k| k.name())
            .collect::<Vec<_>>()
            .join(","),
        b.preemptions.map_or("unbounded".into(), |p| p.to_string()),
        if b.hb { "hb" } else { "coenabled" }
    )
}

/// Why [`run_search`] could not search.
enum Failed {
    Pool(rayon::ThreadPoolBuildError),
    Scenario(BadScenario),
}

/// The search on `jobs` threads, with its progress on standard error unless `json`; Ctrl-C
/// ends it at the next batch.
fn run_search(
    prog: &Program,
    b: &Bounds,
    roots: &[Root],
    jobs: usize,
    label: &str,
    json: bool,
) -> Result<search::Report, Failed> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(Failed::Pool)?;
    let stop = interrupt_switch("batch of states");
    let stop: &AtomicBool = &stop;
    let mut shown = SearchProgress::new(label, json);
    let rep = pool.install(|| {
        search::search_until(prog, b, roots, stop, |lvl, s, t| shown.update(lvl, s, t))
    });
    shown.finish();
    rep.map_err(Failed::Scenario)
}

/// The `--json` object: the search's figures, `(seconds, peak memory)`, the saved case.
fn check_row(
    prog: &Program,
    b: &Bounds,
    rep: &search::Report,
    (secs, peak): (f64, Option<u64>),
    saved: Option<&Saved>,
    found: Finding,
) -> CheckRow {
    CheckRow {
        config: prog.config.name.clone(),
        counterexample: saved.map(|s| s.path().display().to_string()),
        duplicate: matches!(saved, Some(Saved::SameShape(_))),
        expected: expected_word(&prog.config.expect),
        found: found.word(),
        interrupted: rep.interrupted,
        invariant: found.invariant(),
        levels: rep.levels,
        mechanism: found.mechanism(),
        peak_rss_kib: peak,
        roots: rep.roots,
        seconds: secs,
        shard: None,
        shortest_steps: rep.steps,
        states: rep.states,
        states_per_sec: rep.states as f64 / secs.max(1e-9),
        threads: b.threads,
        transitions: rep.transitions,
        truncated: rep.truncated,
        memory_bound: rep.memory_bound,
        max_memory: b.max_memory,
        omission_probability: search::omission_probability(rep.transitions + rep.roots as u64),
        vmas: b.vmas,
    }
}

/// The verdict in a sentence; a counterexample as numbered steps.
fn print_text(
    prog: &Program,
    b: &Bounds,
    rep: &search::Report,
    row: &CheckRow,
    bounds: &str,
) -> Result<(), crate::common::Stop> {
    let secs = row.seconds;
    let mem = row
        .peak_rss_kib
        .map_or("?".into(), |k| format!("{:.0} MiB", k as f64 / 1024.0));
    let name = &prog.config.name;
    let (states, transitions) = (rep.states, rep.transitions);
    if let Some((sc, v)) = &rep.counterexample {
        let shortest = if rep.interrupted || rep.truncated {
            "the search was cut short: perhaps not the shortest"
        } else {
            "shortest within the bounds"
        };
        outln!(
            "{name}: {} in {} numbered steps ({shortest}): {states} states, {transitions} transitions, {secs:.1} s, peak memory {mem}",
            v.inv,
            rep.steps.unwrap_or(0),
        )?;
        match (&row.counterexample, row.duplicate) {
            (Some(p), false) => outln!("saved {p}")?,
            (Some(p), true) => outln!(
                "not saved: a duplicate of {p} (same config, invariant and steps; its set-up may \
                 differ); the case found is the one below"
            )?,
            (None, _) => {}
        }
        return outln!("\n{}", report::explain(prog, sc));
    }
    let deep = rep.levels;
    if rep.interrupted {
        outln!(
            "{name}: incomplete: interrupted (Ctrl-C) after {states} states, {transitions} transitions ({deep} numbered steps deep), no violation so far; {bounds}; {secs:.1} s, peak memory {mem}"
        )
    } else if rep.memory_bound {
        outln!(
            "{name}: incomplete: stopped at the memory bound (--max-memory {}) after {states} states, {transitions} transitions ({deep} numbered steps deep), no violation so far; {bounds}; {secs:.1} s, peak memory {mem}",
            b.max_memory.map_or("none".into(), gib)
        )
    } else if rep.truncated {
        outln!(
            "{name}: incomplete: stopped at --max-states {} after {transitions} transitions ({deep} numbered steps deep), no violation so far; {secs:.1} s, peak memory {mem}",
            b.max_states
        )
    } else if let Some((sc, v)) = &rep.latent {
        outln!(
            "{name}: latent {}: it breaks in {} numbered steps, and no interleaving within the bounds reaches a harm from it (a use of what was freed): {states} states, {transitions} transitions, {bounds}; {secs:.1} s, peak memory {mem}",
            v.inv,
            rep.steps.unwrap_or(0),
        )?;
        if let Some(p) = &row.counterexample {
            outln!("kept {p}")?;
        }
        outln!("\n{}", report::explain(prog, sc))
    } else {
        outln!(
            "{name}: no violation: {states} states, {transitions} transitions ({} steps taken), {} set-up(s) x thread choice(s), {bounds}; {secs:.1} s, peak memory {mem}",
            rep.taken, rep.roots
        )?;
        if b.dedup {
            outln!(
                "  (states are kept as 64-bit fingerprints: the chance that one was left out is at most {:.1e})",
                row.omission_probability
            )?;
        }
        Ok(())
    }
}
