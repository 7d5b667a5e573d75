//! The request hash: what an approval is signed over, binding it to one call.
//!
//! ```text
//! SHA-256( CBOR([ "tnu_wrt_" + hex(id), tool, bstr(CBOR({name: value, ...})), bstr(holder) ]) )
//! ```
//!
//! Arguments are a CBOR map sorted by name, each value in its wire form (a float
//! stays a float), wrapped as a byte string so no field can bleed into the next.
//! The holder's key is in it, so an approval for one agent is useless to another.

use ciborium::Value;
use sha2::Digest;

use crate::crypto::PublicKey;
use crate::pop::Args;
use crate::warrant::WarrantId;

/// The request hash of `tool(args)` on the warrant `id` held by `holder`.
pub fn request_hash(id: &WarrantId, tool: &str, args: &Args, holder: &PublicKey) -> [u8; 32] {
    let map = Value::Map(
        args.iter()
            .map(|(name, value)| (Value::Text(name.clone()), value.to_cbor()))
            .collect(),
    );
    let tuple = Value::Array(vec![
        Value::Text(id.to_string()),
        Value::Text(tool.to_owned()),
        Value::Bytes(cbor(&map)),
        Value::Bytes(holder.to_bytes().to_vec()),
    ]);
    sha2::Sha256::digest(cbor(&tuple)).into()
}

fn cbor(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing a Value into a Vec cannot fail.
    let _ = ciborium::ser::into_writer(value, &mut out);
    out
}
