//! The minting commands: `keygen`, `issue`, `attenuate` and `sign-pop`.

use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, ValueEnum};
use tenuo_authz::constraint::ConstraintSet;
use tenuo_authz::crypto::SigningKey;
use tenuo_authz::mint::{encode_chain, Attenuate, Issue};
use tenuo_authz::pop;
use tenuo_authz::wire::{encode_base64url, encode_pem_chain, encode_pem_warrant};

use crate::input::{
    call_args, constraint_spec, duration_secs, now, public_key, read_chain, signing_key,
};

/// Applies the options shared by root and child builders.
macro_rules! apply_common {
    ($builder:expr, $grant:expr) => {{
        let mut b = $builder;
        if let Some(ttl) = &$grant.ttl {
            b = b.ttl_secs(duration_secs(ttl)?);
        }
        if let Some(depth) = $grant.max_depth {
            b = b.max_depth(depth);
        }
        if let Some(level) = $grant.clearance {
            b = b.clearance(level);
        }
        b
    }};
}

/// Options of `tenuo keygen`.
#[derive(Debug, Args)]
pub(crate) struct KeygenArgs {
    /// Write PREFIX.key (PKCS#8 PEM, mode 0600) and PREFIX.pub (SPKI PEM) instead of printing.
    #[arg(long)]
    out: Option<String>,
}

/// Options shared by `issue` and `attenuate`.
#[derive(Debug, Args)]
pub(crate) struct GrantArgs {
    /// A tool to grant; repeatable. `*` grants every tool.
    #[arg(long = "tool")]
    tools: Vec<String>,
    /// An argument constraint ARG=TYPE:VALUE applied to every --tool; repeatable.
    /// TYPE: exact, pattern (default), regex, range (MIN..MAX), oneof, notoneof,
    /// contains, subset (comma lists), cidr, url, subpath, wildcard, urlsafe
    /// (optionally a comma list of allowed hosts), shlex (a comma list of commands).
    #[arg(long = "constraint")]
    constraints: Vec<String>,
    /// Lifetime: 90, 90s, 5m, 2h or 1d.
    #[arg(long)]
    ttl: Option<String>,
    /// Deepest delegation allowed.
    #[arg(long)]
    max_depth: Option<u32>,
    /// Clearance level (0-255).
    #[arg(long)]
    clearance: Option<u8>,
    /// Mint as of this Unix time instead of now.
    #[arg(long)]
    at: Option<i64>,
    /// Print PEM armor instead of base64url.
    #[arg(long)]
    pem: bool,
}

impl GrantArgs {
    fn constraint_set(&self) -> Result<ConstraintSet> {
        let mut set = ConstraintSet::new();
        for spec in &self.constraints {
            let (arg, constraint) = constraint_spec(spec)?;
            set.insert(arg, constraint);
        }
        Ok(set)
    }

    fn mint_time(&self) -> Result<u64> {
        u64::try_from(now(self.at)).map_err(|_| anyhow!("--at must not be negative"))
    }
}

/// Kind of root warrant.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Kind {
    /// May invoke the granted tools.
    Execution,
    /// May issue execution warrants for the issuable tools.
    Issuer,
}

/// Options of `tenuo issue`.
#[derive(Debug, Args)]
pub(crate) struct IssueArgs {
    /// The issuer's signing key (hex, PEM, or a file holding one).
    #[arg(long, env = "TENUO_SIGNING_KEY", hide_env_values = true)]
    key: String,
    /// The holder's public key (hex, PEM, or a file); default: the issuer itself.
    #[arg(long)]
    holder: Option<String>,
    /// Execution (default) or issuer warrant.
    #[arg(long = "type", value_enum, default_value = "execution")]
    kind: Kind,
    /// For issuer warrants: a tool it may issue; repeatable.
    #[arg(long = "issuable-tool")]
    issuable_tools: Vec<String>,
    #[command(flatten)]
    grant: GrantArgs,
}

/// Options of `tenuo attenuate`.
#[derive(Debug, Args)]
pub(crate) struct AttenuateArgs {
    /// The parent leaf's holder key, which signs the child.
    #[arg(long, env = "TENUO_SIGNING_KEY", hide_env_values = true)]
    key: String,
    /// The child's holder; default: the parent's holder.
    #[arg(long)]
    holder: Option<String>,
    #[command(flatten)]
    grant: GrantArgs,
}

/// Options of `tenuo sign-pop`.
#[derive(Debug, Args)]
pub(crate) struct SignPopArgs {
    /// The leaf holder's signing key.
    #[arg(long, env = "TENUO_SIGNING_KEY", hide_env_values = true)]
    key: String,
    /// The tool called.
    #[arg(long)]
    tool: String,
    /// A call argument KEY=VALUE; repeatable.
    #[arg(long = "arg")]
    args: Vec<String>,
    /// All call arguments as one JSON object.
    #[arg(long)]
    args_json: Option<String>,
    /// Sign for this Unix time instead of now.
    #[arg(long)]
    at: Option<i64>,
}

pub(crate) fn keygen(args: KeygenArgs) -> Result<ExitCode> {
    let key = SigningKey::generate()?;
    match args.out {
        None => {
            println!("private_key: {}", key.to_hex().as_str());
            println!("public_key: {}", key.public_key().to_hex());
        }
        Some(prefix) => {
            let private = format!("{prefix}.key");
            write_private(&private, key.to_pem().as_str())?;
            std::fs::write(format!("{prefix}.pub"), key.public_key().to_pem())
                .context("writing the public key")?;
            println!("{}", key.public_key().to_hex());
            eprintln!("wrote {private} and {prefix}.pub");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn write_private(path: &str, pem: &str) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {path} (it must not exist)"))?;
    file.write_all(pem.as_bytes())
        .with_context(|| format!("writing {path}"))
}

pub(crate) fn issue(args: IssueArgs) -> Result<ExitCode> {
    let issuer = signing_key(&args.key)?;
    let holder = match &args.holder {
        Some(h) => public_key(h)?,
        None => issuer.public_key(),
    };
    let set = args.grant.constraint_set()?;
    let mut builder = match args.kind {
        Kind::Execution => {
            if args.grant.tools.is_empty() {
                bail!("an execution warrant needs at least one --tool");
            }
            args.grant
                .tools
                .iter()
                .fold(Issue::execution(holder), |b, tool| {
                    b.tool(tool, set.clone())
                })
        }
        Kind::Issuer => {
            let builder = Issue::issuer(holder, args.issuable_tools.clone());
            if set.is_empty() {
                builder
            } else {
                builder.constraint_bounds(set)
            }
        }
    };
    builder = apply_common!(builder, args.grant);
    let warrant = builder.sign(&issuer, args.grant.mint_time()?)?;
    print_chain(&[warrant], args.grant.pem);
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn attenuate(args: AttenuateArgs) -> Result<ExitCode> {
    let mut chain = read_chain()?;
    let key = signing_key(&args.key)?;
    let parent = chain.last().ok_or_else(|| anyhow!("empty chain"))?;
    let mut builder = Attenuate::from(parent);
    if let Some(holder) = &args.holder {
        builder = builder.holder(public_key(holder)?);
    }
    let set = args.grant.constraint_set()?;
    builder = if args.grant.tools.is_empty() {
        if !set.is_empty() {
            bail!("--constraint needs the --tool it applies to");
        }
        builder.inherit_all()
    } else {
        let parent_tools = &parent.payload().tools;
        args.grant.tools.iter().fold(builder, |b, tool| {
            // Without new constraints a kept tool keeps the parent's.
            let inherited = parent_tools
                .get(tool)
                .or_else(|| parent_tools.get("*"))
                .cloned()
                .unwrap_or_default();
            b.tool(
                tool,
                if set.is_empty() {
                    inherited
                } else {
                    set.clone()
                },
            )
        })
    };
    builder = apply_common!(builder, args.grant);
    let child = builder.sign(&key, args.grant.mint_time()?)?;
    chain.push(child);
    print_chain(&chain, args.grant.pem);
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn sign_pop(args: SignPopArgs) -> Result<ExitCode> {
    let chain = read_chain()?;
    let leaf = chain.last().ok_or_else(|| anyhow!("empty chain"))?;
    let key = signing_key(&args.key)?;
    if key.public_key() != *leaf.holder() {
        bail!("the key is not the leaf's holder ({})", leaf.holder());
    }
    let call = call_args(&args.args, args.args_json.as_deref())?;
    let signature = pop::sign_pop(&key, leaf.id(), &args.tool, &call, now(args.at));
    println!("{}", signature.to_base64url());
    Ok(ExitCode::SUCCESS)
}

/// Prints a lone warrant as an envelope and a longer chain as a stack, in
/// base64url or in the PEM armor of each (`docs/reference.md` §1).
fn print_chain(chain: &[tenuo_authz::Warrant], pem: bool) {
    match (chain, pem) {
        ([single], true) => print!("{}", encode_pem_warrant(single)),
        ([single], false) => println!("{}", single.to_base64url()),
        (_, true) => print!("{}", encode_pem_chain(chain)),
        (_, false) => println!("{}", encode_base64url(&encode_chain(chain))),
    }
}
