//! mmfuzz: an executable model of the Linux kernel's mm teardown paths.
//!
//! This crate is the model: the implementation under test ([`maple`], the VMA store) and the
//! references it is checked against ([`reference`]). It is plain data, cheap to clone and to
//! hash, and deterministic; it never depends on the harness (`mmfuzz-harness`).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod maple;
pub mod mm;
pub mod pack;
pub mod reference;
