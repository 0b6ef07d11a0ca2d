//! The reference range store: a `BTreeMap` from each entry's first index to `(last, entry)`.
//! NULL ranges are not stored; they are the holes between entries.

use std::collections::BTreeMap;
use std::fmt;

use crate::maple::{MaState, MapleError, MasStatus, Walk};

/// Reference for [`crate::maple::MapleTree`]: the same API, with no structure to get wrong.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct RangeMap<T> {
    map: BTreeMap<u64, (u64, T)>,
}

impl<T: Copy + Eq + fmt::Debug> RangeMap<T> {
    /// An empty store.
    pub fn new() -> Self {
        RangeMap {
            map: BTreeMap::new(),
        }
    }

    /// The entry whose range holds `index`, as `(first, last, entry)`.
    fn holding(&self, index: u64) -> Option<(u64, u64, T)> {
        let (&first, &(last, e)) = self.map.range(..=index).next_back()?;
        (last >= index).then_some((first, last, e))
    }

    /// `mtree_load`.
    pub fn mtree_load(&self, index: u64) -> Option<T> {
        self.holding(index).map(|(_, _, e)| e)
    }

    /// `mas_walk`: the entry's range, or the whole hole between entries.
    pub fn mas_walk(&self, index: u64) -> Walk<T> {
        if let Some((first, last, e)) = self.holding(index) {
            return Walk {
                entry: Some(e),
                first,
                last,
            };
        }
        let first = self
            .map
            .range(..index)
            .next_back()
            .map_or(0, |(_, &(last, _))| last + 1);
        let last = self
            .map
            .range(index..)
            .next()
            .map_or(u64::MAX, |(&f, _)| f - 1);
        Walk {
            entry: None,
            first,
            last,
        }
    }

    /// `mtree_store_range`: cut `[first, last]` out of every entry, then insert.
    pub fn mtree_store_range(
        &mut self,
        first: u64,
        last: u64,
        entry: Option<T>,
    ) -> Result<(), MapleError> {
        if first > last {
            return Err(MapleError::Inval);
        }
        let overlapping: Vec<(u64, u64, T)> = self
            .map
            .range(..=last)
            .rev()
            .take_while(|(_, &(l, _))| l >= first)
            .map(|(&f, &(l, e))| (f, l, e))
            .collect();
        for (f, l, e) in overlapping {
            self.map.remove(&f);
            if f < first {
                self.map.insert(f, (first - 1, e));
            }
            if l > last {
                self.map.insert(last + 1, (l, e));
            }
        }
        if let Some(e) = entry {
            self.map.insert(first, (last, e));
        }
        Ok(())
    }

    /// `mtree_erase`.
    pub fn mtree_erase(&mut self, index: u64) -> Option<T> {
        let (first, _, e) = self.holding(index)?;
        self.map.remove(&first);
        Some(e)
    }

    /// `mas_find(mas, max)`.
    pub fn mas_find(&self, mas: &mut MaState, max: u64) -> Option<T> {
        let from = match mas.status {
            MasStatus::Done => return None,
            MasStatus::Start => match self.holding(mas.index) {
                Some((first, _, _)) => first,
                None => mas.index,
            },
            MasStatus::Active if mas.last == u64::MAX => {
                mas.status = MasStatus::Done;
                return None;
            }
            MasStatus::Active => mas.last + 1,
        };
        match self.map.range(from..).next() {
            Some((&f, &(l, e))) if f <= max && from <= max => {
                *mas = MaState {
                    index: f,
                    last: l,
                    status: MasStatus::Active,
                };
                Some(e)
            }
            _ => {
                mas.status = MasStatus::Done;
                None
            }
        }
    }

    /// `mas_prev(mas, min)`.
    pub fn mas_prev(&self, mas: &mut MaState, min: u64) -> Option<T> {
        let before = match mas.status {
            MasStatus::Done => return None,
            MasStatus::Start => self.mas_walk(mas.index).first,
            MasStatus::Active => mas.index,
        };
        match self.map.range(..before).next_back() {
            Some((&f, &(l, e))) if l >= min => {
                *mas = MaState {
                    index: f,
                    last: l,
                    status: MasStatus::Active,
                };
                Some(e)
            }
            _ => {
                mas.status = MasStatus::Done;
                None
            }
        }
    }

    /// The holes of `[min, max]`, clipped, in index order.
    fn holes(&self, min: u64, max: u64) -> Vec<(u64, u64)> {
        let mut holes = Vec::new();
        let mut cursor = Some(min);
        for (&f, &(l, _)) in self.map.range(..=max) {
            let Some(c) = cursor else { break };
            if l < c {
                continue;
            }
            if f > c {
                holes.push((c, f - 1));
            }
            cursor = l.checked_add(1);
        }
        if let Some(c) = cursor {
            if c <= max {
                holes.push((c, max));
            }
        }
        holes
    }

    /// `mas_empty_area`: lowest fit.
    pub fn mas_empty_area(&self, min: u64, max: u64, size: u64) -> Result<(u64, u64), MapleError> {
        if size == 0 || min > max {
            return Err(MapleError::Inval);
        }
        self.holes(min, max)
            .into_iter()
            .find(|&(s, e)| e - s >= size - 1)
            .map(|(s, _)| (s, s + (size - 1)))
            .ok_or(MapleError::Busy)
    }

    /// `mas_empty_area_rev`: highest fit.
    pub fn mas_empty_area_rev(
        &self,
        min: u64,
        max: u64,
        size: u64,
    ) -> Result<(u64, u64), MapleError> {
        if size == 0 || min > max {
            return Err(MapleError::Inval);
        }
        self.holes(min, max)
            .into_iter()
            .rev()
            .find(|&(s, e)| e - s >= size - 1)
            .map(|(_, e)| (e - (size - 1), e))
            .ok_or(MapleError::Busy)
    }

    /// `__mt_destroy`.
    pub fn mt_destroy(&mut self) {
        self.map.clear();
    }

    /// Every entry as `(first, last, entry)`, in index order.
    pub fn entries(&self) -> Vec<(u64, u64, T)> {
        self.map.iter().map(|(&f, &(l, e))| (f, l, e)).collect()
    }

    /// Number of entries.
    pub fn count(&self) -> usize {
        self.map.len()
    }
}
