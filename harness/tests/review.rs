//! `mmfuzz review` on a small config: the seed thread's belt and braces. In the rework with
//! Liam's fix (seed-akpm-1-fixed), `set_bit(MMF_OOM_SKIP)` and `mm->mmap = NULL` are each
//! redundant alone and load-bearing together (a reader walks freed VMAs); deleting the write
//! lock only unbalances it; deleting `free_pgtables` breaks the reference.

use mmfuzz::mm::{builtin, Invariant};
use mmfuzz_harness::mm::explore::{Bounds, VmaKind};
use mmfuzz_harness::mm::review::{self, Mutation, Settings, Verdict};

/// Two CPUs, one VMA (and the empty mm), races as co-enabled steps: seconds per review; a
/// short random search per mutant.
fn two_cpus(pairs: bool) -> Settings {
    Settings {
        bounds: Bounds {
            threads: 2,
            vmas: 1,
            menu: vec![VmaKind::Anon, VmaKind::File],
            hb: false,
            ..Bounds::default()
        },
        pairs,
        random: Some((500, std::time::Duration::from_secs(3600))),
        seed: 0,
        shard: None,
    }
}

#[test]
fn belt_and_braces_of_seed_akpm_1_fixed() {
    let prog = builtin::program("seed-akpm-1-fixed").unwrap();
    let r = review::review(&prog, "exit_mmap", &two_cpus(true), &|_| {}).unwrap();
    assert_eq!(r.path, "exit_mmap@seed-akpm-1-fixed");
    let alone = |step: &str| {
        r.singles
            .iter()
            .find(|a| a.deleted[0].text == step)
            .unwrap_or_else(|| panic!("no step {step}"))
            .verdict
            .clone()
    };
    for redundant in ["set_bit MMF_OOM_SKIP", "mm_mmap_clear"] {
        assert!(
            matches!(alone(redundant), Verdict::Redundant { .. }),
            "{redundant}: {:?}",
            alone(redundant)
        );
    }
    assert!(alone("mmap_write_lock").lock_balance_only());
    assert!(matches!(
        alone("free_pgtables"),
        Verdict::Broken {
            inv: Invariant::Reference,
            ..
        }
    ));
    let pair = r
        .pairs
        .iter()
        .find(|a| {
            let t: Vec<&str> = a.deleted.iter().map(|s| s.text.as_str()).collect();
            t == ["set_bit MMF_OOM_SKIP", "mm_mmap_clear"]
        })
        .expect("the two together are load-bearing");
    assert!(
        matches!(pair.verdict, Verdict::Broken { inv, .. } if inv == Invariant::I5 || inv == Invariant::I4),
        "{:?}",
        pair.verdict
    );
    // No other pair of redundant steps matters together.
    assert_eq!(
        r.pairs.len(),
        1,
        "{:?}",
        r.pairs.iter().map(|a| &a.deleted).collect::<Vec<_>>()
    );
}

/// Liam's questions on S0 v2 (seed-v2), at two CPUs: `arch_exit_mmap` need not run under the
/// read lock, the read lock over `unmap_vmas` carries nothing the model's readers need, and
/// `free_pgtables` needs the write lock (taken for read or dropped: I1).
#[test]
fn liams_questions_on_seed_v2() {
    let prog = builtin::program("seed-v2").unwrap();
    let r = review::review(&prog, "exit_mmap", &two_cpus(false), &|_| {}).unwrap();
    let lock = |prefix: &str| {
        r.questions
            .iter()
            .find(|a| a.label.starts_with(prefix))
            .unwrap_or_else(|| panic!("no question {prefix}"))
            .verdict
            .clone()
    };
    assert!(matches!(
        lock("arch_exit_mmap (line 96) moved before mmap_read_lock"),
        Verdict::Redundant { .. }
    ));
    assert!(matches!(
        lock("without the mmap_read_lock section"),
        Verdict::Redundant { .. }
    ));
    for q in [
        "without the mmap_write_lock section",
        "the mmap_write_lock section",
    ] {
        assert!(
            matches!(
                lock(q),
                Verdict::Broken {
                    inv: Invariant::I1,
                    ..
                }
            ),
            "{q}: {:?}",
            lock(q)
        );
    }
}

/// The other operators on seed-akpm-1-fixed: the order of `acct_vma` and `remove_vma` matters
/// (the VMA is read after it is freed: I5), `if !vma` forced true skips the teardown (the
/// reference), forced false is redundant (the loops find nothing in an empty mm), dropping the
/// empty mm's `return` only unbalances `mmap_lock`; identical mutants are judged once; the
/// random search finds the belt-and-braces pair.
#[test]
fn order_checks_and_returns_of_seed_akpm_1_fixed() {
    let prog = builtin::program("seed-akpm-1-fixed").unwrap();
    let r = review::review(&prog, "exit_mmap", &two_cpus(true), &|_| {}).unwrap();
    let q = |m: Mutation, prefix: &str| {
        r.questions
            .iter()
            .find(|a| a.mutation == m && a.label.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {m:?} {prefix}"))
    };
    assert!(matches!(
        q(Mutation::Swap, "acct_vma and remove_vma_next swapped").verdict,
        Verdict::Broken {
            inv: Invariant::I5,
            ..
        }
    ));
    assert!(matches!(
        q(Mutation::ForceTrue, "`if !vma` forced true").verdict,
        Verdict::Broken {
            inv: Invariant::Reference,
            ..
        }
    ));
    assert!(matches!(
        q(Mutation::ForceFalse, "`if !vma` forced false").verdict,
        Verdict::Redundant { .. }
    ));
    assert!(q(Mutation::DropReturn, "`return` dropped")
        .verdict
        .lock_balance_only());
    // A move across a lock that is also an adjacent swap is judged once.
    assert!(r.questions.iter().any(|a| a.same_as.is_some()));
    let total = r.singles.len() + r.pairs_judged + r.questions.len();
    assert!(r.judged() < total);
    let pair = r.pairs.iter().find(|a| a.deleted.len() == 2).unwrap();
    assert!(
        pair.random.as_ref().is_some_and(|s| s.found.is_some()),
        "{:?}",
        pair.random
    );
}

/// `review --family`: v6.18 restricted to its failing fork stays there in every mutant. In
/// dup_mmap@v6.18, `set_bit MMF_UNSTABLE` is load-bearing against swapoff (I6, B13's fix),
/// found by the exhaustive search over fork scenarios alone.
#[test]
fn a_family_restriction_reaches_every_mutant() {
    use mmfuzz_harness::mm::explore;
    use mmfuzz_harness::mm::generate::{only_family, Family};
    let v618 = builtin::program("v6.18").unwrap();
    let fork = only_family(&v618, Family::Fork).expect("v6.18 forks");
    assert_eq!(Family::offered(&fork.offered()), [Family::Fork]);
    let b = Bounds {
        threads: 3,
        vmas: 2,
        hb: false,
        ..Bounds::default()
    };
    assert!(explore::roots(&fork, &b)
        .iter()
        .all(|r| Family::of(&r.threads) == Family::Fork));
    assert!(only_family(&builtin::program("v6.1").unwrap(), Family::Fork).is_none());
    let s = Settings {
        bounds: b,
        pairs: false,
        random: None,
        seed: 0,
        shard: None,
    };
    let r = review::review(&fork, "dup_mmap", &s, &|_| {}).unwrap();
    for a in &r.singles {
        let m = review::mutant_program("v6.18", &a.text).unwrap();
        assert_eq!(Family::offered(&m.offered()), [Family::Fork], "{}", a.label);
    }
    let unstable = r
        .singles
        .iter()
        .find(|a| a.deleted[0].text == "set_bit MMF_UNSTABLE")
        .expect("the step");
    assert!(
        matches!(
            unstable.verdict,
            Verdict::Broken {
                inv: Invariant::I6,
                ..
            }
        ),
        "{:?}",
        unstable.verdict
    );
}
