//! The lexer and the recursive-descent parser of the path language: text to [`Unit`], with
//! file:line:col on every error.

use super::*;
use crate::mm::invariant::Invariant;
use crate::mm::prims::{Arg, Prim, Words};

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Open,
    Close,
    Bang,
    Eq,
    Semi,
    Newline,
}

struct Lexer<'a> {
    file: &'a str,
    toks: Vec<(Tok, Pos)>,
    at: usize,
}

fn lex(file: &str, text: &str) -> Result<Vec<(Tok, Pos)>, LangError> {
    let mut toks = Vec::new();
    for (ln, line) in text.lines().enumerate() {
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let pos = Pos {
                line: ln as u32 + 1,
                col: i as u32 + 1,
            };
            match c {
                '#' => break,
                ' ' | '\t' | '\r' => i += 1,
                '{' => {
                    toks.push((Tok::Open, pos));
                    i += 1
                }
                '}' => {
                    toks.push((Tok::Close, pos));
                    i += 1
                }
                '!' => {
                    toks.push((Tok::Bang, pos));
                    i += 1
                }
                '=' => {
                    toks.push((Tok::Eq, pos));
                    i += 1
                }
                ';' => {
                    toks.push((Tok::Semi, pos));
                    i += 1
                }
                '"' => {
                    let start = i + 1;
                    let Some(end) = chars[start..].iter().position(|&c| c == '"') else {
                        return Err(LangError {
                            file: file.into(),
                            pos,
                            msg: "unterminated string".into(),
                        });
                    };
                    toks.push((Tok::Str(chars[start..start + end].iter().collect()), pos));
                    i = start + end + 1;
                }
                c if c.is_ascii_alphanumeric() || "_@.-|+/".contains(c) => {
                    let start = i;
                    while i < chars.len()
                        && (chars[i].is_ascii_alphanumeric() || "_@.-|+/".contains(chars[i]))
                    {
                        i += 1;
                    }
                    toks.push((Tok::Word(chars[start..i].iter().collect()), pos));
                }
                other => {
                    return Err(LangError {
                        file: file.into(),
                        pos,
                        msg: format!("unexpected character {other:?}"),
                    })
                }
            }
        }
        toks.push((
            Tok::Newline,
            Pos {
                line: ln as u32 + 1,
                col: chars.len() as u32 + 1,
            },
        ));
    }
    Ok(toks)
}

fn item_text(text: &str, from: Pos, to_line: u32) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let a = (from.line as usize).saturating_sub(1);
    let b = (to_line as usize).min(lines.len());
    lines[a..b].join("\n")
}

impl Lexer<'_> {
    /// Line of the token just consumed.
    fn last_line(&self) -> u32 {
        self.toks
            .get(self.at.saturating_sub(1))
            .map_or(0, |t| t.1.line)
    }

    fn err(&self, pos: Pos, msg: impl Into<String>) -> LangError {
        LangError {
            file: self.file.into(),
            pos,
            msg: msg.into(),
        }
    }
    fn pos(&self) -> Pos {
        self.toks
            .get(self.at)
            .or(self.toks.last())
            .map_or(Pos::default(), |t| t.1)
    }
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|t| &t.0)
    }
    fn skip_nl(&mut self) {
        while matches!(self.peek(), Some(Tok::Newline | Tok::Semi)) {
            self.at += 1;
        }
    }
    fn word(&mut self, what: &str) -> Result<(String, Pos), LangError> {
        let pos = self.pos();
        match self.toks.get(self.at) {
            Some((Tok::Word(w), p)) => {
                let r = (w.clone(), *p);
                self.at += 1;
                Ok(r)
            }
            _ => Err(self.err(pos, format!("expected {what}"))),
        }
    }
    fn string(&mut self, what: &str) -> Result<String, LangError> {
        let pos = self.pos();
        match self.toks.get(self.at) {
            Some((Tok::Str(s), _)) => {
                let r = s.clone();
                self.at += 1;
                Ok(r)
            }
            Some((Tok::Word(w), _)) => {
                let r = w.clone();
                self.at += 1;
                Ok(r)
            }
            _ => Err(self.err(pos, format!("expected {what}"))),
        }
    }
    fn expect(&mut self, t: Tok, what: &str) -> Result<(), LangError> {
        self.skip_nl_if(&t);
        let pos = self.pos();
        if self.peek() == Some(&t) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.err(pos, format!("expected {what}")))
        }
    }
    fn skip_nl_if(&mut self, t: &Tok) {
        if *t == Tok::Open || *t == Tok::Close {
            self.skip_nl();
        }
    }
    fn end_of_stmt(&mut self) -> Result<(), LangError> {
        match self.peek() {
            Some(Tok::Newline | Tok::Semi) => {
                self.at += 1;
                Ok(())
            }
            Some(Tok::Close) | None => Ok(()),
            _ => Err(self.err(self.pos(), "expected the end of the statement")),
        }
    }
}

/// Parse one primitive (name and argument) from words.
fn parse_prim(lx: &mut Lexer<'_>, name: &str, pos: Pos) -> Result<Prim, LangError> {
    Prim::parse(name, lx).unwrap_or_else(|| Err(lx.err(pos, format!("unknown primitive {name:?}"))))
}

impl Words for Lexer<'_> {
    type Err = LangError;
    fn arg<T: Arg>(&mut self) -> Result<T, LangError> {
        let (w, p) = self.word(T::EXPECT)?;
        T::parse(&w).map_err(|msg| self.err(p, msg))
    }
}

struct PathCtx {
    vars: Vec<String>,
    loops: u32,
    /// Enclosing branch blocks (`if`, `else` and loop bodies).
    depth: u32,
}

fn parse_value(lx: &Lexer<'_>, w: &str, p: Pos) -> Result<Value, LangError> {
    Ok(match w {
        "true" | "1" => Value::True,
        "false" | "0" => Value::False,
        "ret" => Value::Ret,
        e => match ERRNOS.iter().find(|(n, _)| *n == e) {
            Some((_, v)) => Value::Errno(*v),
            None => return Err(lx.err(p, format!("unknown value {e:?}"))),
        },
    })
}

fn parse_cond(lx: &mut Lexer<'_>, ctx: &PathCtx) -> Result<Cond, LangError> {
    let mut neg = false;
    while lx.peek() == Some(&Tok::Bang) {
        neg = !neg;
        lx.at += 1;
    }
    let (w, p) = lx.word("a condition")?;
    let kind = match w.as_str() {
        "vma" => CondKind::Vma,
        "ret" => CondKind::Ret,
        "task" => CondKind::Task,
        "count" => CondKind::Count,
        _ => {
            if let Some(i) = ctx.vars.iter().position(|v| *v == w) {
                CondKind::Var(i as u8)
            } else {
                let prim = parse_prim(lx, &w, p)?;
                if !prim.is_cond() {
                    return Err(lx.err(p, format!("{w} does not yield a truth value")));
                }
                CondKind::Prim(prim)
            }
        }
    };
    Ok(Cond { neg, kind })
}

fn parse_block(lx: &mut Lexer<'_>, ctx: &mut PathCtx) -> Result<Vec<Stmt>, LangError> {
    lx.expect(Tok::Open, "`{`")?;
    let mut out = Vec::new();
    loop {
        lx.skip_nl();
        match lx.peek() {
            Some(Tok::Close) => {
                lx.at += 1;
                return Ok(out);
            }
            None => return Err(lx.err(lx.pos(), "unclosed `{`")),
            _ => out.push(parse_stmt(lx, ctx)?),
        }
    }
}

fn parse_stmt(lx: &mut Lexer<'_>, ctx: &mut PathCtx) -> Result<Stmt, LangError> {
    let (w, p) = lx.word("a statement")?;
    let st = match w.as_str() {
        "if" => {
            let c = parse_cond(lx, ctx)?;
            ctx.depth += 1;
            let then = parse_block(lx, ctx)?;
            // `else` may follow on the same line as `}` or on the next.
            let save = lx.at;
            lx.skip_nl();
            let els = if matches!(lx.peek(), Some(Tok::Word(e)) if e == "else") {
                lx.at += 1;
                if matches!(lx.peek(), Some(Tok::Word(i)) if i == "if") {
                    vec![parse_stmt(lx, ctx)?]
                } else {
                    parse_block(lx, ctx)?
                }
            } else {
                lx.at = save;
                Vec::new()
            };
            ctx.depth -= 1;
            return Ok(Stmt::If(c, then, els, p));
        }
        "for_each_vma" => {
            ctx.loops += 1;
            ctx.depth += 1;
            let b = parse_block(lx, ctx)?;
            ctx.depth -= 1;
            ctx.loops -= 1;
            return Ok(Stmt::ForEachVma(b, p));
        }
        "for_each_task" => {
            ctx.loops += 1;
            ctx.depth += 1;
            let b = parse_block(lx, ctx)?;
            ctx.depth -= 1;
            ctx.loops -= 1;
            return Ok(Stmt::ForEachTask(b, p));
        }
        "while" => {
            let c = parse_cond(lx, ctx)?;
            ctx.loops += 1;
            ctx.depth += 1;
            let b = parse_block(lx, ctx)?;
            ctx.depth -= 1;
            ctx.loops -= 1;
            return Ok(Stmt::While(c, b, p));
        }
        "retry" => {
            let (n, np) = lx.word("a retry count")?;
            let n: u32 = n
                .parse()
                .ok()
                .filter(|&n| (1..=64).contains(&n))
                .ok_or_else(|| lx.err(np, "retry count must be 1..=64"))?;
            ctx.loops += 1;
            ctx.depth += 1;
            let b = parse_block(lx, ctx)?;
            ctx.depth -= 1;
            ctx.loops -= 1;
            return Ok(Stmt::Retry(n, b, p));
        }
        "break" | "continue" if ctx.loops == 0 => {
            return Err(lx.err(p, format!("`{w}` outside a loop")));
        }
        "break" => Stmt::Break(p),
        "continue" => Stmt::Continue(p),
        "return" => {
            let v = match lx.peek() {
                Some(Tok::Word(_)) => {
                    let (v, vp) = lx.word("a value")?;
                    Some(parse_value(lx, &v, vp)?)
                }
                _ => None,
            };
            Stmt::Return(v, p)
        }
        "call" => {
            let (name, _) = lx.word("a path name")?;
            Stmt::Call(name, p)
        }
        "unreachable" => Stmt::Unreachable(parse_unreachable(lx, ctx, p)?, p),
        "let" => {
            let (name, np) = lx.word("a variable name")?;
            if name == "vma" || name == "ret" {
                return Err(lx.err(np, format!("`{name}` is built in")));
            }
            lx.expect(Tok::Eq, "`=`")?;
            let (v, vp) = lx.word("true or false")?;
            let b = match v.as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(lx.err(vp, "a `let` variable is true or false")),
            };
            let i = match ctx.vars.iter().position(|x| *x == name) {
                Some(i) => i,
                None => {
                    if ctx.vars.len() >= 8 {
                        return Err(lx.err(np, "at most 8 `let` variables per path"));
                    }
                    ctx.vars.push(name);
                    ctx.vars.len() - 1
                }
            };
            Stmt::Let(i as u8, b, p)
        }
        "ret" => {
            lx.expect(Tok::Eq, "`=`")?;
            let (v, vp) = lx.word("a value")?;
            Stmt::SetRet(parse_value(lx, &v, vp)?, p)
        }
        _ => Stmt::Prim(parse_prim(lx, &w, p)?, p),
    };
    lx.end_of_stmt()?;
    Ok(st)
}

/// `unreachable [skip|exit] "REASON" [in CONFIG…]`, after the word `unreachable` (at `p`).
fn parse_unreachable(lx: &mut Lexer<'_>, ctx: &PathCtx, p: Pos) -> Result<Unreachable, LangError> {
    let toward = match lx.peek() {
        Some(Tok::Word(w)) if w == "skip" || w == "exit" => {
            let t = if w == "skip" {
                Toward::Skip
            } else {
                Toward::Exit
            };
            lx.at += 1;
            t
        }
        _ => Toward::Into,
    };
    if ctx.depth == 0 || (toward != Toward::Into && ctx.loops == 0) {
        let what = if toward == Toward::Into {
            "a branch"
        } else {
            "a loop"
        };
        return Err(lx.err(p, format!("`unreachable` outside {what}")));
    }
    let reason = match lx.toks.get(lx.at) {
        Some((Tok::Str(s), _)) => s.clone(),
        _ => return Err(lx.err(lx.pos(), "expected the reason, a quoted string")),
    };
    lx.at += 1;
    let mut configs = Vec::new();
    if matches!(lx.peek(), Some(Tok::Word(w)) if w == "in") {
        lx.at += 1;
        while let Some(Tok::Word(_)) = lx.peek() {
            configs.push(lx.word("a config name")?.0);
        }
        if configs.is_empty() {
            return Err(lx.err(lx.pos(), "expected config names after `in`"));
        }
    }
    Ok(Unreachable {
        toward,
        reason,
        configs,
    })
}

fn parse_meta(lx: &mut Lexer<'_>, meta: &mut Meta) -> Result<bool, LangError> {
    let key = match lx.peek() {
        Some(Tok::Word(w)) => w.clone(),
        _ => return Ok(false),
    };
    let slot = match key.as_str() {
        "kernel" => &mut meta.kernel,
        "commit" => &mut meta.commit,
        "file" => &mut meta.file,
        "function" => &mut meta.function,
        "note" => &mut meta.note,
        "source" => &mut meta.source,
        _ => return Ok(false),
    };
    lx.at += 1;
    let v = lx.string(&format!("a value for `{key}`"))?;
    if !slot.is_empty() {
        slot.push(' ');
    }
    slot.push_str(&v);
    Ok(true)
}

/// Parse a whole file of path versions and configs. `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Unit, LangError> {
    let toks = lex(file, text)?;
    let mut lx = Lexer { file, toks, at: 0 };
    let mut unit = Unit::default();
    loop {
        lx.skip_nl();
        let Some(tok) = lx.peek() else { break };
        let pos = lx.pos();
        let Tok::Word(w) = tok.clone() else {
            return Err(lx.err(pos, "expected `path` or `config`"));
        };
        lx.at += 1;
        match w.as_str() {
            "path" => unit.paths.push(parse_path(&mut lx, text, pos)?),
            "config" => unit.configs.push(parse_config(&mut lx, text, pos)?),
            _ => return Err(lx.err(pos, format!("expected `path` or `config`, found {w:?}"))),
        }
    }
    Ok(unit)
}

/// `path NAME@VERSION META… { BODY }`, after the word `path` (at `pos`).
fn parse_path(lx: &mut Lexer<'_>, text: &str, pos: Pos) -> Result<PathDef, LangError> {
    let (full, np) = lx.word("NAME@VERSION")?;
    let Some((name, version)) = full.split_once('@') else {
        return Err(lx.err(np, "a path is named NAME@VERSION, e.g. exit_mmap@v6.1"));
    };
    let mut meta = Meta::default();
    loop {
        lx.skip_nl();
        if !parse_meta(lx, &mut meta)? {
            break;
        }
    }
    let mut ctx = PathCtx {
        vars: Vec::new(),
        loops: 0,
        depth: 0,
    };
    let body = parse_block(lx, &mut ctx)?;
    Ok(PathDef {
        name: name.into(),
        version: version.into(),
        meta,
        body,
        vars: ctx.vars,
        origin: (lx.file.into(), pos),
        text: item_text(text, pos, lx.last_line()),
    })
}

/// `config NAME META… { KEY VALUE… }`, after the word `config` (at `pos`).
fn parse_config(lx: &mut Lexer<'_>, text: &str, pos: Pos) -> Result<ConfigDef, LangError> {
    let (name, _) = lx.word("a config name")?;
    let mut meta = Meta::default();
    loop {
        lx.skip_nl();
        if !parse_meta(lx, &mut meta)? {
            break;
        }
    }
    lx.expect(Tok::Open, "`{`")?;
    let mut cfg = ConfigDef {
        name,
        meta,
        expect: Expect::Unknown,
        store: VmaStore::List,
        uses: Vec::new(),
        roles: Vec::new(),
        freezer: Freezing::TaskMemdie,
        task_frozen: false,
        strict: false,
        rwsem_steal: false,
        origin: (lx.file.into(), pos),
        text: String::new(),
    };
    loop {
        lx.skip_nl();
        if lx.peek() == Some(&Tok::Close) {
            lx.at += 1;
            break;
        }
        if !parse_meta(lx, &mut cfg.meta)? {
            parse_config_key(lx, &mut cfg)?;
        }
        lx.end_of_stmt()?;
    }
    cfg.text = item_text(text, pos, lx.last_line());
    Ok(cfg)
}

/// One `KEY VALUE…` line of a config.
fn parse_config_key(lx: &mut Lexer<'_>, cfg: &mut ConfigDef) -> Result<(), LangError> {
    let (k, kp) = lx.word("expect, store, freezer, rwsem, check, use or role")?;
    match k.as_str() {
        "expect" => {
            let (v, vp) = lx.word("bug INVARIANT, latent INVARIANT, safe or unknown")?;
            cfg.expect = match v.as_str() {
                "safe" => Expect::Safe,
                "unknown" => Expect::Unknown,
                "bug" | "latent" => {
                    let (w, wp) = lx.word("the invariant, e.g. I1")?;
                    let list = Invariant::parse_list(&w).map_err(|m| lx.err(wp, m))?;
                    if v == "bug" {
                        Expect::Bug(list)
                    } else {
                        Expect::Latent(list)
                    }
                }
                _ => {
                    return Err(lx.err(
                        vp,
                        "expect bug INVARIANT, latent INVARIANT, safe or unknown",
                    ))
                }
            };
        }
        "store" => {
            let (v, vp) = lx.word("list or maple")?;
            cfg.store = match v.as_str() {
                "list" => VmaStore::List,
                "maple" => VmaStore::Maple,
                _ => return Err(lx.err(vp, "store is list or maple")),
            };
        }
        "use" => {
            while let Some(Tok::Word(_)) = lx.peek() {
                let (u, up) = lx.word("NAME@VERSION")?;
                let Some((n, v)) = u.split_once('@') else {
                    return Err(lx.err(up, "use NAME@VERSION"));
                };
                cfg.uses.push((n.into(), v.into(), up));
            }
        }
        "freezer" => {
            let (v, vp) = lx.word("v4.7, v4.9, v6.1 or v6.18")?;
            (cfg.freezer, cfg.task_frozen) = match v.as_str() {
                "v4.7-rc" | "v4.7" => (Freezing::CurrentMemdie, false),
                "v4.9" => (Freezing::TaskMemdie, false),
                "v6.1" => (Freezing::TaskMemdie, true),
                "v6.18" => (Freezing::OomVictim, true),
                _ => return Err(lx.err(vp, "freezer is v4.7, v4.9, v6.1 or v6.18")),
            };
        }
        "rwsem" => {
            let (v, vp) = lx.word("fifo or steal")?;
            cfg.rwsem_steal = match v.as_str() {
                "fifo" => false,
                "steal" => true,
                _ => return Err(lx.err(vp, "rwsem is fifo or steal")),
            };
        }
        "check" => {
            let (v, vp) = lx.word("I12s")?;
            if v != "I12s" {
                return Err(lx.err(vp, "check takes I12s (the strict barrier)"));
            }
            cfg.strict = true;
        }
        "role" => {
            while let Some(Tok::Word(_)) = lx.peek() {
                cfg.roles.push(lx.word("a role")?.0);
            }
        }
        _ => return Err(lx.err(kp, format!("unknown config key {k:?}"))),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse;

    /// The error of `text`, as `file:line:col: message`.
    fn error(text: &str) -> String {
        parse("f.mmp", text).unwrap_err().to_string()
    }

    /// Every parse error names the file, the line and the column of the offending word.
    #[test]
    fn every_error_has_file_line_and_column() {
        let p = |body: &str| format!("path exit_mm@t {{\n{body}\n}}\n");
        let c = |keys: &str| format!("config t {{\n{keys}\n}}\n");
        let cases: Vec<(String, &str)> = vec![
            ("wat".into(), "f.mmp:1:1: expected `path` or `config`, found \"wat\""),
            ("{".into(), "f.mmp:1:1: expected `path` or `config`"),
            ("path x {\n}".into(), "f.mmp:1:6: a path is named NAME@VERSION, e.g. exit_mmap@v6.1"),
            (p("  frobnicate"), "f.mmp:2:3: unknown primitive \"frobnicate\""),
            (p("  mutex_lock big_lock"), "f.mmp:2:14: unknown lock \"big_lock\" (oom_lock, oom_reaper_lock, freezer_lock, i_rwsem)"),
            (p("  set_bit MMF_FOO"), "f.mmp:2:11: unknown mm flag \"MMF_FOO\" (MMF_OOM_SKIP, MMF_UNSTABLE, MMF_OOM_VICTIM, MMF_OOM_REAP_QUEUED)"),
            (p("  set_pf PF_KTHREAD|PF_X"), "f.mmp:2:10: unknown PF flag \"PF_X\""),
            (p("  if vma_test VM_LOCKED|VM_X { }"), "f.mmp:2:15: unknown vm flag \"VM_X\""),
            (p("  test_global pm_x"), "f.mmp:2:15: unknown global \"pm_x\" (pm_freezing, pm_nosig_freezing, oom_killer_disabled)"),
            (p("  if mmap_read_lock { }"), "f.mmp:2:6: mmap_read_lock does not yield a truth value"),
            (p("  break"), "f.mmp:2:3: `break` outside a loop"),
            (p("  retry 65 { }"), "f.mmp:2:9: retry count must be 1..=64"),
            (p("  return -EWHAT"), "f.mmp:2:10: unknown value \"-EWHAT\""),
            (p("  let vma = true"), "f.mmp:2:7: `vma` is built in"),
            (p("  let x = maybe"), "f.mmp:2:11: a `let` variable is true or false"),
            (p("  mmap_read_lock mmap_read_unlock"), "f.mmp:2:18: expected the end of the statement"),
            (p("  if vma {"), "f.mmp:3:2: unclosed `{`"),
            (p("  $"), "f.mmp:2:3: unexpected character '$'"),
            (p("  unreachable \"r\""), "f.mmp:2:3: `unreachable` outside a branch"),
            (p("  if vma { unreachable exit \"r\" }"), "f.mmp:2:12: `unreachable` outside a loop"),
            (p("  if vma { unreachable }"), "f.mmp:2:24: expected the reason, a quoted string"),
            (p("  if vma { unreachable \"r\" in }"), "f.mmp:2:31: expected config names after `in`"),
            ("path a@b note \"x".into(), "f.mmp:1:15: unterminated string"),
            (c("  expect bug I99"), "f.mmp:2:14: unknown invariant \"I99\" (I1, I2, I3, I4, I5, I6, I7, I8, I9, I10, I11, I12, I12s, I13, I14, I15, race, lock-order, deadlock, liveness, reference)"),
            (c("  expect maybe"), "f.mmp:2:10: expect bug INVARIANT, latent INVARIANT, safe or unknown"),
            (c("  store tree"), "f.mmp:2:9: store is list or maple"),
            (c("  freezer v5"), "f.mmp:2:11: freezer is v4.7, v4.9, v6.1 or v6.18"),
            (c("  rwsem lifo"), "f.mmp:2:9: rwsem is fifo or steal"),
            (c("  check I4"), "f.mmp:2:9: check takes I12s (the strict barrier)"),
            (c("  use exit_mmap"), "f.mmp:2:7: use NAME@VERSION"),
            (c("  colour blue"), "f.mmp:2:3: unknown config key \"colour\""),
        ];
        for (text, want) in cases {
            assert_eq!(error(&text), want, "{text}");
        }
    }

    /// Statements, conditions, `else if`, loops and locals parse into the AST; the item's text
    /// is kept for printing.
    #[test]
    fn a_path_and_a_config_parse() {
        let text = "path exit_mm@t kernel \"v9\" file \"kernel/exit.c\" {\n  let done = false\n  retry 3 {\n    if !mmap_read_trylock { continue } else if done { break }\n    ret = -EAGAIN\n  }\n  while !done { let done = true }\n  for_each_vma { free_pgtables }\n  call helper\n  return ret\n}\nconfig t kernel \"v9\" {\n  expect bug I4/I5\n  store maple\n  rwsem steal\n  check I12s\n  use exit_mm@t\n  role exit pm\n}\n";
        let u = parse("f.mmp", text).unwrap();
        let (p, c) = (&u.paths[0], &u.configs[0]);
        assert_eq!((p.name.as_str(), p.version.as_str()), ("exit_mm", "t"));
        assert_eq!(p.meta.file, "kernel/exit.c");
        assert_eq!(p.vars, ["done"]);
        assert_eq!(p.body.len(), 6);
        assert!(p.text.starts_with("path exit_mm@t") && p.text.ends_with('}'));
        use crate::mm::lang::{Expect, VmaStore};
        use crate::mm::Invariant;
        assert_eq!(c.expect, Expect::Bug(vec![Invariant::I4, Invariant::I5]));
        assert_eq!(c.store, VmaStore::Maple);
        assert!(c.rwsem_steal && c.strict);
        assert_eq!(c.roles, ["exit", "pm"]);
        assert_eq!(c.meta.kernel, "v9");
    }
}
