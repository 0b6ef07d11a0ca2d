//! The maple-store target: operations, their generators, the oracle and the erase2 traces.

pub mod erase2;
pub mod exec;
pub mod ops;

pub use exec::{execute, execute_with, Check, Divergence, Stats};
pub use ops::{decode, expand, Gen, Op};
