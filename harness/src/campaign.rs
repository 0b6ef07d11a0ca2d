//! Time-boxed random campaigns on all cores (rayon), deterministic per seed and job.

use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::maple::{self, Divergence, Op};

/// splitmix64: the campaign's only source of randomness, seeded per job.
#[derive(Clone, Debug)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Fill `buf` with random bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

/// Settings of one campaign.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Wall-clock budget.
    pub time: Duration,
    /// Worker threads.
    pub jobs: usize,
    /// Base seed; job `j` uses `seed + j`.
    pub seed: u64,
    /// Bytes per random case.
    pub case_bytes: usize,
    /// Stop after this many executions per job (for benchmarks), if set.
    pub max_execs_per_job: Option<u64>,
}

/// What one job found.
#[derive(Clone, Debug, Default)]
pub struct JobReport {
    /// Cases executed.
    pub execs: u64,
    /// Operations executed.
    pub ops: u64,
    /// The first failing case and its divergence, with its execution number.
    pub first: Option<(u64, Vec<Op>, Box<Divergence>)>,
}

/// The whole campaign's figures.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Cases executed, all jobs.
    pub execs: u64,
    /// Operations executed, all jobs.
    pub ops: u64,
    /// Wall-clock time taken.
    pub elapsed: Duration,
    /// Failures, one per job that found one, by job order.
    pub failures: Vec<(u64, Vec<Op>, Box<Divergence>)>,
}

/// Run the maple-store property on random cases until the budget runs out.
pub fn maple_store(s: &Settings) -> Report {
    let start = Instant::now();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(s.jobs.max(1))
        .build()
        .expect("thread pool");
    let jobs: Vec<JobReport> = pool.install(|| {
        (0..s.jobs.max(1) as u64)
            .into_par_iter()
            .map(|j| {
                let mut rng = SplitMix64(s.seed.wrapping_add(j));
                let mut buf = vec![0u8; s.case_bytes];
                let mut r = JobReport::default();
                while start.elapsed() < s.time && s.max_execs_per_job.is_none_or(|m| r.execs < m) {
                    rng.fill(&mut buf);
                    let ops = maple::decode(&buf);
                    r.execs += 1;
                    r.ops += ops.len() as u64;
                    if let Err(d) = maple::execute(&ops) {
                        r.first = Some((r.execs, ops, d));
                        break;
                    }
                }
                r
            })
            .collect()
    });
    let mut rep = Report {
        elapsed: start.elapsed(),
        ..Report::default()
    };
    for j in jobs {
        rep.execs += j.execs;
        rep.ops += j.ops;
        if let Some(f) = j.first {
            rep.failures.push(f);
        }
    }
    rep
}
