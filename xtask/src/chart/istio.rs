//! The Istio example against the rendered Service: the port its gRPC ext_authz
//! provider names must be HTTP/2 to Istio. Istio gives a Service port one
//! protocol, read from `appProtocol` or else from the port's name; a port it
//! takes for HTTP/1.1 gets the gRPC check over HTTP/1.1, and with `failOpen:
//! false` the mesh then denies every request.

use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::ServicePort;
use serde::Deserialize;

use super::checks::{violation, Violation};
use super::objects::{Object, Typed};

/// The example, relative to the project root.
pub(crate) const EXAMPLE: &str = "docs/examples/istio-ext-authz.yaml";

/// One `envoyExtAuthzGrpc` extension provider of the example's mesh config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Provider {
    pub(crate) name: String,
    /// The FQDN Istio resolves, `<service>.<namespace>.svc.cluster.local`.
    pub(crate) service: String,
    pub(crate) port: i32,
}

#[derive(Deserialize)]
struct Document {
    #[serde(default)]
    spec: Option<Spec>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    #[serde(default)]
    mesh_config: Option<MeshConfig>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MeshConfig {
    #[serde(default)]
    extension_providers: Vec<ExtensionProvider>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExtensionProvider {
    name: String,
    #[serde(default)]
    envoy_ext_authz_grpc: Option<GrpcProvider>,
}

#[derive(Deserialize)]
struct GrpcProvider {
    service: String,
    port: i32,
}

/// The gRPC ext_authz providers of a (multi-document) Istio YAML. None is an
/// error: the check would have nothing to hold the chart to.
pub(crate) fn providers(yaml: &str) -> Result<Vec<Provider>> {
    let mut out = Vec::new();
    for doc in serde_norway::Deserializer::from_str(yaml) {
        let doc = Document::deserialize(doc).context("an Istio document")?;
        let providers = doc
            .spec
            .and_then(|s| s.mesh_config)
            .map(|m| m.extension_providers)
            .unwrap_or_default();
        for p in providers {
            if let Some(grpc) = p.envoy_ext_authz_grpc {
                out.push(Provider {
                    name: p.name,
                    service: grpc.service,
                    port: grpc.port,
                });
            }
        }
    }
    anyhow::ensure!(!out.is_empty(), "no envoyExtAuthzGrpc provider");
    Ok(out)
}

/// Whether Istio takes this Service port for HTTP/2 (gRPC included):
/// `appProtocol` when set, which wins over the name, else the name's
/// `<protocol>[-<suffix>]` prefix.
pub(crate) fn is_http2(port: &ServicePort) -> bool {
    match port.app_protocol.as_deref() {
        Some(app) => {
            let app = app.to_ascii_lowercase();
            matches!(app.as_str(), "http2" | "grpc" | "kubernetes.io/h2c")
        }
        None => {
            let name = port
                .name
                .as_deref()
                .unwrap_or_default()
                .to_ascii_lowercase();
            let protocol = name.split('-').next().unwrap_or_default();
            matches!(protocol, "http2" | "grpc")
        }
    }
}

/// Every rendered Service a provider names must serve its port as HTTP/2.
/// With `must_match` (default values, a gateway rendered), each provider must
/// name a Service of this render: the example points at the chart's defaults.
pub(crate) fn check(
    objects: &[Typed],
    providers: &[Provider],
    must_match: bool,
    out: &mut Vec<Violation>,
) {
    for provider in providers {
        let mut matched = false;
        for t in objects {
            let Object::Service(svc) = &t.object else {
                continue;
            };
            let meta = &svc.metadata;
            let fqdn = format!(
                "{}.{}.svc.cluster.local",
                meta.name.as_deref().unwrap_or_default(),
                meta.namespace.as_deref().unwrap_or_default()
            );
            if fqdn != provider.service {
                continue;
            }
            matched = true;
            let ports = svc
                .spec
                .as_ref()
                .and_then(|s| s.ports.as_deref())
                .unwrap_or_default();
            match ports.iter().find(|p| p.port == provider.port) {
                None => {
                    let msg = format!(
                        "{EXAMPLE}: provider `{}` calls port {}, which this Service lacks",
                        provider.name, provider.port
                    );
                    out.push(violation("istio-grpc-port", &t.id, msg));
                }
                Some(p) if !is_http2(p) => {
                    let msg = format!(
                        "port {} (name `{}`, appProtocol `{}`) is HTTP/1.1 to Istio, so \
                         {EXAMPLE}'s gRPC provider `{}` would send gRPC over HTTP/1.1: \
                         declare appProtocol http2",
                        p.port,
                        p.name.as_deref().unwrap_or("none"),
                        p.app_protocol.as_deref().unwrap_or("none"),
                        provider.name
                    );
                    out.push(violation("istio-grpc-port", &t.id, msg));
                }
                Some(_) => {}
            }
        }
        if must_match && !matched {
            let msg = format!(
                "provider `{}` calls {}, a Service default values do not render",
                provider.name, provider.service
            );
            out.push(violation("istio-grpc-port", EXAMPLE, msg));
        }
    }
}
