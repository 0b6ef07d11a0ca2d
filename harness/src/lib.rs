//! mmfuzz-harness: generators, schedulers, oracles, shrinking, corpus and CLI around the
//! `mmfuzz` model.
//!
//! Two targets, each laid out by role as in wasmtime's `crates/fuzzing`: [`mm`] (scenario,
//! generate, sched, exec, oracle, explore, shrink, report) and [`maple`] (ops and their
//! generators, its oracle, the kernel's erase2 traces). [`targets`] holds the entry
//! points the cargo-fuzz targets, bolero checks, proptests and the CLI all call; [`rows`] the
//! `--json` contract; [`corpus`] the case files; [`rng`] the only randomness.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod campaign;
pub mod corpus;
pub mod maple;
pub mod minimize;
pub mod mm;
pub mod rng;
pub mod rows;
pub mod targets;
