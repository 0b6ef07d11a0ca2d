//! The executable model of the mm teardown paths: `exit_mmap`, the OOM reaper,
//! `process_mrelease`, `mmput`, interleaved one kernel primitive at a time.
//!
//! Paths are data ([`lang`]): each version of each path is a file of steps named after kernel
//! functions ([`prims`], one table), resolved per config ([`program`]) and executed by
//! [`World::step`](state::World) ([`interp`], whose modules are named after the kernel files
//! they model). A step reports [`Event`]s; the harness's oracles judge them against the
//! [`Invariant`]s. The kernel's vocabulary is in [`types`]. The built-in versions live in
//! `src/mm/kernel/*.mmp` ([`builtin`]).
//!
//! Data flow: `.mmp` → [`lang::parse`] → [`program::resolve`] → [`World::step`] → [`Event`]
//! → (harness) oracle → violation → shrink → corpus → report.

pub mod builtin;
pub mod cover;
pub mod event;
pub mod interp;
pub mod invariant;
pub mod lang;
mod pack;
pub mod prims;
pub mod program;
pub mod state;
pub mod types;

pub use event::{Event, Footprint, Loc};
pub use invariant::Invariant;
pub use lang::{Expect, LangError, VmaStore};
pub use pack::{Decoded, ThreadSpans};
pub use prims::{Prim, PrimInfo};
pub use program::Program;
pub use state::{Status, World};
pub use types::{show_mm_flags, Global, Lock, MmFlag, Role, Tid, VmaId};

#[cfg(test)]
mod testutil;
