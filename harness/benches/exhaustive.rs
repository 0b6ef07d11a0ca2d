//! Exhaustive checking, measured: `mmfuzz check` (`explore::search`) with and without its
//! deduplication, reductions (`docs/reductions.md`) and encoded frontier, with the peak memory of
//! each search, against [loom] on a small hand-written model of the same race, all in one run
//! on one machine.
//!
//! - mmfuzz: the bug config `v5.17-rc3` (syzbot 2ccf63a4bd07cf39cab0, "KASAN: use-after-free
//!   Read in __oom_reap_task_mm"), its fix `v5.17` (f798a1d4f94d, `mm->mmap = NULL`) and
//!   `v6.1`, each with every combination of dedup × reduce at 3 threads, and the full search at
//!   the other thread counts the loom rows use; v6.1 with the happens-before detector (the
//!   clock abstraction, and the shared expansion: `share` off expands each way alone) and
//!   v4.7 at 4 threads and 2 preemptions (the preemption subsumption), with and without the
//!   reductions. Runs without dedup never finish (the state graph unfolds into a tree), so
//!   they stop at [`NO_DEDUP_CAP`] states and say so.
//! - loom: [`race`], the exiting task's `exit_mmap` against `process_mrelease` callers, with
//!   loom's `RwLock`, `Mutex` and atomics: the time and iterations until loom reports the
//!   use-after-free, and those of a complete exploration of the fixed model.
//!
//! - the reductions against the unreduced search on every bug config and every review mutant
//!   of three `exit_mmap` versions ([`soundness`]; alone: `-- soundness`).
//!
//! Prints markdown tables to stdout and writes no file. Run with
//! `cargo bench -p mmfuzz-harness --bench exhaustive` (a few minutes on two cores).
#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

use mmfuzz::mm::builtin;
use mmfuzz_harness::mm::explore::{self, Bounds, VmaKind};

/// Dedup, reduce, compact, share ([`Bounds`]'s flags of those names).
type Combo = (bool, bool, bool, bool);

/// Where a search without deduplication stops.
const NO_DEDUP_CAP: u64 = 1_000_000;

/// One row of the table.
struct Row {
    tool: &'static str,
    model: String,
    bounds: String,
    dedup: &'static str,
    reduce: &'static str,
    compact: &'static str,
    share: &'static str,
    /// Peak resident memory of the search in a process of its own, MiB (where the system
    /// tells; not for loom's rows, which run in this process).
    peak_mib: Option<f64>,
    /// States settled (mmfuzz) or executions explored (loom).
    count: u64,
    transitions: Option<u64>,
    /// Steps taken (mmfuzz; fewer than the transitions where ways into a world share its
    /// expansion).
    taken: Option<u64>,
    secs: f64,
    /// Stopped at a cap: the counts and time are lower bounds.
    truncated: bool,
    verdict: String,
    /// The row (index) this one is compared with.
    reference: Option<usize>,
}

impl Row {
    fn rate(&self) -> f64 {
        self.count as f64 / self.secs.max(1e-9)
    }
}

/// Run `f` up to three times (fewer once two seconds have gone) and keep the fastest time, since
/// another process may share the cores; returns the last result and that time.
fn best<T>(mut f: impl FnMut() -> T) -> (T, f64) {
    let (mut min, mut total) = (f64::INFINITY, 0.0);
    for run in 1.. {
        let t0 = Instant::now();
        let out = f();
        let secs = t0.elapsed().as_secs_f64();
        min = min.min(secs);
        total += secs;
        if run == 3 || total >= 2.0 {
            return (out, min);
        }
    }
    unreachable!()
}

/// The peak memory of the same search in a process of its own (`mmfuzz check --json`, its
/// `peak_rss_kib`), MiB: in this process the allocator keeps what earlier rows freed, so only
/// a fresh process tells one search's memory. `None` where the system does not tell.
fn peak_alone(b: &Bounds, config: &str) -> Option<f64> {
    let races = if b.hb { "hb" } else { "coenabled" };
    let (cpus, states) = (b.threads.to_string(), b.max_states.to_string());
    let mut args = vec![
        "check",
        "--config",
        config,
        "--cpus",
        &cpus,
        "--vmas",
        "1",
        "--menu",
        "anon",
        "--races",
        races,
        "--max-states",
        &states,
        "--force",
        "--json",
        "--out",
    ];
    let out_dir = std::env::temp_dir().join("mmfuzz-bench-exhaustive");
    let out_dir = out_dir.to_str()?.to_string();
    args.push(&out_dir);
    let pre = b.preemptions.map(|p| p.to_string());
    if let Some(p) = &pre {
        args.extend(["--preemptions", p]);
    }
    for (on, flag) in [
        (b.dedup, "--no-dedup"),
        (b.reduce, "--no-reduce"),
        (b.compact, "--no-compact"),
        (b.share, "--no-share"),
    ] {
        if !on {
            args.push(flag);
        }
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mmfuzz"))
        .args(&args)
        .output()
        .ok()?;
    let row: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    Some(row["peak_rss_kib"].as_u64()? as f64 / 1024.0)
}

/// `mmfuzz check` on a built-in config at `threads` threads, at most `preemptions`, and 1
/// anonymous VMA, races co-enabled (or by the happens-before detector, `hb`), for each
/// (dedup, reduce, compact, share) of `combos`; the first is the full search and the
/// reference of the others. Returns the full row's index.
fn mmfuzz(
    (config, threads, preemptions, hb): (&'static str, usize, Option<u8>, bool),
    combos: &[Combo],
    rows: &mut Vec<Row>,
) -> usize {
    let prog = builtin::program(config).expect("a built-in config");
    let full = rows.len();
    for &(dedup, reduce, compact, share) in combos {
        let b = Bounds {
            threads,
            vmas: 1,
            menu: vec![VmaKind::Anon],
            hb,
            preemptions,
            dedup,
            reduce,
            compact,
            share,
            max_states: if dedup { 20_000_000 } else { NO_DEDUP_CAP },
            max_memory: None,
            ..Bounds::default()
        };
        let roots = explore::roots(&prog, &b);
        let (rep, secs) =
            best(|| explore::search(&prog, &b, &roots, |_, _, _| {}).expect("the search runs"));
        let peak_mib = peak_alone(&b, config);
        let verdict = match (&rep.counterexample, rep.steps) {
            (Some((_, v)), Some(n)) => format!("{} in {n} numbered step(s)", v.inv),
            _ if rep.truncated => format!("**truncated** after {} levels: no verdict", rep.levels),
            _ => "no violation (complete)".into(),
        };
        rows.push(Row {
            tool: "mmfuzz",
            model: config.into(),
            bounds: format!(
                "{threads} threads, 1 VMA {{anon}}, races {}, preemptions {} ({} roots)",
                if hb { "hb" } else { "coenabled" },
                preemptions.map_or("unbounded".into(), |p| format!("≤ {p}")),
                rep.roots
            ),
            dedup: if dedup { "on" } else { "off" },
            reduce: if reduce { "on" } else { "off" },
            compact: if compact { "on" } else { "off" },
            share: if share { "on" } else { "off" },
            peak_mib,
            count: rep.states,
            transitions: Some(rep.transitions),
            taken: Some(rep.taken),
            secs,
            truncated: rep.truncated,
            verdict,
            reference: (rows.len() != full).then_some(full),
        });
    }
    full
}

/// A small loom model of the v5.17-rc3 race: the exiting task (`exit_mm`, then `exit_mmap`)
/// against `process_mrelease` callers. The VMA list is an arena indexed by `vm_next`.
mod race {
    use loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use loom::sync::{Arc, Mutex, RwLock};

    const NIL: usize = usize::MAX;

    /// `struct vm_area_struct`: `vm_next`, and whether `remove_vma` has freed it.
    struct Vma {
        next: usize,
        freed: AtomicBool,
    }

    /// `struct mm_struct`.
    struct Mm {
        /// `mmap_lock`, guarding `mm->mmap` (the head of the VMA list).
        mmap_lock: RwLock<usize>,
        /// `MMF_OOM_SKIP` in `mm->flags`.
        oom_skip: AtomicBool,
        vmas: Vec<Vma>,
    }

    /// The exiting task: `task_lock` guarding whether `task->mm` is set.
    struct Task {
        mm: Mutex<bool>,
    }

    /// `exit_mm` (kernel/exit.c): `task->mm = NULL` under `task_lock`, then the last `mmput`
    /// runs `exit_mmap` (mm/mmap.c, v5.17-rc3 after 64591e8605d6). The task is not an OOM
    /// victim, so `MMF_OOM_SKIP` stays clear; under `mmap_write_lock` every VMA is freed
    /// (`remove_vma`), and `mm->mmap` is left pointing at the first one unless `fixed`
    /// (f798a1d4f94d, v5.17-rc6: `mm->mmap = NULL` before `mmap_write_unlock`).
    fn exit(task: &Task, mm: &Mm, fixed: bool) {
        *task.mm.lock().unwrap() = false;
        let mut head = mm.mmap_lock.write().unwrap();
        let mut v = *head;
        while v != NIL {
            mm.vmas[v].freed.store(true, SeqCst);
            v = mm.vmas[v].next;
        }
        if fixed {
            *head = NIL;
        }
    }

    /// `process_mrelease` (mm/oom_kill.c, ba535c1caf3e): `find_lock_task_mm`, `mmgrab` (the
    /// `Arc`), `task_will_free_mem` (true for an exiting task without `MMF_OOM_SKIP`),
    /// `task_unlock`; then under `mmap_read_lock`, if `MMF_OOM_SKIP` is still clear,
    /// `__oom_reap_task_mm` walks `mm->mmap` and reads each VMA's flags: reading a freed VMA
    /// is the use-after-free KASAN reported.
    fn mrelease(task: &Task, mm: &Mm) {
        let t = task.mm.lock().unwrap();
        if !*t {
            return; // -ESRCH
        }
        let reap = !mm.oom_skip.load(SeqCst);
        drop(t);
        if !reap {
            return; // -EINVAL
        }
        let head = mm.mmap_lock.read().unwrap();
        if mm.oom_skip.load(SeqCst) {
            return;
        }
        let mut v = *head;
        while v != NIL {
            assert!(
                !mm.vmas[v].freed.load(SeqCst),
                "use-after-free: __oom_reap_task_mm reads VMA {v} freed by exit_mmap"
            );
            v = mm.vmas[v].next;
        }
    }

    /// One execution: `vmas` VMAs, the exiting task on the main thread, `callers` threads
    /// calling `process_mrelease`.
    pub fn model(vmas: usize, callers: usize, fixed: bool) {
        let mm = Arc::new(Mm {
            mmap_lock: RwLock::new(if vmas == 0 { NIL } else { 0 }),
            oom_skip: AtomicBool::new(false),
            vmas: (0..vmas)
                .map(|i| Vma {
                    next: if i + 1 < vmas { i + 1 } else { NIL },
                    freed: AtomicBool::new(false),
                })
                .collect(),
        });
        let task = Arc::new(Task {
            mm: Mutex::new(true),
        });
        let hs: Vec<_> = (0..callers)
            .map(|_| {
                let (mm, task) = (mm.clone(), task.clone());
                loom::thread::spawn(move || mrelease(&task, &mm))
            })
            .collect();
        exit(&task, &mm, fixed);
        for h in hs {
            h.join().unwrap();
        }
    }
}

/// Run loom on [`race::model`] to the first failure or to the end of the exploration.
fn loom_row(
    vmas: usize,
    callers: usize,
    preemptions: Option<usize>,
    fixed: bool,
    reference: usize,
) -> Row {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let ((failed, count), secs) = best(|| {
        let iters = std::sync::Arc::new(AtomicU64::new(0));
        let n = iters.clone();
        let mut b = loom::model::Builder::new();
        b.preemption_bound = preemptions;
        b.checkpoint_file = None;
        let failed = std::panic::catch_unwind(move || {
            b.check(move || {
                n.fetch_add(1, Relaxed);
                race::model(vmas, callers, fixed);
            })
        })
        .is_err();
        (failed, iters.load(Relaxed))
    });
    std::panic::set_hook(hook);
    Row {
        tool: "loom 0.7",
        model: if fixed {
            "race model + f798a1d4f94d"
        } else {
            "race model, v5.17-rc3"
        }
        .into(),
        bounds: format!(
            "{} threads (exit + {callers} process_mrelease), {vmas} VMA{}, preemptions {}",
            callers + 1,
            if vmas == 1 { "" } else { "s" },
            preemptions.map_or("unbounded".into(), |p| format!("≤ {p}")),
        ),
        dedup: "–",
        reduce: "–",
        compact: "–",
        share: "–",
        peak_mib: None,
        count,
        transitions: None,
        taken: None,
        secs,
        truncated: false,
        verdict: if failed {
            format!("use-after-free in iteration {count}")
        } else {
            "no failure (complete)".into()
        },
        reference: Some(reference),
    }
}

fn main() {
    // `cargo bench --bench exhaustive -- soundness`: that table alone.
    if std::env::args().any(|a| a == "soundness") {
        soundness();
        return;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "# Exhaustive checking: mmfuzz check vs loom\n\n\
         Machine: {cores} core(s) (`available_parallelism`); every row is from this one run, \
         each time the best of up to three runs. mmfuzz expands each level on rayon's pool \
         ({cores} threads); loom runs on one thread. Counts are distinct states for mmfuzz, \
         complete executions (iterations) for loom. `ref` is the row a ratio is taken against: \
         mmfuzz's full search (dedup and reduce on) of the same config, threads and preemption \
         bound; for loom, of the same race (v5.17-rc3 for the bug, v5.17 for the fix).\n"
    );
    let all: [Combo; 6] = [
        (true, true, true, true),
        (true, false, true, true),
        (false, true, true, true),
        (false, false, true, true),
        (true, true, false, true),
        // Each way into a world expanded alone (`--no-share`; it matters with the
        // happens-before detector and no preemption bound).
        (true, true, true, false),
    ];
    let mut rows = Vec::new();
    let mut refs = std::collections::HashMap::new();
    for (config, threads, pre, hb, combos) in [
        ("v5.17-rc3", 3, None, false, &all[..5]),
        ("v5.17", 3, None, false, &all[..5]),
        ("v6.1", 3, None, false, &all[..5]),
        // The clock abstraction (happens-before detector), the shared expansion and the
        // preemption subsumption.
        ("v6.1", 3, None, true, &[all[0], all[1], all[5]]),
        ("v4.7", 4, Some(2), false, &all[..2]),
        ("v5.17-rc3", 2, None, false, &all[..1]),
        ("v5.17", 2, None, false, &all[..1]),
        ("v5.17-rc3", 4, Some(2), false, &all[..1]),
        ("v5.17", 4, Some(2), false, &all[..1]),
        ("v5.17-rc3", 4, None, false, &all[..1]),
        ("v5.17", 4, None, false, &all[..1]),
    ] {
        let full = mmfuzz((config, threads, pre, hb), combos, &mut rows);
        if !hb {
            refs.insert((config, threads, pre.map(usize::from)), full);
        }
    }
    // Unbounded, loom finds the 4-thread bug but does not finish the fixed model (note below).
    let loom = [
        (1, 1, None),
        (2, 1, None),
        (1, 2, None),
        (2, 2, None),
        (3, 2, None),
        (1, 3, Some(2)),
    ];
    for (vmas, callers, pre) in loom {
        for fixed in [false, true] {
            let config = if fixed { "v5.17" } else { "v5.17-rc3" };
            let r = refs[&(config, callers + 1, pre)];
            rows.push(loom_row(vmas, callers, pre, fixed, r));
        }
    }
    rows.push(loom_row(1, 3, None, false, refs[&("v5.17-rc3", 4, None)]));
    println!(
        "| # | tool | model | bounds | dedup | reduce | compact | share | states / iterations | transitions | steps taken | time (s) | per s | peak MiB | ref | per s vs ref | states vs ref | time vs ref | memory vs ref | verdict |"
    );
    println!(
        "|---:|---|---|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    );
    for (i, r) in rows.iter().enumerate() {
        let at_least = if r.truncated { "≥ " } else { "" };
        let vs = |f: fn(&Row) -> f64, same_unit: bool| {
            r.reference.filter(|_| same_unit).map_or("–".into(), |j| {
                format!("{at_least}{:.2}×", f(r) / f(&rows[j]))
            })
        };
        let memory = match (r.peak_mib, r.reference.and_then(|j| rows[j].peak_mib)) {
            (Some(m), Some(base)) if base > 0.0 => format!("{at_least}{:.2}×", m / base),
            _ => "–".into(),
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {at_least}{} | {} | {} | {at_least}{:.4} | {:.0} | {} | {} | {} | {} | {} | {memory} | {} |",
            i + 1,
            r.tool,
            r.model,
            r.bounds,
            r.dedup,
            r.reduce,
            r.compact,
            r.share,
            r.count,
            r.transitions.map_or("–".into(), |t| t.to_string()),
            r.taken.map_or("–".into(), |t| t.to_string()),
            r.secs,
            r.rate(),
            r.peak_mib.map_or("–".into(), |m| format!("{m:.0}")),
            r.reference.map_or("–".into(), |j| format!("#{}", j + 1)),
            r.reference
                .map_or("–".into(), |j| format!("{:.2}×", r.rate() / rows[j].rate())),
            vs(|r| r.count as f64, r.tool == "mmfuzz"),
            vs(|r| r.secs, true),
            r.verdict
        );
    }
    println!(
        "\nmmfuzz's v5.17-rc3 verdict is I4 (`mm->mmap` still points at freed VMAs when \
         `mmap_write_unlock` runs), which the exit thread breaks alone; loom has no such \
         invariant and must reach the use-after-free itself (process_mrelease takes \
         `task_lock` before `exit_mm` and `mmap_read_lock` after `exit_mmap`'s unlock, two \
         preemptions). mmfuzz's threads are the exiting task plus any of the config's other \
         roles (reaper, process_mrelease, /proc reader, OOM killer); loom's are the exiting task \
         plus process_mrelease callers. Without dedup the search stops at {NO_DEDUP_CAP} states \
         (`≥`: lower bounds). Unbounded, loom's fixed 4-thread model did not finish in 15 \
         minutes (measured separately), hence its row at two preemptions."
    );
    soundness();
}

/// The reductions against the unreduced search, in full: every bug config (each family, with
/// and without the happens-before detector) and every review mutant of three `exit_mmap`
/// versions, at two CPUs and one VMA; a violation exactly when the unreduced search finds one,
/// in as many numbered steps (the sample of `harness/tests/reduction.rs`, here complete).
fn soundness() {
    use mmfuzz::mm::{Expect, Program};
    use mmfuzz_harness::mm::generate::Family;
    use mmfuzz_harness::mm::review;
    let small = |hb| Bounds {
        threads: 2,
        vmas: 1,
        menu: vec![VmaKind::Anon, VmaKind::File],
        hb,
        max_states: 200_000,
        max_memory: None,
        ..Bounds::default()
    };
    // (compared, agreeing, broken, states reduced, states unreduced, incomplete)
    let tally = |prog: &Program, b: &Bounds, roots: &[explore::Root], t: &mut [u64; 6]| {
        let on = explore::search(prog, b, roots, |_, _, _| {});
        let off = Bounds {
            reduce: false,
            ..b.clone()
        };
        let off = explore::search(prog, &off, roots, |_, _, _| {});
        let (Ok(on), Ok(off)) = (on, off) else {
            return;
        };
        if on.truncated || off.truncated {
            t[5] += 1;
            return;
        }
        let verdict = |r: &explore::Report| (r.counterexample.is_some(), r.steps);
        t[0] += 1;
        t[1] += u64::from(verdict(&on) == verdict(&off));
        t[2] += u64::from(off.counterexample.is_some());
        t[3] += on.states;
        t[4] += off.states;
    };
    println!(
        "\n## The reductions against the unreduced search\n\n\
         | population | compared | same verdict and length | with a violation | states reduced | states unreduced | ratio | incomplete (skipped) |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|"
    );
    let row = |what: &str, t: &[u64; 6]| {
        println!(
            "| {what} | {} | {} | {} | {} | {} | {:.2}× | {} |",
            t[0],
            t[1],
            t[2],
            t[3],
            t[4],
            t[4] as f64 / t[3].max(1) as f64,
            t[5]
        )
    };
    // Each family at the bounds `harness/tests/exhaustive.rs` finds the bug configs' violations
    // at (the suspend family at 4 threads and 2 preemptions, the others at 3 threads).
    let at = |family: Family, hb: bool| {
        let (threads, vmas, preemptions) = match family {
            Family::Suspend => (4, 1, Some(2)),
            Family::Cgroup => (3, 1, Some(2)),
            Family::Fork => (3, 2, None),
            Family::Teardown => (3, 1, None),
        };
        Bounds {
            threads,
            vmas,
            preemptions,
            menu: vec![VmaKind::Anon, VmaKind::File, VmaKind::Mlock],
            max_states: 2_000_000,
            ..small(hb)
        }
    };
    let mut t = [0u64; 6];
    for prog in builtin::programs() {
        if !matches!(prog.config.expect, Expect::Bug(_)) {
            continue;
        }
        for family in Family::offered(&prog.offered()) {
            for hb in [true, false] {
                let b = at(family, hb);
                let roots: Vec<_> = explore::roots(&prog, &b)
                    .into_iter()
                    .filter(|r| Family::of(&r.threads) == family)
                    .collect();
                tally(&prog, &b, &roots, &mut t);
            }
        }
    }
    row("every bug config × family × {hb, coenabled}", &t);
    for config in ["seed-akpm-1-fixed", "v5.17", "v6.1"] {
        let prog = builtin::program(config).expect("a built-in config");
        let mut t = [0u64; 6];
        for m in review::mutants(&prog, "exit_mmap").expect("exit_mmap's mutants") {
            let Ok(mp) = review::mutant_program(config, &m.text) else {
                continue;
            };
            let b = small(true);
            let roots = explore::roots(&mp, &b);
            tally(&mp, &b, &roots, &mut t);
        }
        row(
            &format!("every review mutant of {config}'s exit_mmap (hb)"),
            &t,
        );
    }
}
