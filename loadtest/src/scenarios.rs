//! Named scenarios, selectable and composable, each building [`Workload`]s:
//!
//! | name | calls |
//! |---|---|
//! | `cached` | allowed calls cycling over `--distinct` chains of `--depth` (cache hits) |
//! | `cold` | allowed calls, each with a chain minted for it (cache misses) |
//! | `deny` | one call per deny reason in turn (`docs/reference.md` §2, all but `warrant_revoked` and `unsupported`, which need target-side state) |
//! | `depth` | `cold` at each of `--depths`, one phase per depth |
//! | `mixed` | a realistic profile: 85 % cached, 5 % cold, 10 % deny |
//! | `per-task` | the guide's per-task warrants: a new chain every `--calls-per-warrant` calls (default 5), used for that many (one miss, then hits) |
//!
//! | `cold-burst` | cached calls and calls with never-seen chains one for one, a row each: the cached calls' latency under a flood of new warrants |
//!
//! `per-task` and `cold-burst` are not in the default list: they run when named.
//! A mix of any of them is written `name:weight,...` (`--mix cached:9,deny:1`).

use std::sync::Arc;

use reqwest::Method;
use tenuo_authz::crypto::SigningKey;

use crate::call::{unix_now, Call, Expect, Phase, Workload};
use crate::error::LoadError;
use crate::setup::{READ_PATH, WRITE_PATH};
use crate::warrants::{allowed_args, args, ColdSource, Minter, PopSigner, TOOL};

/// Warrant shape settings shared by the scenarios.
#[derive(Debug, Clone)]
pub struct ScenarioParams {
    /// Chain depth of `cached`, `cold`, `deny` (1 = root warrant alone).
    pub depth: usize,
    /// Distinct chains of `cached` (sets the cache hit rate).
    pub distinct: usize,
    /// Depths of the `depth` sweep.
    pub depths: Vec<usize>,
    /// Calls each `per-task` warrant is used for before the next one.
    pub calls_per_warrant: u64,
}

impl Default for ScenarioParams {
    fn default() -> Self {
        Self {
            depth: 2,
            distinct: 64,
            depths: vec![1, 2, 4, 8],
            calls_per_warrant: 5,
        }
    }
}

/// A built-in scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScenarioKind {
    /// Allowed, cached chains.
    Cached,
    /// Allowed, never-seen chains.
    Cold,
    /// Every deny reason in turn.
    Deny,
    /// Cold chains by depth.
    Depth,
    /// The realistic profile.
    Mixed,
    /// Short-lived warrants, a few calls each.
    PerTask,
    /// Cached calls under a flood of new chains.
    ColdBurst,
}

impl ScenarioKind {
    /// Every scenario: the default run's, in its order, then the ones run only
    /// when named.
    pub const ALL: [ScenarioKind; 7] = [
        ScenarioKind::Cached,
        ScenarioKind::Cold,
        ScenarioKind::Deny,
        ScenarioKind::Depth,
        ScenarioKind::Mixed,
        ScenarioKind::PerTask,
        ScenarioKind::ColdBurst,
    ];

    /// Its name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Cached => "cached",
            Self::Cold => "cold",
            Self::Deny => "deny",
            Self::Depth => "depth",
            Self::Mixed => "mixed",
            Self::PerTask => "per-task",
            Self::ColdBurst => "cold-burst",
        }
    }

    /// By name.
    pub fn parse(name: &str) -> Result<Self, LoadError> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == name.trim())
            .ok_or_else(|| LoadError::UnknownScenario(name.to_owned()))
    }
}

/// A scenario of a run: a built-in one or a weighted mix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scenario {
    /// A built-in scenario.
    Named(ScenarioKind),
    /// `name:weight,...`, recorded as one row `mix`.
    Mix(Vec<(ScenarioKind, u32)>),
}

impl Scenario {
    /// `cached,cold,...` to scenarios.
    pub fn parse_list(list: &str) -> Result<Vec<Scenario>, LoadError> {
        list.split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| ScenarioKind::parse(s).map(Scenario::Named))
            .collect()
    }

    /// `cached:8,deny:2` to a mix.
    pub fn parse_mix(spec: &str) -> Result<Scenario, LoadError> {
        let parts = spec
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|part| {
                let (name, weight) = part.split_once(':').unwrap_or((part, "1"));
                let weight = weight
                    .trim()
                    .parse::<u32>()
                    .map_err(|_| LoadError::UnknownScenario(part.to_owned()))?;
                Ok((ScenarioKind::parse(name)?, weight.min(1000)))
            })
            .collect::<Result<Vec<_>, LoadError>>()?;
        if parts.iter().all(|(_, w)| *w == 0) {
            return Err(LoadError::UnknownScenario(spec.to_owned()));
        }
        Ok(Scenario::Mix(parts))
    }

    /// The phases this scenario runs as: `(row name, workload)`.
    pub fn phases(
        &self,
        minter: &Minter,
        params: &ScenarioParams,
    ) -> Result<Vec<Phase>, LoadError> {
        Ok(match self {
            Scenario::Named(ScenarioKind::Depth) => params
                .depths
                .iter()
                .map(|&d| {
                    let name = format!("depth-{d}");
                    Ok((name.clone(), cold(minter, d, &name)?))
                })
                .collect::<Result<_, LoadError>>()?,
            Scenario::Named(ScenarioKind::Mixed) => {
                let mix = [
                    (ScenarioKind::Cached, 85),
                    (ScenarioKind::Cold, 5),
                    (ScenarioKind::Deny, 10),
                ];
                vec![("mixed".into(), mixed("mixed", &mix, minter, params)?)]
            }
            Scenario::Named(kind) => vec![(kind.name().into(), single(*kind, minter, params)?)],
            Scenario::Mix(parts) => vec![("mix".into(), mixed("mix", parts, minter, params)?)],
        })
    }
}

fn single(
    kind: ScenarioKind,
    minter: &Minter,
    params: &ScenarioParams,
) -> Result<Arc<dyn Workload>, LoadError> {
    Ok(match kind {
        ScenarioKind::Cached => Arc::new(Cached::new(minter, params.depth, params.distinct)?),
        ScenarioKind::Cold => cold(minter, params.depth, "cold")?,
        ScenarioKind::PerTask => Arc::new(PerTask::new(
            minter,
            params.depth,
            params.calls_per_warrant,
        )?),
        ScenarioKind::ColdBurst => cold_burst(minter, params)?,
        ScenarioKind::Deny => Arc::new(DenyMix::new(minter, params.depth)?),
        // The sweep as one row: its deepest chain.
        ScenarioKind::Depth => {
            let depth = params.depths.iter().copied().max().unwrap_or(params.depth);
            cold(minter, depth, "depth")?
        }
        ScenarioKind::Mixed => mixed(
            "mixed",
            &[
                (ScenarioKind::Cached, 85),
                (ScenarioKind::Cold, 5),
                (ScenarioKind::Deny, 10),
            ],
            minter,
            params,
        )?,
    })
}

fn read(path: &str) -> Arc<str> {
    format!("{READ_PATH}?path={path}").into()
}

fn allowed_path() -> Arc<str> {
    read("/data/reports/q3.csv")
}

/// A call the chain's grant allows, with its PoP for the current window.
fn allowed_call(path: &Arc<str>, signer: &PopSigner) -> Call {
    Call {
        label: 0,
        method: Method::GET,
        path_and_query: Arc::clone(path),
        warrant: Some(Arc::clone(signer.token())),
        pop: Some(signer.pop()),
        expect: Expect::Allow,
    }
}

/// Allowed calls over a pool of chains.
struct Cached {
    pool: Vec<PopSigner>,
    path: Arc<str>,
}

impl Cached {
    fn new(minter: &Minter, depth: usize, distinct: usize) -> Result<Self, LoadError> {
        let pool = minter
            .pool(depth, distinct)?
            .into_iter()
            .map(|c| PopSigner::new(c.holder.clone(), c, TOOL, allowed_args()))
            .collect();
        Ok(Self {
            pool,
            path: allowed_path(),
        })
    }

    fn call_of(&self, signer: &PopSigner) -> Call {
        allowed_call(&self.path, signer)
    }
}

impl Workload for Cached {
    fn labels(&self) -> Vec<String> {
        vec!["cached".into()]
    }

    fn call(&self, seq: u64) -> Call {
        self.call_of(&self.pool[(seq % self.pool.len() as u64) as usize])
    }

    fn warmup(&self) -> Vec<Call> {
        self.pool.iter().map(|s| self.call_of(s)).collect()
    }
}

fn cold(minter: &Minter, depth: usize, label: &str) -> Result<Arc<dyn Workload>, LoadError> {
    let source = minter.cold(depth)?;
    source.fresh()?; // mints now, so `call` cannot fail later
    Ok(Arc::new(Cold {
        source,
        label: label.to_owned(),
        path: allowed_path(),
    }))
}

/// Allowed calls, each with a chain minted for it.
struct Cold {
    source: ColdSource,
    label: String,
    path: Arc<str>,
}

impl Workload for Cold {
    fn labels(&self) -> Vec<String> {
        vec![self.label.clone()]
    }

    fn call(&self, _seq: u64) -> Call {
        let mut call = Call {
            label: 0,
            method: Method::GET,
            path_and_query: Arc::clone(&self.path),
            warrant: None,
            pop: None,
            expect: Expect::Deny,
        };
        // `fresh` succeeded at construction with the same inputs; should it
        // fail now, the call goes out without a warrant and is expected denied.
        if let Ok(chain) = self.source.fresh() {
            let signer = PopSigner::new(chain.holder.clone(), chain, TOOL, allowed_args());
            call.pop = Some(signer.sign_at(unix_now()).into());
            call.warrant = Some(Arc::clone(signer.token()));
            call.expect = Expect::Allow;
        }
        call
    }
}

/// The guide's pattern: each task gets a new warrant and makes a few calls with
/// it. Call `seq` belongs to task `seq / calls_per_warrant`; the first call of a
/// task mints its chain (a miss for the authorizer), the rest reuse it (hits).
/// Users share the sequence, so a task's calls may come from several users, as
/// an agent's tool calls may go out on several connections.
struct PerTask {
    source: ColdSource,
    calls_per_warrant: u64,
    /// The newest task and its signer. A late call of an older task uses the
    /// newest warrant rather than minting its own again.
    current: std::sync::Mutex<(u64, PopSigner)>,
    path: Arc<str>,
}

impl PerTask {
    fn new(minter: &Minter, depth: usize, calls_per_warrant: u64) -> Result<Self, LoadError> {
        let source = minter.cold(depth)?;
        let first = Self::signer(&source)?;
        Ok(Self {
            source,
            calls_per_warrant: calls_per_warrant.max(1),
            current: std::sync::Mutex::new((0, first)),
            path: allowed_path(),
        })
    }

    fn signer(source: &ColdSource) -> Result<PopSigner, LoadError> {
        let chain = source.fresh()?;
        Ok(PopSigner::new(
            chain.holder.clone(),
            chain,
            TOOL,
            allowed_args(),
        ))
    }
}

impl Workload for PerTask {
    fn labels(&self) -> Vec<String> {
        vec!["per-task".into()]
    }

    fn call(&self, seq: u64) -> Call {
        let task = seq / self.calls_per_warrant;
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if task > current.0 {
            // `fresh` succeeded at construction with the same inputs; should it
            // fail now, the task goes on with the previous warrant.
            if let Ok(signer) = Self::signer(&self.source) {
                *current = (task, signer);
            }
        }
        allowed_call(&self.path, &current.1)
    }
}

/// One case of the deny mix.
struct DenyCase {
    method: Method,
    path: Arc<str>,
    warrant: Option<Arc<str>>,
    pop: Option<PopSigner>,
}

/// Every deny reason the harness can provoke, in turn.
struct DenyMix {
    cases: Vec<DenyCase>,
}

impl DenyMix {
    fn new(minter: &Minter, depth: usize) -> Result<Self, LoadError> {
        let other = SigningKey::generate()?;
        let valid = |chain: crate::Chain, tool: &str, path: &str| {
            PopSigner::new(chain.holder.clone(), chain, tool, args(path))
        };
        let ok = "/data/reports/q3.csv";
        let case = |method: Method, path: Arc<str>, signer: Option<PopSigner>| DenyCase {
            method,
            path,
            warrant: signer.as_ref().map(|s| Arc::clone(s.token())),
            pop: signer,
        };
        let good = minter.chain(depth)?;
        let mut cases = vec![
            // missing_warrant
            DenyCase {
                method: Method::GET,
                path: read(ok),
                warrant: None,
                pop: None,
            },
            // invalid_warrant
            DenyCase {
                method: Method::GET,
                path: read(ok),
                warrant: Some("AAAA".into()),
                pop: None,
            },
            // untrusted_issuer
            case(
                Method::GET,
                read(ok),
                Some(valid(minter.chain_with(&other, depth, 0, 3600)?, TOOL, ok)),
            ),
            // signature_invalid
            case(
                Method::GET,
                read(ok),
                Some(valid(minter.tampered()?, TOOL, ok)),
            ),
            // chain_invalid
            case(
                Method::GET,
                read(ok),
                Some(valid(minter.spliced()?, TOOL, ok)),
            ),
            // warrant_expired
            case(
                Method::GET,
                read(ok),
                Some(valid(
                    minter.chain_with(minter.root(), depth, 7200, 60)?,
                    TOOL,
                    ok,
                )),
            ),
            // tool_not_in_warrant
            case(
                Method::POST,
                format!("{WRITE_PATH}?path={ok}").into(),
                Some(valid(good.clone(), "write_file", ok)),
            ),
            // constraint_violation
            case(
                Method::GET,
                read("/etc/passwd"),
                Some(valid(good.clone(), TOOL, "/etc/passwd")),
            ),
        ];
        // missing_pop
        cases.push(DenyCase {
            method: Method::GET,
            path: read(ok),
            warrant: Some(Arc::clone(&good.token)),
            pop: None,
        });
        // invalid_pop: signed by a key that does not hold the warrant
        let wrong = PopSigner::new(other, good, TOOL, allowed_args());
        cases.push(case(Method::GET, read(ok), Some(wrong)));
        Ok(Self { cases })
    }
}

impl Workload for DenyMix {
    fn labels(&self) -> Vec<String> {
        vec!["deny".into()]
    }

    fn call(&self, seq: u64) -> Call {
        let case = &self.cases[(seq % self.cases.len() as u64) as usize];
        Call {
            label: 0,
            method: case.method.clone(),
            path_and_query: Arc::clone(&case.path),
            warrant: case.warrant.clone(),
            pop: case.pop.as_ref().map(PopSigner::pop),
            expect: Expect::Deny,
        }
    }
}

fn mixed(
    label: &str,
    parts: &[(ScenarioKind, u32)],
    minter: &Minter,
    params: &ScenarioParams,
) -> Result<Arc<dyn Workload>, LoadError> {
    let mut workloads = Vec::new();
    let mut schedule = Vec::new();
    for &(kind, weight) in parts.iter().filter(|(_, w)| *w > 0) {
        // A mix inside a mix is flattened to its own parts' rows.
        workloads.push(single(kind, minter, params)?);
        schedule.push(weight);
    }
    Ok(Arc::new(Mix {
        label: label.to_owned(),
        slots: interleave(&schedule),
        workloads,
        part_rows: None,
    }))
}

/// Cached calls with never-seen chains interleaved one for one, each part its
/// own row: what a flood of new warrants does to the latency of cached ones.
fn cold_burst(minter: &Minter, params: &ScenarioParams) -> Result<Arc<dyn Workload>, LoadError> {
    let parts = [ScenarioKind::Cached, ScenarioKind::Cold];
    Ok(Arc::new(Mix {
        label: "cold-burst".into(),
        slots: interleave(&[1, 1]),
        workloads: parts
            .iter()
            .map(|&kind| single(kind, minter, params))
            .collect::<Result<_, _>>()?,
        part_rows: Some(
            parts
                .iter()
                .map(|kind| format!("cold-burst-{}", kind.name()))
                .collect(),
        ),
    }))
}

/// Smooth weighted round robin: weights 85/5/10 become a 100-slot cycle with
/// each part spread evenly through it.
fn interleave(weights: &[u32]) -> Vec<usize> {
    let total: i64 = weights.iter().map(|&w| i64::from(w)).sum();
    let mut current = vec![0i64; weights.len()];
    let mut slots = Vec::with_capacity(total as usize);
    for _ in 0..total {
        for (c, &w) in current.iter_mut().zip(weights) {
            *c += i64::from(w);
        }
        let (best, _) = current
            .iter()
            .enumerate()
            .max_by_key(|&(i, c)| (*c, std::cmp::Reverse(i)))
            .unwrap_or((0, &0));
        current[best] -= total;
        slots.push(best);
    }
    slots
}

/// Weighted parts, recorded as one row, or as a row per part when `part_rows`
/// names them.
struct Mix {
    label: String,
    slots: Vec<usize>,
    workloads: Vec<Arc<dyn Workload>>,
    part_rows: Option<Vec<String>>,
}

impl Workload for Mix {
    fn labels(&self) -> Vec<String> {
        match &self.part_rows {
            Some(rows) => rows.clone(),
            None => vec![self.label.clone()],
        }
    }

    fn call(&self, seq: u64) -> Call {
        let cycle = self.slots.len() as u64;
        let part = self.slots[(seq % cycle) as usize];
        let mut call = self.workloads[part].call(seq / cycle);
        call.label = if self.part_rows.is_some() { part } else { 0 };
        call
    }

    fn warmup(&self) -> Vec<Call> {
        self.workloads.iter().flat_map(|w| w.warmup()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleave_spreads_weights() {
        let slots = interleave(&[85, 5, 10]);
        assert_eq!(slots.len(), 100);
        assert_eq!(slots.iter().filter(|&&s| s == 1).count(), 5);
        assert_eq!(slots.iter().filter(|&&s| s == 2).count(), 10);
    }

    #[test]
    fn parses_lists_and_mixes() {
        assert_eq!(Scenario::parse_list("cached, deny").unwrap().len(), 2);
        assert!(Scenario::parse_list("nope").is_err());
        assert_eq!(
            Scenario::parse_mix("cached:9,deny").unwrap(),
            Scenario::Mix(vec![(ScenarioKind::Cached, 9), (ScenarioKind::Deny, 1)])
        );
        assert_eq!(
            Scenario::parse_list("per-task").unwrap(),
            vec![Scenario::Named(ScenarioKind::PerTask)]
        );
    }

    #[test]
    fn a_per_task_warrant_serves_its_calls_then_the_next_task_gets_a_new_one() {
        let minter = Minter::new(SigningKey::generate().unwrap()).unwrap();
        let per_task = PerTask::new(&minter, 3, 5).unwrap();
        let tokens: Vec<Arc<str>> = (0..15)
            .map(|seq| per_task.call(seq).warrant.unwrap())
            .collect();
        for task in tokens.chunks(5) {
            assert!(task.iter().all(|t| t == &task[0]), "one warrant per task");
        }
        assert_ne!(tokens[0], tokens[5]);
        assert_ne!(tokens[5], tokens[10]);
        // A straggler of an earlier task uses the newest warrant, minting none.
        assert_eq!(per_task.call(3).warrant.unwrap(), tokens[10]);
        let depth = |t: &str| tenuo_authz::wire::decode_token(t).unwrap().1.len();
        assert_eq!(depth(&tokens[0]), 3);
    }
}
