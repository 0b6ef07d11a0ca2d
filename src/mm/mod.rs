//! The executable model of the mm teardown paths: `exit_mmap`, the OOM reaper,
//! `process_mrelease`, `mmput`, interleaved one kernel primitive at a time.
//!
//! Paths are data ([`lang`]): each version of each path is a file of steps named after kernel
//! functions, resolved per config ([`program`]) and executed by [`World::step`](state::World)
//! ([`interp`]). The built-in versions live in `src/mm/kernel/*.mmp` ([`builtin`]).

pub mod builtin;
pub mod interp;
pub mod lang;
pub mod program;
pub mod state;

pub use interp::{Event, Loc, Lock};
pub use lang::{Expect, LangError, MmFlag, Prim, VmaStore};
pub use program::Program;
pub use state::{Role, Status, Tid, VmaId, World};

#[cfg(test)]
mod tests;
