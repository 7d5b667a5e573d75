//! The library's error type: what failed, typed, so callers and tests can match.

use std::path::PathBuf;

/// Everything the harness can fail at.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// Minting a warrant or chain failed.
    #[error("minting warrants: {0}")]
    Mint(#[from] tenuo_authz::mint::MintError),
    /// A constraint for the minted warrants could not be built.
    #[error("building a constraint: {0}")]
    Constraint(#[from] tenuo_authz::constraint::ConstraintBuildError),
    /// Key generation or parsing failed.
    #[error("key: {0}")]
    Key(#[from] tenuo_authz::crypto::KeyError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A JSON report or baseline could not be read.
    #[error("{path}: not a loadtest report: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// A target URL is unusable.
    #[error("target {url}: {problem}")]
    Target {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// goose refused the configuration or failed while running.
    #[error("goose: {0}")]
    Goose(String),
    /// The HTTP client could not be built.
    #[error("http client: {0}")]
    Client(#[from] reqwest::Error),
    /// The embedded authorizer failed to start.
    #[error("embedded authorizer: {0}")]
    Embedded(String),
    /// A scenario name or mix is not known.
    #[error(
        "unknown scenario `{0}` (known: cached, cold, deny, depth, mixed; mix as name:weight,...)"
    )]
    UnknownScenario(String),
    /// A server PID or metrics URL given for the CPU figures cannot be read.
    #[error("server CPU: {0}")]
    Cpu(#[from] crate::cpu::CpuError),
    /// A baseline has no scenario in common with the run.
    #[error("baseline {0} has no scenario in common with this run")]
    BaselineMismatch(PathBuf),
}

impl LoadError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
