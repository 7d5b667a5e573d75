//! [`NameMap`]: a small map from names to values, held in one sorted allocation.
//!
//! Tool grants and argument constraints are a handful of entries each, read far
//! more often than written, and live in the verified-chain cache by the hundred
//! thousand. A `BTreeMap` allocates a node for eleven entries even when it holds
//! one (about 1.5 KiB for one constraint), so a cached chain was mostly empty
//! node slots. A sorted boxed slice has the same ordered iteration and
//! logarithmic lookup at the size of its entries (and no spare capacity: a map is
//! read far more often than it is grown).

use std::borrow::Borrow;
use std::fmt;

/// Entries sorted by name, names unique.
#[derive(Clone, PartialEq)]
pub struct NameMap<V> {
    entries: Box<[(String, V)]>,
}

impl<V> Default for NameMap<V> {
    fn default() -> Self {
        Self {
            entries: Box::default(),
        }
    }
}

impl<V> NameMap<V> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    fn position<Q>(&self, name: &Q) -> Result<usize, usize>
    where
        String: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.entries
            .binary_search_by(|(key, _)| key.borrow().cmp(name))
    }

    /// Adds or replaces the value for `name`; returns the previous value.
    pub fn insert(&mut self, name: impl Into<String>, value: V) -> Option<V> {
        let name = name.into();
        match self.position(name.as_str()) {
            Ok(at) => Some(std::mem::replace(&mut self.entries[at].1, value)),
            Err(at) => {
                let mut entries = std::mem::take(&mut self.entries).into_vec();
                entries.insert(at, (name, value));
                self.entries = entries.into_boxed_slice();
                None
            }
        }
    }

    /// The value for `name`.
    pub fn get<Q>(&self, name: &Q) -> Option<&V>
    where
        String: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.position(name).ok().map(|at| &self.entries[at].1)
    }

    /// Whether `name` has a value.
    pub fn contains_key<Q>(&self, name: &Q) -> bool
    where
        String: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.position(name).is_ok()
    }

    /// Entries in name order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&String, &V)> + Clone {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// Names in order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &String> + Clone {
        self.entries.iter().map(|(k, _)| k)
    }

    /// Values in name order.
    pub fn values(&self) -> impl ExactSizeIterator<Item = &V> + Clone {
        self.entries.iter().map(|(_, v)| v)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// An estimate of the resident bytes the map holds on the heap: its entries,
    /// its names, and what `value` says each value holds.
    pub(crate) fn heap_bytes(&self, value: impl Fn(&V) -> usize) -> usize {
        crate::heap::allocation(size_of_val(&*self.entries))
            + self
                .entries
                .iter()
                .map(|(name, v)| crate::heap::allocation(name.capacity()) + value(v))
                .sum::<usize>()
    }
}

impl<V> FromIterator<(String, V)> for NameMap<V> {
    /// Collects entries; for a repeated name the last value wins, as in a map.
    fn from_iter<I: IntoIterator<Item = (String, V)>>(iter: I) -> Self {
        let mut entries: Vec<(String, V)> = iter.into_iter().collect();
        // Stable, so equal names keep arrival order and the last can be kept.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut deduped: Vec<(String, V)> = Vec::with_capacity(entries.len());
        for entry in entries {
            match deduped.last_mut() {
                Some(last) if last.0 == entry.0 => *last = entry,
                _ => deduped.push(entry),
            }
        }
        Self {
            entries: deduped.into_boxed_slice(),
        }
    }
}

impl<V> IntoIterator for NameMap<V> {
    type Item = (String, V);
    type IntoIter = std::vec::IntoIter<(String, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_vec().into_iter()
    }
}

impl<V: fmt::Debug> fmt::Debug for NameMap<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::NameMap;

    #[test]
    fn iterates_in_name_order_and_the_last_duplicate_wins() {
        let map: NameMap<u32> = [("b", 1), ("a", 2), ("b", 3), ("c", 4)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        let entries: Vec<(&str, u32)> = map.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(entries, [("a", 2), ("b", 3), ("c", 4)]);
    }

    #[test]
    fn insert_replaces_and_keeps_order() {
        let mut map = NameMap::new();
        assert_eq!(map.insert("path", 1), None);
        assert_eq!(map.insert("mode", 2), None);
        assert_eq!(map.insert("path", 3), Some(1));
        assert_eq!(
            map.keys().map(String::as_str).collect::<Vec<_>>(),
            ["mode", "path"]
        );
        assert_eq!(map.get("path"), Some(&3));
        assert!(map.contains_key("mode"));
        assert!(!map.contains_key("other"));
        assert_eq!(map.len(), 2);
    }
}
