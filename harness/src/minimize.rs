//! Shrinking a failing input to a shortest one that still fails the same way.

/// Delta debugging (Zeller's ddmin, complement-only): remove ever smaller chunks of `items`
/// while `fails` still holds, until no single item can be removed. `fails(&items)` must hold
/// on entry. Deterministic.
pub fn ddmin<T: Clone>(mut items: Vec<T>, mut fails: impl FnMut(&[T]) -> bool) -> Vec<T> {
    let mut chunk = items.len().div_ceil(2).max(1);
    loop {
        let mut removed = false;
        let mut start = 0;
        while start < items.len() {
            let end = (start + chunk).min(items.len());
            let mut candidate = Vec::with_capacity(items.len() - (end - start));
            candidate.extend_from_slice(&items[..start]);
            candidate.extend_from_slice(&items[end..]);
            if fails(&candidate) {
                items = candidate;
                removed = true;
            } else {
                start = end;
            }
        }
        if chunk == 1 && !removed {
            return items;
        }
        if !removed {
            chunk = chunk.div_ceil(2);
        }
    }
}

/// Then try smaller values for each item: `simpler(item)` proposes replacements, simplest
/// first; the first one that still fails is kept. Repeats until nothing changes.
pub fn simplify<T: Clone>(
    mut items: Vec<T>,
    simpler: impl Fn(&T) -> Vec<T>,
    mut fails: impl FnMut(&[T]) -> bool,
) -> Vec<T> {
    loop {
        let mut changed = false;
        for i in 0..items.len() {
            for cand in simpler(&items[i]) {
                let old = std::mem::replace(&mut items[i], cand);
                if fails(&items) {
                    changed = true;
                    break;
                }
                items[i] = old;
            }
        }
        if !changed {
            return items;
        }
    }
}
