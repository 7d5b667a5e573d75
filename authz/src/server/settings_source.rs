//! Where the server's settings come from ([`Env`]: the process environment, or a
//! map in tests) and why they can be refused ([`ConfigError`]): shared by the
//! settings ([`super::config`]), the reference's flags and the Unix socket.

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

/// Why the settings are unusable. Each names what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No trusted issuer from any source.
    #[error("no trusted issuer: set TENUO_TRUSTED_KEYS or TRUSTED_ISSUERS (comma-separated hex keys), --trusted-keys, --trusted-issuer, TRUSTED_ISSUERS_FILE, or settings.trusted_roots in the gateway config")]
    NoTrustedIssuers,
    /// Two settings for one thing disagree.
    #[error("{first} and {second} set the same thing to different values: set only one")]
    Conflict {
        /// One setting (flag or variable).
        first: &'static str,
        /// The other.
        second: &'static str,
    },
    /// A control-plane link setting is set; the link is not implemented.
    #[error("{setting} is set, but the control-plane link (revocation push, heartbeat, audit) is not implemented yet; unset it (a later release adds it)")]
    ControlPlaneNotImplemented {
        /// The variable (or its flag) that is set.
        setting: &'static str,
    },
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
