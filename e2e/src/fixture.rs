//! Keys, values, gateway routes and the control plane policy the scenarios use.

use std::collections::BTreeMap;

use anyhow::Result;
use serde_json::json;
use tenuo_authz::crypto::SigningKey;

use crate::policy::{Policy, ToolPolicy, WorkloadPolicy};
use crate::target::ControlPlaneSpec;

/// Helm release name.
pub const RELEASE: &str = "tenuo-authorizer";
/// Namespace of the release.
pub const NAMESPACE: &str = "tenuo-system";

/// Tools and routes (Tenuo gateway YAML), as `config.gateway` values.
pub const GATEWAY_YAML: &str = r#"{"version":"1","settings":{},
 "tools":{"read_file":{"description":"Read a file","constraints":{"path":{"from":"query","path":"path","required":true}}},
          "run":{"description":"Run a command","constraints":{"cmd":{"from":"body","path":"cmd","required":true}}}},
 "routes":[{"pattern":"/files/read","method":["GET"],"tool":"read_file"},
           {"pattern":"/run","method":["POST"],"tool":"run"}]}"#;

/// Workload identities (Kubernetes service accounts in the `agents` namespace).
pub(crate) const READER: &str = "system:serviceaccount:agents:reader";
/// The rotation load's workload: a short TTL, so old warrants expire quickly.
pub(crate) const ROTATOR: &str = "system:serviceaccount:agents:rotator";
/// The batch job of the environment-variable pattern.
pub(crate) const BATCH: &str = "system:serviceaccount:agents:batch";
/// A workload with a valid credential but no policy: the control plane must
/// refuse it (403).
pub(crate) const NO_POLICY: &str = "system:serviceaccount:agents:intruder";

/// The reader's TTL cap: a request for more is granted this.
pub(crate) const READER_TTL_SECS: u64 = 60;

/// Max TTL of the rotation workload: step 4 waits this long.
pub(crate) const ROTATION_TTL_SECS: u64 = 4;

/// Everything the scenarios share: signing keys (as an operator holds them).
pub struct Fixture {
    /// The control plane's key before rotation.
    pub old: SigningKey,
    /// After rotation.
    pub new: SigningKey,
    /// Trusted by nobody.
    pub stranger: SigningKey,
    /// Admin bearer token of the control plane.
    pub admin_token: String,
}

impl Fixture {
    /// Fresh random keys.
    pub fn generate() -> Result<Self> {
        let token = SigningKey::generate()?.public_key().to_hex();
        Ok(Self {
            old: SigningKey::generate()?,
            new: SigningKey::generate()?,
            stranger: SigningKey::generate()?,
            admin_token: format!("admin-{}", &token[..24]),
        })
    }

    /// The control plane keys Secret's data: `old` and `new` hex seeds.
    pub fn keys_secret(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("old".to_owned(), self.old.to_hex().to_string()),
            ("new".to_owned(), self.new.to_hex().to_string()),
        ])
    }

    /// The control plane: read_file under /data for every workload; TTL 60 s
    /// (the guide's per-task TTL), 4 s for the rotation workload; the `intruder` workload
    /// gets a credential and no policy.
    pub fn control_plane(&self) -> ControlPlaneSpec {
        let read = |ttl| WorkloadPolicy {
            tools: BTreeMap::from([(
                "read_file".to_owned(),
                ToolPolicy {
                    patterns: BTreeMap::from([("path".to_owned(), "/data/*".to_owned())]),
                },
            )]),
            max_ttl_secs: ttl,
        };
        let workloads = BTreeMap::from([
            (READER.to_owned(), read(READER_TTL_SECS)),
            (ROTATOR.to_owned(), read(ROTATION_TTL_SECS)),
            (BATCH.to_owned(), read(300)),
        ]);
        ControlPlaneSpec {
            keys_secret: "control-plane-keys".to_owned(),
            initial_key: "old".to_owned(),
            policy: Policy {
                max_ttl_secs: 300,
                workloads,
            },
            admin_token: self.admin_token.clone(),
            workloads: vec![
                READER.into(),
                ROTATOR.into(),
                BATCH.into(),
                NO_POLICY.into(),
            ],
        }
    }
}

/// The chart values of the suite: gateway mode, two replicas, the routes,
/// these trusted roots, the revocation list Secret, debug mode or not.
pub fn base_values(trusted: &[String], debug: bool) -> serde_json::Value {
    let gateway: serde_json::Value =
        serde_json::from_str(GATEWAY_YAML).unwrap_or(serde_json::Value::Null);
    json!({
        "mode": "gateway",
        "replicaCount": 2,
        "config": {
            "trustedRoots": trusted,
            "revocationSecret": "tenuo-revocations",
            "gateway": gateway,
            "debug": debug,
        },
    })
}
