//! `mmfuzz bench-search`: the bug benchmark built from `review`'s answers.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use mmfuzz::mm::{builtin, Expect};
use mmfuzz_harness::mm::bench_search::{self, Case, Driver, Hunt};
use mmfuzz_harness::mm::explore::{Bounds, VmaKind};

use crate::common::{
    check_seconds, json_line, outln, pool, programs, write_file, BadInput, CmdResult,
};

/// `mmfuzz bench-search`.
#[derive(clap::Args)]
pub struct BenchSearchArgs {
    /// Configs whose mutants are the cases (default: every `safe` built-in config).
    #[arg(long)]
    config: Vec<String>,
    /// Modelled CPUs of the exhaustive search that proves each case.
    #[arg(long, default_value_t = 2)]
    cpus: usize,
    /// VMAs of its set-ups.
    #[arg(long, default_value_t = 1)]
    vmas: u8,
    /// A mutant's search stops (incomplete: not a case) after this many states.
    #[arg(long, default_value_t = 2_000_000)]
    max_states: u64,
    /// Read the cases from this file (JSON lines, as --cases-out writes) instead of building
    /// them.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["config", "cases_out"])]
    cases: Option<PathBuf>,
    /// Write the cases built to this file (JSON lines), for `scripts/bench_search.py`.
    #[arg(long, value_name = "FILE")]
    cases_out: Option<PathBuf>,
    /// Build the cases (and write them with --cases-out) and stop.
    #[arg(long)]
    only_cases: bool,
    /// Drivers, comma-separated: run, pct, swarm, proptest.
    #[arg(long, default_value = "run,pct,swarm,proptest", value_delimiter = ',')]
    drivers: Vec<String>,
    /// Each driver's budget per case, in seconds.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Seed of every hunt.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Worker threads (default: every core).
    #[arg(long)]
    jobs: Option<usize>,
    /// One JSON object per hunt, then one per driver's row.
    #[arg(long)]
    json: bool,
}

fn load_cases(path: &std::path::Path) -> Result<Vec<Case>, BadInput> {
    let text =
        std::fs::read_to_string(path).map_err(|e| BadInput(format!("{}: {e}", path.display())))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let c: Case = serde_json::from_str(l)
                .map_err(|e| BadInput(format!("{}:{}: not a case: {e}", path.display(), i + 1)))?;
            // A case whose text no longer loads would count as a miss: refuse it instead.
            mmfuzz_harness::mm::review::mutant_program(&c.config, &c.text).map_err(|e| {
                BadInput(format!(
                    "{}:{}: case {:?} does not load: {e}",
                    path.display(),
                    i + 1,
                    c.id
                ))
            })?;
            Ok(c)
        })
        .collect()
}

fn fmt_opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "miss".to_string(), |x| x.to_string())
}

/// `mmfuzz bench-search`.
pub fn bench_search(args: BenchSearchArgs) -> CmdResult {
    let budget = check_seconds(args.seconds)?;
    let drivers: Vec<Driver> = args
        .drivers
        .iter()
        .map(|d| {
            Driver::parse(d).ok_or_else(|| {
                BadInput(format!(
                    "--drivers {d}: unknown driver (run, pct, swarm, proptest)"
                ))
            })
        })
        .collect::<Result<_, _>>()?;
    let pool = pool(args.jobs)?;
    let t0 = std::time::Instant::now();
    let cases = match &args.cases {
        Some(p) => load_cases(p)?,
        None => {
            let progs = if args.config.is_empty() {
                builtin::programs()
                    .into_iter()
                    .filter(|p| p.config.expect == Expect::Safe)
                    .collect()
            } else {
                programs(&args.config)?
            };
            let b = Bounds {
                threads: args.cpus,
                vmas: args.vmas,
                menu: vec![VmaKind::Anon, VmaKind::File],
                max_states: args.max_states,
                max_memory: None,
                hb: false,
                ..Bounds::default()
            };
            let quiet = args.json;
            let cases = pool.install(|| {
                bench_search::cases(&progs, &b, &|name, n| {
                    if !quiet {
                        eprintln!("  {name}: {n} cases so far");
                    }
                })
            });
            if !args.json {
                eprintln!(
                    "{} cases (load-bearing mutants of {} configs, cpus {}, vmas {}) in {:.1} s",
                    cases.len(),
                    progs.len(),
                    args.cpus,
                    args.vmas,
                    t0.elapsed().as_secs_f64()
                );
            }
            cases
        }
    };
    if let Some(out) = &args.cases_out {
        let text: String = cases
            .iter()
            .map(|c| serde_json::to_string(c).expect("a case serializes") + "\n")
            .collect();
        write_file(out, &text)?;
    }
    if args.only_cases {
        if !args.json {
            outln!("{} cases", cases.len())?;
        }
        return Ok(true);
    }
    let n = cases.len() * drivers.len();
    let count = AtomicUsize::new(0);
    let quiet = args.json;
    let done = || {
        let k = count.fetch_add(1, Ordering::Relaxed) + 1;
        if !quiet && k % 50 == 0 {
            eprintln!("  {k}/{n} hunts");
        }
    };
    let hunts: Vec<Hunt> =
        pool.install(|| bench_search::run(&cases, &drivers, args.seed, budget, &done));
    // The races: cases whose shortest counterexample takes two numbered steps or more.
    let races: std::collections::HashSet<&str> = cases
        .iter()
        .filter(|c| c.numbered_steps >= 2)
        .map(|c| c.id.as_str())
        .collect();
    let race_hunts: Vec<Hunt> = hunts
        .iter()
        .filter(|h| races.contains(h.case.as_str()))
        .cloned()
        .collect();
    let mut rows: Vec<(&str, bench_search::Row)> = Vec::new();
    rows.extend(bench_search::table(&hunts).into_iter().map(|r| ("all", r)));
    rows.extend(
        bench_search::table(&race_hunts)
            .into_iter()
            .map(|r| ("races", r)),
    );
    if args.json {
        for h in &hunts {
            json_line(h)?;
        }
        for (set, r) in &rows {
            let mut v = serde_json::to_value(r).expect("a row serializes");
            v["set"] = serde_json::json!(set);
            json_line(&v)?;
        }
        return Ok(true);
    }
    let secs = budget.as_secs_f64();
    outln!(
        "| cases | driver | n | recall ≤1 s | recall ≤{secs} s | execs p50 | execs p90 | s p50 | s p90 |"
    )?;
    outln!("|---|---|---|---|---|---|---|---|---|")?;
    for (set, r) in &rows {
        let pct = |k: usize| format!("{k} ({:.0}%)", 100.0 * k as f64 / r.cases.max(1) as f64);
        outln!(
            "| {set} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.driver,
            r.cases,
            pct(r.within_1s),
            pct(r.within_budget),
            fmt_opt(r.execs_p50),
            fmt_opt(r.execs_p90),
            fmt_opt(r.secs_p50.map(|s| format!("{s:.4}"))),
            fmt_opt(r.secs_p90.map(|s| format!("{s:.4}")))
        )?;
    }
    for h in hunts.iter().filter(|h| !h.found) {
        outln!("missed by {}: {}", h.driver, h.case)?;
    }
    Ok(true)
}
