//! Generators: scenarios from fuzzer bytes (`Arbitrary`, libFuzzer), from proptest, and from
//! a seeded RNG (campaigns), all through one [`Draw`] trait so they offer the same scenarios.
//!
//! Generators only offer what is legal in the state built so far (wasmtime's table-ops style):
//! `fault`/`mlock`/`munmap` name an existing VMA, the reaper thread only exists if the OOM
//! killer marked the victim, each role runs at most as many times as the config lists it, and the victim always exits (it
//! is what drives `exit_mmap`). Set-ups are kernel-possible ([`super::kernel_possible`]):
//! each VMA is drawn as a kind the kernel maps (anonymous private, shared or private file,
//! hugetlbfs, a driver's `VM_PFNMAP`), and `mlock` is offered only where it sets `VM_LOCKED`.

use arbitrary::{Arbitrary, Unstructured};
use mmfuzz::mm::types::vm;
use mmfuzz::mm::{Program, Role};
use proptest::prelude::*;

use super::kernel_possible;
use super::scenario::{flag_names, Scenario, Schedule, Setup, Thread, MAX_CHOICES};
use crate::rng::SplitMix64;

/// Most VMAs a generated scenario maps.
pub const GEN_VMAS: u8 = 3;

/// Build a scenario from a generator's draws (shared by the `Arbitrary` decoding and the
/// proptest strategy so that both only offer legal operations).
pub trait Draw {
    /// A number in `0..n`.
    fn below(&mut self, n: u32) -> u32;
    /// True with probability `num/den`.
    fn chance(&mut self, num: u32, den: u32) -> bool {
        self.below(den) < num
    }
    /// A raw byte.
    fn byte(&mut self) -> u8 {
        self.below(256) as u8
    }
    /// Whether draws are exhausted.
    fn done(&self) -> bool;
}

/// Draw a scenario from the roles `offered`, each as many times as it may run at once
/// ([`Program::offered`]).
pub fn draw(offered: &[Role], d: &mut impl Draw) -> Scenario {
    let count = |r: Role| offered.iter().filter(|&&o| o == r).count();
    let mut setup = Vec::new();
    // Sometimes an mm with no VMA at all: dup_mmap() failed before copying one (exit_mmap's
    // "Can happen if dup_mmap() received an OOM"). Exhausted fuzzer bytes draw it too.
    let nvmas = if d.chance(1, 16) {
        0
    } else {
        1 + d.below(u32::from(GEN_VMAS)) as u8
    };
    let mut kinds = Vec::new();
    for _ in 0..nvmas {
        let (flags, anon) = draw_vma(d);
        kinds.push(flags);
        setup.push(Setup::Mmap {
            pages: 1 + d.below(8) as u8,
            flags: flag_names(flags),
            anon,
        });
    }
    for (v, &flags) in (0..nvmas).zip(&kinds) {
        match d.below(6) {
            0 => {}
            // mlock_fixup() leaves hugetlb and VM_PFNMAP VMAs unlocked: only populated.
            1 if kernel_possible::mlockable(flags) => setup.push(Setup::Mlock { vma: v }),
            _ => setup.push(Setup::Fault { vma: v }),
        }
    }
    let mut live = nvmas;
    if nvmas > 1 && d.chance(1, 8) {
        setup.push(Setup::Munmap {
            vma: d.below(u32::from(nvmas)) as u8,
        });
        live -= 1;
    }
    // A config offering the roles of several families (today's v6.18) draws one family per
    // scenario; a config of one family draws nothing here.
    let families = Family::offered(offered);
    let family = families[d.below(families.len() as u32) as usize];
    if family == Family::Fork {
        // A fork of the process the set-up built, failing at a drawn VMA of it, against the
        // walkers that can find the child's mm before it is gone: swapoff (the child is on
        // mmlist once copy_page_range copies a swap entry).
        setup.push(Setup::ForkFails {
            vma: d.below(u32::from(live) + 1) as u8,
        });
        let mut threads = vec![Thread::Fork];
        for _ in 0..count(Role::Swapoff) {
            if d.chance(3, 4) {
                threads.push(Thread::Swapoff);
            }
        }
        return shuffled(setup, threads, d);
    }
    if family == Family::Suspend {
        // Suspend against an OOM kill: the victim is a user task doing I/O.
        // The oom_reaper kthread always exists; the victim always runs.
        let mut threads = vec![Thread::User, Thread::Pm, Thread::OomReaper];
        if d.chance(7, 8) {
            threads.push(Thread::OomKill);
            if count(Role::OomKill) > 1 && d.chance(1, 4) {
                threads.push(Thread::OomKill);
            }
        }
        if offered.contains(&Role::Holder) && d.chance(1, 2) {
            threads.push(Thread::Holder);
        }
        return shuffled(setup, threads, d);
    }
    if family == Family::Cgroup {
        // A user task, maybe multi-threaded, in a cgroup v1 freezer set to FROZEN, against an
        // OOM kill: the allocator, then the reaper (B14).
        if d.chance(7, 8) {
            setup.push(Setup::CgroupFreeze);
        }
        let mut threads = vec![Thread::User];
        for _ in 1..count(Role::User) {
            if d.chance(3, 4) {
                threads.push(Thread::User);
            }
        }
        if offered.contains(&Role::OomKill) && d.chance(7, 8) {
            threads.push(Thread::OomKill);
            if offered.contains(&Role::OomReaper) && d.chance(3, 4) {
                threads.push(Thread::OomReaper);
            }
        }
        return shuffled(setup, threads, d);
    }
    // The victim is OOM-killed before the threads start, or by a racing allocation, or gets
    // a plain SIGKILL, or none of these.
    let killer = offered.contains(&Role::OomKill) && d.chance(1, 4);
    let oom = !killer && offered.contains(&Role::OomReaper) && d.chance(2, 3);
    if oom {
        setup.push(Setup::OomKill);
    } else if d.chance(3, 4) {
        setup.push(Setup::Kill);
    }
    let mut threads = vec![Thread::Exit];
    // Tasks other than the victim and the reaper kthread may come twice: two allocations
    // failing at once (one waits for `oom_lock`, or finds the victim already marked), two
    // `process_mrelease` callers, two `/proc` readers.
    if killer {
        threads.push(Thread::OomKill);
        if count(Role::OomKill) > 1 && d.chance(1, 4) {
            threads.push(Thread::OomKill);
        }
    }
    for r in [
        Role::OomReaper,
        Role::Mrelease,
        Role::Proc,
        Role::Swapoff,
        Role::Maps,
        Role::Ptrace,
        Role::Fault,
        Role::Munmap,
    ] {
        let legal = offered.contains(&r) && (r != Role::OomReaper || oom || killer);
        // The mm's other walkers come less often: each only pins, walks and puts the mm.
        if legal && d.chance(if r.is_walker() { 1 } else { 2 }, 3) {
            threads.push(Thread::from_role(r));
            if count(r) > 1 && d.chance(1, 5) {
                threads.push(Thread::from_role(r));
            }
        }
    }
    shuffled(setup, threads, d)
}

/// The families of scenarios a config's roles make: each its own kind of world around the
/// mm. A config of several families (today's v6.18) has scenarios of each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// A fork that fails half-way (`fork`), against swapoff.
    Fork,
    /// A suspend against an OOM kill (`pm`, with the victim as a `user` task).
    Suspend,
    /// A user task in a frozen cgroup v1 against an OOM kill (`user` without `pm`).
    Cgroup,
    /// A dying process's mm (`exit`) against the reaper, `process_mrelease`, its other
    /// threads and the mm's other walkers.
    Teardown,
}

impl Family {
    /// Every family, in the order [`Family::offered`] lists them.
    pub const ALL: [Family; 4] = [
        Family::Fork,
        Family::Suspend,
        Family::Cgroup,
        Family::Teardown,
    ];
    /// Its name (`--family`).
    pub fn name(self) -> &'static str {
        match self {
            Family::Fork => "fork",
            Family::Suspend => "suspend",
            Family::Cgroup => "cgroup",
            Family::Teardown => "teardown",
        }
    }
    /// Parse a name.
    pub fn parse(s: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.name() == s)
    }
    /// The family of a scenario, from its threads.
    pub fn of(threads: &[Thread]) -> Family {
        if threads.contains(&Thread::Fork) {
            Family::Fork
        } else if threads.contains(&Thread::Pm) {
            Family::Suspend
        } else if threads.contains(&Thread::User) {
            Family::Cgroup
        } else {
            Family::Teardown
        }
    }
    /// Whether a scenario of this family may start role `r` ([`draw`], [`super::explore::roots`]):
    /// keeping only those roles leaves a config offering this family alone.
    fn uses(self, r: Role) -> bool {
        match self {
            Family::Fork => matches!(r, Role::Fork | Role::Swapoff),
            Family::Suspend => matches!(
                r,
                Role::User | Role::Pm | Role::OomReaper | Role::OomKill | Role::Holder
            ),
            Family::Cgroup => matches!(r, Role::User | Role::OomKill | Role::OomReaper),
            Family::Teardown => !matches!(r, Role::Fork | Role::Pm | Role::User | Role::Holder),
        }
    }
    /// The families `offered` makes, in this order; a config with none is a teardown one.
    pub fn offered(offered: &[Role]) -> Vec<Family> {
        let mut v = Vec::new();
        if offered.contains(&Role::Fork) {
            v.push(Family::Fork);
        }
        if offered.contains(&Role::Pm) {
            v.push(Family::Suspend);
        } else if offered.contains(&Role::User) {
            v.push(Family::Cgroup);
        }
        if offered.contains(&Role::Exit) || v.is_empty() {
            v.push(Family::Teardown);
        }
        v
    }
}

/// `prog` offering the scenarios of `family` only (`review --family`): the roles no scenario of
/// that family starts are dropped, from the config and from its text (a mutant of the text
/// keeps the restriction), and the paths only they reach with them. `None` if `prog` offers no
/// scenario of that family.
pub fn only_family(prog: &Program, family: Family) -> Option<Program> {
    if !Family::offered(&prog.offered()).contains(&family) {
        return None;
    }
    let mut p = prog.clone();
    p.config
        .roles
        .retain(|r| Role::parse(r).is_none_or(|r| family.uses(r)));
    let roles = p.config.roles.join(" ");
    p.config.text = p
        .config
        .text
        .lines()
        .map(|l| match l.trim_start().strip_prefix("role ") {
            Some(_) => format!("{}role {roles}", &l[..l.len() - l.trim_start().len()]),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    // Resolved again from its text: only the paths the remaining roles reach (`--path all`
    // then reviews those alone).
    let p = mmfuzz::mm::builtin::load_file("<family>", &p.source())
        .ok()?
        .into_iter()
        .find(|q| q.config.name == prog.config.name)?;
    (Family::offered(&p.offered()) == [family]).then_some(p)
}

/// The scenario with its threads in a drawn order (thread 0 is not always the victim), then
/// its schedule.
fn shuffled(setup: Vec<Setup>, mut threads: Vec<Thread>, d: &mut impl Draw) -> Scenario {
    for i in (1..threads.len()).rev() {
        let j = d.below(i as u32 + 1) as usize;
        threads.swap(i, j);
    }
    Scenario {
        setup,
        threads,
        schedule: draw_schedule(d),
    }
}

/// One VMA the kernel can create (the rules of [`kernel_possible::vma`] hold by construction):
/// its `VM_*` bits and whether it is anonymous. Exhausted draws give an accounted anonymous one.
fn draw_vma(d: &mut impl Draw) -> (u8, bool) {
    let kind = d.below(24);
    let mut maybe = |num, den, bit| if d.chance(num, den) { bit } else { 0 };
    match kind {
        // Anonymous private (heap, stack, MAP_ANONYMOUS): accounted if writable.
        0..=13 => (maybe(3, 4, vm::VM_ACCOUNT), true),
        // A shared file or shmem.
        14..=17 => (vm::VM_SHARED, false),
        // A private file: accounted if writable.
        18 => (maybe(1, 2, vm::VM_ACCOUNT), false),
        // hugetlbfs or MAP_HUGETLB, shared or private; never accounted.
        19..=21 => (vm::VM_HUGETLB | maybe(1, 2, vm::VM_SHARED), false),
        // A driver's remap_pfn_range(): mostly shared; a private writable one is accounted.
        _ => match maybe(3, 4, vm::VM_SHARED) {
            0 => (vm::VM_PFNMAP | maybe(1, 2, vm::VM_ACCOUNT), false),
            shared => (vm::VM_PFNMAP | shared, false),
        },
    }
}

fn draw_schedule(d: &mut impl Draw) -> Schedule {
    if d.chance(1, 4) {
        Schedule::Pct {
            seed: (u64::from(d.byte()) << 8) | u64::from(d.byte()),
            depth: 1 + d.below(4) as u8,
            span: 40 + d.below(160) as u16,
        }
    } else {
        let mut c = Vec::new();
        while c.len() < MAX_CHOICES && !d.done() {
            c.push(d.byte());
            if d.chance(1, 120) {
                break;
            }
        }
        Schedule::Choices(c)
    }
}

struct ArbDraw<'a, 'b>(&'b mut Unstructured<'a>);

impl Draw for ArbDraw<'_, '_> {
    fn below(&mut self, n: u32) -> u32 {
        if n <= 1 {
            return 0;
        }
        self.0.int_in_range(0..=n - 1).unwrap_or(0)
    }
    fn done(&self) -> bool {
        self.0.is_empty()
    }
}

/// The roles a config offers, each as many times as it may run at once.
pub fn offered(prog: &Program) -> Vec<Role> {
    prog.offered()
}

/// `sc` starting from the address space `setup` (from `import-maps`): its own `mmap`, `fault`,
/// `mlock` and `munmap` operations are replaced, its kills kept.
pub fn with_setup(mut sc: Scenario, setup: &[Setup]) -> Scenario {
    let kills = sc.setup.into_iter().filter(|s| {
        matches!(
            s,
            Setup::OomKill | Setup::Kill | Setup::CgroupFreeze | Setup::ForkFails { .. }
        )
    });
    sc.setup = setup.iter().cloned().chain(kills).collect();
    sc
}

/// Decode a scenario for `prog` from fuzzer bytes.
pub fn decode(prog: &Program, data: &[u8]) -> Scenario {
    let mut u = Unstructured::new(data);
    draw(&offered(prog), &mut ArbDraw(&mut u))
}

/// A scenario whose draws come from a seeded generator (campaigns, tests).
pub fn random(prog: &Program, rng: &mut SplitMix64) -> Scenario {
    random_from(&offered(prog), rng)
}

/// [`random`] over the roles `offered` only (swarm testing draws a subset).
pub fn random_from(offered: &[Role], rng: &mut SplitMix64) -> Scenario {
    struct R<'a>(&'a mut SplitMix64);
    impl Draw for R<'_> {
        fn below(&mut self, n: u32) -> u32 {
            if n <= 1 {
                0
            } else {
                (self.0.next_u64() % u64::from(n)) as u32
            }
        }
        fn done(&self) -> bool {
            false
        }
    }
    draw(offered, &mut R(rng))
}

/// Proptest: scenarios for `prog`, built from a drawn byte string so that proptest's shrinking
/// of the bytes shrinks the scenario (fewer VMAs, fewer threads, shorter schedules).
pub fn strategy(prog: Program) -> impl Strategy<Value = Scenario> {
    prop::collection::vec(any::<u8>(), 0..512).prop_map(move |bytes| decode(&prog, &bytes))
}

impl<'a> Arbitrary<'a> for Scenario {
    /// Every role is offered, twice; the executor skips threads a config does not offer.
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let twice: Vec<Role> = Role::ALL.iter().chain(&Role::ALL).copied().collect();
        Ok(draw(&twice, &mut ArbDraw(u)))
    }
}
