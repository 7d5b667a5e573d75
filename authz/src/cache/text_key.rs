//! The cache key of a token: a keyed 128-bit SipHash-2-4 of its text (the module
//! doc of [`crate::cache`] argues why that is enough to never answer a request
//! with another text's chain).

use std::hash::{BuildHasher, Hash, Hasher};

use siphasher::sip128::SipHasher24;

/// A token text's digest under the cache's secret key, as two 64-bit halves: a
/// `u128` is 16-byte aligned and would pad every cache slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TextDigest([u64; 2]);

impl Hash for TextDigest {
    /// Only the first half: the table needs 64 bits, and they are already a
    /// keyed pseudorandom function of the text.
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0[0]);
    }
}

/// The secret key of the text hash, drawn once per cache.
pub(crate) struct TextKey(SipHasher24);

impl TextKey {
    /// A key from the operating system's generator; should that fail, from the
    /// secret keys the standard library draws for `HashMap`s (also from the
    /// operating system, by other means), so a cache can always be made.
    pub(crate) fn random() -> Self {
        let mut key = [0u8; 16];
        if getrandom::fill(&mut key).is_err() {
            let state = std::collections::hash_map::RandomState::new();
            for (i, half) in key.chunks_exact_mut(8).enumerate() {
                let mut hasher = state.build_hasher();
                hasher.write_usize(i);
                half.copy_from_slice(&hasher.finish().to_le_bytes());
            }
        }
        Self(SipHasher24::new_with_key(&key))
    }

    /// The digest of a token's text: surrounding whitespace, which decoding
    /// ignores too, is not part of it.
    pub(crate) fn digest(&self, token: &str) -> TextDigest {
        let hash = self.0.hash(token.trim().as_bytes());
        TextDigest([hash.h1, hash.h2])
    }
}

/// The table hash of a [`TextDigest`]: the half it writes, unchanged.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write_u64(&mut self, half: u64) {
        self.0 = half;
    }

    /// Not reached by a `TextDigest`; folds any other input in rather than drop it.
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }
}

/// Builds [`DigestHasher`]s.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DigestHashing;

impl BuildHasher for DigestHashing {
    type Hasher = DigestHasher;

    fn build_hasher(&self) -> DigestHasher {
        DigestHasher::default()
    }
}

#[cfg(test)]
mod tests {
    use super::TextKey;

    #[test]
    fn one_text_one_digest_and_whitespace_around_it_is_not_part_of_it() {
        let key = TextKey::random();
        assert_eq!(key.digest("abc"), key.digest(" abc\n"));
        assert_ne!(key.digest("abc"), key.digest("abd"));
        assert_ne!(key.digest("a bc"), key.digest("abc"));
    }

    #[test]
    fn two_caches_key_one_text_differently() {
        assert_ne!(
            TextKey::random().digest("abc"),
            TextKey::random().digest("abc")
        );
    }
}
