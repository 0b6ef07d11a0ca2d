//! `mmfuzz review`: which steps of a path version carry a config's safety.
//!
//! Each mutant deletes one step of the path (a primitive or a `call`) from the program's text,
//! the question a reviewer asks of a line ("is this still needed?"), and the exhaustive search
//! judges it at the given bounds: load-bearing (the invariant it breaks and the shortest
//! counterexample), redundant within the bounds, or incomplete. With pairs, every two steps
//! that are each redundant alone are deleted together: the belt and braces of the seed
//! thread (`mm->mmap = NULL` and `MMF_OOM_SKIP`). A mutant that only unbalances a lock (I10)
//! is told apart from one that breaks a kernel invariant.

use mmfuzz::mm::prims::Prim;
use mmfuzz::mm::{builtin, Invariant, Program};
use rayon::prelude::*;

use super::explore::{self, Bounds};
use super::scenario::Scenario;

/// A step of the reviewed path: its line in the program's source and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Line in [`Program::source`] (1-based).
    pub line: usize,
    /// The statement, trimmed.
    pub text: String,
}

/// What deleting some steps does.
#[derive(Clone, Debug)]
pub enum Verdict {
    /// An invariant breaks: the steps carry it.
    Broken {
        /// The invariant.
        inv: Invariant,
        /// What broke, in kernel terms.
        msg: String,
        /// Numbered steps of the shortest counterexample.
        steps: usize,
        /// The counterexample (replayable against the mutant's text).
        scenario: Scenario,
    },
    /// No violation in any interleaving within the bounds.
    Redundant {
        /// States explored.
        states: u64,
    },
    /// The search stopped at its state limit first.
    Incomplete {
        /// States explored.
        states: u64,
    },
    /// The mutant does not compile (e.g. a block left empty where one is required).
    Rejected(String),
}

impl Verdict {
    /// Only a lock's balance broke (I10): the deletion is trivially wrong.
    pub fn lock_balance_only(&self) -> bool {
        matches!(self, Verdict::Broken { inv, .. } if *inv == Invariant::I10)
    }
}

/// The answer for one mutant.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The steps deleted.
    pub deleted: Vec<Step>,
    /// The judgement.
    pub verdict: Verdict,
    /// The mutant's source (config and paths), for saving its counterexample.
    pub text: String,
}

/// A review: every step alone, then (with pairs) the pairs of redundant steps that break
/// something together.
#[derive(Clone, Debug)]
pub struct Review {
    /// The path reviewed (`NAME@VERSION`).
    pub path: String,
    /// One answer per step, in source order.
    pub singles: Vec<Answer>,
    /// Pairs of steps each redundant alone and load-bearing together.
    pub pairs: Vec<Answer>,
    /// Pairs judged.
    pub pairs_judged: usize,
    /// The lock questions: a lock section removed, a write section taken for read, a step
    /// moved out of its section; each with its label.
    pub locks: Vec<(String, Answer)>,
}

/// The path version `prog` uses for `name` (a `NAME@VERSION`, or a bare name).
pub fn path_version(prog: &Program, name: &str) -> Result<String, String> {
    let (n, v) = name.split_once('@').unwrap_or((name, ""));
    prog.paths
        .iter()
        .find(|c| c.name == n && (v.is_empty() || c.version == v))
        .map(|c| format!("{}@{}", c.name, c.version))
        .ok_or_else(|| {
            let all: Vec<String> = prog
                .paths
                .iter()
                .map(|c| format!("{}@{}", c.name, c.version))
                .collect();
            format!(
                "config {} uses no path {name} (it uses {})",
                prog.config.name,
                all.join(", ")
            )
        })
}

/// The deletable steps of `path` (`NAME@VERSION`) in the program's source: every line of its
/// body that is a primitive or a `call`.
pub fn steps(prog: &Program, path: &str) -> Result<Vec<Step>, String> {
    let src = prog.source();
    let lines: Vec<&str> = src.lines().collect();
    let head = format!("path {path}");
    let start = lines
        .iter()
        .position(|l| l.trim_end() == head)
        .ok_or_else(|| format!("no `{head}` in the config's source"))?;
    let open = (start..lines.len())
        .find(|&i| lines[i].trim_end() == "{")
        .ok_or_else(|| format!("`{head}` has no body"))?;
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate().skip(open + 1) {
        if line.trim_end() == "}" {
            break;
        }
        let t = line.trim();
        let first = t.split_whitespace().next().unwrap_or("");
        if first == "call" || Prim::TABLE.iter().any(|r| r.name == first) {
            out.push(Step {
                line: i + 1,
                text: t.to_string(),
            });
        }
    }
    Ok(out)
}

/// The program's source with `deleted` lines left out.
pub fn mutant_text(prog: &Program, deleted: &[&Step]) -> String {
    let edits: Vec<(usize, Option<String>)> = deleted.iter().map(|s| (s.line, None)).collect();
    edited(prog, &edits)
}

/// The unlock that ends a section opened by `lock` (`mmap_read_lock` → `mmap_read_unlock`,
/// `spin_lock oom_lock` → `spin_unlock oom_lock`, …), if it is a lock.
fn unlock_of(lock: &str) -> Option<String> {
    let (name, arg) = lock.split_once(' ').unwrap_or((lock, ""));
    let un = match name {
        "mmap_read_lock" => "mmap_read_unlock",
        "mmap_write_lock" => "mmap_write_unlock",
        "spin_lock" => "spin_unlock",
        "mutex_lock" => "mutex_unlock",
        "task_lock" => "task_unlock",
        _ => return None,
    };
    Some(if arg.is_empty() {
        un.to_string()
    } else {
        format!("{un} {arg}")
    })
}

/// The source with some lines replaced (`Some`) or deleted (`None`), by line number.
fn edited(prog: &Program, edits: &[(usize, Option<String>)]) -> String {
    let mut out = String::new();
    for (i, line) in prog.source().lines().enumerate() {
        match edits.iter().find(|(l, _)| *l == i + 1) {
            Some((_, None)) => {}
            Some((_, Some(new))) => {
                let indent = &line[..line.len() - line.trim_start().len()];
                out.push_str(indent);
                out.push_str(new);
                out.push('\n');
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// The lock questions of a reviewer, as mutants of `steps`: each lock section removed (the
/// lock and every unlock of it before the next lock of it), each `mmap_write_lock` section
/// taken for read, and the step right after each lock moved before it.
pub fn lock_mutants(prog: &Program, steps: &[Step]) -> Vec<(String, Vec<Step>, String)> {
    let mut out = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        let Some(un) = unlock_of(&s.text) else {
            continue;
        };
        let mut ends: Vec<&Step> = Vec::new();
        for t in &steps[i + 1..] {
            if t.text == s.text {
                break;
            }
            if t.text == un {
                ends.push(t);
            }
        }
        let Some(last) = ends.last() else { continue };
        let mut drop: Vec<(usize, Option<String>)> = vec![(s.line, None)];
        drop.extend(ends.iter().map(|e| (e.line, None)));
        let mut deleted = vec![s.clone()];
        deleted.extend(ends.iter().map(|e| (*e).clone()));
        out.push((
            format!(
                "without the {} section (lines {}-{})",
                s.text, s.line, last.line
            ),
            deleted.clone(),
            edited(prog, &drop),
        ));
        if s.text == "mmap_write_lock" {
            let mut weak: Vec<(usize, Option<String>)> =
                vec![(s.line, Some("mmap_read_lock".into()))];
            weak.extend(
                ends.iter()
                    .map(|e| (e.line, Some("mmap_read_unlock".to_string()))),
            );
            out.push((
                format!(
                    "the {} section (lines {}-{}) taken for read",
                    s.text, s.line, last.line
                ),
                deleted,
                edited(prog, &weak),
            ));
        }
        // The first step inside the section, moved before the lock.
        if let Some(first) = steps
            .get(i + 1)
            .filter(|f| f.line == s.line + 1 && f.line < last.line && f.text != un)
        {
            if !first.text.starts_with("call ") && unlock_of(&first.text).is_none() {
                out.push((
                    format!("{} moved before {} (line {})", first.text, s.text, s.line),
                    vec![first.clone()],
                    edited(
                        prog,
                        &[
                            (s.line, Some(first.text.clone())),
                            (first.line, Some(s.text.clone())),
                        ],
                    ),
                ));
            }
        }
    }
    out
}

/// Judge a mutant's text with the exhaustive search, over the bounds' set-ups and the empty
/// mm.
pub fn judge(config: &str, text: &str, b: &Bounds) -> Verdict {
    let progs = match builtin::load_file("<mutant>", text) {
        Ok(p) => p,
        Err(e) => return Verdict::Rejected(e.to_string()),
    };
    let Some(prog) = progs.into_iter().find(|p| p.config.name == config) else {
        return Verdict::Rejected(format!("no config {config} in the mutant"));
    };
    // The bounds' set-ups and the empty mm (dup_mmap() failed before the first VMA): the
    // branches only an empty mm takes are reviewed too.
    let mut roots = explore::roots(&prog, b);
    if b.vmas > 0 && b.setup.is_none() {
        let empty = Bounds {
            vmas: 0,
            ..b.clone()
        };
        roots.extend(explore::roots(&prog, &empty));
    }
    match explore::search(&prog, b, &roots, |_, _, _| {}) {
        Err(e) => Verdict::Rejected(e.0),
        Ok(rep) => match rep.counterexample {
            Some((scenario, v)) => Verdict::Broken {
                inv: v.inv,
                msg: v.msg,
                steps: rep.steps.unwrap_or(0),
                scenario,
            },
            None if rep.truncated => Verdict::Incomplete { states: rep.states },
            None => Verdict::Redundant { states: rep.states },
        },
    }
}

/// Review `path` of `prog` at bounds `b`, judging mutants in parallel; `done` is called after
/// each judgement with the count so far.
pub fn review(
    prog: &Program,
    path: &str,
    b: &Bounds,
    pairs: bool,
    done: &(dyn Fn(usize) + Sync),
) -> Result<Review, String> {
    let path = path_version(prog, path)?;
    let steps = steps(prog, &path)?;
    let name = prog.config.name.clone();
    let count = std::sync::atomic::AtomicUsize::new(0);
    let judge_one = |deleted: Vec<Step>, text: String| -> Answer {
        let verdict = judge(&name, &text, b);
        done(count.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1);
        Answer {
            deleted,
            verdict,
            text,
        }
    };
    let judge_all = |sets: Vec<Vec<&Step>>| -> Vec<Answer> {
        sets.into_par_iter()
            .map(|set| {
                judge_one(
                    set.iter().map(|s| (*s).clone()).collect(),
                    mutant_text(prog, &set),
                )
            })
            .collect()
    };
    let singles = judge_all(steps.iter().map(|s| vec![s]).collect());
    let redundant: Vec<&Step> = singles
        .iter()
        .filter(|a| matches!(a.verdict, Verdict::Redundant { .. }))
        .map(|a| &a.deleted[0])
        .collect();
    let mut sets = Vec::new();
    if pairs {
        for (i, a) in redundant.iter().enumerate() {
            for c in &redundant[i + 1..] {
                sets.push(vec![*a, *c]);
            }
        }
    }
    let pairs_judged = sets.len();
    let pairs = judge_all(sets)
        .into_iter()
        .filter(|a| matches!(a.verdict, Verdict::Broken { .. }))
        .collect();
    let locks = lock_mutants(prog, &steps)
        .into_par_iter()
        .map(|(label, deleted, text)| (label, judge_one(deleted, text)))
        .collect();
    Ok(Review {
        path,
        singles,
        pairs,
        pairs_judged,
        locks,
    })
}
