//! The swim-lane picture of a counterexample: its structure for two corpus cases, its
//! determinism, and (when Chromium is there) a headless render of the HTML page to a PNG.
//!
//! Chromium: `$MMFUZZ_CHROMIUM`, else `/usr/bin/chromium`. Without one the render check is
//! skipped with a message, unless `MMFUZZ_REQUIRE_CHROMIUM=1`, which makes it fail.

mod common;
use common::{root, tmpdir};

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mmfuzz::mm::{Invariant, Program};
use mmfuzz_harness::corpus::{Case, Payload};
use mmfuzz_harness::mm::exec::{self, Opts, Outcome, TraceStep};
use mmfuzz_harness::mm::{picture, Scenario, Violation};

/// Corpus cases drawn, by name prefix (the hash changes when a case is found again).
const CASES: [(&str, &str); 2] = [("B9-", "I5"), ("v4.7-rc-I12-", "I12")];

/// The corpus file whose name starts with `prefix` (not a replay on a fixed version).
fn case_file(prefix: &str) -> String {
    let mut names: Vec<String> = fs::read_dir(root().join("corpus/mm"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix) && !n.contains("-on-"))
        .collect();
    names.sort();
    names
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no corpus case {prefix}*"))
}

/// Load a corpus case and run it with recording.
fn load(file: &str) -> (Case, Program, Scenario, Outcome) {
    let path = root().join("corpus/mm").join(file);
    let case = Case::load(&path).unwrap();
    let prog = case.program(&path).unwrap().expect("an mm case");
    let Payload::Mm { scenario, .. } = &case.payload else {
        panic!("{file}: not an mm case");
    };
    let sc = scenario.clone();
    let opts = Opts {
        record: true,
        ..Opts::default()
    };
    let out = exec::run(&prog, &sc, opts).unwrap();
    (case, prog, sc, out)
}

/// Tags balance (a small XML check: start, end and empty-element tags, entities).
fn well_formed(doc: &str) -> Result<(), String> {
    let mut stack: Vec<&str> = Vec::new();
    let mut rest = doc;
    while let Some(lt) = rest.find('<') {
        let text = &rest[..lt];
        for (i, _) in text.match_indices('&') {
            let ent = &text[i..];
            let ok = ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                .iter()
                .any(|e| ent.starts_with(e));
            if !ok {
                return Err(format!("bare & in {:?}", &ent[..ent.len().min(20)]));
            }
        }
        let gt = rest[lt..].find('>').ok_or("unclosed tag")? + lt;
        let tag = &rest[lt + 1..gt];
        if let Some(name) = tag.strip_prefix('/') {
            match stack.pop() {
                Some(open) if open == name.trim() => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
        } else if !tag.ends_with('/') && !tag.starts_with('!') && !tag.starts_with('?') {
            let name = tag.split_whitespace().next().ok_or("empty tag")?;
            if name.contains(['"', '<']) {
                return Err(format!("bad tag <{tag}>"));
            }
            stack.push(name);
        }
        rest = &rest[gt + 1..];
    }
    if stack.is_empty() {
        Ok(())
    } else {
        Err(format!("unclosed: {stack:?}"))
    }
}

#[test]
fn svg_and_html_have_the_structure() {
    for (prefix, inv) in CASES {
        let file = &case_file(prefix);
        let (case, prog, sc, out) = load(file);
        let threads = sc.threads.len();
        let v = out.violation.as_ref().expect("the case fails");
        assert_eq!(v.inv.name(), inv, "{file}");
        let title = format!("{}\n{}", case.name, case.note);
        let svg = picture::svg(&prog, &sc, &out, &title);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.trim_end().ends_with("</svg>"));
        well_formed(&svg).unwrap_or_else(|e| panic!("{file}: SVG not well formed: {e}"));
        // One lane per thread, with its id and task name.
        assert_eq!(svg.matches("class=\"lane\"").count(), threads, "{file}");
        assert_eq!(svg.matches("class=\"lane-head\"").count(), threads);
        for t in 0..threads {
            assert!(svg.contains(&format!(">CPU{t} ")), "{file}: lane CPU{t}");
        }
        // One group per model step; exactly one violating step, the last, with the invariant.
        assert_eq!(
            svg.matches("<g class=\"step").count(),
            out.trace.len(),
            "{file}"
        );
        assert_eq!(svg.matches("class=\"step violation\"").count(), 1);
        let last = svg.rfind("<g class=\"step").unwrap();
        assert!(svg[last..].starts_with("<g class=\"step violation\""));
        assert!(svg.contains(&format!(">{inv}<")), "{file}: invariant label");
        assert!(
            svg.contains(&format!("{inv} (the harm) broken at step"))
                || svg.contains(&format!("{inv} broken at step")),
            "{file}"
        );
        // The state the violation is about, boxed beside its step.
        assert!(svg.contains("class=\"state\""), "{file}: state box");
        assert!(svg.contains("class=\"violation\""));
        // Lock spans and a legend.
        assert!(svg.contains("class=\"lock\""), "{file}: lock bars");
        assert!(svg.contains("locks:"));
        // Deterministic.
        assert_eq!(svg, picture::svg(&prog, &sc, &out, &title));

        let html = picture::html(&prog, &sc, &out, &title);
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains(&svg), "{file}: the page embeds the SVG");
        assert!(html.contains("<pre>") && html.contains(&format!("&lt;-- {inv}")));
        well_formed(html.trim_start_matches("<!DOCTYPE html>"))
            .unwrap_or_else(|e| panic!("{file}: HTML not well formed: {e}"));
        for external in ["<script", "src=", "href=", "url(", "@import"] {
            assert!(!html.contains(external), "{file}: {external}");
        }
        assert_eq!(html, picture::html(&prog, &sc, &out, &title));
    }
}

#[test]
fn specific_steps_are_drawn() {
    // B9: exit_mmap frees vma0 and drops mmap_lock (held for write) with mm->mmap dangling
    // (I4, the mechanism, in orange with its state), then process_mrelease reads the freed
    // VMA (I5, the harm).
    let (_, prog, sc, out) = load(&case_file(CASES[0].0));
    let svg = picture::svg(&prog, &sc, &out, "B9");
    assert!(svg.contains("frees vma0"));
    assert!(svg.contains("mmap_lock (W)"));
    assert!(svg.contains("exit_mmap: mmap_write_unlock"));
    assert_eq!(svg.matches("<g class=\"step mechanism\"").count(), 1);
    let mech = svg.find("<g class=\"step mechanism\"").unwrap();
    assert!(svg[mech..].starts_with("<g class=\"step mechanism\"><title>model step 29 "));
    assert!(svg.contains(">I4<"), "the mechanism's label");
    assert!(svg.contains("← I4: mm-&gt;mmap still points at freed vma0"));
    assert!(
        svg.contains("mm-&gt;mmap -&gt; vma0 (freed)"),
        "the state box"
    );
    assert!(svg.contains("I4 (the mechanism) broken at step 2"));
    assert!(svg.contains("I5 (the harm) at step 3"));
    // I12: the victim sleeps in the refrigerator (a waiting step, a dashed line).
    let (_, prog, sc, out) = load(&case_file(CASES[1].0));
    let svg = picture::svg(&prog, &sc, &out, "I12");
    assert!(svg.contains("schedule_frozen (waits)"));
    assert!(svg.contains("class=\"wait\""));
    for lock in ["oom_lock", "oom_reaper_lock", "freezer_lock", "task_lock"] {
        assert!(svg.contains(&format!("holds {lock} ")), "{lock}");
    }
}

#[test]
fn odd_input_draws_without_panicking() {
    let (_, prog, sc, mut out) = load(&case_file(CASES[0].0));
    // A step the program does not have, from a thread the scenario does not have, and text
    // that needs escaping.
    out.trace.push(TraceStep {
        tid: 3,
        at: (999, 999),
        value: None,
        held: Vec::new(),
        flags: "a<b & \"c\"".into(),
        events: Vec::new(),
    });
    out.violation = Some(Violation {
        inv: Invariant::I4,
        tid: 9,
        msg: "x & <I?> y </svg>".into(),
    });
    let svg = picture::svg(&prog, &sc, &out, "t<i>tle &\nsub");
    well_formed(&svg).unwrap();
    assert!(svg.contains("&lt;I?&gt;"));
    let html = picture::html(&prog, &sc, &out, "");
    well_formed(html.trim_start_matches("<!DOCTYPE html>")).unwrap();
    // No steps, no violation.
    out.trace.clear();
    out.violation = None;
    let svg = picture::svg(&prog, &sc, &out, "");
    well_formed(&svg).unwrap();
    assert!(svg.contains("no violation"));
}

fn chromium() -> Option<PathBuf> {
    match std::env::var_os("MMFUZZ_CHROMIUM") {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => Some(PathBuf::from("/usr/bin/chromium")).filter(|p| p.exists()),
    }
}

/// Render `html` to `png` with headless Chromium (killed after two minutes).
fn render(bin: &Path, html: &Path, png: &Path, profile: &Path) -> Result<(), String> {
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1400,2000")
        .arg(format!("file://{}", html.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            let out = child.wait_with_output().map_err(|e| e.to_string())?;
            if status.success() {
                return Ok(());
            }
            return Err(format!(
                "chromium exited with {status}: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            return Err("chromium took more than two minutes".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn renders_in_headless_chromium() {
    let Some(bin) = chromium() else {
        let why = "no Chromium (set MMFUZZ_CHROMIUM or install /usr/bin/chromium)";
        if std::env::var("MMFUZZ_REQUIRE_CHROMIUM").as_deref() == Ok("1") {
            panic!("picture: render check needs Chromium (MMFUZZ_REQUIRE_CHROMIUM=1): {why}");
        }
        // Straight to stderr: the test harness does not capture this, so the skip shows.
        let _ = writeln!(std::io::stderr(), "picture: render check SKIPPED: {why}");
        return;
    };
    let dir = tmpdir("picture-render");
    for (prefix, inv) in CASES {
        let file = &case_file(prefix);
        let (case, prog, sc, out) = load(file);
        let html = dir.join(format!("{inv}.html"));
        let png = dir.join(format!("{inv}.png"));
        let title = format!("{}\n{}", case.name, case.note);
        fs::write(&html, picture::html(&prog, &sc, &out, &title)).unwrap();
        let profile = dir.join(format!("profile-{inv}"));
        render(&bin, &html, &png, &profile).unwrap_or_else(|e| panic!("{file}: {e}"));
        let bytes = fs::read(&png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{file}: not a PNG");
        assert!(bytes.len() > 8 * 1024, "{file}: {} bytes", bytes.len());
        // IHDR: the page rendered at the window's size.
        let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        assert_eq!(&bytes[12..16], b"IHDR");
        assert_eq!((be(&bytes[16..20]), be(&bytes[20..24])), (1400, 2000));
        println!(
            "picture: {file} rendered to {} ({} bytes)",
            png.display(),
            bytes.len()
        );
    }
    let _ = fs::remove_dir_all(&dir);
}

/// Every mm corpus case draws, and the picture is well formed (a lock of every class a case
/// holds has its colour: the per-VMA lock of the v6.4 cases too).
#[test]
fn every_corpus_case_draws() {
    let mut drawn = 0;
    for entry in fs::read_dir(root().join("corpus/mm")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if !name.ends_with(".json") {
            continue;
        }
        let (_, prog, sc, out) = load(&name);
        let svg = picture::svg(&prog, &sc, &out, &name);
        well_formed(&svg).unwrap_or_else(|e| panic!("{name}: {e}"));
        drawn += 1;
    }
    assert!(drawn >= 40, "only {drawn} cases drawn");
    let (_, prog, sc, out) = load(&case_file("v6.4-fault-without-detached-recheck-I14"));
    assert!(picture::svg(&prog, &sc, &out, "v6.4").contains("vm_lock(vma0)"));
}
