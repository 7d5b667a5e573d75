//! The check across two renders: values that differ only in `config.gateway`
//! must give the pods another `checksum/config`. The chart promises that
//! `helm upgrade` with new routes rolls the pods; a hash that left the gateway
//! out would still be present (the `checksum` check) yet never change.

use std::collections::BTreeMap;

use super::checks::{violation, Pod, Violation};

const ANNOTATION: &str = "checksum/config";

/// The `checksum/config` of each pod template, by Deployment name.
pub(crate) fn checksums(pods: &[Pod<'_>]) -> BTreeMap<String, String> {
    pods.iter()
        .filter_map(|p| {
            let sum = p.annotations.get(ANNOTATION)?;
            Some((p.deployment.to_owned(), sum.clone()))
        })
        .collect()
}

/// Compares the checksums of a render (`after`) with those of the render it
/// differs from only in `config.gateway` (`before`), Deployment by Deployment.
/// A pair with no Deployment in common shows nothing, so that fails too.
pub(crate) fn compare(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> Vec<Violation> {
    let common: Vec<(&String, &String, &String)> = after
        .iter()
        .filter_map(|(name, sum)| before.get(name).map(|b| (name, b, sum)))
        .collect();
    if common.is_empty() {
        let msg = "no Deployment with a checksum/config in both renders".into();
        return vec![violation("checksum-rolls", "render pair", msg)];
    }
    common
        .into_iter()
        .filter(|(_, b, a)| b == a)
        .map(|(name, sum, _)| {
            let msg = format!(
                "checksum/config {sum} is unchanged by a new config.gateway: helm upgrade would not roll the pods"
            );
            violation("checksum-rolls", &format!("Deployment/{name}"), msg)
        })
        .collect()
}
