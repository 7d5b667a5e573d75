//! One HTTP call to an authorizer, and the [`Workload`] trait that produces them.

use std::sync::Arc;

use reqwest::{Method, RequestBuilder};

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

/// Unix time in seconds.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
