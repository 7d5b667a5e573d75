//! What a heap allocation costs in resident memory, for the estimates the
//! verified-chain cache weighs its entries by.

/// The resident bytes of one allocation of `bytes`, as glibc's `malloc` lays it
/// out: an 8-byte header, rounded up to 16 bytes, 32 at least. jemalloc (which the
/// server links) has no header and rounds to finer size classes, so this is an
/// upper estimate there.
pub(crate) const fn allocation(bytes: usize) -> usize {
    if bytes == 0 {
        return 0;
    }
    let chunk = (bytes + 8).next_multiple_of(16);
    if chunk < 32 {
        32
    } else {
        chunk
    }
}

/// The resident bytes of a string's heap buffer.
pub(crate) fn string(text: &str) -> usize {
    allocation(text.len())
}

#[cfg(test)]
mod tests {
    use super::allocation;

    #[test]
    fn allocations_round_as_glibc_does() {
        assert_eq!(allocation(0), 0);
        assert_eq!(allocation(1), 32);
        assert_eq!(allocation(24), 32);
        assert_eq!(allocation(25), 48);
        assert_eq!(allocation(96), 112);
    }
}
