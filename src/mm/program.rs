//! Resolving a config into a program: the path versions it uses, compiled to flat code.

use std::collections::HashMap;
use std::sync::Arc;

use super::cover::{Cover, Sink, Way};
use super::lang::{
    Cond, CondKind, ConfigDef, LangError, Meta, PathDef, Pos, Prim, Stmt, Toward, Unit,
    Unreachable, Value, VmaStore,
};
use super::types::Role;

/// A local condition (evaluated without a step).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Local {
    /// The cursor is not NULL.
    Vma,
    /// `ret != 0`.
    Ret,
    /// A `let` variable.
    Var(u8),
    /// The task cursor is not NULL.
    Task,
    /// `count != 0`.
    Count,
}

/// One instruction. `Step` and `Test` are steps; everything else runs for free.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Insn {
    /// Execute a primitive.
    Step(Prim),
    /// Execute a conditional primitive; jump to the target unless `value != neg`.
    Test(Prim, bool, u16),
    /// Test a local; jump to the target unless `value != neg`.
    Local(Local, bool, u16),
    /// Jump.
    Jump(u16),
    /// Call a path (index into [`Program::paths`]).
    Call(u16),
    /// Return, optionally setting `ret`.
    Ret(Option<Value>),
    /// Set a `let` variable.
    Let(u8, bool),
    /// Set `ret`.
    SetRet(Value),
    /// Reset loop counter.
    CtrInit(u8),
    /// If counter >= n jump to target, else count.
    CtrNext(u8, u8, u16),
}

/// A compiled path version.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Code {
    /// Path name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Provenance.
    pub meta: Meta,
    /// Instructions.
    pub insns: Vec<Insn>,
    /// Source position of each instruction.
    pub pos: Vec<Pos>,
    /// File the path came from.
    pub file: String,
    /// Where the `path` item starts in the file (the first line of `text`).
    pub origin: Pos,
    /// Its source text.
    pub text: String,
    /// Branch directions the file declares unreachable in this config (`unreachable`).
    pub declared: Vec<Declared>,
}

/// A branch direction declared unreachable (`unreachable "REASON"`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Declared {
    /// The branch instruction (`Test`, `Local` or `CtrNext`).
    pub pc: u16,
    /// The direction.
    pub way: Way,
    /// Why it is never taken.
    pub reason: String,
    /// Where the declaration is written.
    pub pos: Pos,
}

/// A config resolved against the available path versions.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Program {
    /// The config.
    pub config: ConfigDef,
    /// Every path version the config reaches, compiled.
    pub paths: Vec<Code>,
    /// The roles scenarios may start, with their entry path.
    pub roles: Vec<(Role, u16)>,
    /// Where executions count what they run (coverage), if anywhere.
    pub cover: Sink,
}

/// What each instruction can still lead to: for every path and program counter, the union of
/// the [`Prim::footprint`]s of the steps reachable from it (through calls, within the path)
/// and whether the path can return from there. [`Futures::of`] extends it over a thread's
/// call stack: the locations the thread may still touch.
#[derive(Clone, Debug)]
pub struct Futures {
    at: Vec<Vec<(super::Footprint, bool)>>,
}

impl Futures {
    /// Every path's table, by fixpoint over the control flow.
    pub fn new(prog: &Program) -> Futures {
        let mut at: Vec<Vec<(super::Footprint, bool)>> = prog
            .paths
            .iter()
            .map(|c| vec![(super::Footprint::default(), false); c.insns.len() + 1])
            .collect();
        for row in &mut at {
            // Falling off the end returns.
            *row.last_mut().expect("one past the end") = (super::Footprint::default(), true);
        }
        loop {
            let mut changed = false;
            for (p, code) in prog.paths.iter().enumerate() {
                for i in (0..code.insns.len()).rev() {
                    let get = |at: &Vec<Vec<(super::Footprint, bool)>>, q: usize, j: usize| {
                        at[q][j.min(at[q].len() - 1)]
                    };
                    let join = |a: (super::Footprint, bool), b: (super::Footprint, bool)| {
                        (a.0.union(b.0), a.1 || b.1)
                    };
                    let next = get(&at, p, i + 1);
                    let v = match code.insns[i] {
                        Insn::Step(prim) => (prim.footprint().union(next.0), next.1),
                        Insn::Test(prim, _, t) => {
                            let j = join(next, get(&at, p, t as usize));
                            (prim.footprint().union(j.0), j.1)
                        }
                        Insn::Local(_, _, t) | Insn::CtrNext(_, _, t) => {
                            join(next, get(&at, p, t as usize))
                        }
                        Insn::Jump(t) => get(&at, p, t as usize),
                        Insn::Call(q) => {
                            let callee = get(&at, q as usize, 0);
                            if callee.1 {
                                (callee.0.union(next.0), next.1)
                            } else {
                                (callee.0, false)
                            }
                        }
                        Insn::Ret(_) => (super::Footprint::default(), true),
                        Insn::Let(..) | Insn::SetRet(_) | Insn::CtrInit(_) => next,
                    };
                    let old = at[p][i];
                    let new = join(old, v);
                    if new != old {
                        at[p][i] = new;
                        changed = true;
                    }
                }
            }
            if !changed {
                return Futures { at };
            }
        }
    }

    /// The footprint of everything a thread with this call stack may still run (nothing for
    /// a thread that is done).
    pub fn of(&self, frames: &[super::state::Frame]) -> super::Footprint {
        let mut out = super::Footprint::default();
        for f in frames.iter().rev() {
            let row = &self.at[f.path as usize];
            let (fp, returns) = row[(f.pc as usize).min(row.len() - 1)];
            out = out.union(fp);
            if !returns {
                break;
            }
        }
        out
    }
}

impl Program {
    /// Entry path of a role, if the config offers it.
    pub fn entry(&self, role: Role) -> Option<u16> {
        self.roles.iter().find(|(r, _)| *r == role).map(|&(_, p)| p)
    }
    /// How many threads of `role` the generators and `check` start at most: the number of
    /// times the config lists it (`role exit oom_kill oom_kill`: two allocations failing at
    /// once), 0 if it does not offer it.
    pub fn instances(&self, role: Role) -> usize {
        self.config
            .roles
            .iter()
            .filter(|r| Role::parse(r) == Some(role))
            .count()
    }
    /// The roles offered, each as many times as it may be instantiated.
    pub fn offered(&self) -> Vec<Role> {
        let mut out = Vec::new();
        for &(r, _) in &self.roles {
            out.extend(std::iter::repeat_n(r, self.instances(r)));
        }
        out
    }
    /// The VMA structure readers walk.
    pub fn store(&self) -> VmaStore {
        self.config.store
    }
    /// This program with a fresh [`Cover`] that every execution of it fills.
    pub fn with_cover(&self) -> (Program, Arc<Cover>) {
        let lens: Vec<usize> = self.paths.iter().map(|c| c.insns.len()).collect();
        let cover = Arc::new(Cover::new(&lens));
        let mut p = self.clone();
        p.cover = Sink(Some(cover.clone()));
        (p, cover)
    }
    /// The source of the program: its config, then every path version it uses.
    pub fn source(&self) -> String {
        let mut out = self.config.text.clone();
        out.push('\n');
        for p in &self.paths {
            out.push('\n');
            out.push_str(&p.text);
            out.push('\n');
        }
        out
    }
}

/// A block being compiled inside a branch: the branch instruction, the direction into the
/// block, and for a loop the directions `unreachable skip` and `unreachable exit` name.
#[derive(Clone, Copy)]
struct Enclosing {
    pc: usize,
    into: Way,
    skip: Option<Way>,
    exit: Option<Way>,
}

impl Enclosing {
    fn branch(pc: usize, into: Way) -> Enclosing {
        Enclosing {
            pc,
            into,
            skip: None,
            exit: None,
        }
    }
    /// A loop body. `skip`: a loop on a local, whose entry and later tests are told apart;
    /// `again`: its exit is a test after a round (not so for a `while` on a primitive, whose
    /// false direction is one).
    fn looping(pc: usize, skip: bool, again: bool) -> Enclosing {
        Enclosing {
            pc,
            into: Way::True,
            skip: skip.then_some(Way::Skipped),
            exit: Some(if again { Way::Exited } else { Way::False }),
        }
    }
}

struct Compiler<'a> {
    insns: Vec<Insn>,
    pos: Vec<Pos>,
    /// Per open loop: (break patch list, continue patch list).
    loops: Vec<(Vec<usize>, Vec<usize>)>,
    /// Open branch blocks, innermost last.
    blocks: Vec<Enclosing>,
    declared: Vec<Declared>,
    counters: u8,
    index: &'a HashMap<String, u16>,
    file: &'a str,
    /// The config being resolved (`unreachable … in CONFIG`).
    config: &'a str,
}

impl Compiler<'_> {
    fn emit(&mut self, i: Insn, p: Pos) -> usize {
        self.insns.push(i);
        self.pos.push(p);
        self.insns.len() - 1
    }
    fn here(&self) -> u16 {
        self.insns.len() as u16
    }
    fn patch(&mut self, at: usize, target: u16) {
        self.insns[at] = match self.insns[at] {
            Insn::Test(p, n, _) => Insn::Test(p, n, target),
            Insn::Local(l, n, _) => Insn::Local(l, n, target),
            Insn::Jump(_) => Insn::Jump(target),
            Insn::CtrNext(c, n, _) => Insn::CtrNext(c, n, target),
            other => other,
        };
    }
    fn cond(&mut self, c: &Cond, p: Pos) -> usize {
        match c.kind {
            CondKind::Prim(prim) => self.emit(Insn::Test(prim, c.neg, 0), p),
            CondKind::Vma => self.emit(Insn::Local(Local::Vma, c.neg, 0), p),
            CondKind::Ret => self.emit(Insn::Local(Local::Ret, c.neg, 0), p),
            CondKind::Var(v) => self.emit(Insn::Local(Local::Var(v), c.neg, 0), p),
            CondKind::Task => self.emit(Insn::Local(Local::Task, c.neg, 0), p),
            CondKind::Count => self.emit(Insn::Local(Local::Count, c.neg, 0), p),
        }
    }
    fn close_loop(&mut self, cont: u16, end: u16) {
        let (brk, cnt) = self.loops.pop().expect("open loop");
        for b in brk {
            self.patch(b, end);
        }
        for c in cnt {
            self.patch(c, cont);
        }
    }
    /// `first`; while the cursor (`local`) is set: the body, then `next`. `continue` goes to
    /// `next`, `break` past the loop.
    fn cursor_loop(
        &mut self,
        first: Prim,
        next: Prim,
        local: Local,
        body: &[Stmt],
        pos: Pos,
    ) -> Result<(), LangError> {
        self.emit(Insn::Step(first), pos);
        let top = self.here();
        let t = self.emit(Insn::Local(local, false, 0), pos);
        self.loops.push((vec![t], Vec::new()));
        self.nest(Enclosing::looping(t, true, true), body)?;
        let cont = self.here();
        self.emit(Insn::Step(next), pos);
        self.emit(Insn::Jump(top), pos);
        let end = self.here();
        self.close_loop(cont, end);
        Ok(())
    }

    fn block(&mut self, body: &[Stmt]) -> Result<(), LangError> {
        for s in body {
            self.stmt(s)?;
        }
        Ok(())
    }
    /// `body`, inside the branch block `e`.
    fn nest(&mut self, e: Enclosing, body: &[Stmt]) -> Result<(), LangError> {
        self.blocks.push(e);
        let r = self.block(body);
        self.blocks.pop();
        r
    }
    /// Record an `unreachable` written at `pos` (if it holds in this config).
    fn declare(&mut self, u: &Unreachable, pos: Pos) -> Result<(), LangError> {
        if !u.configs.is_empty() && !u.configs.iter().any(|c| c == self.config) {
            return Ok(());
        }
        let err = |msg: &str| LangError {
            file: self.file.into(),
            pos,
            msg: msg.into(),
        };
        let found = match u.toward {
            Toward::Into => self.blocks.last().map(|e| (e.pc, Some(e.into))),
            Toward::Skip => self
                .blocks
                .iter()
                .rev()
                .find_map(|e| e.exit.map(|_| (e.pc, e.skip))),
            Toward::Exit => self
                .blocks
                .iter()
                .rev()
                .find_map(|e| e.exit.map(|x| (e.pc, Some(x)))),
        };
        let (pc, way) = found.ok_or_else(|| err("`unreachable` outside a branch or loop"))?;
        let way = way.ok_or_else(|| {
            err("`unreachable skip`: only a loop on a local (`for_each_*`, `while vma`) can be skipped; `retry` always runs a round, a `while` on a primitive has one false direction (`unreachable exit`)")
        })?;
        self.declared.push(Declared {
            pc: pc as u16,
            way,
            reason: u.reason.clone(),
            pos,
        });
        Ok(())
    }
    fn stmt(&mut self, s: &Stmt) -> Result<(), LangError> {
        match s {
            Stmt::Prim(p, pos) => {
                self.emit(Insn::Step(*p), *pos);
            }
            Stmt::If(c, then, els, pos) => {
                let t = self.cond(c, *pos);
                self.nest(Enclosing::branch(t, Way::True), then)?;
                let declares_only = els.iter().all(|s| matches!(s, Stmt::Unreachable(..)));
                if declares_only {
                    let end = self.here();
                    self.patch(t, end);
                    self.nest(Enclosing::branch(t, Way::False), els)?;
                } else {
                    let j = self.emit(Insn::Jump(0), *pos);
                    let e = self.here();
                    self.patch(t, e);
                    self.nest(Enclosing::branch(t, Way::False), els)?;
                    let end = self.here();
                    self.patch(j, end);
                }
            }
            Stmt::ForEachVma(body, pos) => {
                self.cursor_loop(Prim::vma_first, Prim::vma_next, Local::Vma, body, *pos)?
            }
            Stmt::ForEachTask(body, pos) => {
                self.cursor_loop(Prim::task_first, Prim::task_next, Local::Task, body, *pos)?
            }
            Stmt::While(c, body, pos) => {
                let top = self.here();
                let t = self.cond(c, *pos);
                self.loops.push((vec![t], Vec::new()));
                let local = !matches!(c.kind, CondKind::Prim(_));
                self.nest(Enclosing::looping(t, local, local), body)?;
                self.emit(Insn::Jump(top), *pos);
                let end = self.here();
                self.close_loop(top, end);
            }
            Stmt::Retry(n, body, pos) => {
                if self.counters >= 4 {
                    return Err(LangError {
                        file: self.file.into(),
                        pos: *pos,
                        msg: "at most 4 retry loops per path".into(),
                    });
                }
                let c = self.counters;
                self.counters += 1;
                self.emit(Insn::CtrInit(c), *pos);
                let top = self.here();
                let t = self.emit(Insn::CtrNext(c, *n as u8, 0), *pos);
                self.loops.push((vec![t], Vec::new()));
                self.nest(Enclosing::looping(t, false, true), body)?;
                self.emit(Insn::Jump(top), *pos);
                let end = self.here();
                self.close_loop(top, end);
            }
            Stmt::Break(pos) => {
                let j = self.emit(Insn::Jump(0), *pos);
                self.loops.last_mut().expect("parser checks").0.push(j);
            }
            Stmt::Continue(pos) => {
                let j = self.emit(Insn::Jump(0), *pos);
                self.loops.last_mut().expect("parser checks").1.push(j);
            }
            Stmt::Return(v, pos) => {
                self.emit(Insn::Ret(*v), *pos);
            }
            Stmt::Call(name, pos) => {
                let Some(&i) = self.index.get(name) else {
                    return Err(LangError {
                        file: self.file.into(),
                        pos: *pos,
                        msg: format!("call of unknown path {name:?}"),
                    });
                };
                self.emit(Insn::Call(i), *pos);
            }
            Stmt::Let(v, b, pos) => {
                self.emit(Insn::Let(*v, *b), *pos);
            }
            Stmt::SetRet(v, pos) => {
                self.emit(Insn::SetRet(*v), *pos);
            }
            Stmt::Unreachable(u, pos) => self.declare(u, *pos)?,
        }
        Ok(())
    }
}

fn calls(body: &[Stmt], out: &mut Vec<(String, Pos)>) {
    for s in body {
        match s {
            Stmt::Call(n, p) => out.push((n.clone(), *p)),
            Stmt::If(_, a, b, _) => {
                calls(a, out);
                calls(b, out);
            }
            Stmt::ForEachVma(b, _)
            | Stmt::ForEachTask(b, _)
            | Stmt::While(_, b, _)
            | Stmt::Retry(_, b, _) => calls(b, out),
            _ => {}
        }
    }
}

/// Resolve `config` against `available` path versions (a user's file first, then the built-in
/// ones): each path the roles reach takes the version the config `use`s, or the only version
/// there is.
pub fn resolve(config: &ConfigDef, available: &[&Unit]) -> Result<Program, LangError> {
    let (cfile, cpos) = config.origin.clone();
    let err = |pos: Pos, msg: String| LangError {
        file: cfile.clone(),
        pos,
        msg,
    };
    let find = |name: &str, version: Option<&str>| -> Vec<&PathDef> {
        let mut found: Vec<&PathDef> = Vec::new();
        for u in available {
            for p in &u.paths {
                if p.name == name
                    && version.is_none_or(|v| p.version == v)
                    && !found.iter().any(|f| f.version == p.version)
                {
                    found.push(p);
                }
            }
        }
        found
    };
    for (n, v, p) in &config.uses {
        if find(n, Some(v)).is_empty() {
            let have: Vec<String> = find(n, None).iter().map(|d| d.version.clone()).collect();
            return Err(err(
                *p,
                format!("no path {n}@{v} (versions of {n}: {})", have.join(", ")),
            ));
        }
    }
    let choose = |name: &str, at: Pos| -> Result<&PathDef, LangError> {
        if let Some((_, v, _)) = config.uses.iter().find(|(n, _, _)| n == name) {
            return Ok(find(name, Some(v))[0]);
        }
        let all = find(name, None);
        match all.len() {
            1 => Ok(all[0]),
            0 => Err(err(
                at,
                format!(
                    "config {} reaches path {name:?}, which no file defines",
                    config.name
                ),
            )),
            _ => {
                let vs: Vec<&str> = all.iter().map(|d| d.version.as_str()).collect();
                Err(err(
                    at,
                    format!(
                        "config {} must choose a version of {name} (`use {name}@…`; there are {})",
                        config.name,
                        vs.join(", ")
                    ),
                ))
            }
        }
    };
    let mut roles = Vec::new();
    let mut defs: Vec<&PathDef> = Vec::new();
    let mut index: HashMap<String, u16> = HashMap::new();
    let mut queue: Vec<(String, Pos)> = Vec::new();
    for r in &config.roles {
        let role = Role::parse(r).ok_or_else(|| {
            err(
                cpos,
                format!("unknown role {r:?} (exit, oom_reaper, mrelease, proc, oom_kill, pm, user, holder, swapoff, maps, ptrace)"),
            )
        })?;
        if roles.iter().any(|(r, _)| *r == role) {
            // Listed again: one more instance of it ([`Program::instances`]).
            continue;
        }
        queue.push((role.entry().to_string(), cpos));
        roles.push((role, role.entry().to_string()));
    }
    while let Some((name, at)) = queue.pop() {
        if index.contains_key(&name) {
            continue;
        }
        let def = choose(&name, at)?;
        index.insert(name.clone(), defs.len() as u16);
        defs.push(def);
        let mut c = Vec::new();
        calls(&def.body, &mut c);
        queue.extend(c);
    }
    let mut paths = Vec::new();
    for def in &defs {
        let mut c = Compiler {
            insns: Vec::new(),
            pos: Vec::new(),
            loops: Vec::new(),
            blocks: Vec::new(),
            declared: Vec::new(),
            counters: 0,
            index: &index,
            file: &def.origin.0,
            config: &config.name,
        };
        c.block(&def.body)?;
        c.emit(Insn::Ret(None), def.origin.1);
        paths.push(Code {
            name: def.name.clone(),
            version: def.version.clone(),
            meta: def.meta.clone(),
            insns: c.insns,
            pos: c.pos,
            file: def.origin.0.clone(),
            origin: def.origin.1,
            text: def.text.clone(),
            declared: c.declared,
        });
    }
    let roles = roles.into_iter().map(|(r, e)| (r, index[&e])).collect();
    Ok(Program {
        config: config.clone(),
        paths,
        roles,
        cover: Sink::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::{Insn, Local as L};
    use crate::mm::builtin::load_file;
    use crate::mm::prims::Prim;

    fn compile(body: &str) -> Vec<Insn> {
        let text = format!(
            "config t {{\n  expect safe\n  use exit_mm@t\n  role exit\n}}\npath exit_mm@t {{\n{body}\n}}\npath helper@t {{\n  msleep\n}}\n"
        );
        let prog = load_file("f.mmp", &text)
            .unwrap_or_else(|e| panic!("{e}"))
            .remove(0);
        prog.paths[prog.entry(crate::mm::Role::Exit).unwrap() as usize]
            .insns
            .clone()
    }

    /// `if`/`else` jumps past the branch not taken; a path ends in an implicit `return`.
    #[test]
    fn if_else_compiles_to_a_test_and_a_jump() {
        use Insn::*;
        assert_eq!(
            compile("  if mmap_read_trylock { msleep } else { count_inc }\n  count_reset"),
            [
                Test(Prim::mmap_read_trylock, false, 3),
                Step(Prim::msleep),
                Jump(4),
                Step(Prim::count_inc),
                Step(Prim::count_reset),
                Ret(None),
            ]
        );
    }

    /// `for_each_vma`: `vma_first`, the body while `vma`, then `vma_next`; `continue` goes to
    /// `vma_next` and `break` past the loop. `retry N` counts its rounds.
    #[test]
    fn loops_patch_break_and_continue() {
        use Insn::*;
        assert_eq!(
            compile("  for_each_vma {\n    if count { continue }\n    if !vma { break }\n  }"),
            [
                Step(Prim::vma_first),
                Local(L::Vma, false, 8),
                Local(L::Count, false, 4),
                Jump(6), // continue: to vma_next
                Local(L::Vma, true, 6),
                Jump(8), // break: past the loop
                Step(Prim::vma_next),
                Jump(1),
                Ret(None),
            ]
        );
        assert_eq!(
            compile("  retry 2 {\n    call helper\n  }"),
            [CtrInit(0), CtrNext(0, 2, 4), Call(1), Jump(1), Ret(None)]
        );
    }

    /// `unreachable` compiles to nothing and declares the direction into its block: an `if`'s
    /// true one, an `else`'s false one (an `else` of declarations only adds no jump), a loop's
    /// `skip` or `exit`; `in CONFIG` limits it to those configs.
    #[test]
    fn unreachable_declares_a_direction_and_emits_nothing() {
        use crate::mm::cover::Way;
        let declared = |body: &str| {
            let text = format!(
                "config t {{\n  use exit_mm@t\n  role exit\n}}\npath exit_mm@t {{\n{body}\n}}\n"
            );
            let prog = load_file("f.mmp", &text)
                .unwrap_or_else(|e| panic!("{e}"))
                .remove(0);
            let code = &prog.paths[0];
            let d: Vec<(u16, Way, u32)> = code
                .declared
                .iter()
                .map(|d| (d.pc, d.way, d.pos.line))
                .collect();
            (code.insns.clone(), d)
        };
        let (insns, d) = declared(
            "  if mmap_read_trylock {\n    msleep\n  } else {\n    unreachable \"r\"\n  }",
        );
        assert_eq!(
            insns,
            [
                Insn::Test(Prim::mmap_read_trylock, false, 2),
                Insn::Step(Prim::msleep),
                Insn::Ret(None)
            ]
        );
        assert_eq!(d, [(0, Way::False, 9)]);
        let (_, d) = declared("  for_each_vma {\n    unreachable skip \"s\"\n    unreachable exit \"e\"\n    if vma { unreachable \"t\" }\n  }");
        assert_eq!(
            d,
            [(1, Way::Skipped, 7), (1, Way::Exited, 8), (2, Way::True, 9)]
        );
        let (_, d) = declared("  retry 3 {\n    unreachable exit \"e\"\n  }\n  while mmap_read_trylock {\n    unreachable exit \"e\"\n  }");
        assert_eq!(d, [(1, Way::Exited, 7), (3, Way::False, 10)]);
        let (_, d) = declared("  if vma {\n    unreachable \"r\" in other\n  }");
        assert!(d.is_empty());
        let (_, d) = declared("  if vma {\n    unreachable \"r\" in other t\n  }");
        assert_eq!(d, [(0, Way::True, 7)]);
        let err = load_file(
            "f.mmp",
            "config t {\n  use exit_mm@t\n  role exit\n}\npath exit_mm@t {\n  retry 2 {\n    unreachable skip \"s\"\n  }\n}\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("f.mmp:7:5: `unreachable skip`: only a loop on a local"),
            "{err}"
        );
    }

    /// Resolution errors name the config's file and the offending position.
    #[test]
    fn resolution_errors_name_what_is_missing() {
        let err = |text: &str| load_file("f.mmp", text).unwrap_err().to_string();
        assert_eq!(
            err("config t {\n  use helper@v9\n  role exit\n}\npath helper@v1 {\n  msleep\n}\n"),
            "f.mmp:2:7: no path helper@v9 (versions of helper: v1)"
        );
        // The built-in files define exit_mm twice: a config must say which.
        assert!(err("config t {\n  role exit\n}\n").contains(
            "f.mmp:1:1: config t must choose a version of exit_mm (`use exit_mm@…`; there are"
        ));
        assert!(err("config t {\n  role vampire\n}\n").contains("unknown role \"vampire\""));
        assert_eq!(
            err("config t {\n  use exit_mm@a\n  role exit\n}\npath exit_mm@a {\n  call nowhere\n}\n"),
            "f.mmp:6:3: config t reaches path \"nowhere\", which no file defines"
        );
    }
}
