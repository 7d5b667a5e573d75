//! The reference authorizer's global options (given before the subcommand:
//! `tenuo-authorizer --trusted-keys K serve ...`), and its control-plane link
//! settings, which are parsed so its command lines are accepted but refused
//! when set: the link (revocation push, heartbeat, audit) is not implemented,
//! and running without a revocation feed the operator asked for would fail open.

use std::path::PathBuf;

use super::settings_source::{ConfigError, Env};

/// Options every subcommand accepts, with the reference's names.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(
    next_help_heading = "Global options (the reference authorizer's; before or after the subcommand)"
)]
pub struct GlobalArgs {
    /// Trusted root keys, comma-separated hex (the reference's flag). Env: TENUO_TRUSTED_KEYS. Flags beat variables; with serve's --trusted-issuer both lists are trusted.
    #[arg(long, global = true)]
    pub trusted_keys: Option<String>,
    /// Signed revocation list file (the reference's name for serve's --revocation-file). Env: TENUO_REVOCATION_LIST. Setting both names to different files is an error.
    #[arg(long, global = true)]
    pub revocation_list: Option<PathBuf>,
    /// Revocation floor file: the highest list version accepted, kept across restarts so an older list is refused. Env: TENUO_REVOCATION_FLOOR.
    #[arg(long, global = true)]
    pub revocation_floor: Option<PathBuf>,
    /// The reference's control-plane settings: accepted, refused when set (not implemented yet).
    #[command(flatten)]
    pub control_plane: ControlPlaneArgs,
}

/// The reference's control-plane link settings.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Control-plane link (the reference's; not implemented yet)")]
pub struct ControlPlaneArgs {
    /// Not implemented yet: setting it (or TENUO_CONNECT_TOKEN) refuses to start.
    #[arg(long, global = true)]
    pub connect_token: Option<String>,
    /// Not implemented yet: setting it (or TENUO_CONTROL_PLANE_URL) refuses to start.
    #[arg(long, global = true)]
    pub control_plane_url: Option<String>,
    /// Control-plane API key (TENUO_API_KEY); unused without a control plane.
    #[arg(long, global = true)]
    pub api_key: Option<String>,
    /// Control-plane registration name (TENUO_AUTHORIZER_NAME); unused.
    #[arg(long, global = true)]
    pub authorizer_name: Option<String>,
    /// Control-plane authorizer type (TENUO_AUTHORIZER_TYPE); unused.
    #[arg(long, global = true)]
    pub authorizer_type: Option<String>,
    /// Heartbeat seconds, at least 1 (TENUO_HEARTBEAT_INTERVAL); unused.
    #[arg(long, global = true)]
    pub heartbeat_interval: Option<String>,
    /// Audit batch size (TENUO_AUDIT_BATCH_SIZE); unused.
    #[arg(long, global = true)]
    pub audit_batch_size: Option<String>,
    /// Audit flush seconds (TENUO_AUDIT_FLUSH_INTERVAL); unused.
    #[arg(long, global = true)]
    pub audit_flush_interval: Option<String>,
    /// Not implemented yet: setting it (or TENUO_SIGNING_KEY) refuses to start.
    #[arg(long, global = true)]
    pub signing_key: Option<String>,
}

/// A flag's value, else its variable's; empty counts as unset (a ConfigMap
/// key left empty is how the reference's manifests say "none").
pub(crate) fn flag_or_var(flag: Option<&str>, env: &dyn Env, name: &str) -> Option<String> {
    flag.map(str::to_owned)
        .or_else(|| env.var(name))
        .filter(|v| !v.trim().is_empty())
}

impl ControlPlaneArgs {
    /// Refuses a configured control-plane link, and values the reference would
    /// refuse to parse.
    pub fn check(&self, env: &dyn Env) -> Result<(), ConfigError> {
        for (flag, name) in [
            (&self.control_plane_url, "TENUO_CONTROL_PLANE_URL"),
            (&self.connect_token, "TENUO_CONNECT_TOKEN"),
            (&self.signing_key, "TENUO_SIGNING_KEY"),
        ] {
            if flag_or_var(flag.as_deref(), env, name).is_some() {
                return Err(ConfigError::ControlPlaneNotImplemented { setting: name });
            }
        }
        for (flag, name, least) in [
            (&self.heartbeat_interval, "TENUO_HEARTBEAT_INTERVAL", 1),
            (&self.audit_batch_size, "TENUO_AUDIT_BATCH_SIZE", 0),
            (&self.audit_flush_interval, "TENUO_AUDIT_FLUSH_INTERVAL", 0),
        ] {
            if let Some(text) = flag_or_var(flag.as_deref(), env, name) {
                match text.trim().parse::<u64>() {
                    Ok(n) if n >= least => {}
                    _ => {
                        return Err(ConfigError::Invalid {
                            name: name.to_owned(),
                            reason: format!("{text:?} is not a whole number of at least {least}"),
                        })
                    }
                }
            }
        }
        Ok(())
    }
}
