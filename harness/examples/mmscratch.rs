use mmfuzz::mm::builtin;
use mmfuzz_harness::campaign::{self, Settings};
use mmfuzz_harness::mm::{report, shrink};
use std::time::Duration;
fn main() {
    let secs: f64 = std::env::args()
        .nth(1)
        .map(|s| s.parse().unwrap())
        .unwrap_or(2.0);
    let only = std::env::args().nth(2);
    for prog in builtin::programs() {
        if only.as_ref().is_some_and(|o| *o != prog.config.name) {
            continue;
        }
        let s = Settings {
            time: Duration::from_secs_f64(secs),
            jobs: 2,
            seed: 1,
            case_bytes: 0,
            max_execs_per_job: None,
        };
        let want: Vec<String> = match &prog.config.expect {
            mmfuzz::mm::Expect::Bug(i) => i.split('/').map(String::from).collect(),
            _ => vec![],
        };
        let r = campaign::mm_config(&prog, &want, &s);
        let f = r
            .shown()
            .map(|(n, _, sc, v)| {
                format!(
                    "{} after {} execs: {} (threads {:?})",
                    v.inv, n, v.msg, sc.threads
                )
            })
            .unwrap_or("-".into());
        println!(
            "{:<20} {:<10} execs {:>7} steps {:>9}  {}",
            prog.config.name,
            format!("{:?}", prog.config.expect),
            r.execs,
            r.steps,
            f
        );
        if let Some((_, _, sc, v)) = r.shown() {
            let t0 = std::time::Instant::now();
            let m = shrink::shrink(&prog, sc, &v.inv);
            println!(
                "shrunk in {:?} to {} segments",
                t0.elapsed(),
                shrink::length(&m)
            );
            println!("{}", report::explain(&prog, &m));
        }
    }
}
