//! Executable references: obviously correct models that say what a result must be.
//!
//! [`RangeMap`] is the reference for the maple-style store in [`crate::maple`]; [`mm`] is the
//! reference MM state machine for the teardown paths in [`crate::mm`].

pub mod mm;
mod range_map;

pub use range_map::RangeMap;
