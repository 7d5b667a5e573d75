//! A per-thread memo of recently parsed public keys, for the warrant decoder.
//!
//! Parsing a key decompresses a curve point (a field exponentiation) and checks its
//! order: about a fifth of an Ed25519 verification. A chain names each key twice
//! (a child's issuer is its parent's holder), and consecutive chains share the
//! control plane's key and their agents' keys, so a cold decode mostly re-parses
//! keys it has just seen. The memo is two-way set-associative and fixed in size: a
//! lookup is at most two 32-byte comparisons, memory is bounded, and keys that
//! collide (even on purpose) only cost the parse they would have cost anyway. Two
//! ways because the ten-odd keys of one deep chain often share a set of a
//! direct-mapped table, and then evicted each other on every decode. Only keys
//! that parsed are remembered, and a hit returns exactly what parsing the same
//! bytes returns.

use std::cell::RefCell;

use super::keys::{KeyError, PublicKey};

const SETS: usize = 64;
const WAYS: usize = 2;

/// Each set's ways, most recently used first.
type Set = [Option<PublicKey>; WAYS];

thread_local! {
    static RECENT: RefCell<[Set; SETS]> = const { RefCell::new([[None; WAYS]; SETS]) };
}

/// [`PublicKey::from_bytes`], answered from this thread's recent keys when possible.
pub(crate) fn parse(bytes: &[u8; 32]) -> Result<PublicKey, KeyError> {
    // Key bytes are a curve point's encoding: uniformly spread, so two bytes index well.
    let index = (usize::from(bytes[0]) | usize::from(bytes[1]) << 8) % SETS;
    let remembered = RECENT
        .try_with(|recent| {
            let mut recent = recent.borrow_mut();
            let set = recent.get_mut(index)?;
            let way = set
                .iter()
                .position(|entry| entry.is_some_and(|key| key.to_bytes() == *bytes))?;
            // Most recently used first, so the other way is the one evicted next.
            set[..=way].rotate_right(1);
            set[0]
        })
        .ok()
        .flatten();
    if let Some(key) = remembered {
        return Ok(key);
    }
    let key = PublicKey::from_bytes(bytes)?;
    // During thread teardown the memo is gone: parse without remembering.
    let _ = RECENT.try_with(|recent| {
        if let Some(set) = recent.borrow_mut().get_mut(index) {
            set.rotate_right(1);
            set[0] = Some(key);
        }
    });
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SigningKey;

    #[test]
    fn a_hit_is_the_key_parsing_returns_and_bad_bytes_still_fail() {
        let key = SigningKey::from_bytes(&[7; 32]).public_key();
        let bytes = key.to_bytes();
        assert_eq!(parse(&bytes), Ok(key));
        assert_eq!(parse(&bytes), Ok(key));
        // Bytes that do not parse are never remembered: refused every time.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(parse(&identity), Err(KeyError::WeakKey));
        assert_eq!(parse(&identity), Err(KeyError::WeakKey));
    }

    #[test]
    fn two_keys_of_one_set_are_both_remembered() {
        // Find two keys that index the same set.
        let keys: Vec<PublicKey> = (1..=255u8)
            .map(|i| SigningKey::from_bytes(&[i; 32]).public_key())
            .collect();
        let index = |key: &PublicKey| {
            let bytes = key.to_bytes();
            (usize::from(bytes[0]) | usize::from(bytes[1]) << 8) % SETS
        };
        let (a, b) = keys
            .iter()
            .enumerate()
            .find_map(|(i, a)| {
                keys[i + 1..]
                    .iter()
                    .find(|b| index(a) == index(b))
                    .map(|b| (*a, *b))
            })
            .expect("255 keys over 64 sets share a set");
        assert_eq!(parse(&a.to_bytes()), Ok(a));
        assert_eq!(parse(&b.to_bytes()), Ok(b));
        let remembered = |key: PublicKey| {
            RECENT.with(|recent| recent.borrow()[index(&key)].contains(&Some(key)))
        };
        assert!(remembered(a) && remembered(b));
    }

    #[test]
    fn colliding_keys_evict_each_other_without_mixing_up() {
        let keys: Vec<PublicKey> = (1..=200u8)
            .map(|i| SigningKey::from_bytes(&[i; 32]).public_key())
            .collect();
        for _ in 0..2 {
            for key in &keys {
                assert_eq!(parse(&key.to_bytes()), Ok(*key));
            }
        }
    }
}
