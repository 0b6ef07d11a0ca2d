//! The README's command blocks run as written, so they cannot rot; so do the guide's
//! console blocks.
//!
//! - A ```` ```console ```` block is commands (`$ ` lines, `\` continues a line) each followed by
//!   the standard output it must print, matched by snapbox: `...` on a line of its own stands
//!   for any lines, `[..]` for any text within a line (execs/s, hashes, timings). A `? N` line
//!   after the output says the command exits with N (default 0).
//! - A ```` ```sh ```` block runs as one bash script (`set -e`): every command must succeed.
//!
//! `mmfuzz` is the binary under test. `cargo run --release -- ARGS` is run as `mmfuzz ARGS` (the
//! same binary); `cargo run --release`, `cargo build` and `cargo test` themselves are what CI
//! runs (`.ci/run`), so they are skipped here. Blocks run in order, in a scratch folder holding
//! a copy of `corpus/` and `examples/`, so the README's own files are never written.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{root, tmpdir};

/// A fenced block: its language, first line number (1-based) and text.
struct Block {
    lang: String,
    line: usize,
    text: String,
}

fn blocks(md: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut cur: Option<Block> = None;
    for (i, l) in md.lines().enumerate() {
        match (&mut cur, l.strip_prefix("```")) {
            (None, Some(lang)) => {
                cur = Some(Block {
                    lang: lang.trim().to_string(),
                    line: i + 2,
                    text: String::new(),
                })
            }
            (Some(_), Some(_)) => out.extend(cur.take()),
            (Some(b), None) => {
                b.text.push_str(l);
                b.text.push('\n');
            }
            (None, None) => {}
        }
    }
    out
}

/// A command line as the README's reader types it, as run here (`None`: CI runs it).
fn as_run(cmd: &str) -> Option<String> {
    let c = cmd.trim();
    if let Some(rest) = c.strip_prefix("cargo run --release -- ") {
        return Some(format!("mmfuzz {rest}"));
    }
    if c.starts_with("cargo ") {
        return None;
    }
    Some(c.to_string())
}

/// One command of a console block: its line, text, expected output and status.
struct Cmd {
    line: usize,
    text: String,
    output: String,
    status: i32,
}

fn console_commands(b: &Block) -> Vec<Cmd> {
    let mut cmds: Vec<Cmd> = Vec::new();
    let mut continued = false;
    for (i, l) in b.text.lines().enumerate() {
        if continued {
            let c = cmds.last_mut().expect("a command");
            c.text.push('\n');
            c.text.push_str(l);
            continued = l.ends_with('\\');
        } else if let Some(cmd) = l.strip_prefix("$ ") {
            cmds.push(Cmd {
                line: b.line + i,
                text: cmd.to_string(),
                output: String::new(),
                status: 0,
            });
            continued = cmd.ends_with('\\');
        } else if let Some(code) = l.strip_prefix("? ") {
            let c = cmds.last_mut().expect("a command before `? N`");
            c.status = code.trim().parse().expect("`? N` with a number");
        } else if let Some(c) = cmds.last_mut() {
            c.output.push_str(l);
            c.output.push('\n');
        }
    }
    cmds
}

fn bash(dir: &Path, bin: &Path, script: &str) -> std::process::Output {
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env("PATH", path)
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .expect("bash runs")
}

/// A scratch folder with copies of the files the README's commands read and write, and a
/// folder with `mmfuzz` in it (for `PATH`).
fn scratch(doc: &str) -> (PathBuf, PathBuf) {
    let dir = tmpdir(&format!("doc-{}", doc.replace(['/', '.'], "-")));
    for d in ["corpus", "examples"] {
        let st = Command::new("cp")
            .arg("-r")
            .arg(root().join(d))
            .arg(&dir)
            .status()
            .unwrap();
        assert!(st.success(), "copy {d}");
    }
    let bin = dir.join(".bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_mmfuzz"), bin.join("mmfuzz")).unwrap();
    (dir, bin)
}

/// Run the command blocks of `doc` (a path under the repository root) in a fresh scratch
/// folder: its console blocks, and (`sh`) its sh blocks. The failures, as messages.
fn run_doc(doc: &str, sh: bool) -> (usize, Vec<String>) {
    let md = std::fs::read_to_string(root().join(doc)).unwrap();
    let (dir, bin) = scratch(doc);
    let mut failures = Vec::new();
    let mut ran = 0;
    for b in blocks(&md) {
        match b.lang.as_str() {
            "console" => {
                for c in console_commands(&b) {
                    let Some(cmd) = as_run(&c.text) else { continue };
                    ran += 1;
                    let out = bash(&dir, &bin, &cmd);
                    let status = out.status.code().unwrap_or(-1);
                    if status != c.status {
                        failures.push(format!(
                            "{doc}:{}: `{}` exited {status}, not {}:\n{}",
                            c.line,
                            c.text,
                            c.status,
                            String::from_utf8_lossy(&out.stderr)
                        ));
                        continue;
                    }
                    let actual = String::from_utf8_lossy(&out.stdout).into_owned();
                    let res = snapbox::Assert::new().try_eq(
                        Some(&format!("{doc}:{}", c.line)),
                        actual.into(),
                        c.output.clone().into(),
                    );
                    if let Err(e) = res {
                        failures.push(format!("{doc}:{}: `{}`:\n{e}", c.line, c.text));
                    }
                }
            }
            "sh" if sh => {
                let script: Vec<String> = b.text.lines().filter_map(as_run).collect();
                if script.iter().all(|l| l.is_empty()) {
                    continue;
                }
                ran += 1;
                let out = bash(&dir, &bin, &format!("set -e\n{}", script.join("\n")));
                if !out.status.success() {
                    failures.push(format!(
                        "{doc}:{}: the block failed ({}):\n{}{}",
                        b.line,
                        out.status,
                        String::from_utf8_lossy(&out.stdout),
                        String::from_utf8_lossy(&out.stderr)
                    ));
                }
            }
            _ => {}
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    (ran, failures)
}

#[test]
fn readme_commands_run_as_written() {
    let (ran, failures) = run_doc("README.md", true);
    assert!(ran >= 5, "only {ran} README commands ran");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The guide's console blocks (its other blocks show commands that need nightly, a real
/// process or minutes).
#[test]
fn guide_console_blocks_run_as_written() {
    let (ran, failures) = run_doc("docs/guide.md", false);
    assert!(ran >= 3, "only {ran} guide commands ran");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn blocks_and_commands_are_parsed() {
    let md = "a\n```console\n$ mmfuzz x \\\n  --y\nout\n...\n? 1\n```\n```sh\ncargo test\n```\n";
    let bs = blocks(md);
    assert_eq!(bs.len(), 2);
    let cs = console_commands(&bs[0]);
    assert_eq!(cs.len(), 1);
    assert_eq!(cs[0].text, "mmfuzz x \\\n  --y");
    assert_eq!(cs[0].output, "out\n...\n");
    assert_eq!(cs[0].status, 1);
    assert_eq!(cs[0].line, 3);
    assert_eq!(as_run("cargo test"), None);
    assert_eq!(
        as_run("cargo run --release -- replay corpus").as_deref(),
        Some("mmfuzz replay corpus")
    );
}
