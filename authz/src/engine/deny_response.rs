//! The denial as HTTP (`docs/reference.md` §2) and as a log line (§3).

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::Full;

use crate::approval::ApprovalDenial;
use crate::deny::{Denial, DenyReason};

/// Header carrying `reason: detail` in debug mode.
pub const DENY_REASON_HEADER: &str = "x-tenuo-deny-reason";

/// 401 for a missing warrant, 400 for an undecodable one, 403 otherwise.
/// (Approvals that cannot be decoded are 400 as well: see [`denial_status`].)
pub fn deny_status(reason: DenyReason) -> StatusCode {
    match reason {
        DenyReason::MissingWarrant => StatusCode::UNAUTHORIZED,
        DenyReason::InvalidWarrant => StatusCode::BAD_REQUEST,
        _ => StatusCode::FORBIDDEN,
    }
}

/// The status of a denial: [`deny_status`] of its reason, with the reference's
/// statuses for two approval cases: approvals the request carried that cannot be
/// decoded are a malformed request (400) though their reason is
/// `approval_required`, and a malformed gate map, found once the warrant has
/// decoded and been verified, is refused 403 though its reason is
/// `invalid_warrant`.
pub fn denial_status(denial: &Denial) -> StatusCode {
    match denial {
        Denial::Approval(ApprovalDenial::Undecodable(_)) => StatusCode::BAD_REQUEST,
        Denial::Approval(ApprovalDenial::Gate(_)) => StatusCode::FORBIDDEN,
        other => deny_status(other.reason()),
    }
}

/// The deny response: `{"authorized":false,"reason","message","request_id"}`, and
/// with `debug` the `X-Tenuo-Deny-Reason` header. The message names the reason
/// only, unless `debug` is on: details can reveal policy to a caller.
///
/// A call short of approvals also carries what a client needs to fetch them,
/// as the reference's body does: `request_hash` (hex, what approvers sign),
/// `required_approvals`, `received_approvals` (valid ones) and
/// `required_approvers` (hex keys).
pub fn deny_response(denial: &Denial, request_id: &str, debug: bool) -> Response<Full<Bytes>> {
    let reason = denial.reason();
    let message = if debug {
        denial.to_string()
    } else {
        public_message(reason).to_owned()
    };
    let mut body = serde_json::json!({
        "authorized": false,
        "reason": reason.as_str(),
        "message": message,
        "request_id": request_id,
    });
    if let (Some(shortfall), Some(fields)) = (denial.approval_shortfall(), body.as_object_mut()) {
        let approvers: Vec<String> = shortfall.approvers.iter().map(|k| k.to_hex()).collect();
        fields.insert(
            "request_hash".into(),
            hex::encode(shortfall.request_hash).into(),
        );
        fields.insert("required_approvals".into(), shortfall.required.into());
        fields.insert("received_approvals".into(), shortfall.received.into());
        fields.insert("required_approvers".into(), approvers.into());
    }
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = denial_status(denial);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if debug {
        if let Ok(value) = HeaderValue::from_str(&sanitize(&denial.debug_header())) {
            headers.insert(DENY_REASON_HEADER, value);
        }
    }
    response
}

/// Longest text a denial line copies from the request (tool, argument value,
/// detail); longer text is cut and ends with `…`. Callers choose these, and
/// one megabyte tool name must not become one megabyte of log.
pub const MAX_LOGGED_FIELD_BYTES: usize = 512;

/// Emits the §3 denial line through `tracing` (at `warn`). Never logs a token,
/// signature or key: only ids, the tool and the argument at fault.
pub fn log_denial(denial: &Denial, tool: Option<&str>, request_id: &str) {
    let violation = denial.violation();
    let shortfall = denial.approval_shortfall();
    tracing::warn!(
        event = "authorization_denied",
        reason = denial.reason().as_str(),
        tool = &*clipped(tool.unwrap_or("")),
        constraint = violation.map(|v| clipped(&v.argument)).as_deref(),
        expected = violation.map(|v| clipped(&v.expected)).as_deref(),
        actual = violation
            .and_then(|v| v.actual.as_deref())
            .map(clipped)
            .as_deref(),
        warrant_id = warrant_id(denial).as_deref(),
        // What a gated call lacked: the hash approvers sign, and the counts.
        request_hash = shortfall.map(|s| hex::encode(s.request_hash)),
        required_approvals = shortfall.map(|s| s.required),
        received_approvals = shortfall.map(|s| s.received),
        request_id,
        detail = &*clipped(&denial.to_string()),
    );
}

/// `text`, or its first [`MAX_LOGGED_FIELD_BYTES`] (on a character boundary)
/// and `…`.
fn clipped(text: &str) -> std::borrow::Cow<'_, str> {
    if text.len() <= MAX_LOGGED_FIELD_BYTES {
        return text.into();
    }
    let mut end = MAX_LOGGED_FIELD_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end]).into()
}

fn warrant_id(denial: &Denial) -> Option<String> {
    use crate::deny::TimeError;
    match denial {
        Denial::Revoked(id)
        | Denial::ToolNotInWarrant { id, .. }
        | Denial::SignatureInvalid { id, .. }
        | Denial::Constraint { id, .. } => Some(id.to_string()),
        Denial::Expired(TimeError::Expired { id, .. } | TimeError::NotYetValid { id, .. }) => {
            Some(id.to_string())
        }
        _ => None,
    }
}

fn public_message(reason: DenyReason) -> &'static str {
    match reason {
        DenyReason::MissingWarrant => "no warrant presented",
        DenyReason::InvalidWarrant => "the warrant could not be decoded",
        DenyReason::UntrustedIssuer => "the warrant's root issuer is not trusted",
        DenyReason::SignatureInvalid => "a warrant signature does not verify",
        DenyReason::ChainInvalid => "the delegation chain is invalid",
        DenyReason::WarrantExpired => "the warrant is expired or not yet valid",
        DenyReason::WarrantRevoked => "the warrant is revoked",
        DenyReason::ToolNotInWarrant => "the warrant does not grant this tool",
        DenyReason::ConstraintViolation => "an argument is outside the warrant's constraints",
        DenyReason::MissingPop => "no proof of possession",
        DenyReason::InvalidPop => "the proof of possession does not verify",
        DenyReason::ApprovalRequired => "the call needs approvals it does not carry",
        _ => "this warrant uses a feature the authorizer does not support",
    }
}

/// Header values must be visible ASCII; argument values may not be.
fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| if (' '..='~').contains(&c) { c } else { '?' })
        .take(1024)
        .collect()
}
