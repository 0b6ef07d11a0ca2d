//! Unit tests of primitive semantics, each on a tiny config written in the path language.

use super::builtin::load_file;
use super::event::Event;
use super::program::Program;
use super::state::World;
use super::types::Lock;
use super::types::Role;

fn program(text: &str) -> Program {
    load_file("<test>", text)
        .unwrap_or_else(|e| panic!("{e}"))
        .remove(0)
}

fn thread_of(w: &World, role: Role) -> u8 {
    w.threads.iter().position(|t| t.role == role).unwrap() as u8
}

fn faults(ev: &[Event]) -> Vec<String> {
    ev.iter()
        .filter_map(|e| match e {
            Event::Fault { inv, msg, .. } => Some(format!("{inv}: {msg}")),
            _ => None,
        })
        .collect()
}

/// `freeze_task` makes its `freezing(p) || frozen(p)` test under `freezer_lock` (v4.7.4
/// kernel/freezer.c:131-135): while the victim holds the lock inside `__refrigerator`, with
/// `PF_FROZEN` set for a moment, the freezer spins instead of reading the transient flag.
#[test]
fn freeze_task_waits_for_freezer_lock() {
    let prog = program(
        r#"
config t {
  expect safe
  freezer v4.9
  use pm_suspend@t victim_task@t
  role pm user
}
path pm_suspend@t kernel "test" {
  system_freezing_cnt_inc
  set_global pm_freezing
  task_first
  if freeze_task {
    count_inc
  }
}
path victim_task@t kernel "test" {
  spin_lock freezer_lock
  set_frozen
  clear_frozen
  spin_unlock freezer_lock
}
"#,
    );
    let mut w = World::new();
    w.start(&prog, &[Role::Pm, Role::User]);
    let (pm, user) = (thread_of(&w, Role::Pm), thread_of(&w, Role::User));
    let mut ev = Vec::new();
    for _ in 0..3 {
        w.step(&prog, pm, &mut ev); // freezing on, cursor on the victim
    }
    w.step(&prog, user, &mut ev); // spin_lock freezer_lock
    w.step(&prog, user, &mut ev); // set_frozen: PF_FROZEN, transiently
    assert!(w.threads[user as usize].frz.frozen);
    let before = w.next_insn(pm);
    assert_eq!(w.step(&prog, pm, &mut ev), None, "freeze_task spins");
    assert_eq!(w.next_insn(pm), before);
    w.step(&prog, user, &mut ev); // clear_frozen
    w.step(&prog, user, &mut ev); // spin_unlock
    assert_eq!(
        w.step(&prog, pm, &mut ev),
        Some(true),
        "the victim is freezing and not frozen: freeze_task sends it a wakeup"
    );
    assert!(faults(&ev).is_empty(), "{:?}", faults(&ev));
}

/// I10 at every return: a path that returns holding a lock it took is reported, naming the
/// path and the lock; an early return counts as a return.
#[test]
fn a_path_returning_with_a_lock_held_is_i10() {
    let prog = program(
        r#"
config t {
  expect safe
  use out_of_memory@t
  role oom_kill
}
path out_of_memory@t kernel "test" {
  task_lock
  if select_bad_process {
    return true
  }
  task_unlock
}
"#,
    );
    let mut w = World::new();
    w.start(&prog, &[Role::OomKill]);
    let mut ev = Vec::new();
    w.step(&prog, 0, &mut ev); // task_lock
    w.step(&prog, 0, &mut ev); // select_bad_process → true: early return
    assert_eq!(
        faults(&ev),
        vec!["I10: out_of_memory@t returned holding task_lock".to_string()]
    );
    assert!(w.all_done());
}

/// A reader may take an unowned `mmap_lock` past a queued writer only with `rwsem steal`
/// (reader optimistic lock stealing); a woken writer then finds it held and waits again.
#[test]
fn readers_steal_an_unowned_mmap_lock_only_where_the_kernel_does() {
    let text = |rwsem: &str| {
        format!(
            r#"
config t {{
  expect safe
  rwsem {rwsem}
  use exit_mm@t proc_reader@t process_mrelease@t
  role exit proc mrelease
}}
path exit_mm@t kernel "test" {{
  mmap_write_lock
  mmap_write_unlock
}}
path proc_reader@t kernel "test" {{
  mmap_read_lock
  mmap_read_unlock
}}
path process_mrelease@t kernel "test" {{
  mmap_read_lock
  mmap_read_unlock
}}
"#
        )
    };
    for (rwsem, steals) in [("fifo", false), ("steal", true)] {
        let prog = program(&text(rwsem));
        let mut w = World::new();
        w.start(&prog, &[Role::Exit, Role::Proc, Role::Mrelease]);
        let (writer, r1, r2) = (0, 1, 2);
        let mut ev = Vec::new();
        assert_eq!(w.step(&prog, r1, &mut ev), Some(true)); // R held
        assert_eq!(w.step(&prog, writer, &mut ev), None); // the writer queues
        assert_eq!(w.step(&prog, r1, &mut ev), Some(true)); // R released: the writer is woken
        assert!(w.runnable().any(|t| t == writer), "{rwsem}: woken writer");
        assert!(
            w.held_by(writer).is_empty(),
            "{rwsem}: it must retake the lock itself"
        );
        let got = w.step(&prog, r2, &mut ev) == Some(true);
        assert_eq!(got, steals, "{rwsem}: a new reader with the lock unowned");
        let writer_got = w.step(&prog, writer, &mut ev) == Some(true);
        assert_eq!(writer_got, !steals, "{rwsem}: the woken writer");
        assert!(w
            .held_by(if steals { r2 } else { writer })
            .contains(&(Lock::MmapLock, steals)));
        assert!(faults(&ev).is_empty(), "{:?}", faults(&ev));
    }
}
