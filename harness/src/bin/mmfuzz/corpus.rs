//! `mmfuzz replay`, `mmfuzz minimize` and `mmfuzz corpus add`: the regression corpus.

use std::path::{Path, PathBuf};

use mmfuzz_harness::corpus::{self, Case, Expect, Payload};
use mmfuzz_harness::maple;
use mmfuzz_harness::mm::{generate, shrink};
use mmfuzz_harness::rows::ReplayRow;
use mmfuzz_harness::targets;

use crate::common::{json_line, out, outln, programs, save_case, BadInput, CmdResult};
use crate::{CorpusAddArgs, Target};

/// Every case under `paths`, parsed and resolved first: one bad file is an input error.
fn load_cases(paths: &[PathBuf]) -> Result<Vec<(PathBuf, Case)>, BadInput> {
    let files = corpus::collect(paths).map_err(|e| BadInput(e.to_string()))?;
    let mut cases = Vec::new();
    for f in files {
        let c = Case::load(&f).map_err(|e| BadInput(e.to_string()))?;
        c.program(&f).map_err(|e| BadInput(e.to_string()))?;
        cases.push((f, c));
    }
    Ok(cases)
}

/// Replay cases and check each gives its expected verdict.
pub fn replay(paths: &[PathBuf], json: bool) -> CmdResult {
    let cases = load_cases(paths)?;
    let mut all_ok = true;
    for (f, case) in &cases {
        let (row, res) = ReplayRow::replay(f, case);
        all_ok &= row.ok;
        if json {
            json_line(&row)?;
            continue;
        }
        outln!(
            "{} {} ({}: expect {}, found {}{})",
            if row.ok { "ok  " } else { "FAIL" },
            row.case,
            row.config,
            row.expected,
            row.found,
            row.invariant.map(|i| format!(" {i}")).unwrap_or_default()
        )?;
        if let Err(r) = res {
            outln!("{r}")?;
        }
    }
    if !json {
        outln!(
            "{} cases, {}",
            cases.len(),
            if all_ok {
                "all as expected"
            } else {
                "some NOT as expected"
            }
        )?;
    }
    Ok(all_ok)
}

/// Shrink a failing case; print the new case (and save it into `save`).
pub fn minimize(file: &Path, save: Option<&Path>) -> CmdResult {
    let case = Case::load(file).map_err(|e| BadInput(e.to_string()))?;
    let does_not_fail = || {
        eprintln!(
            "{}: the case does not fail; nothing to minimize",
            file.display()
        );
        Ok(false)
    };
    let out = match &case.payload {
        Payload::MapleStore { ops } => {
            let Some(min) = targets::minimize_maple(ops.clone()) else {
                return does_not_fail();
            };
            eprintln!("{}: {} ops -> {}", file.display(), ops.len(), min.len());
            Case::maple_store(&case.name, case.expect, &case.note, min)
        }
        Payload::Mm {
            invariant,
            scenario,
            ..
        } => {
            let prog = case
                .program(file)
                .map_err(|e| BadInput(e.to_string()))?
                .expect("an mm case");
            let Err((Some(inv), _)) = case.outcome() else {
                return does_not_fail();
            };
            let Some(mut inv) = mmfuzz::mm::Invariant::parse(&inv) else {
                return does_not_fail();
            };
            // A latent defect whose scenario can go on to a harm becomes that harm's case.
            let mut scenario = scenario.clone();
            let mut named = *invariant;
            if let Some(h) = mmfuzz_harness::mm::harm::after(&prog, &scenario) {
                let out = mmfuzz_harness::mm::run(&prog, &h, Default::default());
                if let Some(v) = out.ok().and_then(|o| o.violation) {
                    eprintln!(
                        "{}: {inv} is the mechanism of a harm: {} ({})",
                        file.display(),
                        v.inv,
                        v.msg
                    );
                    (inv, named, scenario) = (v.inv, Some(v.inv), h);
                }
            }
            let small = shrink::shrink(&prog, &scenario, inv);
            eprintln!(
                "{}: {} -> {} numbered steps",
                file.display(),
                shrink::length(&scenario),
                shrink::length(&small)
            );
            let inv = named.or(Some(inv));
            Case::mm(&case.name, case.expect, &case.note, &prog, inv, small)
        }
    };
    out!("{}", out.to_text())?;
    if let Some(dir) = save {
        save_case(&dir.join(out.target()), &out)?;
    }
    Ok(true)
}

/// `corpus add`: each input (a case file, or a raw artifact of `--target`) as a corpus case.
pub fn add(args: &CorpusAddArgs) -> CmdResult {
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::current_dir()
            .ok()
            .and_then(|cwd| repo_corpus(&cwd))
            .unwrap_or_else(|| PathBuf::from("corpus")),
    };
    for input in &args.inputs {
        let is_case = input.extension().is_some_and(|x| x == "json");
        let case = if is_case {
            let mut c = Case::load(input).map_err(|e| BadInput(e.to_string()))?;
            c.program(input).map_err(|e| BadInput(e.to_string()))?;
            if let Some(n) = &args.name {
                c.name.clone_from(n);
            }
            if !args.note.is_empty() {
                c.note.clone_from(&args.note);
            }
            c
        } else {
            let bytes =
                std::fs::read(input).map_err(|e| BadInput(format!("{}: {e}", input.display())))?;
            match args.target {
                Target::MapleStore => maple_artifact(input, &bytes, args),
                Target::Mm => mm_artifact(input, &bytes, args)?,
            }
        };
        save_case(&dir.join(case.target()), &case)?;
    }
    Ok(true)
}

/// The `corpus/` of the repository `cwd` is in: the nearest folder up from `cwd` with a
/// `Cargo.toml` declaring a workspace and a `harness/` package (`fuzz/` has a workspace of its
/// own). Relative (`corpus`, `../corpus`), so the messages name it as the user would.
fn repo_corpus(cwd: &Path) -> Option<PathBuf> {
    let mut up = PathBuf::new();
    for dir in cwd.ancestors() {
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap_or_default();
        if manifest.contains("[workspace]") && dir.join("harness/Cargo.toml").is_file() {
            return Some(up.join("corpus"));
        }
        up.push("..");
    }
    None
}

/// A maple-store artifact: shrunk if it fails now, else kept as a regression case.
fn maple_artifact(input: &Path, bytes: &[u8], args: &CorpusAddArgs) -> Case {
    let ops = maple::decode(bytes);
    let (ops, kind) = match maple::execute(&ops) {
        Err(d) => {
            eprintln!("{}: fails now:\n{d}", input.display());
            let kind = d.kind();
            (targets::minimize_maple(ops).expect("it fails"), kind)
        }
        Ok(_) => (ops, "regression"),
    };
    let name = args.name.as_deref().unwrap_or(kind);
    Case::maple_store(name, Expect::Pass, &args.note, ops)
}

/// An mm artifact of `--config`: shrunk if it breaks an invariant, else kept as a regression
/// case.
fn mm_artifact(input: &Path, bytes: &[u8], args: &CorpusAddArgs) -> Result<Case, BadInput> {
    let (prog, bytes) = match &args.config {
        Some(c) => (programs(std::slice::from_ref(c))?.remove(0), bytes),
        None => {
            let mut all = mmfuzz::mm::builtin::programs();
            let (pick, rest) = targets::pick_config(bytes, all.len());
            (all.swap_remove(pick), rest)
        }
    };
    let sc = generate::decode(&prog, bytes);
    let out = mmfuzz_harness::mm::run(&prog, &sc, Default::default())
        .map_err(|e| BadInput(format!("{}: {}", input.display(), e.0)))?;
    let name = args.name.as_deref();
    let note = args.note.as_str();
    Ok(match out.violation {
        Some(v) => {
            let small = shrink::shrink(&prog, &sc, v.inv);
            let n = format!("{}-{}", prog.config.name, v.inv);
            let note = if note.is_empty() { &v.msg } else { note };
            Case::mm(
                name.unwrap_or(&n),
                Expect::Fail,
                note,
                &prog,
                Some(v.inv),
                small,
            )
        }
        None => Case::mm(
            name.unwrap_or("regression"),
            Expect::Pass,
            note,
            &prog,
            None,
            sc,
        ),
    })
}
