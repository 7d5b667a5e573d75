//! Talks to the reference control plane: warrants for workloads, and the
//! admin calls of rotation and revocation.

use std::net::SocketAddr;

use anyhow::{bail, Context, Result};
use serde_json::json;
use tenuo_authz::crypto::PublicKey;

use crate::http::{request, Reply};

/// A client of the control plane's HTTP API.
#[derive(Debug, Clone)]
pub struct ControlPlaneClient {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Admin bearer token.
    pub admin_token: String,
}

/// A warrant as the control plane returns it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Issued {
    /// Base64url warrant.
    pub warrant: String,
    /// Its id.
    pub warrant_id: String,
    /// Granted TTL (after the caps).
    pub ttl_secs: u64,
    /// Hex key that signed it.
    pub issuer: String,
}

impl ControlPlaneClient {
    /// Asks for a warrant for `holder`, authenticating with a workload token.
    pub fn warrant(&self, token: &str, holder: &PublicKey, ttl: Option<u64>) -> Result<Issued> {
        let reply = self.warrant_reply(token, holder, ttl)?;
        if reply.status != 200 {
            bail!("control plane: {} {}", reply.status, reply.body);
        }
        serde_json::from_str(&reply.body).context("control plane warrant reply")
    }

    /// The control plane's raw answer to a warrant request (refusals too).
    pub(crate) fn warrant_reply(
        &self,
        token: &str,
        holder: &PublicKey,
        ttl: Option<u64>,
    ) -> Result<Reply> {
        let body = json!({"holder": holder.to_hex(), "ttl_secs": ttl}).to_string();
        let auth = format!("Bearer {token}");
        request(
            self.addr,
            "POST",
            "/v1/warrants",
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            &body,
        )
    }

    fn admin(&self, path: &str, body: serde_json::Value) -> Result<serde_json::Value> {
        let auth = format!("Bearer {}", self.admin_token);
        let reply = request(
            self.addr,
            "POST",
            path,
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            &body.to_string(),
        )?;
        if reply.status != 200 {
            bail!("control plane {path}: {} {}", reply.status, reply.body);
        }
        Ok(reply.json())
    }

    /// Switches the signing key to another key of the keys Secret.
    pub fn switch_key(&self, key_id: &str) -> Result<String> {
        let v = self.admin("/admin/signing-key", json!({"key_id": key_id}))?;
        Ok(v["issuer"].as_str().unwrap_or_default().to_owned())
    }

    /// Revokes a warrant; returns the new signed revocation list (base64).
    pub fn revoke(&self, warrant_id: &str) -> Result<String> {
        let v = self.admin("/admin/revoke", json!({"warrant_id": warrant_id}))?;
        Ok(v["revocations"].as_str().unwrap_or_default().to_owned())
    }

    /// The current signed revocation list (base64), signed by the current key.
    pub fn revocations(&self) -> Result<String> {
        let reply = request(self.addr, "GET", "/v1/revocations", &[], "")?;
        if reply.status != 200 {
            bail!("control plane revocations: {} {}", reply.status, reply.body);
        }
        Ok(reply.json()["revocations"]
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }
}
