//! Server settings: CONTRACTS §5, read from flags and the environment (flags win),
//! through an injectable [`Env`] so tests supply their own.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::batch::SignatureCriterion;
use crate::cache::CacheConfig;
use crate::crypto::PublicKey;
use crate::replay::ReplayConfig;

/// Where environment variables come from.
pub trait Env {
    /// The variable's value, if set and valid UTF-8.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Env for std::collections::HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// Command-line flags of `tenuo-authorizer serve`; each overrides its variable.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// Trusted root issuer key (hex); repeatable. Env: TRUSTED_ISSUERS (alias TENUO_TRUSTED_KEYS), comma-separated.
    #[arg(long = "trusted-issuer")]
    pub trusted_issuers: Vec<String>,
    /// File of trusted issuer keys (hex, one per line or comma-separated), watched. Env: TRUSTED_ISSUERS_FILE.
    #[arg(long)]
    pub trusted_issuers_file: Option<PathBuf>,
    /// Gateway config (Tenuo gateway YAML: tools, routes, extraction), watched. Env: TENUO_GATEWAY_CONFIG.
    #[arg(long = "config")]
    pub gateway_config: Option<PathBuf>,
    /// Signed revocation list (base64 or CBOR), watched. Env: TENUO_REVOCATION_FILE.
    #[arg(long)]
    pub revocation_file: Option<PathBuf>,
    /// Debug mode: detailed denials and the X-Tenuo-Deny-Reason header. Never in production. Env: DEBUG_MODE=true.
    #[arg(long)]
    pub debug: bool,
    /// Listen address. Env: LISTEN_ADDR. Default 0.0.0.0:9090.
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Metrics listen address. Env: METRICS_ADDR. Default 0.0.0.0:9091.
    #[arg(long = "metrics-listen")]
    pub metrics_listen: Option<SocketAddr>,
    /// Prefix to strip from gateway request paths (Envoy ext_authz HTTP `path_prefix`). Env: TENUO_PATH_PREFIX.
    #[arg(long)]
    pub path_prefix: Option<String>,
    /// Most requests decided at once; more are shed with 503. Env: TENUO_MAX_CONCURRENCY. Default 1024.
    #[arg(long)]
    pub max_concurrency: Option<usize>,
    /// Deny a PoP already accepted for the same warrant, tool and arguments while it could still be accepted (per replica). Env: TENUO_REPLAY_PROTECTION=true.
    #[arg(long)]
    pub replay_protection: bool,
    /// Most PoPs the replay store remembers; when full, new PoPs are denied. Env: TENUO_REPLAY_CAPACITY. Default 100000.
    #[arg(long)]
    pub replay_capacity: Option<usize>,
    /// Judge signatures exactly as `verify_strict` does (the reference's verdicts bit for bit): chain signatures one by one, PoPs inline, no batching. Env: TENUO_STRICT_SIGNATURES=true.
    #[arg(long)]
    pub strict_signatures: bool,
}

/// Why the settings are unusable. Each names what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No trusted issuer from any source.
    #[error("no trusted issuer: set TRUSTED_ISSUERS (comma-separated hex keys), --trusted-issuer, or TRUSTED_ISSUERS_FILE")]
    NoTrustedIssuers,
    /// A key is not a valid Ed25519 public key.
    #[error("{source_name}: {key:?} is not a valid Ed25519 public key ({reason})")]
    BadKey {
        /// Where it came from.
        source_name: String,
        /// The text (a public key, so safe to show).
        key: String,
        /// Why.
        reason: String,
    },
    /// A variable or file is unreadable or malformed.
    #[error("{name}: {reason}")]
    Invalid {
        /// The variable, flag or file.
        name: String,
        /// Why.
        reason: String,
    },
}

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Main listener (HTTP/1.1, h2c, gRPC).
    pub listen: SocketAddr,
    /// Metrics listener.
    pub metrics_listen: SocketAddr,
    /// Keys trusted from the environment or flags (fixed for the process).
    pub trusted_issuers: Vec<PublicKey>,
    /// Keys file, watched and reloaded.
    pub trusted_issuers_file: Option<PathBuf>,
    /// Gateway YAML file, watched and reloaded.
    pub gateway_config: Option<PathBuf>,
    /// Gateway YAML given inline (embedded use); ignored when a file is set.
    pub gateway_yaml: Option<String>,
    /// Revocation list file, watched and reloaded.
    pub revocation_file: Option<PathBuf>,
    /// Debug mode.
    pub debug: bool,
    /// Prefix stripped from gateway paths.
    pub path_prefix: Option<String>,
    /// Most requests in flight before shedding.
    pub max_concurrency: usize,
    /// Longest time a request may take.
    pub request_timeout: Duration,
    /// Largest request body read.
    pub max_body_bytes: usize,
    /// Largest request head (HTTP/1 buffer, HTTP/2 header list).
    pub max_header_bytes: usize,
    /// How long SIGTERM waits for in-flight requests.
    pub shutdown_grace: Duration,
    /// How long, after readiness turns false on shutdown, new connections are
    /// still accepted (so load balancers can stop routing here first).
    pub drain_delay: Duration,
    /// How often watched files are checked.
    pub watch_interval: Duration,
    /// Verified-chain cache sizing.
    pub cache: CacheConfig,
    /// PoP replay protection, when on.
    pub replay: Option<ReplayConfig>,
    /// The Ed25519 criterion for chain and PoP signatures; with
    /// [`SignatureCriterion::Strict`] PoPs are verified inline, not batched.
    pub signatures: SignatureCriterion,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 9090)),
            metrics_listen: SocketAddr::from(([0, 0, 0, 0], 9091)),
            trusted_issuers: Vec::new(),
            trusted_issuers_file: None,
            gateway_config: None,
            gateway_yaml: None,
            revocation_file: None,
            debug: false,
            path_prefix: None,
            max_concurrency: 1024,
            request_timeout: Duration::from_secs(5),
            max_body_bytes: 1024 * 1024,
            max_header_bytes: 64 * 1024,
            shutdown_grace: Duration::from_secs(20),
            drain_delay: Duration::from_secs(2),
            watch_interval: Duration::from_secs(2),
            cache: CacheConfig::default(),
            replay: None,
            signatures: SignatureCriterion::default(),
        }
    }
}

impl ServerConfig {
    /// Resolves flags over the environment over defaults.
    pub fn resolve(args: ServeArgs, env: &dyn Env) -> Result<Self, ConfigError> {
        let mut config = Self::default();
        let keys_text: Vec<(String, String)> = if args.trusted_issuers.is_empty() {
            ["TRUSTED_ISSUERS", "TENUO_TRUSTED_KEYS"]
                .iter()
                .find_map(|name| {
                    env.var(name)
                        .filter(|v| !v.trim().is_empty())
                        .map(|v| (name.to_string(), v))
                })
                .map(|(name, value)| {
                    split_keys(&value)
                        .map(|k| (name.clone(), k.to_owned()))
                        .collect()
                })
                .unwrap_or_default()
        } else {
            args.trusted_issuers
                .iter()
                .flat_map(|v| {
                    split_keys(v)
                        .map(|k| ("--trusted-issuer".to_owned(), k.to_owned()))
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        for (source_name, key) in keys_text {
            let parsed = PublicKey::from_hex(&key).map_err(|e| ConfigError::BadKey {
                source_name,
                key: key.clone(),
                reason: e.to_string(),
            })?;
            config.trusted_issuers.push(parsed);
        }
        config.trusted_issuers_file = args
            .trusted_issuers_file
            .or_else(|| env.var("TRUSTED_ISSUERS_FILE").map(PathBuf::from));
        config.gateway_config = args
            .gateway_config
            .or_else(|| env.var("TENUO_GATEWAY_CONFIG").map(PathBuf::from));
        config.revocation_file = args
            .revocation_file
            .or_else(|| env.var("TENUO_REVOCATION_FILE").map(PathBuf::from));
        config.debug = args.debug || flag_is_set(env, "DEBUG_MODE");
        config.listen = match args.listen {
            Some(addr) => addr,
            None => parse_var(env, "LISTEN_ADDR")?.unwrap_or(config.listen),
        };
        config.metrics_listen = match args.metrics_listen {
            Some(addr) => addr,
            None => parse_var(env, "METRICS_ADDR")?.unwrap_or(config.metrics_listen),
        };
        config.path_prefix = args
            .path_prefix
            .or_else(|| env.var("TENUO_PATH_PREFIX"))
            .filter(|p| !p.is_empty());
        config.max_concurrency = match args.max_concurrency {
            Some(n) => n,
            None => parse_var(env, "TENUO_MAX_CONCURRENCY")?.unwrap_or(config.max_concurrency),
        }
        .max(1);
        let replay_on = args.replay_protection || flag_is_set(env, "TENUO_REPLAY_PROTECTION");
        if replay_on {
            let mut replay = ReplayConfig::default();
            replay.capacity = match args.replay_capacity {
                Some(n) => n,
                None => parse_var(env, "TENUO_REPLAY_CAPACITY")?.unwrap_or(replay.capacity),
            };
            if replay.capacity == 0 {
                return Err(ConfigError::Invalid {
                    name: "TENUO_REPLAY_CAPACITY".into(),
                    reason: "must be at least 1".into(),
                });
            }
            config.replay = Some(replay);
        }
        if args.strict_signatures || flag_is_set(env, "TENUO_STRICT_SIGNATURES") {
            config.signatures = SignatureCriterion::Strict;
        }
        if config.trusted_issuers.is_empty() && config.trusted_issuers_file.is_none() {
            return Err(ConfigError::NoTrustedIssuers);
        }
        Ok(config)
    }
}

/// Whether a boolean variable is on (`true`, `1` or `yes`).
fn flag_is_set(env: &dyn Env, name: &str) -> bool {
    env.var(name)
        .is_some_and(|v| matches!(v.trim(), "true" | "1" | "yes"))
}

fn parse_var<T: std::str::FromStr>(env: &dyn Env, name: &str) -> Result<Option<T>, ConfigError>
where
    T::Err: std::fmt::Display,
{
    env.var(name)
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            v.trim().parse().map_err(|e: T::Err| ConfigError::Invalid {
                name: name.to_owned(),
                reason: e.to_string(),
            })
        })
        .transpose()
}

/// Splits a list of hex keys on commas and whitespace, dropping `#` comments.
pub fn split_keys(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|line| line.split('#').next().unwrap_or_default())
        .flat_map(|line| line.split(|c: char| c == ',' || c.is_whitespace()))
        .filter(|k| !k.is_empty())
}

/// Parses a trusted-issuers file's text: at least one key, every key valid.
pub fn parse_keys_file(name: &str, text: &str) -> Result<Vec<PublicKey>, ConfigError> {
    let keys = split_keys(text)
        .map(|k| {
            PublicKey::from_hex(k).map_err(|e| ConfigError::BadKey {
                source_name: name.to_owned(),
                key: k.to_owned(),
                reason: e.to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Err(ConfigError::Invalid {
            name: name.to_owned(),
            reason: "holds no key".into(),
        });
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const KEY: &str = "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c";
    const KEY2: &str = "8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394";

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn environment_with_flags_on_top() {
        let e = env(&[
            ("TRUSTED_ISSUERS", &format!("{KEY}, {KEY2}")),
            ("LISTEN_ADDR", "127.0.0.1:8000"),
            ("DEBUG_MODE", "true"),
        ]);
        let config = ServerConfig::resolve(ServeArgs::default(), &e).unwrap();
        assert_eq!(config.trusted_issuers.len(), 2);
        assert_eq!(config.listen, "127.0.0.1:8000".parse().unwrap());
        assert!(config.debug);
        let args = ServeArgs {
            listen: Some("127.0.0.1:9000".parse().unwrap()),
            trusted_issuers: vec![KEY2.into()],
            ..ServeArgs::default()
        };
        let config = ServerConfig::resolve(args, &e).unwrap();
        assert_eq!(config.listen, "127.0.0.1:9000".parse().unwrap());
        assert_eq!(config.trusted_issuers.len(), 1);
        let alias = env(&[("TENUO_TRUSTED_KEYS", KEY)]);
        assert_eq!(
            ServerConfig::resolve(ServeArgs::default(), &alias)
                .unwrap()
                .trusted_issuers
                .len(),
            1
        );
    }

    #[test]
    fn errors_name_what_to_fix() {
        let err = ServerConfig::resolve(ServeArgs::default(), &env(&[])).unwrap_err();
        assert!(err.to_string().contains("TRUSTED_ISSUERS"), "{err}");
        let err = ServerConfig::resolve(ServeArgs::default(), &env(&[("TRUSTED_ISSUERS", "abc")]))
            .unwrap_err();
        assert!(
            err.to_string().contains("TRUSTED_ISSUERS") && err.to_string().contains("abc"),
            "{err}"
        );
        let err = ServerConfig::resolve(
            ServeArgs::default(),
            &env(&[("TRUSTED_ISSUERS", KEY), ("LISTEN_ADDR", "nope")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("LISTEN_ADDR"), "{err}");
    }

    #[test]
    fn replay_protection_is_opt_in() {
        let off = ServerConfig::resolve(ServeArgs::default(), &env(&[("TRUSTED_ISSUERS", KEY)]));
        assert_eq!(off.unwrap().replay, None);
        let on = env(&[
            ("TRUSTED_ISSUERS", KEY),
            ("TENUO_REPLAY_PROTECTION", "true"),
            ("TENUO_REPLAY_CAPACITY", "500"),
        ]);
        let replay = ServerConfig::resolve(ServeArgs::default(), &on)
            .unwrap()
            .replay;
        assert_eq!(replay.map(|r| r.capacity), Some(500));
        let flag = ServeArgs {
            replay_protection: true,
            ..ServeArgs::default()
        };
        let replay = ServerConfig::resolve(flag, &env(&[("TRUSTED_ISSUERS", KEY)]))
            .unwrap()
            .replay;
        assert_eq!(replay, Some(ReplayConfig::default()));
        let zero = env(&[
            ("TRUSTED_ISSUERS", KEY),
            ("TENUO_REPLAY_PROTECTION", "1"),
            ("TENUO_REPLAY_CAPACITY", "0"),
        ]);
        let err = ServerConfig::resolve(ServeArgs::default(), &zero).unwrap_err();
        assert!(err.to_string().contains("TENUO_REPLAY_CAPACITY"), "{err}");
    }

    #[test]
    fn strict_signatures_are_opt_in() {
        let resolve = |args: ServeArgs, vars: &[(&str, &str)]| {
            ServerConfig::resolve(args, &env(vars)).unwrap().signatures
        };
        let trusted = ("TRUSTED_ISSUERS", KEY);
        assert_eq!(
            resolve(ServeArgs::default(), &[trusted]),
            SignatureCriterion::Cofactored
        );
        let on = ("TENUO_STRICT_SIGNATURES", "true");
        assert_eq!(
            resolve(ServeArgs::default(), &[trusted, on]),
            SignatureCriterion::Strict
        );
        let off = ("TENUO_STRICT_SIGNATURES", "false");
        assert_eq!(
            resolve(ServeArgs::default(), &[trusted, off]),
            SignatureCriterion::Cofactored
        );
        let flag = ServeArgs {
            strict_signatures: true,
            ..ServeArgs::default()
        };
        assert_eq!(resolve(flag, &[trusted]), SignatureCriterion::Strict);
    }

    #[test]
    fn key_files_allow_comments_and_refuse_emptiness() {
        assert_eq!(
            parse_keys_file("f", &format!("# old\n{KEY}\n{KEY2}, \n"))
                .unwrap()
                .len(),
            2
        );
        assert!(parse_keys_file("f", "# nothing\n").is_err());
        assert!(parse_keys_file("f", "zz").is_err());
    }
}
