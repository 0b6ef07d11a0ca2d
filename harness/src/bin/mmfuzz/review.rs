//! `mmfuzz review`: the reviewer's questions on a path version (each step deleted, lock
//! sections removed or weakened, trylocks, steps moved across a lock or swapped, conditions
//! forced, early returns dropped), each judged by the exhaustive search and by a seeded random
//! search; with `--pairs`, the steps redundant alone that are load-bearing together.

use std::path::PathBuf;
use std::time::Instant;

use mmfuzz_harness::corpus;
use mmfuzz_harness::mm::explore::{Bounds, VmaKind};
use mmfuzz_harness::mm::generate::{only_family, Family};
use mmfuzz_harness::mm::review::{self, Answer, Mutation, Verdict};
use mmfuzz_harness::mm::review_page::{self, random_text, verdict_text};
use serde_json::json;

use crate::common::{
    check_seconds, json_line, outln, pool, programs, saved_or_warn, write_file, BadInput, CmdResult,
};

/// `mmfuzz review`.
#[derive(clap::Args)]
pub struct ReviewArgs {
    /// Built-in config name or a file in the path language.
    #[arg(long)]
    config: String,
    /// The path version to review, `NAME@VERSION` or `NAME` (default: the config's
    /// `exit_mmap`), or `all`: every path version the config uses.
    #[arg(long, default_value = "exit_mmap")]
    path: String,
    /// Also delete every two steps that are each redundant alone.
    #[arg(long)]
    pairs: bool,
    /// Most threads per scenario (modelled CPUs).
    #[arg(long, default_value_t = 3)]
    cpus: usize,
    /// Only the scenarios of this family, for a config whose roles make several (today's
    /// v6.18): teardown, suspend, cgroup or fork. Each mutant keeps the restriction.
    #[arg(long)]
    family: Option<String>,
    /// VMAs mapped by each set-up.
    #[arg(long, default_value_t = 1)]
    vmas: u8,
    /// Most preemptions per interleaving (default: unbounded).
    #[arg(long)]
    preemptions: Option<u8>,
    /// A mutant's search stops (incomplete) after this many states.
    #[arg(long, default_value_t = 2_000_000)]
    max_states: u64,
    /// The random search's budget per mutant, in scenarios (0: none).
    #[arg(long, default_value_t = 2000)]
    execs: u64,
    /// The random search's time budget per mutant, in seconds (default: none; the scenarios
    /// bound it, so its answers do not depend on the machine's speed).
    #[arg(long)]
    seconds: Option<f64>,
    /// The random search's seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Worker threads (default: every core).
    #[arg(long)]
    jobs: Option<usize>,
    /// One JSON object per line and mutant.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    shard: crate::ShardArg,
    /// Also write the answers and every load-bearing counterexample's picture as a page.
    #[arg(long, value_name = "OUT")]
    html: Option<PathBuf>,
    /// Save each load-bearing mutant's counterexample as a case (with the mutant's text) in
    /// DIR/mm/.
    #[arg(long, value_name = "DIR")]
    save: Option<PathBuf>,
}

fn json_of(
    a: &Answer,
    r: &review::Review,
    config: &str,
    shard: Option<String>,
) -> serde_json::Value {
    let touched: Vec<_> = a
        .deleted
        .iter()
        .map(|s| json!({"line": s.line, "step": s.text}))
        .collect();
    let (verdict, inv, steps, msg, states) = match &a.verdict {
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
            None,
        ),
        Verdict::Redundant { states } => ("redundant", None, None, None, Some(*states)),
        Verdict::Incomplete { states } => ("incomplete", None, None, None, Some(*states)),
        Verdict::Rejected(e) => ("rejected", None, None, Some(e.clone()), None),
    };
    let random = a.random.as_ref().map(|r| {
        json!({"execs": r.execs, "seconds": r.secs,
               "found": r.found.map(|i| i.to_string())})
    });
    let mut row = json!({"config": config, "path": r.path, "mutation": a.mutation.word(),
           "change": a.label, "steps": touched, "verdict": verdict, "invariant": inv,
           "numbered_steps": steps, "what": msg, "states": states, "random": random,
           "same_as": a.same_as, "mutant": a.index, "of": r.total});
    if let Some(s) = shard {
        row["shard"] = s.into();
    }
    row
}

fn print_text(r: &review::Review, name: &str, pairs: bool) -> Result<(), crate::common::Stop> {
    let rnd = |a: &Answer| {
        let t = random_text(a);
        if t.is_empty() {
            t
        } else {
            format!("; {t}")
        }
    };
    outln!("{name} {}: each step deleted alone", r.path)?;
    for a in &r.singles {
        let s = &a.deleted[0];
        outln!(
            "  {:>4}  {:<34} {}{}",
            s.line,
            s.text,
            verdict_text(&a.verdict),
            rnd(a)
        )?;
    }
    if pairs {
        outln!(
            "pairs of redundant steps load-bearing together ({} pairs judged):",
            r.pairs_judged
        )?;
        if r.pairs.is_empty() {
            outln!("  none")?;
        }
        for a in &r.pairs {
            let both: Vec<&str> = a.deleted.iter().map(|s| s.text.as_str()).collect();
            outln!(
                "  {:<40} {}{}",
                both.join(" + "),
                verdict_text(&a.verdict),
                rnd(a)
            )?;
        }
    }
    let fresh = |a: &&Answer| a.same_as.is_none();
    outln!("the other questions, load-bearing:")?;
    for a in r
        .questions
        .iter()
        .filter(fresh)
        .filter(|a| a.verdict.load_bearing())
    {
        outln!("  {}: {}{}", a.label, verdict_text(&a.verdict), rnd(a))?;
    }
    outln!("the other questions, redundant within the bounds:")?;
    for a in r.questions.iter().filter(fresh) {
        if let Verdict::Redundant { states } = a.verdict {
            outln!("  {} ({states} states){}", a.label, rnd(a))?;
        }
    }
    let mut rest = Vec::new();
    for a in r.questions.iter().filter(fresh) {
        match &a.verdict {
            Verdict::Incomplete { .. } | Verdict::Rejected(_) => {
                outln!("  {}: {}", a.label, verdict_text(&a.verdict))?;
            }
            v if v.lock_balance_only() => rest.push(a.mutation),
            _ => {}
        }
    }
    if !rest.is_empty() {
        let per: Vec<String> = Mutation::ALL
            .iter()
            .filter(|m| rest.contains(m))
            .map(|m| format!("{} {}", rest.iter().filter(|x| *x == m).count(), m.word()))
            .collect();
        outln!(
            "the other questions that only unbalance a lock (I10): {} ({})",
            rest.len(),
            per.join(", ")
        )?;
    }
    Ok(())
}

/// Save each load-bearing mutant's counterexample of `r` in `dir/mm/`.
fn save_cases(dir: &std::path::Path, name: &str, r: &review::Review) {
    for a in r
        .all()
        .filter(|a| a.verdict.load_bearing() && a.same_as.is_none())
    {
        let Verdict::Broken { inv, scenario, .. } = &a.verdict else {
            continue;
        };
        let Ok(mp) = review::mutant_program(name, &a.text) else {
            continue;
        };
        let note = format!("mmfuzz review: {} ({})", a.label, r.path);
        let saved = corpus::save_counterexample(dir, &mp, *inv, &note, scenario.clone());
        if let Some(s) = saved_or_warn(saved) {
            eprintln!("saved {}: {}", a.label, s.path().display());
        }
    }
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
    let restricted;
    let prog = match &args.family {
        None => prog,
        Some(f) => {
            let fam = Family::parse(f).ok_or_else(|| {
                BadInput(format!(
                    "--family {f}: not a family (teardown, suspend, cgroup, fork)"
                ))
            })?;
            restricted = only_family(prog, fam).ok_or_else(|| {
                BadInput(format!(
                    "--family {f}: {} has no scenario of that family",
                    args.config
                ))
            })?;
            &restricted
        }
    };
    if args.pairs && args.shard.shard.is_some() {
        return Err(BadInput(
            "--shard with --pairs: the pairs are the steps redundant alone, which needs every \
             single's verdict; run the pairs without --shard"
                .into(),
        )
        .into());
    }
    let time = match args.seconds {
        Some(s) => check_seconds(s)?,
        None => std::time::Duration::from_secs(365 * 24 * 3600),
    };
    let settings = review::Settings {
        bounds: Bounds {
            threads: args.cpus,
            vmas: args.vmas,
            menu: vec![VmaKind::Anon, VmaKind::File],
            preemptions: args.preemptions,
            max_states: args.max_states,
            max_memory: None,
            hb: false,
            ..Bounds::default()
        },
        pairs: args.pairs,
        random: (args.execs > 0).then_some((args.execs, time)),
        seed: args.seed,
        shard: args.shard.shard.map(|s| (s.index, s.count)),
    };
    let paths: Vec<String> = if args.path == "all" {
        prog.paths
            .iter()
            .map(|c| format!("{}@{}", c.name, c.version))
            .collect()
    } else {
        vec![review::path_version(prog, &args.path).map_err(BadInput)?]
    };
    let mut n = 0;
    for path in &paths {
        n += review::mutants(prog, path).map_err(BadInput)?.len();
    }
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    if !args.json {
        eprintln!(
            "mmfuzz review {}{} {}: {n} mutants{}; cpus {}, vmas {}, races coenabled",
            prog.config.name,
            args.family
                .as_ref()
                .map_or(String::new(), |f| format!(" (family {f})")),
            paths.join(" "),
            if args.pairs {
                ", then every two redundant steps deleted together"
            } else {
                ""
            },
            args.cpus,
            args.vmas
        );
    }
    let pool = pool(args.jobs)?;
    let bar = if tty && !args.json {
        let b = indicatif::ProgressBar::new(n as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("judged {pos}/{len} mutants {elapsed:>4}")
                .expect("template"),
        );
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let t0 = Instant::now();
    let name = &prog.config.name;
    let mut reviews = Vec::new();
    for path in &paths {
        let base = bar.position();
        let done = |k: usize| bar.set_position(base + k as u64);
        let r = pool
            .install(|| review::review(prog, path, &settings, &done))
            .map_err(BadInput)?;
        reviews.push(r);
    }
    bar.finish_and_clear();
    let secs = t0.elapsed().as_secs_f64();
    for r in &reviews {
        if let Some(dir) = &args.save {
            save_cases(dir, name, r);
        }
        if args.json {
            for a in r.all() {
                json_line(&json_of(
                    a,
                    r,
                    name,
                    args.shard.shard.map(|s| s.to_string()),
                ))?;
            }
        } else {
            print_text(r, name, args.pairs)?;
        }
    }
    if let Some(out) = &args.html {
        let title = format!("mmfuzz review --config {name} --path {}", args.path);
        write_file(out, &review_page::html(name, &reviews, &title))?;
    }
    if args.json {
        return Ok(true);
    }
    let total: usize = reviews
        .iter()
        .map(|r| r.singles.len() + r.pairs_judged + r.questions.len())
        .sum();
    let distinct: usize = reviews.iter().map(|r| r.judged()).sum();
    eprintln!("{total} mutants ({distinct} distinct) judged in {secs:.1} s");
    outln!("line numbers are those of `mmfuzz configs --show {name}`")?;
    Ok(true)
}
