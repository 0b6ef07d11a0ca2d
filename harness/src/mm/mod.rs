//! The mm teardown target, by role:
//! - [`scenario`]: the input (set-up, threads, schedule), plain serde data;
//! - [`kernel_possible`]: the rules a set-up keeps to so that a kernel can create it;
//! - [`generate`]: scenarios from fuzzer bytes, proptest and a seeded RNG;
//! - [`sched`]: which runnable thread steps next (choices, segments, PCT);
//! - [`exec`]: one run, with the oracles after every step ([`exec::step_checked`]);
//! - [`oracle`]: the checks, one file per family;
//! - [`explore`]: the exhaustive search (every interleaving, breadth-first);
//! - [`shrink`]: shortest counterexamples; [`report`], [`picture`]: them, for people;
//! - [`maps`]: set-ups from a real `/proc/PID/maps`;
//! - [`coverage`]: which steps and branch directions of the paths executions reach.

pub mod bench_search;
pub mod coverage;
pub mod exec;
pub mod explore;
pub mod generate;
pub mod harm;
pub mod kernel_possible;
pub mod maps;
pub mod oracle;
pub mod picture;
pub mod report;
pub mod review;
pub mod review_page;
pub mod scenario;
pub mod sched;
pub mod shrink;

pub use exec::{run, Mechanism, Opts, Outcome};
pub use oracle::Violation;
pub use scenario::{Scenario, Schedule, Setup, Thread};
