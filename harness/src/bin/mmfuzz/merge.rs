//! `mmfuzz merge`: the `--json` outputs of `run --shard I/N` or `check --shard I/N` (one file
//! per shard, from a job array) joined into one verdict per config; and those of `review
//! --shard I/N` joined into the single review's rows.
//!
//! Review rows carry their mutant's index in the path's full list (`mutant`) and the list's
//! length (`of`): the merge checks that every index 0..of-1 is there exactly once, and prints
//! the rows in that order (`--json`) or a count of verdicts per path.
//!
//! Per config the shards must be exactly 0..N-1 of one N. Counts add up (scenarios, steps;
//! states, transitions, set-ups); seconds and memory are the largest shard's (the shards ran
//! side by side). The verdict is the shards' worst: a `bug` (for `run`, one that breaks an
//! invariant the config expects first, as `run` shows it; then the earliest in scenarios, then
//! the lowest shard, which is the lowest seed stream: the single run's choice), else
//! `incomplete` if a shard stopped short, else `latent`, else `safe`. For `check`, the shortest
//! counterexample of all shards, which is the whole search's shortest.

use std::collections::BTreeMap;
use std::path::PathBuf;

use mmfuzz::mm::{builtin, Expect, Invariant};
use mmfuzz_harness::campaign::{self, Finding};
use serde_json::{Map, Value};

use crate::common::{outln, BadInput, CmdResult};

/// `mmfuzz merge`.
#[derive(clap::Args)]
pub struct MergeArgs {
    /// The shards' outputs (`run --json` or `check --json`, one or more rows per file).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// One JSON object per line and config, as `run --json` / `check --json` print them.
    #[arg(long)]
    json: bool,
}

/// Which command the rows come from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Run,
    Check,
    Review,
}

/// One input row, where it came from, and its shard.
struct Row {
    at: String,
    kind: Kind,
    obj: Map<String, Value>,
    shard: (usize, usize),
}

/// `mmfuzz merge`.
pub fn merge(args: MergeArgs) -> CmdResult {
    let mut groups: BTreeMap<(String, u8), Vec<Row>> = BTreeMap::new();
    let mut order: Vec<(String, u8)> = Vec::new();
    for f in &args.files {
        let text =
            std::fs::read_to_string(f).map_err(|e| BadInput(format!("{}: {e}", f.display())))?;
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let at = format!("{}:{}", f.display(), i + 1);
            let row = parse_row(&at, line)?;
            let mut key = (text_of(&row.obj, "config"), row.kind as u8);
            if row.kind == Kind::Review {
                key.0 = format!("{} {}", key.0, text_of(&row.obj, "path"));
            }
            if !groups.contains_key(&key) {
                order.push(key.clone());
            }
            groups.entry(key).or_default().push(row);
        }
    }
    if groups.is_empty() {
        return Err(BadInput("mmfuzz merge: no rows in the files given".into()).into());
    }
    let (reviews, order): (Vec<_>, Vec<_>) =
        order.into_iter().partition(|k| k.1 == Kind::Review as u8);
    if !reviews.is_empty() {
        if !order.is_empty() {
            return Err(BadInput(
                "mmfuzz merge: review rows and run/check rows in one merge; merge them apart"
                    .into(),
            )
            .into());
        }
        return merge_reviews(&reviews, &groups, args.json);
    }
    let mut all_ok = true;
    let mut lines = Vec::new();
    for key in &order {
        let rows = &groups[key];
        check_shards(&key.0, rows)?;
        let merged = match rows[0].kind {
            Kind::Run => merge_run(rows),
            _ => merge_check(rows),
        };
        let ok = as_expected(&merged, rows[0].kind);
        all_ok &= ok;
        lines.push((merged, ok, rows[0].kind));
    }
    if !args.json {
        outln!(
            "{:<24} {:>8} {:>10} {:>10} {:>12} {:>6} {:>6}  counterexample",
            "config",
            "expected",
            "found",
            "invariant",
            "execs/states",
            "steps",
            "shards"
        )?;
    }
    for (m, ok, kind) in &lines {
        if args.json {
            let v = Value::Object(m.clone());
            outln!("{v}")?;
            continue;
        }
        let count = match kind {
            Kind::Run => m.get("execs"),
            _ => m.get("states"),
        };
        let unknown = text_of(m, "expected") == "unknown";
        outln!(
            "{}{:<23} {:>8} {:>10} {:>10} {:>12} {:>6} {:>6}  {}",
            if unknown {
                '?'
            } else if *ok {
                ' '
            } else {
                '!'
            },
            text_of(m, "config"),
            text_of(m, "expected"),
            text_of(m, "found"),
            m.get("invariant").and_then(Value::as_str).unwrap_or("-"),
            count.map_or("-".into(), |c| c.to_string()),
            m.get("shortest_steps")
                .and_then(Value::as_u64)
                .map_or("-".into(), |s| s.to_string()),
            m.get("shards").map_or("-".into(), |s| s.to_string()),
            m.get("counterexample")
                .and_then(Value::as_str)
                .unwrap_or("-"),
        )?;
    }
    if !args.json {
        outln!(
            "{}",
            if all_ok {
                "every config with a decided expectation gave its expected verdict"
            } else {
                "some config did not give its expected verdict ('!')"
            }
        )?;
    }
    Ok(all_ok)
}

/// A row of `run --json` or `check --json`, with its shard (`0/1` when it has none).
fn parse_row(at: &str, line: &str) -> Result<Row, BadInput> {
    let v: Value =
        serde_json::from_str(line).map_err(|e| BadInput(format!("{at}: not a JSON row: {e}")))?;
    let Value::Object(obj) = v else {
        return Err(BadInput(format!("{at}: not a JSON object")));
    };
    let kind = match (obj.contains_key("execs"), obj.contains_key("states")) {
        _ if obj.contains_key("mutation") => Kind::Review,
        (true, false) => Kind::Run,
        (false, true) => Kind::Check,
        _ => {
            return Err(BadInput(format!(
                "{at}: neither a `run --json`, a `check --json` nor a `review --json` row"
            )))
        }
    };
    let needed: &[&str] = match kind {
        Kind::Review => &["config", "path"],
        _ => &["config", "expected", "found"],
    };
    for &k in needed {
        if !obj.get(k).is_some_and(Value::is_string) {
            return Err(BadInput(format!("{at}: no {k:?}")));
        }
    }
    let shard = match obj.get("shard") {
        None | Some(Value::Null) => (0, 1),
        Some(Value::String(s)) => s
            .split_once('/')
            .and_then(|(i, n)| Some((i.parse().ok()?, n.parse().ok()?)))
            .filter(|&(i, n): &(usize, usize)| i < n)
            .ok_or_else(|| BadInput(format!("{at}: shard {s:?} is not I/N")))?,
        Some(other) => return Err(BadInput(format!("{at}: shard {other} is not I/N"))),
    };
    Ok(Row {
        at: at.into(),
        kind,
        obj,
        shard,
    })
}

/// The shards of one config are 0..N-1 of one N, each once.
fn check_shards(config: &str, rows: &[Row]) -> Result<(), BadInput> {
    let n = rows[0].shard.1;
    let mut seen = vec![None; n];
    for r in rows {
        if r.shard.1 != n {
            return Err(BadInput(format!(
                "{}: {config} is shard {}/{}, but {} is a shard of {n}",
                r.at, r.shard.0, r.shard.1, rows[0].at
            )));
        }
        if let Some(other) = &seen[r.shard.0] {
            return Err(BadInput(format!(
                "{}: {config} shard {}/{n} is also in {other}",
                r.at, r.shard.0
            )));
        }
        seen[r.shard.0] = Some(r.at.clone());
    }
    if let Some(missing) = seen.iter().position(Option::is_none) {
        return Err(BadInput(format!(
            "{config}: shard {missing}/{n} is missing (given: {})",
            rows.iter()
                .map(|r| r.at.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(())
}

/// `review --shard` rows of each (config, path): every mutant of the full list exactly once.
fn merge_reviews(
    keys: &[(String, u8)],
    groups: &BTreeMap<(String, u8), Vec<Row>>,
    json: bool,
) -> CmdResult {
    for key in keys {
        let rows = &groups[key];
        let of = u64_of(&rows[0].obj, "of") as usize;
        let mut seen: Vec<Option<&Row>> = vec![None; of];
        for r in rows {
            let k = r.obj.get("mutant").and_then(Value::as_u64);
            let Some(k) = k.map(|k| k as usize).filter(|&k| k < of) else {
                return Err(BadInput(format!(
                    "{}: {}: no mutant index below `of` ({of})",
                    r.at, key.0
                ))
                .into());
            };
            if u64_of(&r.obj, "of") as usize != of {
                return Err(BadInput(format!(
                    "{}: {}: a list of {} mutants, but {} has {of}",
                    r.at,
                    key.0,
                    u64_of(&r.obj, "of"),
                    rows[0].at
                ))
                .into());
            }
            if let Some(other) = seen[k] {
                return Err(BadInput(format!(
                    "{}: {} mutant {k} is also in {}",
                    r.at, key.0, other.at
                ))
                .into());
            }
            seen[k] = Some(r);
        }
        if let Some(missing) = seen.iter().position(Option::is_none) {
            return Err(BadInput(format!(
                "{}: mutant {missing} of {of} is in no file given (a shard missing?)",
                key.0
            ))
            .into());
        }
        let rows: Vec<&Row> = seen.into_iter().flatten().collect();
        if json {
            for r in &rows {
                let mut m = r.obj.clone();
                m.remove("shard");
                outln!("{}", Value::Object(m))?;
            }
            continue;
        }
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for r in &rows {
            *counts.entry(text_of(&r.obj, "verdict")).or_default() += 1;
        }
        let counts: Vec<String> = counts.iter().map(|(v, n)| format!("{n} {v}")).collect();
        outln!("{}: {of} mutants: {}", key.0, counts.join(", "))?;
    }
    Ok(true)
}

fn text_of(m: &Map<String, Value>, k: &str) -> String {
    m.get(k).and_then(Value::as_str).unwrap_or("").to_string()
}

fn u64_of(m: &Map<String, Value>, k: &str) -> u64 {
    m.get(k).and_then(Value::as_u64).unwrap_or(0)
}

fn f64_of(m: &Map<String, Value>, k: &str) -> f64 {
    m.get(k).and_then(Value::as_f64).unwrap_or(0.0)
}

fn any(rows: &[Row], k: &str) -> bool {
    rows.iter()
        .any(|r| r.obj.get(k).and_then(Value::as_bool) == Some(true))
}

fn sum(rows: &[Row], k: &str) -> Value {
    Value::from(rows.iter().map(|r| u64_of(&r.obj, k)).sum::<u64>())
}

fn max_f(rows: &[Row], k: &str) -> Value {
    Value::from(rows.iter().map(|r| f64_of(&r.obj, k)).fold(0.0, f64::max))
}

/// The finding a row states.
fn finding(m: &Map<String, Value>) -> Finding {
    let inv = |k: &str| m.get(k).and_then(Value::as_str).and_then(Invariant::parse);
    match (text_of(m, "found").as_str(), inv("invariant")) {
        ("bug", Some(i)) => Finding::Bug(i, inv("mechanism")),
        ("latent", Some(i)) => Finding::Latent(i),
        ("incomplete", _) => Finding::Incomplete,
        _ => Finding::Safe,
    }
}

/// The config's expectation: a built-in's own; otherwise the row's word alone.
fn expectation(m: &Map<String, Value>) -> Option<Expect> {
    let name = text_of(m, "config");
    builtin::config_names()
        .contains(&name.as_str())
        .then(|| builtin::program(&name).ok())
        .flatten()
        .map(|p| p.config.expect)
}

fn as_expected(m: &Map<String, Value>, kind: Kind) -> bool {
    let f = finding(m);
    match expectation(m) {
        Some(e) if kind == Kind::Run => campaign::as_expected(&e, f),
        Some(e) => campaign::search_as_expected(&e, f),
        None => {
            let exp = text_of(m, "expected");
            exp == "unknown" || exp == f.word()
        }
    }
}

/// The shard row whose finding the merged row shows: for `run`, an expected `bug` first, then
/// any `bug`, then `latent`; the earliest in scenarios, then the lowest shard.
fn shown_run(rows: &[Row]) -> Option<&Row> {
    let rank = |r: &Row| -> Option<(u8, u64, usize)> {
        let f = finding(&r.obj);
        let first = u64_of(&r.obj, "execs_to_first");
        let expected = expectation(&r.obj).is_some_and(|e| campaign::as_expected(&e, f));
        match f {
            Finding::Bug(..) if expected => Some((0, first, r.shard.0)),
            Finding::Bug(..) => Some((1, first, r.shard.0)),
            Finding::Latent(_) => Some((2, first, r.shard.0)),
            _ => None,
        }
    };
    lowest(rows, rank)
}

/// The row of the lowest rank, among the rows that have one.
fn lowest<K: Ord + Copy>(rows: &[Row], rank: impl Fn(&Row) -> Option<K>) -> Option<&Row> {
    rows.iter()
        .filter_map(|r| rank(r).map(|k| (k, r)))
        .min_by_key(|(k, _)| *k)
        .map(|(_, r)| r)
}

/// For `check`: the shortest `bug`, then the shortest `latent`; ties: the lowest shard.
fn shown_check(rows: &[Row]) -> Option<&Row> {
    let rank = |r: &Row| -> Option<(u8, u64, usize)> {
        let steps = u64_of(&r.obj, "shortest_steps");
        match finding(&r.obj) {
            Finding::Bug(..) => Some((0, steps, r.shard.0)),
            Finding::Latent(_) => Some((1, steps, r.shard.0)),
            _ => None,
        }
    };
    lowest(rows, rank)
}

/// The fields of the shown finding, copied from its shard's row (or cleared).
const SHOWN: [&str; 6] = [
    "counterexample",
    "duplicate",
    "invariant",
    "mechanism",
    "shortest_steps",
    "found",
];

fn merged_base(rows: &[Row], shown: Option<&Row>) -> Map<String, Value> {
    let mut m = rows[0].obj.clone();
    m.remove("shard");
    m.insert("shards".into(), Value::from(rows.len()));
    for k in SHOWN {
        m.insert(
            k.into(),
            shown.map_or(Value::Null, |r| {
                r.obj.get(k).cloned().unwrap_or(Value::Null)
            }),
        );
    }
    m.insert(
        "duplicate".into(),
        Value::Bool(
            shown.is_some_and(|r| r.obj.get("duplicate").and_then(Value::as_bool) == Some(true)),
        ),
    );
    m.insert("interrupted".into(), Value::Bool(any(rows, "interrupted")));
    m.insert("seconds".into(), max_f(rows, "seconds"));
    m
}

fn merge_run(rows: &[Row]) -> Map<String, Value> {
    let shown = shown_run(rows);
    let mut m = merged_base(rows, shown);
    m.insert("execs".into(), sum(rows, "execs"));
    m.insert("steps".into(), sum(rows, "steps"));
    let secs = f64_of(&m, "seconds").max(1e-9);
    m.insert(
        "execs_per_sec".into(),
        Value::from(u64_of(&m, "execs") as f64 / secs),
    );
    m.insert(
        "execs_to_first".into(),
        shown.map_or(Value::Null, |r| {
            r.obj.get("execs_to_first").cloned().unwrap_or(Value::Null)
        }),
    );
    if shown.is_none() {
        let stopped = any(rows, "interrupted");
        m.insert(
            "found".into(),
            Value::from(if stopped { "incomplete" } else { "safe" }),
        );
    }
    m
}

fn merge_check(rows: &[Row]) -> Map<String, Value> {
    let shown = shown_check(rows);
    let mut m = merged_base(rows, shown);
    for k in ["states", "transitions", "roots"] {
        m.insert(k.into(), sum(rows, k));
    }
    let levels = rows.iter().map(|r| u64_of(&r.obj, "levels")).max();
    m.insert("levels".into(), Value::from(levels.unwrap_or(0)));
    let peak = rows
        .iter()
        .filter_map(|r| r.obj.get("peak_rss_kib")?.as_u64())
        .max();
    m.insert("peak_rss_kib".into(), peak.map_or(Value::Null, Value::from));
    for k in ["truncated", "memory_bound"] {
        m.insert(k.into(), Value::Bool(any(rows, k)));
    }
    let secs = f64_of(&m, "seconds").max(1e-9);
    m.insert(
        "states_per_sec".into(),
        Value::from(u64_of(&m, "states") as f64 / secs),
    );
    let n = u64_of(&m, "transitions") + u64_of(&m, "roots");
    m.insert(
        "omission_probability".into(),
        Value::from(mmfuzz_harness::mm::explore::omission_probability(n)),
    );
    let stopped = any(rows, "truncated") || any(rows, "interrupted");
    let found = match shown.map(|r| finding(&r.obj)) {
        Some(Finding::Bug(..)) => "bug",
        // A latent defect, like `safe`, is claimed only by complete searches.
        _ if stopped => "incomplete",
        Some(Finding::Latent(_)) => "latent",
        _ => "safe",
    };
    m.insert("found".into(), Value::from(found));
    if found == "incomplete" || found == "safe" {
        for k in ["counterexample", "invariant", "mechanism", "shortest_steps"] {
            m.insert(k.into(), Value::Null);
        }
        m.insert("duplicate".into(), Value::Bool(false));
    }
    m
}
