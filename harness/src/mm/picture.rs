//! A counterexample as a picture: a self-contained SVG swim-lane (one lane per thread, time
//! going down, one row per model step grouped into the report's numbered steps), with the
//! lock-hold spans beside each lane, the objects freed and used, the flags that changed, the
//! mechanism's step (a proxy invariant: I4, I2's reader discipline) in orange and the harm's
//! in red, each with a box of the state it is about (`mm->mmap -> vma0 (freed)`, the
//! freezer's flags); and an HTML page with the SVG and the text report.
//!
//! Text is monospace and laid out by character counts, so the output needs no script and no
//! font metrics, and the same input gives the same bytes.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use mmfuzz::mm::{Event, Loc, Lock, Program};

use super::exec::{roles, start_flags, Outcome, TraceStep};
use super::report::{
    changed, explain_outcome, locks, marked, setup_lines, step_text, wrap_hard, Marked,
};
use super::scenario::Scenario;

/// Main font size, advance of one monospace character, line height.
const FONT: f64 = 11.0;
const CW: f64 = 6.7;
const LH: f64 = 14.0;
/// The small font (flags, objects, labels).
const SMALL: f64 = 10.0;
const SCW: f64 = 6.1;
const SLH: f64 = 12.5;
/// Lane text width in characters: at least; at most (with four lanes or more, with one);
/// what all lanes may take together.
const LANE_MIN: usize = 18;
const LANE_MAX: usize = 38;
const LANE_WIDEST: usize = 64;
const LANES_TOTAL: usize = 150;
/// Flags column width in characters.
const FLAGS_CHARS: usize = 34;
/// One lock bar's width and the gap after it.
const BAR: f64 = 8.0;
const BAR_GAP: f64 = 3.0;
/// Margins and the step-number column.
const MARGIN: f64 = 12.0;
const NUM_W: f64 = 64.0;
const LANE_GAP: f64 = 10.0;
const PAD: f64 = 6.0;

const RED: &str = "#c0151d";
const ORANGE: &str = "#b85c00";
const ORANGE_BG: &str = "#fff0dc";
const RED_BG: &str = "#fde2df";
const GREY: &str = "#777777";

/// Escape text for XML (element content and attribute values).
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

/// A lock class: its legend name and colour (`mmap_lock` read and write apart).
fn class(l: Lock, shared: bool) -> (u8, &'static str, &'static str) {
    // One per class of `Lock::CLASSES`, `mmap_lock` twice.
    const COLOURS: [&str; Lock::CLASSES.len() + 1] = [
        "#7fb8e6", "#0b4f9c", "#f28e2b", "#9a5bc4", "#2f9e44", "#a07a2c", "#e0409a", "#5c5c5c",
        "#17a2b8",
    ];
    let (i, name) = match l {
        Lock::MmapLock if shared => (0, "mmap_lock (R)"),
        Lock::MmapLock => (1, "mmap_lock (W)"),
        other => (other.class() + 1, other.class_name()),
    };
    (i as u8, name, COLOURS[i])
}

/// The object an access touches (what a `Free` names).
fn object(loc: Loc) -> Loc {
    match loc {
        Loc::VmaFlags(v) => Loc::VmaObj(v),
        Loc::MmMmap | Loc::MmTree | Loc::MmLockedVm => Loc::MmStruct,
        other => other,
    }
}

/// Lines of text, each with its style.
type Lines = Vec<(String, Style)>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Step,
    Waits,
    Bad,
    Free,
    Uaf,
    Use,
    Mech,
}

impl Style {
    fn attrs(self) -> String {
        let (size, fill, extra) = match self {
            Style::Step => (FONT, "#111111", ""),
            Style::Waits => (FONT, GREY, " font-style=\"italic\""),
            Style::Bad => (FONT, RED, " font-weight=\"bold\""),
            Style::Free => (SMALL, "#8b1a1a", " font-weight=\"bold\""),
            Style::Uaf => (SMALL, RED, " font-weight=\"bold\""),
            Style::Use => (SMALL, "#5a5a5a", ""),
            Style::Mech => (SMALL, ORANGE, " font-weight=\"bold\""),
        };
        format!("font-size=\"{size}\" fill=\"{fill}\"{extra}")
    }
    fn height(self) -> f64 {
        match self {
            Style::Step | Style::Waits | Style::Bad => LH,
            _ => SLH,
        }
    }
}

struct Lane {
    label: String,
    task: &'static str,
    entry: &'static str,
    /// The locks the thread ever holds, in order: one bar column each.
    locks: Vec<Lock>,
    x: f64,
    text_x: f64,
    chars: usize,
    w: f64,
}

struct Row {
    tid: usize,
    group: usize,
    first: bool,
    lines: Vec<(String, Style)>,
    flags: Vec<String>,
    tip: String,
    waits: bool,
    /// The mechanism broke in this step: its marker line.
    mech: Option<String>,
    /// The state box beside the step (mechanism or harm), its title first.
    state: Vec<String>,
    y: f64,
    h: f64,
}

fn held_of(s: Option<&TraceStep>, tid: usize) -> &[(Lock, bool)] {
    s.and_then(|s| s.held.get(tid))
        .map_or(&[], |h| h.as_slice())
}

/// What a step did to objects, as lines: frees, uses after free, uses of objects freed
/// elsewhere in the trace.
fn object_lines(s: &TraceStep, freed_ever: &BTreeSet<Loc>) -> Lines {
    let mut frees = BTreeSet::new();
    let mut uaf = BTreeSet::new();
    let mut uses = BTreeSet::new();
    for e in &s.events {
        match *e {
            Event::Free { loc, .. } => {
                frees.insert(loc);
            }
            Event::Access {
                loc, write, freed, ..
            } => {
                if freed {
                    uaf.insert((loc, write));
                } else if freed_ever.contains(&object(loc)) {
                    uses.insert((loc, write));
                }
            }
            _ => {}
        }
    }
    let rw = |w: bool| if w { "W" } else { "R" };
    let list = |set: &BTreeSet<(Loc, bool)>| {
        set.iter()
            .map(|(l, w)| format!("{} ({})", l.name(), rw(*w)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = Vec::new();
    if !frees.is_empty() {
        let names: Vec<String> = frees.iter().map(|l| l.name()).collect();
        out.push((format!("frees {}", names.join(", ")), Style::Free));
    }
    if !uaf.is_empty() {
        out.push((format!("USE AFTER FREE: {}", list(&uaf)), Style::Uaf));
    }
    if !uses.is_empty() {
        out.push((format!("uses {}", list(&uses)), Style::Use));
    }
    out
}

fn lanes(prog: &Program, sc: &Scenario, out: &Outcome) -> Vec<Lane> {
    let roles = roles(prog, &sc.threads);
    let n = out
        .trace
        .iter()
        .map(|s| s.tid as usize + 1)
        .max()
        .unwrap_or(0)
        .max(roles.len());
    (0..n)
        .map(|t| {
            let role = roles.get(t);
            let mut set = BTreeSet::new();
            for s in &out.trace {
                for (l, _) in held_of(Some(s), t) {
                    set.insert(*l);
                }
            }
            Lane {
                label: format!("CPU{t}"),
                task: role.map_or("?", |r| r.task()),
                entry: role.map_or("?", |r| r.entry()),
                locks: set.into_iter().collect(),
                x: 0.0,
                text_x: 0.0,
                chars: LANE_MIN,
                w: 0.0,
            }
        })
        .collect()
}

/// Where everything goes: the lanes and rows placed, the heading's lines, and the y of the
/// lane headers, of the first row and past the last.
struct Layout {
    marked: Marked,
    lanes: Vec<Lane>,
    rows: Vec<Row>,
    flags_x: f64,
    width: f64,
    head: Vec<(String, Style, f64)>,
    header_y: f64,
    rows_y: f64,
    rows_end: f64,
}

/// A step's text and object lines, before wrapping, with its thread.
type StepText = (usize, String, Lines);

/// Lay the picture out: the step texts decide the lane widths, those the picture's width,
/// which decides how the heading wraps, which decides where the rows start.
fn layout(prog: &Program, sc: &Scenario, out: &Outcome, title: &str) -> Layout {
    let mut lanes = lanes(prog, sc, out);
    let cap = (LANES_TOTAL / lanes.len().max(1)).clamp(LANE_MAX, LANE_WIDEST);
    // Texts first: they decide the lane widths.
    let raw = step_texts(prog, out, &mut lanes, cap);
    let x = place_lanes(&mut lanes, cap);
    let flags_x = x + 4.0;
    let width = flags_x + FLAGS_CHARS as f64 * SCW + MARGIN;
    let wide = ((width - 2.0 * MARGIN) / SCW) as usize;

    let start = start_flags(prog, sc);
    let marked = marked(prog, sc, out);
    let head = heading(
        prog,
        sc,
        title,
        start.as_deref(),
        wide,
        verdict(out, &lanes, &marked),
    );
    let mut y = MARGIN;
    for (_, _, size) in &head {
        y += size * 1.35;
    }
    // Legend line.
    y += 8.0;
    let legend_y = y;
    let header_y = legend_y + 26.0;
    let rows_y = header_y + 2.0 * LH + 10.0;

    let (rows, rows_end) = rows(out, &lanes, raw, cap, start.as_deref(), rows_y, &marked);
    Layout {
        marked,
        lanes,
        rows,
        flags_x,
        width,
        head,
        header_y,
        rows_y,
        rows_end,
    }
}

/// Each step's text and object lines; widens each lane to its longest line (at most `cap`).
fn step_texts(prog: &Program, out: &Outcome, lanes: &mut [Lane], cap: usize) -> Vec<StepText> {
    let freed_ever: BTreeSet<Loc> = out
        .trace
        .iter()
        .flat_map(|s| &s.events)
        .filter_map(|e| match e {
            Event::Free { loc, .. } => Some(*loc),
            _ => None,
        })
        .collect();
    let mut raw = Vec::new();
    for s in &out.trace {
        let text = step_text(prog, s);
        let tid = s.tid as usize;
        let objs = object_lines(s, &freed_ever);
        if let Some(l) = lanes.get_mut(tid) {
            let longest = std::iter::once(text.chars().count())
                .chain(objs.iter().map(|o| o.0.chars().count()))
                .max()
                .unwrap_or(0);
            l.chars = l.chars.max(longest.min(cap));
        }
        raw.push((tid, text, objs));
    }
    raw
}

/// Place the lanes left to right, each wide enough for its header and its lock bars; returns
/// the x past the last one (and its gap).
fn place_lanes(lanes: &mut [Lane], cap: usize) -> f64 {
    let mut x = MARGIN + NUM_W;
    for l in lanes {
        let head = format!("{} {}", l.label, l.task).len().max(l.entry.len());
        l.chars = l.chars.max(head.min(cap));
        l.x = x;
        let strip = l.locks.len() as f64 * (BAR + BAR_GAP);
        l.text_x = x + PAD + strip + if strip > 0.0 { 4.0 } else { 0.0 };
        l.w = l.text_x - x + l.chars as f64 * CW + PAD;
        x += l.w + LANE_GAP;
    }
    x
}

/// The heading's lines, each with its style and font size: title, subtitle lines, config,
/// set-up, the flags at the start, then `verdict` ([`verdict`]); wrapped to `wide` characters.
fn heading(
    prog: &Program,
    sc: &Scenario,
    title: &str,
    start: Option<&str>,
    wide: usize,
    verdict: (String, Style, f64),
) -> Vec<(String, Style, f64)> {
    let mut head: Vec<(String, Style, f64)> = Vec::new();
    let mut tl = title.lines();
    head.push((tl.next().unwrap_or("").to_string(), Style::Step, 18.0));
    for l in tl {
        for w in wrap_hard(l, wide) {
            head.push((w, Style::Use, SMALL));
        }
    }
    let cfg = &prog.config;
    for w in wrap_hard(
        &format!(
            "config {}: {} [{}]",
            cfg.name, cfg.meta.note, cfg.meta.kernel
        ),
        wide,
    ) {
        head.push((w, Style::Step, SMALL));
    }
    let setup = setup_lines(sc);
    let setup = if setup.is_empty() {
        "set-up: none".to_string()
    } else {
        format!("set-up: {}", setup.join("; "))
    };
    for w in wrap_hard(&setup, wide) {
        head.push((w, Style::Step, SMALL));
    }
    if let Some(f) = start {
        for w in wrap_hard(&format!("flags at the start: {f}"), wide) {
            head.push((w, Style::Step, SMALL));
        }
    }
    head.push(verdict);
    head
}

/// The heading's last line: which invariant broke, at which step and by whom; or none did.
fn verdict(out: &Outcome, lanes: &[Lane], marked: &Marked) -> (String, Style, f64) {
    let groups = usize::from(!out.trace.is_empty())
        + out
            .trace
            .windows(2)
            .filter(|w| w[0].tid != w[1].tid)
            .count();
    let who = |t: u8| lanes.get(t as usize).map_or("?", |l| l.task);
    let mech = marked.mechanism.as_ref().map(|(i, v, _)| {
        let group = 1 + out.trace[..=*i]
            .windows(2)
            .filter(|w| w[0].tid != w[1].tid)
            .count();
        (group, i + 1, v)
    });
    let verdict = match (&out.violation, mech) {
        (Some(v), None) => format!(
            "{} broken at step {groups} (model step {}) by CPU{} ({})",
            v.inv,
            out.steps,
            v.tid,
            who(v.tid)
        ),
        (Some(v), Some((g, m, mv))) => format!(
            "{} (the harm) at step {groups} (model step {}) by CPU{} ({}), after {} (the mechanism) at step {g} (model step {m})",
            v.inv,
            out.steps,
            v.tid,
            who(v.tid),
            mv.inv
        ),
        (None, Some((g, m, mv))) => format!(
            "latent {}: the mechanism at step {g} (model step {m}) by CPU{} ({}), no harm follows",
            mv.inv,
            mv.tid,
            who(mv.tid)
        ),
        (None, None) => format!("no violation ({} model steps)", out.steps),
    };
    let vstyle = if out.violation.is_some() || mech.is_some() {
        Style::Bad
    } else {
        Style::Step
    };
    (verdict, vstyle, 13.0)
}

/// One row per model step, stacked down from `rows_y`: its lines wrapped to its lane, the
/// flags it changed, its tooltip and its height. Returns the rows and the y past the last.
fn rows(
    out: &Outcome,
    lanes: &[Lane],
    raw: Vec<StepText>,
    cap: usize,
    start: Option<&str>,
    rows_y: f64,
    marked: &Marked,
) -> (Vec<Row>, f64) {
    let last = out.trace.len().checked_sub(1);
    let mut rows = Vec::with_capacity(raw.len());
    let mut y = rows_y;
    let mut group = 0;
    for (i, (tid, text, objs)) in raw.into_iter().enumerate() {
        let s = &out.trace[i];
        let first = i == 0 || out.trace[i - 1].tid as usize != tid;
        if first {
            group += 1;
        }
        let bad = out.violation.is_some() && Some(i) == last;
        let waits = s.value.is_none();
        let style = match (bad, waits) {
            (true, _) => Style::Bad,
            (false, true) => Style::Waits,
            _ => Style::Step,
        };
        let chars = lanes.get(tid).map_or(cap, |l| l.chars);
        let mech = marked
            .mechanism
            .as_ref()
            .filter(|(m, _, _)| *m == i)
            .map(|(_, _, note)| note.clone());
        let mut lines = row_lines(&text, objs, style, chars);
        if let Some(note) = &mech {
            let small = (chars as f64 * CW / SCW) as usize;
            lines.extend(
                wrap_hard(&format!("← {note}"), small)
                    .into_iter()
                    .map(|t| (t, Style::Mech)),
            );
        }
        let state = match (&mech, bad) {
            (Some(_), _) if !marked.mechanism_state.is_empty() => {
                let mut v = vec![format!("state after step {group}:")];
                v.extend(
                    marked
                        .mechanism_state
                        .iter()
                        .flat_map(|l| wrap_hard(l, FLAGS_CHARS - 1)),
                );
                v
            }
            (_, true) if !marked.harm_state.is_empty() => {
                let mut v = vec![format!("state after step {group}:")];
                v.extend(
                    marked
                        .harm_state
                        .iter()
                        .flat_map(|l| wrap_hard(l, FLAGS_CHARS - 1)),
                );
                v
            }
            _ => Vec::new(),
        };
        let prev = match i.checked_sub(1) {
            Some(p) => Some(out.trace[p].flags.as_str()),
            None => start,
        };
        let delta = changed(prev, &s.flags);
        let flags = if delta.is_empty() {
            Vec::new()
        } else {
            wrap_hard(&delta, FLAGS_CHARS)
        };
        let text_h: f64 = lines.iter().map(|(_, st)| st.height()).sum();
        let side = flags.len() as f64 * SLH + state_h(&state);
        let mut h = text_h.max(side) + 6.0;
        if bad || mech.is_some() {
            // Room for the invariant's name under the step number.
            h = h.max(2.0 * LH + 6.0);
        }
        let tip = format!(
            "model step {} (numbered step {group}), CPU{tid} {}: {text}\nholds: {}\nflags: {}",
            i + 1,
            lanes.get(tid).map_or("?", |l| l.task),
            locks(held_of(Some(s), tid)),
            s.flags
        );
        rows.push(Row {
            tid,
            group,
            first,
            lines,
            flags,
            tip,
            waits,
            mech,
            state,
            y,
            h,
        });
        y += h;
    }
    (rows, y)
}

/// A step's lines: its text wrapped to `chars` in `style`, then its object lines wrapped to
/// the same width in the small font.
fn row_lines(text: &str, objs: Lines, style: Style, chars: usize) -> Lines {
    let mut lines: Lines = wrap_hard(text, chars)
        .into_iter()
        .map(|t| (t, style))
        .collect();
    let small = (chars as f64 * CW / SCW) as usize;
    for (t, st) in objs {
        lines.extend(wrap_hard(&t, small).into_iter().map(|t| (t, st)));
    }
    lines
}

/// The height of a state box of `lines` (none: 0).
fn state_h(lines: &[String]) -> f64 {
    if lines.is_empty() {
        0.0
    } else {
        lines.len() as f64 * SLH + 10.0
    }
}

/// A `<text>` element at (`x`, `y`) with `attrs`.
fn text(svg: &mut String, x: f64, y: f64, s: &str, attrs: &str) {
    let _ = writeln!(
        svg,
        "<text x=\"{x:.1}\" y=\"{y:.1}\" {attrs}>{}</text>",
        esc(s)
    );
}

/// A `<rect>` element with `attrs`.
fn rect(svg: &mut String, x: f64, y: f64, w: f64, h: f64, attrs: &str) {
    let _ = writeln!(
        svg,
        "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" {attrs}/>"
    );
}

/// The violation box's lines (none without a violation): what broke, its message, the locks
/// held and the state at the end.
fn violation_lines(lay: &Layout, out: &Outcome) -> Vec<String> {
    let mut vbox: Vec<String> = Vec::new();
    let wide = ((lay.width - 2.0 * MARGIN - 16.0) / SCW) as usize;
    let who = |t: u8| lay.lanes.get(t as usize).map_or("?", |l| l.task);
    if let Some((i, m, _)) = &lay.marked.mechanism {
        let group = lay.rows.get(*i).map_or(0, |r| r.group);
        let kind = if out.violation.is_some() {
            "the mechanism"
        } else {
            "the mechanism; latent: no harm follows in this run"
        };
        vbox.extend(wrap_hard(
            &format!(
                "{} ({kind}) broken at step {group} (model step {}) by CPU{} ({}):",
                m.inv,
                i + 1,
                m.tid,
                who(m.tid)
            ),
            wide,
        ));
        vbox.extend(wrap_hard(&m.msg, wide));
    }
    let Some(v) = &out.violation else {
        return vbox;
    };
    let group = lay.rows.last().map_or(0, |r| r.group);
    let kind = if lay.marked.mechanism.is_some() {
        " (the harm)"
    } else {
        ""
    };
    vbox.extend(wrap_hard(
        &format!(
            "{}{kind} broken at step {group} (model step {}) by CPU{} ({}):",
            v.inv,
            out.steps,
            v.tid,
            who(v.tid)
        ),
        wide,
    ));
    vbox.extend(wrap_hard(&v.msg, wide));
    if let Some(last) = out.trace.last() {
        let held: Vec<String> = (0..lay.lanes.len())
            .map(|t| format!("CPU{t}: {}", locks(held_of(Some(last), t))))
            .collect();
        vbox.extend(wrap_hard(&format!("locks held: {}", held.join(", ")), wide));
        vbox.extend(wrap_hard(&format!("state: {}", last.flags), wide));
    }
    vbox
}

/// The SVG being written, with the layout and the outcome it draws.
struct Draw<'a> {
    s: String,
    lay: &'a Layout,
    out: &'a Outcome,
}

impl Draw<'_> {
    /// See [`text`].
    fn text(&mut self, x: f64, y: f64, s: &str, attrs: &str) {
        text(&mut self.s, x, y, s, attrs);
    }

    /// See [`rect`].
    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, attrs: &str) {
        rect(&mut self.s, x, y, w, h, attrs);
    }

    /// The `<svg>` element, the document's title and the white background.
    fn open(&mut self, title: &str, height: f64) {
        let w = self.lay.width;
        let _ = writeln!(
            self.s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {w:.0} {height:.0}\" font-family=\"'DejaVu Sans Mono', 'Liberation Mono', Menlo, Consolas, monospace\">"
        );
        let _ = writeln!(
            self.s,
            "<title>{}</title>",
            esc(title.lines().next().unwrap_or(""))
        );
        self.rect(0.0, 0.0, w, height, "fill=\"#ffffff\"");
    }

    /// The heading's lines.
    fn heading(&mut self) {
        let mut y = MARGIN;
        for (t, st, size) in &self.lay.head {
            y += size * 1.35;
            let attrs = match st {
                Style::Bad => format!("font-size=\"{size}\" fill=\"{RED}\" font-weight=\"bold\""),
                Style::Use => format!("font-size=\"{size}\" fill=\"{GREY}\""),
                _ if *size > 14.0 => format!("font-size=\"{size}\" font-weight=\"bold\""),
                _ => format!("font-size=\"{size}\" fill=\"#333333\""),
            };
            text(&mut self.s, MARGIN, y - size * 0.3, t, &attrs);
        }
    }

    /// The legend: the lock classes present, then the markers (waiting, the violating step).
    fn legend(&mut self) {
        let mut classes = BTreeSet::new();
        for st in &self.out.trace {
            for h in &st.held {
                for (l, sh) in h {
                    classes.insert(class(*l, *sh));
                }
            }
        }
        let ly = self.lay.header_y - 20.0;
        let mut lx = MARGIN;
        self.text(lx, ly + 9.0, "locks:", &format!("font-size=\"{SMALL}\""));
        lx += 7.0 * SCW;
        for (_, name, colour) in &classes {
            self.swatch(
                lx,
                ly,
                &format!("rx=\"2\" fill=\"{colour}\""),
                name,
                &format!("font-size=\"{SMALL}\""),
            );
            lx += 18.0 + name.len() as f64 * SCW + 14.0;
        }
        if classes.is_empty() {
            self.text(
                lx,
                ly + 9.0,
                "none held",
                &format!("font-size=\"{SMALL}\" fill=\"{GREY}\""),
            );
            lx += 9.0 * SCW + 14.0;
        }
        lx += 10.0;
        let _ = writeln!(
            self.s,
            "<line x1=\"{lx:.1}\" y1=\"{:.1}\" x2=\"{lx:.1}\" y2=\"{:.1}\" stroke=\"{GREY}\" stroke-width=\"1.5\" stroke-dasharray=\"3 3\"/>",
            ly - 2.0,
            ly + 12.0
        );
        self.text(
            lx + 6.0,
            ly + 9.0,
            "waits / asleep",
            &format!("font-size=\"{SMALL}\" fill=\"{GREY}\" font-style=\"italic\""),
        );
        lx += 6.0 + 14.0 * SCW + 14.0;
        self.swatch(
            lx,
            ly,
            &format!("fill=\"{RED_BG}\" stroke=\"{RED}\" stroke-width=\"1.5\""),
            "violating step (harm)",
            &format!("font-size=\"{SMALL}\" fill=\"{RED}\""),
        );
        lx += 18.0 + 21.0 * SCW + 14.0;
        self.swatch(
            lx,
            ly,
            &format!("fill=\"{ORANGE_BG}\" stroke=\"{ORANGE}\" stroke-width=\"1.5\""),
            "mechanism (proxy invariant)",
            &format!("font-size=\"{SMALL}\" fill=\"{ORANGE}\""),
        );
    }

    /// A legend entry at (`x`, `y`): a small box drawn with `box_attrs`, then its label.
    fn swatch(&mut self, x: f64, y: f64, box_attrs: &str, label: &str, label_attrs: &str) {
        self.rect(x, y, 14.0, 11.0, box_attrs);
        self.text(x + 18.0, y + 9.0, label, label_attrs);
    }

    /// The lanes (background and a header with the CPU, task and entry point), and the
    /// headers of the step-number and flags columns.
    fn lanes(&mut self) {
        let lay = self.lay;
        let rows_h = lay.rows_end - lay.header_y;
        for (t, lane) in lay.lanes.iter().enumerate() {
            let fill = if t % 2 == 0 { "#f6f8fb" } else { "#fbfaf6" };
            self.rect(
                lane.x,
                lay.header_y,
                lane.w,
                rows_h,
                &format!("class=\"lane\" fill=\"{fill}\" stroke=\"#c9ced6\""),
            );
            self.rect(
                lane.x,
                lay.header_y,
                lane.w,
                2.0 * LH + 6.0,
                "fill=\"#e4e8ef\" stroke=\"#c9ced6\"",
            );
            self.text(
                lane.x + PAD,
                lay.header_y + LH,
                &format!("{} {}", lane.label, lane.task),
                &format!("class=\"lane-head\" font-size=\"{FONT}\" font-weight=\"bold\""),
            );
            self.text(
                lane.x + PAD,
                lay.header_y + 2.0 * LH,
                lane.entry,
                &format!("font-size=\"{SMALL}\" fill=\"{GREY}\""),
            );
        }
        self.text(
            MARGIN,
            lay.header_y + LH,
            "step",
            &format!("font-size=\"{SMALL}\" font-weight=\"bold\""),
        );
        self.text(
            MARGIN,
            lay.header_y + 2.0 * LH,
            "(model)",
            &format!("font-size=\"{SMALL}\" fill=\"{GREY}\""),
        );
        self.text(
            lay.flags_x,
            lay.header_y + LH,
            "flags changed",
            &format!("font-size=\"{SMALL}\" font-weight=\"bold\""),
        );
    }

    /// The running thread's lane tinted over its numbered step; a rule between numbered steps
    /// and a faint one between the model steps inside one.
    fn tint(&mut self) {
        let rows = &self.lay.rows;
        let mut i = 0;
        while i < rows.len() {
            let r0 = &rows[i];
            let mut j = i;
            while j + 1 < rows.len() && !rows[j + 1].first {
                j += 1;
            }
            let r1 = &rows[j];
            if let Some(lane) = self.lay.lanes.get(r0.tid) {
                self.rect(
                    lane.x + 1.0,
                    r0.y,
                    lane.w - 2.0,
                    r1.y + r1.h - r0.y,
                    "fill=\"#fff4c9\" fill-opacity=\"0.8\"",
                );
            }
            for r in &rows[i + 1..=j] {
                self.rule(r.y, "#e6e9ee", "0.7");
            }
            if i > 0 {
                self.rule(r0.y, "#9aa3b0", "1");
            }
            i = j + 1;
        }
    }

    /// A horizontal line across the picture at `y`.
    fn rule(&mut self, y: f64, stroke: &str, width: &str) {
        let _ = writeln!(
            self.s,
            "<line x1=\"{MARGIN:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{stroke}\" stroke-width=\"{width}\"/>",
            self.lay.width - MARGIN
        );
    }

    /// The lock bars of lane `t`: per lock, half-row segments (held before the step: upper
    /// half; after it: lower half), merged into spans.
    fn lock_bars(&mut self, t: usize) {
        let (lay, out) = (self.lay, self.out);
        let lane = &lay.lanes[t];
        for (k, lock) in lane.locks.iter().enumerate() {
            let x = lane.x + PAD + k as f64 * (BAR + BAR_GAP);
            let mut spans: Vec<(f64, f64, bool, usize, usize)> = Vec::new();
            let mut push = |y0: f64, y1: f64, shared: bool, i: usize| match spans.last_mut() {
                Some(s) if (s.1 - y0).abs() < 0.01 && s.2 == shared => {
                    s.1 = y1;
                    s.4 = i;
                }
                _ => spans.push((y0, y1, shared, i, i)),
            };
            for (i, row) in lay.rows.iter().enumerate() {
                let mid = row.y + row.h / 2.0;
                let before = i.checked_sub(1).and_then(|p| out.trace.get(p));
                if let Some(&(_, sh)) = held_of(before, t).iter().find(|(l, _)| l == lock) {
                    push(row.y, mid, sh, i);
                }
                if let Some(&(_, sh)) = held_of(out.trace.get(i), t).iter().find(|(l, _)| l == lock)
                {
                    push(mid, row.y + row.h, sh, i);
                }
            }
            for (y0, y1, shared, a, b) in spans {
                let (_, name, colour) = class(*lock, shared);
                let name = match lock {
                    Lock::Ptl(_) | Lock::VmLock(_) => lock.name(),
                    _ => name.to_string(),
                };
                let _ = writeln!(
                    self.s,
                    "<rect class=\"lock\" x=\"{x:.1}\" y=\"{y0:.1}\" width=\"{BAR:.1}\" height=\"{:.1}\" rx=\"2\" fill=\"{colour}\"><title>{} holds {} (model steps {}–{})</title></rect>",
                    y1 - y0,
                    esc(&lane.label),
                    esc(&name),
                    a + 1,
                    b + 1
                );
            }
        }
    }

    /// A thread that waits: a dashed line down its lane until it runs again (or to the end).
    fn waits(&mut self) {
        let lay = self.lay;
        for (i, row) in lay.rows.iter().enumerate() {
            if !row.waits {
                continue;
            }
            let Some(lane) = lay.lanes.get(row.tid) else {
                continue;
            };
            let next = lay.rows[i + 1..].iter().find(|r| r.tid == row.tid);
            let y1 = next.map_or(lay.rows_end, |r| r.y);
            let y0 = row.y + row.h;
            if y1 - y0 > 1.0 {
                let x = lane.text_x + 3.0;
                let _ = writeln!(
                    self.s,
                    "<line class=\"wait\" x1=\"{x:.1}\" y1=\"{y0:.1}\" x2=\"{x:.1}\" y2=\"{y1:.1}\" stroke=\"{GREY}\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>"
                );
            }
        }
    }

    /// The rows, the last one marked when it broke the invariant; or a note that there are none.
    fn rows(&mut self) {
        let lay = self.lay;
        let bad_row = self
            .out
            .violation
            .as_ref()
            .and_then(|_| lay.rows.len().checked_sub(1));
        for (i, row) in lay.rows.iter().enumerate() {
            if let Some(lane) = lay.lanes.get(row.tid) {
                self.row(i, row, lane, Some(i) == bad_row);
            }
        }
        if lay.rows.is_empty() {
            self.text(
                MARGIN,
                lay.rows_y + LH,
                "no steps were taken",
                &format!("font-size=\"{FONT}\" fill=\"{GREY}\""),
            );
        }
    }

    /// Model step `i` as a group with its tooltip: a box when it waits or is `bad`, the step
    /// numbers (and the invariant when `bad`), its lines in its lane, the flags it changed.
    fn row(&mut self, i: usize, row: &Row, lane: &Lane, bad: bool) {
        let _ = writeln!(
            self.s,
            "<g class=\"{}\"><title>{}</title>",
            match (bad, row.mech.is_some()) {
                (true, true) => "step violation mechanism",
                (true, false) => "step violation",
                (false, true) => "step mechanism",
                (false, false) => "step",
            },
            esc(&row.tip)
        );
        let text_h: f64 = row.lines.iter().map(|(_, st)| st.height()).sum();
        let top = row.y + ((row.h - text_h) / 2.0).max(3.0);
        let tw = lane.chars as f64 * CW + 6.0;
        let box_attrs = if bad {
            Some(format!(
                "fill=\"{RED_BG}\" stroke=\"{RED}\" stroke-width=\"2\" rx=\"3\""
            ))
        } else if row.mech.is_some() {
            Some(format!(
                "fill=\"{ORANGE_BG}\" stroke=\"{ORANGE}\" stroke-width=\"2\" rx=\"3\""
            ))
        } else if row.waits {
            Some(format!(
                "fill=\"#eeeeee\" stroke=\"{GREY}\" stroke-dasharray=\"3 2\" rx=\"3\""
            ))
        } else {
            None
        };
        if let Some(attrs) = box_attrs {
            self.rect(
                lane.text_x - 5.0,
                row.y + 1.0,
                tw + 2.0,
                row.h - 2.0,
                &attrs,
            );
        }
        if row.first {
            let attrs = if bad {
                format!("font-size=\"{FONT}\" font-weight=\"bold\" fill=\"{RED}\"")
            } else if row.mech.is_some() {
                format!("font-size=\"{FONT}\" font-weight=\"bold\" fill=\"{ORANGE}\"")
            } else {
                format!("font-size=\"{FONT}\" font-weight=\"bold\"")
            };
            self.text(MARGIN, top + LH - 3.0, &row.group.to_string(), &attrs);
        }
        self.text(
            MARGIN + 3.0 * CW,
            top + LH - 3.0,
            &format!("({})", i + 1),
            &format!("font-size=\"{SMALL}\" fill=\"{GREY}\""),
        );
        if bad {
            if let Some(v) = &self.out.violation {
                self.text(
                    MARGIN,
                    top + 2.0 * LH - 3.0,
                    v.inv.name(),
                    &format!("font-size=\"{FONT}\" font-weight=\"bold\" fill=\"{RED}\""),
                );
            }
        } else if row.mech.is_some() {
            if let Some((_, m, _)) = &self.lay.marked.mechanism {
                self.text(
                    MARGIN,
                    top + 2.0 * LH - 3.0,
                    m.inv.name(),
                    &format!("font-size=\"{FONT}\" font-weight=\"bold\" fill=\"{ORANGE}\""),
                );
            }
        }
        let mut ty = top;
        for (t, st) in &row.lines {
            ty += st.height();
            self.text(lane.text_x, ty - 3.0, t, &st.attrs());
        }
        let mut fy = row.y + 3.0;
        for f in &row.flags {
            fy += SLH;
            self.text(
                self.lay.flags_x,
                fy - 2.0,
                f,
                &format!("font-size=\"{SMALL}\" fill=\"#35507a\""),
            );
        }
        self.state_box(row, fy + 4.0, bad);
        let _ = writeln!(self.s, "</g>");
    }

    /// The state a step's invariant is about, boxed in the flags column from `y` down: red
    /// for the harm, orange for the mechanism.
    fn state_box(&mut self, row: &Row, y: f64, bad: bool) {
        if row.state.is_empty() {
            return;
        }
        let colour = if bad { RED } else { ORANGE };
        let w = FLAGS_CHARS as f64 * SCW;
        let _ = writeln!(self.s, "<g class=\"state\">");
        self.rect(
            self.lay.flags_x - 3.0,
            y,
            w,
            state_h(&row.state) - 4.0,
            &format!("fill=\"#ffffff\" stroke=\"{colour}\" stroke-width=\"1.2\" rx=\"3\""),
        );
        let mut ty = y + 2.0;
        for (k, l) in row.state.iter().enumerate() {
            ty += SLH;
            let attrs = if k == 0 {
                format!("font-size=\"{SMALL}\" font-weight=\"bold\" fill=\"{colour}\"")
            } else if l.contains("(freed)") {
                format!("font-size=\"{SMALL}\" font-weight=\"bold\" fill=\"{RED}\"")
            } else {
                format!("font-size=\"{SMALL}\" fill=\"#333333\"")
            };
            self.text(self.lay.flags_x + 2.0, ty - 3.0, l, &attrs);
        }
        let _ = writeln!(self.s, "</g>");
    }

    /// The violation box at `y`, `h` high, with its `lines` (nothing when there are none).
    fn violation(&mut self, lines: &[String], y: f64, h: f64) {
        if lines.is_empty() {
            return;
        }
        self.rect(
            MARGIN,
            y,
            self.lay.width - 2.0 * MARGIN,
            h,
            &format!("class=\"violation\" fill=\"{RED_BG}\" stroke=\"{RED}\" stroke-width=\"2\" rx=\"4\""),
        );
        let mut y = y + 6.0;
        for (k, l) in lines.iter().enumerate() {
            y += LH;
            let attrs = if k == 0 {
                format!("font-size=\"{FONT}\" font-weight=\"bold\" fill=\"{RED}\"")
            } else {
                format!("font-size=\"{FONT}\" fill=\"#5c0b0e\"")
            };
            self.text(MARGIN + 8.0, y - 3.0, l, &attrs);
        }
    }
}

/// The picture as a standalone SVG document. `title`: its first line is the heading, further
/// lines are printed small under it.
pub fn svg(prog: &Program, sc: &Scenario, out: &Outcome, title: &str) -> String {
    let lay = layout(prog, sc, out, title);
    // The violation box under the rows.
    let vbox = violation_lines(&lay, out);
    let vbox_y = lay.rows_end + 12.0;
    let vbox_h = if vbox.is_empty() {
        0.0
    } else {
        vbox.len() as f64 * LH + 14.0
    };
    let height = vbox_y + vbox_h + MARGIN;
    let mut d = Draw {
        s: String::with_capacity(64 * 1024),
        lay: &lay,
        out,
    };
    d.open(title, height);
    d.heading();
    d.legend();
    d.lanes();
    d.tint();
    for t in 0..lay.lanes.len() {
        d.lock_bars(t);
    }
    d.waits();
    d.rows();
    d.violation(&vbox, vbox_y, vbox_h);
    d.s.push_str("</svg>\n");
    d.s
}

/// An HTML page: the picture, then the text report; no script, no external resources.
pub fn html(prog: &Program, sc: &Scenario, out: &Outcome, title: &str) -> String {
    let head = title.lines().next().unwrap_or("");
    let mut h = String::with_capacity(96 * 1024);
    let _ = writeln!(h, "<!DOCTYPE html>");
    let _ = writeln!(h, "<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>");
    let _ = writeln!(h, "<title>{}</title>", esc(head));
    let _ = writeln!(
        h,
        "<style>body{{margin:8px;background:#fff;color:#111;font-family:'DejaVu Sans',sans-serif}}\
         svg{{display:block;max-width:100%;height:auto}}\
         pre{{font-family:'DejaVu Sans Mono',monospace;font-size:12px;line-height:1.3;overflow-x:auto;border-top:1px solid #ccc;padding-top:8px}}</style>"
    );
    let _ = writeln!(h, "</head>\n<body>");
    h.push_str(&svg(prog, sc, out, title));
    let _ = writeln!(h, "<h2 style=\"font-size:15px\">Text report</h2>");
    let _ = writeln!(h, "<pre>{}</pre>", esc(&explain_outcome(prog, sc, out)));
    let _ = writeln!(h, "</body>\n</html>");
    h
}
