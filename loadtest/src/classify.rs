//! From an HTTP response to a decision: allow, deny with a `docs/reference.md` §2 reason,
//! or an error. Our authorizer names the reason in `reason`; the reference
//! (`tenuo` 0.3.5) names its error code in `error`, which is mapped here onto
//! the same vocabulary so both sides of a comparison count alike.

/// What a response said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx.
    Allow,
    /// 400/401/403 with a deny body; the reason in `docs/reference.md` §2 vocabulary when known.
    Deny(String),
    /// Anything else: transport failure, timeout, 404 (no route), 5xx.
    Error(String),
}

/// Classifies a response by status and body.
pub fn classify(status: u16, body: &[u8]) -> Outcome {
    match status {
        200..=299 => Outcome::Allow,
        400 | 401 | 403 => Outcome::Deny(deny_reason(body).unwrap_or_else(|| match status {
            401 => "missing_warrant".to_owned(),
            400 => "invalid_warrant".to_owned(),
            _ => "unknown".to_owned(),
        })),
        _ => Outcome::Error(format!("http_{status}")),
    }
}

fn deny_reason(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    if let Some(reason) = value.get("reason").and_then(|r| r.as_str()) {
        return Some(reason.to_owned());
    }
    let error = value.get("error").and_then(|e| e.as_str())?;
    Some(map_reference_error(error).to_owned())
}

/// Maps an error name of the reference authorizer onto `docs/reference.md` §2; names
/// without a counterpart are kept as they are.
pub fn map_reference_error(name: &str) -> &str {
    match name {
        "missing_warrant" => "missing_warrant",
        "invalid_warrant"
        | "invalid_header"
        | "malformed-cbor"
        | "invalid-envelope-structure"
        | "invalid-payload-structure"
        | "unknown-payload-field"
        | "missing-required-field"
        | "warrant-too-large"
        | "chain-too-large"
        | "unsupported-envelope-version"
        | "unsupported-payload-version"
        | "invalid-key-length"
        | "invalid-signature-length" => "invalid_warrant",
        "signature-invalid" => "signature_invalid",
        "untrusted-root" => "untrusted_issuer",
        "invalid-issuer"
        | "parent-hash-mismatch"
        | "depth-exceeded"
        | "depth-violation"
        | "chain-too-long"
        | "chain-broken"
        | "invalid-attenuation"
        | "capability-expansion"
        | "ttl-exceeded" => "chain_invalid",
        "warrant-expired" | "warrant-not-yet-valid" | "issued-in-future" => "warrant_expired",
        "warrant-revoked" => "warrant_revoked",
        "tool-not-authorized" => "tool_not_in_warrant",
        "constraint-violation" => "constraint_violation",
        "pop-signature-invalid" | "pop-expired" | "pop-challenge-invalid" => "invalid_pop",
        "approval-required"
        | "insufficient-approvals"
        | "approval-invalid"
        | "approver-not-authorized"
        | "approval-expired"
        | "unsupported-approval-version"
        | "approval-payload-invalid"
        | "approval-request-hash-mismatch"
        | "invalid_approvals_header" => "approval_required",
        "unsupported-algorithm" | "unknown-constraint-type" | "signature-algorithm-mismatch" => {
            "unsupported"
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ours_and_reference_bodies() {
        assert_eq!(classify(200, b"{}"), Outcome::Allow);
        let ours = br#"{"authorized":false,"reason":"invalid_pop","message":"x","request_id":"r"}"#;
        assert_eq!(classify(403, ours), Outcome::Deny("invalid_pop".into()));
        let theirs = br#"{"authorized":false,"error":"untrusted-root","error_code":1}"#;
        assert_eq!(
            classify(403, theirs),
            Outcome::Deny("untrusted_issuer".into())
        );
        assert_eq!(classify(401, b""), Outcome::Deny("missing_warrant".into()));
        assert_eq!(classify(503, b""), Outcome::Error("http_503".into()));
    }
}
