//! Resource figures: the guide's sidecar requests and limits, held against the
//! authorizer containers default values render, and Kubernetes quantities
//! read exactly enough to compare them (`10m` = `0.01`, `64Mi` = `67108864`).

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::api::core::v1::Container;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::checks::{violation, Pod, Violation, AUTHORIZER};

/// The guide's sidecar: `requests: { memory: "32Mi", cpu: "10m" }`.
pub(crate) const GUIDE_REQUESTS: &[(&str, &str)] = &[("cpu", "10m"), ("memory", "32Mi")];
/// The guide's sidecar: `limits: { memory: "64Mi", cpu: "100m" }`.
pub(crate) const GUIDE_LIMITS: &[(&str, &str)] = &[("cpu", "100m"), ("memory", "64Mi")];

/// Why a quantity could not be read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum QuantityError {
    /// No digits before the suffix (also a sign, which limits never carry).
    NoNumber,
    /// Two decimal points, or more digits than the comparison can hold.
    BadNumber,
    /// A suffix Kubernetes does not define, or an exponent (`1e3`), which the
    /// chart never writes.
    Suffix,
}

impl fmt::Display for QuantityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QuantityError::NoNumber => "no number",
            QuantityError::BadNumber => "not a decimal number this check can hold",
            QuantityError::Suffix => "unknown suffix",
        })
    }
}

/// A quantity in thousandths of its unit (millicores, millibytes): exact for
/// every suffix from `m` up; `u` and `n` round up.
pub(crate) fn millis(q: &str) -> Result<u128, QuantityError> {
    let split = q
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(q.len());
    let (number, suffix) = q.split_at(split);
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    if int.is_empty() && frac.is_empty() {
        return Err(QuantityError::NoNumber);
    }
    if frac.contains('.') || int.len() + frac.len() > 24 {
        return Err(QuantityError::BadNumber);
    }
    // value = digits / 10^frac.len() * num / den, then times 1000.
    let digits: u128 = format!("{int}{frac}")
        .parse()
        .map_err(|_| QuantityError::BadNumber)?;
    let (num, den): (u128, u128) = match suffix {
        "" => (1, 1),
        "m" => (1, 1_000),
        "u" => (1, 1_000_000),
        "n" => (1, 1_000_000_000),
        "k" => (1_000, 1),
        "M" => (1_000_000, 1),
        "G" => (1_000_000_000, 1),
        "T" => (1_000_000_000_000, 1),
        "Ki" => (1 << 10, 1),
        "Mi" => (1 << 20, 1),
        "Gi" => (1 << 30, 1),
        "Ti" => (1 << 40, 1),
        _ => return Err(QuantityError::Suffix),
    };
    let scale = 10u128.pow(frac.len() as u32) * den;
    let top = digits
        .checked_mul(num)
        .and_then(|v| v.checked_mul(1_000))
        .ok_or(QuantityError::BadNumber)?;
    Ok(top.div_ceil(scale))
}

/// Default values only: a user may size the containers as they like, but the
/// chart's own defaults must be the guide's for a sidecar (the agent's pod is
/// sized around them) and no smaller for a gateway, which serves many agents.
pub(crate) fn check_defaults(pods: &[Pod<'_>], out: &mut Vec<Violation>) {
    for pod in pods {
        for c in pod.all().filter(|c| c.name == AUTHORIZER) {
            let at = format!("{} container {}", pod.id, c.name);
            for msg in against_guide(c, !pod.gateway) {
                out.push(violation("resource-figures", &at, msg));
            }
        }
    }
}

/// What differs from the guide's figures: anything at all when `exact`,
/// otherwise a figure below the guide's (a missing limit is no limit: fine).
pub(crate) fn against_guide(c: &Container, exact: bool) -> Vec<String> {
    let r = c.resources.clone().unwrap_or_default();
    let mut bad = compare("requests", r.requests.as_ref(), GUIDE_REQUESTS, exact, true);
    bad.extend(compare(
        "limits",
        r.limits.as_ref(),
        GUIDE_LIMITS,
        exact,
        false,
    ));
    bad
}

fn compare(
    which: &str,
    got: Option<&BTreeMap<String, Quantity>>,
    guide: &[(&str, &str)],
    exact: bool,
    required: bool,
) -> Vec<String> {
    let empty = BTreeMap::new();
    let got = got.unwrap_or(&empty);
    let mut bad = Vec::new();
    for (resource, want) in guide {
        let Some(q) = got.get(*resource) else {
            if exact || required {
                bad.push(format!("no {resource} {which}; the guide's is {want}"));
            }
            continue;
        };
        match (millis(&q.0), millis(want)) {
            (Ok(g), Ok(w)) if exact && g != w => bad.push(format!(
                "{resource} {which} {} is not the guide's {want}",
                q.0
            )),
            (Ok(g), Ok(w)) if g < w => bad.push(format!(
                "{resource} {which} {} is below the guide's {want}",
                q.0
            )),
            (Ok(_), Ok(_)) => {}
            (Err(e), _) => bad.push(format!("{resource} {which} {}: {e}", q.0)),
            (_, Err(e)) => bad.push(format!("the guide's {resource} {which} {want}: {e}")),
        }
    }
    if exact {
        for extra in got.keys().filter(|k| !guide.iter().any(|(r, _)| r == k)) {
            bad.push(format!(
                "{which} also set {extra}, which the guide does not"
            ));
        }
    }
    bad
}
