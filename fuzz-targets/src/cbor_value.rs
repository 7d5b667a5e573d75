//! Target `cbor_value`: the fast CBOR decoder payloads are read with
//! (`tenuo_authz::wire::decode_value_fast`) against ciborium, which it stands in for.
//!
//! Input: any bytes, read as one CBOR item.
//! Invariant: wherever the fast decoder answers, ciborium accepts the same bytes
//! and builds the same `Value`, floats compared by bits. Where it declines, the
//! crate decodes with ciborium, so the two decoders never disagree.

use ciborium::Value;
use tenuo_authz::wire::{decode_value_fast, same_value as same};

/// Runs one input.
pub fn run(data: &[u8]) {
    let Some(ours) = decode_value_fast(data) else {
        return;
    };
    match ciborium::de::from_reader::<Value, _>(data) {
        Ok(theirs) => assert!(
            same(&ours, &theirs),
            "fast decoder built {ours:?}, ciborium {theirs:?}"
        ),
        Err(e) => panic!("fast decoder built {ours:?}, ciborium refused: {e:?}"),
    }
}
