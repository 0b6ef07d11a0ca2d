//! Nothing here: the bolero checks are `tests/*.rs`. They live in their own package because
//! `cargo bolero test` builds every test binary of the package it is given with coverage
//! instrumentation, and only binaries that use bolero link a fuzzer.
#![forbid(unsafe_code)]

pub use bolero;
