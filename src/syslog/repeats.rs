//! Finding repeated keys in linear time: SD-IDs that end up equal in the writer, PARAM-NAMEs that
//! repeat inside an SD-ELEMENT. Messages usually carry a handful of either and are served by a
//! scan; a hostile or generated message with a million of them must not take hours (issue #14).

use std::collections::HashMap;
use std::hash::Hash;

/// Up to this many items, callers compare pairs (no allocation, fastest for a few); above it
/// they use [`Repeats`].
pub(crate) const SCAN_MAX: usize = 16;

/// For a list of keys: which item is the first of its key, and the next item with the same key.
/// Built in one pass with a hash map (SipHash, randomly keyed, so crafted keys cannot make it
/// quadratic either).
#[derive(Debug)]
pub(crate) struct Repeats {
    /// `next[i]`: the index of the next item with the key of item `i`, or `NONE`.
    next: Vec<usize>,
    first: Vec<bool>,
}

const NONE: usize = usize::MAX;

impl Repeats {
    pub(crate) fn new<K: Hash + Eq>(keys: impl IntoIterator<Item = K>) -> Repeats {
        let keys = keys.into_iter();
        let (size, _) = keys.size_hint();
        let mut last: HashMap<K, usize> = HashMap::with_capacity(size);
        let mut next = Vec::with_capacity(size);
        let mut first = Vec::with_capacity(size);
        for (i, key) in keys.enumerate() {
            next.push(NONE);
            match last.insert(key, i) {
                Some(previous) => {
                    next[previous] = i;
                    first.push(false);
                }
                None => first.push(true),
            }
        }
        Repeats { next, first }
    }

    /// True when item `i` is the first with its key.
    pub(crate) fn is_first(&self, i: usize) -> bool {
        self.first[i]
    }

    /// Item `i` and the later items with its key, in order.
    pub(crate) fn chain(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(Some(i), |&j| Some(self.next[j]).filter(|&n| n != NONE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_follow_the_order_of_the_items() {
        let r = Repeats::new(["a", "b", "a", "c", "b", "a"]);
        let firsts: Vec<usize> = (0..6).filter(|&i| r.is_first(i)).collect();
        assert_eq!(firsts, [0, 1, 3]);
        assert_eq!(r.chain(0).collect::<Vec<_>>(), [0, 2, 5]);
        assert_eq!(r.chain(1).collect::<Vec<_>>(), [1, 4]);
        assert_eq!(r.chain(3).collect::<Vec<_>>(), [3]);
    }

    #[test]
    fn a_million_keys_are_grouped() {
        // Linear: a million distinct keys plus a million repeats of one key.
        let n = 1_000_000;
        let keys = (0..n).map(|i| if i % 2 == 0 { i } else { 1 });
        let r = Repeats::new(keys);
        assert_eq!((0..n).filter(|&i| r.is_first(i)).count(), n / 2 + 1);
        assert_eq!(r.chain(1).count(), n / 2);
    }
}
