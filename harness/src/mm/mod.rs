//! The mm teardown target: scenarios, the scheduler and executor, the oracles, the reports.

pub mod check;
pub mod exec;
pub mod maps;
pub mod oracle;
pub mod picture;
pub mod report;
pub mod scenario;
pub mod shrink;

pub use exec::{run, Opts, Outcome};
pub use oracle::Violation;
pub use scenario::{Scenario, Schedule, Setup, Thread};
