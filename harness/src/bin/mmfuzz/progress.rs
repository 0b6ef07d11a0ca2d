//! Ctrl-C as a switch that stops a campaign at its next scenario, and the progress display of
//! `run`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use mmfuzz_harness::campaign;

static STOP: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// A switch Ctrl-C sets (a second Ctrl-C exits at once, status 130: corpus writes are
/// atomic renames, so nothing is left half-written).
pub fn interrupt_switch() -> Arc<AtomicBool> {
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
