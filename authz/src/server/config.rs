//! Server settings: `docs/reference.md` §5, read from flags and the environment (flags win),
//! through an injectable [`Env`] so tests supply their own.
//!
//! The reference authorizer's flags and variables are accepted too, with its
//! meaning. Where one of ours and one of its set the same thing, a flag beats a
//! variable; two flags (or two variables) naming the same thing with different
//! values are refused with [`ConfigError::Conflict`], naming both.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::cache::CacheConfig;
use crate::crypto::PublicKey;
use crate::crypto::SignatureCriterion;
use crate::replay::ReplayConfig;

use super::reference_cli::{flag_or_var, GlobalArgs};
pub use super::settings_source::{ConfigError, Env, ProcessEnv};
use super::unix_socket::{parse_socket_mode, resolve_group, UnixSocketConfig, DEFAULT_SOCKET_MODE};

/// Command-line flags of `tenuo-authorizer serve`; each overrides its variable.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// Trusted root issuer key (hex); repeatable; trusted together with the global --trusted-keys. Env: TRUSTED_ISSUERS or TENUO_TRUSTED_KEYS, comma-separated (both set to different keys is an error).
    #[arg(long = "trusted-issuer")]
    pub trusted_issuers: Vec<String>,
    /// File of trusted issuer keys (hex, one per line or comma-separated), watched. Env: TRUSTED_ISSUERS_FILE.
    #[arg(long)]
    pub trusted_issuers_file: Option<PathBuf>,
    /// Gateway config (Tenuo gateway YAML: tools, routes, extraction), watched. Env: TENUO_GATEWAY_CONFIG.
    #[arg(short = 'c', long = "config")]
    pub gateway_config: Option<PathBuf>,
    /// Signed revocation list (base64 or CBOR), watched; the reference's name is the global --revocation-list. Env: TENUO_REVOCATION_FILE or TENUO_REVOCATION_LIST.
    #[arg(long)]
    pub revocation_file: Option<PathBuf>,
    /// Debug mode: detailed denials and the X-Tenuo-Deny-Reason header. Never in production. Env: DEBUG_MODE=true.
    #[arg(long)]
    pub debug: bool,
    /// Listen address. Env: LISTEN_ADDR. Default 0.0.0.0:9090. Not with --port/--bind or --socket.
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Port of the main listener (the reference's flag); the address is --bind:--port, and beats LISTEN_ADDR. Default 9090.
    #[arg(short = 'p', long)]
    pub port: Option<u16>,
    /// IP address of the main listener (the reference's flag), with --port. Default 0.0.0.0.
    #[arg(short = 'b', long)]
    pub bind: Option<String>,
    /// Serve the same API on this Unix socket instead of TCP (stale socket replaced, removed on exit). Not with --listen, --port, --bind or LISTEN_ADDR.
    #[arg(long)]
    pub socket: Option<PathBuf>,
    /// Octal permission bits of the --socket file. Default 0660.
    #[arg(long)]
    pub socket_mode: Option<String>,
    /// Group (name in /etc/group, or gid) of the --socket file.
    #[arg(long)]
    pub socket_group: Option<String>,
    /// Metrics listen address; it also answers /health, /healthz, /ready and /status. Env: METRICS_ADDR. Default 0.0.0.0:9091 (with --socket: off). Set with --health-port/--health-bind to another address, an error.
    #[arg(long = "metrics-listen")]
    pub metrics_listen: Option<SocketAddr>,
    /// Port of the metrics and health listener (the reference's flag); 0 turns the listener off. Env: TENUO_HEALTH_PORT. Default 9091.
    #[arg(long)]
    pub health_port: Option<u16>,
    /// IP address of the metrics and health listener. Env: TENUO_HEALTH_BIND. Default --bind's (127.0.0.1 with --socket).
    #[arg(long)]
    pub health_bind: Option<String>,
    /// Also answer /healthz and /status on the main listener (it always answers /health and /ready; our chart probes them). Unsafe behind an HTTP ext_authz proxy without a path prefix: those paths are answered 200 without a warrant. Env: TENUO_LEGACY_HEALTH_ON_MAIN_PORT=true.
    #[arg(long)]
    pub legacy_health_on_main_port: bool,
    /// Prefix to strip from gateway request paths (Envoy ext_authz HTTP `path_prefix`). Env: TENUO_PATH_PREFIX.
    #[arg(long)]
    pub path_prefix: Option<String>,
    /// Serve nginx auth_request: every answer is 2xx, 401 or 403 (a 400 or 503 becomes 403 with X-Tenuo-Status), and routes reading the body are warned about at load. Requests carrying X-Original-URI get those statuses without it. Env: TENUO_AUTH_REQUEST=true.
    #[arg(long)]
    pub auth_request: bool,
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

/// Everything the server needs to start.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Main listener (HTTP/1.1, h2c, gRPC).
    pub listen: SocketAddr,
    /// Metrics listener (also the health routes), when [`Self::serve_metrics`].
    pub metrics_listen: SocketAddr,
    /// Whether the metrics and health listener runs (`--health-port 0`: no).
    pub serve_metrics: bool,
    /// Serve on this Unix socket instead of [`Self::listen`].
    pub unix_socket: Option<UnixSocketConfig>,
    /// Revocation floor file (highest list version accepted, across restarts).
    pub revocation_floor: Option<PathBuf>,
    /// Also answer `/healthz` and `/status` on the main listener.
    pub legacy_health_on_main_port: bool,
    /// Answer every request as an nginx `auth_request` subrequest.
    pub auth_request: bool,
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
            serve_metrics: true,
            unix_socket: None,
            revocation_floor: None,
            legacy_health_on_main_port: false,
            auth_request: false,
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
        Self::resolve_with(&GlobalArgs::default(), args, env)
    }

    /// Resolves `serve`'s flags and the global (reference) flags over the
    /// environment over defaults.
    pub fn resolve_with(
        global: &GlobalArgs,
        args: ServeArgs,
        env: &dyn Env,
    ) -> Result<Self, ConfigError> {
        global.control_plane.check(env)?;
        let mut config = Self {
            trusted_issuers: resolve_trusted_keys(
                global.trusted_keys.as_deref(),
                &args.trusted_issuers,
                env,
            )?,
            ..Self::default()
        };
        config.trusted_issuers_file = args
            .trusted_issuers_file
            .clone()
            .or_else(|| env.var("TRUSTED_ISSUERS_FILE").map(PathBuf::from));
        config.gateway_config = args
            .gateway_config
            .clone()
            .or_else(|| env.var("TENUO_GATEWAY_CONFIG").map(PathBuf::from));
        config.revocation_file = one_of(
            ("--revocation-file", args.revocation_file.clone()),
            ("--revocation-list", global.revocation_list.clone()),
        )?
        .map_or_else(
            || {
                one_of(
                    (
                        "TENUO_REVOCATION_FILE",
                        env.var("TENUO_REVOCATION_FILE").map(PathBuf::from),
                    ),
                    (
                        "TENUO_REVOCATION_LIST",
                        env.var("TENUO_REVOCATION_LIST").map(PathBuf::from),
                    ),
                )
            },
            |path| Ok(Some(path)),
        )?
        .filter(|p| !p.as_os_str().is_empty());
        config.revocation_floor = match &global.revocation_floor {
            Some(path) => Some(path.clone()),
            None => flag_or_var(None, env, "TENUO_REVOCATION_FLOOR").map(PathBuf::from),
        }
        .filter(|p| !p.as_os_str().is_empty());
        config.debug = args.debug || flag_is_set(env, "DEBUG_MODE");
        config.legacy_health_on_main_port =
            args.legacy_health_on_main_port || flag_is_set(env, "TENUO_LEGACY_HEALTH_ON_MAIN_PORT");
        config.auth_request = args.auth_request || flag_is_set(env, "TENUO_AUTH_REQUEST");
        resolve_listeners(&mut config, &args, env)?;
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
        // A gateway config may carry the only keys (`settings.trusted_roots`);
        // the server checks the loaded set before serving.
        if config.trusted_issuers.is_empty()
            && config.trusted_issuers_file.is_none()
            && config.gateway_config.is_none()
        {
            return Err(ConfigError::NoTrustedIssuers);
        }
        Ok(config)
    }
}

/// The trusted keys from flags (`--trusted-keys` and `--trusted-issuer`, both
/// trusted) or else from the variables (`TRUSTED_ISSUERS`, `TENUO_TRUSTED_KEYS`:
/// if both are set they must name the same keys). Empty values count as unset.
/// Every key must be valid; none at all is not an error here.
pub fn resolve_trusted_keys(
    global_flag: Option<&str>,
    serve_flags: &[String],
    env: &dyn Env,
) -> Result<Vec<PublicKey>, ConfigError> {
    let parse = |source_name: &str, text: &str| -> Result<Vec<PublicKey>, ConfigError> {
        split_keys(text)
            .map(|key| {
                PublicKey::from_hex(key).map_err(|e| ConfigError::BadKey {
                    source_name: source_name.to_owned(),
                    key: key.to_owned(),
                    reason: e.to_string(),
                })
            })
            .collect()
    };
    let mut keys = Vec::new();
    for flag in serve_flags {
        keys.extend(parse("--trusted-issuer", flag)?);
    }
    if let Some(flag) = global_flag {
        keys.extend(parse("--trusted-keys", flag)?);
    }
    if !keys.is_empty() {
        return Ok(dedup(keys));
    }
    let ours = env
        .var("TRUSTED_ISSUERS")
        .filter(|v| !v.trim().is_empty())
        .map(|v| parse("TRUSTED_ISSUERS", &v))
        .transpose()?
        .map(dedup);
    let reference = env
        .var("TENUO_TRUSTED_KEYS")
        .filter(|v| !v.trim().is_empty())
        .map(|v| parse("TENUO_TRUSTED_KEYS", &v))
        .transpose()?
        .map(dedup);
    match (ours, reference) {
        (Some(a), Some(b)) if sorted(&a) != sorted(&b) => Err(ConfigError::Conflict {
            first: "TRUSTED_ISSUERS",
            second: "TENUO_TRUSTED_KEYS",
        }),
        (Some(keys), _) | (None, Some(keys)) => Ok(keys),
        (None, None) => Ok(Vec::new()),
    }
}

fn dedup(keys: Vec<PublicKey>) -> Vec<PublicKey> {
    let mut out: Vec<PublicKey> = Vec::with_capacity(keys.len());
    for key in keys {
        if !out.contains(&key) {
            out.push(key);
        }
    }
    out
}

fn sorted(keys: &[PublicKey]) -> Vec<[u8; 32]> {
    let mut bytes: Vec<[u8; 32]> = keys.iter().map(PublicKey::to_bytes).collect();
    bytes.sort_unstable();
    bytes
}

/// One of two names for one setting: either, or both when equal.
fn one_of<T: PartialEq>(
    first: (&'static str, Option<T>),
    second: (&'static str, Option<T>),
) -> Result<Option<T>, ConfigError> {
    match (first.1, second.1) {
        (Some(a), Some(b)) if a != b => Err(ConfigError::Conflict {
            first: first.0,
            second: second.0,
        }),
        (Some(value), _) | (None, Some(value)) => Ok(Some(value)),
        (None, None) => Ok(None),
    }
}

/// The reference's default health (our metrics) port.
const HEALTH_PORT: u16 = 9091;

/// The main listener (TCP or Unix socket) and the metrics/health listener.
fn resolve_listeners(
    config: &mut ServerConfig,
    args: &ServeArgs,
    env: &dyn Env,
) -> Result<(), ConfigError> {
    let reference_tcp = args.port.is_some() || args.bind.is_some();
    let bind = args
        .bind
        .as_deref()
        .map(|b| parse_ip("--bind", b))
        .transpose()?;
    if args.listen.is_some() && reference_tcp {
        return Err(ConfigError::Conflict {
            first: "--listen",
            second: "--port/--bind",
        });
    }
    if let Some(path) = &args.socket {
        if args.listen.is_some() || reference_tcp {
            return Err(ConfigError::Conflict {
                first: "--socket",
                second: "--listen/--port/--bind",
            });
        }
        if env.var("LISTEN_ADDR").is_some_and(|v| !v.trim().is_empty()) {
            return Err(ConfigError::Conflict {
                first: "--socket",
                second: "LISTEN_ADDR",
            });
        }
        let mode = args
            .socket_mode
            .as_deref()
            .map(parse_socket_mode)
            .transpose()?
            .unwrap_or(DEFAULT_SOCKET_MODE);
        let group = args
            .socket_group
            .as_deref()
            .map(|g| resolve_group(g, std::path::Path::new("/etc/group")))
            .transpose()?;
        config.unix_socket = Some(UnixSocketConfig {
            path: path.clone(),
            mode,
            group,
        });
    }
    config.listen = match args.listen {
        Some(addr) => addr,
        None if reference_tcp => SocketAddr::new(
            bind.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            args.port.unwrap_or(9090),
        ),
        None => parse_var(env, "LISTEN_ADDR")?.unwrap_or(config.listen),
    };

    let health_port = match args.health_port {
        Some(port) => Some(port),
        None => parse_var::<u16>(env, "TENUO_HEALTH_PORT")?,
    };
    let health_bind = flag_or_var(args.health_bind.as_deref(), env, "TENUO_HEALTH_BIND")
        .map(|b| parse_ip("TENUO_HEALTH_BIND/--health-bind", &b))
        .transpose()?;
    let ours = match args.metrics_listen {
        Some(addr) => Some(addr),
        None => parse_var::<SocketAddr>(env, "METRICS_ADDR")?,
    };
    let socket_mode = config.unix_socket.is_some();
    let default_ip = if socket_mode {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        bind.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    };
    let reference = match (health_port, health_bind) {
        (Some(0), _) => Some(None),
        (None, None) => None,
        (port, ip) => Some(Some(SocketAddr::new(
            ip.unwrap_or(default_ip),
            port.unwrap_or(HEALTH_PORT),
        ))),
    };
    let (serve, addr) = match (ours, reference) {
        (Some(ours), Some(Some(theirs))) if ours != theirs => {
            return Err(ConfigError::Conflict {
                first: "METRICS_ADDR/--metrics-listen",
                second: "--health-port/--health-bind (TENUO_HEALTH_PORT/TENUO_HEALTH_BIND)",
            })
        }
        (Some(_), Some(None)) => {
            return Err(ConfigError::Conflict {
                first: "METRICS_ADDR/--metrics-listen",
                second: "--health-port 0 (TENUO_HEALTH_PORT=0)",
            })
        }
        (Some(addr), _) | (None, Some(Some(addr))) => (true, addr),
        (None, Some(None)) => (false, config.metrics_listen),
        // As the reference: no TCP listener in socket mode unless asked for.
        (None, None) if socket_mode => (false, config.metrics_listen),
        (None, None) if reference_tcp => (true, SocketAddr::new(default_ip, HEALTH_PORT)),
        (None, None) => (true, config.metrics_listen),
    };
    config.serve_metrics = serve;
    config.metrics_listen = addr;
    if serve && !socket_mode && addr.port() != 0 && addr.port() == config.listen.port() {
        return Err(ConfigError::Invalid {
            name: "--health-port".into(),
            reason: format!(
                "{} is the main listener's port too; choose another, or 0 to turn it off",
                addr.port()
            ),
        });
    }
    Ok(())
}

/// An IP address, bare or in brackets (`::1`, `[::1]`).
fn parse_ip(name: &str, text: &str) -> Result<IpAddr, ConfigError> {
    let trimmed = text.trim();
    let inner = trimmed
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(trimmed);
    inner.parse().map_err(|_| ConfigError::Invalid {
        name: name.to_owned(),
        reason: format!("{text:?} is not an IP address"),
    })
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

    fn resolve_ref(
        global: &GlobalArgs,
        args: ServeArgs,
        vars: &[(&str, &str)],
    ) -> Result<ServerConfig, ConfigError> {
        ServerConfig::resolve_with(global, args, &env(vars))
    }

    fn conflict(result: Result<ServerConfig, ConfigError>) -> (&'static str, &'static str) {
        match result {
            Err(ConfigError::Conflict { first, second }) => (first, second),
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    #[test]
    fn reference_trusted_keys_flag_env_and_empty_configmap() {
        let global = GlobalArgs {
            trusted_keys: Some(format!("{KEY},{KEY2}")),
            ..GlobalArgs::default()
        };
        let config = resolve_ref(&global, ServeArgs::default(), &[]).unwrap();
        assert_eq!(config.trusted_issuers.len(), 2);
        // Flags beat variables, and the two flag families add up.
        let args = ServeArgs {
            trusted_issuers: vec![KEY.into()],
            ..ServeArgs::default()
        };
        let one = GlobalArgs {
            trusted_keys: Some(KEY2.into()),
            ..GlobalArgs::default()
        };
        let config = resolve_ref(&one, args, &[("TENUO_TRUSTED_KEYS", "junk")]).unwrap();
        assert_eq!(config.trusted_issuers.len(), 2);
        // The reference's ConfigMap ships an empty value: no key, named in the error.
        let err = resolve_ref(
            &GlobalArgs::default(),
            ServeArgs::default(),
            &[("TENUO_TRUSTED_KEYS", "")],
        )
        .unwrap_err();
        assert_eq!(err, ConfigError::NoTrustedIssuers);
        assert!(err.to_string().contains("TENUO_TRUSTED_KEYS"), "{err}");
        let err = resolve_ref(
            &GlobalArgs {
                trusted_keys: Some("abc".into()),
                ..GlobalArgs::default()
            },
            ServeArgs::default(),
            &[],
        )
        .unwrap_err();
        assert!(err.to_string().contains("--trusted-keys"), "{err}");
        // Both variables: the same keys are fine, different keys are refused.
        let same = [
            ("TRUSTED_ISSUERS", KEY),
            ("TENUO_TRUSTED_KEYS", &format!(" {KEY} ,")),
        ];
        assert_eq!(
            resolve_ref(&GlobalArgs::default(), ServeArgs::default(), &same)
                .unwrap()
                .trusted_issuers
                .len(),
            1
        );
        let different = [("TRUSTED_ISSUERS", KEY), ("TENUO_TRUSTED_KEYS", KEY2)];
        assert_eq!(
            conflict(resolve_ref(
                &GlobalArgs::default(),
                ServeArgs::default(),
                &different
            )),
            ("TRUSTED_ISSUERS", "TENUO_TRUSTED_KEYS")
        );
    }

    #[test]
    fn reference_revocation_names() {
        let trusted = ("TENUO_TRUSTED_KEYS", KEY);
        let list = GlobalArgs {
            revocation_list: Some("/a".into()),
            revocation_floor: Some("/floor".into()),
            ..GlobalArgs::default()
        };
        let config = resolve_ref(&list, ServeArgs::default(), &[trusted]).unwrap();
        assert_eq!(config.revocation_file, Some(PathBuf::from("/a")));
        assert_eq!(config.revocation_floor, Some(PathBuf::from("/floor")));
        let config = resolve_ref(
            &GlobalArgs::default(),
            ServeArgs::default(),
            &[
                trusted,
                ("TENUO_REVOCATION_LIST", "/b"),
                ("TENUO_REVOCATION_FLOOR", "/f"),
            ],
        )
        .unwrap();
        assert_eq!(config.revocation_file, Some(PathBuf::from("/b")));
        assert_eq!(config.revocation_floor, Some(PathBuf::from("/f")));
        // A flag beats either variable.
        let config = resolve_ref(
            &list,
            ServeArgs::default(),
            &[trusted, ("TENUO_REVOCATION_FILE", "/c")],
        )
        .unwrap();
        assert_eq!(config.revocation_file, Some(PathBuf::from("/a")));
        // Two names at one level: equal is fine, different is refused.
        let both = ServeArgs {
            revocation_file: Some("/x".into()),
            ..ServeArgs::default()
        };
        assert_eq!(
            conflict(resolve_ref(&list, both, &[trusted])),
            ("--revocation-file", "--revocation-list")
        );
        let vars = [
            trusted,
            ("TENUO_REVOCATION_FILE", "/c"),
            ("TENUO_REVOCATION_LIST", "/d"),
        ];
        assert_eq!(
            conflict(resolve_ref(
                &GlobalArgs::default(),
                ServeArgs::default(),
                &vars
            )),
            ("TENUO_REVOCATION_FILE", "TENUO_REVOCATION_LIST")
        );
        let vars = [
            trusted,
            ("TENUO_REVOCATION_FILE", "/c"),
            ("TENUO_REVOCATION_LIST", "/c"),
        ];
        assert!(resolve_ref(&GlobalArgs::default(), ServeArgs::default(), &vars).is_ok());
    }

    #[test]
    fn reference_port_bind_and_health_listener() {
        let g = GlobalArgs::default();
        let trusted = ("TENUO_TRUSTED_KEYS", KEY);
        let args = ServeArgs {
            port: Some(7000),
            bind: Some("127.0.0.1".into()),
            ..ServeArgs::default()
        };
        let config = resolve_ref(&g, args, &[trusted, ("LISTEN_ADDR", "0.0.0.0:1")]).unwrap();
        assert_eq!(config.listen, "127.0.0.1:7000".parse().unwrap());
        // The health listener follows --bind, port 9091, as the reference's.
        assert_eq!(config.metrics_listen, "127.0.0.1:9091".parse().unwrap());
        assert!(config.serve_metrics);
        let args = ServeArgs {
            port: Some(7000),
            health_port: Some(7001),
            health_bind: Some("[::1]".into()),
            ..ServeArgs::default()
        };
        let config = resolve_ref(&g, args, &[trusted]).unwrap();
        assert_eq!(config.listen, "0.0.0.0:7000".parse().unwrap());
        assert_eq!(config.metrics_listen, "[::1]:7001".parse().unwrap());
        let config = resolve_ref(
            &g,
            ServeArgs::default(),
            &[
                trusted,
                ("TENUO_HEALTH_PORT", "7002"),
                ("TENUO_HEALTH_BIND", "127.0.0.2"),
            ],
        )
        .unwrap();
        assert_eq!(config.metrics_listen, "127.0.0.2:7002".parse().unwrap());
        // Port 0 turns the listener off.
        let off = ServeArgs {
            health_port: Some(0),
            ..ServeArgs::default()
        };
        assert!(
            !resolve_ref(&g, off.clone(), &[trusted])
                .unwrap()
                .serve_metrics
        );
        // Ours and the reference's naming one listener: equal is fine.
        let same = [
            trusted,
            ("METRICS_ADDR", "127.0.0.1:7003"),
            ("TENUO_HEALTH_PORT", "7003"),
            ("TENUO_HEALTH_BIND", "127.0.0.1"),
        ];
        assert_eq!(
            resolve_ref(&g, ServeArgs::default(), &same)
                .unwrap()
                .metrics_listen,
            "127.0.0.1:7003".parse().unwrap()
        );
        let different = [
            trusted,
            ("METRICS_ADDR", "127.0.0.1:7003"),
            ("TENUO_HEALTH_PORT", "7004"),
        ];
        assert_eq!(
            conflict(resolve_ref(&g, ServeArgs::default(), &different)).0,
            "METRICS_ADDR/--metrics-listen"
        );
        assert!(matches!(
            resolve_ref(&g, off, &[trusted, ("METRICS_ADDR", "127.0.0.1:7003")]),
            Err(ConfigError::Conflict { .. })
        ));
        // --listen with --port, or the health port equal to the main port.
        let both = ServeArgs {
            listen: Some("127.0.0.1:1".parse().unwrap()),
            port: Some(2),
            ..ServeArgs::default()
        };
        assert_eq!(conflict(resolve_ref(&g, both, &[trusted])).0, "--listen");
        let same_port = ServeArgs {
            port: Some(7005),
            health_port: Some(7005),
            ..ServeArgs::default()
        };
        let err = resolve_ref(&g, same_port, &[trusted]).unwrap_err();
        assert!(err.to_string().contains("--health-port"), "{err}");
        for (args, name) in [
            (
                ServeArgs {
                    bind: Some("localhost".into()),
                    ..ServeArgs::default()
                },
                "--bind",
            ),
            (ServeArgs::default(), "TENUO_HEALTH_PORT"),
        ] {
            let err = resolve_ref(&g, args, &[trusted, ("TENUO_HEALTH_PORT", "x")]).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn reference_socket_mode() {
        let g = GlobalArgs::default();
        let trusted = ("TENUO_TRUSTED_KEYS", KEY);
        let args = ServeArgs {
            socket: Some("/run/tenuo/a.sock".into()),
            ..ServeArgs::default()
        };
        let config = resolve_ref(&g, args.clone(), &[trusted]).unwrap();
        assert_eq!(
            config.unix_socket,
            Some(UnixSocketConfig {
                path: "/run/tenuo/a.sock".into(),
                mode: 0o660,
                group: None,
            })
        );
        // No TCP listener in socket mode unless asked for; then on loopback.
        assert!(!config.serve_metrics);
        let with_health = ServeArgs {
            socket_mode: Some("0600".into()),
            socket_group: Some("0".into()),
            health_port: Some(7010),
            ..args.clone()
        };
        let config = resolve_ref(&g, with_health, &[trusted]).unwrap();
        assert_eq!(config.unix_socket.as_ref().map(|s| s.mode), Some(0o600));
        assert_eq!(config.unix_socket.as_ref().and_then(|s| s.group), Some(0));
        assert!(config.serve_metrics);
        assert_eq!(config.metrics_listen, "127.0.0.1:7010".parse().unwrap());
        let tcp_too = ServeArgs {
            port: Some(1),
            ..args.clone()
        };
        assert_eq!(conflict(resolve_ref(&g, tcp_too, &[trusted])).0, "--socket");
        assert_eq!(
            conflict(resolve_ref(
                &g,
                args.clone(),
                &[trusted, ("LISTEN_ADDR", "127.0.0.1:1")]
            )),
            ("--socket", "LISTEN_ADDR")
        );
        let bad_mode = ServeArgs {
            socket_mode: Some("rw".into()),
            ..args
        };
        let err = resolve_ref(&g, bad_mode, &[trusted]).unwrap_err();
        assert!(err.to_string().contains("--socket-mode"), "{err}");
    }

    #[test]
    fn control_plane_link_is_refused_when_set() {
        let trusted = ("TENUO_TRUSTED_KEYS", KEY);
        let accepted = [
            trusted,
            ("TENUO_API_KEY", "k"),
            ("TENUO_AUTHORIZER_NAME", "n"),
            ("TENUO_AUTHORIZER_TYPE", "sidecar"),
            ("TENUO_HEARTBEAT_INTERVAL", "30"),
            ("TENUO_AUDIT_BATCH_SIZE", "100"),
            ("TENUO_AUDIT_FLUSH_INTERVAL", "10"),
            ("TENUO_CONTROL_PLANE_URL", ""),
        ];
        assert!(resolve_ref(&GlobalArgs::default(), ServeArgs::default(), &accepted).is_ok());
        for name in [
            "TENUO_CONTROL_PLANE_URL",
            "TENUO_CONNECT_TOKEN",
            "TENUO_SIGNING_KEY",
        ] {
            let err = resolve_ref(
                &GlobalArgs::default(),
                ServeArgs::default(),
                &[trusted, (name, "x")],
            )
            .unwrap_err();
            assert_eq!(
                err,
                ConfigError::ControlPlaneNotImplemented { setting: name }
            );
        }
        let mut flag = GlobalArgs::default();
        flag.control_plane.control_plane_url = Some("https://cp".into());
        assert!(matches!(
            resolve_ref(&flag, ServeArgs::default(), &[trusted]),
            Err(ConfigError::ControlPlaneNotImplemented { .. })
        ));
        let err = resolve_ref(
            &GlobalArgs::default(),
            ServeArgs::default(),
            &[trusted, ("TENUO_HEARTBEAT_INTERVAL", "0")],
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("TENUO_HEARTBEAT_INTERVAL"),
            "{err}"
        );
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
