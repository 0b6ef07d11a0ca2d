//! `mmfuzz explain`: a case as a race diagram (`--full`: every model step), as JSON, or as a
//! swim-lane picture.

use std::path::Path;

use mmfuzz::mm::Program;
use mmfuzz_harness::corpus::{Case, Payload};
use mmfuzz_harness::maple;
use mmfuzz_harness::mm::report::Detail;
use mmfuzz_harness::mm::{exec, picture, report, Scenario};
use mmfuzz_harness::rows::ExplainRow;

use crate::common::{json_line, out, outln, write_file, BadInput, CmdResult, Stop};
use crate::ExplainArgs;

/// Where the report goes: standard output as text (at its detail) or JSON, and the
/// pictures' files.
#[derive(Clone, Copy)]
struct To<'a> {
    svg: Option<&'a Path>,
    html: Option<&'a Path>,
    json: bool,
    detail: Detail,
}

impl To<'_> {
    fn draws(&self) -> bool {
        self.svg.is_some() || self.html.is_some()
    }
}

/// `explain` over several case files, one report after the other (`--svg`/`--html`: one file).
pub fn explain_all(args: &ExplainArgs) -> CmdResult {
    let to = To {
        svg: args.svg.as_deref(),
        html: args.html.as_deref(),
        json: args.json.json,
        detail: if args.full {
            Detail::Full
        } else {
            Detail::Diagram
        },
    };
    if args.files.len() > 1 && to.draws() {
        return Err(
            BadInput("explain: --svg and --html draw one case; give one file".into()).into(),
        );
    }
    let mut ok = true;
    for (i, file) in args.files.iter().enumerate() {
        if i > 0 && !to.json {
            outln!()?;
        }
        ok &= explain(file, to)?;
    }
    Ok(ok)
}

fn explain(file: &Path, to: To<'_>) -> CmdResult {
    let case = Case::load(file).map_err(|e| BadInput(e.to_string()))?;
    match &case.payload {
        Payload::Mm { scenario, .. } => {
            let prog = case
                .program(file)
                .map_err(|e| BadInput(e.to_string()))?
                .expect("an mm case");
            explain_mm(file, &case, &prog, scenario, to)?;
        }
        Payload::MapleStore { .. } if to.draws() => {
            return Err(BadInput(format!(
                "{}: --svg and --html draw mm cases only",
                file.display()
            ))
            .into());
        }
        Payload::MapleStore { ops } => {
            let text = match maple::execute(ops) {
                Ok(st) => format!(
                    "{}: passes ({} ops, height {})",
                    file.display(),
                    st.ops,
                    st.max_height
                ),
                Err(d) => d.to_string(),
            };
            for l in report::wrap_text(&text, "", "  ") {
                outln!("{l}")?;
            }
        }
    }
    Ok(true)
}

/// An mm case: its header, the run's report (text or JSON), and the pictures.
fn explain_mm(
    file: &Path,
    case: &Case,
    prog: &Program,
    sc: &Scenario,
    to: To<'_>,
) -> Result<(), Stop> {
    if !to.json {
        for l in report::wrap_text(&format!("{}: {}", file.display(), case.name), "", "  ") {
            outln!("{l}")?;
        }
        for l in report::wrap_text(&case.note, "", "") {
            outln!("{l}")?;
        }
        outln!()?;
    }
    let opts = exec::Opts {
        record: true,
        ..exec::Opts::default()
    };
    let cannot_run = |e: exec::BadScenario, what: &str| {
        BadInput(format!(
            "{}: {what}the scenario cannot run on {}: {}",
            file.display(),
            prog.config.name,
            e.0
        ))
    };
    let out = match exec::run(prog, sc, opts) {
        Ok(out) => out,
        Err(e) if to.json => return Err(cannot_run(e, "").into()),
        Err(e) => {
            out!("{}", report::explain_at(prog, sc, to.detail))?;
            if to.draws() {
                return Err(cannot_run(e, "nothing to draw: ").into());
            }
            return Ok(());
        }
    };
    if to.json {
        json_line(&ExplainRow {
            case: file.display().to_string(),
            name: case.name.clone(),
            report: report::json(prog, sc, &out),
        })?;
    } else {
        out!("{}", report::render(prog, sc, &out, to.detail))?;
    }
    let title = if case.note.is_empty() {
        case.name.clone()
    } else {
        format!("{}\n{}", case.name, case.note)
    };
    if let Some(p) = to.svg {
        write_file(p, &picture::svg(prog, sc, &out, &title))?;
    }
    if let Some(p) = to.html {
        write_file(p, &picture::html(prog, sc, &out, &title))?;
    }
    Ok(())
}
