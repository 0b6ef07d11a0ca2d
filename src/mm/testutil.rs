//! Helpers shared by the model's unit tests: a config from text, a world with one thread
//! running a path body, stepping to the end, the faults of a run.

use super::builtin::load_file;
use super::event::{Event, Loc};
use super::program::Program;
use super::state::{Status, World};
use super::types::{Role, Tid};

/// The first config of `text` (a config and its paths), resolved; panics with the error.
pub fn program(text: &str) -> Program {
    load_file("<test>", text)
        .unwrap_or_else(|e| panic!("{e}"))
        .remove(0)
}

/// A config whose only role, `exit`, runs `body` as its entry path (`exit_mm`).
pub fn one_path(store: &str, body: &str) -> Program {
    program(&format!(
        "config t {{\n  expect safe\n  store {store}\n  use exit_mm@t\n  role exit\n}}\n\
         path exit_mm@t kernel \"test\" {{\n{body}\n}}\n"
    ))
}

/// `world` (already set up) with the config's roles started, in `roles` order.
pub fn started(prog: &Program, mut world: World, roles: &[Role]) -> World {
    world.start(prog, roles);
    world
}

/// The thread of `role`.
pub fn thread_of(w: &World, role: Role) -> Tid {
    w.threads.iter().position(|t| t.role == role).unwrap() as Tid
}

/// Step `tid` until it returns or blocks (at most 100 steps); every event.
pub fn run_thread(prog: &Program, w: &mut World, tid: Tid) -> Vec<Event> {
    let mut ev = Vec::new();
    for _ in 0..100 {
        if w.threads[tid as usize].status != Status::Runnable {
            break;
        }
        w.step(prog, tid, &mut ev);
    }
    ev
}

/// `INV: message` of every fault.
pub fn faults(ev: &[Event]) -> Vec<String> {
    ev.iter()
        .filter_map(|e| match e {
            Event::Fault { inv, msg, .. } => Some(format!("{inv}: {msg}")),
            _ => None,
        })
        .collect()
}

/// The locations freed, in order.
pub fn frees(ev: &[Event]) -> Vec<Loc> {
    ev.iter()
        .filter_map(|e| match e {
            Event::Free { loc, .. } => Some(*loc),
            _ => None,
        })
        .collect()
}

/// A world with one anonymous, accounted VMA of 2 pages, faulted in (page tables allocated).
pub fn world_with_vma() -> World {
    let mut w = World::new();
    let v = w.setup_mmap(2, super::types::vm::VM_ACCOUNT, true).unwrap();
    w.setup_fault(v).unwrap();
    w
}
