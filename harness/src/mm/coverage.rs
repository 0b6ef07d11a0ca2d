//! Model coverage: for every path version a config uses, which steps ran and which way each
//! branch went (`if`/`else`, a loop entered, skipped or exited, `retry` exhausted, each
//! `return`), from random scenarios, a libFuzzer corpus, or the exhaustive search. Branch
//! directions the path file declares unreachable (`unreachable "REASON"`) are reported as
//! declared, not as never hit.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mmfuzz::mm::cover::{Cover, Way};
use mmfuzz::mm::program::{Code, Insn};
use mmfuzz::mm::Program;
use serde::Serialize;

use super::exec::{self, BadScenario};
use super::explore::{self, Bounds};
use super::generate;
use crate::rng::SplitMix64;

/// The budget of random scenarios: per job, until the time or the count runs out.
#[derive(Clone, Debug)]
pub struct Budget {
    /// Wall-clock budget (none: only `execs`).
    pub time: Option<Duration>,
    /// At most this many scenarios per job.
    pub execs: Option<u64>,
    /// Job `j` draws from `SplitMix64(seed + j)`, as `mmfuzz run`.
    pub seed: u64,
    /// Worker threads.
    pub jobs: usize,
}

/// Random scenarios (as `mmfuzz run` draws them) against `prog` for the budget: the counts
/// and the number of scenarios run. Each scenario runs once (not `run`'s search for a harm
/// after a latent defect).
pub fn random(prog: &Program, b: &Budget) -> (Arc<Cover>, u64) {
    let start = Instant::now();
    let jobs: Vec<(Arc<Cover>, u64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..b.jobs.max(1) as u64)
            .map(|j| {
                scope.spawn(move || {
                    let (p, cover) = prog.with_cover();
                    let mut rng = SplitMix64(b.seed.wrapping_add(j));
                    let mut n = 0u64;
                    while b.execs.is_none_or(|m| n < m)
                        && b.time.is_none_or(|t| start.elapsed() < t)
                    {
                        let sc = generate::random(&p, &mut rng);
                        let _ = exec::run(&p, &sc, exec::Opts::default());
                        n += 1;
                    }
                    (cover, n)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("job"))
            .collect()
    });
    let (_, total) = prog.with_cover();
    let mut execs = 0;
    for (c, n) in jobs {
        total.merge(&c);
        execs += n;
    }
    (total, execs)
}

/// The scenario a libFuzzer input of the `mm` target runs against config `k` of `n`
/// ([`crate::targets::mm`]): with one config chosen (`pick` = `None`, as `MMFUZZ_CONFIG`) the
/// whole input; else the first byte picks the built-in config and the rest is decoded.
pub fn corpus_input(data: &[u8], pick: Option<(usize, usize)>) -> Option<&[u8]> {
    match (pick, data.split_first()) {
        (None, _) => Some(data),
        (Some((k, n)), Some((b, rest))) => (*b as usize % n == k).then_some(rest),
        (Some((k, _)), None) => (k == 0).then_some(data),
    }
}

/// Replay libFuzzer inputs (decoded as the fuzz target does) against `prog`: the counts and
/// the number of inputs that were this config's.
pub fn corpus(
    prog: &Program,
    inputs: &[Vec<u8>],
    pick: Option<(usize, usize)>,
) -> (Arc<Cover>, u64) {
    let (p, cover) = prog.with_cover();
    let mut n = 0;
    for data in inputs {
        if let Some(bytes) = corpus_input(data, pick) {
            let sc = generate::decode(&p, bytes);
            let _ = exec::run(&p, &sc, exec::Opts::default());
            n += 1;
        }
    }
    (cover, n)
}

/// The exhaustive search within `b` (as `mmfuzz check`; it stops at the first
/// counterexample): the counts and the states settled.
pub fn exhaustive(prog: &Program, b: &Bounds) -> Result<(Arc<Cover>, u64), BadScenario> {
    let (p, cover) = prog.with_cover();
    let roots = explore::roots(&p, b);
    let rep = explore::search(&p, b, &roots, |_, _, _| {})?;
    Ok((cover, rep.states))
}

/// How many of the reachable ones were hit.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Ratio {
    /// Hit at least once.
    pub hit: u32,
    /// Reachable (not declared unreachable, nor under a declared-unreachable branch).
    pub reachable: u32,
}

impl Ratio {
    fn add(&mut self, o: Ratio) {
        self.hit += o.hit;
        self.reachable += o.reachable;
    }
    fn tally(&mut self, hit: bool) {
        self.hit += u32::from(hit);
        self.reachable += 1;
    }
}

/// Figures of one path version.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct PathFigures {
    /// `NAME@VERSION`.
    pub path: String,
    /// The file and line where it is written.
    pub at: String,
    /// Steps that ran.
    pub steps: Ratio,
    /// Branch directions taken.
    pub directions: Ratio,
    /// `return`s (the end of the path included) that ran.
    pub returns: Ratio,
    /// Branch directions declared unreachable (or under one).
    pub declared: u32,
}

/// A branch direction, step or return, named in source terms.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Line {
    /// `NAME@VERSION`.
    pub path: String,
    /// The file it is written in.
    pub file: String,
    /// The line in that file.
    pub line: u32,
    /// The statement, as written (`if test_bit MMF_OOM_SKIP`).
    pub what: String,
    /// The direction (`true`, `false`, `entered`, `skipped`, `exited`, `exhausted`) or what
    /// happened (`never done`: reached and never completed; `never returned`: a call).
    pub how: String,
    /// Times taken.
    pub hits: u64,
    /// Why it is unreachable (declared ones).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Coverage of one config.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Summary {
    /// Config name.
    pub config: String,
    /// Where the executions came from (`random`, `corpus DIR`, `check`).
    pub source: String,
    /// Scenarios run (states settled, for `check`).
    pub execs: u64,
    /// Per path version, in the program's order.
    pub paths: Vec<PathFigures>,
    /// All paths together.
    pub total: PathFigures,
    /// What was never hit and is not declared: branch directions never taken though their
    /// branch ran, steps reached and never done, calls that never returned, paths never run.
    pub never_hit: Vec<Line>,
    /// The declared-unreachable directions, with their reason (hits > 0: the declaration is
    /// wrong).
    pub declared: Vec<Line>,
}

impl Summary {
    /// Every reachable branch direction was taken.
    pub fn complete(&self) -> bool {
        self.total.directions.hit == self.total.directions.reachable
    }
}

/// Whether each instruction of `code` is a loop's test (the target of a jump back).
fn loop_tops(code: &Code) -> Vec<bool> {
    let mut tops = vec![false; code.insns.len()];
    for (pc, insn) in code.insns.iter().enumerate() {
        if let Insn::Jump(t) = *insn {
            if (t as usize) < pc {
                tops[t as usize] = true;
            }
        }
    }
    tops
}

/// The directions of a branch instruction, with their names (none for other instructions).
fn directions(insn: Insn, top: bool) -> &'static [(Way, &'static str)] {
    match (insn, top) {
        (Insn::Test(..), true) => &[(Way::True, "entered"), (Way::False, "false")],
        (Insn::Local(..), true) => &[
            (Way::True, "entered"),
            (Way::Skipped, "skipped"),
            (Way::Exited, "exited"),
        ],
        (Insn::Test(..) | Insn::Local(..), false) => &[(Way::True, "true"), (Way::False, "false")],
        (Insn::CtrNext(..), _) => &[(Way::True, "entered"), (Way::Exited, "exhausted")],
        _ => &[],
    }
}

/// Where an instruction goes within its path, with the branch direction of each edge.
fn succs(insn: Insn, pc: usize, top: bool) -> Vec<(usize, Option<Way>)> {
    let next = pc + 1;
    match insn {
        Insn::Test(_, _, t) | Insn::Local(_, _, t) | Insn::CtrNext(_, _, t) => {
            let mut v = vec![(next, Some(Way::True))];
            for &(w, _) in &directions(insn, top)[1..] {
                v.push((t as usize, Some(w)));
            }
            v
        }
        Insn::Jump(t) => vec![(t as usize, None)],
        Insn::Ret(_) => Vec::new(),
        _ => vec![(next, None)],
    }
}

/// The instructions reachable from the roles' entries, following calls and not crossing an
/// edge `cut` says is declared unreachable.
fn reach(
    prog: &Program,
    tops: &[Vec<bool>],
    cut: &dyn Fn(usize, usize, Way) -> bool,
) -> Vec<Vec<bool>> {
    let mut seen: Vec<Vec<bool>> = prog
        .paths
        .iter()
        .map(|c| vec![false; c.insns.len()])
        .collect();
    let mut todo: Vec<(usize, usize)> = prog.roles.iter().map(|&(_, e)| (e as usize, 0)).collect();
    while let Some((p, pc)) = todo.pop() {
        if std::mem::replace(&mut seen[p][pc], true) {
            continue;
        }
        let insn = prog.paths[p].insns[pc];
        if let Insn::Call(q) = insn {
            todo.push((q as usize, 0));
        }
        for (to, way) in succs(insn, pc, tops[p][pc]) {
            if way.is_none_or(|w| !cut(p, pc, w)) && to < seen[p].len() {
                todo.push((p, to));
            }
        }
    }
    seen
}

/// The statement an instruction comes from, as written (`if test_bit MMF_OOM_SKIP`); a step
/// that is not the statement's first word is named after it (`for_each_vma: vma_next`).
fn statement(code: &Code, pc: usize) -> String {
    let pos = code.pos[pc];
    if pc + 1 == code.insns.len() && pos == code.origin {
        return "end of the path".into();
    }
    let line = code
        .text
        .lines()
        .nth(pos.line.saturating_sub(code.origin.line) as usize)
        .unwrap_or_default();
    let chars: Vec<char> = line.chars().collect();
    let at = (pos.col as usize).saturating_sub(1).min(chars.len());
    let head: String = chars[..at].iter().collect();
    let tail: String = chars[at..]
        .iter()
        .take_while(|c| !"{};#".contains(**c))
        .collect();
    let mut s = tail.trim().to_string();
    if head.trim_end().ends_with("else") {
        s = format!("else {s}");
    }
    if let Insn::Step(p) | Insn::Test(p, _, _) = code.insns[pc] {
        let name = p.name();
        if !s.contains(&name) {
            s = format!("{s}: {name}");
        }
    }
    s
}

/// The file name a report shows: its last component (`exit_mmap.mmp` for a built-in one).
fn short_file(file: &str) -> &str {
    file.rsplit('/').next().unwrap_or(file)
}

/// What one path's analysis needs: the program, the counts and both reachability sets.
struct Ctx<'a> {
    prog: &'a Program,
    cover: &'a Cover,
    tops: Vec<Vec<bool>>,
    /// Reachable at all (code after a `return` is not).
    all: Vec<Vec<bool>>,
    /// Reachable without crossing a declared-unreachable direction.
    live: Vec<Vec<bool>>,
    /// Per instruction: its predecessors by plain (non-branch) edges, calls included.
    plain_preds: Vec<Vec<Vec<(usize, usize)>>>,
}

impl Ctx<'_> {
    fn ran(&self, p: usize, pc: usize) -> bool {
        let c = |w| self.cover.count(p as u16, pc as u16, w);
        c(Way::True) + c(Way::False) > 0
    }

    fn line(&self, p: usize, pc: usize, how: &str, hits: u64) -> Line {
        let code = &self.prog.paths[p];
        Line {
            path: format!("{}@{}", code.name, code.version),
            file: short_file(&code.file).to_string(),
            line: code.pos[pc].line,
            what: statement(code, pc),
            how: how.to_string(),
            hits,
            reason: None,
        }
    }

    /// A live instruction that never ran, if it is where coverage stops: a step that was
    /// reached (what ran before it, or a role's entry) and never done, or a call's return
    /// point after a call that never returned.
    fn stopped(&self, p: usize, pc: usize) -> Option<Line> {
        let insn = self.prog.paths[p].insns[pc];
        let preds = &self.plain_preds[p][pc];
        let entry = pc == 0 && self.prog.roles.iter().any(|&(_, e)| e as usize == p);
        match insn {
            Insn::Step(_) | Insn::Test(..) => (entry
                || preds
                    .iter()
                    .any(|&(q, qc)| self.live[q][qc] && self.ran(q, qc)))
            .then(|| self.line(p, pc, "never done", 0)),
            _ if entry => {
                let code = &self.prog.paths[p];
                let mut l = self.line(p, pc, "never started", 0);
                (l.line, l.what) = (code.origin.line, format!("path {}", l.path));
                Some(l)
            }
            _ => preds
                .iter()
                .find(|&&(q, qc)| {
                    q == p
                        && matches!(self.prog.paths[q].insns[qc], Insn::Call(_))
                        && self.ran(q, qc)
                })
                .map(|&(q, qc)| self.line(q, qc, "never returned", 0)),
        }
    }
}

fn plain_preds(prog: &Program, tops: &[Vec<bool>]) -> Vec<Vec<Vec<(usize, usize)>>> {
    let mut preds: Vec<Vec<Vec<(usize, usize)>>> = prog
        .paths
        .iter()
        .map(|c| vec![Vec::new(); c.insns.len()])
        .collect();
    for (p, code) in prog.paths.iter().enumerate() {
        for (pc, &insn) in code.insns.iter().enumerate() {
            if let Insn::Call(q) = insn {
                preds[q as usize][0].push((p, pc));
            }
            for (to, way) in succs(insn, pc, tops[p][pc]) {
                if way.is_none() && to < code.insns.len() {
                    preds[p][to].push((p, pc));
                }
            }
        }
    }
    preds
}

/// Path indices as a reader meets them: each role's entry path, then what it calls, depth
/// first.
fn reading_order(prog: &Program) -> Vec<usize> {
    fn visit(prog: &Program, p: usize, seen: &mut [bool], out: &mut Vec<usize>) {
        if std::mem::replace(&mut seen[p], true) {
            return;
        }
        out.push(p);
        for insn in &prog.paths[p].insns {
            if let Insn::Call(q) = *insn {
                visit(prog, q as usize, seen, out);
            }
        }
    }
    let mut seen = vec![false; prog.paths.len()];
    let mut out = Vec::new();
    for &(_, e) in &prog.roles {
        visit(prog, e as usize, &mut seen, &mut out);
    }
    out
}

/// Coverage of `prog` from `cover`'s counts; `source` and `execs` say where they came from.
pub fn analyze(prog: &Program, cover: &Cover, source: &str, execs: u64) -> Summary {
    let tops: Vec<Vec<bool>> = prog.paths.iter().map(loop_tops).collect();
    let declared = |p: usize, pc: usize, w: Way| {
        prog.paths[p]
            .declared
            .iter()
            .any(|d| d.pc as usize == pc && d.way == w)
    };
    let ctx = Ctx {
        prog,
        cover,
        all: reach(prog, &tops, &|_, _, _| false),
        live: reach(prog, &tops, &declared),
        plain_preds: plain_preds(prog, &tops),
        tops,
    };
    let mut s = Summary {
        config: prog.config.name.clone(),
        source: source.to_string(),
        execs,
        paths: Vec::new(),
        total: PathFigures {
            path: "all".into(),
            ..PathFigures::default()
        },
        never_hit: Vec::new(),
        declared: Vec::new(),
    };
    for p in reading_order(prog) {
        let f = one_path(&ctx, p, &mut s);
        let t = &mut s.total;
        t.steps.add(f.steps);
        t.directions.add(f.directions);
        t.returns.add(f.returns);
        t.declared += f.declared;
        s.paths.push(f);
    }
    s.never_hit.dedup();
    s
}

/// One path's figures; its never-hit and declared lines go into `s`.
fn one_path(ctx: &Ctx<'_>, p: usize, s: &mut Summary) -> PathFigures {
    let code = &ctx.prog.paths[p];
    let mut f = PathFigures {
        path: format!("{}@{}", code.name, code.version),
        at: format!("{}:{}", short_file(&code.file), code.origin.line),
        ..PathFigures::default()
    };
    for (pc, &insn) in code.insns.iter().enumerate() {
        if !ctx.all[p][pc] {
            continue;
        }
        let (live, ran) = (ctx.live[p][pc], ctx.ran(p, pc));
        match insn {
            Insn::Step(_) | Insn::Test(..) if live => f.steps.tally(ran),
            Insn::Ret(_) if live => f.returns.tally(ran),
            _ => {}
        }
        if live && !ran {
            s.never_hit.extend(ctx.stopped(p, pc));
        }
        for &(way, name) in directions(insn, ctx.tops[p][pc]) {
            let hits = ctx.cover.count(p as u16, pc as u16, way);
            let decl = code
                .declared
                .iter()
                .find(|d| d.pc as usize == pc && d.way == way);
            if let Some(d) = decl {
                let mut l = ctx.line(p, pc, name, hits);
                l.reason = Some(d.reason.clone());
                s.declared.push(l);
            }
            if decl.is_some() || !live {
                f.declared += 1;
                continue;
            }
            f.directions.tally(hits > 0);
            if hits == 0 && ran {
                s.never_hit.push(ctx.line(p, pc, name, 0));
            }
        }
    }
    f
}

/// `hit/reachable`.
fn ratio(r: Ratio) -> String {
    format!("{}/{}", r.hit, r.reachable)
}

/// `s` cut to `width` characters (an ellipsis marks the cut).
fn fit(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut t: String = s.chars().take(width - 1).collect();
    t.push('…');
    t
}

/// A line's place and what it is: one line if it fits in 80 columns, else two.
fn entry(l: &Line, out: &mut Vec<String>) {
    let head = format!("    {}:{} {}:", l.file, l.line, l.path);
    let body = format!("{} → {}", l.what, l.how);
    if head.chars().count() + 1 + body.chars().count() <= 80 {
        out.push(format!("{head} {body}"));
    } else {
        out.push(fit(&head, 80));
        out.push(fit(&format!("      {body}"), 80));
    }
}

/// `text` in lines of at most `width` columns, each indented by `indent` spaces.
fn wrap(text: &str, indent: usize, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = " ".repeat(indent);
    for w in text.split_whitespace() {
        if cur.len() > indent && cur.chars().count() + 1 + w.chars().count() > width {
            lines.push(std::mem::replace(&mut cur, " ".repeat(indent)));
        }
        if cur.len() > indent {
            cur.push(' ');
        }
        cur.push_str(w);
    }
    lines.push(fit(&cur, width));
    lines
}

impl Summary {
    /// The report for people: a headline, a table per path version, the never-hit lines and
    /// the declared ones (each line at most 80 columns).
    pub fn text(&self) -> String {
        let pct = |r: Ratio| match r.reachable {
            0 => 100.0,
            n => 100.0 * f64::from(r.hit) / f64::from(n),
        };
        let what = match self.source.as_str() {
            "random" => "scenarios",
            "check" => "states",
            _ => "corpus inputs",
        };
        let mut out = vec![fit(
            &format!(
                "{}: branch directions {} ({:.0}%), steps {}, {} {what}",
                self.config,
                ratio(self.total.directions),
                pct(self.total.directions).floor(),
                ratio(self.total.steps),
                self.execs,
            ),
            80,
        )];
        out.push(format!(
            "  {:<30} {:>9} {:>11} {:>8} {:>8}",
            "path version", "steps", "directions", "returns", "declared"
        ));
        for f in self.paths.iter().chain([&self.total]) {
            out.push(format!(
                "  {:<30} {:>9} {:>11} {:>8} {:>8}",
                fit(&f.path, 30),
                ratio(f.steps),
                ratio(f.directions),
                ratio(f.returns),
                f.declared
            ));
        }
        if !self.never_hit.is_empty() {
            out.push("  never hit:".into());
            for l in &self.never_hit {
                entry(l, &mut out);
            }
        }
        if !self.declared.is_empty() {
            out.push("  declared unreachable:".into());
            for l in &self.declared {
                entry(l, &mut out);
                let mark = match l.hits {
                    0 => String::new(),
                    n => format!("HIT {n} times! "),
                };
                let why = format!("{mark}{}", l.reason.as_deref().unwrap_or_default());
                out.extend(wrap(&why, 6, 80));
            }
        }
        out.join("\n")
    }
}
