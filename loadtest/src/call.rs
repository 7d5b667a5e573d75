//! One HTTP call to an authorizer, and the [`Workload`] trait that produces them.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use reqwest::{Method, RequestBuilder, Url};

/// Header carrying the warrant or stack (gateway default).
pub(crate) const WARRANT_HEADER: &str = "X-Tenuo-Warrant";
/// Header carrying the PoP signature (gateway default).
pub(crate) const POP_HEADER: &str = "X-Tenuo-PoP";

/// The decision a call is built to get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// A valid warrant and PoP for an allowed call.
    Allow,
    /// Built to be denied.
    Deny,
    /// No expectation (a plain endpoint in tests).
    Any,
}

/// A request ready to send: relative to the target's base URL.
#[derive(Debug, Clone)]
pub struct Call {
    /// Index into the workload's [`Workload::labels`]: the histogram it goes to.
    pub label: usize,
    /// HTTP method.
    pub method: Method,
    /// Path and query, e.g. `/v1/files/read?path=/data/a.csv`.
    pub path_and_query: Arc<str>,
    /// `X-Tenuo-Warrant` value, if sent.
    pub warrant: Option<Arc<str>>,
    /// `X-Tenuo-PoP` value, if sent.
    pub pop: Option<Arc<str>>,
    /// What the authorizer should decide.
    pub expect: Expect,
}

impl Call {
    /// A `GET` of `path` with no credentials.
    pub fn get(label: usize, path: &str, expect: Expect) -> Self {
        Self {
            label,
            method: Method::GET,
            path_and_query: path.into(),
            warrant: None,
            pop: None,
            expect,
        }
    }

    /// Adds this call's method, path and headers to a request for `url`.
    pub fn headers(&self, mut builder: RequestBuilder) -> RequestBuilder {
        if let Some(warrant) = &self.warrant {
            builder = builder.header(WARRANT_HEADER, &**warrant);
        }
        if let Some(pop) = &self.pop {
            builder = builder.header(POP_HEADER, &**pop);
        }
        builder
    }
}

/// A source of calls. Implementations are shared by every user and task, so
/// they take `&self`; `seq` is a run-wide sequence number, so a workload can
/// cycle through warrants or mix call kinds deterministically.
pub trait Workload: Send + Sync {
    /// Names of the histograms this workload records into (one row each).
    fn labels(&self) -> Vec<String>;
    /// The `seq`-th call.
    fn call(&self, seq: u64) -> Call;
    /// Calls to send once, unrecorded, before measuring (cache priming).
    fn warmup(&self) -> Vec<Call> {
        Vec::new()
    }
}

/// A phase of a run: its row name and the workload it sends.
pub type Phase = (String, Arc<dyn Workload>);

/// The same `GET` forever: for probing plain HTTP servers in tests.
#[derive(Debug, Clone)]
pub struct FixedCall {
    label: String,
    path: String,
}

impl FixedCall {
    /// `GET path`, recorded under `label`.
    pub fn new(label: &str, path: &str) -> Self {
        Self {
            label: label.to_owned(),
            path: path.to_owned(),
        }
    }
}

impl Workload for FixedCall {
    fn labels(&self) -> Vec<String> {
        vec![self.label.clone()]
    }

    fn call(&self, _seq: u64) -> Call {
        Call::get(0, &self.path, Expect::Any)
    }
}

/// Most distinct paths [`Urls`] keeps parsed; past it, further paths are parsed
/// per request (workloads use a handful, so this only bounds a pathological one).
const MAX_PARSED_PATHS: usize = 4096;

/// Absolute request URLs (`base` + path and query), parsed once per distinct path.
///
/// Why: building a URL string and parsing it for every request (goose's
/// `get_request_builder` joins and parses, then reqwest parses again) cost the
/// load generator about 5 % of its CPU, which on a small machine is taken from
/// the authorizer under test. A parsed [`Url`] goes to reqwest as is.
#[derive(Debug)]
pub(crate) struct Urls {
    base: String,
    parsed: RwLock<HashMap<Arc<str>, Url>>,
}

impl Urls {
    /// URLs under `base` (e.g. `http://127.0.0.1:9090`, or with a path prefix): a
    /// call's path is appended to it as written.
    pub(crate) fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            parsed: RwLock::new(HashMap::new()),
        }
    }

    /// The URL of `call`.
    pub(crate) fn of(&self, call: &Call) -> Result<Url, url::ParseError> {
        let path = &call.path_and_query;
        if let Some(url) = self.read().get(path) {
            return Ok(url.clone());
        }
        let url = Url::parse(&format!("{}{path}", self.base))?;
        let mut parsed = self.parsed.write().unwrap_or_else(|p| p.into_inner());
        if parsed.len() < MAX_PARSED_PATHS {
            parsed.insert(Arc::clone(path), url.clone());
        }
        Ok(url)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<Arc<str>, Url>> {
        // A panic while holding the lock leaves the map whole: keep using it.
        self.parsed.read().unwrap_or_else(|p| p.into_inner())
    }
}

/// Unix time in seconds.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_append_the_path_to_the_base_as_written() {
        let call = Call::get(0, "/v1/files/read?path=/data/a.csv", Expect::Any);
        let plain = Urls::new("http://127.0.0.1:9090/");
        assert_eq!(
            plain.of(&call).unwrap().as_str(),
            "http://127.0.0.1:9090/v1/files/read?path=/data/a.csv"
        );
        // A path prefix (Envoy's ext_authz path_prefix) is kept, not replaced.
        let prefixed = Urls::new("http://127.0.0.1:9090/authz");
        assert_eq!(
            prefixed.of(&call).unwrap().as_str(),
            "http://127.0.0.1:9090/authz/v1/files/read?path=/data/a.csv"
        );
        // The second lookup is the memoized URL, equal to the first.
        assert_eq!(prefixed.of(&call).unwrap(), prefixed.of(&call).unwrap());
        assert!(Urls::new("not a url").of(&call).is_err());
    }
}
