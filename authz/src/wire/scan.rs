//! A non-allocating pre-pass over CBOR bytes: well-formedness, nesting depth and
//! trailing bytes, checked before any decoder builds values from the input.
//! [`first_item_len`] measures the leading item alone, for the signed payload,
//! whose bytes after the map are signed but carry no meaning.

// Errors are built only when returned (`ok_or_else`), though clippy finds them
// cheap: an eagerly built `DecodeError` is dropped on every success, and its drop
// glue is a call whenever the optimizer does not inline this hot loop.
#![allow(clippy::unnecessary_lazy_evaluations)]

use super::DecodeError;

/// One open container: how many items it still expects (`None` = indefinite).
#[derive(Clone, Copy)]
struct Open {
    remaining: Option<u64>,
}

/// Checks that `bytes` hold exactly one well-formed CBOR item nesting at most
/// `max_depth` containers (arrays, maps and tags each count one level).
pub(crate) fn check_well_formed(bytes: &[u8], max_depth: usize) -> Result<(), DecodeError> {
    let end = first_item_len(bytes, max_depth)?;
    if end != bytes.len() {
        return Err(DecodeError::TrailingBytes(bytes.len() - end));
    }
    Ok(())
}

/// The length of the well-formed CBOR item at the start of `bytes`, nesting at
/// most `max_depth` containers; whatever follows it is not read.
pub(crate) fn first_item_len(bytes: &[u8], max_depth: usize) -> Result<usize, DecodeError> {
    let mut pos = 0usize;
    // Containers currently open, innermost last. Tags are closed by their one item.
    let mut stack: Vec<Open> = Vec::new();
    loop {
        let at = pos;
        let initial = *bytes.get(pos).ok_or_else(|| DecodeError::Truncated)?;
        pos += 1;
        let major = initial >> 5;
        let info = initial & 0x1f;

        // A break code closes the innermost indefinite container.
        if initial == 0xff {
            match stack.last() {
                Some(Open { remaining: None }) => {
                    stack.pop();
                    if close_items(&mut stack) {
                        break;
                    }
                    continue;
                }
                _ => return Err(DecodeError::Malformed(at)),
            }
        }

        let argument: Option<u64> = match info {
            0..=23 => Some(u64::from(info)),
            24..=27 => {
                let width = 1usize << (info - 24);
                let end = pos
                    .checked_add(width)
                    .ok_or_else(|| DecodeError::Truncated)?;
                let raw = bytes.get(pos..end).ok_or_else(|| DecodeError::Truncated)?;
                pos = end;
                Some(raw.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
            }
            31 if matches!(major, 2..=5) => None,
            31 if major == 7 => return Err(DecodeError::Malformed(at)),
            _ => return Err(DecodeError::Malformed(at)),
        };

        match (major, argument) {
            (0 | 1, Some(_)) | (7, Some(_)) => {}
            (2 | 3, Some(len)) => {
                let len = usize::try_from(len).map_err(|_| DecodeError::Truncated)?;
                let end = pos.checked_add(len).ok_or_else(|| DecodeError::Truncated)?;
                if end > bytes.len() {
                    return Err(DecodeError::Truncated);
                }
                pos = end;
            }
            (2 | 3, None) => {
                // Indefinite strings hold definite chunks of the same major type.
                loop {
                    let chunk = *bytes.get(pos).ok_or_else(|| DecodeError::Truncated)?;
                    if chunk == 0xff {
                        pos += 1;
                        break;
                    }
                    if chunk >> 5 != major || chunk & 0x1f > 27 {
                        return Err(DecodeError::Malformed(pos));
                    }
                    check_well_formed_chunk(bytes, &mut pos)?;
                }
            }
            (4 | 5, count) => {
                let count = match (major, count) {
                    (5, Some(n)) => Some(n.checked_mul(2).ok_or_else(|| DecodeError::Truncated)?),
                    (_, c) => c,
                };
                // Every item takes at least one byte: a claim of more items than
                // bytes left is truncated input, not a reason to keep scanning.
                if let Some(n) = count {
                    if n > (bytes.len() - pos) as u64 {
                        return Err(DecodeError::Truncated);
                    }
                }
                if stack.len() >= max_depth {
                    return Err(DecodeError::TooDeep(max_depth));
                }
                if count != Some(0) {
                    stack.push(Open { remaining: count });
                    continue;
                }
            }
            (6, Some(_)) => {
                if stack.len() >= max_depth {
                    return Err(DecodeError::TooDeep(max_depth));
                }
                stack.push(Open { remaining: Some(1) });
                continue;
            }
            _ => return Err(DecodeError::Malformed(at)),
        }

        if close_items(&mut stack) {
            break;
        }
    }
    Ok(pos)
}

/// Counts one finished item against the open containers, closing those that are
/// complete. Returns true when the top-level item is finished.
fn close_items(stack: &mut Vec<Open>) -> bool {
    loop {
        match stack.last_mut() {
            None => return true,
            Some(Open { remaining: None }) => return false,
            Some(Open { remaining: Some(n) }) => {
                *n -= 1;
                if *n > 0 {
                    return false;
                }
                stack.pop();
            }
        }
    }
}

/// Skips one definite-length string chunk inside an indefinite string.
fn check_well_formed_chunk(bytes: &[u8], pos: &mut usize) -> Result<(), DecodeError> {
    let initial = *bytes.get(*pos).ok_or_else(|| DecodeError::Truncated)?;
    *pos += 1;
    let info = initial & 0x1f;
    let len = match info {
        0..=23 => u64::from(info),
        _ => {
            let width = 1usize << (info - 24);
            let end = pos
                .checked_add(width)
                .ok_or_else(|| DecodeError::Truncated)?;
            let raw = bytes.get(*pos..end).ok_or_else(|| DecodeError::Truncated)?;
            *pos = end;
            raw.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
        }
    };
    let len = usize::try_from(len).map_err(|_| DecodeError::Truncated)?;
    let end = pos.checked_add(len).ok_or_else(|| DecodeError::Truncated)?;
    if end > bytes.len() {
        return Err(DecodeError::Truncated);
    }
    *pos = end;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_single_items() {
        for item in [
            &[0x00][..],
            &[0x83, 1, 2, 3],
            &[0xa1, 0x61, b'a', 0x80],
            &[0x9f, 1, 0xff],
            &[0xc1, 0x05],
            &[0x80],
        ] {
            check_well_formed(item, 8).unwrap();
        }
    }

    #[test]
    fn rejects_truncation_trailing_bytes_and_junk() {
        assert_eq!(
            check_well_formed(&[0x83, 1, 2], 8),
            Err(DecodeError::Truncated)
        );
        assert_eq!(
            check_well_formed(&[0x01, 0x02], 8),
            Err(DecodeError::TrailingBytes(1))
        );
        assert_eq!(
            check_well_formed(&[0x1c], 8),
            Err(DecodeError::Malformed(0))
        );
        assert_eq!(
            check_well_formed(&[0xff], 8),
            Err(DecodeError::Malformed(0))
        );
        assert_eq!(
            check_well_formed(&[0x5a, 0xff, 0xff, 0xff, 0xff], 8),
            Err(DecodeError::Truncated)
        );
        assert_eq!(
            check_well_formed(&[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 8),
            Err(DecodeError::Truncated)
        );
    }

    #[test]
    fn enforces_depth() {
        let mut deep = vec![0x81u8; 9];
        deep.push(0x00);
        assert_eq!(check_well_formed(&deep, 8), Err(DecodeError::TooDeep(8)));
        check_well_formed(&deep[1..], 8).unwrap();
    }
}
