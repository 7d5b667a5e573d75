//! `UrlSafe` (wire type 18): SSRF-oriented URL screening without DNS.
//!
//! Wire payload (all nine keys always written, in this order; each optional
//! on input with the default in brackets): `schemes` [`["http","https"]`],
//! `allow_domains` [null], `deny_domains` [null], `allow_ports` [null],
//! `block_private` [true], `block_loopback` [true], `block_metadata` [true],
//! `block_reserved` [true], `block_internal_tlds` [false].
//!
//! Screening order (first hit rejects): domain-list configuration must be
//! valid (else [`Mismatch::InvalidValue`]); NUL byte; `url::Url::parse`;
//! scheme (case-insensitive); non-empty host; host percent-decoded
//! (Latin-1 byte-per-char), lower-cased, one trailing root dot removed;
//! port allow-list (with the scheme's default port); `localhost` names;
//! internal TLDs; metadata host names; then IP literals (plain, decimal,
//! `0x` hex, leading-zero dotted forms) are classified against loopback,
//! metadata, private and reserved ranges (IPv6 forms embedding IPv4 are
//! judged by the embedded address), while host names that look like
//! leading-zero dotted quads are rejected as ambiguous; then the allow list;
//! then the deny list.
//!
//! # Compatibility note
//! Decoding does not validate the domain lists; an invalid pattern makes
//! every evaluation fail (as an invalid-value mismatch) and every
//! attenuation involving it fail, exactly like the reference.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::error::{AttenuationError, ConstraintBuildError, Mismatch};
use super::value::ArgValue;
use super::widening::Widening;

/// A `UrlSafe` constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlSafe {
    /// Allowed schemes (compared case-insensitively).
    pub schemes: Vec<String>,
    /// If set, only these hosts (`*.example.com` allowed) pass.
    pub allow_domains: Option<Vec<String>>,
    /// If set, these hosts/IP texts are rejected (deny wins).
    pub deny_domains: Option<Vec<String>>,
    /// If set, only these ports (default port included) pass.
    pub allow_ports: Option<Vec<u16>>,
    /// Block private ranges.
    pub block_private: bool,
    /// Block loopback.
    pub block_loopback: bool,
    /// Block cloud metadata endpoints.
    pub block_metadata: bool,
    /// Block other non-global ranges.
    pub block_reserved: bool,
    /// Block internal TLDs (`.internal`, `.local`, ...).
    pub block_internal_tlds: bool,
}

/// The default scheme list.
pub(crate) fn default_schemes() -> Vec<String> {
    vec!["http".to_owned(), "https".to_owned()]
}

const METADATA_HOSTS: &[&str] = &[
    "169.254.169.254",
    "metadata.google.internal",
    "metadata.goog",
    "100.100.100.200",
];

const INTERNAL_TLDS: &[&str] = &[
    ".internal",
    ".local",
    ".localhost",
    ".lan",
    ".corp",
    ".home",
    ".svc",
    ".default",
];

impl Default for UrlSafe {
    fn default() -> Self {
        UrlSafe {
            schemes: default_schemes(),
            allow_domains: None,
            deny_domains: None,
            allow_ports: None,
            block_private: true,
            block_loopback: true,
            block_metadata: true,
            block_reserved: true,
            block_internal_tlds: false,
        }
    }
}

/// Canonical spelling of a domain pattern, or `None` if it is malformed.
fn canonical_domain(pattern: &str) -> Option<String> {
    if pattern.is_empty() {
        return None;
    }
    let (wildcard, host) = match pattern.strip_prefix("*.") {
        Some(s) => (true, s),
        None => (false, pattern),
    };
    if host.is_empty() || host.contains('*') {
        return None;
    }
    let parsed = url::Host::parse(host).ok()?;
    let canonical = match parsed {
        url::Host::Domain(d) if !wildcard || !d.starts_with('.') => d,
        _ if wildcard => return None,
        other => other.to_string(),
    }
    .to_lowercase();
    if canonical.contains('*') {
        return None;
    }
    let canonical = match canonical.strip_suffix('.') {
        Some(name) if name.is_empty() || name.ends_with('.') => return None,
        Some(name) => name.to_owned(),
        None => canonical,
    };
    Some(if wildcard {
        format!("*.{canonical}")
    } else {
        canonical
    })
}

fn covers(covering: &str, candidate: &str) -> Result<bool, String> {
    let covering = canonical_domain(covering).ok_or_else(|| covering.to_owned())?;
    let candidate = canonical_domain(candidate).ok_or_else(|| candidate.to_owned())?;
    let Some(suffix) = covering.strip_prefix("*.") else {
        return Ok(covering == candidate);
    };
    let cand = candidate.strip_prefix("*.").unwrap_or(&candidate);
    Ok(cand == suffix || cand.ends_with(&format!(".{suffix}")))
}

/// Percent-decoding as the reference does it: `%XY` becomes the char with
/// code point 0xXY; anything else is kept as is.
fn percent_decode_latin1(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let hex: String = chars.by_ref().take(2).collect();
        if hex.len() == 2 {
            if let Ok(byte) = u8::from_str_radix(&hex, 16) {
                out.push(char::from(byte));
                continue;
            }
        }
        out.push('%');
        out.push_str(&hex);
    }
    out
}

fn embedded_ipv4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = Ipv4Addr::from((u32::from(s[6]) << 16) | u32::from(s[7]));
    if let Some(mapped) = ip.to_ipv4_mapped() {
        return Some(mapped);
    }
    if s[..6] == [0; 6] || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(low);
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::from((u32::from(s[1]) << 16) | u32::from(s[2])));
    }
    if s[0] == 0x2001 && s[1] == 0 {
        return Some(Ipv4Addr::from(!u32::from(low)));
    }
    None
}

fn is_global_ietf_assignment(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let bits = u128::from(ip);
    bits == 0x2001_0001_0000_0000_0000_0000_0000_0001
        || bits == 0x2001_0001_0000_0000_0000_0000_0000_0002
        || bits == 0x2001_0001_0000_0000_0000_0000_0000_0003
        || s[1] == 3
        || (s[1] == 4 && s[2] == 0x112)
        || (0x20..=0x3f).contains(&s[1])
}

fn looks_like_ambiguous_ip(host: &str) -> bool {
    let parts: Vec<&str> = host.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        && parts.iter().any(|p| p.len() > 1 && p.starts_with('0'))
}

fn parse_ip(host: &str) -> Option<IpAddr> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some(ip);
    }
    if host.chars().all(|c| c.is_ascii_digit()) {
        if let Ok(n) = host.parse::<u32>() {
            return Some(IpAddr::V4(Ipv4Addr::from(n)));
        }
    }
    if host.to_lowercase().starts_with("0x") {
        if let Some(n) = host.get(2..).and_then(|h| u32::from_str_radix(h, 16).ok()) {
            return Some(IpAddr::V4(Ipv4Addr::from(n)));
        }
    }
    if host.starts_with('0') && host.contains('.') {
        let parts: Vec<&str> = host.split('.').collect();
        let all_numeric = parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
        if parts.len() == 4
            && all_numeric
            && parts.iter().any(|p| p.len() > 1 && p.starts_with('0'))
        {
            let clear_octal = parts
                .iter()
                .all(|p| p.chars().all(|c| ('0'..='7').contains(&c)));
            if clear_octal {
                let mut octets = [0u8; 4];
                let mut decimal_same = true;
                for (slot, part) in octets.iter_mut().zip(&parts) {
                    let octal = if part.starts_with('0') && part.len() > 1 {
                        u8::from_str_radix(part, 8).ok()
                    } else {
                        part.parse::<u8>().ok()
                    };
                    let ov = octal?;
                    *slot = ov;
                    if part.parse::<u8>().ok() != Some(ov) {
                        decimal_same = false;
                    }
                }
                if decimal_same {
                    return Some(IpAddr::V4(Ipv4Addr::from(octets)));
                }
            }
            return None;
        }
    }
    None
}

/// Why a URL is rejected (diagnostic only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlSafeRejection {
    /// Contains a NUL byte.
    NullByte,
    /// Not a URL, or a malformed host name.
    Malformed,
    /// Scheme not allowed.
    Scheme,
    /// No host.
    MissingHost,
    /// Port not allowed.
    Port,
    /// Loopback host or address.
    Loopback,
    /// Internal TLD.
    InternalHostname,
    /// Cloud metadata host or address.
    Metadata,
    /// Leading-zero dotted quad.
    AmbiguousIp,
    /// Not in the allow list.
    DomainAllowList,
    /// In the deny list.
    DomainDenyList,
    /// Private range.
    PrivateNetwork,
    /// Reserved range.
    ReservedAddress,
}

impl UrlSafe {
    /// Secure defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Check the domain lists; `Err` names the first malformed pattern.
    pub fn validate(&self) -> Result<(), ConstraintBuildError> {
        for p in self
            .allow_domains
            .iter()
            .flatten()
            .chain(self.deny_domains.iter().flatten())
        {
            if canonical_domain(p).is_none() {
                return Err(ConstraintBuildError::InvalidDomainPattern { pattern: p.clone() });
            }
        }
        Ok(())
    }

    fn host_listed(host: &str, domains: &[String]) -> bool {
        domains
            .iter()
            .filter_map(|d| canonical_domain(d))
            .any(|p| match p.strip_prefix("*.") {
                Some(bare) => host.ends_with(&format!(".{bare}")) || host == bare,
                None => host == p,
            })
    }

    fn ipv4_reason(&self, ip: Ipv4Addr) -> Option<UrlSafeRejection> {
        let [a, b, c, d] = ip.octets();
        if ip.is_unspecified() {
            if self.block_reserved {
                return Some(UrlSafeRejection::ReservedAddress);
            }
            if self.block_loopback {
                return Some(UrlSafeRejection::Loopback);
            }
        }
        if self.block_loopback && a == 127 {
            return Some(UrlSafeRejection::Loopback);
        }
        if self.block_metadata && ((a == 169 && b == 254) || ip.octets() == [100, 100, 100, 200]) {
            return Some(UrlSafeRejection::Metadata);
        }
        if self.block_private
            && matches!(
                (a, b),
                (10, _) | (172, 16..=31) | (192, 168) | (100, 64..=127) | (198, 18..=19)
            )
        {
            return Some(UrlSafeRejection::PrivateNetwork);
        }
        if self.block_reserved {
            let reserved = match (a, b, c) {
                (0, _, _) => true,
                (192, 0, 0) => d != 9 && d != 10,
                (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => true,
                (192, 88, 99) => true,
                (224..=255, _, _) => true,
                _ => false,
            };
            if reserved {
                return Some(UrlSafeRejection::ReservedAddress);
            }
        }
        None
    }

    fn ipv6_reason(&self, ip: Ipv6Addr) -> Option<UrlSafeRejection> {
        let s = ip.segments();
        if ip.is_unspecified() {
            return self.ipv4_reason(Ipv4Addr::UNSPECIFIED);
        }
        if self.block_loopback && ip.is_loopback() {
            return Some(UrlSafeRejection::Loopback);
        }
        if let Some(reason) = embedded_ipv4(ip).and_then(|v4| self.ipv4_reason(v4)) {
            return Some(reason);
        }
        if self.block_private && s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1 {
            return Some(UrlSafeRejection::PrivateNetwork);
        }
        if self.block_metadata && u128::from(ip) == 0xfd00_0ec2_0000_0000_0000_0000_0000_0254 {
            return Some(UrlSafeRejection::Metadata);
        }
        if self.block_private
            && ((s[0] & 0xfe00) == 0xfc00 || (s[0] & 0xffc0) == 0xfe80 || (s[0] & 0xffc0) == 0xfec0)
        {
            return Some(UrlSafeRejection::PrivateNetwork);
        }
        if self.block_reserved {
            let reserved = match s {
                [0x100, 0, 0, 0 | 1, ..] => true,
                [0x2001, 0xdb8, ..] => true,
                [0x3fff, b, ..] if b < 0x1000 => true,
                [0x2001, b, ..] if b < 0x200 => !is_global_ietf_assignment(ip),
                [0x5f00, ..] => true,
                [a, ..] if a & 0xff00 == 0xff00 => true,
                _ => false,
            };
            if reserved {
                return Some(UrlSafeRejection::ReservedAddress);
            }
        }
        None
    }

    /// Why `url` is rejected, `Ok(None)` if it is safe, `Err` if the
    /// constraint's domain lists are malformed.
    pub fn rejection_reason(&self, url: &str) -> Result<Option<UrlSafeRejection>, Mismatch> {
        self.validate()
            .map_err(|_| Mismatch::InvalidValue { expected: "URL" })?;
        if url.contains('\0') {
            return Ok(Some(UrlSafeRejection::NullByte));
        }
        let Ok(parsed) = url::Url::parse(url) else {
            return Ok(Some(UrlSafeRejection::Malformed));
        };
        let scheme = parsed.scheme().to_lowercase();
        if !self.schemes.iter().any(|s| s.to_lowercase() == scheme) {
            return Ok(Some(UrlSafeRejection::Scheme));
        }
        let host = match parsed.host_str() {
            Some(h) if !h.is_empty() => h,
            _ => return Ok(Some(UrlSafeRejection::MissingHost)),
        };
        let host = percent_decode_latin1(host).to_lowercase();
        let host = match host.strip_suffix('.') {
            Some(name) if name.is_empty() || name.ends_with('.') => {
                return Ok(Some(UrlSafeRejection::Malformed))
            }
            Some(name) => name.to_owned(),
            None => host,
        };
        if let (Some(ports), Some(port)) = (&self.allow_ports, parsed.port_or_known_default()) {
            if !ports.contains(&port) {
                return Ok(Some(UrlSafeRejection::Port));
            }
        }
        if self.block_loopback && (host == "localhost" || host == "localhost.localdomain") {
            return Ok(Some(UrlSafeRejection::Loopback));
        }
        if self.block_internal_tlds
            && INTERNAL_TLDS
                .iter()
                .any(|tld| host.ends_with(tld) || host == tld[1..])
        {
            return Ok(Some(UrlSafeRejection::InternalHostname));
        }
        if self.block_metadata && METADATA_HOSTS.contains(&host.as_str()) {
            return Ok(Some(UrlSafeRejection::Metadata));
        }
        match parse_ip(&host) {
            Some(IpAddr::V4(v4)) => {
                if let Some(r) = self.ipv4_reason(v4) {
                    return Ok(Some(r));
                }
            }
            Some(IpAddr::V6(v6)) => {
                if let Some(r) = self.ipv6_reason(v6) {
                    return Ok(Some(r));
                }
            }
            None => {
                if looks_like_ambiguous_ip(&host) {
                    return Ok(Some(UrlSafeRejection::AmbiguousIp));
                }
            }
        }
        if let Some(allow) = &self.allow_domains {
            if !Self::host_listed(&host, allow) {
                return Ok(Some(UrlSafeRejection::DomainAllowList));
            }
        }
        if let Some(deny) = &self.deny_domains {
            if Self::host_listed(&host, deny) {
                return Ok(Some(UrlSafeRejection::DomainDenyList));
            }
        }
        Ok(None)
    }

    pub(crate) fn eval(&self, value: &ArgValue) -> Result<bool, Mismatch> {
        match value.as_str() {
            Some(u) => Ok(self.rejection_reason(u)?.is_none()),
            None => Ok(false),
        }
    }

    /// UrlSafe → UrlSafe: every knob at least as strict.
    pub(crate) fn attenuate(&self, child: &UrlSafe) -> Result<(), AttenuationError> {
        for side in [self, child] {
            side.validate()
                .map_err(|e| AttenuationError::InvalidConfiguration {
                    detail: e.to_string(),
                })?;
        }
        let fail = |widening| {
            Err(AttenuationError::NotNarrower {
                constraint: "UrlSafe",
                widening,
            })
        };
        for scheme in &child.schemes {
            if !self
                .schemes
                .iter()
                .any(|s| s.to_lowercase() == scheme.to_lowercase())
            {
                return fail(Widening::SchemeNotInParent {
                    scheme: scheme.clone(),
                });
            }
        }
        let flags = [
            (self.block_private, child.block_private, "block_private"),
            (self.block_loopback, child.block_loopback, "block_loopback"),
            (self.block_metadata, child.block_metadata, "block_metadata"),
            (self.block_reserved, child.block_reserved, "block_reserved"),
            (
                self.block_internal_tlds,
                child.block_internal_tlds,
                "block_internal_tlds",
            ),
        ];
        for (parent_on, child_on, name) in flags {
            if parent_on && !child_on {
                return fail(Widening::CannotDisable(name));
            }
        }
        if let Some(parent_ports) = &self.allow_ports {
            let Some(child_ports) = &child.allow_ports else {
                return fail(Widening::DropsPortList);
            };
            if let Some(p) = child_ports.iter().find(|p| !parent_ports.contains(p)) {
                return fail(Widening::PortNotInParent(*p));
            }
        }
        let bad_config = |pattern: String| AttenuationError::InvalidConfiguration {
            detail: format!("invalid domain pattern `{pattern}`"),
        };
        if let Some(parent_domains) = &self.allow_domains {
            let Some(child_domains) = &child.allow_domains else {
                return fail(Widening::DropsDomainList);
            };
            for cd in child_domains {
                let mut covered = false;
                for pd in parent_domains {
                    covered = covered || covers(pd, cd).map_err(bad_config)?;
                }
                if !covered {
                    return fail(Widening::DomainNotCovered { domain: cd.clone() });
                }
            }
        }
        if let Some(parent_denied) = &self.deny_domains {
            let Some(child_denied) = &child.deny_domains else {
                return fail(Widening::DropsDenyList);
            };
            for pd in parent_denied {
                let mut kept = false;
                for cd in child_denied {
                    kept = kept || covers(cd, pd).map_err(bad_config)?;
                }
                if !kept {
                    return fail(Widening::DropsDeniedDomain { domain: pd.clone() });
                }
            }
        }
        Ok(())
    }
}

impl fmt::Display for UrlSafe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut opts = Vec::new();
        if self.schemes != default_schemes() {
            opts.push(format!("schemes={:?}", self.schemes));
        }
        if let Some(d) = &self.allow_domains {
            opts.push(format!("allow_domains={d:?}"));
        }
        if let Some(d) = &self.deny_domains {
            opts.push(format!("deny_domains={d:?}"));
        }
        if let Some(p) = &self.allow_ports {
            opts.push(format!("allow_ports={p:?}"));
        }
        for (on, default_on, name) in [
            (self.block_private, true, "block_private"),
            (self.block_loopback, true, "block_loopback"),
            (self.block_metadata, true, "block_metadata"),
            (self.block_reserved, true, "block_reserved"),
            (self.block_internal_tlds, false, "block_internal_tlds"),
        ] {
            if on != default_on {
                opts.push(format!("{name}={on}"));
            }
        }
        write!(f, "UrlSafe({})", opts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn safe(u: &UrlSafe, url: &str) -> bool {
        u.eval(&url.into()).unwrap_or(false)
    }

    #[test]
    fn defaults_block_ssrf_vectors() {
        let u = UrlSafe::new();
        assert!(safe(&u, "https://api.github.com/repos"));
        assert!(!safe(&u, "http://169.254.169.254/"));
        assert!(!safe(&u, "http://127.0.0.1/"));
        assert!(!safe(&u, "http://localhost./"));
        assert!(!safe(&u, "http://[::1]/"));
        assert!(!safe(&u, "http://[::ffff:10.0.0.1]/"));
        assert!(!safe(&u, "http://10.0.0.1/"));
        assert!(!safe(&u, "file:///etc/passwd"));
        assert!(!safe(&u, "http://0.0.0.0/"));
        assert!(!safe(&u, "not a url"));
    }

    #[test]
    fn allow_and_deny_lists() {
        let mut u = UrlSafe::new();
        u.allow_domains = Some(vec!["*.example.com".into()]);
        assert!(safe(&u, "https://api.example.com/"));
        assert!(safe(&u, "https://example.com/"));
        assert!(!safe(&u, "https://example.org/"));
        u.deny_domains = Some(vec!["bad.example.com".into()]);
        assert!(!safe(&u, "https://bad.example.com/"));
        u.allow_domains = Some(vec!["".into()]);
        assert!(u.eval(&"https://example.com/".into()).is_err());
    }

    #[test]
    fn percent_decoding_is_latin1() {
        assert_eq!(percent_decode_latin1("a%41b"), "aAb");
        assert_eq!(percent_decode_latin1("%zz"), "%zz");
        assert_eq!(percent_decode_latin1("%+f"), "\u{f}");
        assert_eq!(percent_decode_latin1("%4"), "%4");
    }

    #[test]
    fn attenuation() {
        let p = UrlSafe::new();
        let mut c = UrlSafe::new();
        assert!(p.attenuate(&c).is_ok());
        c.block_private = false;
        assert!(p.attenuate(&c).is_err());
        let mut pd = UrlSafe::new();
        pd.allow_domains = Some(vec!["*.example.com".into()]);
        let mut cd = UrlSafe::new();
        cd.allow_domains = Some(vec!["api.example.com".into()]);
        assert!(pd.attenuate(&cd).is_ok());
        assert!(pd.attenuate(&UrlSafe::new()).is_err());
    }
}
