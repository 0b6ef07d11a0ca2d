//! What a verdict names: the invariants of `kernel-paths.md` §4 (I1–I13, I12s) and the
//! generic checks (data race, lock order, deadlock, liveness, the reference). One type for
//! model faults, oracles, expected verdicts, reports and JSON; its text form ([`Invariant::name`])
//! is the one corpus files and the `--json` contract use. `docs/invariants.md` says where each
//! is checked.

use std::fmt;

/// An invariant a step or a run can break.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Invariant {
    /// Page tables are freed only under `mmap_lock` held for write, and no one reads them after.
    I1,
    /// Every reaper / `process_mrelease` VMA walk and unmap happens under `mmap_read_lock`.
    I2,
    /// `exit_mmap` sets `MMF_OOM_SKIP` before the write lock that precedes `free_pgtables`.
    I3,
    /// No stale head: whenever the lock is dropped after VMAs were freed, readers cannot reach them.
    I4,
    /// No use after free of a VMA; a `remove_vma`'d VMA is unreachable from the mm.
    I5,
    /// Parent isolation at an `XA_ZERO` marker (v6.8+).
    I6,
    /// Counting: VMAs removed == `map_count`; each `VM_ACCOUNT` VMA unaccounted once.
    I7,
    /// Refcounts: `mm_users`, `mm_count` and task references never underflow, and balance.
    I8,
    /// Queue shape: `oom_reaper_list` acyclic, a task on it once, touched under its lock.
    I9,
    /// Lock balance: each path releases what it takes on every exit; no lock misuse.
    I10,
    /// `oom_victims` == tasks with `TIF_MEMDIE`; `exit_oom_victim` once per marking.
    I11,
    /// The freeze barrier `oom_killer_disable()` promises: no OOM victim runs user-visible work
    /// once user space is claimed frozen.
    I12,
    /// The strict barrier: no user task but the suspending one runs between
    /// `freeze_processes()` returning 0 and `freeze_kernel_threads()`.
    I12s,
    /// Freezable kthreads (the reaper) freeze only after `pm_nosig_freezing`.
    I13,
    /// Per-VMA locks (v6.4+): a VMA is write-locked under `mmap_write_lock` before it is
    /// detached, and not detached or freed while a reader holds its lock; a page fault uses
    /// only a VMA whose lock it holds (or `mmap_lock`) and that it re-checked as attached.
    I14,
    /// RCU: nothing a reader inside an `rcu_read_lock` section can reach is freed without a
    /// grace period; lockless tree walks happen inside such a section.
    I15,
    /// A data race on a modelled location (no happens-before between a write and another access).
    Race,
    /// Two locks taken in both orders (lockdep's circular dependency).
    LockOrder,
    /// Every live thread waits for a lock or a wakeup that no one will give.
    Deadlock,
    /// A thread spins or loops forever (no progress within the step bound).
    Liveness,
    /// The end state differs from the reference state machine's.
    Reference,
}

impl Invariant {
    /// Every invariant, in order.
    pub const ALL: [Invariant; 21] = [
        Invariant::I1,
        Invariant::I2,
        Invariant::I3,
        Invariant::I4,
        Invariant::I5,
        Invariant::I6,
        Invariant::I7,
        Invariant::I8,
        Invariant::I9,
        Invariant::I10,
        Invariant::I11,
        Invariant::I12,
        Invariant::I12s,
        Invariant::I13,
        Invariant::I14,
        Invariant::I15,
        Invariant::Race,
        Invariant::LockOrder,
        Invariant::Deadlock,
        Invariant::Liveness,
        Invariant::Reference,
    ];

    /// The text form (`I4`, `I12s`, `race`, `lock-order`, …), as in corpus files and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Invariant::I1 => "I1",
            Invariant::I2 => "I2",
            Invariant::I3 => "I3",
            Invariant::I4 => "I4",
            Invariant::I5 => "I5",
            Invariant::I6 => "I6",
            Invariant::I7 => "I7",
            Invariant::I8 => "I8",
            Invariant::I9 => "I9",
            Invariant::I10 => "I10",
            Invariant::I11 => "I11",
            Invariant::I12 => "I12",
            Invariant::I12s => "I12s",
            Invariant::I13 => "I13",
            Invariant::I14 => "I14",
            Invariant::I15 => "I15",
            Invariant::Race => "race",
            Invariant::LockOrder => "lock-order",
            Invariant::Deadlock => "deadlock",
            Invariant::Liveness => "liveness",
            Invariant::Reference => "reference",
        }
    }

    /// Parse the text form.
    pub fn parse(s: &str) -> Option<Invariant> {
        Invariant::ALL.into_iter().find(|i| i.name() == s)
    }

    /// Parse `I4/I5`: several invariants, any of which a `bug` verdict may name.
    pub fn parse_list(s: &str) -> Result<Vec<Invariant>, String> {
        s.split('/')
            .map(|w| {
                Invariant::parse(w).ok_or_else(|| {
                    let all: Vec<&str> = Invariant::ALL.iter().map(|i| i.name()).collect();
                    format!("unknown invariant {w:?} ({})", all.join(", "))
                })
            })
            .collect()
    }

    /// `I4/I5`.
    pub fn show_list(list: &[Invariant]) -> String {
        let v: Vec<&str> = list.iter().map(|i| i.name()).collect();
        v.join("/")
    }
}

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back() {
        for i in Invariant::ALL {
            assert_eq!(Invariant::parse(i.name()), Some(i));
        }
        assert_eq!(
            Invariant::parse_list("I4/I5"),
            Ok(vec![Invariant::I4, Invariant::I5])
        );
        assert!(Invariant::parse_list("I4/I99")
            .unwrap_err()
            .contains("\"I99\""));
        assert_eq!(
            Invariant::show_list(&[Invariant::I1, Invariant::I5]),
            "I1/I5"
        );
    }
}
