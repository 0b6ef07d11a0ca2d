//! mmfuzz-harness: generators, oracles, corpus and CLI around the `mmfuzz` model.
//!
//! Layout after wasmtime's `crates/fuzzing`: each target has its operations and generators
//! (`ops`), its oracle (`exec`), and an entry point in [`targets`] that the cargo-fuzz targets,
//! bolero checks, proptests and the CLI all call.
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
