//! `tenuo verify`: verify a chain against trusted issuers and, given a tool,
//! decide that call exactly as the authorizer would.
//!
//! Exit status: 0 allow, 1 deny, 2 usage or input error. The line between the
//! last two: what frames the question (`--issuer`, `--revoked`, `--arg`,
//! `--args-json`, `--at`, the flags themselves) is the operator's input, and a value that does
//! not parse is an input error. What is judged (the token on stdin and the
//! `--pop`) is presented by the caller being decided, so, as in the server, an
//! absent or malformed one is a deny with its `docs/reference.md` §2 reason: empty stdin
//! `missing_warrant`, an undecodable token `invalid_warrant`, a PoP that is not
//! a signature `invalid_pop`, an `--approval` that does not decode
//! `approval_required`. Only a stdin that cannot be read is an input error.

use std::process::ExitCode;

use std::collections::HashSet;

use anyhow::{Context, Result};
use clap::Args;
use serde_json::json;
use tenuo_authz::approval::{decode_approvals, ApprovalDenial};
use tenuo_authz::chain::PreparedChain;
use tenuo_authz::decision::{check_chain_at, decide, Authorized, Call, Policy, TrustedIssuers};
use tenuo_authz::pop::Args as CallArgs;
use tenuo_authz::warrant::WarrantId;
use tenuo_authz::wire::{decode_token, DecodeError};
use tenuo_authz::{parse_pop, Denial};

use crate::input::{call_args, now, public_key, read_stdin_bytes};

/// Options of `tenuo verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// A trusted root issuer key (hex or PEM file); repeat for several.
    #[arg(long = "issuer", required = true)]
    issuers: Vec<String>,
    /// Authorize a call of this tool on the leaf warrant.
    #[arg(long)]
    tool: Option<String>,
    /// A call argument KEY=VALUE (VALUE typed if it parses as JSON); repeatable.
    #[arg(long = "arg", requires = "tool")]
    args: Vec<String>,
    /// All call arguments as one JSON object.
    #[arg(long, requires = "tool")]
    args_json: Option<String>,
    /// The holder's PoP signature (base64url, base64 or hex).
    // One base64url signature in 64 starts with `-`: still a value, not a flag.
    #[arg(long, requires = "tool", allow_hyphen_values = true)]
    pop: Option<String>,
    /// A signed approval (base64 of its CBOR, or of an array of them, either
    /// alphabet), as `X-Tenuo-Approvals` carries it; repeatable.
    #[arg(long = "approval", requires = "tool")]
    approvals: Vec<String>,
    /// A revoked warrant id (`tnu_wrt_...` or hex); repeatable. A chain holding
    /// one is denied `warrant_revoked`.
    #[arg(long = "revoked")]
    revoked: Vec<String>,
    /// Decide at this Unix time instead of now (negative times are times too).
    #[arg(long, allow_negative_numbers = true)]
    at: Option<i64>,
    /// Print one JSON object: {"decision", "reason", "detail"}.
    #[arg(long)]
    json: bool,
}

/// The call to authorize, when `--tool` is given.
struct Question<'a> {
    tool: &'a str,
    args: &'a CallArgs,
    pop: Option<&'a str>,
    approvals: &'a [String],
}

pub(crate) fn run(args: VerifyArgs) -> Result<ExitCode> {
    let trusted = TrustedIssuers::new(
        args.issuers
            .iter()
            .map(|k| public_key(k))
            .collect::<Result<Vec<_>>>()?,
    );
    let revoked = args
        .revoked
        .iter()
        .map(|id| WarrantId::parse(id).with_context(|| format!("--revoked {id}")))
        .collect::<Result<HashSet<_>>>()?;
    let call_arguments = call_args(&args.args, args.args_json.as_deref())?;
    let now = now(args.at);
    let token = read_stdin_bytes()?;
    let question = args.tool.as_deref().map(|tool| Question {
        tool,
        args: &call_arguments,
        pop: args.pop.as_deref(),
        approvals: &args.approvals,
    });
    let outcome = judge(&token, &trusted, &revoked, question, now);
    report(&outcome, args.json);
    Ok(if outcome.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Decides the token: the chain alone, or the call when there is one. Every
/// failure here is a denial (see the module doc).
fn judge(
    token: &[u8],
    trusted: &TrustedIssuers,
    revoked: &HashSet<WarrantId>,
    question: Option<Question<'_>>,
    now: i64,
) -> Result<Option<Authorized>, Denial> {
    let text = std::str::from_utf8(token).map_err(|_| DecodeError::Text("not UTF-8"))?;
    if text.trim().is_empty() {
        return Err(Denial::MissingWarrant);
    }
    let (_, chain) = decode_token(text)?;
    // A decoded token always holds a warrant; an empty chain would be no warrant.
    let prepared = PreparedChain::new(chain).ok_or(Denial::MissingWarrant)?;
    let policy = Policy::default();
    let Some(question) = question else {
        return check_chain_at(&prepared, trusted, revoked, &policy, now).map(|()| None);
    };
    // The server's order: the token decodes, the approvals decode, then the PoP
    // must parse.
    let mut approvals = Vec::new();
    for text in question.approvals {
        approvals.extend(decode_approvals(text.trim()).map_err(ApprovalDenial::Undecodable)?);
    }
    let pop = parse_pop(question.pop)?;
    let call = Call {
        tool: question.tool,
        args: question.args,
        pop: pop.as_ref(),
        approvals: &approvals,
        now,
    };
    decide(&prepared, trusted, revoked, &policy, &call).map(Some)
}

/// Prints the outcome: one line of text, or the JSON object of `docs/reference.md` §6.
fn report(outcome: &Result<Option<Authorized>, Denial>, as_json: bool) {
    let detail = match outcome {
        Ok(Some(ok)) => format!(
            "{} allowed by {} (depth {}, {} s left)",
            ok.tool, ok.warrant_id, ok.depth, ok.ttl_remaining_secs
        ),
        Ok(None) => "chain verified".to_owned(),
        Err(denial) => denial.to_string(),
    };
    if as_json {
        let (decision, reason) = match outcome {
            Ok(_) => ("allow", None),
            Err(denial) => ("deny", Some(denial.reason().as_str())),
        };
        println!(
            "{}",
            json!({ "decision": decision, "reason": reason, "detail": detail })
        );
    } else {
        match outcome {
            Ok(_) => println!("allow: {detail}"),
            Err(denial) => println!("deny: {}", denial.debug_header()),
        }
    }
}
