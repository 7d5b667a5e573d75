//! `tenuo verify`: verify a chain against trusted issuers and, given a tool,
//! decide that call exactly as the authorizer would.

use std::process::ExitCode;

use anyhow::{anyhow, Result};
use clap::Args;
use serde_json::json;
use tenuo_authz::chain::PreparedChain;
use tenuo_authz::crypto::Signature;
use tenuo_authz::decision::{check_chain_at, decide, Call, Policy, TrustedIssuers};
use tenuo_authz::Denial;

use tenuo_authz::wire::decode_token;

use crate::input::{call_args, now, public_key, read_stdin};

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
    #[arg(long = "arg")]
    args: Vec<String>,
    /// All call arguments as one JSON object.
    #[arg(long)]
    args_json: Option<String>,
    /// The holder's PoP signature (base64url, base64 or hex).
    #[arg(long)]
    pop: Option<String>,
    /// Decide at this Unix time instead of now.
    #[arg(long)]
    at: Option<i64>,
    /// Print one JSON object: {"decision", "reason", "detail"}.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: VerifyArgs) -> Result<ExitCode> {
    let trusted = TrustedIssuers::new(
        args.issuers
            .iter()
            .map(|k| public_key(k))
            .collect::<Result<Vec<_>>>()?,
    );
    let call_arguments = call_args(&args.args, args.args_json.as_deref())?;
    let pop = args
        .pop
        .as_deref()
        .map(Signature::parse)
        .transpose()
        .map_err(|e| anyhow!("--pop: {e}"))?;
    let now = now(args.at);
    let text = read_stdin()?;
    let outcome = if text.trim().is_empty() {
        Err(Denial::MissingWarrant)
    } else {
        match decode_token(&text) {
            Err(decode) => Err(Denial::InvalidWarrant(decode)),
            Ok((_, chain)) => {
                let prepared = PreparedChain::new(chain).ok_or_else(|| anyhow!("empty chain"))?;
                let policy = Policy::default();
                match &args.tool {
                    None => check_chain_at(&prepared, &trusted, &(), &policy, now).map(|()| None),
                    Some(tool) => {
                        let call = Call {
                            tool,
                            args: &call_arguments,
                            pop: pop.as_ref(),
                            now,
                        };
                        decide(&prepared, &trusted, &(), &policy, &call).map(Some)
                    }
                }
            }
        }
    };
    let (allowed, reason, detail) = match &outcome {
        Ok(Some(ok)) => (
            true,
            None,
            format!(
                "{} allowed by {} (depth {}, {} s left)",
                ok.tool, ok.warrant_id, ok.depth, ok.ttl_remaining_secs
            ),
        ),
        Ok(None) => (true, None, "chain verified".to_owned()),
        Err(denial) => (false, Some(denial.reason().as_str()), denial.to_string()),
    };
    if args.json {
        println!(
            "{}",
            json!({ "decision": if allowed { "allow" } else { "deny" }, "reason": reason, "detail": detail })
        );
    } else if allowed {
        println!("allow: {detail}");
    } else {
        println!(
            "deny: {}",
            outcome
                .as_ref()
                .err()
                .map(Denial::debug_header)
                .unwrap_or_default()
        );
    }
    Ok(if allowed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
