//! A direct decoder from CBOR bytes to the `ciborium::Value` ciborium builds, for
//! the items payloads are made of; anything else is left to ciborium.
//!
//! ciborium builds a `Value` through serde: every item's header is pulled, pushed
//! back and pulled again, and each container goes through visitor and access
//! objects. On a cold decision that path was the hot spot (the README's Performance
//! section has the share). This decoder walks the slice once.
//!
//! It covers definite-length integers, byte strings, UTF-8 text, arrays and maps,
//! false, true, null and undefined (both `Null`, as ciborium reads them), floats of
//! every width except NaN half and single floats (their widening is `half`'s and
//! the hardware's business), and tags other than the bignum tags 2 and 3 (which
//! ciborium turns into integers when they hold a short byte string). Anything
//! else (indefinite lengths, other simple values, reserved header bytes, invalid
//! UTF-8, truncation, nesting past
//! [`MAX_DEPTH`]) returns `None`, and the caller decodes the whole input with
//! ciborium, so on those inputs the result (or error) is ciborium's by
//! construction. `tests/cbor_value_differential.rs` and the `cbor_value` fuzz
//! target hold the two decoders equal where this one answers.

use ciborium::value::{Integer, Value};

/// Containers (arrays, maps, tags) this decoder nests into before leaving the
/// input to ciborium, whose own limit is 256; payloads are checked to 128 first.
const MAX_DEPTH: usize = 128;

/// Most elements reserved up front for one container: the count is untrusted,
/// and nested claims must not add up to a large allocation before they fail.
const MAX_RESERVE: usize = 64;

/// The value ciborium's `from_reader` builds from the first item of `bytes`, or
/// `None` where this decoder leaves the input to ciborium. Like ciborium, it
/// ignores bytes after the item (`check_well_formed` refuses them first).
///
/// Public, and hidden, only so the differential test and the fuzz target can
/// compare it with ciborium; the crate decodes through `value::from_bytes`.
#[doc(hidden)]
pub fn decode_value_fast(bytes: &[u8]) -> Option<Value> {
    Reader { rest: bytes }.item(MAX_DEPTH)
}

/// Equal values, with floats compared by bits (so -0.0 differs from 0.0, and a
/// NaN equals the same NaN): the equality the differential test and the fuzz
/// target hold [`decode_value_fast`] to. Hidden for the same reason.
#[doc(hidden)]
pub fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_value(x, y))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k, v), (l, w))| same_value(k, l) && same_value(v, w))
        }
        (Value::Tag(t, x), Value::Tag(u, y)) => t == u && same_value(x, y),
        _ => a == b,
    }
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: u64) -> Option<&'a [u8]> {
        let (head, rest) = self.rest.split_at_checked(usize::try_from(len).ok()?)?;
        self.rest = rest;
        Some(head)
    }

    fn fixed<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.rest.split_first_chunk::<N>()?;
        self.rest = rest;
        Some(*head)
    }

    /// The head's argument; `None` for indefinite lengths and reserved values.
    fn argument(&mut self, info: u8) -> Option<u64> {
        Some(match info {
            0..=23 => u64::from(info),
            24 => u64::from(u8::from_be_bytes(self.fixed()?)),
            25 => u64::from(u16::from_be_bytes(self.fixed()?)),
            26 => u64::from(u32::from_be_bytes(self.fixed()?)),
            27 => u64::from_be_bytes(self.fixed()?),
            _ => return None,
        })
    }

    /// One item, nesting at most `depth` more containers.
    fn item(&mut self, depth: usize) -> Option<Value> {
        let [initial] = self.fixed()?;
        let (major, info) = (initial >> 5, initial & 0x1f);
        if major == 7 {
            return self.simple_or_float(info);
        }
        let argument = self.argument(info)?;
        match major {
            0 => Some(Value::Integer(argument.into())),
            // The argument n encodes -1 - n, always within Integer's range.
            1 => Integer::try_from(-1 - i128::from(argument))
                .ok()
                .map(Value::Integer),
            2 => Some(Value::Bytes(self.take(argument)?.to_vec())),
            3 => {
                let text = std::str::from_utf8(self.take(argument)?).ok()?;
                Some(Value::Text(text.to_owned()))
            }
            4 => {
                let depth = depth.checked_sub(1)?;
                let count = usize::try_from(argument).ok()?;
                let mut items = Vec::with_capacity(count.min(MAX_RESERVE));
                // Each item takes at least one byte, so a false count ends at the
                // end of the input.
                for _ in 0..count {
                    items.push(self.item(depth)?);
                }
                Some(Value::Array(items))
            }
            5 => {
                let depth = depth.checked_sub(1)?;
                let count = usize::try_from(argument).ok()?;
                let mut entries = Vec::with_capacity(count.min(MAX_RESERVE));
                for _ in 0..count {
                    let key = self.item(depth)?;
                    entries.push((key, self.item(depth)?));
                }
                Some(Value::Map(entries))
            }
            // ciborium reads tags 2 and 3 over short byte strings as integers.
            6 if matches!(argument, 2 | 3) => None,
            6 => {
                let inner = self.item(depth.checked_sub(1)?)?;
                Some(Value::Tag(argument, Box::new(inner)))
            }
            _ => None,
        }
    }

    fn simple_or_float(&mut self, info: u8) -> Option<Value> {
        match info {
            20 => Some(Value::Bool(false)),
            21 => Some(Value::Bool(true)),
            // ciborium reads undefined as serde's `None`, like null.
            22 | 23 => Some(Value::Null),
            25 => half_to_f64(u16::from_be_bytes(self.fixed()?)).map(Value::Float),
            26 => {
                // As for halves, a NaN's widened payload is left to ciborium.
                let single = f32::from_be_bytes(self.fixed()?);
                (!single.is_nan()).then(|| Value::Float(f64::from(single)))
            }
            27 => Some(Value::Float(f64::from_be_bytes(self.fixed()?))),
            _ => None,
        }
    }
}

/// Widens an IEEE half exactly; `None` for NaN, whose payload and quiet bit
/// ciborium's `half` crate sets differently with and without F16C.
fn half_to_f64(bits: u16) -> Option<f64> {
    let exponent = (bits >> 10) & 0x1f;
    let mantissa = u64::from(bits & 0x3ff);
    let magnitude = match exponent {
        // Subnormal: mantissa × 2^-24; dividing by a power of two is exact.
        0 => f64::from(bits & 0x3ff) / 16_777_216.0,
        0x1f if mantissa == 0 => f64::INFINITY,
        0x1f => return None,
        // Normal: rebias the exponent (15 → 1023) and left-align the mantissa.
        _ => f64::from_bits(((u64::from(exponent) + 1008) << 52) | (mantissa << 42)),
    };
    Some(if bits & 0x8000 == 0 {
        magnitude
    } else {
        -magnitude
    })
}
