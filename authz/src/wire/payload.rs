//! The payload map (integer keys 0..=18): decoding from signed bytes, and the
//! encoding minted warrants are signed over.
//!
//! The encoding is the one the reference SDKs produce, key for key, so warrants
//! minted here are byte-identical to theirs for the same fields.

// Errors are built only when returned (`ok_or_else`), though clippy finds them
// cheap: an eagerly built `DecodeError` is dropped on every success, and its drop
// glue is a call whenever the optimizer does not inline this hot loop.
#![allow(clippy::unnecessary_lazy_evaluations)]

use std::collections::BTreeMap;

use ciborium::Value;

use super::value::{array, byte_list, is_absent, map, text, uint, untag};
use super::{DecodeError, FieldProblem, ED25519_ALG, MAX_CBOR_NESTING};
use crate::constraint::ConstraintSet;
use crate::crypto::recent_keys;
use crate::crypto::{KeyError, PublicKey};
use crate::warrant::{Payload, WarrantId, WarrantType};

/// Extension key that carries the session id.
const EXT_SESSION_ID: &str = "tenuo.session_id";
/// Extension key that carries the agent id.
const EXT_AGENT_ID: &str = "tenuo.agent_id";

/// Field names for error messages, by wire key.
const FIELD_NAMES: [&str; 19] = [
    "version",
    "id",
    "warrant_type",
    "tools",
    "holder",
    "issuer",
    "issued_at",
    "expires_at",
    "max_depth",
    "parent_hash",
    "extensions",
    "issuable_tools",
    "(retired key 12)",
    "max_issue_depth",
    "constraint_bounds",
    "required_approvers",
    "min_approvals",
    "clearance",
    "depth",
];

fn field(key: usize, problem: FieldProblem) -> DecodeError {
    DecodeError::Field {
        key: FIELD_NAMES.get(key).copied().unwrap_or("payload"),
        problem,
    }
}

/// Decodes signed payload bytes, then checks the structural rules of v1.
///
/// Only the leading CBOR map is read. Bytes after it are covered by the issuer's
/// signature and by the payload hash a child names, but carry no field, so
/// accepting them (as the reference's decoder does) grants nothing the issuer
/// did not sign.
pub fn decode_payload(bytes: &[u8]) -> Result<Payload, DecodeError> {
    let map_len = super::scan::first_item_len(bytes, MAX_CBOR_NESTING)?;
    let leading = bytes.get(..map_len).ok_or_else(|| DecodeError::Truncated)?;
    let value = super::value::from_bytes(leading)?;
    let entries = map(&value).ok_or_else(|| DecodeError::Field {
        key: "payload",
        problem: FieldProblem::WrongType,
    })?;

    let mut slots: [Option<&Value>; 19] = [None; 19];
    for (key, val) in entries {
        let key: usize = uint(key).ok_or_else(|| DecodeError::Field {
            key: "payload",
            problem: FieldProblem::Unknown,
        })?;
        if key == 12 || key >= slots.len() {
            return Err(DecodeError::Field {
                key: "payload",
                problem: FieldProblem::Unknown,
            });
        }
        if slots[key].replace(val).is_some() {
            return Err(field(key, FieldProblem::Duplicate));
        }
    }
    let required = |key: usize| slots[key].ok_or_else(|| field(key, FieldProblem::Missing));
    // serde reads `Option` fields as absent when the value is null.
    let optional = |key: usize| slots[key].filter(|v| !is_absent(v));
    let wrong = |key: usize| field(key, FieldProblem::WrongType);

    let version: u8 = uint(required(0)?).ok_or_else(|| wrong(0))?;
    if version != 1 {
        return Err(DecodeError::UnsupportedVersion {
            what: "payload",
            version: u64::from(version),
        });
    }
    // The id is read as a byte string only (the reference's visitor takes no arrays).
    let id = match untag(required(1)?) {
        Value::Bytes(b) => <[u8; 16]>::try_from(b.as_slice()).ok().map(WarrantId),
        _ => None,
    }
    .ok_or_else(|| wrong(1))?;
    let warrant_type = uint(required(2)?)
        .and_then(WarrantType::from_wire)
        .ok_or_else(|| wrong(2))?;
    let tools = decode_tools(required(3)?)?;
    let holder = decode_key(required(4)?, "holder")?;
    let issuer = decode_key(required(5)?, "issuer")?;
    let issued_at: u64 = uint(required(6)?).ok_or_else(|| wrong(6))?;
    let expires_at: u64 = uint(required(7)?).ok_or_else(|| wrong(7))?;
    let max_depth: u8 = uint(required(8)?).ok_or_else(|| wrong(8))?;
    let parent_hash = optional(9)
        .map(|v| {
            byte_list(v)
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| wrong(9))
        })
        .transpose()?;
    let mut extensions = match slots[10] {
        None => BTreeMap::new(),
        Some(v) => decode_extensions(v).ok_or_else(|| wrong(10))?,
    };
    let issuable_tools = optional(11)
        .map(|v| {
            array(v)
                .and_then(|items| items.iter().map(|t| text(t).map(str::to_owned)).collect())
                .ok_or_else(|| wrong(11))
        })
        .transpose()?;
    let max_issue_depth = optional(13)
        .map(|v| uint(v).ok_or_else(|| wrong(13)))
        .transpose()?;
    let constraint_bounds = optional(14)
        .map(|v| {
            ConstraintSet::from_cbor(v, 0).map_err(|error| DecodeError::Constraint {
                tool: "constraint_bounds".into(),
                error,
            })
        })
        .transpose()?;
    let required_approvers = optional(15)
        .map(|v| {
            array(v)
                .ok_or_else(|| wrong(15))?
                .iter()
                .map(|k| decode_key(k, "required_approvers"))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let min_approvals = optional(16)
        .map(|v| uint(v).ok_or_else(|| wrong(16)))
        .transpose()?;
    let clearance = optional(17)
        .map(|v| uint(v).ok_or_else(|| wrong(17)))
        .transpose()?;
    let depth = match slots[18] {
        None => 0,
        Some(v) => uint(v).ok_or_else(|| wrong(18))?,
    };

    let mut metadata = |key: &str| -> Result<Option<String>, DecodeError> {
        extensions
            .remove(key)
            .map(|bytes| String::from_utf8(bytes).map_err(|_| wrong(10)))
            .transpose()
    };
    let session_id = metadata(EXT_SESSION_ID)?;
    let agent_id = metadata(EXT_AGENT_ID)?;

    let payload = Payload {
        version,
        id,
        warrant_type,
        tools,
        holder,
        issuer,
        issued_at,
        expires_at,
        max_depth,
        depth,
        parent_hash,
        extensions,
        issuable_tools,
        max_issue_depth,
        constraint_bounds,
        required_approvers,
        min_approvals,
        clearance,
        session_id,
        agent_id,
    };
    payload
        .validate_structure()
        .map_err(DecodeError::Structure)?;
    Ok(payload)
}

fn decode_key(value: &Value, key: &'static str) -> Result<PublicKey, DecodeError> {
    let wrong = DecodeError::Field {
        key,
        problem: FieldProblem::WrongType,
    };
    let parts = array(value).ok_or(wrong.clone())?;
    let [alg, bytes] = parts else {
        return Err(wrong);
    };
    if uint::<u8>(alg) != Some(ED25519_ALG) {
        return Err(wrong);
    }
    let bytes = byte_list(bytes).ok_or(wrong)?;
    let bytes: [u8; 32] = bytes.as_slice().try_into().map_err(|_| DecodeError::Key {
        key,
        error: KeyError::InvalidLength {
            expected: 32,
            actual: bytes.len(),
        },
    })?;
    recent_keys::parse(&bytes).map_err(|error| DecodeError::Key { key, error })
}

fn decode_tools(value: &Value) -> Result<BTreeMap<String, ConstraintSet>, DecodeError> {
    let entries = map(value).ok_or(field(3, FieldProblem::WrongType))?;
    let mut tools = BTreeMap::new();
    for (name, set) in entries {
        let name = text(name).ok_or(field(3, FieldProblem::WrongType))?;
        let set = ConstraintSet::from_cbor(set, 0).map_err(|error| DecodeError::Constraint {
            tool: name.to_owned(),
            error,
        })?;
        // Compatibility: the reference keeps the last of duplicate tool names; a
        // signed payload with duplicates is refused here instead (fail closed).
        if tools.insert(name.to_owned(), set).is_some() {
            return Err(field(3, FieldProblem::Duplicate));
        }
    }
    Ok(tools)
}

fn decode_extensions(value: &Value) -> Option<BTreeMap<String, Vec<u8>>> {
    let mut out = BTreeMap::new();
    for (key, val) in map(value)? {
        if out.insert(text(key)?.to_owned(), byte_list(val)?).is_some() {
            return None;
        }
    }
    Some(out)
}

/// Encodes a payload as the reference SDKs do: keys in ascending order, optional
/// keys omitted when absent, byte lists as arrays of integers, and the session and
/// agent ids folded into the extensions.
pub fn encode_payload(payload: &Payload) -> Vec<u8> {
    let int = |n: u64| Value::Integer(n.into());
    let byte_array =
        |bytes: &[u8]| Value::Array(bytes.iter().map(|b| int(u64::from(*b))).collect());
    let key = |k: &PublicKey| {
        Value::Array(vec![
            int(u64::from(ED25519_ALG)),
            Value::Bytes(k.to_bytes().to_vec()),
        ])
    };

    let mut extensions = payload.extensions.clone();
    if let Some(session) = &payload.session_id {
        extensions.insert(EXT_SESSION_ID.to_owned(), session.as_bytes().to_vec());
    }
    if let Some(agent) = &payload.agent_id {
        extensions.insert(EXT_AGENT_ID.to_owned(), agent.as_bytes().to_vec());
    }

    let mut entries: Vec<(Value, Value)> = vec![
        (int(0), int(u64::from(payload.version))),
        (int(1), Value::Bytes(payload.id.0.to_vec())),
        (int(2), int(u64::from(payload.warrant_type.to_wire()))),
        (
            int(3),
            Value::Map(
                payload
                    .tools
                    .iter()
                    .map(|(name, set)| (Value::Text(name.clone()), set.to_cbor()))
                    .collect(),
            ),
        ),
        (int(4), key(&payload.holder)),
        (int(5), key(&payload.issuer)),
        (int(6), int(payload.issued_at)),
        (int(7), int(payload.expires_at)),
        (int(8), int(u64::from(payload.max_depth))),
    ];
    if let Some(hash) = &payload.parent_hash {
        entries.push((int(9), byte_array(hash)));
    }
    if !extensions.is_empty() {
        entries.push((
            int(10),
            Value::Map(
                extensions
                    .iter()
                    .map(|(k, v)| (Value::Text(k.clone()), byte_array(v)))
                    .collect(),
            ),
        ));
    }
    if let Some(tools) = &payload.issuable_tools {
        entries.push((
            int(11),
            Value::Array(tools.iter().cloned().map(Value::Text).collect()),
        ));
    }
    if let Some(depth) = payload.max_issue_depth {
        entries.push((int(13), int(u64::from(depth))));
    }
    if let Some(bounds) = &payload.constraint_bounds {
        entries.push((int(14), bounds.to_cbor()));
    }
    if let Some(approvers) = &payload.required_approvers {
        entries.push((int(15), Value::Array(approvers.iter().map(key).collect())));
    }
    if let Some(min) = payload.min_approvals {
        entries.push((int(16), int(u64::from(min))));
    }
    if let Some(clearance) = payload.clearance {
        entries.push((int(17), int(u64::from(clearance))));
    }
    entries.push((int(18), int(u64::from(payload.depth))));
    super::value::to_bytes(&Value::Map(entries))
}
