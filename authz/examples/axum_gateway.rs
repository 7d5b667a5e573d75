//! An axum service guarded by `AuthzLayer`, runnable:
//!
//! ```text
//! cargo run -p tenuo-authz --example axum_gateway
//! ```
//!
//! It mints a warrant for `read_file` on `/data/*` with a throwaway control-plane
//! key, shows two decisions made in-process (allowed, then denied), and serves on
//! 127.0.0.1:8080, printing a `curl` command whose PoP is valid for about a minute.

use std::sync::Arc;

use axum::{extract::Path, routing::get, Extension, Router};
use tenuo_authz::constraint::{ArgValue, Constraint, ConstraintSet};
use tenuo_authz::crypto::SigningKey;
use tenuo_authz::mint::Issue;
use tenuo_authz::pop::{sign_pop, Args};
use tenuo_authz::tower::{AuthzContext, AuthzLayer, ExtractError};
use tenuo_authz::Authorizer;
use tower::ServiceExt;

/// `GET /tools/{tool}?path=...` is the call `tool(path=...)`: the request head is
/// enough, so the layer never reads the body and axum's handlers get their own.
fn extract(parts: &axum::http::request::Parts) -> Result<(String, Args), ExtractError> {
    let uri = &parts.uri;
    let tool = uri
        .path()
        .strip_prefix("/tools/")
        .filter(|t| !t.contains('/'))
        .ok_or_else(|| ExtractError::NoRoute {
            method: parts.method.to_string(),
            path: uri.path().to_owned(),
        })?;
    let mut args = Args::new();
    for pair in uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        args.insert(key.to_owned(), ArgValue::String(value.to_owned()));
    }
    Ok((tool.to_owned(), args))
}

async fn run_tool(Path(tool): Path<String>, Extension(context): Extension<AuthzContext>) -> String {
    format!(
        "ran {tool} for holder {} under {} ({} s left)\n",
        context.holder, context.warrant_id, context.ttl_remaining_secs
    )
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let control_plane = SigningKey::generate()?;
    let agent = SigningKey::generate()?;
    let authorizer = Arc::new(
        Authorizer::builder()
            .trusted_issuers([control_plane.public_key()])
            .build()?,
    );

    let mut data_only = ConstraintSet::new();
    data_only.insert("path", Constraint::pattern("/data/*")?);
    let warrant = Issue::execution(agent.public_key())
        .tool("read_file", data_only)
        .ttl_secs(600)
        .sign(&control_plane, authorizer.now() as u64)?;

    let app = Router::new()
        .route("/tools/{tool}", get(run_tool))
        .layer(AuthzLayer::headers_only(Arc::clone(&authorizer), extract));

    let request = |path: &str| {
        let mut args = Args::new();
        args.insert("path".into(), ArgValue::String(path.into()));
        let pop = sign_pop(&agent, warrant.id(), "read_file", &args, authorizer.now());
        axum::http::Request::get(format!("/tools/read_file?path={path}"))
            .header("x-tenuo-warrant", warrant.to_base64url())
            .header("x-tenuo-pop", pop.to_base64url())
            .body(axum::body::Body::empty())
    };
    for path in ["/data/report.csv", "/etc/passwd"] {
        let response = app.clone().oneshot(request(path)?).await?;
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 64 * 1024).await?;
        println!(
            "GET read_file(path={path}) -> {status}: {}",
            String::from_utf8_lossy(&body).trim()
        );
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    let sample = request("/data/report.csv")?;
    println!("\nserving on http://127.0.0.1:8080 — try (valid for about a minute):\n");
    println!(
        "curl -i 'http://127.0.0.1:8080/tools/read_file?path=/data/report.csv' -H 'x-tenuo-warrant: {}' -H 'x-tenuo-pop: {}'",
        sample.headers()["x-tenuo-warrant"].to_str()?,
        sample.headers()["x-tenuo-pop"].to_str()?
    );
    axum::serve(listener, app).await?;
    Ok(())
}
