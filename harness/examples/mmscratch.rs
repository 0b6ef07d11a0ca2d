use mmfuzz::mm::builtin;
use mmfuzz_harness::campaign::{self, Settings};
use std::time::Duration;
fn main() {
    let secs: f64 = std::env::args()
        .nth(1)
        .map(|s| s.parse().unwrap())
        .unwrap_or(2.0);
    for prog in builtin::programs() {
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
    }
}
