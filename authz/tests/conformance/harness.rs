//! A conformance case and the runner that decides it with both implementations.

use std::collections::BTreeMap;

use tenuo_authz::pop::Args;
use tenuo_authz::warrant::WarrantId;
use tenuo_authz::DenyReason;

use crate::common::{Deciders, Input, Minted, Minter, ROOT};
use crate::coverage::Coverage;

/// What the reference's reason must be, beyond agreeing on allow/deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefReason {
    /// The same §2 reason as ours (after mapping its error).
    Same,
    /// A specific reason (it reports the failure at another stage).
    Is(DenyReason),
    /// Not compared (documented per case).
    Any,
}

/// One decision to make with both implementations.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    /// Summary bucket.
    pub(crate) category: &'static str,
    /// What the case is about (for failure messages).
    pub(crate) what: String,
    /// The inputs.
    pub(crate) input: Input,
    /// Our expected outcome: `None` allows, `Some(reason)` denies with it.
    pub(crate) expect: Option<DenyReason>,
    /// How the reference's reason is checked.
    pub(crate) ref_reason: RefReason,
    /// Who minted the leaf and signs the PoP: the direction the case tests.
    pub(crate) minter: Minter,
    /// The warrant is withheld: both decide a call that presents none.
    pub(crate) withheld: bool,
}

impl Case {
    /// A call on `m` by its leaf holder, with a valid PoP at `m.now()`, trusted
    /// root [`ROOT`]; expected to allow until told otherwise.
    pub(crate) fn call(
        category: &'static str,
        what: impl Into<String>,
        m: &Minted,
        tool: &str,
        a: Args,
    ) -> Self {
        let now = m.now();
        let pop = m.pop(m.leaf_holder(), tool, &a, now);
        Self {
            category,
            what: format!("[{}] {}", m.minter.tag(), what.into()),
            input: Input {
                stack: m.stack(),
                trusted: vec![ROOT],
                revoked: Vec::new(),
                tool: tool.to_owned(),
                args: a,
                pop: Some(pop),
                now,
                approvals: Vec::new(),
            },
            expect: None,
            ref_reason: RefReason::Same,
            minter: m.minter,
            withheld: false,
        }
    }

    /// Expect a deny with `reason`.
    pub(crate) fn deny(mut self, reason: DenyReason) -> Self {
        self.expect = Some(reason);
        self
    }

    /// Decide at `now`, re-signing the PoP for that time with the leaf holder.
    pub(crate) fn at(mut self, m: &Minted, now: i64) -> Self {
        self.input.now = now;
        self.input.pop = Some(m.pop(m.leaf_holder(), &self.input.tool, &self.input.args, now));
        self
    }

    /// Use this PoP.
    pub(crate) fn pop(mut self, pop: Option<[u8; 64]>) -> Self {
        self.input.pop = pop;
        self
    }

    /// Use these stack bytes.
    pub(crate) fn stack(mut self, stack: Vec<u8>) -> Self {
        self.input.stack = stack;
        self
    }

    /// Trust these root seeds.
    pub(crate) fn trusted(mut self, seeds: &[u8]) -> Self {
        self.input.trusted = seeds.to_vec();
        self
    }

    /// Revoke these ids.
    pub(crate) fn revoked(mut self, ids: &[WarrantId]) -> Self {
        self.input.revoked = ids.to_vec();
        self
    }

    /// Call with these arguments (PoP unchanged).
    pub(crate) fn with_args(mut self, a: Args) -> Self {
        self.input.args = a;
        self
    }

    /// Present no warrant at all (the rest of the call unchanged).
    pub(crate) fn without_warrant(mut self) -> Self {
        self.withheld = true;
        self
    }

    /// Check the reference's reason this way.
    pub(crate) fn ref_reason(mut self, r: RefReason) -> Self {
        self.ref_reason = r;
        self
    }
}

#[derive(Default)]
struct Tally {
    cases: usize,
    allowed: usize,
    denied: usize,
}

/// Decides one case with both implementations; `Some(report)` when it fails.
/// On `sample` cases our uncached path is compared with the cached one too.
fn check(deciders: &mut Deciders, case: &Case, sample: bool) -> (bool, Option<String>) {
    let (ours, theirs) = if case.withheld {
        (
            Deciders::ours_without_warrant(&case.input),
            deciders.theirs_without_warrant(&case.input),
        )
    } else {
        (deciders.ours(&case.input), deciders.theirs(&case.input))
    };
    let ours_reason = ours.as_ref().err().map(|e| e.0);
    let mut problems = Vec::new();
    if sample && !case.withheld && Deciders::ours_uncached(&case.input) != ours {
        problems.push("authorize (uncached) and decide (prepared chain) differ");
    }
    if ours.is_ok() != theirs.is_ok() {
        problems.push("allow/deny differs");
    }
    if ours_reason != case.expect {
        problems.push("our outcome is not the expected one");
    }
    if let (Err((theirs_reason, _)), Some(expected)) = (&theirs, case.expect) {
        let wanted = match case.ref_reason {
            RefReason::Same => Some(expected),
            RefReason::Is(r) => Some(r),
            RefReason::Any => None,
        };
        if wanted.is_some_and(|w| w != *theirs_reason) {
            problems.push("reference reason differs");
        }
    }
    let report = (!problems.is_empty()).then(|| {
        format!(
            "{} / {}: {}\n    expected {:?} (ref {:?})\n    ours   {:?}\n    theirs {:?}",
            case.category,
            case.what,
            problems.join(", "),
            case.expect.map(DenyReason::as_str),
            case.ref_reason,
            ours,
            theirs
        )
    });
    (ours.is_ok(), report)
}

/// Decides every case with both implementations (on two threads: signature
/// verification dominates, and is slow in debug builds); panics listing every
/// disagreement; prints a per-category summary and a coverage line, and panics
/// unless the cases cover what [`Coverage::assert_complete`] asks; returns the
/// number of cases.
pub(crate) fn run(cases: &[Case]) -> usize {
    if let Some(dir) = std::env::var_os("TENUO_FUZZ_SEEDS_DIR") {
        dump_fuzz_inputs(cases, std::path::Path::new(&dir));
    }
    // Cases on the same chain go to the same thread, so decoded chains are reused.
    let mut lanes: [Vec<&Case>; 2] = [Vec::new(), Vec::new()];
    let mut lane_of: std::collections::HashMap<&[u8], usize> = std::collections::HashMap::new();
    for case in cases {
        let next = lane_of.len() % 2;
        let lane = *lane_of.entry(case.input.stack.as_slice()).or_insert(next);
        lanes[lane].push(case);
    }
    let results: Vec<(&Case, bool, Option<String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = lanes
            .iter()
            .map(|lane| {
                scope.spawn(move || {
                    let mut deciders = Deciders::default();
                    lane.iter()
                        .enumerate()
                        .map(|(i, case)| {
                            let (allowed, report) = check(&mut deciders, case, i % 20 == 0);
                            (*case, allowed, report)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("lane panicked"))
            .collect()
    });
    let mut tally: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut coverage = Coverage::default();
    for (case, allowed, report) in results {
        coverage.record(case, allowed);
        let t = tally.entry(case.category).or_default();
        t.cases += 1;
        if allowed {
            t.allowed += 1;
        } else {
            t.denied += 1;
        }
        failures.extend(report);
    }
    eprintln!(
        "{:<34} {:>6} {:>6} {:>6}",
        "category", "cases", "allow", "deny"
    );
    for (category, t) in &tally {
        eprintln!(
            "{:<34} {:>6} {:>6} {:>6}",
            category, t.cases, t.allowed, t.denied
        );
    }
    eprintln!("{:<34} {:>6}", "TOTAL", cases.len());
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    eprintln!("{}", coverage.summary());
    coverage.assert_complete();
    cases.len()
}

/// Writes every case without revocations as an input of the `differential`
/// fuzz target (the layout of `tenuo_fuzz_targets::differential::Case::encode`:
/// trusted seeds, now, PoP, tool, CBOR arguments, stack), one file per case.
/// `fuzz-targets`' `gen-seeds` derives every target's seed corpus from them.
fn dump_fuzz_inputs(cases: &[Case], dir: &std::path::Path) {
    std::fs::create_dir_all(dir).expect("seed directory");
    for (i, case) in cases.iter().enumerate() {
        let input = &case.input;
        // The fuzz input always presents its stack bytes: a withheld warrant
        // has no encoding there.
        if !input.revoked.is_empty() || case.withheld {
            continue;
        }
        let args = ciborium::Value::Map(
            input
                .args
                .iter()
                .map(|(k, v)| (ciborium::Value::Text(k.clone()), v.to_cbor()))
                .collect(),
        );
        let mut args_bytes = Vec::new();
        ciborium::ser::into_writer(&args, &mut args_bytes).expect("CBOR");
        let trusted = &input.trusted[..input.trusted.len().min(3)];
        let mut out = vec![trusted.len() as u8];
        out.extend_from_slice(trusted);
        out.extend_from_slice(&input.now.to_le_bytes());
        out.push(u8::from(input.pop.is_some()));
        out.extend_from_slice(&input.pop.unwrap_or([0; 64]));
        out.extend_from_slice(&(input.tool.len() as u16).to_le_bytes());
        out.extend_from_slice(input.tool.as_bytes());
        out.extend_from_slice(&(args_bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(&args_bytes);
        out.extend_from_slice(&input.stack);
        let name = format!(
            "{i:04}-{}",
            case.category
                .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        );
        std::fs::write(dir.join(name), out).expect("seed written");
    }
}
