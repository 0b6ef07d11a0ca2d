//! Counterexamples written the way they are posted to a list: numbered steps, one column per
//! thread (CPU), the kernel function of each step, the locks each thread holds after the step,
//! the flags that matter, the broken invariant, and the config's kernel source.

use std::fmt::Write as _;

use mmfuzz::mm::show_mm_flags;
use mmfuzz::mm::state::World;
use mmfuzz::mm::types::vm;
use mmfuzz::mm::{Lock, Program};

use super::exec::{run, setup, Opts, Outcome, TraceStep};
use super::scenario::{Scenario, Setup};

/// Width of one thread's column.
const COL: usize = 44;

/// The locks as the report writes them: `mmap_lock(R)`, `oom_lock`, … (`-` for none).
pub(crate) fn locks(held: &[(Lock, bool)]) -> String {
    if held.is_empty() {
        return "-".into();
    }
    held.iter()
        .map(|(l, shared)| match l {
            Lock::MmapLock => format!("mmap_lock({})", if *shared { "R" } else { "W" }),
            other => other.name(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A step as `path: primitive` with its value; `?` for a step `prog` does not have.
pub(crate) fn step_text(prog: &Program, s: &TraceStep) -> String {
    let Some(code) = prog.paths.get(s.at.0 as usize) else {
        return "?".into();
    };
    let prim = match code.insns.get(s.at.1 as usize) {
        Some(mmfuzz::mm::program::Insn::Step(p) | mmfuzz::mm::program::Insn::Test(p, _, _)) => *p,
        _ => return format!("{}: ?", code.name),
    };
    let mut t = format!("{}: {}", code.name, prim.name());
    match s.value {
        None => t.push_str(" (waits)"),
        Some(v) if prim.is_cond() => t.push_str(if v { " → true" } else { " → false" }),
        Some(_) => {}
    }
    t
}

/// Word-wrap `s` at `width` characters (a longer word keeps its own line).
pub(crate) fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for w in s.split(' ') {
        if !cur.is_empty() && cur.chars().count() + 1 + w.chars().count() > width {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(w);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Describe the set-up in one line per operation.
pub(crate) fn setup_lines(sc: &Scenario) -> Vec<String> {
    let mut w = World::new();
    let mut out = Vec::new();
    for op in &sc.setup {
        let before = w.vmas.len();
        let _ = setup(&mut w, std::slice::from_ref(op));
        out.push(match op {
            Setup::Mmap { .. } if w.vmas.len() > before => {
                let v = &w.vmas[before];
                format!(
                    "mmap vma{before} [{:#x}, {:#x}) {} {}",
                    v.start,
                    v.end(),
                    vm::show(v.flags),
                    if v.anon { "anon" } else { "file" }
                )
            }
            Setup::Fault { vma } => format!("fault in vma{vma}"),
            Setup::Mlock { vma } => format!("mlock vma{vma}"),
            Setup::Munmap { vma } => format!("munmap vma{vma}"),
            Setup::OomKill => "OOM kill: mark_oom_victim(victim) (TIF_MEMDIE, signal->oom_mm, MMF_OOM_VICTIM), SIGKILL, queued for the oom_reaper".into(),
            Setup::Kill => "SIGKILL to the victim".into(),
            other => format!("{other:?}"),
        });
    }
    if !sc.setup.iter().any(|op| matches!(op, Setup::Mmap { .. })) {
        out.insert(
            0,
            "no VMA: an empty mm (dup_mmap() failed before copying one)".into(),
        );
    }
    out
}

/// The full text report of an executed, recorded scenario.
pub fn explain_outcome(prog: &Program, sc: &Scenario, out: &Outcome) -> String {
    let cfg = &prog.config;
    let mut r = String::new();
    let n = out
        .trace
        .iter()
        .map(|s| s.tid)
        .max()
        .map_or(0, |m| m as usize + 1);
    let mut w = World::new();
    let _ = setup(&mut w, &sc.setup);
    let roles = super::exec::roles(prog, &sc.threads);
    let _ = writeln!(
        r,
        "config {}: {} [{}]",
        cfg.name, cfg.meta.note, cfg.meta.kernel
    );
    for p in &prog.paths {
        if !p.meta.commit.is_empty() || p.name == "exit_mmap" {
            let _ = writeln!(
                r,
                "  {}@{}: {} {} {}",
                p.name,
                p.version,
                p.meta.kernel,
                p.meta.commit,
                if p.meta.source.is_empty() {
                    &p.meta.file
                } else {
                    &p.meta.source
                }
            );
        }
    }
    let _ = writeln!(r, "set-up:");
    for l in setup_lines(sc) {
        let _ = writeln!(r, "  {l}");
    }
    let _ = writeln!(r, "threads:");
    for (i, role) in roles.iter().enumerate() {
        let _ = writeln!(r, "  CPU{i}: {} ({})", role.task(), role.entry());
    }
    let _ = writeln!(r);
    let mut header = String::from("     ");
    for (i, role) in roles.iter().enumerate().take(n.max(roles.len())) {
        let h = format!("CPU{i} ({})", role.task());
        let _ = write!(header, "{h:<COL$} | ");
    }
    let _ = writeln!(r, "{}", header.trim_end_matches([' ', '|']));
    // Group consecutive steps of one thread into numbered steps.
    let mut k = 0;
    let mut i = 0;
    while i < out.trace.len() {
        let tid = out.trace[i].tid;
        let mut lines: Vec<String> = Vec::new();
        while i < out.trace.len() && out.trace[i].tid == tid {
            lines.extend(wrap(&step_text(prog, &out.trace[i]), COL));
            i += 1;
        }
        let last = &out.trace[i - 1];
        let held = last
            .held
            .get(tid as usize)
            .map_or(&[][..], |h| h.as_slice());
        lines.push(format!("[holds: {}]", locks(held)));
        k += 1;
        for (j, l) in lines.iter().enumerate() {
            let num = if j == 0 {
                format!("{k:>3}  ")
            } else {
                "     ".into()
            };
            let mut row = num;
            for c in 0..roles.len() {
                let cell = if c == tid as usize { l.as_str() } else { "" };
                let _ = write!(row, "{cell:<COL$} | ");
            }
            let _ = writeln!(r, "{}", row.trim_end_matches([' ', '|']));
        }
    }
    // The same steps, one line each, as a list post would number them.
    let _ = writeln!(r, "\nIn short:");
    let mut k2 = 0;
    let mut i = 0;
    while i < out.trace.len() {
        let tid = out.trace[i].tid;
        let start = i;
        while i < out.trace.len() && out.trace[i].tid == tid {
            i += 1;
        }
        k2 += 1;
        let mut funcs: Vec<String> = Vec::new();
        for s in &out.trace[start..i] {
            let name = prog
                .paths
                .get(s.at.0 as usize)
                .map_or("?", |c| c.name.as_str());
            if funcs.last().map(String::as_str) != Some(name) {
                funcs.push(name.to_string());
            }
        }
        let last = &out.trace[i - 1];
        let who = roles.get(tid as usize).map_or("?", |r| r.task());
        let _ = writeln!(
            r,
            "{k2:>3}. CPU{tid} ({who}): {} [{}]",
            funcs.join(" → "),
            last.flags
        );
    }
    match &out.violation {
        Some(v) => {
            let who = roles.get(v.tid as usize).map_or("?", |r| r.task());
            let _ = writeln!(r);
            let _ = writeln!(
                r,
                "{} broken at step {k} ({} model steps) by CPU{} ({who}):",
                v.inv, out.steps, v.tid
            );
            let _ = writeln!(r, "  {}", v.msg);
            if let Some(last) = out.trace.last() {
                let held: Vec<String> = (0..roles.len())
                    .map(|t| {
                        let held = last.held.get(t).map_or(&[][..], |h| h.as_slice());
                        format!("CPU{t}: {}", locks(held))
                    })
                    .collect();
                let _ = writeln!(r, "  locks held: {}", held.join(", "));
            }
        }
        None => {
            let _ = writeln!(r, "\nno violation ({} steps)", out.steps);
        }
    }
    // The flags that matter, at the end.
    let mut end = World::new();
    let _ = setup(&mut end, &sc.setup);
    let _ = writeln!(
        r,
        "  set-up state: mm_users {}, mm_count {}, mm->flags {}, victim TIF_MEMDIE {}, tsk_is_oom_victim {}",
        end.mm.users,
        end.mm.count,
        show_mm_flags(end.mm.flags),
        end.victim.memdie,
        end.victim.oom_mm
    );
    r
}

/// Run `sc` with recording and explain it.
pub fn explain(prog: &Program, sc: &Scenario) -> String {
    match run(
        prog,
        sc,
        Opts {
            record: true,
            ..Opts::default()
        },
    ) {
        Ok(out) => explain_outcome(prog, sc, &out),
        Err(e) => format!("the scenario cannot run on {}: {}", prog.config.name, e.0),
    }
}

/// The same report as JSON, for tools: the config and its kernel, the threads, every model
/// step with its numbered step, CPU, `path: primitive`, locks held and flags, and the
/// violation with the numbered step that broke it.
pub fn json(prog: &Program, sc: &Scenario, out: &Outcome) -> serde_json::Value {
    use serde_json::json;
    let roles = super::exec::roles(prog, &sc.threads);
    let mut numbered = 0usize;
    let mut last = None;
    let mut steps = Vec::new();
    for s in &out.trace {
        if last != Some(s.tid) {
            numbered += 1;
            last = Some(s.tid);
        }
        steps.push(json!({
            "step": numbered,
            "cpu": s.tid,
            "what": step_text(prog, s),
            "locks": s.held.get(s.tid as usize).map_or("-".into(), |h| locks(h)),
            "flags": s.flags,
        }));
    }
    json!({
        "config": prog.config.name,
        "kernel": prog.config.meta.kernel,
        "paths": prog.paths.iter().map(|p| json!({
            "path": format!("{}@{}", p.name, p.version),
            "kernel": p.meta.kernel,
            "commit": p.meta.commit,
            "file": p.meta.file,
            "source": p.meta.source,
        })).collect::<Vec<_>>(),
        "setup": setup_lines(sc),
        "threads": roles.iter().enumerate().map(|(i, r)| json!({
            "cpu": i,
            "task": r.task(),
            "entry": r.entry(),
        })).collect::<Vec<_>>(),
        "steps": steps,
        "numbered_steps": numbered,
        "violation": out.violation.as_ref().map(|v| json!({
            "invariant": v.inv.name(),
            "cpu": v.tid,
            "message": v.msg,
            "at_step": numbered,
        })),
    })
}
