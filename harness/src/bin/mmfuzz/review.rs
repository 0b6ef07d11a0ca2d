//! `mmfuzz review`: for each step of a path version, whether deleting it breaks the config
//! (load-bearing, with the invariant and the shortest counterexample) or not (redundant within
//! the bounds); with `--pairs`, the steps redundant alone that are load-bearing together.

use mmfuzz_harness::mm::explore::{Bounds, VmaKind};
use mmfuzz_harness::mm::review::{self, Answer, Verdict};
use serde_json::json;

use crate::common::{jobs_or_all, json_line, outln, programs, BadInput, CmdResult};

/// `mmfuzz review`.
#[derive(clap::Args)]
pub struct ReviewArgs {
    /// Built-in config name or a file in the path language.
    #[arg(long)]
    config: String,
    /// The path version to review, `NAME@VERSION` or `NAME` (default: the config's
    /// `exit_mmap`).
    #[arg(long, default_value = "exit_mmap")]
    path: String,
    /// Also delete every two steps that are each redundant alone.
    #[arg(long)]
    pairs: bool,
    /// Most threads per scenario (modelled CPUs).
    #[arg(long, default_value_t = 3)]
    cpus: usize,
    /// VMAs mapped by each set-up.
    #[arg(long, default_value_t = 1)]
    vmas: u8,
    /// Most preemptions per interleaving (default: unbounded).
    #[arg(long)]
    preemptions: Option<u8>,
    /// A mutant's search stops (incomplete) after this many states.
    #[arg(long, default_value_t = 2_000_000)]
    max_states: u64,
    /// Worker threads (default: every core).
    #[arg(long)]
    jobs: Option<usize>,
    /// One JSON object per line and mutant.
    #[arg(long)]
    json: bool,
}

fn verdict_text(v: &Verdict) -> String {
    match v {
        Verdict::Broken { inv, steps, .. } if v.lock_balance_only() => {
            format!("lock balance only ({inv} in {steps} numbered steps)")
        }
        Verdict::Broken { inv, steps, .. } => {
            format!("LOAD-BEARING: {inv} in {steps} numbered steps")
        }
        Verdict::Redundant { states } => format!("redundant within the bounds ({states} states)"),
        Verdict::Incomplete { states } => format!("incomplete (stopped at {states} states)"),
        Verdict::Rejected(e) => format!("rejected: {e}"),
    }
}

fn json_of(a: &Answer, config: &str, path: &str) -> serde_json::Value {
    let deleted: Vec<_> = a
        .deleted
        .iter()
        .map(|s| json!({"line": s.line, "step": s.text}))
        .collect();
    let (verdict, inv, steps, msg) = match &a.verdict {
        Verdict::Broken {
            inv, steps, msg, ..
        } => (
            if a.verdict.lock_balance_only() {
                "lock_balance"
            } else {
                "load_bearing"
            },
            Some(inv.to_string()),
            Some(*steps),
            Some(msg.clone()),
        ),
        Verdict::Redundant { .. } => ("redundant", None, None, None),
        Verdict::Incomplete { .. } => ("incomplete", None, None, None),
        Verdict::Rejected(e) => ("rejected", None, None, Some(e.clone())),
    };
    json!({"config": config, "path": path, "deleted": deleted, "verdict": verdict,
           "invariant": inv, "numbered_steps": steps, "what": msg})
}

/// `mmfuzz review`.
pub fn review(args: ReviewArgs) -> CmdResult {
    let progs = programs(std::slice::from_ref(&args.config))?;
    let prog = match progs.as_slice() {
        [p] => p,
        _ => {
            return Err(BadInput(format!(
                "--config {}: the file must hold exactly one config",
                args.config
            ))
            .into())
        }
    };
    let jobs = jobs_or_all(args.jobs)?;
    let b = Bounds {
        threads: args.cpus,
        vmas: args.vmas,
        menu: vec![VmaKind::Anon, VmaKind::File],
        preemptions: args.preemptions,
        max_states: args.max_states,
        hb: false,
        ..Bounds::default()
    };
    let path = review::path_version(prog, &args.path).map_err(BadInput)?;
    let n = review::steps(prog, &path).map_err(BadInput)?.len();
    if !args.json {
        eprintln!(
            "mmfuzz review {} {path}: {n} steps, each deleted alone{}; cpus {}, vmas {}, races coenabled",
            prog.config.name,
            if args.pairs {
                ", then every two redundant ones together"
            } else {
                ""
            },
            args.cpus,
            args.vmas
        );
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| BadInput(format!("--jobs {jobs}: {e}")))?;
    let quiet = args.json;
    let done = move |k: usize| {
        if !quiet && k % 10 == 0 {
            eprintln!("  {k} mutants judged");
        }
    };
    let r = pool
        .install(|| review::review(prog, &path, &b, args.pairs, &done))
        .map_err(BadInput)?;
    let name = &prog.config.name;
    if args.json {
        for a in r.singles.iter().chain(&r.pairs) {
            json_line(&json_of(a, name, &r.path))?;
        }
        for (label, a) in &r.locks {
            let mut v = json_of(a, name, &r.path);
            v["mutation"] = json!(label);
            json_line(&v)?;
        }
        return Ok(true);
    }
    outln!("{name} {}: each step deleted alone", r.path)?;
    for a in &r.singles {
        let s = &a.deleted[0];
        outln!(
            "  {:>4}  {:<34} {}",
            s.line,
            s.text,
            verdict_text(&a.verdict)
        )?;
    }
    if args.pairs {
        outln!(
            "pairs of redundant steps load-bearing together ({} pairs judged):",
            r.pairs_judged
        )?;
        if r.pairs.is_empty() {
            outln!("  none")?;
        }
        for a in &r.pairs {
            let both: Vec<&str> = a.deleted.iter().map(|s| s.text.as_str()).collect();
            outln!("  {:<40} {}", both.join(" + "), verdict_text(&a.verdict))?;
        }
    }
    outln!("lock sections:")?;
    for (label, a) in &r.locks {
        outln!("  {label:<56} {}", verdict_text(&a.verdict))?;
    }
    outln!("line numbers are those of `mmfuzz configs --show {name}`")?;
    Ok(true)
}
