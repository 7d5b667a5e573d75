//! Decisions as `CheckResponse`s: `OK` with headers for the upstream, or a
//! denial carrying the HTTP gateway's exact deny response.

use envoy_types::pb::envoy::config::core::v3::header_value_option::HeaderAppendAction;
use envoy_types::pb::envoy::config::core::v3::{HeaderValue, HeaderValueOption};
use envoy_types::pb::envoy::r#type::v3::HttpStatus;
use envoy_types::pb::envoy::service::auth::v3::check_response::HttpResponse;
use envoy_types::pb::envoy::service::auth::v3::{
    CheckResponse, DeniedHttpResponse, OkHttpResponse,
};
use envoy_types::pb::google::rpc::Status;
use http_body_util::BodyExt;

use super::{TOOL_HEADER, WARRANT_ID_HEADER};
use crate::deny::{Denial, DenyReason};
use crate::engine::{AuthzContext, RequestAuthorizer};

/// `google.rpc.Code.OK`.
const OK: i32 = 0;
/// `google.rpc.Code.PERMISSION_DENIED`.
const PERMISSION_DENIED: i32 = 7;
/// `google.rpc.Code.UNAUTHENTICATED`.
const UNAUTHENTICATED: i32 = 16;

/// Allowed: `OK`, with the warrant id and tool set for the upstream (or, with
/// `upstream_headers` off, removed so a client cannot forge them).
pub(super) fn allowed(context: &AuthzContext, upstream_headers: bool) -> CheckResponse {
    let mut ok = OkHttpResponse::default();
    if upstream_headers {
        let warrant_id = context.warrant_id.to_string();
        for (name, value) in [
            (WARRANT_ID_HEADER, warrant_id.as_str()),
            (TOOL_HEADER, context.tool.as_str()),
        ] {
            if http::HeaderValue::from_str(value).is_ok() {
                ok.headers.push(header(name, value));
            } else {
                ok.headers_to_remove.push(name.to_owned());
            }
        }
    } else {
        ok.headers_to_remove = vec![WARRANT_ID_HEADER.to_owned(), TOOL_HEADER.to_owned()];
    }
    CheckResponse {
        status: Some(Status {
            code: OK,
            message: String::new(),
            details: Vec::new(),
        }),
        http_response: Some(HttpResponse::OkResponse(ok)),
        dynamic_metadata: None,
    }
}

/// Denied: `UNAUTHENTICATED` for a missing or undecodable warrant, otherwise
/// `PERMISSION_DENIED`; the HTTP status, headers and JSON body are the HTTP
/// gateway's. `note` (if any) replaces the gRPC status message, which is the
/// deny reason otherwise; it never reaches the client.
pub(super) async fn denied(
    decider: &RequestAuthorizer,
    denial: &Denial,
    request_id: &str,
    note: &str,
) -> CheckResponse {
    let reason = denial.reason();
    let (parts, body) = decider.deny_response(denial, request_id).into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(never) => match never {},
    };
    let headers = parts
        .headers
        .iter()
        .filter_map(|(name, value)| Some(header(name.as_str(), value.to_str().ok()?)))
        .collect();
    let code = match reason {
        DenyReason::MissingWarrant | DenyReason::InvalidWarrant => UNAUTHENTICATED,
        _ => PERMISSION_DENIED,
    };
    let message = if note.is_empty() {
        reason.as_str().to_owned()
    } else {
        format!("{}: {note}", reason.as_str())
    };
    CheckResponse {
        status: Some(Status {
            code,
            message,
            details: Vec::new(),
        }),
        http_response: Some(HttpResponse::DeniedResponse(DeniedHttpResponse {
            status: Some(HttpStatus {
                code: i32::from(parts.status.as_u16()),
            }),
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        })),
        dynamic_metadata: None,
    }
}

/// A header that replaces any value of the same name.
fn header(name: &str, value: &str) -> HeaderValueOption {
    #[allow(deprecated)] // `append` is deprecated; left unset, `append_action` rules.
    HeaderValueOption {
        header: Some(HeaderValue {
            key: name.to_owned(),
            value: value.to_owned(),
            raw_value: Vec::new(),
        }),
        append: None,
        append_action: HeaderAppendAction::OverwriteIfExistsOrAdd.into(),
        keep_empty_value: false,
    }
}
