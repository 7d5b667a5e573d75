//! Reading what the commands take: tokens on stdin, keys, times, call arguments
//! and constraint specifications.

use std::io::Read;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context, Result};
use tenuo_authz::constraint::{ArgValue, Constraint, UrlSafe};
use tenuo_authz::crypto::{PublicKey, SigningKey};
use tenuo_authz::pop::Args;
use tenuo_authz::wire::decode_token;
use tenuo_authz::Warrant;

/// Most bytes read from stdin: far beyond the largest token (a 256 KiB stack in
/// base64 or PEM), so a longer input is refused by the decoder, not cut here.
const MAX_STDIN_BYTES: u64 = 4 * 1024 * 1024;

/// Reads stdin (bounded), for a token. Only an I/O failure is an error.
pub(crate) fn read_stdin_bytes() -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(MAX_STDIN_BYTES)
        .read_to_end(&mut bytes)
        .context("reading the token from stdin")?;
    Ok(bytes)
}

/// Reads a warrant or stack (base64url or PEM) from stdin, root first, for the
/// commands that take a chain as input: any problem with it is an input error.
pub(crate) fn read_chain() -> Result<Vec<Warrant>> {
    let bytes = read_stdin_bytes()?;
    let text = std::str::from_utf8(&bytes).context("the token on stdin is not UTF-8 text")?;
    if text.trim().is_empty() {
        bail!("no token on stdin");
    }
    Ok(decode_token(text).context("decoding the token")?.1)
}

/// A key given inline (hex or PEM) or as the path of a file holding one.
fn key_text(value: &str) -> Result<String> {
    let path = std::path::Path::new(value);
    if !value.contains('\n') && path.is_file() {
        return std::fs::read_to_string(path).with_context(|| format!("reading key file {value}"));
    }
    Ok(value.to_owned())
}

/// Parses a signing key (hex seed or PKCS#8 PEM, inline or from a file).
pub(crate) fn signing_key(value: &str) -> Result<SigningKey> {
    SigningKey::parse(&key_text(value)?).map_err(|e| anyhow!("signing key: {e}"))
}

/// Parses a public key (hex or SPKI PEM, inline or from a file).
pub(crate) fn public_key(value: &str) -> Result<PublicKey> {
    PublicKey::parse(&key_text(value)?).map_err(|e| anyhow!("public key {value}: {e}"))
}

/// The decision time: `--at` or the clock.
pub(crate) fn now(at: Option<i64>) -> i64 {
    at.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    })
}

/// Parses a duration: `90`, `90s`, `5m`, `2h`, `1d`.
pub(crate) fn duration_secs(text: &str) -> Result<u64> {
    let text = text.trim();
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = digits.parse().with_context(|| format!("duration {text}"))?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => bail!("duration {text}: unit must be s, m, h or d"),
    };
    n.checked_mul(scale)
        .ok_or_else(|| anyhow!("duration {text} is too long"))
}

/// Call arguments from `--args-json` then `--arg KEY=VALUE` (which wins). A VALUE
/// that parses as a JSON scalar or list (`5`, `2.5`, `true`, `["a"]`) is typed;
/// anything else is a string.
pub(crate) fn call_args(pairs: &[String], json: Option<&str>) -> Result<Args> {
    let mut args = Args::new();
    if let Some(json) = json {
        let value: serde_json::Value =
            serde_json::from_str(json).context("--args-json is not JSON")?;
        let object = value
            .as_object()
            .ok_or_else(|| anyhow!("--args-json must be a JSON object"))?;
        for (key, value) in object {
            args.insert(
                key.clone(),
                ArgValue::from_json(value).map_err(|e| anyhow!("argument {key}: {e}"))?,
            );
        }
    }
    for pair in pairs {
        let (key, raw) = pair
            .split_once('=')
            .ok_or_else(|| anyhow!("--arg {pair}: expected KEY=VALUE"))?;
        let value = match serde_json::from_str::<serde_json::Value>(raw) {
            Ok(
                json @ (serde_json::Value::Number(_)
                | serde_json::Value::Bool(_)
                | serde_json::Value::Array(_)),
            ) => ArgValue::from_json(&json).map_err(|e| anyhow!("argument {key}: {e}"))?,
            _ => ArgValue::String(raw.to_owned()),
        };
        args.insert(key.to_owned(), value);
    }
    Ok(args)
}

/// Parses `ARG=TYPE:VALUE` (TYPE defaults to `pattern`):
/// `exact`, `pattern`, `regex`, `range` (`MIN..MAX`, either side optional),
/// `oneof` / `notoneof` / `contains` / `subset` (comma lists), `cidr`, `url`,
/// `subpath`, `wildcard`, `urlsafe` (optionally a comma list of allowed hosts).
/// Composites (`All`, `Any`, `Not`) and typed `Exact` values are minted with the
/// library (`tenuo_authz::mint`); the CLI covers the flat types.
pub(crate) fn constraint_spec(spec: &str) -> Result<(String, Constraint)> {
    let (arg, rest) = spec
        .split_once('=')
        .ok_or_else(|| anyhow!("constraint {spec}: expected ARG=TYPE:VALUE"))?;
    let (kind, value) = match rest.split_once(':') {
        Some((kind, value)) if KINDS.contains(&kind) => (kind, value),
        _ => ("pattern", rest),
    };
    let list = || {
        value
            .split(',')
            .map(|s| ArgValue::String(s.trim().to_owned()))
            .collect::<Vec<_>>()
    };
    let built = match kind {
        "exact" => Ok(Constraint::exact(ArgValue::String(value.to_owned()))),
        "pattern" => Constraint::pattern(value),
        "regex" => Constraint::regex(value),
        "range" => {
            let (min, max) = value
                .split_once("..")
                .ok_or_else(|| anyhow!("range {value}: expected MIN..MAX"))?;
            let bound = |s: &str| -> Result<Option<f64>> {
                if s.is_empty() {
                    Ok(None)
                } else {
                    Ok(Some(s.parse().with_context(|| format!("range bound {s}"))?))
                }
            };
            Constraint::range(bound(min)?, bound(max)?)
        }
        "oneof" => Ok(Constraint::one_of(list())),
        "notoneof" => Ok(Constraint::not_one_of(list())),
        "contains" => Ok(Constraint::contains(list())),
        "subset" => Ok(Constraint::subset(list())),
        "cidr" => Constraint::cidr(value),
        "url" => Constraint::url_pattern(value),
        "subpath" => Constraint::subpath(value),
        "wildcard" => Ok(Constraint::wildcard()),
        // The default policy (http and https, no private or metadata hosts), limited
        // to the listed hosts when a list is given.
        "urlsafe" => {
            let hosts: Vec<String> = value
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            Constraint::url_safe(UrlSafe {
                allow_domains: (!hosts.is_empty()).then_some(hosts),
                ..UrlSafe::default()
            })
        }
        // The allowed command words, as a comma list.
        "shlex" => Ok(Constraint::shlex(
            value.split(',').map(str::trim).filter(|w| !w.is_empty()),
        )),
        other => bail!("constraint type {other} is not known"),
    };
    Ok((
        arg.to_owned(),
        built.map_err(|e| anyhow!("constraint {spec}: {e}"))?,
    ))
}

const KINDS: [&str; 14] = [
    "exact", "pattern", "regex", "range", "oneof", "notoneof", "contains", "subset", "cidr", "url",
    "subpath", "wildcard", "urlsafe", "shlex",
];
