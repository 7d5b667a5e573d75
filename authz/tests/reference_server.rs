//! The server-level differential suite: the same HTTP requests, made with the
//! Python SDK's own client helpers (`tenuo` 0.3.3: `BoundWarrant.headers`, with and
//! without `warrant_chain`, `Warrant.sign`), sent through the gateway routes to the
//! reference `tenuo-authorizer` 0.3.5 and to ours. The status must agree on every
//! case, and our reason must be one the mapping table pairs with the reference's
//! `error`; each case also states the outcome it is built to have, so the two
//! cannot agree on being wrong. Differences are allowed only where a case names
//! one documented in the README's Compatibility section.

mod support {
    pub(crate) mod python;
    pub(crate) mod reference_server;
    pub(crate) mod server_process;
}

use std::collections::BTreeMap;

use support::reference_server::ReferenceServer;
use support::server_process::{write_temp, Reply, ServerProcess};

/// The gateway both servers route with: a query argument, a JSON body number and a
/// JSON body string.
const GATEWAY: &str = r#"
version: "1"
settings: {}
tools:
  read_file:
    description: Read a file
    constraints:
      path: { from: query, path: "path", required: true }
  compute:
    description: Compute with a number
    constraints:
      n: { from: body, path: "n", required: true }
  run:
    description: Run a command
    constraints:
      cmd: { from: body, path: "cmd", required: true }
  deploy:
    description: Deploy a service
    constraints:
      service: { from: path, path: "service", required: true }
routes:
  - pattern: "/files/read"
    method: ["GET"]
    tool: read_file
  - pattern: "/compute"
    method: ["POST"]
    tool: compute
  - pattern: "/run"
    method: ["POST"]
    tool: run
  - pattern: "/deploy/{service}"
    method: ["POST"]
    tool: deploy
"#;

/// Mints with the Python SDK and prints the cases as JSON. Every request is built
/// the way an SDK user builds it: `headers()` where the SDK signs a call it allows,
/// `Warrant.sign` for the calls `headers()` refuses to sign locally (the server must
/// catch what a client skipped).
const CASES: &str = r#"
import base64, json, time
from tenuo import Warrant, SigningKey, Pattern, Range

cp, orch, worker, stranger = (SigningKey.generate() for _ in range(4))
caps = {
    "read_file": {"path": Pattern("/data/*")},
    "compute": {"n": Range(-100.0, 10000000000000.0)},
}
root = Warrant.mint(keypair=cp, capabilities=caps, holder=orch.public_key, ttl_seconds=600)
child = (root.grant_builder()
         .capability("read_file", {"path": Pattern("/data/reports/*")})
         .capability("compute", {"n": Range(-10.0, 10000000000000.0)})
         .holder(worker.public_key).ttl(300).grant(orch))
untrusted = Warrant.mint(keypair=stranger, capabilities=caps, holder=orch.public_key, ttl_seconds=600)
now = int(time.time())
cases = []

def b64(sig):
    return base64.b64encode(sig).decode("ascii")

def urlsafe(token):
    return base64.urlsafe_b64encode(base64.b64decode(token)).decode("ascii").rstrip("=")

def standard(token):
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    return base64.b64encode(raw).decode("ascii")

def add(cls, name, method, path, headers, expect, body="", differs=None):
    cases.append({"class": cls, "name": name, "method": method, "path": path,
                  "headers": headers, "body": body, "expect": expect, "differs": differs})

def signed(w, key, tool, args, token=None):
    return {"X-Tenuo-Warrant": token or w.to_base64(), "X-Tenuo-PoP": b64(w.sign(key, tool, args, now))}

# Single warrants, the SDK's own headers.
h = root.bind(orch).headers("read_file", {"path": "/data/x"}, trusted_roots=[cp.public_key])
add("single", "headers() allowed", "GET", "/files/read?path=/data/x", h, "allow")
add("single", "headers() in standard base64", "GET", "/files/read?path=/data/x",
    {**h, "X-Tenuo-Warrant": standard(h["X-Tenuo-Warrant"])}, "allow")
add("single", "outside the pattern", "GET", "/files/read?path=/etc/passwd",
    signed(root, orch, "read_file", {"path": "/etc/passwd"}), "constraint_violation")
add("single", "PoP for other arguments", "GET", "/files/read?path=/data/y", h, "invalid_pop")
add("single", "PoP by another key", "GET", "/files/read?path=/data/x",
    signed(root, worker, "read_file", {"path": "/data/x"}), "invalid_pop")
add("single", "no PoP", "GET", "/files/read?path=/data/x",
    {"X-Tenuo-Warrant": root.to_base64()}, "missing_pop")
add("single", "no warrant", "GET", "/files/read?path=/data/x",
    {"X-Tenuo-PoP": h["X-Tenuo-PoP"]}, "missing_warrant")
add("single", "warrant not base64", "GET", "/files/read?path=/data/x",
    {**h, "X-Tenuo-Warrant": "not a warrant!"}, "invalid_warrant")
add("single", "untrusted root", "GET", "/files/read?path=/data/x",
    signed(untrusted, orch, "read_file", {"path": "/data/x"}), "untrusted_issuer")
add("single", "tool the warrant lacks", "POST", "/run",
    signed(root, orch, "run", {"cmd": "ls"}), "tool_not_in_warrant", body='{"cmd": "ls"}')
add("single", "empty warrant header", "GET", "/files/read?path=/data/x",
    {**h, "X-Tenuo-Warrant": ""}, "missing_warrant",
    differs="an empty warrant header is no warrant here (401), an undecodable one there (400)")
# The mixed forms, refused by both: padding with the URL-safe alphabet, none with the
# standard one. A token of 3n bytes needs no padding, so a byte is added to the text's
# bytes where needed: either way the text is not a warrant the reference would take.
raw = base64.urlsafe_b64decode(h["X-Tenuo-Warrant"] + "=" * (-len(h["X-Tenuo-Warrant"]) % 4))
padded = raw if len(raw) % 3 else raw + b"\x00"
add("single", "padded base64url (a mixed form)", "GET", "/files/read?path=/data/x",
    {**h, "X-Tenuo-Warrant": base64.urlsafe_b64encode(padded).decode("ascii")}, "invalid_warrant")
add("single", "unpadded standard base64 (a mixed form)", "GET", "/files/read?path=/data/x",
    {**h, "X-Tenuo-Warrant": base64.b64encode(padded).decode("ascii").rstrip("=")},
    "invalid_warrant")

# Delegated chains: headers(warrant_chain=[root]) sends a standard-base64 stack.
bound = child.bind(worker)
h = bound.headers("read_file", {"path": "/data/reports/q3"}, warrant_chain=[root],
                  trusted_roots=[cp.public_key])
add("chain", "headers(warrant_chain) allowed", "GET", "/files/read?path=/data/reports/q3", h, "allow")
add("chain", "the same stack in base64url", "GET", "/files/read?path=/data/reports/q3",
    {**h, "X-Tenuo-Warrant": urlsafe(h["X-Tenuo-Warrant"])}, "allow")
stack = h["X-Tenuo-Warrant"]
add("chain", "outside the child's narrower pattern", "GET", "/files/read?path=/data/x",
    signed(child, worker, "read_file", {"path": "/data/x"}, stack), "constraint_violation")
add("chain", "PoP by the parent's holder", "GET", "/files/read?path=/data/reports/q3",
    signed(child, orch, "read_file", {"path": "/data/reports/q3"}, stack), "invalid_pop")
add("chain", "the leaf alone", "GET", "/files/read?path=/data/reports/q3",
    signed(child, worker, "read_file", {"path": "/data/reports/q3"}), "untrusted_issuer")

# Numbers keep the kind they were written with, for the PoP and the constraints.
def number(name, text, pop_value, expect, w=child, key=worker, token=stack):
    add("numbers", name, "POST", "/compute", signed(w, key, "compute", {"n": pop_value}, token),
        expect, body='{"n": %s}' % text)

number("integer 10, PoP over 10", "10", 10, "allow")
number("float 10.0, PoP over 10.0", "10.0", 10.0, "allow")
number("float 1e1, PoP over 10.0", "1e1", 10.0, "allow")
number("float 10.0, PoP over the integer 10", "10.0", 10, "invalid_pop")
number("integer 10, PoP over the float 10.0", "10", 10.0, "invalid_pop")
number("float 0.0, PoP over 0.0", "0.0", 0.0, "allow")
number("float -0.0, PoP over -0.0", "-0.0", -0.0, "allow")
number("float -0.0, PoP over 0", "-0.0", 0, "invalid_pop")
number("float 1000000000000.0, PoP over 1e12", "1000000000000.0", 1e12, "allow")
number("float 2.5, PoP over 2.5", "2.5", 2.5, "allow")
number("float -50.5 below the child's range", "-50.5", -50.5, "constraint_violation")
number("integer beyond i64 is text", "18446744073709551615", "18446744073709551615",
       "constraint_violation")
number("single warrant, float 10.0 in standard base64", "10.0", 10.0, "allow",
       w=root, key=orch, token=standard(root.to_base64()))

# Approvals: `deploy` is gated (1 of 2 approvers, or 2 of 2 on `gated2`); `read_file` is not.
from tenuo import ApprovalRequest, compute_request_hash, sign_approval
first, second = SigningKey.generate(), SigningKey.generate()
def gated(min_approvals):
    return (Warrant.mint_builder()
            .capability("deploy", {"service": Pattern("*")})
            .capability("read_file", {"path": Pattern("/data/*")})
            .required_approvers([first.public_key, second.public_key])
            .min_approvals(min_approvals)
            .approval_gates({"deploy": None})
            .holder(orch.public_key).ttl(600).mint(cp))
gate1, gate2 = gated(1), gated(2)

def approval(w, approver, service, ttl=300):
    args = {"service": service}
    h = compute_request_hash(str(w.id), "deploy", args, orch.public_key)
    return sign_approval(ApprovalRequest("deploy", args, str(w.id), h), approver, ttl_seconds=ttl)

def header(approvals, encode=lambda b: base64.b64encode(b).decode("ascii")):
    if len(approvals) == 1:
        return encode(approvals[0].to_bytes())
    head = bytes([0x80 | len(approvals)])
    return encode(head + b"".join(a.to_bytes() for a in approvals))

def deploy(name, w, service, approvals, expect, encode=None):
    h = signed(w, orch, "deploy", {"service": service})
    if approvals is not None:
        h["X-Tenuo-Approvals"] = header(approvals, encode) if encode else header(approvals)
    add("approvals", name, "POST", "/deploy/" + service, h, expect)

deploy("gated, no approvals", gate1, "api", None, "approval_required")
deploy("gated, one valid approval", gate1, "api", [approval(gate1, first, "api")], "allow")
deploy("gated, approval in base64url", gate1, "api", [approval(gate1, second, "api")], "allow",
       encode=lambda b: base64.urlsafe_b64encode(b).decode("ascii").rstrip("="))
deploy("gated, approval for another call", gate1, "api", [approval(gate1, first, "db")],
       "approval_required")
deploy("gated, approval by a stranger", gate1, "api", [approval(gate1, stranger, "api")],
       "approval_required")
deploy("2 of 2, both approvers", gate2, "api",
       [approval(gate2, first, "api"), approval(gate2, second, "api")], "allow")
deploy("2 of 2, one approver twice", gate2, "api",
       [approval(gate2, first, "api"), approval(gate2, first, "api")], "approval_required")
deploy("2 of 2, one approval", gate2, "api", [approval(gate2, second, "api")], "approval_required")
add("approvals", "ungated tool on a gated warrant", "GET", "/files/read?path=/data/x",
    signed(gate1, orch, "read_file", {"path": "/data/x"}), "allow")
h = signed(gate1, orch, "deploy", {"service": "api"})
add("approvals", "approvals header not base64", "POST", "/deploy/api",
    {**h, "X-Tenuo-Approvals": "%%%"}, "approval_required")

# Shlex: the shell-command constraint, minted by the SDK.
from tenuo_core import Shlex
shell = Warrant.mint(keypair=cp, capabilities={"run": {"cmd": Shlex(["ls", "git"])}},
                     holder=orch.public_key, ttl_seconds=600)
def command(name, cmd, expect):
    add("shlex", name, "POST", "/run", signed(shell, orch, "run", {"cmd": cmd}), expect,
        body=json.dumps({"cmd": cmd}))
command("an allowed program", "ls -la /tmp", "allow")
command("quoted operator is a literal", 'git log "--format=a;b"', "allow")
command("a program not on the list", "rm -rf /", "constraint_violation")
command("chained with ;", "ls; rm -rf /", "constraint_violation")
command("piped", "ls | sh", "constraint_violation")
command("command substitution", "ls $(whoami)", "constraint_violation")
command("variable expansion", "ls $HOME", "constraint_violation")
command("backquotes", "ls `id`", "constraint_violation")
command("unclosed quote", "ls 'x", "constraint_violation")
command("path traversal in the program", "../bin/ls", "constraint_violation")
command("newline", "ls\nrm -rf /", "constraint_violation")

print(json.dumps({"trusted": cp.public_key_bytes().hex(), "cases": cases}))
"#;

/// Our reason, and the reference's `error` values that mean the same denial.
const REASONS: &[(&str, &[&str])] = &[
    ("allow", &["allow"]),
    ("missing_warrant", &["missing_warrant"]),
    ("invalid_warrant", &["invalid_warrant"]),
    ("untrusted_issuer", &["untrusted-root"]),
    // The reference verifies chain signatures while decoding the token.
    ("signature_invalid", &["invalid_warrant"]),
    (
        "chain_invalid",
        &[
            "chain-broken",
            "parent-hash-mismatch",
            "depth-violation",
            "invalid-issuer",
        ],
    ),
    (
        "warrant_expired",
        &[
            "warrant-expired",
            "warrant-not-yet-valid",
            "issued-in-future",
        ],
    ),
    ("warrant_revoked", &["warrant-revoked"]),
    ("tool_not_in_warrant", &["tool-not-authorized"]),
    ("constraint_violation", &["constraint-violation"]),
    // The reference names a missing or wrong PoP by its code `signature-invalid`.
    ("missing_pop", &["signature-invalid"]),
    ("invalid_pop", &["signature-invalid"]),
    (
        "approval_required",
        &[
            "approval-required",
            "insufficient-approvals",
            "approval-invalid",
            "invalid_approvals_header",
        ],
    ),
    ("unsupported", &["unknown-constraint-type"]),
];

/// What one server answered: its status and its reason (`allow` on 2xx).
fn verdict(reply: &Reply, reason_field: &str) -> (u16, String) {
    if (200..300).contains(&reply.status) {
        return (reply.status, "allow".to_owned());
    }
    let body: serde_json::Value = serde_json::from_str(&reply.body).unwrap_or_default();
    let reason = body[reason_field]
        .as_str()
        .unwrap_or("<no reason>")
        .to_owned();
    (reply.status, reason)
}

#[test]
fn python_sdk_requests_get_the_references_answers() {
    // The reference binary first: on a fresh machine it is built on first use,
    // which takes minutes, and the SDK's PoPs are only good for a short window
    // from the moment they are signed.
    support::reference_server::binary();
    let minted = support::python::run_json(CASES, &[]);
    let trusted = minted["trusted"].as_str().expect("trusted key");
    let cases = minted["cases"].as_array().expect("cases");
    let config = write_temp("reference-differential-gateway.yaml", GATEWAY);
    let reference = ReferenceServer::start(trusted, &config);
    let ours = ServerProcess::start(&[
        ("TRUSTED_ISSUERS", trusted),
        ("TENUO_GATEWAY_CONFIG", config.to_str().unwrap()),
    ]);
    let mapping: BTreeMap<&str, &[&str]> = REASONS.iter().copied().collect();

    // Per class: cases, agreeing, documented differences.
    let mut table: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut documented = Vec::new();
    for case in cases {
        let class = case["class"].as_str().unwrap();
        let name = case["name"].as_str().unwrap();
        let method = case["method"].as_str().unwrap();
        let path = case["path"].as_str().unwrap();
        let body = case["body"].as_str().unwrap();
        let expect = case["expect"].as_str().unwrap();
        let differs = case["differs"].as_str();
        let headers: Vec<(String, String)> = case["headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect();
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (ref_status, ref_reason) =
            verdict(&reference.request(method, path, &headers, body), "error");
        let (our_status, our_reason) =
            verdict(&ours.request(method, path, &headers, body), "reason");
        let row = table.entry(class.to_owned()).or_default();
        row.0 += 1;
        let paired = mapping
            .get(our_reason.as_str())
            .is_some_and(|names| names.contains(&ref_reason.as_str()));
        let agree = our_status == ref_status && paired;
        if let Some(why) = differs {
            // A documented difference: both deny, ours as built, and the two differ.
            let both_deny = our_reason != "allow" && ref_reason != "allow";
            if both_deny && !agree && our_reason == expect {
                row.2 += 1;
                documented.push(format!(
                    "[{class}] {name}: ours {our_status} {our_reason}, reference {ref_status} \
                     {ref_reason} ({why})"
                ));
                continue;
            }
            failures.push(format!(
                "[{class}] {name}: documented as differing ({why}), but ours {our_status} \
                 {our_reason}, reference {ref_status} {ref_reason}"
            ));
        } else if agree && our_reason == expect {
            row.1 += 1;
        } else {
            failures.push(format!(
                "[{class}] {name}: ours {our_status} {our_reason}, reference {ref_status} \
                 {ref_reason}, built to be {expect}"
            ));
        }
    }
    println!("| class | cases | agree | documented difference |\n|---|---|---|---|");
    for (class, (cases, agree, differ)) in &table {
        println!("| {class} | {cases} | {agree} | {differ} |");
    }
    println!("documented differences (README, Compatibility):");
    for line in &documented {
        println!("- {line}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
