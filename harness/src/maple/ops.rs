//! Operations on the VMA store, and the generators that make them.
//!
//! Generators (the `Arbitrary` decoding used by libFuzzer and bolero, and the proptest
//! strategy) produce [`Gen`] items: single operations or runs (many adjacent stores, then many
//! erases) that drive the store through splits, merges and gap updates. Runs are expanded into
//! plain [`Op`]s before execution, so cases, corpus files and reports only ever show `Op`s.

use arbitrary::{Arbitrary, Unstructured};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

/// Most operations in one decoded case.
pub const MAX_OPS: usize = 512;
/// Most items a run expands to.
pub const MAX_RUN: u16 = 160;
/// Most `mas_find` / `mas_prev` calls one cursor operation makes.
pub const MAX_CURSOR_STEPS: u8 = 8;

/// One call of the store API, with the arguments it was made with.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// `mtree_store_range(first, last, entry)`; `entry: null` stores NULL.
    Store {
        /// First index.
        first: u64,
        /// Last index (inclusive).
        last: u64,
        /// The entry, or `None` to erase the range.
        entry: Option<u32>,
    },
    /// `mtree_erase(index)`.
    Erase {
        /// Any index inside the entry.
        index: u64,
    },
    /// `mtree_load(index)`.
    Load {
        /// The index.
        index: u64,
    },
    /// `mas_walk(index)`.
    Walk {
        /// The index.
        index: u64,
    },
    /// `MA_STATE(mas, index)` then up to `steps` calls of `mas_find(&mas, max)`.
    Find {
        /// Start index (included by the first call).
        index: u64,
        /// Upper limit.
        max: u64,
        /// Number of calls.
        steps: u8,
    },
    /// `MA_STATE(mas, index)` then up to `steps` calls of `mas_prev(&mas, min)`.
    Prev {
        /// Start index.
        index: u64,
        /// Lower limit.
        min: u64,
        /// Number of calls.
        steps: u8,
    },
    /// `mas_empty_area(min, max, size)`.
    EmptyArea {
        /// Lowest index.
        min: u64,
        /// Highest index.
        max: u64,
        /// Size of the area.
        size: u64,
    },
    /// `mas_empty_area_rev(min, max, size)`.
    EmptyAreaRev {
        /// Lowest index.
        min: u64,
        /// Highest index.
        max: u64,
        /// Size of the area.
        size: u64,
    },
    /// Count the entries (`mt_for_each`).
    Count,
    /// `__mt_destroy`.
    Destroy,
}

/// A generated item: one operation, or a run that expands to many.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gen {
    /// One operation.
    One(Op),
    /// `count` stores of `width` indices, `stride` apart, from `first` (entries `base..`).
    StoreRun {
        /// First index of the first range.
        first: u64,
        /// Indices per range (at least 1).
        width: u64,
        /// Distance between range starts (at least 1).
        stride: u64,
        /// Number of stores.
        count: u16,
        /// Entry of the first store; later ones count up.
        base: u32,
    },
    /// `count` erases at `first`, `first + stride`, … (`stride` may be 0).
    EraseRun {
        /// First index.
        first: u64,
        /// Distance between erased indices.
        stride: u64,
        /// Number of erases.
        count: u16,
    },
}

/// Expand generated items into operations (at most [`MAX_OPS`]).
pub fn expand(gens: &[Gen]) -> Vec<Op> {
    let mut ops = Vec::new();
    for g in gens {
        match *g {
            Gen::One(ref op) => ops.push(op.clone()),
            Gen::StoreRun {
                first,
                width,
                stride,
                count,
                base,
            } => {
                for k in 0..u64::from(count) {
                    let Some(a) = first.checked_add(k.saturating_mul(stride.max(1))) else {
                        break;
                    };
                    ops.push(Op::Store {
                        first: a,
                        last: a.saturating_add(width.max(1) - 1),
                        entry: Some(base.wrapping_add(k as u32)),
                    });
                }
            }
            Gen::EraseRun {
                first,
                stride,
                count,
            } => {
                for k in 0..u64::from(count) {
                    let Some(i) = first.checked_add(k.saturating_mul(stride)) else {
                        break;
                    };
                    ops.push(Op::Erase { index: i });
                }
            }
        }
    }
    ops.truncate(MAX_OPS);
    ops
}

/// An index biased towards a small address space, with the ends of the space now and then.
fn index(u: &mut Unstructured<'_>) -> arbitrary::Result<u64> {
    Ok(match u.int_in_range(0u8..=15)? {
        0..=10 => u64::from(u.int_in_range(0u16..=1023)?),
        11..=12 => u64::from(u.int_in_range(0u32..=65535)?),
        13 => u64::MAX - u64::from(u.int_in_range(0u8..=31)?),
        14 => u64::from(u.int_in_range(0u8..=7)?),
        _ => u.arbitrary()?,
    })
}

/// A range length biased towards short ranges.
fn length(u: &mut Unstructured<'_>) -> arbitrary::Result<u64> {
    Ok(match u.int_in_range(0u8..=7)? {
        0..=4 => u64::from(u.int_in_range(1u8..=8)?),
        5..=6 => u64::from(u.int_in_range(1u16..=256)?),
        _ => u.arbitrary::<u64>()?.max(1),
    })
}

fn op(u: &mut Unstructured<'_>) -> arbitrary::Result<Op> {
    let span = |u: &mut Unstructured<'_>| -> arbitrary::Result<(u64, u64)> {
        let first = index(u)?;
        Ok((first, first.saturating_add(length(u)? - 1)))
    };
    Ok(match u.int_in_range(0u8..=19)? {
        0..=6 => {
            let (first, last) = span(u)?;
            let entry = if u.ratio(1u8, 6)? {
                None
            } else {
                Some(u.int_in_range(1u32..=64)?)
            };
            Op::Store { first, last, entry }
        }
        7..=9 => Op::Erase { index: index(u)? },
        10 => Op::Load { index: index(u)? },
        11 => Op::Walk { index: index(u)? },
        12 | 13 => {
            let index = index(u)?;
            let max = index.saturating_add(length(u)?);
            let steps = u.int_in_range(1..=MAX_CURSOR_STEPS)?;
            Op::Find { index, max, steps }
        }
        14 => {
            let index = index(u)?;
            let min = index.saturating_sub(length(u)?);
            let steps = u.int_in_range(1..=MAX_CURSOR_STEPS)?;
            Op::Prev { index, min, steps }
        }
        15 | 16 => {
            let (min, max) = span(u)?;
            let size = length(u)?;
            Op::EmptyArea { min, max, size }
        }
        17 | 18 => {
            let (min, max) = span(u)?;
            let size = length(u)?;
            Op::EmptyAreaRev { min, max, size }
        }
        _ => {
            if u.ratio(1u8, 8)? {
                Op::Destroy
            } else {
                Op::Count
            }
        }
    })
}

impl<'a> Arbitrary<'a> for Gen {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match u.int_in_range(0u8..=9)? {
            0 => Gen::StoreRun {
                first: index(u)?,
                width: u64::from(u.int_in_range(1u8..=16)?),
                stride: u64::from(u.int_in_range(1u8..=24)?),
                count: u.int_in_range(1..=MAX_RUN)?,
                base: u.int_in_range(1u32..=64)?,
            },
            1 => Gen::EraseRun {
                first: index(u)?,
                stride: u64::from(u.int_in_range(0u8..=24)?),
                count: u.int_in_range(1..=MAX_RUN)?,
            },
            _ => Gen::One(op(u)?),
        })
    }
}

/// Decode a whole case from fuzzer bytes: items until the bytes run out, expanded.
pub fn decode(data: &[u8]) -> Vec<Op> {
    let mut u = Unstructured::new(data);
    let mut gens = Vec::new();
    let mut n = 0;
    while !u.is_empty() && n < MAX_OPS {
        match Gen::arbitrary(&mut u) {
            Ok(g) => {
                n += match &g {
                    Gen::One(_) => 1,
                    Gen::StoreRun { count, .. } | Gen::EraseRun { count, .. } => {
                        usize::from(*count)
                    }
                };
                gens.push(g);
            }
            Err(_) => break,
        }
    }
    expand(&gens)
}

/// Proptest: an index in a small address space (so ranges meet and overlap), or an extreme.
fn index_strategy() -> impl Strategy<Value = u64> {
    prop_oneof![
        12 => 0u64..512,
        2 => 0u64..65536,
        1 => (0u64..32).prop_map(|d| u64::MAX - d),
        1 => any::<u64>(),
    ]
}

fn length_strategy() -> impl Strategy<Value = u64> {
    prop_oneof![8 => 1u64..=8, 3 => 1u64..=128, 1 => 1u64..=u64::MAX]
}

fn span_strategy() -> impl Strategy<Value = (u64, u64)> {
    (index_strategy(), length_strategy())
        .prop_map(|(first, len)| (first, first.saturating_add(len - 1)))
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        7 => (span_strategy(), prop::option::weighted(0.85, 1u32..=64))
            .prop_map(|((first, last), entry)| Op::Store { first, last, entry }),
        3 => index_strategy().prop_map(|index| Op::Erase { index }),
        1 => index_strategy().prop_map(|index| Op::Load { index }),
        1 => index_strategy().prop_map(|index| Op::Walk { index }),
        2 => (index_strategy(), length_strategy(), 1..=MAX_CURSOR_STEPS)
            .prop_map(|(index, l, steps)| Op::Find { index, max: index.saturating_add(l), steps }),
        1 => (index_strategy(), length_strategy(), 1..=MAX_CURSOR_STEPS)
            .prop_map(|(index, l, steps)| Op::Prev { index, min: index.saturating_sub(l), steps }),
        2 => (span_strategy(), length_strategy())
            .prop_map(|((min, max), size)| Op::EmptyArea { min, max, size }),
        2 => (span_strategy(), length_strategy())
            .prop_map(|((min, max), size)| Op::EmptyAreaRev { min, max, size }),
        1 => Just(Op::Count),
    ]
}

/// Proptest strategy for one generated item: single ops, plus long store and erase runs.
pub fn gen_strategy() -> impl Strategy<Value = Gen> {
    prop_oneof![
        6 => op_strategy().prop_map(Gen::One),
        2 => (0u64..512, 1u64..=16, 1u64..=24, 1..=MAX_RUN, 1u32..=64).prop_map(
            |(first, width, stride, count, base)| Gen::StoreRun { first, width, stride, count, base }
        ),
        2 => (0u64..4096, 0u64..=24, 1..=MAX_RUN)
            .prop_map(|(first, stride, count)| Gen::EraseRun { first, stride, count }),
    ]
}

/// Proptest strategy for a whole case: up to `max_items` generated items.
pub fn gens_strategy(max_items: usize) -> impl Strategy<Value = Vec<Gen>> {
    prop::collection::vec(gen_strategy(), 1..=max_items)
}
