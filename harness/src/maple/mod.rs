//! The maple-store target: operations and their generators (`ops`), the oracle (`oracle`: the
//! store against its reference and `mt_validate`), and the kernel's erase2 traces (`erase2`).

pub mod erase2;
pub mod ops;
pub mod oracle;

pub use ops::{decode, expand, Gen, Op};
pub use oracle::{execute, execute_with, Check, Divergence, Stats};
