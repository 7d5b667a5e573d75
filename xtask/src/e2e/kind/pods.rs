//! Which of the authorizer's pods a read may count, from `kubectl get -o
//! json`: `rollout status` returns once the new ReplicaSet is ready, while
//! the pods it replaced are still terminating; `kubectl logs -l` and a
//! `status.phase=Running` listing still include them, so a count read just
//! before they go can be larger than one read just after.

use anyhow::{Context, Result};
use serde_json::Value;

/// The annotation the Deployment controller numbers revisions with, on the
/// Deployment and on each of its ReplicaSets.
const REVISION: &str = "deployment.kubernetes.io/revision";
/// The label a ReplicaSet puts on its pods (and carries itself).
const HASH: &str = "pod-template-hash";

/// The `pod-template-hash` of the Deployment's current ReplicaSet: the one
/// it owns with the Deployment's revision.
pub(crate) fn current_hash(deployment: &Value, replica_sets: &Value) -> Result<String> {
    let name = &deployment["metadata"]["name"];
    let revision = deployment["metadata"]["annotations"][REVISION]
        .as_str()
        .with_context(|| format!("Deployment {name} has no {REVISION} annotation"))?;
    replica_sets["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|rs| {
            rs["metadata"]["ownerReferences"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|o| o["kind"] == "Deployment" && o["name"] == *name)
        })
        .find(|rs| rs["metadata"]["annotations"][REVISION] == revision)
        .and_then(|rs| rs["metadata"]["labels"][HASH].as_str())
        .map(str::to_owned)
        .with_context(|| format!("Deployment {name}: no ReplicaSet of revision {revision}"))
}

/// Pods that are not (yet, or any more) the current ReplicaSet's serving
/// pods: terminating, or of another ReplicaSet.
pub(crate) fn stale(pods: &Value, hash: &str) -> Vec<String> {
    items(pods)
        .filter(|p| terminating(p) || p["metadata"]["labels"][HASH] != hash)
        .map(name)
        .collect()
}

/// Running pods that are not terminating (a terminating pod still reports
/// `Running` until its container exits).
pub(crate) fn serving(pods: &Value) -> Vec<String> {
    items(pods)
        .filter(|p| p["status"]["phase"] == "Running" && !terminating(p))
        .map(name)
        .collect()
}

fn items(pods: &Value) -> impl Iterator<Item = &Value> {
    pods["items"].as_array().into_iter().flatten()
}

fn terminating(pod: &Value) -> bool {
    !pod["metadata"]["deletionTimestamp"].is_null()
}

fn name(pod: &Value) -> String {
    pod["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod(name: &str, hash: &str, phase: &str, deleting: bool) -> Value {
        let mut p = json!({"metadata": {"name": name, "labels": {HASH: hash}},
                           "status": {"phase": phase}});
        if deleting {
            p["metadata"]["deletionTimestamp"] = json!("2025-01-01T00:00:00Z");
        }
        p
    }

    fn rs(owner: &str, revision: &str, hash: &str) -> Value {
        json!({"metadata": {
            "ownerReferences": [{"kind": "Deployment", "name": owner}],
            "annotations": {REVISION: revision},
            "labels": {HASH: hash}}})
    }

    #[test]
    fn the_current_replica_set_is_the_deployments_revision() {
        let deployment = json!({"metadata": {"name": "a", "annotations": {REVISION: "3"}}});
        let sets =
            json!({"items": [rs("a", "2", "old"), rs("b", "3", "other"), rs("a", "3", "new")]});
        assert_eq!(current_hash(&deployment, &sets).unwrap(), "new");
        let sets = json!({"items": [rs("a", "2", "old")]});
        let e = current_hash(&deployment, &sets).unwrap_err();
        assert!(e.to_string().contains("revision 3"), "{e}");
    }

    #[test]
    fn terminating_and_replaced_pods_are_stale_and_not_serving() {
        let pods = json!({"items": [
            pod("new-1", "new", "Running", false),
            pod("old-1", "old", "Running", true),
            pod("old-2", "old", "Running", false),
            pod("new-2", "new", "Running", true),
            pod("new-3", "new", "Pending", false),
        ]});
        assert_eq!(stale(&pods, "new"), ["old-1", "old-2", "new-2"]);
        assert_eq!(serving(&pods), ["new-1", "old-2"]);
        let settled = json!({"items": [pod("new-1", "new", "Running", false)]});
        assert!(stale(&settled, "new").is_empty());
    }
}
