//! Proof of possession: the holder's signature over one tool call in one time window.
//!
//! ```text
//! message   = "tenuo-warrant-v1" || "tenuo-pop-v1" || CBOR([id_hex, tool, [[k, v], ...], window_ts])
//! window_ts = (unix_secs / window_secs) * window_secs        ; arguments sorted by key
//! ```
//!
//! A verifier accepts the current window and the ones around it: with the defaults
//! (30-second windows, 5 windows) that is the windows at offsets 0, -1, +1, -2, +2,
//! about ±60 s of clock skew, the same as the reference.

use std::collections::BTreeMap;

use ciborium::Value;

use crate::constraint::ArgValue;
use crate::crypto::{PublicKey, Signature, SigningKey};
use crate::warrant::{WarrantId, WARRANT_CONTEXT};

/// Domain separation prefix of PoP challenges (after [`WARRANT_CONTEXT`]).
pub const POP_CONTEXT: &[u8] = b"tenuo-pop-v1";
/// Default window length, in seconds.
pub const DEFAULT_POP_WINDOW_SECS: i64 = 30;
/// Default number of windows a verifier tries.
pub const DEFAULT_POP_MAX_WINDOWS: u32 = 5;

/// Tool-call arguments, sorted by name.
pub type Args = BTreeMap<String, ArgValue>;

/// How PoP timestamps are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PopWindows {
    /// Window length in seconds; must be positive.
    pub window_secs: i64,
    /// Windows tried, alternating around the current one (0, -1, +1, -2, +2, ...).
    pub max_windows: u32,
}

impl Default for PopWindows {
    fn default() -> Self {
        Self {
            window_secs: DEFAULT_POP_WINDOW_SECS,
            max_windows: DEFAULT_POP_MAX_WINDOWS,
        }
    }
}

/// Why a PoP was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PopError {
    /// No PoP signature was supplied.
    #[error("no proof-of-possession signature")]
    Missing,
    /// The signature verifies for none of the accepted windows.
    #[error("proof-of-possession does not verify for the holder, tool, arguments and time")]
    Invalid,
    /// The window configuration is unusable.
    #[error("PoP window length must be positive")]
    BadWindow,
}

/// The exact message a holder signs for `tool(args)` at `window_ts`.
pub fn pop_message(id: &WarrantId, tool: &str, args: &Args, window_ts: i64) -> Vec<u8> {
    PopChallenge::new(id, tool, args).message(window_ts)
}

/// The part of a PoP challenge that every window shares.
///
/// The window is the last element of the challenge array, so each candidate
/// message is this prefix followed by the window's CBOR integer. A verifier
/// trying several windows encodes the id, tool and arguments once instead of once
/// per window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PopChallenge {
    prefix: Vec<u8>,
}

impl PopChallenge {
    /// The challenge of `tool(args)` on the warrant `id`.
    pub fn new(id: &WarrantId, tool: &str, args: &Args) -> Self {
        let sorted_args = Value::Array(
            args.iter()
                .map(|(name, value)| Value::Array(vec![Value::Text(name.clone()), value.to_cbor()]))
                .collect(),
        );
        let mut prefix = Vec::with_capacity(128);
        prefix.extend_from_slice(WARRANT_CONTEXT);
        prefix.extend_from_slice(POP_CONTEXT);
        // A definite array of four items: the head, then the items in order.
        prefix.push(0x84);
        for item in [
            Value::Text(id.to_hex()),
            Value::Text(tool.to_owned()),
            sorted_args,
        ] {
            // Serializing a Value into a Vec cannot fail.
            let _ = ciborium::ser::into_writer(&item, &mut prefix);
        }
        Self { prefix }
    }

    /// The message signed for the window starting at `window_ts`.
    pub fn message(&self, window_ts: i64) -> Vec<u8> {
        let mut message = Vec::with_capacity(self.prefix.len() + 9);
        message.extend_from_slice(&self.prefix);
        let _ = ciborium::ser::into_writer(&Value::Integer(window_ts.into()), &mut message);
        message
    }
}

/// Signs a PoP for `tool(args)` at `now` (Unix seconds), in the default window size.
pub fn sign_pop(
    holder: &SigningKey,
    id: &WarrantId,
    tool: &str,
    args: &Args,
    now: i64,
) -> Signature {
    let window_ts = floor_window(now, DEFAULT_POP_WINDOW_SECS);
    holder.sign(&pop_message(id, tool, args, window_ts))
}

/// The window start for `now`, as the reference computes it (truncating division).
fn floor_window(now: i64, window_secs: i64) -> i64 {
    (now / window_secs) * window_secs
}

/// The window starts a verifier tries at `now`, in order.
pub fn candidate_windows(now: i64, windows: PopWindows) -> Result<Vec<i64>, PopError> {
    if windows.window_secs <= 0 {
        return Err(PopError::BadWindow);
    }
    let half = i64::from(windows.max_windows / 2);
    let base = now / windows.window_secs;
    Ok((0..windows.max_windows)
        .map(|i| {
            let distance = i64::from(i.div_ceil(2));
            if i % 2 == 1 {
                -distance
            } else {
                distance
            }
        })
        .filter(|offset| offset.abs() <= half)
        .map(|offset| {
            base.saturating_add(offset)
                .saturating_mul(windows.window_secs)
        })
        .collect())
}

/// Verifies a PoP: some accepted window's message verifies (`verify_strict`) under
/// the holder's key.
pub fn verify_pop(
    holder: &PublicKey,
    id: &WarrantId,
    tool: &str,
    args: &Args,
    signature: Option<&Signature>,
    now: i64,
    windows: PopWindows,
) -> Result<(), PopError> {
    let signature = signature.ok_or(PopError::Missing)?;
    let challenge = PopChallenge::new(id, tool, args);
    let messages = candidate_windows(now, windows)?
        .into_iter()
        .map(|window_ts| challenge.message(window_ts));
    holder
        .verify_strict_any(signature, messages)
        .map(|_| ())
        .map_err(|_| PopError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call() -> (SigningKey, WarrantId, Args) {
        let key = SigningKey::from_bytes(&[1; 32]);
        let mut args = Args::new();
        args.insert("path".into(), ArgValue::String("/data/a".into()));
        (key, WarrantId([9; 16]), args)
    }

    /// The challenge encoded in one piece, as the reference does.
    fn whole_challenge(id: &WarrantId, tool: &str, args: &Args, window_ts: i64) -> Vec<u8> {
        let sorted_args = args
            .iter()
            .map(|(name, value)| Value::Array(vec![Value::Text(name.clone()), value.to_cbor()]))
            .collect();
        let challenge = Value::Array(vec![
            Value::Text(id.to_hex()),
            Value::Text(tool.to_owned()),
            Value::Array(sorted_args),
            Value::Integer(window_ts.into()),
        ]);
        let mut message = [WARRANT_CONTEXT, POP_CONTEXT].concat();
        ciborium::ser::into_writer(&challenge, &mut message).unwrap();
        message
    }

    #[test]
    fn prefix_and_window_encode_the_whole_challenge() {
        let (_, id, mut args) = call();
        args.insert("n".into(), ArgValue::Integer(-7));
        args.insert("tags".into(), ArgValue::List(vec![ArgValue::Bool(true)]));
        let challenge = PopChallenge::new(&id, "read", &args);
        for window_ts in [
            0,
            23,
            24,
            255,
            256,
            65_536,
            1_800_000_000,
            -1,
            -25,
            i64::MIN,
            i64::MAX,
        ] {
            assert_eq!(
                challenge.message(window_ts),
                whole_challenge(&id, "read", &args, window_ts),
                "window {window_ts}"
            );
        }
        assert_eq!(
            PopChallenge::new(&id, "read", &Args::new()).message(990),
            whole_challenge(&id, "read", &Args::new(), 990)
        );
    }

    #[test]
    fn default_windows_cover_sixty_seconds_each_way() {
        assert_eq!(
            candidate_windows(1000, PopWindows::default()).unwrap(),
            vec![990, 960, 1020, 930, 1050]
        );
        let four = PopWindows {
            window_secs: 30,
            max_windows: 4,
        };
        assert_eq!(
            candidate_windows(1000, four).unwrap(),
            vec![990, 960, 1020, 930]
        );
        let zero = PopWindows {
            window_secs: 0,
            max_windows: 4,
        };
        assert_eq!(candidate_windows(1000, zero), Err(PopError::BadWindow));
    }

    #[test]
    fn pop_binds_tool_args_holder_and_time() {
        let (key, id, args) = call();
        let sig = sign_pop(&key, &id, "read", &args, 1000);
        let holder = key.public_key();
        let w = PopWindows::default();
        assert_eq!(
            verify_pop(&holder, &id, "read", &args, Some(&sig), 1000, w),
            Ok(())
        );
        assert_eq!(
            verify_pop(&holder, &id, "read", &args, Some(&sig), 1060, w),
            Ok(())
        );
        assert_eq!(
            verify_pop(&holder, &id, "read", &args, Some(&sig), 1100, w),
            Err(PopError::Invalid)
        );
        assert_eq!(
            verify_pop(&holder, &id, "write", &args, Some(&sig), 1000, w),
            Err(PopError::Invalid)
        );
        let mut other = args.clone();
        other.insert("path".into(), ArgValue::String("/etc".into()));
        assert_eq!(
            verify_pop(&holder, &id, "read", &other, Some(&sig), 1000, w),
            Err(PopError::Invalid)
        );
        let stranger = SigningKey::from_bytes(&[2; 32]).public_key();
        assert_eq!(
            verify_pop(&stranger, &id, "read", &args, Some(&sig), 1000, w),
            Err(PopError::Invalid)
        );
        assert_eq!(
            verify_pop(&holder, &id, "read", &args, None, 1000, w),
            Err(PopError::Missing)
        );
    }
}
