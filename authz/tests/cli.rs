//! The `tenuo` binary, driven as a user would (`docs/reference.md` §6): every subcommand
//! and flag, the exact `--json` verdict keys, and the exit codes: 0 allow, 1
//! deny, 2 usage or input error. For `verify`, an absent or undecodable token
//! (and a PoP that is not a signature) is judged, so it is a deny with its §2
//! reason; elsewhere a bad token is an input error.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;
use tenuo_authz::crypto::{PublicKey, SigningKey};
use tenuo_authz::wire::{decode_token, encode_base64url, encode_pem_chain, TokenKind};
use tenuo_authz::{DenyReason, Warrant};

/// Seeds of the keys: control plane (root issuer), agent, worker, stranger.
const CP: u8 = 1;
const AGENT: u8 = 2;
const WORKER: u8 = 3;
const STRANGER: u8 = 9;
/// Mint time of every warrant here (a PoP window boundary).
const T: i64 = 1_800_000_000;

/// A private key as the CLI takes it inline: the hex seed.
fn key(seed: u8) -> String {
    hex::encode([seed; 32])
}

/// A public key in hex.
fn public(seed: u8) -> String {
    SigningKey::from_bytes(&[seed; 32]).public_key().to_hex()
}

fn at(offset: i64) -> String {
    (T + offset).to_string()
}

/// One run of the binary.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `tenuo args...` with `stdin`, without a signing key in the environment.
fn tenuo(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tenuo"))
        .args(args)
        .env_remove("TENUO_SIGNING_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the tenuo binary starts");
    let mut pipe = child.stdin.take().expect("stdin piped");
    // A command that fails on its flags exits without reading stdin.
    let _ = pipe.write_all(stdin);
    drop(pipe);
    let output = child.wait_with_output().expect("tenuo finishes");
    Run {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    }
}

/// Runs a command that must succeed; its trimmed stdout.
fn ok(args: &[&str], stdin: &str) -> String {
    let run = tenuo(args, stdin.as_bytes());
    assert_eq!(run.code, 0, "tenuo {args:?} failed: {run:?}");
    run.stdout.trim().to_owned()
}

/// Runs a command that must fail with exit 2 and print nothing on stdout; its stderr.
fn usage_error(args: &[&str], stdin: &[u8]) -> String {
    let run = tenuo(args, stdin);
    assert_eq!(run.code, 2, "tenuo {args:?}: {run:?}");
    assert!(run.stdout.is_empty(), "tenuo {args:?} printed {run:?}");
    assert!(!run.stderr.is_empty(), "tenuo {args:?} said nothing");
    run.stderr
}

fn chain_of(token: &str) -> Vec<Warrant> {
    decode_token(token).expect("the CLI's output decodes").1
}

/// A scratch directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("tenuo-cli-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch directory");
        Self(dir)
    }

    fn path(&self, file: &str) -> String {
        self.0.join(file).to_str().expect("UTF-8 path").to_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The root of these tests: the control plane grants the agent `read_file`
/// (path under /data, n in 0..=10) and `list`, for 10 minutes from `T`.
fn root() -> String {
    ok(
        &[
            "issue",
            "--key",
            &key(CP),
            "--holder",
            &public(AGENT),
            "--tool",
            "read_file",
            "--tool",
            "list",
            "--constraint",
            "path=pattern:/data/*",
            "--constraint",
            "n=range:0..10",
            "--ttl",
            "10m",
            "--at",
            &at(0),
        ],
        "",
    )
}

/// A chain: [`root`] narrowed by the agent for the worker.
fn chain() -> String {
    narrow(&root())
}

/// `root` narrowed by the agent for the worker: `read_file` only, path under
/// /data/reports, n in 0..=5.
fn narrow(root: &str) -> String {
    ok(
        &[
            "attenuate",
            "--key",
            &key(AGENT),
            "--holder",
            &public(WORKER),
            "--tool",
            "read_file",
            "--constraint",
            "path=pattern:/data/reports/*",
            "--constraint",
            "n=range:0..5",
            "--at",
            &at(1),
        ],
        root,
    )
}

/// A PoP by `signer` for `read_file` with these `--arg`s, at `T + offset`.
fn pop(token: &str, signer: u8, call: &[&str], offset: i64) -> String {
    let mut args = vec!["sign-pop", "--key"];
    let signer = key(signer);
    args.push(&signer);
    args.extend(["--tool", "read_file"]);
    for arg in call {
        args.extend(["--arg", arg]);
    }
    let when = at(offset);
    args.extend(["--at", &when]);
    ok(&args, token)
}

/// `verify --json ...`: the exit code and the verdict object, whose keys must be
/// exactly those of `docs/reference.md` §6, with `reason` null exactly when allowed.
fn verdict(args: &[&str], stdin: &[u8]) -> (i32, Option<DenyReason>, String) {
    let mut all = vec!["verify", "--json"];
    all.extend_from_slice(args);
    let run = tenuo(&all, stdin);
    let value: Value = serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("verify {args:?} printed no JSON ({e}): {run:?}"));
    let object = value.as_object().expect("a JSON object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["decision", "detail", "reason"], "{value}");
    let detail = object["detail"]
        .as_str()
        .expect("detail is text")
        .to_owned();
    let reason = match (&object["decision"], &object["reason"]) {
        (Value::String(d), Value::Null) if d == "allow" => None,
        (Value::String(d), Value::String(r)) if d == "deny" => {
            Some(DenyReason::parse(r).unwrap_or_else(|| panic!("{r} is not a §2 reason")))
        }
        _ => panic!("decision and reason disagree: {value}"),
    };
    assert_eq!(run.code, if reason.is_none() { 0 } else { 1 }, "{run:?}");
    (run.code, reason, detail)
}

#[test]
fn keygen_prints_a_hex_pair_and_writes_pem_files() {
    let printed = ok(&["keygen"], "");
    let lines: Vec<&str> = printed.lines().collect();
    let [private, public_line] = lines.as_slice() else {
        panic!("two lines expected: {printed}");
    };
    let private = private.strip_prefix("private_key: ").expect("private_key");
    let public_hex = public_line
        .strip_prefix("public_key: ")
        .expect("public_key");
    assert_eq!((private.len(), public_hex.len()), (64, 64));
    let parsed = SigningKey::parse(private).expect("the private key parses");
    assert_eq!(parsed.public_key().to_hex(), public_hex);
    assert_ne!(ok(&["keygen"], ""), printed, "keys are random");

    let dir = Scratch::new("keygen");
    let prefix = dir.path("cp");
    let public_hex = ok(&["keygen", "--out", &prefix], "");
    let private_pem = std::fs::read_to_string(format!("{prefix}.key")).expect("cp.key");
    let public_pem = std::fs::read_to_string(format!("{prefix}.pub")).expect("cp.pub");
    assert!(private_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    assert!(public_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    let signing = SigningKey::parse(&private_pem).expect("PKCS#8 parses");
    assert_eq!(signing.public_key().to_hex(), public_hex);
    assert_eq!(
        PublicKey::parse(&public_pem).expect("SPKI parses").to_hex(),
        public_hex
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(format!("{prefix}.key"))
            .expect("cp.key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the private key is private");
    }
    // An existing key is never overwritten.
    let stderr = usage_error(&["keygen", "--out", &prefix], b"");
    assert!(stderr.contains("must not exist"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(format!("{prefix}.key")).expect("cp.key"),
        private_pem
    );

    // The files are keys the other commands take by path.
    let token = ok(
        &[
            "issue",
            "--key",
            &format!("{prefix}.key"),
            "--tool",
            "t",
            "--at",
            &at(0),
        ],
        "",
    );
    let (_, reason, _) = verdict(
        &["--issuer", &format!("{prefix}.pub"), "--at", &at(5)],
        token.as_bytes(),
    );
    assert_eq!(reason, None);
}

#[test]
fn issue_mints_a_root_in_base64url_or_pem() {
    let token = root();
    let (kind, chain) = decode_token(&token).expect("decodes");
    assert_eq!(kind, TokenKind::Warrant, "a lone warrant, not a stack");
    let [warrant] = chain.as_slice() else {
        panic!("one warrant");
    };
    let p = warrant.payload();
    assert_eq!(p.issuer.to_hex(), public(CP));
    assert_eq!(p.holder.to_hex(), public(AGENT));
    assert_eq!((p.issued_at, p.expires_at), (T as u64, T as u64 + 600));
    assert_eq!(p.depth, 0);
    let tools: Vec<&str> = p.tools.keys().map(String::as_str).collect();
    assert_eq!(tools, ["list", "read_file"]);
    for set in p.tools.values() {
        let shown: Vec<String> = set.iter().map(|(a, c)| format!("{a}={c}")).collect();
        assert_eq!(shown, ["n=Range(0..=10)", "path=Pattern(/data/*)"]);
    }

    let pem = ok(
        &[
            "issue",
            "--key",
            &key(CP),
            "--tool",
            "t",
            "--max-depth",
            "2",
            "--at",
            &at(0),
            "--pem",
        ],
        "",
    );
    assert!(pem.starts_with("-----BEGIN TENUO WARRANT-----\n"), "{pem}");
    let (kind, chain) = decode_token(&pem).expect("PEM decodes");
    assert_eq!(kind, TokenKind::Warrant);
    let p = chain[0].payload();
    assert_eq!(p.max_depth, 2);
    assert_eq!(
        p.holder.to_hex(),
        public(CP),
        "the holder defaults to the issuer"
    );
    assert_eq!(p.expires_at, T as u64 + 300, "the default TTL is 5 minutes");

    let issuer = ok(
        &[
            "issue",
            "--key",
            &key(CP),
            "--type",
            "issuer",
            "--issuable-tool",
            "read_file",
            "--at",
            &at(0),
        ],
        "",
    );
    let p = chain_of(&issuer)[0].payload().clone();
    assert_eq!(p.warrant_type.to_string(), "issuer");
    assert_eq!(p.issuable_tools, Some(vec!["read_file".to_owned()]));

    let base = ["issue", "--key", &key(CP)];
    for (extra, says) in [
        (vec![], "at least one --tool"),
        (
            vec!["--tool", "t", "--constraint", "n=range:x..y"],
            "range bound",
        ),
        (
            vec!["--tool", "t", "--constraint", "nothing"],
            "ARG=TYPE:VALUE",
        ),
        (vec!["--tool", "t", "--ttl", "5w"], "unit"),
        (vec!["--tool", "t", "--at=-1"], "negative"),
    ] {
        let args: Vec<&str> = base.iter().copied().chain(extra).collect();
        let stderr = usage_error(&args, b"");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    usage_error(&["issue", "--key", "not-a-key", "--tool", "t"], b"");
    usage_error(&["issue", "--tool", "t"], b"");
}

#[test]
fn attenuate_narrows_and_refuses_to_widen() {
    let root = root();
    let token = narrow(&root);
    let (kind, warrants) = decode_token(&token).expect("decodes");
    assert_eq!(kind, TokenKind::Stack);
    let [parent, child] = warrants.as_slice() else {
        panic!("two warrants");
    };
    assert_eq!(parent.envelope_bytes(), chain_of(&root)[0].envelope_bytes());
    let p = child.payload();
    assert_eq!(p.issuer.to_hex(), public(AGENT));
    assert_eq!(p.holder.to_hex(), public(WORKER));
    assert_eq!((p.depth, p.issued_at), (1, T as u64 + 1));
    assert_eq!(
        p.expires_at,
        T as u64 + 600,
        "without --ttl, expires with the parent"
    );
    assert_eq!(p.tools.keys().collect::<Vec<_>>(), ["read_file"]);

    // The narrowing holds: the parent admits /data/other, the child does not.
    let cp = public(CP);
    let allowed = ["path=/data/reports/q.csv", "n=3"];
    let outside = ["path=/data/other", "n=3"];
    for (call, expect) in [
        (allowed, None),
        (outside, Some(DenyReason::ConstraintViolation)),
    ] {
        let sig = pop(&token, WORKER, &call, 10);
        let mut args = vec!["--issuer", cp.as_str(), "--tool", "read_file"];
        for arg in call {
            args.extend(["--arg", arg]);
        }
        let when = at(10);
        args.extend(["--pop", &sig, "--at", &when]);
        assert_eq!(verdict(&args, token.as_bytes()).1, expect, "{call:?}");
    }

    // The TTL is capped by the parent's expiry.
    let with_ttl = |ttl: &str| {
        let out = ok(
            &[
                "attenuate",
                "--key",
                &key(AGENT),
                "--tool",
                "read_file",
                "--constraint",
                "path=pattern:/data/*",
                "--constraint",
                "n=range:0..10",
                "--ttl",
                ttl,
                "--at",
                &at(1),
            ],
            &root,
        );
        chain_of(&out)[1].payload().expires_at
    };
    assert_eq!(with_ttl("1d"), T as u64 + 600);
    assert_eq!(with_ttl("2m"), T as u64 + 121);

    // Without --tool every tool is inherited as it is.
    let inherited = ok(&["attenuate", "--key", &key(AGENT), "--at", &at(1)], &root);
    assert_eq!(
        chain_of(&inherited)[1].payload().tools,
        parent.payload().tools
    );

    // Widening, and the other refusals, are input errors.
    let attenuate = |extra: &[&str], stdin: &str| {
        let mut args = vec!["attenuate", "--key"];
        let agent = key(AGENT);
        args.push(&agent);
        args.extend_from_slice(extra);
        usage_error(&args, stdin.as_bytes())
    };
    let wider = attenuate(
        &[
            "--tool",
            "read_file",
            "--constraint",
            "path=pattern:/*",
            "--constraint",
            "n=range:0..10",
        ],
        &root,
    );
    assert!(wider.contains("not narrower"), "{wider}");
    let missing = attenuate(
        &[
            "--tool",
            "read_file",
            "--constraint",
            "path=pattern:/data/*",
        ],
        &root,
    );
    // The cause is printed once, not once per level of the error chain.
    assert_eq!(
        missing.matches("child is missing argument `n`").count(),
        1,
        "{missing}"
    );
    let new_tool = attenuate(&["--tool", "delete"], &root);
    assert!(new_tool.contains("not granted by the parent"), "{new_tool}");
    let orphan = attenuate(&["--constraint", "path=pattern:/data/*"], &root);
    assert!(orphan.contains("needs the --tool"), "{orphan}");
    let stranger = usage_error(
        &["attenuate", "--key", &key(STRANGER), "--tool", "list"],
        root.as_bytes(),
    );
    assert!(stranger.contains("holder"), "{stranger}");
    let no_token = attenuate(&["--tool", "list"], "");
    assert!(no_token.contains("no token on stdin"), "{no_token}");
    let bad_token = attenuate(&["--tool", "list"], "garbage!");
    assert!(bad_token.contains("decoding the token"), "{bad_token}");

    let pem = ok(
        &["attenuate", "--key", &key(AGENT), "--at", &at(1), "--pem"],
        &root,
    );
    assert!(
        pem.starts_with("-----BEGIN TENUO WARRANT CHAIN-----\n"),
        "{pem}"
    );
    assert_eq!(chain_of(&pem).len(), 2);
}

#[test]
fn sign_pop_signs_for_the_leaf_holder_only() {
    let token = chain();
    let call = ["path=/data/reports/q.csv", "n=3"];
    let sig = pop(&token, WORKER, &call, 10);
    assert_eq!(sig.len(), 86, "64 bytes in base64url: {sig}");
    // --args-json signs the same arguments as --arg.
    let from_json = ok(
        &[
            "sign-pop",
            "--key",
            &key(WORKER),
            "--tool",
            "read_file",
            "--args-json",
            r#"{"path":"/data/reports/q.csv","n":3}"#,
            "--at",
            &at(10),
        ],
        &token,
    );
    assert_eq!(from_json, sig, "Ed25519 is deterministic");
    // Another window, another signature.
    assert_ne!(pop(&token, WORKER, &call, 40), sig);

    let stderr = usage_error(
        &["sign-pop", "--key", &key(AGENT), "--tool", "read_file"],
        token.as_bytes(),
    );
    assert!(stderr.contains("not the leaf's holder"), "{stderr}");
    usage_error(&["sign-pop", "--key", &key(WORKER)], token.as_bytes());
    usage_error(
        &[
            "sign-pop",
            "--key",
            &key(WORKER),
            "--tool",
            "t",
            "--args-json",
            "[1]",
        ],
        token.as_bytes(),
    );
    usage_error(
        &["sign-pop", "--key", &key(WORKER), "--tool", "t"],
        b"not a token",
    );
}

#[test]
fn inspect_prints_every_warrant_from_base64url_or_pem() {
    let token = chain();
    let text = ok(&["inspect"], &token);
    assert!(text.starts_with("warrant 0:\n"), "{text}");
    assert!(text.contains("\nwarrant 1:\n"), "{text}");
    assert!(text.contains("path: Pattern(/data/reports/*)"), "{text}");

    let json: Value = serde_json::from_str(&ok(&["inspect", "--json"], &token)).expect("JSON");
    assert_eq!(json["chain_length"], 2);
    let warrants = json["warrants"].as_array().expect("warrants");
    assert_eq!(warrants.len(), 2);
    for (depth, (holder, issuer)) in [(AGENT, CP), (WORKER, AGENT)].into_iter().enumerate() {
        let w = &warrants[depth];
        assert_eq!(w["depth"], depth, "{w}");
        assert_eq!(w["holder"], public(holder), "{w}");
        assert_eq!(w["issuer"], public(issuer), "{w}");
        assert_eq!(w["type"], "execution");
        assert_eq!(w["expires_at"], T + 600);
    }
    assert_eq!(
        warrants[1]["tools"]["read_file"]["constraints"]["path"],
        "Pattern(/data/reports/*)"
    );
    assert_eq!(warrants[0]["tools"]["list"]["allow_unknown"], false);

    // The same chain in PEM armor inspects the same.
    let pem = encode_pem_chain(&chain_of(&token));
    assert_eq!(
        ok(&["inspect", "--json"], &pem),
        ok(&["inspect", "--json"], &token)
    );
    assert_eq!(ok(&["inspect"], &pem), text);

    // Nothing to inspect is an input error.
    assert!(usage_error(&["inspect"], b"").contains("no token on stdin"));
    assert!(usage_error(&["inspect", "--json"], b"%%%").contains("decoding the token"));
    assert!(usage_error(&["inspect"], &[0xff, 0xfe]).contains("not UTF-8"));
}

#[test]
fn verify_decides_with_every_flag() {
    let token = chain();
    let stdin = token.as_bytes();
    let cp = public(CP);
    let call = ["path=/data/reports/q.csv", "n=3"];
    let sig = pop(&token, WORKER, &call, 10);
    let when = at(10);
    let full = |extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = ["--issuer", &cp, "--tool", "read_file", "--at", &when]
            .map(str::to_owned)
            .to_vec();
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args
    };
    let decide = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        verdict(&args, stdin)
    };
    let args = ["--arg", call[0], "--arg", call[1]];
    let with_pop = |extra: &[&str], pop: &str| {
        let mut all = full(extra);
        all.extend(["--pop".to_owned(), pop.to_owned()]);
        decide(all)
    };

    // Allowed: --arg (n=3 is typed as an integer, as signed), or --args-json,
    // or --args-json with --arg winning.
    let (_, reason, detail) = with_pop(&args, &sig);
    assert_eq!(reason, None, "{detail}");
    assert!(
        detail.starts_with("read_file allowed by tnu_wrt_"),
        "{detail}"
    );
    assert!(detail.contains("depth 1"), "{detail}");
    let json = r#"{"path":"/data/reports/q.csv","n":3}"#;
    assert_eq!(with_pop(&["--args-json", json], &sig).1, None);
    let overridden = r#"{"path":"/etc/passwd","n":3}"#;
    assert_eq!(
        with_pop(&["--args-json", overridden, "--arg", call[0]], &sig).1,
        None
    );
    // The PoP names n as an integer: as a string it is another call.
    assert_eq!(
        with_pop(
            &["--args-json", r#"{"path":"/data/reports/q.csv","n":"3"}"#],
            &sig
        )
        .1,
        Some(DenyReason::InvalidPop)
    );

    // --issuer repeats; the root must be among them.
    let stranger = public(STRANGER);
    let chain_only = |issuers: &[&str]| {
        let mut args = Vec::new();
        for issuer in issuers {
            args.extend(["--issuer", *issuer]);
        }
        args.extend(["--at", &when]);
        verdict(&args, stdin)
    };
    let (_, reason, detail) = chain_only(&[&stranger, &cp]);
    assert_eq!((reason, detail.as_str()), (None, "chain verified"));
    assert_eq!(
        chain_only(&[&stranger]).1,
        Some(DenyReason::UntrustedIssuer)
    );
    assert_eq!(
        chain_only(&[&public(AGENT)]).1,
        Some(DenyReason::UntrustedIssuer),
        "the leaf's issuer is not the root"
    );

    // Each deny, by its reason.
    let other_args_pop = pop(&token, WORKER, &["path=/data/reports/r.csv", "n=3"], 10);
    let outside = ["--arg", "path=/data/reports/q.csv", "--arg", "n=9"];
    let outside_pop = pop(&token, WORKER, &["path=/data/reports/q.csv", "n=9"], 10);
    let root_only = chain_of(&token)[0].to_base64url();
    let agent_pop = pop(&root_only, AGENT, &call, 10);
    let late = at(700);
    let late_pop = pop(&token, WORKER, &call, 700);
    let cases: Vec<(&str, Vec<String>, DenyReason)> = vec![
        ("no --pop", full(&args), DenyReason::MissingPop),
        (
            "PoP for other arguments",
            [full(&args), vec!["--pop".into(), other_args_pop]].concat(),
            DenyReason::InvalidPop,
        ),
        (
            "PoP by the agent, for its own warrant",
            [full(&args), vec!["--pop".into(), agent_pop]].concat(),
            DenyReason::InvalidPop,
        ),
        (
            "PoP that is not a signature",
            [full(&args), vec!["--pop".into(), "zz".into()]].concat(),
            DenyReason::InvalidPop,
        ),
        (
            "n outside the child's range",
            [full(&outside), vec!["--pop".into(), outside_pop]].concat(),
            DenyReason::ConstraintViolation,
        ),
        (
            "a tool the child dropped",
            ["--issuer", &cp, "--tool", "list", "--at", &when]
                .map(str::to_owned)
                .to_vec(),
            DenyReason::ToolNotInWarrant,
        ),
        (
            "after expiry (--at)",
            [
                "--issuer",
                &cp,
                "--tool",
                "read_file",
                "--arg",
                call[0],
                "--arg",
                call[1],
                "--pop",
                &late_pop,
                "--at",
                &late,
            ]
            .map(str::to_owned)
            .to_vec(),
            DenyReason::WarrantExpired,
        ),
    ];
    for (what, args, reason) in cases {
        assert_eq!(decide(args).1, Some(reason), "{what}");
    }

    // Without --json: one line, "allow: ..." or "deny: <reason>: <detail>".
    let text = |extra: &[&str]| {
        let mut all = vec![
            "verify",
            "--issuer",
            &cp,
            "--tool",
            "read_file",
            "--at",
            &when,
        ];
        all.extend_from_slice(&args);
        all.extend_from_slice(extra);
        tenuo(&all, stdin)
    };
    let run = text(&["--pop", &sig]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.starts_with("allow: read_file allowed by"),
        "{run:?}"
    );
    let run = text(&[]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.starts_with("deny: missing_pop: "), "{run:?}");
}

#[test]
fn verify_judges_an_absent_or_undecodable_token_as_a_deny() {
    // `docs/reference.md` §6 keeps exit 2 for the operator's input; the token is what is
    // judged, so its absence or corruption is a §2 deny, exit 1, as in the server.
    let cp = public(CP);
    let token = chain();
    let truncated = &token[..token.len() - 10];
    let stack = decode_token(&token).expect("decodes").1;
    let bad_signature = {
        let mut bytes = tenuo_authz::wire::encode_stack(stack.iter().map(Warrant::envelope_bytes));
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        encode_base64url(&bytes)
    };
    let inputs: [(&str, &[u8], DenyReason); 7] = [
        ("empty stdin", b"", DenyReason::MissingWarrant),
        ("only whitespace", b" \n\t\n", DenyReason::MissingWarrant),
        (
            "not base64url",
            b"%%% not a token",
            DenyReason::InvalidWarrant,
        ),
        ("not UTF-8", &[0xff, 0xfe, 0x00], DenyReason::InvalidWarrant),
        (
            "truncated",
            truncated.as_bytes(),
            DenyReason::InvalidWarrant,
        ),
        (
            "PEM armor around garbage",
            b"-----BEGIN TENUO WARRANT-----\nAAAA\n-----END TENUO WARRANT-----\n",
            DenyReason::InvalidWarrant,
        ),
        (
            "a flipped signature bit",
            bad_signature.as_bytes(),
            DenyReason::SignatureInvalid,
        ),
    ];
    for (what, stdin, reason) in inputs {
        for tool in [None, Some("read_file")] {
            let mut args = vec!["--issuer", cp.as_str()];
            if let Some(tool) = tool {
                args.extend(["--tool", tool]);
            }
            let (code, got, detail) = verdict(&args, stdin);
            assert_eq!(
                (code, got),
                (1, Some(reason)),
                "{what} ({tool:?}): {detail}"
            );
        }
    }
    let run = tenuo(&["verify", "--issuer", &cp], b"");
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "deny: missing_warrant: no warrant presented\n");
}

#[test]
fn a_pop_starting_with_a_hyphen_is_a_value_not_a_flag() {
    // Bytes 0xf8.. encode to base64url text starting with `-`, as one PoP in 64 does.
    let pop = encode_base64url(&[0xf8; 64]);
    assert!(pop.starts_with('-'));
    let cp = public(CP);
    let token = chain();
    let when = at(10);
    let args = [
        "--at",
        when.as_str(),
        "--issuer",
        cp.as_str(),
        "--tool",
        "read_file",
        "--arg",
        "path=/data/reports/q.csv",
        "--pop",
        pop.as_str(),
    ];
    let (code, reason, detail) = verdict(&args, token.as_bytes());
    assert_eq!(
        (code, reason),
        (1, Some(DenyReason::InvalidPop)),
        "{detail}"
    );
}

#[test]
fn verify_usage_and_input_errors_exit_2() {
    let token = chain();
    let stdin = token.as_bytes();
    let cp = public(CP);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["verify"], "--issuer"),
        (vec!["verify", "--issuer", "zz"], "public key"),
        (
            vec!["verify", "--issuer", &cp, "--issuer", "00"],
            "public key",
        ),
        (
            vec!["verify", "--issuer", &cp, "--arg", "path=/x"],
            "--tool",
        ),
        (vec!["verify", "--issuer", &cp, "--pop", "zz"], "--tool"),
        (
            vec!["verify", "--issuer", &cp, "--args-json", "{}"],
            "--tool",
        ),
        (
            vec!["verify", "--issuer", &cp, "--tool", "t", "--arg", "novalue"],
            "KEY=VALUE",
        ),
        (
            vec!["verify", "--issuer", &cp, "--tool", "t", "--args-json", "{"],
            "not JSON",
        ),
        (
            vec![
                "verify",
                "--issuer",
                &cp,
                "--tool",
                "t",
                "--args-json",
                "[]",
            ],
            "JSON object",
        ),
        (vec!["verify", "--issuer", &cp, "--at", "soon"], "--at"),
        (vec!["verify", "--issuer", &cp, "--nope"], "--nope"),
        (vec!["frobnicate"], "frobnicate"),
        (vec![], "Usage"),
    ];
    for (args, says) in cases {
        let stderr = usage_error(&args, stdin);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}

/// `--issuer` takes a PEM file too; a path that does not exist is taken as
/// inline key text, and refused.
#[test]
fn verify_issuer_may_be_a_pem_file() {
    let dir = Scratch::new("issuer");
    let file = dir.path("cp.pub");
    std::fs::write(
        &file,
        SigningKey::from_bytes(&[CP; 32]).public_key().to_pem(),
    )
    .expect("written");
    let token = root();
    let (_, reason, _) = verdict(&["--issuer", &file, "--at", &at(5)], token.as_bytes());
    assert_eq!(reason, None);
    let missing = dir.path("absent.pub");
    let stderr = usage_error(&["verify", "--issuer", &missing], token.as_bytes());
    assert!(stderr.contains("public key"), "{stderr}");
}

#[test]
fn issue_mints_a_url_safe_constraint_with_an_optional_host_list() {
    let token = root_with("url=urlsafe:api.example.com");
    let decide = |url: &str| decide_arg(&token, &format!("url={url}"));
    assert_eq!(decide("https://api.example.com/v1"), None);
    for refused in [
        "https://other.example.com/",
        "http://169.254.169.254/latest",
    ] {
        assert_eq!(
            decide(refused),
            Some(DenyReason::ConstraintViolation),
            "{refused}"
        );
    }
}

/// `--arg` and `--args-json` keep a number's kind as written, in `sign-pop` and in
/// `verify`: `n=3.0` is the float 3.0, so a PoP signed over it verifies for `3.0`
/// and not for the integer `3`, and the reverse.
#[test]
fn numbers_keep_the_kind_they_were_written_with() {
    let token = chain();
    let stdin = token.as_bytes();
    let cp = public(CP);
    let when = at(10);
    let path = "path=/data/reports/q.csv";
    let float_pop = pop(&token, WORKER, &[path, "n=3.0"], 10);
    let integer_pop = pop(&token, WORKER, &[path, "n=3"], 10);
    assert_ne!(float_pop, integer_pop);
    let decide = |json: &str, sig: &str| {
        verdict(
            &[
                "--issuer",
                &cp,
                "--tool",
                "read_file",
                "--at",
                &when,
                "--args-json",
                json,
                "--pop",
                sig,
            ],
            stdin,
        )
        .1
    };
    for (json, float, integer) in [
        (
            r#"{"path":"/data/reports/q.csv","n":3.0}"#,
            None,
            Some(DenyReason::InvalidPop),
        ),
        (
            r#"{"path":"/data/reports/q.csv","n":3e0}"#,
            None,
            Some(DenyReason::InvalidPop),
        ),
        (
            r#"{"path":"/data/reports/q.csv","n":3}"#,
            Some(DenyReason::InvalidPop),
            None,
        ),
    ] {
        assert_eq!(
            decide(json, &float_pop),
            float,
            "{json} with a PoP over 3.0"
        );
        assert_eq!(
            decide(json, &integer_pop),
            integer,
            "{json} with a PoP over 3"
        );
    }
}

#[test]
fn issue_mints_a_shlex_constraint_that_verify_evaluates() {
    let token = root_with("cmd=shlex:ls, /usr/bin/git");
    let decide = |command: &str| decide_arg(&token, &format!("cmd={command}"));
    assert_eq!(decide("ls -la \"a; b\""), None);
    assert_eq!(decide("/usr/bin/git status"), None);
    for refused in ["ls; rm -rf /", "git status", "ls $HOME", "rm -rf /"] {
        assert_eq!(
            decide(refused),
            Some(DenyReason::ConstraintViolation),
            "{refused}"
        );
    }
}

#[test]
fn verify_takes_approvals_and_denies_a_gated_call_without_enough() {
    use tenuo_authz::approval::{GateMap, ToolGate};
    use tenuo_authz::constraint::{ArgValue, Constraint, ConstraintSet};
    use tenuo_authz::mint::{sign_approval, Issue};
    let approvers = [
        SigningKey::from_bytes(&[40; 32]),
        SigningKey::from_bytes(&[41; 32]),
    ];
    let mut gates = GateMap::default();
    gates.0.insert("read_file".into(), ToolGate { args: None });
    let mut set = ConstraintSet::new();
    set.insert("path", Constraint::pattern("/data/*").unwrap());
    let w = Issue::execution(SigningKey::from_bytes(&[AGENT; 32]).public_key())
        .tool("read_file", set)
        .required_approvers(approvers.iter().map(SigningKey::public_key))
        .min_approvals(2)
        .approval_gates(gates)
        .sign(&SigningKey::from_bytes(&[CP; 32]), T as u64)
        .unwrap();
    let token = w.to_base64url();
    let mut args = tenuo_authz::pop::Args::new();
    args.insert("path".into(), ArgValue::String("/data/a".into()));
    let signed: Vec<String> = approvers
        .iter()
        .map(|k| {
            let a = sign_approval(k, &w, "read_file", &args, T as u64, 300).unwrap();
            tenuo_authz::approval::encode_approvals(&[a])
        })
        .collect();
    let pop = pop(&token, AGENT, &["path=/data/a"], 5);
    let issuer = public(CP);
    let when = at(5);
    let run = |approvals: &[&str]| {
        let mut all = vec![
            "--issuer",
            &issuer,
            "--tool",
            "read_file",
            "--arg",
            "path=/data/a",
            "--pop",
            &pop,
            "--at",
            &when,
        ];
        for a in approvals {
            all.extend(["--approval", a]);
        }
        verdict(&all, token.as_bytes()).1
    };
    assert_eq!(run(&[&signed[0], &signed[1]]), None);
    assert_eq!(run(&[&signed[0]]), Some(DenyReason::ApprovalRequired));
    assert_eq!(run(&[]), Some(DenyReason::ApprovalRequired));
    assert_eq!(run(&["%%%"]), Some(DenyReason::ApprovalRequired));
}

/// A root granting the agent `read_file` under one `--constraint SPEC`.
fn root_with(spec: &str) -> String {
    ok(
        &[
            "issue",
            "--key",
            &key(CP),
            "--holder",
            &public(AGENT),
            "--tool",
            "read_file",
            "--constraint",
            spec,
            "--ttl",
            "10m",
            "--at",
            &at(0),
        ],
        "",
    )
}

/// `verify` of the agent's `read_file` call with one `--arg ARG` on `token`.
fn decide_arg(token: &str, arg: &str) -> Option<DenyReason> {
    let signature = pop(token, AGENT, &[arg], 5);
    let (cp, when) = (public(CP), at(5));
    let args = [
        "--issuer",
        &cp,
        "--tool",
        "read_file",
        "--arg",
        arg,
        "--pop",
        &signature,
        "--at",
        &when,
    ];
    verdict(&args, token.as_bytes()).1
}
