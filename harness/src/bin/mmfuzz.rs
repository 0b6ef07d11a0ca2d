//! `mmfuzz`: campaigns over the mm teardown configs, corpus replay and upkeep, reports.
//!
//! Exit status: 0 when everything gave its expected verdict, 1 when something did not,
//! 2 for bad input (flags, files).
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use mmfuzz::mm::{builtin, Expect as Verdict, Program};
use mmfuzz_harness::campaign::{self, Settings};
use mmfuzz_harness::corpus::{self, Case, Expect, Payload, Saved};
use mmfuzz_harness::maple::{self, erase2};
use mmfuzz_harness::mm::{exec, explore, generate, maps, picture, report, scenario, shrink};
use mmfuzz_harness::targets;
use serde_json::json;

#[derive(Parser)]
#[command(
    name = "mmfuzz",
    version,
    about = "Property-based fuzzing of the Linux kernel's mm teardown paths",
    long_about = "Property-based fuzzing of the Linux kernel's mm teardown paths \
        (exit_mmap, the OOM reaper, process_mrelease).\n\n\
        With no command, runs the default campaign (`mmfuzz run`) over every built-in config.",
    after_help = "Examples:\n  \
        mmfuzz run                          # every built-in config, 2 s each\n  \
        mmfuzz run --config v5.17-rc3 --json\n  \
        mmfuzz configs --show v6.1 > mine.mmp   # edit, then:\n  \
        mmfuzz run --config mine.mmp\n  \
        mmfuzz replay corpus/\n  \
        mmfuzz explain corpus/mm/v5.17-rc3-I4-….json"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Target {
    /// The maple-style VMA store against its reference.
    MapleStore,
    /// The mm teardown model (needs --config).
    Mm,
}

#[derive(Clone, Copy, ValueEnum)]
enum Races {
    /// Happens-before, history in the state.
    Hb,
    /// Co-enabled conflicting steps.
    Coenabled,
}

#[derive(Subcommand)]
enum Command {
    /// Random scenarios against configs, time-boxed, on all cores; a table (or JSON lines) of
    /// verdicts; counterexamples shrunk and saved.
    #[command(
        after_help = "Examples:\n  mmfuzz run\n  mmfuzz run --config v6.1 --config my-exit_mmap.mmp --seconds 30\n  mmfuzz run --json --seed 7 --jobs 2"
    )]
    Run {
        /// Built-in config name or a file in the path language (repeatable; default: all built-ins).
        #[arg(long = "config")]
        configs: Vec<String>,
        /// Budget per config, in seconds.
        #[arg(long, default_value_t = 2.0)]
        seconds: f64,
        /// A fixed budget as well: at most N scenarios per job and config. With `--jobs 1` the
        /// verdicts, counts and counterexamples are then the same on every machine.
        #[arg(long, value_name = "N")]
        execs: Option<u64>,
        /// Worker threads (default: every core).
        #[arg(long)]
        jobs: Option<usize>,
        /// Base seed; job j draws from seed + j.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// One JSON object per line and config.
        #[arg(long)]
        json: bool,
        /// Where shrunk counterexamples are written (a corpus folder).
        #[arg(long, default_value = "mmfuzz-findings")]
        out: PathBuf,
        /// Print each counterexample as numbered steps per CPU (default with --config).
        #[arg(long)]
        explain: bool,
        /// Start every scenario from this address space (a set-up file from `import-maps`).
        #[arg(long, value_name = "FILE")]
        setup: Option<PathBuf>,
    },
    /// Exhaustive mode: every interleaving of a config's threads over every set-up of a small
    /// menu, breadth-first, so the first violation is a shortest one; or "no violation" with
    /// the states and transitions explored.
    #[command(
        after_help = "Examples:\n  mmfuzz check --config v6.1 --threads 3 --vmas 3\n  mmfuzz check --config v5.17-rc3 --threads 2 --vmas 1   # its shortest counterexample\n  mmfuzz check --config mine.mmp --threads 3 --vmas 2 --menu anon,mlock --preemptions 2"
    )]
    Check {
        /// Built-in config name or a file in the path language.
        #[arg(long)]
        config: String,
        /// Threads per scenario (the victim's exit counts; for suspend configs the victim,
        /// the suspend and the reaper are always there).
        #[arg(long, default_value_t = 3)]
        threads: usize,
        /// VMAs the set-up maps.
        #[arg(long, default_value_t = 2)]
        vmas: u8,
        /// Kinds a VMA may be, comma-separated: anon, file, mlock.
        #[arg(long, default_value = "anon,file", value_delimiter = ',')]
        menu: Vec<String>,
        /// Most preemptions (switches away from a thread that could go on); default: no bound.
        #[arg(long)]
        preemptions: Option<u8>,
        /// Stop without a verdict after this many states.
        #[arg(long, default_value_t = 20_000_000)]
        max_states: u64,
        /// Start even when the estimate exceeds --max-states.
        #[arg(long)]
        force: bool,
        /// Turn off visited-state deduplication (for measurements).
        #[arg(long)]
        no_dedup: bool,
        /// Turn off the thread-local-step reduction (for measurements).
        #[arg(long)]
        no_reduce: bool,
        /// How races are found: `hb`, the happens-before detector with its history in the
        /// state (as random runs; exact), or `coenabled`, two threads whose next steps conflict
        /// (history-free: far fewer states, a race may show one numbered step later).
        #[arg(long, value_enum, default_value = "hb")]
        races: Races,
        /// Worker threads (default: every core); the result does not depend on it.
        #[arg(long)]
        jobs: Option<usize>,
        /// One JSON object.
        #[arg(long)]
        json: bool,
        /// Where the counterexample is written (a corpus folder).
        #[arg(long, default_value = "mmfuzz-findings")]
        out: PathBuf,
        /// Start from this address space (a set-up file from `import-maps`) instead of the
        /// menu's; --vmas and --menu are then ignored.
        #[arg(long, value_name = "FILE")]
        setup: Option<PathBuf>,
    },
    /// Turn a real `/proc/PID/maps` (or `smaps`) into a set-up file: its mappings grouped into
    /// the model's VMAs (anonymous or not, VM_SHARED, VM_ACCOUNT, VM_LOCKED, VM_HUGETLB,
    /// VM_PFNMAP), for `run --setup` and `check --setup`.
    #[command(
        name = "import-maps",
        after_help = "Examples:\n  mmfuzz import-maps /proc/self/maps --out my-setup.json\n  \
            cat /proc/$(pgrep -n sshd)/smaps > sshd.smaps; mmfuzz import-maps sshd.smaps --out sshd.json\n  \
            mmfuzz run --config v6.1 --setup my-setup.json\n  \
            mmfuzz check --config v6.1 --threads 3 --setup my-setup.json"
    )]
    ImportMaps {
        /// A copy of /proc/PID/maps or /proc/PID/smaps (from any Linux machine).
        file: PathBuf,
        /// Write the set-up file here (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// List the built-in configs (or path versions), or print one in the path language.
    Configs {
        /// Print this config and every path version it uses, as a starting point for your own.
        #[arg(long)]
        show: Option<String>,
        /// List path versions instead of configs.
        #[arg(long)]
        versions: bool,
    },
    /// List the path versions: kernel range, commit, file (as `configs --versions`).
    Versions,
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
    /// Print a case as numbered steps per CPU, with the locks held and the broken invariant;
    /// optionally draw it as a swim-lane picture (SVG, or HTML with the report).
    #[command(
        after_help = "Examples:\n  mmfuzz explain corpus/mm/v5.17-rc3-I4-….json\n  mmfuzz explain case.json --svg case.svg --html case.html"
    )]
    Explain {
        /// The case file(s); `--svg`/`--html` take one.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Also write the picture as a standalone SVG here.
        #[arg(long, value_name = "OUT")]
        svg: Option<PathBuf>,
        /// Also write an HTML page (the picture and the text report) here.
        #[arg(long, value_name = "OUT")]
        html: Option<PathBuf>,
        /// Print the report as one JSON object (steps, locks, flags, violation) instead.
        #[arg(long)]
        json: bool,
    },
    /// Shrink a failing case to its shortest form; prints the new case.
    Minimize {
        /// The case file.
        file: PathBuf,
        /// Write the shrunk case into this corpus folder too.
        #[arg(long)]
        save: Option<PathBuf>,
    },
    /// Corpus maintenance.
    #[command(subcommand)]
    Corpus(CorpusCmd),
    /// The maple-store campaign: random op streams against the reference.
    Maple {
        /// Budget in seconds.
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// Worker threads.
        #[arg(long)]
        jobs: Option<usize>,
        /// Base seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Replay the kernel maple tree test suite's erase2 traces through store and reference.
    Erase2 {
        /// Folder of `.ops` files (default: $MMFUZZ_ERASE2_DIR or ../shared/data/maple-erase2).
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum CorpusCmd {
    /// Turn libFuzzer artifacts (or case files) into shrunk, named corpus cases.
    #[command(
        after_help = "Examples:\n  mmfuzz corpus add --target maple-store fuzz/artifacts/maple_store/*\n  mmfuzz corpus add --target mm --config v5.17-rc3 fuzz/artifacts/exit_vs_reaper/*\n  mmfuzz corpus add mmfuzz-findings/mm/*.json"
    )]
    Add {
        /// Artifacts (raw fuzzer input) or case files (`.json`).
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// The target the artifacts came from.
        #[arg(long, value_enum, default_value = "maple-store")]
        target: Target,
        /// The config an mm artifact was fuzzed against (name or file).
        #[arg(long)]
        config: Option<String>,
        /// Case name (default: derived from the failure).
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
        configs: Vec::new(),
        seconds: 2.0,
        execs: None,
        jobs: None,
        seed: 0,
        json: false,
        out: PathBuf::from("mmfuzz-findings"),
        explain: false,
        setup: None,
    });
    let res = match command {
        Command::Run {
            configs,
            seconds,
            execs,
            jobs,
            seed,
            json,
            out,
            explain,
            setup,
        } => {
            let explain = !json && (explain || !configs.is_empty());
            load_setup(setup.as_deref()).and_then(|setup| {
                let report = Report { json, explain };
                run(&configs, (seconds, execs), jobs, seed, &out, report, setup)
            })
        }
        Command::Check {
            config,
            threads,
            vmas,
            menu,
            preemptions,
            max_states,
            force,
            no_dedup,
            no_reduce,
            races,
            jobs,
            json,
            out,
            setup,
        } => {
            let kinds: Result<Vec<_>, _> = menu
                .iter()
                .map(|m| {
                    explore::VmaKind::parse(m).ok_or_else(|| {
                        BadInput(format!("--menu {m}: not a VMA kind (anon, file, mlock)"))
                    })
                })
                .collect();
            let setup = load_setup(setup.as_deref());
            kinds.and_then(|menu| {
                let setup = setup?;
                let b = explore::Bounds {
                    threads,
                    vmas,
                    menu,
                    preemptions,
                    max_states,
                    dedup: !no_dedup,
                    reduce: !no_reduce,
                    hb: matches!(races, Races::Hb),
                    setup,
                };
                exhaustive(&config, &b, force, jobs, json, &out)
            })
        }
        Command::ImportMaps { file, out } => import_maps(&file, out.as_deref()),
        Command::Configs { show, versions } => list_configs(show.as_deref(), versions),
        Command::Versions => list_configs(None, true),
        Command::Replay { paths, json } => replay(&paths, json),
        Command::Explain {
            files,
            svg,
            html,
            json,
        } => explain_all(&files, svg.as_deref(), html.as_deref(), json),
        Command::Minimize { file, save } => minimize(&file, save.as_deref()),
        Command::Corpus(CorpusCmd::Add {
            inputs,
            target,
            config,
            name,
            note,
            dir,
        }) => corpus_add(
            &inputs,
            target,
            config.as_deref(),
            name.as_deref(),
            &note,
            &dir,
        ),
        Command::Maple {
            seconds,
            jobs,
            seed,
        } => maple_campaign(seconds, jobs, seed),
        Command::Erase2 { dir } => run_erase2(dir),
    };
    let interrupted = STOP.get().is_some_and(|s| s.load(Ordering::Relaxed));
    match res {
        Ok(_) if interrupted => ExitCode::from(130),
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(BadInput(msg)) => {
            eprintln!("mmfuzz: {msg}");
            ExitCode::from(2)
        }
    }
}

fn jobs_or_all(jobs: Option<usize>) -> Result<usize, BadInput> {
    let j = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if j == 0 {
        return Err(BadInput("--jobs 0: need at least one job".into()));
    }
    Ok(j)
}

fn check_seconds(seconds: f64) -> Result<Duration, BadInput> {
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(BadInput(format!(
            "--seconds {seconds}: must be a positive number"
        )));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Read a set-up file (`import-maps` output) for `--setup`.
fn load_setup(path: Option<&Path>) -> Result<Option<Vec<scenario::Setup>>, BadInput> {
    let Some(path) = path else { return Ok(None) };
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| BadInput(format!("{shown}: {e}")))?;
    let file: maps::SetupFile = serde_json::from_str(&text).map_err(|e| {
        let what = e.to_string();
        let what = what.split(" at line ").next().unwrap_or_default();
        BadInput(format!(
            "{shown}:{}:{}: not a set-up file (from import-maps): {what}",
            e.line(),
            e.column()
        ))
    })?;
    maps::check_setup(&file.setup).map_err(|e| BadInput(format!("{shown}: {e}")))?;
    Ok(Some(file.setup))
}

/// `import-maps`: a maps/smaps file to a set-up file; a summary on standard error.
fn import_maps(file: &Path, out: Option<&Path>) -> Result<bool, BadInput> {
    let shown = file.display();
    let text = std::fs::read_to_string(file).map_err(|e| BadInput(format!("{shown}: {e}")))?;
    let mappings = maps::parse(&text).map_err(|e| {
        if e.line == 0 {
            BadInput(format!("{shown}: {}", e.msg))
        } else {
            BadInput(format!("{shown}:{}: {}", e.line, e.msg))
        }
    })?;
    let f = maps::import(&file.display().to_string(), &mappings);
    eprintln!(
        "{shown}: {} mapping(s) -> {} model VMA(s){}",
        mappings.len(),
        f.groups.len(),
        if f.skipped.is_empty() {
            String::new()
        } else {
            format!("; left out line(s) {:?}", f.skipped)
        }
    );
    for (i, g) in f.groups.iter().enumerate() {
        eprintln!(
            "  vma {i}: {:<5} {:<22} {:>4} mapping(s) {:>8} pages  e.g. {}",
            if g.anon { "anon" } else { "file" },
            if g.flags.is_empty() {
                "0".to_string()
            } else {
                g.flags.join("|")
            },
            g.mappings,
            g.pages,
            g.label
        );
    }
    let json = serde_json::to_string_pretty(&f).expect("serialisable") + "\n";
    match out {
        None => print!("{json}"),
        Some(p) => {
            write_atomic(p, &json)?;
            eprintln!("wrote {}", p.display());
        }
    }
    Ok(true)
}

/// Resolve `--config` arguments: built-in names or files.
fn programs(configs: &[String]) -> Result<Vec<Program>, BadInput> {
    if configs.is_empty() {
        return Ok(builtin::programs());
    }
    let mut out = Vec::new();
    for c in configs {
        if builtin::config_names().contains(&c.as_str()) {
            out.push(builtin::program(c).map_err(|e| BadInput(e.to_string()))?);
            continue;
        }
        let p = Path::new(c);
        if !p.exists() {
            return Err(BadInput(format!(
                "--config {c}: neither a built-in config ({}) nor a file",
                builtin::config_names().join(", ")
            )));
        }
        let text = std::fs::read_to_string(p).map_err(|e| BadInput(format!("{c}: {e}")))?;
        out.extend(builtin::load_file(c, &text).map_err(|e| BadInput(e.to_string()))?);
    }
    Ok(out)
}

fn expect_word(e: &Verdict) -> &'static str {
    match e {
        Verdict::Bug(_) => "bug",
        Verdict::Safe => "safe",
        Verdict::Unknown => "unknown",
    }
}

fn expected_invariants(e: &Verdict) -> Vec<mmfuzz::mm::Invariant> {
    match e {
        Verdict::Bug(i) => i.clone(),
        _ => Vec::new(),
    }
}

/// How `run` reports: JSON lines, or the table and (with `explain`) each counterexample.
struct Report {
    json: bool,
    explain: bool,
}

fn run(
    configs: &[String],
    (seconds, execs): (f64, Option<u64>),
    jobs: Option<usize>,
    seed: u64,
    out: &Path,
    report: Report,
    setup: Option<Vec<scenario::Setup>>,
) -> Result<bool, BadInput> {
    let Report { json, explain } = report;
    let time = check_seconds(seconds)?;
    let mut stories = Vec::new();
    let jobs = jobs_or_all(jobs)?;
    let progs = programs(configs)?;
    if !json {
        eprintln!(
            "mmfuzz run: {} config(s), {seconds} s each on {jobs} job(s), seed {seed}",
            progs.len()
        );
        println!(
            "{:<24} {:>8} {:>6} {:>10} {:>9} {:>9} {:>9} {:>6}  counterexample",
            "config", "expected", "found", "invariant", "execs", "execs/s", "to first", "steps"
        );
    }
    let mut all_ok = true;
    let mut any_unknown = false;
    let stop = interrupt_switch();
    let tty = !json && std::io::IsTerminal::is_terminal(&std::io::stderr());
    for (k, prog) in progs.iter().enumerate() {
        if stop.load(Ordering::Relaxed) {
            if !json {
                println!(
                    "!{:<23} not run (interrupted): {}",
                    prog.config.name,
                    progs[k..]
                        .iter()
                        .map(|p| p.config.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            all_ok = false;
            break;
        }
        let s = Settings {
            time,
            jobs,
            seed,
            case_bytes: 0,
            max_execs_per_job: execs,
            setup: setup.clone(),
        };
        let want = expected_invariants(&prog.config.expect);
        let live = campaign::Live::new(stop.clone());
        let label = format!("[{}/{}] {}", k + 1, progs.len(), prog.config.name);
        let rep = std::thread::scope(|scope| {
            let worker = scope.spawn(|| campaign::mm_config_live(prog, &want, &s, &live));
            show_progress(&label, time, &live, &worker, tty, json);
            worker.join().expect("campaign thread")
        });
        let shown = rep.shown().cloned();
        let mut saved = None;
        let mut shortest = None;
        if let Some((_, _, sc, v)) = &shown {
            let small = shrink::shrink(prog, sc, v.inv);
            shortest = Some(shrink::length(&small));
            if explain {
                stories.push(report::explain(prog, &small));
            }
            let name = format!("{}-{}", prog.config.name, v.inv);
            let case = Case::mm(
                &name,
                Expect::Fail,
                &format!("found by mmfuzz run (seed {seed}): {}", v.msg),
                prog,
                Some(v.inv.name().to_string()),
                small,
            );
            match corpus::save(&out.join("mm"), &case) {
                Ok(Saved::New(p) | Saved::Duplicate(p)) => saved = Some(p),
                Err(e) => eprintln!("mmfuzz: could not save the counterexample: {e}"),
            }
        }
        let expected = expect_word(&prog.config.expect);
        let found = if shown.is_some() { "bug" } else { "safe" };
        let inv = shown.as_ref().map(|(_, _, _, v)| v.inv.name().to_string());
        let unknown = prog.config.expect == Verdict::Unknown;
        // An `unknown` row does not change the exit status (shared/spec/README.md); a `bug`
        // row must break the named invariant (one of `I4/I5`).
        let ok = !rep.interrupted
            && match &prog.config.expect {
                Verdict::Unknown => true,
                Verdict::Safe => found == "safe",
                Verdict::Bug(want) => want.iter().any(|w| inv.as_deref() == Some(w.name())),
            };
        any_unknown |= unknown;
        all_ok &= ok;
        let secs = rep.elapsed.as_secs_f64().max(1e-9);
        let to_first = rep.first.as_ref().map(|(n, _, _, _)| *n);
        if json {
            println!(
                "{}",
                json!({
                    "config": prog.config.name,
                    "expected": expected,
                    "found": found,
                    "invariant": inv,
                    "execs": rep.execs,
                    "steps": rep.steps,
                    "seconds": secs,
                    "execs_per_sec": rep.execs as f64 / secs,
                    "execs_to_first": to_first,
                    "shortest_steps": shortest,
                    "counterexample": saved.as_ref().map(|p| p.display().to_string()),
                    "kernel": prog.config.meta.kernel,
                    "interrupted": rep.interrupted,
                })
            );
        } else {
            let mark = if !ok {
                '!'
            } else if unknown {
                '?'
            } else {
                ' '
            };
            let found = if rep.interrupted && shown.is_none() {
                "stop"
            } else {
                found
            };
            println!(
                "{mark}{:<23} {:>8} {:>6} {:>10} {:>9} {:>9.0} {:>9} {:>6}  {}",
                prog.config.name,
                expected,
                found,
                inv.as_deref().unwrap_or("-"),
                rep.execs,
                rep.execs as f64 / secs,
                to_first.map_or("-".into(), |n| n.to_string()),
                shortest.map_or("-".into(), |n| n.to_string()),
                saved
                    .as_ref()
                    .map_or("-".into(), |p| p.display().to_string()),
            );
        }
    }
    for s in stories {
        println!("\n{s}");
    }
    if stop.load(Ordering::Relaxed) {
        eprintln!(
            "mmfuzz: interrupted; counterexamples found so far are in {}",
            out.join("mm").display()
        );
    }
    if !json {
        println!(
            "{}",
            if all_ok {
                "every config with a decided expectation gave its expected verdict"
            } else {
                "'!' marks a config whose verdict differs from the expected one"
            }
        );
        if any_unknown {
            println!(
                "'?' marks a config the model cannot decide (expected `unknown`): what it finds \
                 is explained in the README, section \"The unknown rows\""
            );
        }
    }
    Ok(all_ok)
}

static STOP: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// A switch Ctrl-C sets (a second Ctrl-C exits at once, status 130: corpus writes are
/// atomic renames, so nothing is left half-written).
fn interrupt_switch() -> Arc<AtomicBool> {
    STOP.get_or_init(|| {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let installed = ctrlc::set_handler(move || {
            if s.swap(true, Ordering::Relaxed) {
                std::process::exit(130);
            }
            eprintln!("\nmmfuzz: stopping at the next scenario (Ctrl-C again to quit now)");
        });
        if let Err(e) = installed {
            eprintln!("mmfuzz: Ctrl-C will not stop cleanly: {e}");
        }
        stop
    })
    .clone()
}

/// Until `worker` ends: a progress bar on a terminal (executions, executions/s, violations so
/// far), else a plain line every 10 s and one at the end.
fn show_progress<T>(
    label: &str,
    time: Duration,
    live: &campaign::Live,
    worker: &std::thread::ScopedJoinHandle<'_, T>,
    tty: bool,
    json: bool,
) {
    let t0 = std::time::Instant::now();
    let figures = || {
        let e = live.execs.load(Ordering::Relaxed);
        let secs = t0.elapsed().as_secs_f64().max(1e-9);
        format!(
            "{e} execs, {:.0}/s, {} violation(s)",
            e as f64 / secs,
            live.violations.load(Ordering::Relaxed)
        )
    };
    let bar = if tty {
        let b = indicatif::ProgressBar::new(time.as_millis() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{prefix:<28} [{bar:24}] {elapsed:>4} {msg}")
                .expect("template")
                .progress_chars("=> "),
        );
        b.set_prefix(label.to_string());
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    if !tty && !json {
        eprintln!("{label}: {:.0} s", time.as_secs_f64());
    }
    let mut last_line = t0;
    while !worker.is_finished() {
        std::thread::sleep(Duration::from_millis(100));
        bar.set_position(t0.elapsed().as_millis() as u64);
        bar.set_message(figures());
        if !tty && !json && last_line.elapsed() >= Duration::from_secs(10) {
            eprintln!("{label}: {}", figures());
            last_line = std::time::Instant::now();
        }
    }
    bar.finish_and_clear();
}

fn exhaustive(
    config: &str,
    b: &explore::Bounds,
    force: bool,
    jobs: Option<usize>,
    json: bool,
    out: &Path,
) -> Result<bool, BadInput> {
    if b.threads == 0 || b.threads > mmfuzz::mm::state::MAX_THREADS {
        return Err(BadInput(format!(
            "--threads {}: between 1 and {}",
            b.threads,
            mmfuzz::mm::state::MAX_THREADS
        )));
    }
    if b.vmas > 8 {
        return Err(BadInput(format!("--vmas {}: at most 8", b.vmas)));
    }
    let jobs = jobs_or_all(jobs)?;
    let progs = programs(&[config.to_string()])?;
    let [prog] = progs.as_slice() else {
        return Err(BadInput(format!(
            "--config {config}: names {} configs; check takes one",
            progs.len()
        )));
    };
    let roots = explore::roots(prog, b);
    let bad = |e: mmfuzz_harness::mm::exec::BadScenario| BadInput(format!("{config}: {}", e.0));
    let est = explore::estimate(prog, &roots).map_err(bad)?;
    let bounds = format!(
        "threads {}, vmas {} of {{{}}}, preemptions {}, races {}",
        b.threads,
        b.vmas,
        b.menu
            .iter()
            .map(|k| k.name())
            .collect::<Vec<_>>()
            .join(","),
        b.preemptions.map_or("unbounded".into(), |p| p.to_string()),
        if b.hb { "hb" } else { "coenabled" }
    );
    if !json {
        eprintln!(
            "mmfuzz check {}: {} set-up(s) x thread choice(s), {bounds}; estimate {:.2e} states (per-thread path lengths; history can multiply it)",
            prog.config.name,
            roots.len(),
            est
        );
    }
    if est > b.max_states as f64 && !force {
        return Err(BadInput(format!(
            "{config}: the estimate ({est:.2e} states) exceeds --max-states {}; lower --threads or --vmas, \
             bound --preemptions, or pass --force",
            b.max_states
        )));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| BadInput(format!("--jobs {jobs}: {e}")))?;
    let bar = if json {
        indicatif::ProgressBar::hidden()
    } else {
        let p = indicatif::ProgressBar::new_spinner();
        p.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {elapsed_precise} numbered step {msg}",
            )
            .expect("a valid template"),
        );
        p
    };
    let t0 = std::time::Instant::now();
    let rep = pool
        .install(|| {
            explore::search(prog, b, &roots, |lvl, s, t| {
                bar.set_message(format!("{lvl}: {s} states, {t} transitions"));
                bar.tick();
            })
        })
        .map_err(bad)?;
    bar.finish_and_clear();
    let secs = t0.elapsed().as_secs_f64();
    let peak = explore::peak_rss_kib();
    let mut saved = None;
    if let Some((sc, v)) = &rep.counterexample {
        let name = format!("{}-{}", prog.config.name, v.inv);
        let case = Case::mm(
            &name,
            Expect::Fail,
            &format!(
                "shortest counterexample from mmfuzz check ({bounds}): {}",
                v.msg
            ),
            prog,
            Some(v.inv.name().to_string()),
            sc.clone(),
        );
        match corpus::save(&out.join("mm"), &case) {
            Ok(Saved::New(p) | Saved::Duplicate(p)) => saved = Some(p),
            Err(e) => eprintln!("mmfuzz: could not save the counterexample: {e}"),
        }
    }
    let found = if rep.counterexample.is_some() {
        "bug"
    } else if rep.truncated {
        "incomplete"
    } else {
        "safe"
    };
    let inv = rep
        .counterexample
        .as_ref()
        .map(|(_, v)| v.inv.name().to_string());
    if json {
        println!(
            "{}",
            json!({
                "config": prog.config.name,
                "expected": expect_word(&prog.config.expect),
                "found": found,
                "invariant": inv,
                "shortest_steps": rep.steps,
                "states": rep.states,
                "transitions": rep.transitions,
                "roots": rep.roots,
                "levels": rep.levels,
                "truncated": rep.truncated,
                "seconds": secs,
                "states_per_sec": rep.states as f64 / secs.max(1e-9),
                "peak_rss_kib": peak,
                "counterexample": saved.as_ref().map(|p| p.display().to_string()),
                "threads": b.threads,
                "vmas": b.vmas,
            })
        );
    } else {
        let mem = peak.map_or("?".into(), |k| format!("{:.0} MiB", k as f64 / 1024.0));
        match (&rep.counterexample, rep.truncated) {
            (Some((sc, v)), _) => {
                println!(
                    "{}: {} in {} numbered steps (shortest within the bounds): {} states, {} transitions, {secs:.1} s, peak memory {mem}",
                    prog.config.name,
                    v.inv,
                    rep.steps.unwrap_or(0),
                    rep.states,
                    rep.transitions
                );
                if let Some(p) = &saved {
                    println!("saved {}", p.display());
                }
                println!("\n{}", report::explain(prog, sc));
            }
            (None, false) => println!(
                "{}: no violation: {} states, {} transitions, {} set-up(s) x thread choice(s), {bounds}; {secs:.1} s, peak memory {mem}",
                prog.config.name, rep.states, rep.transitions, rep.roots
            ),
            (None, true) => println!(
                "{}: incomplete: stopped at --max-states {} after {} transitions ({} numbered steps deep), no violation so far; {secs:.1} s, peak memory {mem}",
                prog.config.name, b.max_states, rep.transitions, rep.levels
            ),
        }
    }
    Ok(match &prog.config.expect {
        Verdict::Bug(_) => rep.counterexample.is_some(),
        Verdict::Safe => found == "safe",
        Verdict::Unknown => true,
    })
}

fn list_configs(show: Option<&str>, versions: bool) -> Result<bool, BadInput> {
    if let Some(name) = show {
        let progs = programs(&[name.to_string()])?;
        for p in progs {
            print!("{}", corpus::prog_text(&p));
        }
        return Ok(true);
    }
    if versions {
        println!(
            "{:<22} {:<18} {:<14} {:<18} source",
            "path", "version", "commit", "kernel"
        );
        for u in builtin::units() {
            for p in &u.paths {
                let src = if p.meta.source.is_empty() {
                    format!("{} {}", p.meta.file, p.meta.function)
                } else {
                    p.meta.source.clone()
                };
                println!(
                    "{:<22} {:<18} {:<14} {:<18} {}",
                    p.name, p.version, p.meta.commit, p.meta.kernel, src
                );
            }
        }
        return Ok(true);
    }
    println!("{:<18} {:<10} {:<24} note", "config", "expected", "kernel");
    for p in builtin::programs() {
        let e = match &p.config.expect {
            Verdict::Bug(i) => format!("bug {}", mmfuzz::mm::Invariant::show_list(i)),
            Verdict::Safe => "safe".into(),
            Verdict::Unknown => "unknown".into(),
        };
        println!(
            "{:<18} {:<10} {:<24} {}",
            p.config.name, e, p.config.meta.kernel, p.config.meta.note
        );
    }
    Ok(true)
}

fn load_cases(paths: &[PathBuf]) -> Result<Vec<(PathBuf, Case)>, BadInput> {
    let files = corpus::collect(paths).map_err(|e| BadInput(e.to_string()))?;
    // Parse (and resolve) everything first: one bad file is an input error.
    let mut cases = Vec::new();
    for f in files {
        let c = Case::load(&f).map_err(|e| BadInput(e.to_string()))?;
        c.program(&f).map_err(|e| BadInput(e.to_string()))?;
        cases.push((f, c));
    }
    Ok(cases)
}

fn verdict_word(case: &Case, e: Expect) -> &'static str {
    match (&case.payload, e) {
        (Payload::Mm { .. }, Expect::Fail) => "bug",
        (Payload::Mm { .. }, Expect::Pass) => "safe",
        (_, Expect::Fail) => "fail",
        (_, Expect::Pass) => "pass",
    }
}

fn replay(paths: &[PathBuf], json: bool) -> Result<bool, BadInput> {
    let cases = load_cases(paths)?;
    let mut all_ok = true;
    for (f, case) in &cases {
        let outcome = case.outcome();
        let found = if outcome.is_ok() {
            Expect::Pass
        } else {
            Expect::Fail
        };
        let inv = outcome.as_ref().err().and_then(|(i, _)| i.clone());
        let res = case.replay();
        all_ok &= res.is_ok();
        let config = match &case.payload {
            Payload::Mm { config, .. } => config.clone(),
            Payload::MapleStore { .. } => "maple_store".into(),
        };
        if json {
            println!(
                "{}",
                json!({
                    "case": f.display().to_string(),
                    "config": config,
                    "expected": verdict_word(case, case.expect),
                    "found": verdict_word(case, found),
                    "invariant": inv,
                    "ok": res.is_ok(),
                })
            );
        } else {
            let mark = if res.is_ok() { "ok  " } else { "FAIL" };
            println!(
                "{mark} {} ({config}: expect {}, found {}{})",
                f.display(),
                verdict_word(case, case.expect),
                verdict_word(case, found),
                inv.map(|i| format!(" {i}")).unwrap_or_default()
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

/// Write `text` to `path` atomically: a temporary file in the same folder, then a rename.
fn write_atomic(path: &Path, text: &str) -> Result<(), BadInput> {
    use std::io::Write as _;
    let name = path
        .file_name()
        .ok_or_else(|| BadInput(format!("{}: not a file name", path.display())))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        BadInput(format!("{}: {e}", path.display()))
    })
}

/// `explain` over several case files, one report after the other (`--svg`/`--html`: one file).
fn explain_all(
    files: &[PathBuf],
    svg: Option<&Path>,
    html: Option<&Path>,
    json: bool,
) -> Result<bool, BadInput> {
    if files.len() > 1 && (svg.is_some() || html.is_some()) {
        return Err(BadInput(
            "explain: --svg and --html draw one case; give one file".into(),
        ));
    }
    let mut ok = true;
    for (i, file) in files.iter().enumerate() {
        if i > 0 && !json {
            println!();
        }
        ok &= explain(file, svg, html, json)?;
    }
    Ok(ok)
}

fn explain(
    file: &Path,
    svg: Option<&Path>,
    html: Option<&Path>,
    json: bool,
) -> Result<bool, BadInput> {
    let case = Case::load(file).map_err(|e| BadInput(e.to_string()))?;
    match &case.payload {
        Payload::Mm { scenario, .. } => {
            let prog = case
                .program(file)
                .map_err(|e| BadInput(e.to_string()))?
                .expect("an mm case");
            if !json {
                println!("{}: {}", file.display(), case.name);
                if !case.note.is_empty() {
                    println!("{}", case.note);
                }
                println!();
            }
            let opts = exec::Opts {
                record: true,
                ..exec::Opts::default()
            };
            let out = match exec::run(&prog, scenario, opts) {
                Ok(out) => out,
                Err(e) if json => {
                    return Err(BadInput(format!(
                        "{}: the scenario cannot run on {}: {}",
                        file.display(),
                        prog.config.name,
                        e.0
                    )))
                }
                Err(e) => {
                    print!("{}", report::explain(&prog, scenario));
                    if svg.is_some() || html.is_some() {
                        return Err(BadInput(format!(
                            "{}: nothing to draw: the scenario cannot run on {}: {}",
                            file.display(),
                            prog.config.name,
                            e.0
                        )));
                    }
                    return Ok(true);
                }
            };
            if json {
                let mut v = report::json(&prog, scenario, &out);
                v["case"] = json!(file.display().to_string());
                v["name"] = json!(case.name);
                println!("{v}");
            } else {
                print!("{}", report::explain_outcome(&prog, scenario, &out));
            }
            let title = if case.note.is_empty() {
                case.name.clone()
            } else {
                format!("{}\n{}", case.name, case.note)
            };
            if let Some(p) = svg {
                write_atomic(p, &picture::svg(&prog, scenario, &out, &title))?;
            }
            if let Some(p) = html {
                write_atomic(p, &picture::html(&prog, scenario, &out, &title))?;
            }
        }
        Payload::MapleStore { .. } if svg.is_some() || html.is_some() => {
            return Err(BadInput(format!(
                "{}: --svg and --html draw mm cases only",
                file.display()
            )));
        }
        Payload::MapleStore { ops } => match maple::execute(ops) {
            Ok(st) => println!(
                "{}: passes ({} ops, height {})",
                file.display(),
                st.ops,
                st.max_height
            ),
            Err(d) => println!("{d}"),
        },
    }
    Ok(true)
}

fn minimize(file: &Path, save: Option<&Path>) -> Result<bool, BadInput> {
    let case = Case::load(file).map_err(|e| BadInput(e.to_string()))?;
    let out = match &case.payload {
        Payload::MapleStore { ops } => {
            let Some(min) = targets::minimize_maple(ops.clone()) else {
                eprintln!(
                    "{}: the case does not fail; nothing to minimize",
                    file.display()
                );
                return Ok(false);
            };
            eprintln!("{}: {} ops -> {}", file.display(), ops.len(), min.len());
            Case::maple_store(&case.name, case.expect, &case.note, min)
        }
        Payload::Mm {
            invariant,
            scenario,
            ..
        } => {
            let prog = case
                .program(file)
                .map_err(|e| BadInput(e.to_string()))?
                .expect("an mm case");
            let Err((Some(inv), _)) = case.outcome() else {
                eprintln!(
                    "{}: the case does not fail; nothing to minimize",
                    file.display()
                );
                return Ok(false);
            };
            let small = shrink::shrink(
                &prog,
                scenario,
                mmfuzz::mm::Invariant::parse(&inv).expect("a known invariant"),
            );
            eprintln!(
                "{}: {} -> {} numbered steps",
                file.display(),
                shrink::length(scenario),
                shrink::length(&small)
            );
            Case::mm(
                &case.name,
                case.expect,
                &case.note,
                &prog,
                invariant.clone().or(Some(inv)),
                small,
            )
        }
    };
    print!("{}", out.to_text());
    if let Some(dir) = save {
        save_case(&dir.join(out.target()), &out)?;
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
    config: Option<&str>,
    name: Option<&str>,
    note: &str,
    dir: &Path,
) -> Result<bool, BadInput> {
    for input in inputs {
        let is_case = input.extension().is_some_and(|x| x == "json");
        let case = if is_case {
            let mut c = Case::load(input).map_err(|e| BadInput(e.to_string()))?;
            c.program(input).map_err(|e| BadInput(e.to_string()))?;
            if let Some(n) = name {
                c.name = n.into();
            }
            if !note.is_empty() {
                c.note = note.into();
            }
            c
        } else {
            let bytes =
                std::fs::read(input).map_err(|e| BadInput(format!("{}: {e}", input.display())))?;
            match target {
                Target::MapleStore => {
                    let ops = maple::decode(&bytes);
                    let (ops, kind) = match maple::execute(&ops) {
                        Err(d) => {
                            eprintln!("{}: fails now:\n{d}", input.display());
                            let kind = d.kind();
                            (targets::minimize_maple(ops).expect("it fails"), kind)
                        }
                        Ok(_) => (ops, "regression"),
                    };
                    Case::maple_store(name.unwrap_or(kind), Expect::Pass, note, ops)
                }
                Target::Mm => {
                    let Some(c) = config else {
                        return Err(BadInput(
                            "--target mm needs --config (the config the artifact was fuzzed against)"
                                .into(),
                        ));
                    };
                    let prog = programs(&[c.to_string()])?.remove(0);
                    let sc = generate::decode(&prog, &bytes);
                    let out = mmfuzz_harness::mm::run(&prog, &sc, Default::default())
                        .map_err(|e| BadInput(format!("{}: {}", input.display(), e.0)))?;
                    match out.violation {
                        Some(v) => {
                            let small = shrink::shrink(&prog, &sc, v.inv);
                            let n = format!("{}-{}", prog.config.name, v.inv);
                            Case::mm(
                                name.unwrap_or(&n),
                                Expect::Fail,
                                if note.is_empty() { &v.msg } else { note },
                                &prog,
                                Some(v.inv.name().to_string()),
                                small,
                            )
                        }
                        None => Case::mm(
                            name.unwrap_or("regression"),
                            Expect::Pass,
                            note,
                            &prog,
                            None,
                            sc,
                        ),
                    }
                }
            }
        };
        save_case(&dir.join(case.target()), &case)?;
    }
    Ok(true)
}

fn maple_campaign(seconds: f64, jobs: Option<usize>, seed: u64) -> Result<bool, BadInput> {
    let s = Settings {
        time: check_seconds(seconds)?,
        jobs: jobs_or_all(jobs)?,
        seed,
        case_bytes: 2048,
        max_execs_per_job: None,
        setup: None,
    };
    let rep = campaign::maple_store(&s);
    let secs = rep.elapsed.as_secs_f64();
    println!(
        "maple_store: {} cases, {} ops in {secs:.1} s ({:.0} cases/s), {} failure(s)",
        rep.execs,
        rep.ops,
        rep.execs as f64 / secs,
        rep.failures.len()
    );
    if let Some((_, ops, d)) = rep.failures.first() {
        println!("{d}");
        let min = targets::minimize_maple(ops.clone()).unwrap_or_else(|| ops.clone());
        let case = Case::maple_store(d.kind(), Expect::Pass, "found by mmfuzz maple", min);
        save_case(Path::new("mmfuzz-findings/maple_store"), &case)?;
    }
    Ok(rep.failures.is_empty())
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
