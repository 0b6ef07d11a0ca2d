//! `mmfuzz review`: which steps of a path version carry a config's safety.
//!
//! Each mutant is a question a reviewer asks of the path's text: is this step still needed
//! (deleted), does this lock section matter (removed, a write section taken for read, a
//! trylock made a lock and back), does this step have to sit inside the section (moved across
//! the nearest lock boundary), does the order matter (two adjacent steps swapped), does this
//! check matter (its condition forced true or false), does this early return matter (dropped).
//! The exhaustive search judges each mutant at the given bounds: load-bearing (the invariant
//! it breaks and the shortest counterexample), redundant within the bounds, or incomplete; a
//! seeded random search gives the executions and seconds to its first violation. With pairs,
//! every two steps that are each redundant alone are deleted together: the belt and braces of
//! the seed thread (`mm->mmap = NULL` and `MMF_OOM_SKIP`). A mutant that only unbalances a
//! lock (I10) is told apart from one that breaks a kernel invariant. Mutants with the same
//! text are judged once.

use std::collections::HashMap;
use std::time::Duration;

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

/// The reviewer's questions, as mutation operators on the path's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mutation {
    /// One step deleted.
    Delete,
    /// Two steps, each redundant alone, deleted together.
    Pair,
    /// A lock section removed: the lock and its unlocks.
    Section,
    /// A `mmap_write_lock` section taken for read.
    ReadForWrite,
    /// `if !trylock { … }` made a plain lock (the failure branch dropped).
    LockForTrylock,
    /// A lock made a trylock that returns on failure.
    TrylockForLock,
    /// A step moved across the nearest lock or unlock of its block.
    Move,
    /// Two adjacent steps swapped.
    Swap,
    /// An `if`'s condition forced true.
    ForceTrue,
    /// An `if`'s condition forced false.
    ForceFalse,
    /// A `return` dropped.
    DropReturn,
}

impl Mutation {
    /// Every operator, in report order.
    pub const ALL: [Mutation; 11] = [
        Mutation::Delete,
        Mutation::Pair,
        Mutation::Section,
        Mutation::ReadForWrite,
        Mutation::LockForTrylock,
        Mutation::TrylockForLock,
        Mutation::Move,
        Mutation::Swap,
        Mutation::ForceTrue,
        Mutation::ForceFalse,
        Mutation::DropReturn,
    ];

    /// The operator's name in reports and JSON.
    pub fn word(self) -> &'static str {
        match self {
            Mutation::Delete => "delete",
            Mutation::Pair => "delete_pair",
            Mutation::Section => "remove_section",
            Mutation::ReadForWrite => "read_for_write",
            Mutation::LockForTrylock => "lock_for_trylock",
            Mutation::TrylockForLock => "trylock_for_lock",
            Mutation::Move => "move_across_lock",
            Mutation::Swap => "swap",
            Mutation::ForceTrue => "force_true",
            Mutation::ForceFalse => "force_false",
            Mutation::DropReturn => "drop_return",
        }
    }
}

/// One mutant: the operator, what it did in words, the steps it touched, and its text.
#[derive(Clone, Debug)]
pub struct Mutant {
    /// The operator.
    pub mutation: Mutation,
    /// What was changed, e.g. `arch_exit_mmap moved before mmap_read_lock (line 95)`.
    pub label: String,
    /// The lines it touched.
    pub steps: Vec<Step>,
    /// The mutant's source (config and paths).
    pub text: String,
}

/// What a mutant does.
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
    /// Only a lock's balance broke (I10): the change is trivially wrong.
    pub fn lock_balance_only(&self) -> bool {
        matches!(self, Verdict::Broken { inv, .. } if *inv == Invariant::I10)
    }

    /// A kernel invariant (not only a lock's balance) breaks.
    pub fn load_bearing(&self) -> bool {
        matches!(self, Verdict::Broken { .. }) && !self.lock_balance_only()
    }
}

/// The seeded random search on a mutant (`mmfuzz run`'s generator, one job).
#[derive(Clone, Debug, PartialEq)]
pub struct RandomSearch {
    /// Scenarios run.
    pub execs: u64,
    /// Seconds taken.
    pub secs: f64,
    /// The invariant of the first violation, if one was found within the budget.
    pub found: Option<Invariant>,
}

/// The answer for one mutant.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The operator.
    pub mutation: Mutation,
    /// What was changed.
    pub label: String,
    /// The lines it touched.
    pub deleted: Vec<Step>,
    /// The exhaustive judgement.
    pub verdict: Verdict,
    /// The random search, when it ran.
    pub random: Option<RandomSearch>,
    /// The mutant's source (config and paths), for saving its counterexample.
    pub text: String,
    /// The label of an earlier mutant with the same text (judged once).
    pub same_as: Option<String>,
    /// Its place in the path's full list of mutants ([`mutants`]'s order; for a pair, in the
    /// list of pairs).
    pub index: usize,
}

/// A review: every step deleted alone, then (with pairs) the pairs of redundant steps that
/// break something together, then the other questions.
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
    /// The other questions: lock sections, trylocks, moves, swaps, forced conditions,
    /// dropped returns, in source order per operator.
    pub questions: Vec<Answer>,
    /// Mutants in the path's full list (all shards).
    pub total: usize,
}

impl Review {
    /// Every answer.
    pub fn all(&self) -> impl Iterator<Item = &Answer> {
        self.singles
            .iter()
            .chain(&self.pairs)
            .chain(&self.questions)
    }

    /// Distinct mutants judged (a text judged once counts once).
    pub fn judged(&self) -> usize {
        self.singles.len() + self.pairs_judged + self.questions.len()
            - self.all().filter(|a| a.same_as.is_some()).count()
    }
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

/// One line of a path's body: its number, indentation and trimmed text.
#[derive(Clone, Debug)]
struct Line {
    no: usize,
    indent: usize,
    text: String,
}

impl Line {
    fn first(&self) -> &str {
        self.text.split_whitespace().next().unwrap_or("")
    }

    /// A primitive or a `call`.
    fn is_step(&self) -> bool {
        let f = self.first();
        f == "call" || Prim::TABLE.iter().any(|r| r.name == f)
    }

    fn step(&self) -> Step {
        Step {
            line: self.no,
            text: self.text.clone(),
        }
    }
}

/// The body of `path` (`NAME@VERSION`): the line of its `{` and its lines up to the `}`.
fn body(prog: &Program, path: &str) -> Result<(usize, Vec<Line>), String> {
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
        out.push(Line {
            no: i + 1,
            indent: line.len() - line.trim_start().len(),
            text: line.trim().to_string(),
        });
    }
    Ok((open + 1, out))
}

/// The deletable steps of `path` (`NAME@VERSION`) in the program's source: every line of its
/// body that is a primitive or a `call`.
pub fn steps(prog: &Program, path: &str) -> Result<Vec<Step>, String> {
    Ok(body(prog, path)?
        .1
        .iter()
        .filter(|l| l.is_step())
        .map(Line::step)
        .collect())
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

/// A lock or unlock step (a section's boundary).
fn is_lock_op(text: &str) -> bool {
    unlock_of(text).is_some()
        || [
            "mmap_read_unlock",
            "mmap_write_unlock",
            "spin_unlock",
            "mutex_unlock",
            "task_unlock",
        ]
        .contains(&text.split_whitespace().next().unwrap_or(""))
}

/// The blocking lock a trylock condition stands for, and back.
const TRYLOCKS: [(&str, &str); 4] = [
    ("mmap_read_trylock", "mmap_read_lock"),
    ("mutex_trylock_oom_lock", "mutex_lock oom_lock"),
    ("mmap_read_lock_killable", "mmap_read_lock"),
    ("mmap_write_lock_killable", "mmap_write_lock"),
];

/// The source with some lines replaced (`Some`, possibly several lines) or deleted (`None`),
/// by line number.
fn edited(prog: &Program, edits: &[(usize, Option<String>)]) -> String {
    let mut out = String::new();
    for (i, line) in prog.source().lines().enumerate() {
        match edits.iter().find(|(l, _)| *l == i + 1) {
            Some((_, None)) => {}
            Some((_, Some(new))) => {
                let indent = &line[..line.len() - line.trim_start().len()];
                for l in new.lines() {
                    out.push_str(indent);
                    out.push_str(l);
                    out.push('\n');
                }
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// The index of the line closing the block opened at `body[i]` (same indent, starts `}`).
fn close_of(body: &[Line], i: usize) -> Option<usize> {
    (i + 1..body.len()).find(|&k| body[k].indent == body[i].indent && body[k].text.starts_with('}'))
}

/// The lock questions of a reviewer: each lock section removed (the lock and every unlock of
/// it before the next lock of it), each `mmap_write_lock` section taken for read, each
/// trylock made a plain lock and each lock a trylock that gives up.
fn lock_mutants(prog: &Program, body: &[Line]) -> Vec<Mutant> {
    let steps: Vec<Step> = body
        .iter()
        .filter(|l| l.is_step())
        .map(Line::step)
        .collect();
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
        if let Some(last) = ends.last() {
            let mut drop: Vec<(usize, Option<String>)> = vec![(s.line, None)];
            drop.extend(ends.iter().map(|e| (e.line, None)));
            let mut touched = vec![s.clone()];
            touched.extend(ends.iter().map(|e| (*e).clone()));
            let lines = format!("lines {}-{}", s.line, last.line);
            out.push(Mutant {
                mutation: Mutation::Section,
                label: format!("without the {} section ({lines})", s.text),
                steps: touched.clone(),
                text: edited(prog, &drop),
            });
            if s.text == "mmap_write_lock" {
                let mut weak: Vec<(usize, Option<String>)> =
                    vec![(s.line, Some("mmap_read_lock".into()))];
                weak.extend(
                    ends.iter()
                        .map(|e| (e.line, Some("mmap_read_unlock".to_string()))),
                );
                out.push(Mutant {
                    mutation: Mutation::ReadForWrite,
                    label: format!("the {} section ({lines}) taken for read", s.text),
                    steps: touched,
                    text: edited(prog, &weak),
                });
            }
        }
        if let Some((try_, _)) = TRYLOCKS
            .iter()
            .find(|(t, l)| *l == s.text && t.contains("trylock"))
        {
            out.push(Mutant {
                mutation: Mutation::TrylockForLock,
                label: format!("{} made `if !{try_}` returning (line {})", s.text, s.line),
                steps: vec![s.clone()],
                text: edited(
                    prog,
                    &[(s.line, Some(format!("if !{try_} {{\n  return\n}}")))],
                ),
            });
        }
    }
    for (i, l) in body.iter().enumerate() {
        let Some(cond) = l
            .text
            .strip_prefix("if ")
            .and_then(|c| c.strip_suffix(" {"))
        else {
            continue;
        };
        let (neg, name) = match cond.strip_prefix('!') {
            Some(n) => (true, n),
            None => (false, cond),
        };
        let Some((_, lock)) = TRYLOCKS.iter().find(|(t, _)| *t == name) else {
            continue;
        };
        let Some(close) = close_of(body, i) else {
            continue;
        };
        // The branch taken when the lock is got: `else` of `if !trylock`, `then` of `if trylock`.
        let els = body[close].text == "} else {";
        let end = if els {
            close_of(body, close)
        } else {
            Some(close)
        };
        let Some(end) = end else { continue };
        let mut edits: Vec<(usize, Option<String>)> = vec![(l.no, Some((*lock).to_string()))];
        let (drop_from, drop_to) = if neg { (i + 1, close) } else { (close, end) };
        edits.extend(body[drop_from..=drop_to].iter().map(|d| (d.no, None)));
        if neg && els {
            edits.push((body[end].no, None));
        }
        if !neg {
            edits.push((body[close].no, None));
        }
        edits.sort_by_key(|e| e.0);
        edits.dedup_by_key(|e| e.0);
        out.push(Mutant {
            mutation: Mutation::LockForTrylock,
            label: format!("`if {cond}` made a plain {lock} (line {})", l.no),
            steps: vec![l.step()],
            text: edited(prog, &edits),
        });
    }
    out
}

/// The order questions: each step moved across the nearest lock or unlock of its block (up
/// and down), each two adjacent steps swapped.
fn order_mutants(prog: &Program, body: &[Line]) -> Vec<Mutant> {
    let mut out = Vec::new();
    // Lines `i` and `j` of one block with only steps between them.
    let same_block = |i: usize, j: usize| {
        let (a, b) = (i.min(j), i.max(j));
        body[a..=b]
            .iter()
            .all(|l| l.indent == body[i].indent && l.is_step())
    };
    for (i, s) in body.iter().enumerate() {
        if !s.is_step() || is_lock_op(&s.text) {
            continue;
        }
        let down = (i + 1..body.len()).find(|&k| is_lock_op(&body[k].text));
        let up = (0..i).rev().find(|&k| is_lock_op(&body[k].text));
        for (k, after) in [(down, true), (up, false)]
            .into_iter()
            .filter_map(|(k, a)| k.map(|k| (k, a)))
        {
            if !same_block(i, k) {
                continue;
            }
            let b = &body[k];
            let moved = if after {
                format!("{}\n{}", b.text, s.text)
            } else {
                format!("{}\n{}", s.text, b.text)
            };
            out.push(Mutant {
                mutation: Mutation::Move,
                label: format!(
                    "{} (line {}) moved {} {} (line {})",
                    s.text,
                    s.no,
                    if after { "after" } else { "before" },
                    b.text,
                    b.no
                ),
                steps: vec![s.step(), b.step()],
                text: edited(prog, &[(s.no, None), (b.no, Some(moved))]),
            });
        }
    }
    for w in body.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        if a.is_step() && b.is_step() && a.indent == b.indent && a.text != b.text {
            out.push(Mutant {
                mutation: Mutation::Swap,
                label: format!(
                    "{} and {} swapped (lines {}-{})",
                    a.text, b.text, a.no, b.no
                ),
                steps: vec![a.step(), b.step()],
                text: edited(
                    prog,
                    &[(a.no, Some(b.text.clone())), (b.no, Some(a.text.clone()))],
                ),
            });
        }
    }
    out
}

/// The variable a forced condition reads (set at the top of the path's body).
const FORCED: &str = "review_forced";

/// The check questions: each `if`'s condition forced true and false, each `return` dropped.
fn check_mutants(prog: &Program, open: usize, body: &[Line]) -> Vec<Mutant> {
    let mut out = Vec::new();
    for l in body {
        let (head, cond) = if let Some(c) = l.text.strip_prefix("if ") {
            ("if", c)
        } else if let Some(c) = l.text.strip_prefix("} else if ") {
            ("} else if", c)
        } else {
            (l.text.as_str(), "")
        };
        if let Some(cond) = cond.strip_suffix(" {") {
            for (m, v) in [(Mutation::ForceTrue, true), (Mutation::ForceFalse, false)] {
                let with = format!("{head} {}{FORCED} {{", if v { "" } else { "!" });
                out.push(Mutant {
                    mutation: m,
                    label: format!("`if {cond}` forced {v} (line {})", l.no),
                    steps: vec![l.step()],
                    text: edited(
                        prog,
                        &[
                            (open, Some(format!("{{\n  let {FORCED} = true"))),
                            (l.no, Some(with)),
                        ],
                    ),
                });
            }
        }
        if l.first() == "return" {
            out.push(Mutant {
                mutation: Mutation::DropReturn,
                label: format!("`{}` dropped (line {})", l.text, l.no),
                steps: vec![l.step()],
                text: edited(prog, &[(l.no, None)]),
            });
        }
    }
    out
}

/// Every mutant of `path` but the pairs, in operator order: each step deleted, then the lock,
/// order and check questions.
pub fn mutants(prog: &Program, path: &str) -> Result<Vec<Mutant>, String> {
    let path = path_version(prog, path)?;
    let (open, body) = body(prog, &path)?;
    let mut out: Vec<Mutant> = body
        .iter()
        .filter(|l| l.is_step())
        .map(|l| Mutant {
            mutation: Mutation::Delete,
            label: format!("{} deleted (line {})", l.text, l.no),
            steps: vec![l.step()],
            text: edited(prog, &[(l.no, None)]),
        })
        .collect();
    out.extend(lock_mutants(prog, &body));
    out.extend(order_mutants(prog, &body));
    out.extend(check_mutants(prog, open, &body));
    out.sort_by_key(|m| m.mutation);
    Ok(out)
}

/// The program a mutant's text defines for `config`.
pub fn mutant_program(config: &str, text: &str) -> Result<Program, String> {
    let progs = builtin::load_file("<mutant>", text).map_err(|e| e.to_string())?;
    progs
        .into_iter()
        .find(|p| p.config.name == config)
        .ok_or_else(|| format!("no config {config} in the mutant"))
}

/// Judge a mutant's program with the exhaustive search, over the bounds' set-ups and the
/// empty mm.
pub fn judge_program(prog: &Program, b: &Bounds) -> Verdict {
    // The bounds' set-ups and the empty mm (dup_mmap() failed before the first VMA): the
    // branches only an empty mm takes are reviewed too.
    let mut roots = explore::roots(prog, b);
    if b.vmas > 0 && b.setup.is_none() {
        let empty = Bounds {
            vmas: 0,
            ..b.clone()
        };
        roots.extend(explore::roots(prog, &empty));
    }
    match explore::search(prog, b, &roots, |_, _, _| {}) {
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

/// `mmfuzz run`'s generator on `prog` (one job, `seed`) until the first violation of any
/// invariant, for at most `execs` scenarios and `time`.
pub fn random_search(prog: &Program, seed: u64, execs: u64, time: Duration) -> RandomSearch {
    let s = crate::campaign::Settings {
        time,
        jobs: 1,
        seed,
        case_bytes: 0,
        max_execs_per_job: Some(execs),
        setup: None,
    };
    let rep = crate::campaign::mm_config(prog, &[], &s);
    RandomSearch {
        execs: rep.first.as_ref().map_or(rep.execs, |f| f.0),
        secs: rep.elapsed.as_secs_f64(),
        found: rep.first.map(|f| f.3.inv),
    }
}

/// How a review is run.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The exhaustive search's bounds.
    pub bounds: Bounds,
    /// Also delete every two steps redundant alone.
    pub pairs: bool,
    /// The random search's budget per mutant: scenarios and time (none: not run).
    pub random: Option<(u64, Duration)>,
    /// The random search's seed.
    pub seed: u64,
    /// Judge only shard I of N (`(I, N)`): the mutants whose text first appears at an index
    /// of the full list congruent to I mod N, so copies stay with their original and the N
    /// shards judge the full list exactly once. Not with `pairs` (they need every single).
    pub shard: Option<(usize, usize)>,
}

/// The mutants of shard `i` of `n` ([`Settings::shard`]), with their indices in `ms`.
fn shard_of(ms: Vec<Mutant>, i: usize, n: usize) -> Vec<(usize, Mutant)> {
    let mut first: HashMap<String, usize> = HashMap::new();
    let owner: Vec<usize> = ms
        .iter()
        .enumerate()
        .map(|(k, m)| *first.entry(m.text.clone()).or_insert(k))
        .collect();
    ms.into_iter()
        .enumerate()
        .filter(|(k, _)| owner[*k] % n == i)
        .collect()
}

/// Judge mutants in parallel, each distinct text once; `done` is called after each.
fn judge_all(
    name: &str,
    ms: Vec<Mutant>,
    s: &Settings,
    done: &(dyn Fn(usize) + Sync),
    count: &std::sync::atomic::AtomicUsize,
) -> Vec<Answer> {
    let mut first: HashMap<&str, usize> = HashMap::new();
    let same: Vec<Option<usize>> = ms
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let f = *first.entry(m.text.as_str()).or_insert(i);
            (f != i).then_some(f)
        })
        .collect();
    let judged: Vec<Option<(Verdict, Option<RandomSearch>)>> = ms
        .par_iter()
        .zip(&same)
        .map(|(m, same)| {
            if same.is_some() {
                return None;
            }
            let (v, r) = match mutant_program(name, &m.text) {
                Err(e) => (Verdict::Rejected(e), None),
                Ok(p) => (
                    judge_program(&p, &s.bounds),
                    s.random.map(|(n, t)| random_search(&p, s.seed, n, t)),
                ),
            };
            done(count.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1);
            Some((v, r))
        })
        .collect();
    let mut out: Vec<Answer> = Vec::with_capacity(ms.len());
    for (i, m) in ms.into_iter().enumerate() {
        let (verdict, random, same_as) = match (&judged[i], same[i]) {
            (Some((v, r)), _) => (v.clone(), r.clone(), None),
            (None, Some(f)) => (
                out[f].verdict.clone(),
                out[f].random.clone(),
                Some(out[f].label.clone()),
            ),
            (None, None) => unreachable!("every mutant is judged or a copy"),
        };
        out.push(Answer {
            mutation: m.mutation,
            label: m.label,
            deleted: m.steps,
            verdict,
            random,
            text: m.text,
            same_as,
            index: i,
        });
    }
    out
}

/// Review `path` of `prog`, judging mutants in parallel (on the caller's rayon pool); `done`
/// is called after each judgement with the count so far.
pub fn review(
    prog: &Program,
    path: &str,
    s: &Settings,
    done: &(dyn Fn(usize) + Sync),
) -> Result<Review, String> {
    let path = path_version(prog, path)?;
    let name = prog.config.name.clone();
    let count = std::sync::atomic::AtomicUsize::new(0);
    let full = mutants(prog, &path)?;
    let total = full.len();
    let (index, ms): (Vec<usize>, Vec<Mutant>) = match s.shard {
        None => full.into_iter().enumerate().unzip(),
        Some(_) if s.pairs => {
            return Err(
                "--shard with --pairs: the pairs are the steps redundant alone, which \
                        needs every single's verdict; run the pairs without --shard"
                    .into(),
            )
        }
        Some((i, n)) => shard_of(full, i, n).into_iter().unzip(),
    };
    let mut all = judge_all(&name, ms, s, done, &count);
    for a in &mut all {
        a.index = index[a.index];
    }
    let (singles, questions): (Vec<Answer>, Vec<Answer>) = all
        .into_iter()
        .partition(|a| a.mutation == Mutation::Delete);
    let redundant: Vec<&Step> = singles
        .iter()
        .filter(|a| matches!(a.verdict, Verdict::Redundant { .. }))
        .map(|a| &a.deleted[0])
        .collect();
    let mut sets = Vec::new();
    if s.pairs {
        for (i, a) in redundant.iter().enumerate() {
            for c in &redundant[i + 1..] {
                sets.push(Mutant {
                    mutation: Mutation::Pair,
                    label: format!(
                        "{} + {} deleted (lines {}, {})",
                        a.text, c.text, a.line, c.line
                    ),
                    steps: vec![(*a).clone(), (*c).clone()],
                    text: mutant_text(prog, &[a, c]),
                });
            }
        }
    }
    let pairs_judged = sets.len();
    let pairs = judge_all(&name, sets, s, done, &count)
        .into_iter()
        .filter(|a| matches!(a.verdict, Verdict::Broken { .. }))
        .collect();
    Ok(Review {
        path,
        singles,
        pairs,
        pairs_judged,
        questions,
        total,
    })
}
