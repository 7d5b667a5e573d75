//! Holder keys shared by the cached chains that name them.
//!
//! A cached leaf keeps its holder's key decompressed (192 bytes), so that a hit
//! verifies the PoP without decompressing a point. An agent's key outlives many of
//! its warrants, so cached chains mostly name keys that other cached chains name
//! too, and they share one copy. The table is bounded by a byte budget the cache
//! sets aside for it: a key that does not fit is not shared, and the chain holding
//! it is weighed with it, so the cache's bound on memory holds either way.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::crypto::PublicKey;
use crate::heap;

/// The most resident bytes one shared key costs: its `Arc`, and its slot in a
/// hash table at the lowest load it is grown to (7/16).
pub(crate) const BYTES_PER_KEY: usize =
    heap::allocation(2 * size_of::<usize>() + size_of::<PublicKey>())
        + (32 + size_of::<usize>() + 1) * 16 / 7;

/// A bounded table of shared holder keys.
#[derive(Debug)]
pub(crate) struct SharedHolders {
    table: Mutex<Table>,
}

#[derive(Debug)]
struct Table {
    keys: HashMap<[u8; 32], Arc<PublicKey>>,
    capacity: usize,
    /// Refusals left before the next sweep for keys no chain holds any more.
    sweep_in: usize,
}

impl SharedHolders {
    /// A table of at most `bytes` of keys.
    pub(crate) fn with_budget(bytes: u64) -> Self {
        let capacity = usize::try_from(bytes).unwrap_or(usize::MAX) / BYTES_PER_KEY;
        Self {
            table: Mutex::new(Table {
                keys: HashMap::new(),
                capacity,
                sweep_in: 0,
            }),
        }
    }

    /// The shared copy of `key`, added if there is room; `None` when the table is
    /// full of keys that cached chains still hold.
    pub(crate) fn share(&self, key: &PublicKey) -> Option<Arc<PublicKey>> {
        let bytes = key.to_bytes();
        // The table is consistent between any two statements, so a panic elsewhere
        // while it was locked leaves nothing to repair.
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(shared) = table.keys.get(&bytes) {
            return Some(Arc::clone(shared));
        }
        if table.keys.len() >= table.capacity {
            table.sweep_when_due();
            if table.keys.len() >= table.capacity {
                return None;
            }
        }
        let shared = Arc::new(*key);
        table.keys.insert(bytes, Arc::clone(&shared));
        Some(shared)
    }

    /// Keys in the table now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.table
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys
            .len()
    }
}

impl Table {
    /// Drops the keys only the table holds. A sweep walks the whole table, so a
    /// full table sweeps once per quarter of its capacity in refusals: a constant
    /// cost per miss, however many keys are refused.
    fn sweep_when_due(&mut self) {
        if self.sweep_in > 0 {
            self.sweep_in -= 1;
            return;
        }
        self.keys.retain(|_, key| Arc::strong_count(key) > 1);
        self.sweep_in = (self.capacity / 4).max(1);
    }
}

#[cfg(test)]
mod tests {
    use super::{SharedHolders, BYTES_PER_KEY};
    use crate::crypto::SigningKey;
    use std::sync::Arc;

    fn key(seed: u8) -> crate::crypto::PublicKey {
        SigningKey::from_bytes(&[seed; 32]).public_key()
    }

    #[test]
    fn one_key_is_one_copy() {
        let holders = SharedHolders::with_budget(10 * BYTES_PER_KEY as u64);
        let a = holders.share(&key(1)).unwrap();
        let b = holders.share(&key(1)).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(*a, key(1));
        assert_eq!(holders.len(), 1);
    }

    #[test]
    fn a_full_table_refuses_until_its_keys_are_let_go() {
        let holders = SharedHolders::with_budget(2 * BYTES_PER_KEY as u64);
        let held = [holders.share(&key(1)), holders.share(&key(2))];
        assert!(held.iter().all(Option::is_some));
        assert_eq!(holders.share(&key(3)), None);
        // Still shared while full: the keys already in the table.
        assert!(holders.share(&key(1)).is_some());
        drop(held);
        // The sweep that finds the keys let go comes within a quarter of the
        // capacity in refusals (here, one).
        let refusals = (0..2)
            .take_while(|_| holders.share(&key(3)).is_none())
            .count();
        assert!(
            refusals <= 1,
            "{refusals} refusals after the keys were let go"
        );
        assert!(holders.len() <= 2);
    }

    #[test]
    fn no_budget_shares_nothing() {
        assert_eq!(SharedHolders::with_budget(0).share(&key(1)), None);
    }
}
