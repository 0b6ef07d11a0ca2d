//! `mmfuzz review --html`: one page per review, no script and no external resources: the
//! answers as tables, then each load-bearing mutant's counterexample as a picture with its
//! text report ([`super::picture`]).

use std::fmt::Write as _;

use super::picture::{esc, svg};
use super::report::explain_outcome;
use super::review::{mutant_program, Answer, Review, Verdict};

/// A verdict in words, for tables and the terminal.
pub fn verdict_text(v: &Verdict) -> String {
    match v {
        Verdict::Broken { inv, steps, .. } if v.lock_balance_only() => {
            format!("lock balance only ({inv} in {steps} numbered steps)")
        }
        Verdict::Broken { inv, steps, .. } => {
            format!("LOAD-BEARING: {inv} in {steps} numbered steps")
        }
        Verdict::Redundant { states } => format!("redundant within the bounds ({states} states)"),
        Verdict::Incomplete { states } => format!("incomplete (stopped at {states} states)"),
        Verdict::Rejected(e) => format!("rejected: {e}"),
    }
}

/// The random search's figure, in words.
pub fn random_text(a: &Answer) -> String {
    match &a.random {
        None => String::new(),
        Some(r) => match r.found {
            Some(inv) => format!("random: {inv} at exec {}", r.execs),
            None => format!("random: none in {} execs", r.execs),
        },
    }
}

/// Which answers a section of the page lists.
type Keep = fn(&Answer) -> bool;

fn row(h: &mut String, a: &Answer, anchor: Option<usize>) {
    let what = match anchor {
        Some(k) => format!("<a href=\"#m{k}\">{}</a>", esc(&verdict_text(&a.verdict))),
        None => esc(&verdict_text(&a.verdict)),
    };
    let _ = writeln!(
        h,
        "<tr><td>{}</td><td>{}</td><td>{what}</td><td>{}</td></tr>",
        a.mutation.word(),
        esc(&a.label),
        esc(&random_text(a))
    );
}

/// The page for `r` on config `config` (`title`: the command line).
pub fn html(config: &str, reviews: &[Review], title: &str) -> String {
    let mut h = String::with_capacity(256 * 1024);
    let _ = writeln!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>"
    );
    let _ = writeln!(h, "<title>{}</title>", esc(title));
    let _ = writeln!(
        h,
        "<style>body{{margin:8px;font-family:'DejaVu Sans',sans-serif;color:#111}}\
         table{{border-collapse:collapse;font-size:13px}}td,th{{border:1px solid #ccc;padding:2px 6px;text-align:left}}\
         svg{{display:block;max-width:100%;height:auto}}\
         pre{{font-family:'DejaVu Sans Mono',monospace;font-size:12px;overflow-x:auto}}</style>\n</head>\n<body>"
    );
    let _ = writeln!(h, "<h1 style=\"font-size:18px\">{}</h1>", esc(title));
    let all = || reviews.iter().flat_map(Review::all);
    let broken: Vec<&Answer> = all()
        .filter(|a| a.verdict.load_bearing() && a.same_as.is_none())
        .collect();
    let sections: [(&str, Keep); 4] = [
        ("Load-bearing", |a: &Answer| a.verdict.load_bearing()),
        ("Redundant within the bounds", |a: &Answer| {
            matches!(a.verdict, Verdict::Redundant { .. })
        }),
        ("Lock balance only (I10)", |a: &Answer| {
            a.verdict.lock_balance_only()
        }),
        ("Incomplete or rejected", |a: &Answer| {
            matches!(a.verdict, Verdict::Incomplete { .. } | Verdict::Rejected(_))
        }),
    ];
    for (name, keep) in &sections {
        let _ = writeln!(h, "<h2 style=\"font-size:15px\">{name}</h2>\n<table>");
        let _ = writeln!(
            h,
            "<tr><th>mutation</th><th>change</th><th>verdict</th><th>random search</th></tr>"
        );
        for a in all().filter(|a| keep(a)) {
            let k = broken.iter().position(|b| std::ptr::eq(*b, a));
            row(&mut h, a, k);
        }
        let _ = writeln!(h, "</table>");
    }
    let _ = writeln!(h, "<h2 style=\"font-size:15px\">Counterexamples</h2>");
    for (k, a) in broken.iter().enumerate() {
        let Verdict::Broken { scenario, .. } = &a.verdict else {
            continue;
        };
        let _ = writeln!(
            h,
            "<h3 id=\"m{k}\" style=\"font-size:14px\">{}</h3>",
            esc(&a.label)
        );
        let Ok(prog) = mutant_program(config, &a.text) else {
            continue;
        };
        match super::run(&prog, scenario, super::Opts::default()) {
            Ok(out) => {
                h.push_str(&svg(&prog, scenario, &out, &a.label));
                let _ = writeln!(
                    h,
                    "<pre>{}</pre>",
                    esc(&explain_outcome(&prog, scenario, &out))
                );
            }
            Err(e) => {
                let _ = writeln!(
                    h,
                    "<p>the counterexample does not replay: {}</p>",
                    esc(&e.0)
                );
            }
        }
    }
    let _ = writeln!(h, "</body>\n</html>");
    h
}
