//! The regression corpus: readable, versioned case files, replayed by `cargo test` and by
//! `mmfuzz replay`.
//!
//! A case is a JSON object with the decoded operations (never a fuzzer seed), one op per line:
//!
//! ```json
//! {
//!   "format": "mmfuzz-case/1",
//!   "target": "maple_store",
//!   "name": "stale-gap-after-erase",
//!   "expect": "pass",
//!   "note": "why this case is kept",
//!   "ops": [
//!     {"store":{"first":16,"last":31,"entry":1}},
//!     {"erase":{"index":20}}
//!   ]
//! }
//! ```
//!
//! Files are written atomically (a temporary file, then a hard link that fails rather than
//! replace anything) and named `NAME-HASH.json`, the hash taken over the operations, so the same
//! case is never stored twice and a different case is never overwritten.

use std::fmt;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use mmfuzz::mm::Invariant;
use serde::{Deserialize, Serialize};

use crate::maple::{self, Op};

/// The case format this build reads and writes.
pub const FORMAT: &str = "mmfuzz-case/1";

/// What replaying a case must give.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// No divergence and no violation.
    Pass,
    /// A divergence or violation.
    Fail,
}

/// The target a case drives, with its input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "target", rename_all = "snake_case")]
pub enum Payload {
    /// The maple-style store against its reference.
    MapleStore {
        /// The operations, in order.
        ops: Vec<Op>,
    },
    /// The mm teardown model: a config and a scenario.
    Mm {
        /// Config name (built-in, or defined in `config_text`).
        config: String,
        /// The config's file text when it is not a built-in one (a user's ordering).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        config_text: Option<String>,
        /// The invariant a failing case must break (its text form, `I4`).
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "invariant_text"
        )]
        invariant: Option<Invariant>,
        /// Set-up, threads, schedule.
        scenario: crate::mm::Scenario,
    },
}

/// An invariant in a case file: its text form (`I4`, `lock-order`); an unknown name is an error
/// that names it.
mod invariant_text {
    use mmfuzz::mm::Invariant;
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(inv: &Option<Invariant>, s: S) -> Result<S::Ok, S::Error> {
        inv.map(Invariant::name).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Invariant>, D::Error> {
        let Some(text) = Option::<String>::deserialize(d)? else {
            return Ok(None);
        };
        Invariant::parse_list(&text)
            .map_err(D::Error::custom)
            .and_then(|l| match l[..] {
                [one] => Ok(Some(one)),
                _ => Err(D::Error::custom(format!("one invariant, not {text:?}"))),
            })
    }
}

/// One corpus case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// Always [`FORMAT`].
    pub format: String,
    /// Short name: what the case found or guards.
    pub name: String,
    /// The verdict replay must give.
    pub expect: Expect,
    /// Root cause or provenance, in a sentence or two.
    #[serde(default)]
    pub note: String,
    /// Target and input.
    #[serde(flatten)]
    pub payload: Payload,
}

/// A corpus file that cannot be used, naming the file and the problem.
#[derive(Debug)]
pub struct CorpusError {
    /// The file (or folder).
    pub path: PathBuf,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for CorpusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.problem)
    }
}

impl std::error::Error for CorpusError {}

fn cerr(path: &Path, problem: impl Into<String>) -> CorpusError {
    CorpusError {
        path: path.to_path_buf(),
        problem: problem.into(),
    }
}

impl Case {
    /// A maple-store case.
    pub fn maple_store(name: &str, expect: Expect, note: &str, ops: Vec<Op>) -> Case {
        Case {
            format: FORMAT.into(),
            name: name.into(),
            expect,
            note: note.into(),
            payload: Payload::MapleStore { ops },
        }
    }

    /// The target's name as written in the file.
    pub fn target(&self) -> &'static str {
        match self.payload {
            Payload::MapleStore { .. } => "maple_store",
            Payload::Mm { .. } => "mm",
        }
    }

    /// An mm case.
    pub fn mm(
        name: &str,
        expect: Expect,
        note: &str,
        prog: &mmfuzz::mm::Program,
        invariant: Option<Invariant>,
        scenario: crate::mm::Scenario,
    ) -> Case {
        let builtin = mmfuzz::mm::builtin::program(&prog.config.name).is_ok_and(|b| b == *prog);
        Case {
            format: FORMAT.into(),
            name: name.into(),
            expect,
            note: note.into(),
            payload: Payload::Mm {
                config: prog.config.name.clone(),
                config_text: (!builtin).then(|| prog_text(prog)),
                invariant,
                scenario,
            },
        }
    }

    /// The program an mm case runs on.
    pub fn program(&self, path: &Path) -> Result<Option<mmfuzz::mm::Program>, CorpusError> {
        let Payload::Mm {
            config,
            config_text,
            ..
        } = &self.payload
        else {
            return Ok(None);
        };
        let progs = match config_text {
            Some(t) => {
                mmfuzz::mm::builtin::load_file(&format!("{} (config_text)", path.display()), t)
                    .map_err(|e| cerr(path, e.to_string()))?
            }
            None => vec![mmfuzz::mm::builtin::program(config).map_err(|e| cerr(path, e.msg))?],
        };
        progs
            .into_iter()
            .find(|p| p.config.name == *config)
            .map(Some)
            .ok_or_else(|| {
                cerr(
                    path,
                    format!("config {config:?} not in the case's config_text"),
                )
            })
    }

    /// Parse a case from text; errors name `path` and the line and column.
    pub fn parse(path: &Path, text: &str) -> Result<Case, CorpusError> {
        let case: Case = serde_json::from_str(text).map_err(|e| {
            let what = match e.classify() {
                serde_json::error::Category::Eof => "truncated file",
                serde_json::error::Category::Syntax => "not valid JSON",
                _ => "not a case",
            };
            cerr(path, format!("{what}: {e}"))
        })?;
        if case.format != FORMAT {
            return Err(cerr(
                path,
                format!(
                    "unsupported format {:?} (this build reads {FORMAT:?})",
                    case.format
                ),
            ));
        }
        Ok(case)
    }

    /// Read and parse one file.
    pub fn load(path: &Path) -> Result<Case, CorpusError> {
        let text = fs::read_to_string(path).map_err(|e| cerr(path, e.to_string()))?;
        Case::parse(path, &text)
    }

    /// The file text: header fields, then one operation per line.
    pub fn to_text(&self) -> String {
        let s = |v: &str| serde_json::to_string(v).expect("string serializes");
        let mut out = String::from("{\n");
        out += &format!("  \"format\": {},\n", s(&self.format));
        out += &format!("  \"target\": {},\n", s(self.target()));
        out += &format!("  \"name\": {},\n", s(&self.name));
        out += &format!(
            "  \"expect\": {},\n",
            serde_json::to_string(&self.expect).expect("enum serializes")
        );
        out += &format!("  \"note\": {},\n", s(&self.note));
        match &self.payload {
            Payload::Mm {
                config,
                config_text,
                invariant,
                scenario,
            } => {
                out += &format!("  \"config\": {},\n", s(config));
                if let Some(i) = invariant {
                    out += &format!("  \"invariant\": {},\n", s(i.name()));
                }
                if let Some(t) = config_text {
                    out += &format!("  \"config_text\": {},\n", s(t));
                }
                out += &format!("  \"scenario\": {}\n", scenario_text(scenario));
            }
            Payload::MapleStore { ops } => {
                out += "  \"ops\": [\n";
                let lines: Vec<String> = ops
                    .iter()
                    .map(|op| format!("    {}", serde_json::to_string(op).expect("op serializes")))
                    .collect();
                out += &lines.join(",\n");
                out += "\n  ]\n";
            }
        }
        out += "}\n";
        out
    }

    /// A stable 64-bit FNV-1a hash of the target and input (not of name or note).
    pub fn input_hash(&self) -> u64 {
        let body = match &self.payload {
            Payload::MapleStore { ops } => serde_json::to_string(ops).expect("ops serialize"),
            Payload::Mm {
                config,
                config_text,
                scenario,
                ..
            } => format!(
                "{config}\n{}\n{}",
                config_text.as_deref().unwrap_or(""),
                serde_json::to_string(scenario).expect("scenario serializes")
            ),
        };
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in self.target().bytes().chain(body.bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    }

    /// Run the case: `Ok(())` if it passes, else the invariant broken (if any) and the report.
    pub fn outcome(&self) -> Result<(), (Option<String>, String)> {
        match &self.payload {
            Payload::MapleStore { ops } => maple::execute(ops)
                .map(|_| ())
                .map_err(|d| (Some(d.kind().to_string()), d.to_string())),
            Payload::Mm { scenario, .. } => {
                let prog = match self.program(Path::new(&self.name)) {
                    Ok(Some(p)) => p,
                    Ok(None) => unreachable!("an mm case"),
                    Err(e) => return Err((None, e.to_string())),
                };
                let out = crate::mm::exec::run(&prog, scenario, crate::mm::Opts::default())
                    .map_err(|e| (None, format!("the scenario cannot run: {}", e.0)))?;
                // A latent defect (a proxy broke, no harm followed) fails too, by its mechanism.
                match out.headline() {
                    None => Ok(()),
                    Some(v) => Err((
                        Some(v.inv.name().to_string()),
                        crate::mm::report::explain(&prog, scenario),
                    )),
                }
            }
        }
    }

    /// Whether the case's run is a latent defect: a proxy broke and no harm followed
    /// ([`crate::mm::Outcome::is_latent`]).
    pub fn is_latent(&self) -> bool {
        let Payload::Mm { scenario, .. } = &self.payload else {
            return false;
        };
        let Ok(Some(prog)) = self.program(Path::new(&self.name)) else {
            return false;
        };
        crate::mm::exec::run(&prog, scenario, crate::mm::Opts::default())
            .is_ok_and(|o| o.is_latent())
    }

    /// Replay the case: `Ok(())` if it gives its expected verdict (and, for a failing mm case,
    /// breaks its invariant), else what it gave.
    pub fn replay(&self) -> Result<(), String> {
        let want = match &self.payload {
            Payload::Mm { invariant, .. } => invariant.map(|i| i.name().to_string()),
            Payload::MapleStore { .. } => None,
        };
        match (self.expect, self.outcome()) {
            (Expect::Pass, Ok(())) => Ok(()),
            (Expect::Fail, Err((got, report))) => match (want, got) {
                (Some(w), Some(g)) if w != g => Err(format!(
                    "expected a violation of {w}, but the case breaks {g}:\n{report}"
                )),
                (_, None) => Err(report),
                _ => Ok(()),
            },
            (Expect::Pass, Err((_, report))) => Err(report),
            (Expect::Fail, Ok(())) => Err("expected a failure, but the case passes".into()),
        }
    }
}

/// The text of a program's config (and every path version it uses), in the path language.
pub fn prog_text(prog: &mmfuzz::mm::Program) -> String {
    prog.source()
}

fn scenario_text(sc: &crate::mm::Scenario) -> String {
    let j = |v: &dyn erased::Ser| v.json();
    let mut out = String::from("{\n");
    out += "    \"setup\": [\n";
    let lines: Vec<String> = sc.setup.iter().map(|o| format!("      {}", j(o))).collect();
    out += &lines.join(",\n");
    out += "\n    ],\n";
    out += &format!("    \"threads\": {},\n", j(&sc.threads));
    out += &format!("    \"schedule\": {}\n", j(&sc.schedule));
    out += "  }";
    out
}

mod erased {
    /// Serialize anything serde can, compactly.
    pub trait Ser {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Ser for T {
        fn json(&self) -> String {
            serde_json::to_string(self).expect("serializes")
        }
    }
}

/// Result of [`save`].
#[derive(Debug, PartialEq, Eq)]
pub enum Saved {
    /// Written as a new file.
    New(PathBuf),
    /// The same input is already in the corpus under this file.
    Duplicate(PathBuf),
    /// An mm failure of the same shape ([`shape`]: config, invariant and steps) is already in
    /// the corpus under this file; its set-up or schedule may differ from the case given.
    SameShape(PathBuf),
}

impl Saved {
    /// The file that holds the case (or its older twin).
    pub fn path(&self) -> &Path {
        match self {
            Saved::New(p) | Saved::Duplicate(p) | Saved::SameShape(p) => p,
        }
    }
}

/// The shape of an mm failure: its config and invariant, and for each numbered step the task
/// that ran it and the kernel functions it went through. Two cases of one shape show the same
/// interleaving (they may differ in set-up details or in steps that do not matter); the corpus
/// keeps one. `None` for a case that is not a failing mm case.
pub fn shape(case: &Case) -> Option<String> {
    let Payload::Mm {
        config,
        invariant: Some(inv),
        scenario,
        ..
    } = &case.payload
    else {
        return None;
    };
    if case.expect != Expect::Fail {
        return None;
    }
    let prog = case.program(Path::new("")).ok()??;
    let opts = crate::mm::exec::Opts {
        record: true,
        ..crate::mm::exec::Opts::default()
    };
    let out = crate::mm::exec::run(&prog, scenario, opts).ok()?;
    let v = out.headline()?;
    let roles = crate::mm::exec::roles(&prog, &scenario.threads);
    let mut s = format!("{config} {inv}->{}", v.inv);
    // The thread and the path of the previous step: a new numbered step on a switch, a new
    // function on a call or return.
    let mut last: Option<(mmfuzz::mm::Tid, &str)> = None;
    for st in &out.trace {
        let f = prog
            .paths
            .get(st.at.0 as usize)
            .map_or("?", |p| p.name.as_str());
        match last {
            Some((t, g)) if t == st.tid && g == f => {}
            Some((t, _)) if t == st.tid => s.push_str(&format!(">{f}")),
            _ => {
                let task = roles.get(st.tid as usize).map_or("?", |r| r.task());
                s.push_str(&format!(" | {task}:{f}"));
            }
        }
        last = Some((st.tid, f));
    }
    Some(s)
}

fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('-');
    if s.is_empty() {
        "case".into()
    } else {
        s.chars().take(60).collect()
    }
}

/// Write `case` into `dir` atomically, unless a case with the same input is already there.
pub fn save(dir: &Path, case: &Case) -> Result<Saved, CorpusError> {
    fs::create_dir_all(dir).map_err(|e| cerr(dir, e.to_string()))?;
    let hash = format!("{:016x}", case.input_hash());
    let rd = fs::read_dir(dir).map_err(|e| cerr(dir, e.to_string()))?;
    let mut same_kind = Vec::new();
    for entry in rd.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(&format!("-{hash}.json")) {
            return Ok(Saved::Duplicate(entry.path()));
        }
        if name.ends_with(".json") {
            same_kind.push(entry.path());
        }
    }
    if let Some(mine) = shape(case) {
        same_kind.sort();
        for p in same_kind {
            // Unreadable files are left for `replay` to report.
            if let Ok(other) = Case::load(&p) {
                if shape(&other).as_deref() == Some(mine.as_str()) {
                    return Ok(Saved::SameShape(p));
                }
            }
        }
    }
    let path = dir.join(format!("{}-{hash}.json", slug(&case.name)));
    write_via_temp(&path, &case.to_text(), Place::New)?;
    Ok(Saved::New(path))
}

/// Save a failing mm scenario as a case in `out/mm/`, named `CONFIG-INVARIANT` and expected to
/// fail: the new file, or the case already there ([`save`]).
pub fn save_counterexample(
    out: &Path,
    prog: &mmfuzz::mm::Program,
    invariant: Invariant,
    note: &str,
    scenario: crate::mm::Scenario,
) -> Result<Saved, CorpusError> {
    let name = format!("{}-{invariant}", prog.config.name);
    let case = Case::mm(&name, Expect::Fail, note, prog, Some(invariant), scenario);
    save(&out.join("mm"), &case)
}

/// Write `text` to `path` atomically, replacing the file if there is one: a reader sees the
/// old file or the new one, never a part of either (the pictures and set-up files the CLI
/// writes).
pub fn write_atomic(path: &Path, text: &str) -> Result<(), CorpusError> {
    write_via_temp(path, text, Place::Replace)
}

/// How [`write_via_temp`] puts the finished file in place.
#[derive(Clone, Copy)]
enum Place {
    /// A rename: replaces any file at the path.
    Replace,
    /// A hard link: fails rather than replace a file (corpus cases).
    New,
}

/// The one atomic write: the text into a temporary file in the same folder, synced, then put
/// in place; the temporary file never outlives the call.
fn write_via_temp(path: &Path, text: &str, place: Place) -> Result<(), CorpusError> {
    let name = path
        .file_name()
        .ok_or_else(|| cerr(path, "not a file name"))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let write = || -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        match place {
            Place::Replace => fs::rename(&tmp, path),
            Place::New => fs::hard_link(&tmp, path),
        }
    };
    let res = write();
    // Gone already after a rename; after a hard link (or a failure) it is removed here.
    let _ = fs::remove_file(&tmp);
    res.map_err(|e| cerr(path, e.to_string()))
}

/// Every `.json` case file under `paths` (files as given, folders recursively), sorted.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CorpusError> {
    fn walk(p: &Path, out: &mut Vec<PathBuf>) -> Result<(), CorpusError> {
        if p.is_dir() {
            let rd = fs::read_dir(p).map_err(|e| cerr(p, e.to_string()))?;
            let mut kids: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
            kids.sort();
            for k in kids {
                if k.is_dir() || k.extension().is_some_and(|x| x == "json") {
                    walk(&k, out)?;
                }
            }
            Ok(())
        } else if p.exists() {
            out.push(p.to_path_buf());
            Ok(())
        } else {
            Err(cerr(p, "no such file or folder"))
        }
    }
    let mut out = Vec::new();
    for p in paths {
        walk(p, &mut out)?;
    }
    Ok(out)
}

/// The repository's `corpus/` folder.
pub fn default_dir() -> PathBuf {
    let harness = Path::new(env!("CARGO_MANIFEST_DIR"));
    harness.parent().unwrap_or(harness).join("corpus")
}
