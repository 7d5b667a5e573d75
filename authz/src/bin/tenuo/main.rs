//! `tenuo`: mint, inspect and verify Tenuo v1 warrants from the command line.
//!
//! Tokens (a warrant or a stack, base64url or PEM) are read on stdin. Exit status:
//! 0 allowed (or done), 1 denied, 2 usage or input error. For `verify` the token
//! and the PoP are what is judged, so an absent or undecodable one is a deny
//! (exit 1) with its `docs/reference.md` §2 reason; for the other commands it is an input
//! error (see `verify.rs`).

mod input;
mod inspect;
mod issue;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Mint, inspect and verify Tenuo v1 warrants.
#[derive(Debug, Parser)]
#[command(name = "tenuo", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate an Ed25519 key pair.
    Keygen(issue::KeygenArgs),
    /// Issue a root warrant signed by a trusted key.
    Issue(issue::IssueArgs),
    /// Attenuate the leaf of the chain on stdin into a child; prints the longer chain.
    Attenuate(issue::AttenuateArgs),
    /// Sign a proof of possession for a tool call with the leaf holder's key.
    SignPop(issue::SignPopArgs),
    /// Print every warrant of the chain on stdin, without verifying anything.
    Inspect(inspect::InspectArgs),
    /// Verify the chain on stdin and, given --tool, authorize that call.
    Verify(verify::VerifyArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Keygen(args) => issue::keygen(args),
        Command::Issue(args) => issue::issue(args),
        Command::Attenuate(args) => issue::attenuate(args),
        Command::SignPop(args) => issue::sign_pop(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Verify(args) => verify::run(args),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("tenuo: {error:#}");
            ExitCode::from(2)
        }
    }
}
