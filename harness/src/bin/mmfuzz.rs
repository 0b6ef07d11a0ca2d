//! `mmfuzz`: run campaigns, replay and keep cases, replay the kernel's erase2 traces.
//!
//! Exit status: 0 when everything gave its expected verdict, 1 when something did not,
//! 2 for bad input (flags, files).
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use mmfuzz_harness::campaign::{self, Settings};
use mmfuzz_harness::corpus::{self, Case, Expect, Payload, Saved};
use mmfuzz_harness::maple::{self, erase2};
use mmfuzz_harness::targets;
use serde_json::json;

#[derive(Parser)]
#[command(
    name = "mmfuzz",
    version,
    about = "Property-based fuzzing of the Linux kernel's mm teardown paths",
    long_about = "Property-based fuzzing of the Linux kernel's mm teardown paths.\n\n\
        With no command, runs the default campaign (`mmfuzz run`).",
    after_help = "Examples:\n  \
        mmfuzz run --seconds 10\n  \
        mmfuzz replay corpus/\n  \
        mmfuzz corpus add --target maple_store fuzz/artifacts/maple_store/crash-*\n  \
        mmfuzz erase2 ../shared/data/maple-erase2"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Target {
    /// The maple-style VMA store against its reference.
    MapleStore,
}

#[derive(Subcommand)]
enum Command {
    /// Run a time-boxed random campaign on all cores and print what it found.
    #[command(after_help = "Examples:\n  mmfuzz run\n  mmfuzz run --seconds 60 --jobs 2 --json")]
    Run {
        /// Wall-clock budget per target, in seconds.
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// Worker threads (default: every core).
        #[arg(long)]
        jobs: Option<usize>,
        /// Base seed; the same seed and jobs give the same cases.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// One JSON object per line and target instead of a table.
        #[arg(long)]
        json: bool,
        /// Where minimized counterexamples are written.
        #[arg(long, default_value = "mmfuzz-findings")]
        findings: PathBuf,
    },
    /// Replay corpus cases (files or folders) and check each gives its expected verdict.
    #[command(after_help = "Example:\n  mmfuzz replay corpus/ --json")]
    Replay {
        /// Case files or folders of them.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// One JSON object per line and case.
        #[arg(long)]
        json: bool,
    },
    /// Shrink a failing case file to its fewest, smallest operations; prints the new case.
    Minimize {
        /// The case file.
        file: PathBuf,
        /// Write the minimized case into this corpus folder too.
        #[arg(long)]
        save: Option<PathBuf>,
    },
    /// Corpus maintenance.
    #[command(subcommand)]
    Corpus(CorpusCmd),
    /// Replay the kernel maple tree test suite's erase2 traces through store and reference.
    Erase2 {
        /// Folder of `.ops` files (default: $MMFUZZ_ERASE2_DIR or ../shared/data/maple-erase2).
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum CorpusCmd {
    /// Turn libFuzzer artifacts (or case files) into minimized, named corpus cases.
    #[command(
        after_help = "Example:\n  mmfuzz corpus add --target maple_store fuzz/artifacts/maple_store/*"
    )]
    Add {
        /// Artifacts (raw fuzzer input) or case files (`.json`).
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// The target the artifacts came from.
        #[arg(long, value_enum, default_value = "maple-store")]
        target: Target,
        /// Case name (default: the kind of failure, or `regression`).
        #[arg(long)]
        name: Option<String>,
        /// Why the case is kept.
        #[arg(long, default_value = "")]
        note: String,
        /// Corpus root (the target's folder is created below it).
        #[arg(long, default_value = "corpus")]
        dir: PathBuf,
    },
}

/// Bad input: the message names the file and the problem; exit status 2.
struct BadInput(String);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Run {
        seconds: 10.0,
        jobs: None,
        seed: 0,
        json: false,
        findings: PathBuf::from("mmfuzz-findings"),
    });
    let res = match command {
        Command::Run {
            seconds,
            jobs,
            seed,
            json,
            findings,
        } => run(seconds, jobs, seed, json, &findings),
        Command::Replay { paths, json } => replay(&paths, json),
        Command::Minimize { file, save } => minimize(&file, save.as_deref()),
        Command::Corpus(CorpusCmd::Add {
            inputs,
            target,
            name,
            note,
            dir,
        }) => corpus_add(&inputs, target, name.as_deref(), &note, &dir),
        Command::Erase2 { dir } => run_erase2(dir),
    };
    match res {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(BadInput(msg)) => {
            eprintln!("mmfuzz: {msg}");
            ExitCode::from(2)
        }
    }
}

fn run(
    seconds: f64,
    jobs: Option<usize>,
    seed: u64,
    json: bool,
    findings: &Path,
) -> Result<bool, BadInput> {
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(BadInput(format!(
            "--seconds {seconds}: must be a positive number"
        )));
    }
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if jobs == 0 {
        return Err(BadInput("--jobs 0: need at least one job".into()));
    }
    let s = Settings {
        time: Duration::from_secs_f64(seconds),
        jobs,
        seed,
        case_bytes: 2048,
        max_execs_per_job: None,
    };
    if !json {
        eprintln!("mmfuzz run: maple_store for {seconds} s on {jobs} job(s), seed {seed}");
    }
    let rep = campaign::maple_store(&s);
    let mut saved = None;
    let first = rep.failures.first();
    if let Some((_, ops, d)) = first {
        let min = targets::minimize_maple(ops.clone()).unwrap_or_else(|| ops.clone());
        let case = Case::maple_store(d.kind(), Expect::Pass, "found by mmfuzz run", min);
        match corpus::save(&findings.join("maple_store"), &case) {
            Ok(Saved::New(p) | Saved::Duplicate(p)) => saved = Some(p),
            Err(e) => eprintln!("mmfuzz: could not save the counterexample: {e}"),
        }
        if !json {
            eprintln!("{d}");
        }
    }
    let secs = rep.elapsed.as_secs_f64();
    let found = if first.is_some() { "fail" } else { "pass" };
    if json {
        println!(
            "{}",
            json!({
                "target": "maple_store",
                "expected": "pass",
                "found": found,
                "invariant": first.map(|(_, _, d)| d.kind()),
                "execs": rep.execs,
                "ops": rep.ops,
                "seconds": secs,
                "execs_per_sec": rep.execs as f64 / secs,
                "execs_to_first": first.map(|(n, _, _)| n),
                "shortest_steps": first.map(|(_, ops, _)| ops.len()),
                "counterexample": saved.as_ref().map(|p| p.display().to_string()),
            })
        );
    } else {
        println!(
            "{:<13} {:>8} {:>6} {:>10} {:>11} {:>10}",
            "target", "expected", "found", "execs", "execs/s", "ops/s"
        );
        println!(
            "{:<13} {:>8} {:>6} {:>10} {:>11.0} {:>10.0}",
            "maple_store",
            "pass",
            found,
            rep.execs,
            rep.execs as f64 / secs,
            rep.ops as f64 / secs
        );
        if let Some(p) = &saved {
            println!("counterexample: {}", p.display());
        }
    }
    Ok(first.is_none())
}

fn replay(paths: &[PathBuf], json: bool) -> Result<bool, BadInput> {
    let files = corpus::collect(paths).map_err(|e| BadInput(e.to_string()))?;
    // Parse everything first: one bad file is an input error, whatever the others give.
    let cases: Vec<(PathBuf, Case)> = files
        .into_iter()
        .map(|f| Case::load(&f).map(|c| (f, c)))
        .collect::<Result<_, _>>()
        .map_err(|e| BadInput(e.to_string()))?;
    let mut all_ok = true;
    for (f, case) in &cases {
        let outcome = case.outcome();
        let found = if outcome.is_ok() {
            Expect::Pass
        } else {
            Expect::Fail
        };
        let res = case.replay();
        all_ok &= res.is_ok();
        if json {
            println!(
                "{}",
                json!({
                    "case": f.display().to_string(),
                    "config": case.target(),
                    "expected": case.expect,
                    "found": found,
                    "invariant": null,
                })
            );
        } else {
            let mark = if res.is_ok() { "ok  " } else { "FAIL" };
            println!(
                "{mark} {} ({}, expect {:?})",
                f.display(),
                case.name,
                case.expect
            );
            if let Err(r) = res {
                println!("{r}");
            }
        }
    }
    if !json {
        println!(
            "{} cases, {}",
            cases.len(),
            if all_ok {
                "all as expected"
            } else {
                "some NOT as expected"
            }
        );
    }
    Ok(all_ok)
}

fn minimize(file: &Path, save: Option<&Path>) -> Result<bool, BadInput> {
    let case = Case::load(file).map_err(|e| BadInput(e.to_string()))?;
    let Payload::MapleStore { ops } = &case.payload;
    let Some(min) = targets::minimize_maple(ops.clone()) else {
        eprintln!(
            "{}: the case does not fail; nothing to minimize",
            file.display()
        );
        return Ok(false);
    };
    eprintln!("{}: {} ops -> {}", file.display(), ops.len(), min.len());
    let out = Case::maple_store(&case.name, case.expect, &case.note, min);
    print!("{}", out.to_text());
    if let Some(dir) = save {
        save_case(&dir.join(case.target()), &out)?;
    }
    Ok(true)
}

fn save_case(dir: &Path, case: &Case) -> Result<(), BadInput> {
    match corpus::save(dir, case).map_err(|e| BadInput(e.to_string()))? {
        Saved::New(p) => eprintln!("saved {}", p.display()),
        Saved::Duplicate(p) => eprintln!("already in the corpus as {}", p.display()),
    }
    Ok(())
}

fn corpus_add(
    inputs: &[PathBuf],
    target: Target,
    name: Option<&str>,
    note: &str,
    dir: &Path,
) -> Result<bool, BadInput> {
    let Target::MapleStore = target;
    for input in inputs {
        let bytes =
            std::fs::read(input).map_err(|e| BadInput(format!("{}: {e}", input.display())))?;
        let ops = if input.extension().is_some_and(|x| x == "json") {
            let case = Case::load(input).map_err(|e| BadInput(e.to_string()))?;
            let Payload::MapleStore { ops } = case.payload;
            ops
        } else {
            maple::decode(&bytes)
        };
        let (ops, kind) = match maple::execute(&ops) {
            Err(d) => {
                eprintln!("{}: fails now:\n{d}", input.display());
                let kind = d.kind();
                (targets::minimize_maple(ops).expect("it fails"), kind)
            }
            Ok(_) => (ops, "regression"),
        };
        let case = Case::maple_store(name.unwrap_or(kind), Expect::Pass, note, ops);
        save_case(&dir.join(case.target()), &case)?;
    }
    Ok(true)
}

fn run_erase2(dir: Option<PathBuf>) -> Result<bool, BadInput> {
    let dir = dir.or_else(erase2::find_dir).ok_or_else(|| {
        BadInput(format!(
            "no erase2 traces: give a folder or set {}",
            erase2::ENV_DIR
        ))
    })?;
    let sets = erase2::load_dir(&dir).map_err(|e| BadInput(e.to_string()))?;
    let mut total = 0;
    let mut ok = true;
    for set in &sets {
        match erase2::replay(set) {
            Ok(n) => {
                total += n;
                println!("ok   {:<6} {n:>5} ops", set.name);
            }
            Err(e) => {
                ok = false;
                println!("FAIL {e}");
            }
        }
    }
    println!(
        "{} sets, {total} operations replayed from {}",
        sets.len(),
        dir.display()
    );
    Ok(ok)
}
