//! The maple-style store against the reference, same process, same op streams:
//! load, find, store, erase and empty-area on a random mix, and the kernel's erase2 traces.
//! `just bench` runs this and writes the ratios (store time / reference time) to BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use std::hint::black_box;

use mmfuzz::maple::{MaState, MapleTree};
use mmfuzz::reference::RangeMap;
use mmfuzz_harness::maple::erase2::{self, Erase2Op};
use mmfuzz_harness::rng::SplitMix64;

/// Entries in the pre-filled stores.
const N: u64 = 10_000;
/// Queries per iteration.
const Q: usize = 10_000;
/// Address space of the random mix: pages of 4 KiB over 1 << 32.
const SPACE: u64 = 1 << 32;

fn ranges(seed: u64, n: u64) -> Vec<(u64, u64)> {
    let mut r = SplitMix64(seed);
    (0..n)
        .map(|_| {
            let a = (r.next_u64() % SPACE) & !0xfff;
            let len = ((r.next_u64() % 64) + 1) * 0x1000;
            (a, a + len - 1)
        })
        .collect()
}

fn indices(seed: u64) -> Vec<u64> {
    let mut r = SplitMix64(seed);
    (0..Q).map(|_| r.next_u64() % SPACE).collect()
}

macro_rules! both {
    ($c:expr, $group:literal, $setup:expr, |$s:ident| $body:block) => {{
        let mut g = $c.benchmark_group($group);
        g.bench_function("maple", |b| {
            let st: MapleTree<u32> = $setup;
            b.iter(|| {
                let $s = black_box(&st);
                $body
            })
        });
        g.bench_function("reference", |b| {
            let st: RangeMap<u32> = $setup;
            b.iter(|| {
                let $s = black_box(&st);
                $body
            })
        });
        g.finish();
    }};
}

macro_rules! filled {
    () => {{
        let mut s = Default::default();
        fill(&mut s);
        s
    }};
}

trait Fill {
    fn put(&mut self, a: u64, b: u64, e: u32);
}
impl Fill for MapleTree<u32> {
    fn put(&mut self, a: u64, b: u64, e: u32) {
        self.mtree_store_range(a, b, Some(e)).unwrap();
    }
}
impl Fill for RangeMap<u32> {
    fn put(&mut self, a: u64, b: u64, e: u32) {
        self.mtree_store_range(a, b, Some(e)).unwrap();
    }
}
fn fill<S: Fill>(s: &mut S) {
    for (k, (a, b)) in ranges(1, N).into_iter().enumerate() {
        s.put(a, b, k as u32);
    }
}

fn random_mix(c: &mut Criterion) {
    let idx = indices(2);
    both!(c, "load", filled!(), |s| {
        let mut n = 0u32;
        for &i in &idx {
            n = n.wrapping_add(s.mtree_load(i).unwrap_or(0));
        }
        n
    });
    both!(c, "find", filled!(), |s| {
        let mut n = 0u32;
        for &i in &idx {
            let mut mas = MaState::new(i);
            n = n.wrapping_add(s.mas_find(&mut mas, u64::MAX).unwrap_or(0));
        }
        n
    });
    both!(c, "empty_area_rev", filled!(), |s| {
        let mut n = 0u64;
        for &i in idx.iter().take(Q / 10) {
            n ^= black_box(s)
                .mas_empty_area_rev(0, i, 0x4000)
                .map_or(0, |r| r.0);
        }
        n
    });
    both!(c, "empty_area", filled!(), |s| {
        let mut n = 0u64;
        for &i in idx.iter().take(Q / 10) {
            n ^= black_box(s)
                .mas_empty_area(i, u64::MAX, 0x4000)
                .map_or(0, |r| r.0);
        }
        n
    });

    let stores = ranges(3, N);
    let mut g = c.benchmark_group("store");
    g.bench_function("maple", |b| {
        b.iter(|| {
            let mut s = MapleTree::<u32>::new();
            for (k, &(a, e)) in stores.iter().enumerate() {
                s.mtree_store_range(a, e, Some(k as u32)).unwrap();
            }
            s
        })
    });
    g.bench_function("reference", |b| {
        b.iter(|| {
            let mut s = RangeMap::<u32>::new();
            for (k, &(a, e)) in stores.iter().enumerate() {
                s.mtree_store_range(a, e, Some(k as u32)).unwrap();
            }
            s
        })
    });
    g.finish();

    let mut g = c.benchmark_group("erase");
    let t: MapleTree<u32> = filled!();
    let r: RangeMap<u32> = filled!();
    g.bench_function("maple", |b| {
        b.iter_batched_ref(
            || t.clone(),
            |s| idx.iter().filter_map(|&i| s.mtree_erase(i)).count(),
            BatchSize::LargeInput,
        )
    });
    g.bench_function("reference", |b| {
        b.iter_batched_ref(
            || r.clone(),
            |s| idx.iter().filter_map(|&i| s.mtree_erase(i)).count(),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn erase2_traces(c: &mut Criterion) {
    let Some(dir) = erase2::find_dir() else {
        eprintln!("erase2 traces not found; skipping the erase2 benchmark");
        return;
    };
    let sets = erase2::load_dir(&dir).expect("traces parse");
    let ops: Vec<Vec<Erase2Op>> = sets.into_iter().map(|s| s.ops).collect();
    macro_rules! replay {
        ($t:ty) => {
            |b: &mut criterion::Bencher| {
                b.iter(|| {
                    let mut n = 0usize;
                    for set in &ops {
                        let mut s = <$t>::new();
                        for op in set {
                            match *op {
                                Erase2Op::Store(a, e) => {
                                    s.mtree_store_range(a, e, Some(a)).unwrap()
                                }
                                Erase2Op::Snull(a, e) => s.mtree_store_range(a, e, None).unwrap(),
                                Erase2Op::Erase(a, _) => {
                                    n += usize::from(s.mtree_erase(a).is_some())
                                }
                            }
                        }
                    }
                    n
                })
            }
        };
    }
    let mut g = c.benchmark_group("erase2");
    g.bench_function("maple", replay!(MapleTree<u64>));
    g.bench_function("reference", replay!(RangeMap<u64>));
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(2)).warm_up_time(std::time::Duration::from_millis(500));
    targets = random_mix, erase2_traces
}
criterion_main!(benches);
