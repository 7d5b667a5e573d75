//! A `CheckRequest`'s HTTP attributes as the request head and body the HTTP
//! gateway would have seen.
//!
//! - method and path (ext_authz's `path` is the request target: path and query);
//! - headers from `header_map` when Envoy sends raw headers (`encode_raw_headers`),
//!   else from the `headers` map; invalid names (such as the `:authority`
//!   pseudo-headers) and values are skipped; more than [`MAX_HEADERS`] is a denial;
//! - the request id header from `id`, and `host` from `host`, when absent;
//! - the body from `raw_body` (`pack_as_bytes`), else `body`.

use std::str::FromStr;

use envoy_types::pb::envoy::service::auth::v3::attribute_context::HttpRequest;
use http::header::{HeaderName, HeaderValue, HOST};
use http::request::Parts;
use http::{HeaderMap, Method, Uri, Version};

use crate::deny::{Denial, ExtractError};
use crate::engine::AuthzConfig;

/// Most headers read from one request (Envoy's own default limit is 100).
pub(super) const MAX_HEADERS: usize = 1024;
/// Set by Envoy when it sent only the first `max_request_bytes` of the body.
const PARTIAL_BODY_HEADER: &str = "x-envoy-auth-partial-body";
/// Longest method or path quoted in a denial.
const MAX_QUOTED: usize = 256;

/// The request head, or (a head with what could be read, and) the denial of a
/// request that cannot be represented: an invalid method or path, too many headers.
pub(super) fn to_parts(
    http: &HttpRequest,
    config: &AuthzConfig,
) -> Result<Parts, Box<(Parts, Denial)>> {
    let (mut parts, ()) = http::Request::new(()).into_parts();
    parts.headers = match headers(http, config) {
        Ok(headers) => headers,
        Err(problem) => return Err(Box::new((parts, Denial::Request(problem)))),
    };
    parts.version = version(&http.protocol);
    let method = Method::from_bytes(http.method.as_bytes()).ok();
    let uri = http
        .path
        .starts_with('/')
        .then(|| Uri::from_str(&http.path).ok())
        .flatten();
    match (method, uri) {
        (Some(method), Some(uri)) => {
            parts.method = method;
            parts.uri = uri;
            Ok(parts)
        }
        _ => {
            let denial = Denial::Request(ExtractError::NoRoute {
                method: quote(&http.method),
                path: quote(&http.path),
            });
            Err(Box::new((parts, denial)))
        }
    }
}

/// The body to extract arguments from, for a route that reads it.
///
/// Fails closed when Envoy truncated the body, or did not send one although the
/// request has one (`with_request_body` not configured): its arguments are unknown.
pub(super) fn body<'a>(
    http: &'a HttpRequest,
    parts: &Parts,
    limit: usize,
) -> Result<&'a [u8], ExtractError> {
    let partial = parts
        .headers
        .get(PARTIAL_BODY_HEADER)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
    if partial {
        return Err(ExtractError::BodyTruncated);
    }
    let body = if http.raw_body.is_empty() {
        http.body.as_bytes()
    } else {
        &http.raw_body
    };
    if body.is_empty() && http.size > 0 {
        return Err(ExtractError::BodyNotForwarded);
    }
    if body.len() > limit {
        return Err(ExtractError::BodyTooLarge { limit });
    }
    Ok(body)
}

fn headers(http: &HttpRequest, config: &AuthzConfig) -> Result<HeaderMap, ExtractError> {
    let raw = http
        .header_map
        .as_ref()
        .map(|m| m.headers.as_slice())
        .unwrap_or_default();
    let count = if raw.is_empty() {
        http.headers.len()
    } else {
        raw.len()
    };
    if count > MAX_HEADERS {
        return Err(ExtractError::TooManyHeaders {
            count,
            max: MAX_HEADERS,
        });
    }
    let mut map = HeaderMap::with_capacity(count + 2);
    if raw.is_empty() {
        for (name, value) in &http.headers {
            add(&mut map, name, value.as_bytes());
        }
    } else {
        for header in raw {
            let value = if header.raw_value.is_empty() {
                header.value.as_bytes()
            } else {
                &header.raw_value
            };
            add(&mut map, &header.key, value);
        }
    }
    set_if_absent(&mut map, config.request_id_header.clone(), &http.id);
    set_if_absent(&mut map, HOST, &http.host);
    Ok(map)
}

/// Appends one header (names are lower-cased); skips what HTTP cannot carry.
fn add(map: &mut HeaderMap, name: &str, value: &[u8]) {
    if let (Ok(name), Ok(value)) = (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_bytes(value),
    ) {
        map.append(name, value);
    }
}

fn set_if_absent(map: &mut HeaderMap, name: HeaderName, value: &str) {
    if value.is_empty() || map.contains_key(&name) {
        return;
    }
    if let Ok(value) = HeaderValue::from_str(value) {
        map.insert(name, value);
    }
}

fn version(protocol: &str) -> Version {
    match protocol {
        "HTTP/1.0" => Version::HTTP_10,
        "HTTP/2" => Version::HTTP_2,
        "HTTP/3" => Version::HTTP_3,
        _ => Version::HTTP_11,
    }
}

fn quote(text: &str) -> String {
    text.chars().take(MAX_QUOTED).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(path: &str) -> HttpRequest {
        HttpRequest {
            method: "GET".into(),
            path: path.into(),
            ..HttpRequest::default()
        }
    }

    #[test]
    fn splits_the_target_and_reads_headers() {
        let mut http = request("/tools/read?path=/data/a");
        http.id = "rid".into();
        http.host = "svc".into();
        http.headers.insert(":authority".into(), "svc".into());
        http.headers.insert("X-Tenuo-Warrant".into(), "w".into());
        http.headers.insert("bad\nname".into(), "v".into());
        let parts = to_parts(&http, &AuthzConfig::default()).ok().unwrap();
        assert_eq!(parts.uri.path(), "/tools/read");
        assert_eq!(parts.uri.query(), Some("path=/data/a"));
        assert_eq!(parts.headers["x-tenuo-warrant"], "w");
        assert_eq!(parts.headers["x-request-id"], "rid");
        assert_eq!(parts.headers["host"], "svc");
        assert_eq!(parts.headers.len(), 3);
    }

    #[test]
    fn raw_headers_keep_duplicates_and_bytes() {
        use envoy_types::pb::envoy::config::core::v3::{HeaderMap as Raw, HeaderValue as Header};
        let mut http = request("/");
        http.headers.insert("ignored".into(), "x".into());
        let header = |key: &str, raw: &[u8]| Header {
            key: key.into(),
            value: String::new(),
            raw_value: raw.to_vec(),
        };
        http.header_map = Some(Raw {
            headers: vec![header("a", b"1"), header("a", b"2"), header("b", b"\xff")],
        });
        let parts = to_parts(&http, &AuthzConfig::default()).ok().unwrap();
        assert_eq!(parts.headers.get_all("a").iter().count(), 2);
        assert_eq!(parts.headers["b"].as_bytes(), b"\xff");
        assert!(parts.headers.get("ignored").is_none());
    }

    #[test]
    fn unrepresentable_requests_are_denials() {
        for (method, path) in [("GET", ""), ("GET", "example.com:443"), ("G T", "/")] {
            let mut http = request(path);
            http.method = method.into();
            let denial = to_parts(&http, &AuthzConfig::default()).err().unwrap().1;
            assert!(matches!(
                denial,
                Denial::Request(ExtractError::NoRoute { .. })
            ));
        }
        let mut http = request("/");
        for i in 0..=MAX_HEADERS {
            http.headers.insert(format!("h{i}"), "v".into());
        }
        assert!(to_parts(&http, &AuthzConfig::default()).is_err());
    }

    #[test]
    fn bodies_fail_closed_when_missing_or_partial() {
        let parts = to_parts(&request("/"), &AuthzConfig::default())
            .ok()
            .unwrap();
        let mut http = request("/");
        http.body = "{}".into();
        assert_eq!(body(&http, &parts, 10).ok(), Some(&b"{}"[..]));
        http.raw_body = b"[1]".to_vec();
        assert_eq!(body(&http, &parts, 10).ok(), Some(&b"[1]"[..]));
        assert!(body(&http, &parts, 2).is_err());
        let empty = HttpRequest {
            size: 5,
            ..request("/")
        };
        assert!(body(&empty, &parts, 10).is_err());
        let mut partial = to_parts(&request("/"), &AuthzConfig::default())
            .ok()
            .unwrap();
        partial
            .headers
            .insert(PARTIAL_BODY_HEADER, HeaderValue::from_static("true"));
        assert!(body(&http, &partial, 10).is_err());
    }
}
