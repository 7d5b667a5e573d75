//! A per-thread memo of recently parsed public keys, for the warrant decoder.
//!
//! Parsing a key decompresses a curve point (a field exponentiation) and checks its
//! order: about a fifth of an Ed25519 verification. A chain names each key twice
//! (a child's issuer is its parent's holder), and consecutive chains share the
//! control plane's key and their agents' keys, so a cold decode mostly re-parses
//! keys it has just seen. The memo is direct-mapped and fixed in size: a lookup is
//! one 32-byte comparison, memory is bounded, and keys that collide (even on
//! purpose) only cost the parse they would have cost anyway. Only keys that parsed
//! are remembered, and a hit returns exactly what parsing the same bytes returns.

use std::cell::RefCell;

use super::keys::{KeyError, PublicKey};

const SLOTS: usize = 64;

thread_local! {
    static RECENT: RefCell<[Option<PublicKey>; SLOTS]> = const { RefCell::new([None; SLOTS]) };
}

/// [`PublicKey::from_bytes`], answered from this thread's recent keys when possible.
pub(crate) fn parse(bytes: &[u8; 32]) -> Result<PublicKey, KeyError> {
    // Key bytes are a curve point's encoding: uniformly spread, so two bytes index well.
    let slot = (usize::from(bytes[0]) | usize::from(bytes[1]) << 8) % SLOTS;
    let remembered = RECENT
        .try_with(|recent| {
            recent
                .borrow()
                .get(slot)
                .copied()
                .flatten()
                .filter(|key| key.to_bytes() == *bytes)
        })
        .ok()
        .flatten();
    if let Some(key) = remembered {
        return Ok(key);
    }
    let key = PublicKey::from_bytes(bytes)?;
    // During thread teardown the memo is gone: parse without remembering.
    let _ = RECENT.try_with(|recent| {
        if let Some(entry) = recent.borrow_mut().get_mut(slot) {
            *entry = Some(key);
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
