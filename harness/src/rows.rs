//! The `--json` contract of shared/spec/README.md as types: one row per config of
//! `mmfuzz run`, one per case of `mmfuzz replay`, the object of `mmfuzz check` and of
//! `mmfuzz explain`. The CLI prints these and nothing else, with `--json` and in its tables.
//!
//! The fields are declared in alphabetical order: the rows were built with `json!{}` before,
//! whose objects (serde_json without `preserve_order`) print their keys sorted, and scripts may
//! compare the bytes. The tests below hold both the order and the contract's key sets. An
//! absent value prints as `null`, never as a missing key.

use std::path::Path;

use serde::{Serialize, Serializer};

use mmfuzz::mm::Invariant;

use crate::campaign::{ConfigReport, Finding};
use crate::corpus::{Case, Expect, Payload, Saved};

/// An invariant as its text form (`I4`, `lock-order`), as in corpus files.
fn invariant_name<S: Serializer>(inv: &Option<Invariant>, s: S) -> Result<S::Ok, S::Error> {
    inv.map(Invariant::name).serialize(s)
}

/// The `expected` word of a config: `bug`, `latent`, `safe` or `unknown`.
pub fn expected_word(e: &mmfuzz::mm::Expect) -> &'static str {
    match e {
        mmfuzz::mm::Expect::Bug(_) => "bug",
        mmfuzz::mm::Expect::Latent(_) => "latent",
        mmfuzz::mm::Expect::Safe => "safe",
        mmfuzz::mm::Expect::Unknown => "unknown",
    }
}

/// A case's verdict as a word: `bug`/`safe` for mm cases, `fail`/`pass` for the others.
pub fn case_word(case: &Case, e: Expect) -> &'static str {
    match (&case.payload, e) {
        (Payload::Mm { .. }, Expect::Fail) => "bug",
        (Payload::Mm { .. }, Expect::Pass) => "safe",
        (_, Expect::Fail) => "fail",
        (_, Expect::Pass) => "pass",
    }
}

/// `mmfuzz run --json`: one config's campaign.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunRow {
    /// Config name.
    pub config: String,
    /// The path of the file holding the (shrunk) counterexample.
    pub counterexample: Option<String>,
    /// The case found was not saved: `counterexample` is an older case of the same shape
    /// (config, invariant and steps; [`Saved::SameShape`]).
    pub duplicate: bool,
    /// Scenarios executed, all jobs.
    pub execs: u64,
    /// Scenarios per second.
    pub execs_per_sec: f64,
    /// Execution number (per job) of the first violation of any invariant.
    pub execs_to_first: Option<u64>,
    /// `bug`, `safe` or `unknown` ([`expected_word`]).
    pub expected: &'static str,
    /// `bug`, `latent` or `safe` ([`Finding::word`]); `incomplete` when stopped by Ctrl-C with
    /// nothing found.
    pub found: &'static str,
    /// Stopped by Ctrl-C before the budget ran out.
    pub interrupted: bool,
    /// The invariant the shown violation breaks (the harm), or a latent defect's proxy.
    #[serde(serialize_with = "invariant_name")]
    pub invariant: Option<Invariant>,
    /// The kernel the config models.
    pub kernel: String,
    /// The proxy invariant broken on the way to the harm (`I4` before `I5`), or a latent
    /// defect's proxy.
    #[serde(serialize_with = "invariant_name")]
    pub mechanism: Option<Invariant>,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// `I/N` when this row is shard I of N (`--shard`); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// Numbered steps of the shrunk counterexample.
    pub shortest_steps: Option<usize>,
    /// Model steps executed.
    pub steps: u64,
}

impl RunRow {
    /// The row of a campaign `rep` on `prog`: what it `found` (the shown violation or the
    /// latent defect, with the mechanism its shrunk counterexample shows); `shortest_steps`
    /// and `saved` are those of that counterexample, shrunk and saved.
    pub fn new(
        prog: &mmfuzz::mm::Program,
        rep: &ConfigReport,
        found: Finding,
        shortest_steps: Option<usize>,
        saved: Option<&Saved>,
    ) -> RunRow {
        let secs = rep.elapsed.as_secs_f64().max(1e-9);
        let found = match found {
            Finding::Safe if rep.interrupted => Finding::Incomplete,
            f => f,
        };
        RunRow {
            config: prog.config.name.clone(),
            counterexample: saved.map(|s| s.path().display().to_string()),
            duplicate: matches!(saved, Some(Saved::SameShape(_))),
            execs: rep.execs,
            execs_per_sec: rep.execs as f64 / secs,
            execs_to_first: rep.first.as_ref().or(rep.latent.as_ref()).map(|f| f.0),
            expected: expected_word(&prog.config.expect),
            found: found.word(),
            interrupted: rep.interrupted,
            invariant: found.invariant(),
            kernel: prog.config.meta.kernel.clone(),
            mechanism: found.mechanism(),
            seconds: secs,
            shard: None,
            shortest_steps,
            steps: rep.steps,
        }
    }

    /// What the campaign found, for [`crate::campaign::as_expected`].
    pub fn finding(&self) -> Finding {
        match (self.found, self.invariant) {
            ("latent", Some(i)) => Finding::Latent(i),
            (_, Some(i)) => Finding::Bug(i, self.mechanism),
            (_, None) if self.interrupted => Finding::Incomplete,
            (_, None) => Finding::Safe,
        }
    }
}

/// `mmfuzz check --json`: one exhaustive search.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckRow {
    /// Config name.
    pub config: String,
    /// The path of the file holding the counterexample.
    pub counterexample: Option<String>,
    /// The case found was not saved: `counterexample` is an older case of the same shape.
    pub duplicate: bool,
    /// `bug`, `safe` or `unknown` ([`expected_word`]).
    pub expected: &'static str,
    /// `bug`, `latent`, `safe` or `incomplete` ([`Finding::word`]).
    pub found: &'static str,
    /// Stopped by Ctrl-C before the search was complete.
    pub interrupted: bool,
    /// The invariant the counterexample breaks (a latent defect's proxy).
    #[serde(serialize_with = "invariant_name")]
    pub invariant: Option<Invariant>,
    /// Deepest level (numbered steps) completed.
    pub levels: usize,
    /// The memory bound, bytes (`null`: none).
    pub max_memory: Option<u64>,
    /// The proxy broken on the way to the harm, or a latent defect's proxy.
    #[serde(serialize_with = "invariant_name")]
    pub mechanism: Option<Invariant>,
    /// Stopped at `--max-memory` (with `truncated`).
    pub memory_bound: bool,
    /// The chance that hash compaction (64-bit state fingerprints) left out a state: at most
    /// n(n-1)/2 / 2^64 for the n states generated.
    pub omission_probability: f64,
    /// Peak resident memory, KiB (where the system tells).
    pub peak_rss_kib: Option<u64>,
    /// Set-ups × thread choices explored.
    pub roots: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// `I/N` when this row is shard I of N (`--shard`); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// Numbered steps of the counterexample (the shortest within the bounds).
    pub shortest_steps: Option<usize>,
    /// Distinct states settled.
    pub states: u64,
    /// States per second.
    pub states_per_sec: f64,
    /// Modelled CPUs (`--cpus`, formerly `--threads`).
    pub threads: usize,
    /// Steps executed (edges of the state graph).
    pub transitions: u64,
    /// Stopped at `--max-states` or `--max-memory` before the search was complete.
    pub truncated: bool,
    /// VMAs of the set-up (`--vmas`).
    pub vmas: u8,
}

/// `mmfuzz replay --json`: one case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReplayRow {
    /// The case file.
    pub case: String,
    /// Its config (`maple_store` for store cases).
    pub config: String,
    /// The verdict the case expects ([`case_word`]).
    pub expected: &'static str,
    /// The verdict it gave ([`case_word`]; `latent` for a latent defect).
    pub found: &'static str,
    /// The invariant it broke (the divergence's kind for store cases).
    pub invariant: Option<String>,
    /// It gave its expected verdict ([`Case::replay`]).
    pub ok: bool,
}

impl ReplayRow {
    /// Replay `case` (read from `file`): its row, and [`Case::replay`]'s result (the report when
    /// it did not give its expected verdict).
    pub fn replay(file: &Path, case: &Case) -> (ReplayRow, Result<(), String>) {
        let outcome = case.outcome();
        let found = if outcome.is_ok() {
            Expect::Pass
        } else {
            Expect::Fail
        };
        let invariant = outcome.err().and_then(|(i, _)| i);
        let res = case.replay();
        let config = match &case.payload {
            Payload::Mm { config, .. } => config.clone(),
            Payload::MapleStore { .. } => "maple_store".into(),
        };
        let row = ReplayRow {
            case: file.display().to_string(),
            config,
            expected: match case.program(file) {
                Ok(Some(p))
                    if case.expect == Expect::Fail
                        && expected_word(&p.config.expect) == "latent" =>
                {
                    "latent"
                }
                _ => case_word(case, case.expect),
            },
            found: if found == Expect::Fail && case.is_latent() {
                "latent"
            } else {
                case_word(case, found)
            },
            invariant,
            ok: res.is_ok(),
        };
        (row, res)
    }
}

/// `mmfuzz explain --json`: the report of [`crate::mm::report::json`] (config, kernel, paths,
/// setup, threads, steps, numbered_steps, latent, mechanism, violation) with the case file and
/// the case's name. `mechanism` is the proxy invariant broken on the way (`invariant`, `cpu`,
/// `message`, `at_step`, `model_step`) or `null`, beside the `violation` (the harm).
#[derive(Clone, Debug, PartialEq)]
pub struct ExplainRow {
    /// The case file.
    pub case: String,
    /// The case's name.
    pub name: String,
    /// The report (a JSON object).
    pub report: serde_json::Value,
}

impl Serialize for ExplainRow {
    /// One object: the report's keys with `case` and `name`, all sorted.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut all = match &self.report {
            serde_json::Value::Object(m) => m.clone(),
            _ => serde_json::Map::new(),
        };
        all.insert("case".into(), self.case.clone().into());
        all.insert("name".into(), self.name.clone().into());
        all.serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The row's keys, in the order it prints them; and the row prints exactly the bytes of
    /// the same object built with `json!{}` (sorted keys).
    fn keys<T: Serialize>(row: &T) -> Vec<String> {
        let text = serde_json::to_string(row).unwrap();
        let value = serde_json::to_value(row).unwrap();
        assert_eq!(text, value.to_string(), "fields out of alphabetical order");
        let serde_json::Value::Object(m) = value else {
            panic!("not an object: {text}")
        };
        let ks: Vec<String> = m.keys().cloned().collect();
        let mut sorted = ks.clone();
        sorted.sort();
        assert_eq!(ks, sorted);
        ks
    }

    fn has_all(keys: &[String], want: &[&str]) {
        let have: BTreeSet<&str> = keys.iter().map(String::as_str).collect();
        for w in want {
            assert!(have.contains(w), "{w:?} missing from {keys:?}");
        }
    }

    fn run_row(found: Option<Invariant>) -> RunRow {
        RunRow {
            config: "v5.17-rc3".into(),
            counterexample: found.map(|_| "mmfuzz-findings/mm/x.json".into()),
            duplicate: false,
            execs: 10,
            execs_per_sec: 5.0,
            execs_to_first: found.map(|_| 3),
            expected: "bug",
            found: if found.is_some() { "bug" } else { "safe" },
            interrupted: false,
            invariant: found,
            kernel: "v5.17-rc3".into(),
            mechanism: None,
            seconds: 2.0,
            shard: None,
            shortest_steps: found.map(|_| 4),
            steps: 100,
        }
    }

    #[test]
    fn run_row_has_the_contract_keys() {
        let ks = keys(&run_row(Some(Invariant::I4)));
        // shared/spec/README.md, "What the tool must print".
        has_all(
            &ks,
            &[
                "config",
                "expected",
                "found",
                "invariant",
                "execs",
                "execs_to_first",
                "shortest_steps",
                "counterexample",
            ],
        );
        assert_eq!(
            ks,
            [
                "config",
                "counterexample",
                "duplicate",
                "execs",
                "execs_per_sec",
                "execs_to_first",
                "expected",
                "found",
                "interrupted",
                "invariant",
                "kernel",
                "mechanism",
                "seconds",
                "shortest_steps",
                "steps"
            ]
        );
        assert_eq!(
            run_row(Some(Invariant::I4)).finding(),
            Finding::Bug(Invariant::I4, None)
        );
        let latent = RunRow {
            found: "latent",
            mechanism: Some(Invariant::I4),
            ..run_row(Some(Invariant::I4))
        };
        assert_eq!(latent.finding(), Finding::Latent(Invariant::I4));
    }

    #[test]
    fn absent_values_print_null() {
        let text = serde_json::to_string(&run_row(None)).unwrap();
        for k in [
            "counterexample",
            "execs_to_first",
            "invariant",
            "shortest_steps",
        ] {
            assert!(text.contains(&format!("\"{k}\":null")), "{k} in {text}");
        }
        assert_eq!(run_row(None).finding(), Finding::Safe);
    }

    /// A campaign Ctrl-C cut short before any violation is `incomplete`, never `safe`.
    #[test]
    fn an_interrupted_row_is_incomplete() {
        let prog = mmfuzz::mm::builtin::program("v6.1").unwrap();
        let rep = ConfigReport {
            config: "v6.1".into(),
            execs: 5,
            steps: 50,
            elapsed: std::time::Duration::from_secs(1),
            first: None,
            expected: None,
            latent: None,
            interrupted: true,
        };
        let row = RunRow::new(&prog, &rep, Finding::Safe, None, None);
        assert_eq!(
            (row.found, row.finding()),
            ("incomplete", Finding::Incomplete)
        );
        assert!(!row.duplicate);
    }

    #[test]
    fn replay_row_has_the_contract_keys() {
        let row = ReplayRow {
            case: "corpus/mm/a.json".into(),
            config: "v6.1".into(),
            expected: "safe",
            found: "safe",
            invariant: None,
            ok: true,
        };
        let ks = keys(&row);
        has_all(&ks, &["case", "config", "found", "invariant"]);
        assert_eq!(
            ks,
            ["case", "config", "expected", "found", "invariant", "ok"]
        );
        assert!(serde_json::to_string(&row)
            .unwrap()
            .contains("\"invariant\":null"));
    }

    #[test]
    fn check_row_keys() {
        let row = CheckRow {
            config: "v6.1".into(),
            counterexample: None,
            duplicate: false,
            expected: "safe",
            found: "safe",
            interrupted: false,
            invariant: None,
            levels: 7,
            max_memory: Some(1 << 30),
            mechanism: None,
            memory_bound: false,
            omission_probability: 0.0,
            peak_rss_kib: None,
            roots: 4,
            seconds: 0.5,
            shard: None,
            shortest_steps: None,
            states: 1000,
            states_per_sec: 2000.0,
            threads: 2,
            transitions: 3000,
            truncated: false,
            vmas: 1,
        };
        let ks = keys(&row);
        has_all(&ks, &["config", "expected", "found", "invariant"]);
        assert_eq!(
            ks,
            [
                "config",
                "counterexample",
                "duplicate",
                "expected",
                "found",
                "interrupted",
                "invariant",
                "levels",
                "max_memory",
                "mechanism",
                "memory_bound",
                "omission_probability",
                "peak_rss_kib",
                "roots",
                "seconds",
                "shortest_steps",
                "states",
                "states_per_sec",
                "threads",
                "transitions",
                "truncated",
                "vmas"
            ]
        );
    }

    #[test]
    fn explain_row_adds_the_case_to_the_report() {
        let row = ExplainRow {
            case: "corpus/mm/a.json".into(),
            name: "a".into(),
            report: serde_json::json!({
                "violation": null, "config": "v6.1", "steps": [], "numbered_steps": 0,
                "mechanism": null, "latent": false,
            }),
        };
        let ks = keys(&row);
        assert_eq!(
            ks,
            [
                "case",
                "config",
                "latent",
                "mechanism",
                "name",
                "numbered_steps",
                "steps",
                "violation"
            ]
        );
    }

    #[test]
    fn words() {
        assert_eq!(expected_word(&mmfuzz::mm::Expect::Safe), "safe");
        assert_eq!(expected_word(&mmfuzz::mm::Expect::Unknown), "unknown");
        assert_eq!(
            expected_word(&mmfuzz::mm::Expect::Bug(vec![Invariant::I4])),
            "bug"
        );
        let store = Case::maple_store("x", Expect::Pass, "", Vec::new());
        assert_eq!(case_word(&store, Expect::Pass), "pass");
        assert_eq!(case_word(&store, Expect::Fail), "fail");
    }
}
