//! Answers nginx `auth_request` subrequests can read. nginx understands only 2xx
//! (allow), 401 and 403 (deny) from an auth subrequest and turns anything else
//! into a 500 for its client; so for a subrequest (one carrying `X-Original-URI`,
//! or every request when the server is set up for nginx) a 400 or a 503 is
//! answered 403, with the status it would have had in `X-Tenuo-Status`. An nginx
//! `error_page 403` can read that header (`auth_request_set`) and give its client
//! the real status (`docs/examples/nginx-auth-request.conf`).
//!
//! It also owns the load-time check of the gateway config for that mode: an nginx
//! subrequest has no body (`proxy_pass_request_body off`), so a route that reads
//! its arguments from the body would never see them.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use crate::gateway::{CompiledGateway, ExtractionSource};

/// The header carrying the status a subrequest's answer was narrowed from.
pub(crate) const STATUS_HEADER: &str = "x-tenuo-status";

/// Whether a request is an nginx auth subrequest.
fn is_subrequest(headers: &HeaderMap, every_request: bool) -> bool {
    every_request || headers.contains_key("x-original-uri")
}

/// The middleware: narrows the answer to a subrequest (see the module docs).
/// `every_request` is the server's `--auth-request` setting.
pub(crate) async fn narrow_statuses(
    State(every_request): State<bool>,
    request: Request,
    next: Next,
) -> Response {
    let subrequest = is_subrequest(request.headers(), every_request);
    let mut response = next.run(request).await;
    if subrequest {
        narrow(&mut response);
    }
    response
}

/// 2xx, 401 and 403 stay; anything else becomes 403 with [`STATUS_HEADER`].
fn narrow(response: &mut Response) {
    let status = response.status();
    if status.is_success() || status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN
    {
        return;
    }
    *response.status_mut() = StatusCode::FORBIDDEN;
    response
        .headers_mut()
        .insert(STATUS_HEADER, HeaderValue::from(status.as_u16()));
}

/// Logs a `config_warning` for every route that reads arguments from the body,
/// which an nginx subrequest does not carry.
pub(crate) fn warn_about_body_routes(gateway: &CompiledGateway) {
    for route in gateway.routes() {
        let body_arguments: Vec<&str> = route
            .rules()
            .iter()
            .filter(|rule| rule.source() == ExtractionSource::Body)
            .map(|rule| rule.name())
            .collect();
        if !body_arguments.is_empty() {
            tracing::warn!(
                event = "config_warning",
                route = route.pattern(),
                tool = route.tool(),
                arguments = body_arguments.join(","),
                message = "this route reads arguments from the request body, but nginx auth_request subrequests carry none (proxy_pass_request_body off): they will be missing"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::IntoResponse;

    fn narrowed(status: StatusCode) -> Response {
        let mut response = status.into_response();
        narrow(&mut response);
        response
    }

    #[test]
    fn nginx_statuses_pass_and_the_rest_become_403_with_the_original() {
        for kept in [
            StatusCode::OK,
            StatusCode::NO_CONTENT,
            StatusCode::UNAUTHORIZED,
            StatusCode::FORBIDDEN,
        ] {
            let response = narrowed(kept);
            assert_eq!(response.status(), kept);
            assert!(response.headers().get(STATUS_HEADER).is_none());
        }
        for (from, text) in [
            (StatusCode::BAD_REQUEST, "400"),
            (StatusCode::SERVICE_UNAVAILABLE, "503"),
            (StatusCode::PAYLOAD_TOO_LARGE, "413"),
            (StatusCode::INTERNAL_SERVER_ERROR, "500"),
        ] {
            let response = narrowed(from);
            assert_eq!(response.status(), StatusCode::FORBIDDEN);
            assert_eq!(response.headers()[STATUS_HEADER], text);
        }
    }

    #[test]
    fn a_subrequest_is_one_with_the_original_uri_or_any_in_nginx_mode() {
        let mut headers = HeaderMap::new();
        assert!(!is_subrequest(&headers, false));
        assert!(is_subrequest(&headers, true));
        headers.insert("x-original-uri", HeaderValue::from_static("/api/x"));
        assert!(is_subrequest(&headers, false));
    }
}
