//! Ctrl-C as a switch that stops a campaign at its next scenario (a search at its next batch),
//! and the progress displays of `run` and `check`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use mmfuzz_harness::campaign;

static STOP: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// A switch Ctrl-C sets, saying it stops at the next `unit` (a second Ctrl-C exits at once,
/// status 130: corpus writes are atomic renames, so nothing is left half-written).
pub fn interrupt_switch(unit: &'static str) -> Arc<AtomicBool> {
    STOP.get_or_init(|| {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let installed = ctrlc::set_handler(move || {
            if s.swap(true, Ordering::Relaxed) {
                std::process::exit(130);
            }
            eprintln!("\nmmfuzz: stopping at the next {unit} (Ctrl-C again to quit now)");
        });
        if let Err(e) = installed {
            eprintln!("mmfuzz: Ctrl-C will not stop cleanly: {e}");
        }
        stop
    })
    .clone()
}

/// Ctrl-C was pressed (only a command that set up [`interrupt_switch`] can tell).
pub fn interrupted() -> bool {
    STOP.get().is_some_and(|s| s.load(Ordering::Relaxed))
}

/// Until `worker` ends: a progress bar on a terminal (executions, executions/s, violations so
/// far), else a plain line every 10 s and one at the start.
pub fn show_progress<T>(
    label: &str,
    time: Duration,
    live: &campaign::Live,
    worker: &std::thread::ScopedJoinHandle<'_, T>,
    tty: bool,
    json: bool,
) {
    let t0 = Instant::now();
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
            last_line = Instant::now();
        }
    }
    bar.finish_and_clear();
}

/// The progress of `check`: a spinner on a terminal (numbered steps, states, transitions,
/// states/s, resident memory), else a plain line every 10 s on standard error; nothing with
/// `--json`.
pub struct SearchProgress {
    label: String,
    bar: indicatif::ProgressBar,
    t0: Instant,
    /// When the last plain line was printed (`None`: no plain lines).
    last_line: Option<Instant>,
}

impl SearchProgress {
    /// The display for a search of `label` (the config).
    pub fn new(label: &str, json: bool) -> SearchProgress {
        let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let bar = if tty && !json {
            let b = indicatif::ProgressBar::new_spinner();
            b.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {prefix} {elapsed:>4} {msg}")
                    .expect("template"),
            );
            b.set_prefix(label.to_string());
            b.enable_steady_tick(Duration::from_millis(200));
            b
        } else {
            indicatif::ProgressBar::hidden()
        };
        let t0 = Instant::now();
        SearchProgress {
            label: label.to_string(),
            bar,
            t0,
            last_line: (!tty && !json).then_some(t0),
        }
    }

    /// After a batch: the level being expanded (numbered steps), states and transitions so far.
    pub fn update(&mut self, level: usize, states: u64, transitions: u64) {
        let figures = || {
            let secs = self.t0.elapsed().as_secs_f64().max(1e-9);
            let mem = rss_mib().map_or(String::new(), |m| format!(", {m} MiB"));
            format!(
                "numbered step {level}: {states} states, {transitions} transitions, {:.0} states/s{mem}",
                states as f64 / secs
            )
        };
        if let Some(last) = self.last_line {
            if last.elapsed() >= Duration::from_secs(10) {
                eprintln!(
                    "{}: {:.0} s, {}",
                    self.label,
                    self.t0.elapsed().as_secs_f64(),
                    figures()
                );
                self.last_line = Some(Instant::now());
            }
        } else if !self.bar.is_hidden() {
            self.bar.set_message(figures());
        }
    }

    /// Clear the spinner.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// This process's resident memory in MiB (`VmRSS`), where the kernel reports it.
fn rss_mib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 = s
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kib / 1024)
}
