//! What the commands share: how they end early, printing to standard output, `--jobs`,
//! `--seconds`, `--config` and `--setup` values, saving a case.

use std::path::Path;
use std::time::Duration;

use mmfuzz::mm::{builtin, Program};
use mmfuzz_harness::corpus::{self, Case, CorpusError, Saved};
use mmfuzz_harness::mm::{maps, scenario};

/// Why a command ended before its verdict.
pub enum Stop {
    /// Bad input (flags, files): the message names the file and the problem; exit status 2.
    BadInput(String),
    /// Standard output was closed (`mmfuzz configs | head -1`): end quietly.
    Closed,
}

/// Bad input: the message names the file and the problem; exit status 2.
pub struct BadInput(pub String);

impl From<BadInput> for Stop {
    fn from(b: BadInput) -> Stop {
        Stop::BadInput(b.0)
    }
}

/// A command's verdict: everything as expected or not, or why it stopped.
pub type CmdResult = Result<bool, Stop>;

/// The result of a write to standard output: a closed pipe ends the command quietly, any other
/// failure is reported (exit status 2) instead of a panic.
pub fn printed(res: std::io::Result<()>) -> Result<(), Stop> {
    match res {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Stop::Closed),
        Err(e) => Err(Stop::BadInput(format!("standard output: {e}"))),
    }
}

/// `println!` that returns [`Stop::Closed`] on a closed standard output instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        $crate::common::printed(writeln!(std::io::stdout(), $($arg)*))
    }};
}

/// `print!` that returns [`Stop::Closed`] on a closed standard output instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        $crate::common::printed(write!(std::io::stdout(), $($arg)*))
    }};
}

pub(crate) use {out, outln};

/// `--jobs`: at least one; every core when not given.
pub fn jobs_or_all(jobs: Option<usize>) -> Result<usize, BadInput> {
    let j = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if j == 0 {
        return Err(BadInput("--jobs 0: need at least one job".into()));
    }
    Ok(j)
}

/// `--seconds`: a positive number.
pub fn check_seconds(seconds: f64) -> Result<Duration, BadInput> {
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(BadInput(format!(
            "--seconds {seconds}: must be a positive number"
        )));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// A rayon pool of `--jobs` worker threads (every core if not given).
pub fn pool(jobs: Option<usize>) -> Result<rayon::ThreadPool, BadInput> {
    let jobs = jobs_or_all(jobs)?;
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| BadInput(format!("--jobs {jobs}: {e}")))
}

/// Read a set-up file (`import-maps` output) for `--setup`.
pub fn load_setup(path: Option<&Path>) -> Result<Option<Vec<scenario::Setup>>, BadInput> {
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

/// Resolve `--config` arguments: built-in names or files (none: every built-in config).
pub fn programs(configs: &[String]) -> Result<Vec<Program>, BadInput> {
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

/// Save `case` into the corpus folder `dir`, saying so on standard error.
pub fn save_case(dir: &Path, case: &Case) -> Result<(), BadInput> {
    match corpus::save(dir, case).map_err(|e| BadInput(e.to_string()))? {
        Saved::New(p) => eprintln!("saved {}", p.display()),
        Saved::Duplicate(p) => eprintln!("already in the corpus as {}", p.display()),
        Saved::SameShape(p) => eprintln!(
            "not saved: a duplicate of {} (same config, invariant and steps; its set-up may differ)",
            p.display()
        ),
    }
    Ok(())
}

/// Where the counterexample is kept; a failure to save is said on standard error and does not
/// stop the command.
pub fn saved_or_warn(res: Result<Saved, CorpusError>) -> Option<Saved> {
    match res {
        Ok(p) => Some(p),
        Err(e) => {
            eprintln!("mmfuzz: could not save the counterexample: {e}");
            None
        }
    }
}

/// Write a file the user asked for (`--svg`, `--html`, `--out`) atomically.
pub fn write_file(path: &Path, text: &str) -> Result<(), BadInput> {
    corpus::write_atomic(path, text).map_err(|e| BadInput(e.to_string()))
}

/// Print one `--json` row (an object of `mmfuzz_harness::rows`) as a line.
pub fn json_line<T: serde::Serialize>(row: &T) -> Result<(), Stop> {
    outln!("{}", serde_json::to_string(row).expect("a row serializes"))
}
