//! Kernel-possible set-ups (`mm::kernel_possible`): every generator (seeded RNG, fuzzer bytes,
//! proptest), the exhaustive menu and the corpus only map what a kernel can create, and the
//! shrinker drops the VMAs and flags a violation does not need without leaving those rules.

use mmfuzz::mm::types::vm;
use mmfuzz::mm::{builtin, Invariant, Program};
use mmfuzz_harness::corpus::{self, Case, Payload};
use mmfuzz_harness::mm::explore::{self, Bounds, VmaKind};
use mmfuzz_harness::mm::kernel_possible::check;
use mmfuzz_harness::mm::scenario::flag_bits;
use mmfuzz_harness::mm::{exec, generate, shrink, Opts, Scenario, Schedule, Setup, Thread};
use mmfuzz_harness::rng::SplitMix64;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

fn assert_possible(sc: &Scenario, what: &str) {
    if let Err(e) = check(&sc.setup) {
        panic!("{what}: {e}\n{:?}", sc.setup);
    }
}

/// What the generators drew, to show the distribution stayed rich.
#[derive(Default)]
struct Seen {
    empty: bool,
    anon_accounted: bool,
    shared_file: bool,
    hugetlb: bool,
    pfnmap: bool,
    mlock: bool,
    munmap: bool,
}

impl Seen {
    fn add(&mut self, sc: &Scenario) {
        self.empty |= sc.setup.iter().all(|s| !matches!(s, Setup::Mmap { .. }));
        for s in &sc.setup {
            match s {
                Setup::Mmap { flags, anon, .. } => {
                    let b = flag_bits(flags).unwrap();
                    self.anon_accounted |= *anon && b & vm::VM_ACCOUNT != 0;
                    self.shared_file |= !*anon && b == vm::VM_SHARED;
                    self.hugetlb |= b & vm::VM_HUGETLB != 0;
                    self.pfnmap |= b & vm::VM_PFNMAP != 0;
                }
                Setup::Mlock { .. } => self.mlock = true,
                Setup::Munmap { .. } => self.munmap = true,
                _ => {}
            }
        }
    }
    fn all(&self) -> bool {
        self.empty
            && self.anon_accounted
            && self.shared_file
            && self.hugetlb
            && self.pfnmap
            && self.mlock
            && self.munmap
    }
}

#[test]
fn seeded_generator_is_kernel_possible_and_rich() {
    for prog in builtin::programs() {
        let mut rng = SplitMix64(0x5e7);
        let mut seen = Seen::default();
        for i in 0..3000 {
            let sc = generate::random(&prog, &mut rng);
            assert_possible(&sc, &format!("{} seeded #{i}", prog.config.name));
            seen.add(&sc);
        }
        assert!(seen.all(), "{}: a kind was never drawn", prog.config.name);
    }
}

#[test]
fn fuzzer_bytes_decode_to_kernel_possible_setups() {
    let progs = builtin::programs();
    let mut inputs: Vec<Vec<u8>> = vec![Vec::new()];
    for n in [1, 2, 3, 7, 16, 64, 512] {
        inputs.push(vec![0xff; n]);
        inputs.push(vec![0; n]);
        inputs.push(vec![0x80; n]);
    }
    let mut rng = SplitMix64(7);
    for _ in 0..3000 {
        let n = (rng.next_u64() % 64) as usize;
        inputs.push((0..n).map(|_| rng.next_u64() as u8).collect());
    }
    let mut seen = Seen::default();
    for bytes in &inputs {
        let mut u = arbitrary::Unstructured::new(bytes);
        let sc: Scenario = arbitrary::Arbitrary::arbitrary(&mut u).unwrap();
        assert_possible(&sc, &format!("arbitrary {bytes:02x?}"));
        seen.add(&sc);
        for prog in &progs {
            let sc = generate::decode(prog, bytes);
            assert_possible(&sc, &format!("{} decode {bytes:02x?}", prog.config.name));
        }
    }
    assert!(seen.all(), "a kind was never decoded");
    // Exhausted bytes: the empty mm.
    let sc = generate::decode(&progs[0], &[]);
    assert!(sc.setup.iter().all(|s| !matches!(s, Setup::Mmap { .. })));
}

#[test]
fn proptest_strategy_is_kernel_possible() {
    for prog in builtin::programs().into_iter().take(4) {
        let mut runner = TestRunner::new_with_rng(
            Config {
                cases: 500,
                failure_persistence: None,
                ..Config::default()
            },
            TestRng::deterministic_rng(RngAlgorithm::ChaCha),
        );
        runner
            .run(&generate::strategy(prog.clone()), |sc| {
                proptest::prop_assert!(check(&sc.setup).is_ok(), "{:?}", sc.setup);
                Ok(())
            })
            .unwrap();
    }
}

#[test]
fn the_exhaustive_menu_is_kernel_possible() {
    for prog in builtin::programs() {
        for vmas in 0..=3 {
            let b = Bounds {
                vmas,
                menu: VmaKind::ALL.to_vec(),
                ..Bounds::default()
            };
            for r in explore::roots(&prog, &b) {
                check(&r.setup).unwrap_or_else(|e| panic!("{:?}: {e}", r.setup));
            }
        }
    }
}

#[test]
fn every_corpus_case_has_a_kernel_possible_setup() {
    let dir = corpus::default_dir().join("mm");
    let files = corpus::collect(std::slice::from_ref(&dir)).unwrap();
    assert!(!files.is_empty(), "{}: no cases", dir.display());
    let mut bad = Vec::new();
    for f in &files {
        let case = Case::load(f).unwrap();
        if let Payload::Mm { scenario, .. } = &case.payload {
            if let Err(e) = check(&scenario.setup) {
                bad.push(format!("{}: {e}", f.display()));
            }
        }
    }
    assert!(bad.is_empty(), "impossible set-ups:\n{}", bad.join("\n"));
}

fn breaks(prog: &Program, sc: &Scenario, inv: Invariant) -> bool {
    // The run's headline: the harm, or a latent defect's mechanism (I4 with the victim alone).
    matches!(exec::run(prog, sc, Opts::default()), Ok(o) if o.headline().is_some_and(|v| v.inv == inv))
}

#[test]
fn shrinking_drops_unneeded_vmas_flags_and_pages() {
    // v5.17-rc3 breaks I4 (latent: the victim alone) whatever the victim maps; give it three VMAs with flags and pages.
    let prog = builtin::program("v5.17-rc3").unwrap();
    let mmap = |pages, flags: &[&str], anon| Setup::Mmap {
        pages,
        flags: flags.iter().map(|f| f.to_string()).collect(),
        anon,
    };
    let big = Scenario {
        setup: vec![
            mmap(6, &["VM_SHARED"], false),
            mmap(8, &["VM_ACCOUNT"], true),
            mmap(3, &["VM_ACCOUNT"], false),
            Setup::Fault { vma: 0 },
            Setup::Fault { vma: 1 },
            Setup::Mlock { vma: 2 },
            Setup::Kill,
        ],
        threads: vec![Thread::Exit],
        schedule: Schedule::Choices(Vec::new()),
    };
    check(&big.setup).unwrap();
    let inv = Invariant::parse_list("I4").unwrap()[0];
    assert!(breaks(&prog, &big, inv), "the case does not break I4");
    let small = shrink::shrink(&prog, &big, inv);
    check(&small.setup).unwrap();
    assert!(breaks(&prog, &small, inv));
    let mmaps: Vec<&Setup> = small
        .setup
        .iter()
        .filter(|s| matches!(s, Setup::Mmap { .. }))
        .collect();
    assert_eq!(mmaps.len(), 1, "{:?}", small.setup);
    let Setup::Mmap { pages, flags, .. } = mmaps[0] else {
        unreachable!()
    };
    assert_eq!((*pages, flags.len()), (1, 0), "{:?}", small.setup);
    assert!(small.setup.len() < big.setup.len(), "{:?}", small.setup);
}

#[test]
fn setup_shrinking_stays_kernel_possible() {
    // A stand-in predicate that needs only some `mlock`: the hugetlb VMA goes (and the ops
    // naming the anonymous one are renumbered), then the kill, the flag and the pages.
    let setup = vec![
        Setup::Mmap {
            pages: 4,
            flags: vec!["VM_HUGETLB".into(), "VM_SHARED".into()],
            anon: false,
        },
        Setup::Mmap {
            pages: 5,
            flags: vec!["VM_ACCOUNT".into()],
            anon: true,
        },
        Setup::Fault { vma: 0 },
        Setup::Mlock { vma: 1 },
        Setup::Kill,
    ];
    check(&setup).unwrap();
    let mut calls = 0;
    let out = shrink::shrink_setup(&setup, |s| {
        calls += 1;
        check(s).is_ok() && s.iter().any(|x| matches!(x, Setup::Mlock { .. }))
    });
    assert!(calls > 0);
    assert_eq!(
        out,
        [
            Setup::Mmap {
                pages: 1,
                flags: vec![],
                anon: true
            },
            Setup::Mlock { vma: 0 }
        ]
    );
    // Removing VMA 0 renumbers the ops of later VMAs.
    assert_eq!(
        shrink::without_vma(&setup, 0)[1..],
        [Setup::Mlock { vma: 0 }, Setup::Kill]
    );
}
