//! Files the server watches (trusted issuers, gateway config, revocation list):
//! loaded at start (a bad file is a startup error), then polled and swapped
//! atomically on change. A bad new file is logged and refused; the old one stays.
//!
//! Polling (default every 2 s) rather than inotify: Kubernetes updates mounted
//! Secrets and ConfigMaps by swapping a symlink, which polling sees reliably.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use sha2::Digest;

use super::config::{parse_keys_file, ConfigError};
use super::metrics::{GatewayTools, Metrics};
use super::revocation_floor::RevocationFloor;
use crate::crypto::PublicKey;
use crate::decision::TrustedIssuers;
use crate::engine::{CallRequest, ExtractCall, ExtractError};
use crate::gateway::CompiledGateway;
use crate::pop::Args;
use crate::revocation::{RevocationError, SignedRevocationList};
use crate::Authorizer;

/// The gateway config in force; swapped whole on reload.
#[derive(Debug, Default)]
pub struct ReloadableGateway {
    current: ArcSwapOption<CompiledGateway>,
}

impl ReloadableGateway {
    /// Installs a compiled config.
    pub fn store(&self, gateway: CompiledGateway) {
        self.current.store(Some(Arc::new(gateway)));
    }

    /// Whether a config is loaded.
    pub fn is_loaded(&self) -> bool {
        self.current.load().is_some()
    }

    /// The config in force, if one is loaded.
    pub fn current(&self) -> Option<Arc<CompiledGateway>> {
        self.current.load_full()
    }
}

impl GatewayTools for ReloadableGateway {
    fn routes_to(&self, tool: &str) -> bool {
        self.current
            .load()
            .as_ref()
            .is_some_and(|gateway| gateway.routes().iter().any(|route| route.tool() == tool))
    }
}

impl ExtractCall for ReloadableGateway {
    fn needs_body(&self, parts: &http::request::Parts) -> bool {
        self.current
            .load()
            .as_ref()
            .is_some_and(|g| ExtractCall::needs_body(g.as_ref(), parts))
    }

    fn extract(&self, request: &CallRequest<'_>) -> Result<(String, Args), ExtractError> {
        match self.current.load().as_ref() {
            Some(gateway) => ExtractCall::extract(gateway.as_ref(), request),
            None => Err(ExtractError::NoRoute {
                method: request.parts.method.to_string(),
                path: request.parts.uri.path().to_owned(),
            }),
        }
    }
}

/// Applies a file's new contents, or says why they are refused.
type Apply = Box<dyn Fn(&[u8]) -> Result<(), ConfigError> + Send + Sync>;

/// One watched file and how to apply its contents.
pub(crate) struct Watch {
    pub(crate) name: &'static str,
    pub(crate) path: PathBuf,
    pub(crate) apply: Apply,
}

impl Watch {
    /// Reads and applies the file now.
    pub(crate) fn load(&self) -> Result<[u8; 32], ConfigError> {
        let bytes = read(&self.path, self.name)?;
        (self.apply)(&bytes)?;
        Ok(sha2::Sha256::digest(&bytes).into())
    }
}

fn read(path: &Path, name: &str) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|e| ConfigError::Invalid {
        name: format!("{name} {}", path.display()),
        reason: e.to_string(),
    })
}

/// Polls the files; applies each change, logging what happened.
pub(crate) async fn watch_loop(watches: Vec<(Watch, [u8; 32])>, interval: Duration) {
    let mut watches = watches;
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        for (watch, last) in &mut watches {
            let Ok(bytes) = std::fs::read(&watch.path) else {
                tracing::warn!(event = "config_unreadable", file = watch.name, path = %watch.path.display());
                continue;
            };
            let digest: [u8; 32] = sha2::Sha256::digest(&bytes).into();
            if digest == *last {
                continue;
            }
            match (watch.apply)(&bytes) {
                Ok(()) => {
                    *last = digest;
                    tracing::info!(event = "config_reloaded", file = watch.name, path = %watch.path.display());
                }
                Err(error) => {
                    // Remember the digest so one bad file is reported once, not every tick.
                    *last = digest;
                    tracing::error!(event = "config_rejected", file = watch.name, path = %watch.path.display(), error = %error);
                }
            }
        }
    }
}

/// The trusted issuers from every source: fixed (flags, environment), the
/// keys file, and the gateway config's `settings.trusted_roots` (which the
/// reference authorizer trusts too). A reload of either file replaces only
/// its own part; the authorizer gets the union.
pub(crate) struct TrustSources {
    fixed: Vec<PublicKey>,
    /// The two reloadable parts, under one lock so a replacement of one always
    /// sees the other as it is.
    parts: Mutex<TrustParts>,
    authorizer: Arc<Authorizer>,
    metrics: Arc<Metrics>,
}

/// The keys each reloadable file provides.
#[derive(Debug, Clone, Default)]
struct TrustParts {
    file: Vec<PublicKey>,
    gateway: Vec<PublicKey>,
}

/// Which part of the trusted set a file provides.
#[derive(Debug, Clone, Copy)]
enum TrustPart {
    File,
    Gateway,
}

impl TrustSources {
    pub(crate) fn new(
        fixed: Vec<PublicKey>,
        authorizer: Arc<Authorizer>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            fixed,
            parts: Mutex::new(TrustParts::default()),
            authorizer,
            metrics,
        }
    }

    /// Replaces one part and installs the union, unless that would take away
    /// the last trusted key (a server trusting nobody denies everything).
    fn replace(
        &self,
        part: TrustPart,
        keys: Vec<PublicKey>,
        name: &str,
    ) -> Result<(), ConfigError> {
        let mut parts = self.parts.lock().unwrap_or_else(PoisonError::into_inner);
        let mut next = parts.clone();
        match part {
            TrustPart::File => next.file = keys,
            TrustPart::Gateway => next.gateway = keys,
        }
        let mut all = self.fixed.clone();
        all.extend(next.file.iter().copied());
        all.extend(next.gateway.iter().copied());
        if all.is_empty() {
            if self.authorizer.trusted_issuers().is_empty() {
                // Nothing was trusted and nothing is: at start, the server's
                // own check says which settings could supply a key.
                return Ok(());
            }
            return Err(ConfigError::Invalid {
                name: name.to_owned(),
                reason: "would leave no trusted issuer".into(),
            });
        }
        *parts = next;
        let trusted = TrustedIssuers::new(all);
        self.metrics.set_trusted_issuers(trusted.len());
        self.authorizer.set_trusted_issuers(trusted);
        Ok(())
    }

    /// Installs a gateway config's trusted roots (start-up, inline YAML).
    pub(crate) fn set_gateway_roots(&self, gateway: &CompiledGateway) -> Result<(), ConfigError> {
        if gateway.settings().trusted_roots.is_empty() {
            return Ok(());
        }
        self.replace(
            TrustPart::Gateway,
            gateway.settings().trusted_roots.clone(),
            "settings.trusted_roots",
        )
    }
}

/// Trusted issuers from a file, added to the other sources.
pub(crate) fn trust_watch(path: PathBuf, sources: Arc<TrustSources>) -> Watch {
    let name = "TRUSTED_ISSUERS_FILE";
    Watch {
        name,
        path,
        apply: Box::new(move |bytes| {
            let text = utf8(name, bytes)?;
            let keys = parse_keys_file(name, text)?;
            sources.replace(TrustPart::File, keys, name)
        }),
    }
}

/// The gateway YAML; its `settings.trusted_roots` join the trusted issuers.
/// With `auth_request` (nginx), routes reading the body are warned about.
pub(crate) fn gateway_watch(
    path: PathBuf,
    gateway: Arc<ReloadableGateway>,
    sources: Arc<TrustSources>,
    auth_request: bool,
) -> Watch {
    let name = "TENUO_GATEWAY_CONFIG";
    Watch {
        name,
        path,
        apply: Box::new(move |bytes| {
            let text = utf8(name, bytes)?;
            let compiled = CompiledGateway::from_yaml(text).map_err(|e| ConfigError::Invalid {
                name: name.into(),
                reason: e.to_string(),
            })?;
            let roots = compiled.settings().trusted_roots.clone();
            sources.replace(TrustPart::Gateway, roots, name)?;
            if auth_request {
                super::auth_request::warn_about_body_routes(&compiled);
            }
            gateway.store(compiled);
            Ok(())
        }),
    }
}

/// The signed revocation list (base64 text or CBOR). With a floor, a list
/// older than one accepted before (even by an earlier process) is refused, and
/// each accepted list raises the floor before it is installed.
pub(crate) fn revocation_watch(
    path: PathBuf,
    authorizer: Arc<Authorizer>,
    floor: Option<Arc<RevocationFloor>>,
) -> Watch {
    let name = "TENUO_REVOCATION_FILE";
    let invalid = move |reason: String| ConfigError::Invalid {
        name: name.into(),
        reason,
    };
    Watch {
        name,
        path,
        apply: Box::new(move |bytes| {
            let list = match std::str::from_utf8(bytes) {
                Ok(text)
                    if !text.trim().is_empty()
                        && text.trim().bytes().all(|b| b.is_ascii_graphic()) =>
                {
                    SignedRevocationList::from_base64(text)
                }
                _ => SignedRevocationList::from_cbor(bytes),
            }
            .map_err(|e| invalid(e.to_string()))?;
            if let Some(floor) = &floor {
                floor.check(&list).map_err(|e| invalid(e.to_string()))?;
                // Only a list that would be installed may raise the floor: a
                // forged or untrusted one must not lock out the real next list.
                if !authorizer.trusted_issuers().contains(list.issuer()) {
                    return Err(invalid(
                        RevocationError::UntrustedIssuer(Box::new(*list.issuer())).to_string(),
                    ));
                }
                list.verify().map_err(|e| invalid(e.to_string()))?;
                floor.record(&list).map_err(|e| invalid(e.to_string()))?;
            }
            authorizer
                .install_revocation_list(&list)
                .map_err(|e| invalid(e.to_string()))
        }),
    }
}

/// A watched text file's contents, or an error naming the file.
fn utf8<'a>(name: &'static str, bytes: &'a [u8]) -> Result<&'a str, ConfigError> {
    std::str::from_utf8(bytes).map_err(|_| ConfigError::Invalid {
        name: name.into(),
        reason: "not UTF-8".into(),
    })
}
