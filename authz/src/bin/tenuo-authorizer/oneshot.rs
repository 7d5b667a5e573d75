//! The reference authorizer's one-shot subcommands, decided with our library:
//! `info` (its manifests run it as an init container to validate the keys),
//! `check` (a chain's signatures and lifetimes) and `verify` (one call).
//!
//! Exit statuses are the reference's: `check` 0 valid, 1 invalid, 2 expired;
//! `verify` 0 allowed, 1 denied or unusable input (`--output json` prints the
//! verdict and exits 0). `info` differs on purpose: it exits 64 when no valid
//! trusted key is configured, where the reference prints a warning and exits 0,
//! so the init container it is written for actually stops a keyless pod.

use std::io::Read;
use std::process::ExitCode;

use tenuo_authz::chain::PreparedChain;
use tenuo_authz::constraint::ArgValue;
use tenuo_authz::decision::{check_chain_at, Policy, TrustedIssuers};
use tenuo_authz::deny::DenyReason;
use tenuo_authz::pop::Args;
use tenuo_authz::server::{resolve_trusted_keys, Env, GlobalArgs};
use tenuo_authz::wire::decode_token;
use tenuo_authz::Authorizer;

const EX_USAGE: u8 = 64;

/// Options of `check`.
#[derive(Debug, clap::Args)]
pub(crate) struct CheckArgs {
    /// The warrant or stack (base64 or PEM); `-` or absent: read stdin.
    #[arg(short, long, allow_hyphen_values = true)]
    warrant: Option<String>,
}

/// Options of `verify`.
#[derive(Debug, clap::Args)]
pub(crate) struct VerifyArgs {
    /// The warrant or stack (base64 or PEM); `-` or absent: read stdin.
    #[arg(short, long, allow_hyphen_values = true)]
    warrant: Option<String>,
    /// The tool called.
    #[arg(short, long)]
    tool: String,
    /// A call argument KEY=VALUE (the value is a string, as in the reference); repeatable.
    #[arg(short, long)]
    arg: Vec<String>,
    /// The holder's PoP signature (hex, or base64).
    #[arg(short, long, allow_hyphen_values = true)]
    pop: String,
    /// exit-code (status only, reason on stderr), json (verdict on stdout, exit 0) or quiet.
    #[arg(short, long, default_value = "exit-code")]
    output: String,
}

/// The keys from `--trusted-keys`, `TENUO_TRUSTED_KEYS` or `TRUSTED_ISSUERS`.
fn keys(global: &GlobalArgs, env: &dyn Env) -> Result<Vec<tenuo_authz::crypto::PublicKey>, String> {
    resolve_trusted_keys(global.trusted_keys.as_deref(), &[], env).map_err(|e| e.to_string())
}

/// `info`: the version and the trusted keys.
pub(crate) fn info(global: &GlobalArgs, env: &dyn Env) -> ExitCode {
    println!(
        "Tenuo Authorizer (tenuo-authz) v{}",
        env!("CARGO_PKG_VERSION")
    );
    match keys(global, env) {
        Ok(keys) if !keys.is_empty() => {
            println!("Trusted keys: {}", keys.len());
            for key in &keys {
                println!("  {}", key.to_hex());
            }
        }
        Ok(_) => {
            eprintln!(
                "tenuo-authorizer: no trusted key configured: set TENUO_TRUSTED_KEYS (comma-separated hex Ed25519 public keys) or --trusted-keys"
            );
            return ExitCode::from(EX_USAGE);
        }
        Err(error) => {
            eprintln!("tenuo-authorizer: {error} (check TENUO_TRUSTED_KEYS)");
            return ExitCode::from(EX_USAGE);
        }
    }
    match revocation_path(global, env) {
        Some(path) => println!("Revocation list: {}", path.display()),
        None => println!("Revocation list: none"),
    }
    ExitCode::SUCCESS
}

/// The token from `--warrant`, or stdin for `-` or none.
fn read_token(flag: Option<&str>) -> Result<String, String> {
    match flag {
        Some(text) if text != "-" => Ok(text.trim().to_owned()),
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .take(1 << 22)
                .read_to_string(&mut text)
                .map_err(|e| format!("reading stdin: {e}"))?;
            Ok(text.trim().to_owned())
        }
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// `check`: signatures, linkage and lifetimes of the chain, against the
/// configured keys, or (none configured) against its own root issuer, as the
/// reference checks a warrant against its own issuer.
pub(crate) fn check(global: &GlobalArgs, args: &CheckArgs, env: &dyn Env) -> ExitCode {
    let fail = |message: String| {
        eprintln!("✗ Warrant invalid: {message}");
        ExitCode::from(1)
    };
    let token = match read_token(args.warrant.as_deref()) {
        Ok(token) => token,
        Err(error) => return fail(error),
    };
    let warrants = match decode_token(&token) {
        Ok((_, warrants)) => warrants,
        Err(error) => return fail(error.to_string()),
    };
    let Some(chain) = PreparedChain::new(warrants) else {
        return fail("no warrant".into());
    };
    let configured = match keys(global, env) {
        Ok(keys) => keys,
        Err(error) => return fail(error),
    };
    let trusted = if configured.is_empty() {
        match tenuo_authz::crypto::PublicKey::from_slice(chain.root_issuer()) {
            Ok(root) => vec![root],
            Err(error) => return fail(error.to_string()),
        }
    } else {
        configured
    };
    let outcome = check_chain_at(
        &chain,
        &TrustedIssuers::new(trusted),
        &(),
        &Policy::default(),
        now(),
    );
    match outcome {
        Ok(()) => {
            print_summary(&chain);
            ExitCode::SUCCESS
        }
        Err(denial) if denial.reason() == DenyReason::WarrantExpired => {
            print_summary(&chain);
            println!("  ⚠ WARNING: {denial}");
            ExitCode::from(2)
        }
        Err(denial) => fail(denial.to_string()),
    }
}

fn print_summary(chain: &PreparedChain) {
    let leaf = chain.leaf();
    println!("✓ Warrant signature is valid");
    println!("  ID: {}", leaf.id);
    let tools: Vec<&str> = leaf.tools.keys().map(String::as_str).collect();
    if !tools.is_empty() {
        println!("  Tools: {}", tools.join(", "));
    }
    println!("  Expires: {} (Unix seconds)", chain.expires_at());
    println!("  Depth: {}", leaf.depth);
}

/// `verify`: decides the call with the configured keys and revocation list.
pub(crate) fn verify(global: &GlobalArgs, args: &VerifyArgs, env: &dyn Env) -> ExitCode {
    let fail = |message: String| {
        eprintln!("tenuo-authorizer: {message}");
        ExitCode::from(1)
    };
    if !matches!(args.output.as_str(), "exit-code" | "json" | "quiet") {
        return fail(format!(
            "unknown --output {:?}: exit-code, json or quiet",
            args.output
        ));
    }
    let trusted = match keys(global, env) {
        Ok(keys) if !keys.is_empty() => keys,
        Ok(_) => return fail("no trusted key: set TENUO_TRUSTED_KEYS or --trusted-keys".into()),
        Err(error) => return fail(error),
    };
    let mut call_args = Args::new();
    for pair in &args.arg {
        let Some((key, value)) = pair.split_once('=') else {
            return fail(format!("--arg {pair:?}: expected KEY=VALUE"));
        };
        call_args.insert(key.to_owned(), ArgValue::String(value.to_owned()));
    }
    let token = match read_token(args.warrant.as_deref()) {
        Ok(token) => token,
        Err(error) => return fail(error),
    };
    let authorizer = Authorizer::builder()
        .trusted_issuers(trusted)
        .without_cache()
        .build_unchecked();
    if let Err(error) = install_revocation_list(global, env, &authorizer) {
        return fail(error);
    }
    let outcome = authorizer.authorize(Some(&token), &args.tool, &call_args, Some(&args.pop));
    match args.output.as_str() {
        "json" => {
            let warrant_id = authorizer
                .prepare(&token)
                .ok()
                .map(|chain| chain.leaf().id.to_string());
            let (error, reason) = match &outcome {
                Ok(_) => (None, None),
                Err(denial) => (Some(denial.to_string()), Some(denial.reason().as_str())),
            };
            let verdict = serde_json::json!({
                "authorized": outcome.is_ok(),
                "error": error,
                "reason": reason,
                "warrant_id": warrant_id,
                "tool": args.tool,
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&verdict).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        "quiet" => match outcome {
            Ok(_) => ExitCode::SUCCESS,
            Err(_) => ExitCode::from(1),
        },
        _ => match outcome {
            Ok(_) => ExitCode::SUCCESS,
            Err(denial) => {
                eprintln!(
                    "Authorization failed: {}: {denial}",
                    denial.reason().as_str()
                );
                ExitCode::from(1)
            }
        },
    }
}

/// The revocation list file: the flag, else either variable name.
fn revocation_path(global: &GlobalArgs, env: &dyn Env) -> Option<std::path::PathBuf> {
    global
        .revocation_list
        .clone()
        .or_else(|| env.var("TENUO_REVOCATION_LIST").map(Into::into))
        .or_else(|| env.var("TENUO_REVOCATION_FILE").map(Into::into))
        .filter(|p| !p.as_os_str().is_empty())
}

/// The reference consults its revocation list in every subcommand.
fn install_revocation_list(
    global: &GlobalArgs,
    env: &dyn Env,
    authorizer: &Authorizer,
) -> Result<(), String> {
    let Some(path) = revocation_path(global, env) else {
        return Ok(());
    };
    let bytes =
        std::fs::read(&path).map_err(|e| format!("revocation list {}: {e}", path.display()))?;
    let list = match std::str::from_utf8(&bytes) {
        Ok(text)
            if !text.trim().is_empty() && text.trim().bytes().all(|b| b.is_ascii_graphic()) =>
        {
            tenuo_authz::revocation::SignedRevocationList::from_base64(text)
        }
        _ => tenuo_authz::revocation::SignedRevocationList::from_cbor(&bytes),
    }
    .map_err(|e| format!("revocation list {}: {e}", path.display()))?;
    authorizer
        .install_revocation_list(&list)
        .map_err(|e| format!("revocation list {}: {e}", path.display()))
}
