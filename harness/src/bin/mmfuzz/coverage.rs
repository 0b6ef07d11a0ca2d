//! `mmfuzz coverage`: which steps and branch directions of each config's paths random
//! scenarios, a libFuzzer corpus or the exhaustive search reach; a table per config (or JSON
//! lines) and the lines never hit.

use std::path::{Path, PathBuf};

use mmfuzz_harness::mm::coverage::{self, Budget};
use mmfuzz_harness::mm::explore::Bounds;

use crate::common::{
    check_seconds, jobs_or_all, json_line, outln, pool, programs, BadInput, CmdResult,
};

/// `mmfuzz coverage`.
#[derive(clap::Args)]
pub struct CoverageArgs {
    /// Built-in config name or a file in the path language (repeatable; default: all built-ins).
    #[arg(long = "config")]
    configs: Vec<String>,
    /// Budget per config, in seconds (default: 2, or none with --execs).
    #[arg(long, conflicts_with_all = ["corpus", "check"])]
    seconds: Option<f64>,
    /// At most N scenarios per job and config. Without --seconds the budget is only this:
    /// with --jobs 1 the figures are the same on every machine.
    #[arg(long, value_name = "N", conflicts_with_all = ["corpus", "check"])]
    execs: Option<u64>,
    /// Worker threads (default: every core).
    #[arg(long)]
    jobs: Option<usize>,
    /// Base seed; job j draws from seed + j.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Replay a libFuzzer corpus folder instead (raw inputs of the `mm` fuzz target, decoded
    /// as it does: without --config the first byte picks the built-in config).
    #[arg(long, value_name = "DIR", conflicts_with = "check")]
    corpus: Option<PathBuf>,
    /// Run the exhaustive search instead, with `mmfuzz check`'s default bounds (it stops at a
    /// config's first counterexample).
    #[arg(long)]
    check: bool,
    /// One JSON object per line and config.
    #[arg(long)]
    json: bool,
}

/// Every file in `dir`, by name.
fn read_corpus(dir: &Path) -> Result<Vec<Vec<u8>>, BadInput> {
    let shown = dir.display();
    let entries = std::fs::read_dir(dir).map_err(|e| BadInput(format!("--corpus {shown}: {e}")))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read(p).map_err(|e| BadInput(format!("{}: {e}", p.display()))))
        .collect()
}

/// `mmfuzz coverage`.
pub fn coverage(args: CoverageArgs) -> CmdResult {
    let progs = programs(&args.configs)?;
    let jobs = jobs_or_all(args.jobs)?;
    let time = match (args.seconds, args.execs) {
        (None, Some(_)) => None,
        (s, _) => Some(check_seconds(s.unwrap_or(2.0))?),
    };
    let inputs = args.corpus.as_deref().map(read_corpus).transpose()?;
    let budget = Budget {
        time,
        execs: args.execs,
        seed: args.seed,
        jobs,
    };
    let pool = pool(args.jobs)?;
    if !args.json {
        let how = match (&args.corpus, args.check) {
            (Some(d), _) => format!("corpus {}", d.display()),
            (None, true) => "the exhaustive search (check's bounds)".into(),
            (None, false) => format!(
                "random scenarios, {} on {jobs} job(s), seed {}",
                match (time, args.execs) {
                    (Some(t), _) => format!("{} s each", t.as_secs_f64()),
                    (None, n) => format!("{} per job", n.unwrap_or_default()),
                },
                args.seed
            ),
        };
        eprintln!("mmfuzz coverage: {} config(s), {how}", progs.len());
    }
    for (k, prog) in progs.iter().enumerate() {
        let (cover, execs, source) = if let Some(inputs) = &inputs {
            let pick = args.configs.is_empty().then_some((k, progs.len()));
            let (c, n) = coverage::corpus(prog, inputs, pick);
            let dir = args.corpus.as_deref().unwrap_or(Path::new(""));
            (c, n, format!("corpus {}", dir.display()))
        } else if args.check {
            let (c, n) = pool
                .install(|| coverage::exhaustive(prog, &Bounds::default()))
                .map_err(|e| BadInput(format!("{}: {}", prog.config.name, e.0)))?;
            (c, n, "check".to_string())
        } else {
            let (c, n) = coverage::random(prog, &budget);
            (c, n, "random".to_string())
        };
        let summary = coverage::analyze(prog, &cover, &source, execs);
        if args.json {
            json_line(&summary)?;
        } else {
            outln!("{}\n", summary.text())?;
        }
    }
    Ok(true)
}
