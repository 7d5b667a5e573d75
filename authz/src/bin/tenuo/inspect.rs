//! `tenuo inspect`: the decoded contents of every warrant in a chain.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use serde_json::{json, Value};
use tenuo_authz::Warrant;

use crate::input::read_chain;

/// Options of `tenuo inspect`.
#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: InspectArgs) -> Result<ExitCode> {
    let chain = read_chain()?;
    if args.json {
        let warrants: Vec<Value> = chain.iter().map(describe).collect();
        println!(
            "{}",
            json!({ "chain_length": chain.len(), "warrants": warrants })
        );
    } else {
        for (index, warrant) in chain.iter().enumerate() {
            println!("warrant {index}:");
            print_text(&describe(warrant), 1);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Every payload field, as JSON; keys as hex, constraints in their display form.
pub(crate) fn describe(warrant: &Warrant) -> Value {
    let p = warrant.payload();
    let tools: serde_json::Map<String, Value> = p
        .tools
        .iter()
        .map(|(tool, set)| {
            let args: serde_json::Map<String, Value> = set
                .iter()
                .map(|(arg, c)| (arg.clone(), Value::String(c.to_string())))
                .collect();
            (
                tool.clone(),
                json!({ "constraints": args, "allow_unknown": set.allow_unknown() }),
            )
        })
        .collect();
    json!({
        "id": p.id.to_string(),
        "type": p.warrant_type.to_string(),
        "depth": p.depth,
        "max_depth": p.max_depth,
        "issuer": p.issuer.to_hex(),
        "holder": p.holder.to_hex(),
        "issued_at": p.issued_at,
        "expires_at": p.expires_at,
        "parent_hash": p.parent_hash.map(hex::encode),
        "tools": tools,
        "issuable_tools": p.issuable_tools,
        "max_issue_depth": p.max_issue_depth,
        "constraint_bounds": p.constraint_bounds.as_ref().map(|b| b.iter().map(|(a, c)| (a.clone(), Value::String(c.to_string()))).collect::<serde_json::Map<_, _>>()),
        "clearance": p.clearance,
        "session_id": p.session_id,
        "agent_id": p.agent_id,
        "required_approvers": p.required_approvers.as_ref().map(|a| a.iter().map(|k| k.to_hex()).collect::<Vec<_>>()),
        "min_approvals": p.min_approvals,
        "extensions": p.extensions.iter().map(|(k, v)| (k.clone(), Value::String(hex::encode(v)))).collect::<serde_json::Map<_, _>>(),
    })
}

fn print_text(value: &Value, indent: usize) {
    let pad = "  ".repeat(indent);
    if let Value::Object(map) = value {
        for (key, field) in map {
            match field {
                Value::Null => {}
                Value::Object(inner) if inner.is_empty() => {}
                Value::Object(_) => {
                    println!("{pad}{key}:");
                    print_text(field, indent + 1);
                }
                Value::String(s) => println!("{pad}{key}: {s}"),
                other => println!("{pad}{key}: {other}"),
            }
        }
    }
}
