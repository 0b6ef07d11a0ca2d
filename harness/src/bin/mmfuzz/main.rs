//! `mmfuzz`: campaigns over the mm teardown configs, corpus replay and upkeep, reports.
//!
//! Exit status: 0 when everything gave its expected verdict, 1 when something did not,
//! 2 for bad input (flags, files), 130 when stopped by Ctrl-C. A closed standard output
//! (`mmfuzz configs | head -1`) ends the command quietly with status 0.
//!
//! This file is the command line (clap types), the dispatch and the exit status; each command
//! is a file beside it, and what is not about the command line is in the library.
#![forbid(unsafe_code)]

mod bench_search;
mod check;
mod common;
mod configs;
mod corpus;
mod coverage;
mod explain;
mod import_maps;
mod maple;
mod merge;
mod progress;
mod review;
mod run;

/// The search allocates and frees many small blocks across worker threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use common::Stop;

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

#[derive(Subcommand)]
enum Command {
    /// Random scenarios against configs, time-boxed, on all cores; a table (or JSON lines) of
    /// verdicts; counterexamples shrunk and saved.
    #[command(
        after_help = "Examples:\n  mmfuzz run\n  mmfuzz run --config v6.1 --config my-exit_mmap.mmp --seconds 30\n  mmfuzz run --json --seed 7 --jobs 2"
    )]
    Run(RunArgs),
    /// Exhaustive mode: every interleaving of a config's threads over every set-up of a small
    /// menu, breadth-first, so the first violation is a shortest one; or "no violation" with
    /// the states and transitions explored.
    #[command(
        after_help = "Examples:\n  mmfuzz check --config v6.1 --cpus 3 --vmas 3\n  mmfuzz check --config v5.17-rc3 --cpus 2 --vmas 1   # its shortest counterexample\n  mmfuzz check --config mine.mmp --cpus 3 --vmas 2 --menu anon,mlock --preemptions 2"
    )]
    Check(CheckArgs),
    /// Turn a real `/proc/PID/maps` (or `smaps`) into a set-up file: its mappings grouped into
    /// the model's VMAs (anonymous or not, VM_SHARED, VM_ACCOUNT, VM_LOCKED, VM_HUGETLB,
    /// VM_PFNMAP), for `run --setup` and `check --setup`.
    #[command(
        name = "import-maps",
        after_help = "Examples:\n  mmfuzz import-maps /proc/self/maps --out my-setup.json\n  \
            cat /proc/$(pgrep -n sshd)/smaps > sshd.smaps; mmfuzz import-maps sshd.smaps --out sshd.json\n  \
            mmfuzz run --config v6.1 --setup my-setup.json\n  \
            mmfuzz check --config v6.1 --cpus 3 --setup my-setup.json"
    )]
    ImportMaps(ImportMapsArgs),
    /// List the built-in configs (or path versions), or print one in the path language.
    Configs(ConfigsArgs),
    /// List the path versions: kernel range, commit, file (as `configs --versions`).
    Versions,
    /// Replay corpus cases (files or folders) and check each gives its expected verdict.
    #[command(after_help = "Example:\n  mmfuzz replay corpus/ --json")]
    Replay(ReplayArgs),
    /// Print a case as numbered steps per CPU, with the locks held and the broken invariant;
    /// optionally draw it as a swim-lane picture (SVG, or HTML with the report).
    #[command(
        after_help = "Examples:\n  mmfuzz explain corpus/mm/v5.17-rc3-I4-….json\n  mmfuzz explain case.json --svg case.svg --html case.html"
    )]
    Explain(ExplainArgs),
    /// Shrink a failing case to its shortest form; prints the new case.
    Minimize(MinimizeArgs),
    /// Corpus maintenance.
    #[command(subcommand)]
    Corpus(CorpusCmd),
    /// The maple-store campaign: random op streams against the reference.
    Maple(MapleArgs),
    /// Replay the kernel maple tree test suite's erase2 traces through store and reference.
    Erase2(Erase2Args),
    /// Model coverage: each step and branch direction of every path a config uses, hit or
    /// never hit, from random scenarios, a libFuzzer corpus or the exhaustive search.
    #[command(
        after_help = "Examples:\n  mmfuzz coverage --config v6.1\n  mmfuzz coverage --execs 20000 --jobs 1 --json\n  mmfuzz coverage --config v5.17-rc3 --corpus fuzz/corpus/exit_vs_reaper"
    )]
    Coverage(coverage::CoverageArgs),
    /// Which steps of a path version carry a config's safety: the reviewer's questions (a step
    /// deleted, a lock section removed or weakened, a step moved or swapped, a condition
    /// forced, a return dropped), each judged by the exhaustive search and a random search.
    #[command(
        after_help = "Examples:\n  mmfuzz review --config v6.1 --path exit_mmap --pairs\n  mmfuzz review --config seed-v2 --cpus 3 --vmas 2 --json\n  mmfuzz review --config v6.1 --path all --html review.html"
    )]
    Review(review::ReviewArgs),
    /// Join the `--json` outputs of `run --shard I/N` or `check --shard I/N` (one file per
    /// shard, e.g. from a job array) into one verdict per config.
    #[command(
        after_help = "Example:\n  for i in 0 1 2 3; do mmfuzz run --shard $i/4 --jobs 2 --execs 100000 --json > run.$i.json; done\n  mmfuzz merge run.*.json"
    )]
    Merge(merge::MergeArgs),
    /// The bug benchmark: every mutant `review` proves buggy on a safe config, hunted by each
    /// search driver; recall and executions and seconds to the first violation.
    #[command(
        name = "bench-search",
        after_help = "Examples:\n  mmfuzz bench-search --config v6.1 --seconds 1\n  mmfuzz bench-search --cases-out cases.jsonl --json\n  python3 scripts/bench_search.py   (adds libFuzzer with and without the model's coverage)"
    )]
    BenchSearch(bench_search::BenchSearchArgs),
}

#[derive(Subcommand)]
enum CorpusCmd {
    /// Turn libFuzzer artifacts (or case files) into shrunk, named corpus cases.
    #[command(
        after_help = "Examples:\n  mmfuzz corpus add --target maple-store fuzz/artifacts/maple_store/*\n  mmfuzz corpus add --target mm --config v5.17-rc3 fuzz/artifacts/exit_vs_reaper/*\n  mmfuzz corpus add --target mm fuzz/artifacts/exit_vs_reaper/*   # fuzzed without MMFUZZ_CONFIG\n  mmfuzz corpus add mmfuzz-findings/mm/*.json"
    )]
    Add(CorpusAddArgs),
}

// The flags several commands share, declared once and flattened into each. Their help is that
// of the first command listed; the others set their own with `mut_arg`.

// `--jobs`: run, check, maple.
#[derive(Args)]
struct Jobs {
    /// Worker threads on this machine (default: every core).
    #[arg(long)]
    jobs: Option<usize>,
}

// `--seed`: run, maple.
#[derive(Args)]
struct Seed {
    /// Base seed; job j draws from seed + j.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

// `--json`: run, check, replay, explain.
#[derive(Args)]
struct Json {
    /// One JSON object per line and config.
    #[arg(long)]
    json: bool,
}

// `--out`: run, check (`import-maps --out` is a file, not a corpus folder).
#[derive(Args)]
struct Findings {
    /// Where shrunk counterexamples are written (a corpus folder).
    #[arg(long, default_value = "mmfuzz-findings")]
    out: PathBuf,
}

// `--setup`: run, check.
#[derive(Args)]
struct Setup {
    /// Start every scenario from this address space (a set-up file from `import-maps`).
    #[arg(long, value_name = "FILE")]
    setup: Option<PathBuf>,
}

// `mmfuzz run` (also what `mmfuzz` alone does).
#[derive(Args)]
struct RunArgs {
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
    #[command(flatten)]
    jobs: Jobs,
    #[command(flatten)]
    seed: Seed,
    #[command(flatten)]
    json: Json,
    #[command(flatten)]
    out: Findings,
    /// Print each counterexample as numbered steps per CPU (default with --config).
    #[arg(long)]
    explain: bool,
    #[command(flatten)]
    setup: Setup,
    #[command(flatten)]
    shard: ShardArg,
    /// Only the scenarios of this family, for configs whose roles make several (today's
    /// v6.18): teardown, suspend, cgroup or fork. A soak of one family.
    #[arg(long)]
    family: Option<String>,
}

// `--shard I/N`: run, check, review.
#[derive(Args)]
pub(crate) struct ShardArg {
    /// Do shard I of N (I from 0) of the work, for a job array: `run` takes the seed streams
    /// I*J .. I*J+J-1 of N*J (J: --jobs), `check` every N-th set-up and thread choice from
    /// the I-th, `review` the mutants whose text first appears at an index = I mod N. `mmfuzz
    /// merge` joins the shards' --json outputs.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub(crate) shard: Option<Shard>,
}

/// One shard of N.
#[derive(Clone, Copy, Debug)]
pub struct Shard {
    /// This shard, from 0.
    pub index: usize,
    /// How many.
    pub count: usize,
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// `I/N` with `0 <= I < N`.
fn parse_shard(s: &str) -> Result<Shard, String> {
    let bad = || format!("{s:?}: I/N with 0 <= I < N, e.g. 0/4");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (index, count): (usize, usize) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if count == 0 || index >= count {
        return Err(bad());
    }
    Ok(Shard { index, count })
}

/// `--max-memory`: a size in bytes, or no bound.
#[derive(Clone, Copy, Debug)]
enum MaxMemory {
    Bytes(u64),
    Unbounded,
}

/// `4GiB`, `300MiB`, `512KiB`, `1024` (bytes); `G`/`M`/`K` and `GB`/`MB`/`KB` are read as
/// binary units too; `none`.
fn parse_size(s: &str) -> Result<MaxMemory, String> {
    if s == "none" {
        return Ok(MaxMemory::Unbounded);
    }
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?}: a size such as 4GiB, 300MiB or none"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        u => return Err(format!("{s:?}: unknown unit {u:?} (KiB, MiB, GiB)")),
    };
    let bytes = n * mult as f64;
    if bytes.is_nan() || bytes < 1.0 || bytes > u64::MAX as f64 {
        return Err(format!("{s:?}: not a size this machine can bound"));
    }
    Ok(MaxMemory::Bytes(bytes as u64))
}

#[derive(Clone, Copy, ValueEnum)]
enum Races {
    /// Happens-before, history in the state.
    Hb,
    /// Co-enabled conflicting steps.
    Coenabled,
}

// `mmfuzz check`.
#[derive(Args)]
#[command(
    mut_arg("jobs", |a| a.help("Worker threads on this machine (default: every core); the result does not depend on it")),
    mut_arg("json", |a| a.help("One JSON object")),
    mut_arg("out", |a| a.help("Where the counterexample is written (a corpus folder)")),
    mut_arg("setup", |a| a.help("Start from this address space (a set-up file from `import-maps`) instead of the menu's; --vmas and --menu are then ignored")),
)]
struct CheckArgs {
    /// Built-in config name or a file in the path language.
    #[arg(long)]
    config: String,
    /// Modelled CPUs (kernel threads of the scenario): the victim's exit counts; suspend
    /// configs always have the victim, the suspend and the reaper. Not this machine's worker
    /// threads (--jobs).
    #[arg(long, visible_alias = "threads", default_value_t = 3, value_name = "N")]
    cpus: usize,
    /// VMAs the set-up maps.
    #[arg(long, default_value_t = 2)]
    vmas: u8,
    /// Kinds a VMA may be, comma-separated: anon, file, mlock.
    #[arg(long, default_value = "anon,file", value_delimiter = ',')]
    menu: Vec<String>,
    /// Most preemptions (switches away from a thread that could go on); default: no bound.
    #[arg(long)]
    preemptions: Option<u8>,
    /// Only the scenarios of this family, for a config whose roles make several (today's
    /// v6.18): teardown, suspend, cgroup or fork.
    #[arg(long)]
    family: Option<String>,
    /// Stop without a verdict after this many states.
    #[arg(long, default_value_t = 20_000_000)]
    max_states: u64,
    /// Stop without a verdict before this process's memory passes this size (e.g. 4GiB,
    /// 300MiB; `none`: no bound). Default: half of this machine's memory, or three quarters of
    /// what is available at the start if that is less.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_memory: Option<MaxMemory>,
    /// Start even when the estimate exceeds --max-states.
    #[arg(long)]
    force: bool,
    /// Turn off visited-state deduplication (for measurements).
    #[arg(long)]
    no_dedup: bool,
    /// Turn off the reductions of docs/reductions.md (for measurements).
    #[arg(long)]
    no_reduce: bool,
    /// Expand each way into a world separately instead of once per world and cost (for
    /// measurements: the same verdict and length, and without --preemptions the same states
    /// and transitions).
    #[arg(long)]
    no_share: bool,
    /// Keep queued states whole instead of encoded (for measurements).
    #[arg(long)]
    no_compact: bool,
    /// How races are found: `hb`, the happens-before detector with its history in the
    /// state (as random runs; exact), or `coenabled`, two threads whose next steps conflict
    /// (history-free: far fewer states, a race may show one numbered step later).
    #[arg(long, value_enum, default_value = "hb")]
    races: Races,
    #[command(flatten)]
    jobs: Jobs,
    #[command(flatten)]
    json: Json,
    #[command(flatten)]
    out: Findings,
    #[command(flatten)]
    setup: Setup,
    #[command(flatten)]
    shard: ShardArg,
}

// `mmfuzz import-maps`.
#[derive(Args)]
struct ImportMapsArgs {
    /// A copy of /proc/PID/maps or /proc/PID/smaps (from any Linux machine).
    file: PathBuf,
    /// Write the set-up file here (default: standard output).
    #[arg(long)]
    out: Option<PathBuf>,
}

// `mmfuzz configs`.
#[derive(Args)]
struct ConfigsArgs {
    /// Print this config and every path version it uses, as a starting point for your own.
    #[arg(long)]
    show: Option<String>,
    /// List path versions instead of configs.
    #[arg(long)]
    versions: bool,
}

// `mmfuzz replay`.
#[derive(Args)]
#[command(mut_arg("json", |a| a.help("One JSON object per line and case")))]
struct ReplayArgs {
    /// Case files or folders of them.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    json: Json,
}

// `mmfuzz explain`.
#[derive(Args)]
#[command(mut_arg("json", |a| a.help("Print the report as one JSON object (steps, locks, flags, mechanism, violation) instead")))]
struct ExplainArgs {
    /// The case file(s); `--svg`/`--html` take one.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Every model step, one line each, instead of the race diagram of the steps that matter.
    #[arg(long)]
    full: bool,
    /// Also write the picture as a standalone SVG here.
    #[arg(long, value_name = "OUT")]
    svg: Option<PathBuf>,
    /// Also write an HTML page (the picture and the text report) here.
    #[arg(long, value_name = "OUT")]
    html: Option<PathBuf>,
    #[command(flatten)]
    json: Json,
}

// `mmfuzz minimize`.
#[derive(Args)]
struct MinimizeArgs {
    /// The case file.
    file: PathBuf,
    /// Write the shrunk case into this corpus folder too.
    #[arg(long)]
    save: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Target {
    /// The maple-style VMA store against its reference (also `maple_store`, the fuzz
    /// target's name).
    #[value(alias = "maple_store")]
    MapleStore,
    /// The mm teardown model (needs --config).
    Mm,
}

// `mmfuzz corpus add`.
#[derive(Args)]
struct CorpusAddArgs {
    /// Artifacts (raw fuzzer input) or case files (`.json`).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// The target the artifacts came from.
    #[arg(long, value_enum, default_value = "maple-store")]
    target: Target,
    /// The config an mm artifact was fuzzed against (name or file: MMFUZZ_CONFIG). Without
    /// it, the artifact's first byte picks a built-in config, as exit_vs_reaper does when
    /// MMFUZZ_CONFIG is not set.
    #[arg(long)]
    config: Option<String>,
    /// Case name (default: derived from the failure).
    #[arg(long)]
    name: Option<String>,
    /// Why the case is kept.
    #[arg(long, default_value = "")]
    note: String,
    /// Corpus root (the target's folder is created below it). Default: the repository's
    /// `corpus/`, found from the current folder up (from `fuzz/` too), else `./corpus`.
    #[arg(long)]
    dir: Option<PathBuf>,
}

// `mmfuzz maple`.
#[derive(Args)]
#[command(
    mut_arg("jobs", |a| a.help("Worker threads on this machine")),
    mut_arg("seed", |a| a.help("Base seed")),
)]
struct MapleArgs {
    /// Budget in seconds.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    #[command(flatten)]
    jobs: Jobs,
    #[command(flatten)]
    seed: Seed,
}

// `mmfuzz erase2`.
#[derive(Args)]
struct Erase2Args {
    /// Folder of `.ops` files (default: $MMFUZZ_ERASE2_DIR or ../shared/data/maple-erase2).
    dir: Option<PathBuf>,
}

fn main() -> ExitCode {
    let command = match Cli::parse().command {
        Some(c) => c,
        // No command: `mmfuzz run` with its defaults.
        None => Cli::parse_from(["mmfuzz", "run"]).command.expect("run"),
    };
    let res = match command {
        Command::Run(a) => run::run(a),
        Command::Check(a) => check::check(a),
        Command::ImportMaps(a) => import_maps::import_maps(&a.file, a.out.as_deref()),
        Command::Configs(a) => configs::list(a.show.as_deref(), a.versions),
        Command::Versions => configs::list(None, true),
        Command::Replay(a) => corpus::replay(&a.paths, a.json.json),
        Command::Explain(a) => explain::explain_all(&a),
        Command::Minimize(a) => corpus::minimize(&a.file, a.save.as_deref()),
        Command::Corpus(CorpusCmd::Add(a)) => corpus::add(&a),
        Command::Maple(a) => maple::campaign(a.seconds, a.jobs.jobs, a.seed.seed),
        Command::Erase2(a) => maple::erase2(a.dir),
        Command::Coverage(a) => coverage::coverage(a),
        Command::Review(a) => review::review(a),
        Command::Merge(a) => merge::merge(a),
        Command::BenchSearch(a) => bench_search::bench_search(a),
    };
    match res {
        Ok(_) if progress::interrupted() => ExitCode::from(130),
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        // The reader has all it wanted (`| head`): not an error.
        Err(Stop::Closed) => ExitCode::SUCCESS,
        Err(Stop::BadInput(msg)) => {
            eprintln!("mmfuzz: {msg}");
            ExitCode::from(2)
        }
    }
}
