//! The bodies of the tenuo-authz fuzz targets, on the stable toolchain.
//!
//! One function per target, each taking the fuzzer's bytes. The cargo-fuzz
//! harness in `fuzz/` wraps each in `fuzz_target!`; `tests/corpus.rs` replays
//! every committed seed and regression input through the same functions, so CI
//! exercises them without a fuzzer. `cargo xtask fuzz --seconds N` runs them.
//!
//! | target | what |
//! |---|---|
//! | `decode` | warrant and stack decoders (bytes, base64url, PEM), chain preparation |
//! | `pop_header` | the `X-Tenuo-PoP` parser and PoP verification |
//! | `constraints` | constraint sets from CBOR: argument matching, attenuation soundness, Shlex against the reference |
//! | `gateway_config` | the gateway YAML compiler |
//! | `extract` | whole HTTP requests through the tower front end and the gateway fixtures |
//! | `differential` | decode and decide with ours and the reference, compare (and each grant's Shlex verdicts) |
//! | `cbor_value` | the fast CBOR decoder against ciborium, value for value |
//! | `approvals_header` | the `X-Tenuo-Approvals` decoder and approval verification |

pub mod approvals_header;
pub mod cbor_value;
pub mod constraints;
pub mod decode;
pub mod differential;
pub mod gateway;
pub mod input;
pub mod pop_header;
pub mod shlex;

/// A target: its name and its body.
pub type Target = (&'static str, fn(&[u8]));

/// Every target, by name.
pub const TARGETS: [Target; 8] = [
    ("decode", decode::run),
    ("pop_header", pop_header::run),
    ("constraints", constraints::run),
    ("gateway_config", gateway::run_config),
    ("extract", gateway::run_extract),
    ("differential", differential::run),
    ("cbor_value", cbor_value::run),
    ("approvals_header", approvals_header::run),
];

/// The body of the target called `name`.
pub fn target(name: &str) -> Option<fn(&[u8])> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}
