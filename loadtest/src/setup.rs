//! What a target must be configured with to accept the harness's warrants: the
//! trusted root key and the gateway YAML (routes to the `read_file` and
//! `write_file` tools). `--write-setup DIR` writes them so any authorizer that
//! speaks the gateway contract can be started with the same trust and routes.

use std::path::Path;

use tenuo_authz::crypto::{PublicKey, SigningKey};

use crate::error::LoadError;

/// Route of the `read_file` tool: `GET /v1/files/read?path=...`.
pub(crate) const READ_PATH: &str = "/v1/files/read";
/// Route of the `write_file` tool: `POST /v1/files/write?path=...`.
pub(crate) const WRITE_PATH: &str = "/v1/files/write";

/// The root signing key and the gateway configuration of a run.
pub struct Setup {
    root: SigningKey,
}

impl std::fmt::Debug for Setup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Setup")
            .field("trusted_issuer", &self.trusted_issuer().to_hex())
            .finish_non_exhaustive()
    }
}

impl Setup {
    /// A fresh root key.
    pub fn generate() -> Result<Self, LoadError> {
        Ok(Self {
            root: SigningKey::generate()?,
        })
    }

    /// A setup from a known root key (tests).
    pub fn from_root(root: SigningKey) -> Self {
        Self { root }
    }

    /// Reads `DIR/root.key` (hex seed) written by [`Setup::write`].
    pub fn load(dir: &Path) -> Result<Self, LoadError> {
        let path = dir.join("root.key");
        let text = std::fs::read_to_string(&path).map_err(|e| LoadError::io(&path, e))?;
        Ok(Self {
            root: SigningKey::from_hex(text.trim())?,
        })
    }

    /// Writes `root.key`, `trusted_issuer.hex`, `gateway.yaml` and `README.txt`
    /// (how to start our authorizer and the reference with them) into `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), LoadError> {
        std::fs::create_dir_all(dir).map_err(|e| LoadError::io(dir, e))?;
        let trusted = self.trusted_issuer().to_hex();
        let files = [
            ("root.key", format!("{}\n", self.root.to_hex().as_str())),
            ("trusted_issuer.hex", format!("{trusted}\n")),
            ("gateway.yaml", self.gateway_yaml()),
            ("README.txt", readme(dir, &trusted)),
        ];
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|e| LoadError::io(&path, e))?;
        }
        Ok(())
    }

    /// The root signing key (a test key; never a production one).
    pub fn root(&self) -> &SigningKey {
        &self.root
    }

    /// The key a target must trust.
    pub fn trusted_issuer(&self) -> PublicKey {
        self.root.public_key()
    }

    /// The gateway configuration the scenarios' requests are written for.
    pub fn gateway_yaml(&self) -> String {
        format!(
            r#"# tenuo-loadtest gateway configuration
version: "1"
settings:
  trusted_roots: ["{trusted}"]
tools:
  read_file:
    description: Read a file
    constraints:
      path: {{from: query, path: path, required: true}}
  write_file:
    description: Write a file
    constraints:
      path: {{from: query, path: path, required: true}}
routes:
  - pattern: {READ_PATH}
    method: [GET]
    tool: read_file
  - pattern: {WRITE_PATH}
    method: [POST]
    tool: write_file
"#,
            trusted = self.trusted_issuer().to_hex()
        )
    }
}

fn readme(dir: &Path, trusted: &str) -> String {
    let dir = dir.display();
    format!(
        "Load-test setup: trusted issuer {trusted}\n\n\
         Our authorizer:\n  tenuo-authorizer serve --listen 127.0.0.1:9090 --metrics-listen 127.0.0.1:9091 \\\n    --trusted-issuer {trusted} --config {dir}/gateway.yaml\n\n\
         The reference (crate tenuo 0.3.5, feature server):\n  tenuo-authorizer --trusted-keys {trusted} serve --bind 127.0.0.1 --port 9190 \\\n    --health-port 0 --config {dir}/gateway.yaml\n\n\
         Then: tenuo-loadtest --setup {dir} --target http://127.0.0.1:9090 --compare http://127.0.0.1:9190\n\n\
         On a machine with few cores the load generator takes CPU from the authorizers, and more\n\
         from the faster one. To give both authorizers the same CPU and the load its own, start\n\
         each authorizer under `taskset -c 0` and the load test under `taskset -c 1`.\n"
    )
}
