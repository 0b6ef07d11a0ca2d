//! `mmfuzz import-maps`: a real `/proc/PID/maps` (or `smaps`) as a set-up file.

use std::path::Path;

use mmfuzz_harness::mm::maps;

use crate::common::{out, write_file, BadInput, CmdResult};

/// A maps/smaps file to a set-up file (standard output, or `out`); a summary on standard
/// error.
pub fn import_maps(file: &Path, out: Option<&Path>) -> CmdResult {
    let shown = file.display();
    let text = std::fs::read_to_string(file).map_err(|e| BadInput(format!("{shown}: {e}")))?;
    let mappings = maps::parse(&text).map_err(|e| {
        if e.line == 0 {
            BadInput(format!("{shown}: {}", e.msg))
        } else {
            BadInput(format!("{shown}:{}: {}", e.line, e.msg))
        }
    })?;
    let f = maps::import(&file.display().to_string(), &mappings);
    eprintln!(
        "{shown}: {} mapping(s) -> {} model VMA(s){}",
        mappings.len(),
        f.groups.len(),
        if f.skipped.is_empty() {
            String::new()
        } else {
            format!("; left out line(s) {:?}", f.skipped)
        }
    );
    for (i, g) in f.groups.iter().enumerate() {
        eprintln!(
            "  vma {i}: {:<5} {:<22} {:>4} mapping(s) {:>8} pages  e.g. {}",
            if g.anon { "anon" } else { "file" },
            if g.flags.is_empty() {
                "0".to_string()
            } else {
                g.flags.join("|")
            },
            g.mappings,
            g.pages,
            g.label
        );
    }
    let json = serde_json::to_string_pretty(&f).expect("serialisable") + "\n";
    match out {
        None => out!("{json}")?,
        Some(p) => {
            write_file(p, &json)?;
            eprintln!("wrote {}", p.display());
        }
    }
    Ok(true)
}
