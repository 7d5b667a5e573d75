//! `UrlPattern` (wire type 9): structured URL matching on scheme, host, port
//! and path, parsed with the `url` crate like the reference.
//!
//! Wire payload: the pattern text (re-encoded verbatim).
//!
//! Parsing (`scheme://host[:port][/path]`):
//! * `*://` means any scheme (parsed as `https`); otherwise the text before
//!   the first `://` (lower-cased) is the only allowed scheme;
//! * every `*.` is swapped for a host placeholder and every `/*` for a path
//!   placeholder, the result is parsed by `url::Url::parse`, then swapped
//!   back; a text containing either placeholder is rejected;
//! * the port is `Url::port()` (a scheme's default port reads as absent);
//! * a path of `""` or `/` means "any path".
//!
//! Matching: the argument must parse with `url::Url::parse` (otherwise
//! [`Mismatch::InvalidValue`]); scheme must be allowed; host `*.x` admits
//! `x` and `*.x` by suffix (case-sensitive), a plain host compares ASCII
//! case-insensitively; a required port compares with the URL's port or 443
//! (https) / 80 (http) / 0; the path is glob-matched (`Pattern` semantics),
//! or compared literally if the path pattern is not a valid glob.
//!
//! # Compatibility note
//! * Decoding uses the reference's lenient mode: a bare wildcard host such
//!   as `https://*/*` decodes (and matches nothing useful), while the
//!   constructor rejects it.
//! * Because `*.` is replaced everywhere, a path like `/files/*.txt` keeps
//!   the literal placeholder text and matches no real URL.

use std::fmt;

use super::error::{ConstraintBuildError, Mismatch};
use super::pattern::Glob;
use super::value::ArgValue;
use super::widening::Widening;
use crate::heap;

const HOST_PLACEHOLDER: &str = "__tenuo_host_wildcard__";
const PATH_PLACEHOLDER: &str = "__tenuo_path_wildcard__";

/// A `UrlPattern` constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlPattern {
    pattern: String,
    schemes: Vec<String>,
    host: Option<String>,
    port: Option<u16>,
    path: Option<String>,
}

impl UrlPattern {
    /// The resident bytes this pattern holds on the heap.
    pub(super) fn heap_bytes(&self) -> usize {
        let optional =
            |s: &Option<String>| s.as_ref().map_or(0, |s| heap::allocation(s.capacity()));
        heap::allocation(self.pattern.capacity())
            + super::heap_size::strings_bytes(&self.schemes)
            + optional(&self.host)
            + optional(&self.path)
    }

    /// Parse strictly (bare wildcard hosts rejected), like the reference's
    /// public constructor.
    pub fn new(pattern: &str) -> Result<Self, ConstraintBuildError> {
        Self::parse(pattern, true).map_err(|reason| ConstraintBuildError::InvalidUrlPattern {
            pattern: pattern.to_owned(),
            reason,
        })
    }

    /// Parse leniently, as the reference does for CBOR input.
    pub(crate) fn from_wire(pattern: &str) -> Result<Self, String> {
        Self::parse(pattern, false)
    }

    fn parse(pattern: &str, reject_bare_wildcard_host: bool) -> Result<Self, String> {
        if pattern.contains(HOST_PLACEHOLDER) || pattern.contains(PATH_PLACEHOLDER) {
            return Err("pattern contains reserved internal sequence".to_owned());
        }
        let (schemes, url_text) = if pattern.starts_with("*://") {
            (Vec::new(), pattern.replacen("*://", "https://", 1))
        } else {
            let (scheme, _) = pattern
                .split_once("://")
                .ok_or_else(|| "missing scheme (expected 'scheme://')".to_owned())?;
            (vec![scheme.to_lowercase()], pattern.to_owned())
        };
        let parse_text = url_text
            .replace("*.", &format!("{HOST_PLACEHOLDER}."))
            .replace("/*", &format!("/{PATH_PLACEHOLDER}"));
        let parsed = url::Url::parse(&parse_text).map_err(|e| e.to_string())?;
        let host = parsed
            .host_str()
            .map(|h| h.replace(&format!("{HOST_PLACEHOLDER}."), "*."));
        if reject_bare_wildcard_host {
            if let Some(h) = &host {
                let rest = h.strip_prefix("*.").unwrap_or(h);
                if rest.contains(PATH_PLACEHOLDER)
                    || rest.contains(HOST_PLACEHOLDER)
                    || rest.contains('*')
                {
                    return Err("wildcard host is not supported".to_owned());
                }
            }
        }
        let path = match parsed.path() {
            "" | "/" => None,
            p => Some(p.replace(PATH_PLACEHOLDER, "*")),
        };
        Ok(UrlPattern {
            pattern: pattern.to_owned(),
            schemes,
            host,
            port: parsed.port(),
            path,
        })
    }

    /// The pattern text as given (and as encoded on the wire).
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    fn host_matches(pattern: &str, host: &str) -> bool {
        if pattern == "*" {
            return true;
        }
        match pattern.strip_prefix("*.") {
            Some(suffix) => host == suffix || host.ends_with(&format!(".{suffix}")),
            None => pattern.eq_ignore_ascii_case(host),
        }
    }

    fn path_matches(pattern: &str, path: &str) -> bool {
        if pattern == "*" || pattern == "/*" {
            return true;
        }
        match Glob::compile(pattern) {
            Ok(glob) => glob.matches(path),
            Err(_) => pattern == path,
        }
    }

    /// Whether the URL text matches; `Err` if it is not a URL.
    pub fn matches_url(&self, url_text: &str) -> Result<bool, Mismatch> {
        let parsed =
            url::Url::parse(url_text).map_err(|_| Mismatch::InvalidValue { expected: "URL" })?;
        if !self.schemes.is_empty() && !self.schemes.contains(&parsed.scheme().to_lowercase()) {
            return Ok(false);
        }
        if let Some(host_pattern) = &self.host {
            if !Self::host_matches(host_pattern, parsed.host_str().unwrap_or("")) {
                return Ok(false);
            }
        }
        if let Some(required) = self.port {
            let actual = parsed.port().unwrap_or(match parsed.scheme() {
                "https" => 443,
                "http" => 80,
                _ => 0,
            });
            if actual != required {
                return Ok(false);
            }
        }
        if let Some(path_pattern) = &self.path {
            if !Self::path_matches(path_pattern, parsed.path()) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    pub(crate) fn eval(&self, value: &ArgValue) -> Result<bool, Mismatch> {
        match value.as_str() {
            Some(u) => self.matches_url(u),
            None => Ok(false),
        }
    }

    fn host_subset(parent: &str, child: &str) -> bool {
        if parent == "*" {
            return true;
        }
        match parent.strip_prefix("*.") {
            Some(suffix) => {
                let dotted = format!(".{suffix}");
                if child == suffix || child.ends_with(&dotted) {
                    return true;
                }
                match child.strip_prefix("*.") {
                    Some(cs) => cs.ends_with(&dotted) || cs == suffix,
                    None => false,
                }
            }
            None => parent.eq_ignore_ascii_case(child),
        }
    }

    fn path_subset(parent: &str, child: &str) -> bool {
        if parent == "*" || parent == "/*" {
            return true;
        }
        if let Some(prefix) = parent.strip_suffix('*').filter(|_| parent.ends_with("/*")) {
            if child.starts_with(prefix) {
                return true;
            }
            return child
                .strip_suffix('*')
                .filter(|_| child.ends_with("/*"))
                .is_some_and(|cp| cp.starts_with(prefix));
        }
        if parent == child {
            return true;
        }
        child
            .strip_prefix(parent)
            .is_some_and(|rest| rest.starts_with('/'))
    }

    /// UrlPattern → UrlPattern, component by component.
    pub(crate) fn attenuate(&self, child: &UrlPattern) -> Result<(), Widening> {
        if !self.schemes.is_empty() {
            if child.schemes.is_empty() {
                return Err(Widening::AnyScheme);
            }
            if let Some(s) = child.schemes.iter().find(|s| !self.schemes.contains(s)) {
                return Err(Widening::SchemeNotAllowed { scheme: s.clone() });
            }
        }
        if let Some(ph) = &self.host {
            match &child.host {
                Some(ch) if Self::host_subset(ph, ch) => {}
                Some(ch) => {
                    return Err(Widening::HostNotWithin {
                        parent: ph.clone(),
                        child: ch.clone(),
                    })
                }
                None => return Err(Widening::AnyHost),
            }
        }
        if let Some(pp) = self.port {
            if child.port != Some(pp) {
                return Err(Widening::PortDiffers {
                    parent: pp,
                    child: child.port,
                });
            }
        }
        if let Some(pp) = &self.path {
            match &child.path {
                Some(cp) if Self::path_subset(pp, cp) => {}
                Some(cp) => {
                    return Err(Widening::PathNotWithin {
                        parent: pp.clone(),
                        child: cp.clone(),
                    })
                }
                None => return Err(Widening::AnyPath),
            }
        }
        Ok(())
    }
}

impl fmt::Display for UrlPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UrlPattern({})", self.pattern)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(p: &str) -> UrlPattern {
        UrlPattern::from_wire(p).expect("valid pattern")
    }

    #[test]
    fn matching() {
        let p = u("https://api.example.com/*");
        assert_eq!(p.matches_url("https://api.example.com/v1/users"), Ok(true));
        assert_eq!(p.matches_url("http://api.example.com/v1/users"), Ok(false));
        assert!(p.matches_url("not a url").is_err());
        let w = u("https://*.example.com/*");
        assert_eq!(w.matches_url("https://www.example.com/"), Ok(true));
        assert_eq!(w.matches_url("https://example.com/x"), Ok(true));
        assert_eq!(w.matches_url("https://evil.com/x"), Ok(false));
        let port = u("https://h.com:8443/api/*");
        assert_eq!(port.matches_url("https://h.com:8443/api/x"), Ok(true));
        assert_eq!(port.matches_url("https://h.com/api/x"), Ok(false));
    }

    #[test]
    fn strict_vs_wire() {
        assert!(UrlPattern::new("https://*/*").is_err());
        assert!(UrlPattern::from_wire("https://*/*").is_ok());
        assert!(UrlPattern::new("no-scheme").is_err());
    }

    #[test]
    fn attenuation() {
        assert!(u("https://*.example.com/*")
            .attenuate(&u("https://api.example.com/v1/*"))
            .is_ok());
        assert!(u("https://api.example.com/*")
            .attenuate(&u("*://api.example.com/*"))
            .is_err());
        assert!(u("https://a.com/api/*")
            .attenuate(&u("https://a.com/"))
            .is_err());
        assert!(u("https://a.com/api")
            .attenuate(&u("https://a.com/api/x"))
            .is_ok());
    }
}
