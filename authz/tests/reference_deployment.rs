//! Deployments written for the reference `tenuo-authorizer` 0.3.5 start ours
//! unchanged: its flags and environment over TCP and on a Unix socket, the
//! container args, environment and probes of the reference crate's own
//! `deploy/kubernetes/data-plane-sidecar.yaml` (read from the crate at test
//! time), the revocation floor across restarts, and the `info`, `check` and
//! `verify` subcommands' exit codes.

#[path = "support/server_process.rs"]
mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use support::{free_port, http, http_unix, now, run_exact, ExactProcess, Reply, GATEWAY};
use tenuo_authz::constraint::{ArgValue, Constraint, ConstraintSet};
use tenuo_authz::crypto::SigningKey;
use tenuo_authz::mint::Issue;
use tenuo_authz::pop::{sign_pop, Args};
use tenuo_authz::revocation::SignedRevocationList;
use tenuo_authz::Warrant;

fn issuer() -> SigningKey {
    SigningKey::from_bytes(&[41; 32])
}

fn agent() -> SigningKey {
    SigningKey::from_bytes(&[42; 32])
}

/// A warrant for `read_file` on `/data/*`, issued `issued` with `ttl` seconds.
fn warrant(issued: u64, ttl: u64) -> Warrant {
    let mut set = ConstraintSet::new();
    set.insert("path", Constraint::pattern("/data/*").unwrap());
    Issue::execution(agent().public_key())
        .tool("read_file", set)
        .ttl_secs(ttl)
        .sign(&issuer(), issued)
        .unwrap()
}

fn path_args(path: &str) -> Args {
    let mut args = Args::new();
    args.insert("path".into(), ArgValue::String(path.into()));
    args
}

/// The gateway headers for a `read_file` call of `path`.
fn call_headers(w: &Warrant, path: &str) -> Vec<(&'static str, String)> {
    let pop = sign_pop(
        &agent(),
        w.id(),
        "read_file",
        &path_args(path),
        now() as i64,
    );
    vec![
        ("x-tenuo-warrant", w.to_base64url()),
        ("x-tenuo-pop", pop.to_base64url()),
    ]
}

/// A `read_file` call for `path` through the gateway route, signed for it.
fn read_file(main: std::net::SocketAddr, w: &Warrant, path: &str) -> Reply {
    let headers = call_headers(w, path);
    http(
        main,
        "GET",
        &format!("/files/read?path={path}"),
        &borrowed(&headers),
        "",
    )
}

/// [`read_file`] over a Unix socket.
fn read_file_unix(socket: &Path, w: &Warrant, path: &str) -> Reply {
    let headers = call_headers(w, path);
    http_unix(
        socket,
        "GET",
        &format!("/files/read?path={path}"),
        &borrowed(&headers),
        "",
    )
}

fn borrowed<'a>(headers: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    headers.iter().map(|(n, v)| (*n, v.as_str())).collect()
}

/// A private directory (mode 0700) for this test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tenuo-refdeploy-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    dir
}

fn write(dir: &Path, name: &str, contents: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path.to_str().unwrap().to_owned()
}

const HEALTH_PATHS: [&str; 4] = ["/health", "/healthz", "/ready", "/status"];

#[test]
fn the_reference_flags_and_environment_over_tcp() {
    let dir = scratch("tcp");
    let gateway = write(&dir, "gw.yaml", GATEWAY);
    let (port, health) = (free_port(), free_port());
    let (port_text, health_text) = (port.to_string(), health.to_string());
    let keys = issuer().public_key().to_hex();
    let server = ExactProcess::start(
        &[
            "serve",
            "--port",
            &port_text,
            "--bind",
            "127.0.0.1",
            "--health-port",
            &health_text,
            "--config",
            &gateway,
        ],
        &[("TENUO_TRUSTED_KEYS", &keys)],
    );
    let main = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let probes = std::net::SocketAddr::from(([127, 0, 0, 1], health));
    assert_eq!(server.started["listen"], main.to_string());
    assert_eq!(server.started["metrics"], probes.to_string());

    let w = warrant(now(), 300);
    let allowed = read_file(main, &w, "/data/a");
    assert_eq!(allowed.status, 200, "{}", allowed.body);
    let denied = read_file(main, &w, "/etc/passwd");
    assert_eq!(denied.status, 403, "{}", denied.body);
    assert_eq!(denied.json()["reason"], "constraint_violation");

    for path in HEALTH_PATHS {
        let reply = http(probes, "GET", path, &[], "");
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    }
    let status = http(probes, "GET", "/status", &[], "").json();
    assert_eq!(status["cp"]["status"], "disabled");
    assert_eq!(status["trusted_issuers"], 1);
    assert_eq!(status["gateway_config_loaded"], true);
    assert!(http(probes, "GET", "/metrics", &[], "")
        .body
        .contains("tenuo_authz_denied"));
    // As in the reference, /healthz and /status are not on the main listener
    // unless asked for: there they are gateway requests, decided.
    for path in ["/healthz", "/status"] {
        assert_ne!(http(main, "GET", path, &[], "").status, 200, "{path}");
    }
    assert!(server.stop().success());

    // The reference's global flag before the subcommand, short flags, and
    // `--health-port 0`: no health listener at all.
    let port = free_port();
    let port_text = port.to_string();
    let server = ExactProcess::start(
        &[
            "--trusted-keys",
            &keys,
            "serve",
            "-p",
            &port_text,
            "-b",
            "127.0.0.1",
            "-c",
            &gateway,
            "--health-port",
            "0",
            "--legacy-health-on-main-port",
        ],
        &[],
    );
    assert!(
        server.started.get("metrics").is_none(),
        "{}",
        server.started
    );
    let main = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    for path in HEALTH_PATHS {
        let reply = http(main, "GET", path, &[], "");
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    }
    let allowed = read_file(main, &w, "/data/b");
    assert_eq!(allowed.status, 200, "{}", allowed.body);
    assert!(server.stop().success());
}

#[test]
fn trusted_roots_from_the_gateway_config_alone() {
    // The reference trusts `settings.trusted_roots` of its --config: a
    // deployment may set no key anywhere else (the ConfigMap left empty).
    let dir = scratch("roots");
    let with_roots = GATEWAY.replace(
        "settings: {}",
        &format!(
            "settings: {{trusted_roots: [\"{}\"]}}",
            issuer().public_key().to_hex()
        ),
    );
    let gateway = write(&dir, "gw.yaml", &with_roots);
    let port = free_port();
    let port_text = port.to_string();
    let server = ExactProcess::start(
        &[
            "serve",
            "--port",
            &port_text,
            "--bind",
            "127.0.0.1",
            "--health-port",
            "0",
            "--config",
            &gateway,
        ],
        &[("TENUO_TRUSTED_KEYS", "")],
    );
    assert_eq!(server.started["trusted_issuers"], 1);
    let main = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let w = warrant(now(), 300);
    let allowed = read_file(main, &w, "/data/a");
    assert_eq!(allowed.status, 200, "{}", allowed.body);
    assert!(server.stop().success());
    // Without roots there either, start-up names every place a key can come from.
    let plain = write(&dir, "plain.yaml", GATEWAY);
    let (status, _, stderr) = run_exact(
        &["serve", "--port", &port_text, "--config", &plain],
        &[("TENUO_TRUSTED_KEYS", "")],
        "",
    );
    assert_eq!(status.code(), Some(64), "{stderr}");
    assert!(
        stderr.contains("TENUO_TRUSTED_KEYS") && stderr.contains("settings.trusted_roots"),
        "{stderr}"
    );
}

#[test]
fn the_reference_socket_flags() {
    let dir = scratch("socket");
    let gateway = write(&dir, "gw.yaml", GATEWAY);
    let socket = dir.join("run").join("authorizer.sock");
    let socket_text = socket.to_str().unwrap().to_owned();
    let keys = issuer().public_key().to_hex();
    // A stale socket file from a crashed run is replaced.
    std::fs::create_dir_all(socket.parent().unwrap()).unwrap();
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    assert!(socket.exists());
    let server = ExactProcess::start(
        &[
            "serve",
            "--socket",
            &socket_text,
            "--socket-mode",
            "0600",
            "--config",
            &gateway,
        ],
        &[("TENUO_TRUSTED_KEYS", &keys)],
    );
    assert_eq!(server.started["socket"], socket_text.as_str());
    assert!(server.started.get("listen").is_none(), "{}", server.started);
    assert!(
        server.started.get("metrics").is_none(),
        "{}",
        server.started
    );
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode();
    assert_eq!(mode & 0o7777, 0o600);

    let w = warrant(now(), 300);
    let allowed = read_file_unix(&socket, &w, "/data/a");
    assert_eq!(allowed.status, 200, "{}", allowed.body);
    let denied = read_file_unix(&socket, &w, "/etc/passwd");
    assert_eq!(denied.status, 403, "{}", denied.body);
    let unsigned = http_unix(&socket, "GET", "/files/read?path=/data/a", &[], "");
    assert_eq!(unsigned.status, 401, "{}", unsigned.body);
    assert!(server.stop().success());
    assert!(!socket.exists(), "the socket file is removed on exit");

    // With the reference's --socket-group (numeric: our own group) and a
    // health port, which then listens on loopback.
    let gid = std::fs::metadata(&dir).map(|m| {
        use std::os::unix::fs::MetadataExt;
        m.gid()
    });
    let gid = gid.unwrap().to_string();
    let health = free_port();
    let health_text = health.to_string();
    let server = ExactProcess::start(
        &[
            "serve",
            "--socket",
            &socket_text,
            "--socket-group",
            &gid,
            "--health-port",
            &health_text,
            "--config",
            &gateway,
        ],
        &[("TENUO_TRUSTED_KEYS", &keys)],
    );
    let meta = std::fs::metadata(&socket).unwrap();
    assert_eq!(meta.permissions().mode() & 0o7777, 0o660);
    assert_eq!(
        std::os::unix::fs::MetadataExt::gid(&meta).to_string(),
        gid.as_str()
    );
    let probes = std::net::SocketAddr::from(([127, 0, 0, 1], health));
    assert_eq!(http(probes, "GET", "/ready", &[], "").status, 200);
    assert!(server.stop().success());
}

/// The reference crate's own directory: the `tenuo-0.3.5` source cargo
/// unpacked for our dev-dependency, under `$CARGO_HOME/registry/src/<index>/`
/// (`CARGO_HOME` defaults to `~/.cargo`). `cargo metadata` would name it too,
/// but it resolves every platform's packages and needs the network to do so.
fn reference_crate_dir() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .expect("CARGO_HOME or HOME");
    let registry = home.join("registry").join("src");
    std::fs::read_dir(&registry)
        .unwrap_or_else(|e| panic!("{}: {e}", registry.display()))
        .filter_map(Result::ok)
        .map(|index| index.path().join("tenuo-0.3.5"))
        .find(|dir| dir.join("Cargo.toml").is_file())
        .unwrap_or_else(|| panic!("tenuo-0.3.5 is not unpacked under {}", registry.display()))
}

/// The value of a container's env entry, resolving `configMapKeyRef` against
/// the ConfigMaps of the same file.
fn env_value(entry: &serde_json::Value, config_maps: &[serde_json::Value]) -> String {
    if let Some(value) = entry["value"].as_str() {
        return value.to_owned();
    }
    let reference = &entry["valueFrom"]["configMapKeyRef"];
    let map = config_maps
        .iter()
        .find(|m| m["metadata"]["name"] == reference["name"])
        .expect("the referenced ConfigMap is in the file");
    map["data"][reference["key"].as_str().unwrap()]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn the_reference_crates_own_sidecar_manifest() {
    let path = reference_crate_dir().join("deploy/kubernetes/data-plane-sidecar.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let documents: Vec<serde_json::Value> = serde_norway::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect();
    let config_maps: Vec<serde_json::Value> = documents
        .iter()
        .filter(|d| d["kind"] == "ConfigMap")
        .cloned()
        .collect();
    let deployments: Vec<&serde_json::Value> = documents
        .iter()
        .filter(|d| d["kind"] == "Deployment")
        .collect();
    assert_eq!(
        deployments.len(),
        2,
        "both Deployments of {}",
        path.display()
    );
    let keys = issuer().public_key().to_hex();
    let (mut sidecars, mut inits) = (0, 0);
    for deployment in deployments {
        let spec = &deployment["spec"]["template"]["spec"];
        let containers = spec["containers"].as_array().unwrap().iter();
        let init = spec["initContainers"].as_array().into_iter().flatten();
        for container in init.clone().chain(containers) {
            if !container["image"]
                .as_str()
                .unwrap()
                .starts_with("tenuo/authorizer")
            {
                continue;
            }
            let command: Vec<String> = container["command"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(container["args"].as_array().into_iter().flatten())
                .map(|v| v.as_str().unwrap().to_owned())
                .collect();
            // The image's entrypoint is the binary; `command` names it.
            let argv: Vec<String> = match command.first().map(String::as_str) {
                Some("tenuo-authorizer") => command[1..].to_vec(),
                _ => command.clone(),
            };
            let manifest_env: Vec<(String, String)> = container["env"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| {
                    (
                        e["name"].as_str().unwrap().to_owned(),
                        env_value(e, &config_maps),
                    )
                })
                .collect();
            match argv.first().map(String::as_str) {
                Some("info") => {
                    inits += 1;
                    let args: Vec<&str> = argv.iter().map(String::as_str).collect();
                    // As shipped: the ConfigMap's empty key. It must stop the pod.
                    let env: Vec<(&str, &str)> = manifest_env
                        .iter()
                        .map(|(n, v)| (n.as_str(), v.as_str()))
                        .collect();
                    assert_eq!(env, [("TENUO_TRUSTED_KEYS", "")]);
                    let (status, _, stderr) = run_exact(&args, &env, "");
                    assert!(!status.success(), "info passed with no key");
                    assert!(stderr.contains("TENUO_TRUSTED_KEYS"), "{stderr}");
                    // With the ConfigMap filled in, it passes and shows the key.
                    let (status, stdout, _) =
                        run_exact(&args, &[("TENUO_TRUSTED_KEYS", keys.as_str())], "");
                    assert!(status.success());
                    assert!(stdout.contains(&keys), "{stdout}");
                }
                Some("serve") => {
                    sidecars += 1;
                    sidecar(container, &argv, &keys);
                }
                other => panic!("an authorizer container runs {other:?}"),
            }
        }
    }
    assert_eq!((sidecars, inits), (1, 1));
}

/// Runs the sidecar container's args with its key filled in. The only change:
/// its ports (9090 and the health port 9091 it relies on by default) are
/// moved to free ones, the main one in its own `--port` argument and the
/// health one with the reference's `TENUO_HEALTH_PORT`, so the test never
/// collides with anything on this machine.
fn sidecar(container: &serde_json::Value, argv: &[String], keys: &str) {
    let ports = container["ports"].as_array().unwrap();
    let port_named = |name: &str| {
        ports
            .iter()
            .find(|p| p["name"] == name)
            .and_then(|p| p["containerPort"].as_u64())
            .unwrap()
    };
    let probe = &container["readinessProbe"]["httpGet"];
    let probe_port = port_named(probe["port"].as_str().unwrap());
    assert_eq!(probe_port, 9091, "the reference's default health port");
    let authz_port = port_named("authz");
    let (main, health) = (free_port(), free_port());
    let mut args: Vec<String> = argv.to_vec();
    let at = args.iter().position(|a| a == "--port").unwrap();
    assert_eq!(args[at + 1], authz_port.to_string());
    args[at + 1] = main.to_string();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let health_text = health.to_string();
    let server = ExactProcess::start(
        &args,
        &[
            ("TENUO_TRUSTED_KEYS", keys),
            ("TENUO_HEALTH_PORT", &health_text),
        ],
    );
    let probes = std::net::SocketAddr::from(([127, 0, 0, 1], health));
    let reply = http(probes, "GET", probe["path"].as_str().unwrap(), &[], "");
    assert_eq!(reply.status, 200, "{}", reply.body);
    // No gateway config in these args: the app calls /v1/check.
    let main = std::net::SocketAddr::from(([127, 0, 0, 1], main));
    let w = warrant(now(), 300);
    for (path, status) in [("/data/a", 200), ("/etc/passwd", 403)] {
        let pop = sign_pop(
            &agent(),
            w.id(),
            "read_file",
            &path_args(path),
            now() as i64,
        );
        let body = serde_json::json!({
            "warrant": w.to_base64url(),
            "pop": pop.to_base64url(),
            "tool": "read_file",
            "args": { "path": path },
        });
        let reply = http(main, "POST", "/v1/check", &[], &body.to_string());
        assert_eq!(reply.status, status, "{path}: {}", reply.body);
    }
    assert!(server.stop().success());
}

#[test]
fn the_revocation_floor_refuses_a_rolled_back_list_after_a_restart() {
    let dir = scratch("floor");
    let gateway = write(&dir, "gw.yaml", GATEWAY);
    let revoked = warrant(now(), 300);
    let v2 = SignedRevocationList::sign(&issuer(), 2, [*revoked.id()], now());
    let v1 = SignedRevocationList::sign(&issuer(), 1, [], now());
    let list = write(&dir, "srl.b64", &v2.to_base64());
    let floor = dir.join("state").join("floor.json");
    let floor_text = floor.to_str().unwrap().to_owned();
    let keys = issuer().public_key().to_hex();
    let port = free_port().to_string();
    let args = [
        "serve",
        "--port",
        &port,
        "--bind",
        "127.0.0.1",
        "--health-port",
        "0",
        "--config",
        &gateway,
    ];
    let env = [
        ("TENUO_TRUSTED_KEYS", keys.as_str()),
        ("TENUO_REVOCATION_LIST", list.as_str()),
        ("TENUO_REVOCATION_FLOOR", floor_text.as_str()),
    ];
    let server = ExactProcess::start(&args, &env);
    assert_eq!(server.started["revocation_version"], 2);
    // The reference crate's own floor store reads ours and refuses v1 too.
    let store = tenuo::revocation_tracker::FileFloorStore::open(&floor).unwrap();
    let reference_key = tenuo::PublicKey::from_bytes(&issuer().public_key().to_bytes()).unwrap();
    use tenuo::revocation_tracker::RevocationFloorStore;
    assert!(store.compare_and_set(&reference_key, 1, [0; 32]).is_err());

    // Rolled back while running: refused, v2 stays.
    std::fs::write(&list, v1.to_base64()).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let rejected = loop {
        let lines = server.log.lock().unwrap().clone();
        if let Some(line) = lines.iter().find(|l| l["event"] == "config_rejected") {
            break line.clone();
        }
        assert!(std::time::Instant::now() < deadline, "no config_rejected");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(
        rejected["error"].as_str().unwrap().contains("version 1"),
        "{rejected}"
    );
    let main: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let still = read_file(main, &revoked, "/data/a");
    assert_eq!(still.json()["reason"], "warrant_revoked", "{}", still.body);
    assert!(server.stop().success());

    // Restarted with the rolled-back file: refused at start, naming why.
    let (status, _, stderr) = run_exact(&args, &env, "");
    assert_eq!(status.code(), Some(64), "{stderr}");
    assert!(
        stderr.contains("older than version 2") && stderr.contains("floor"),
        "{stderr}"
    );
    // A newer list is accepted and raises the floor.
    let v3 = SignedRevocationList::sign(&issuer(), 3, [*revoked.id()], now());
    std::fs::write(&list, v3.to_base64()).unwrap();
    let server = ExactProcess::start(&args, &env);
    assert_eq!(server.started["revocation_version"], 3);
    assert!(server.stop().success());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&floor).unwrap()).unwrap();
    assert_eq!(json[&keys][0], 3, "{json}");
}

#[test]
fn a_floor_written_by_the_reference_is_honoured() {
    let dir = scratch("reference-floor");
    let floor = dir.join("floor.json");
    let store = tenuo::revocation_tracker::FileFloorStore::open(&floor).unwrap();
    let reference_key = tenuo::PublicKey::from_bytes(&issuer().public_key().to_bytes()).unwrap();
    use tenuo::revocation_tracker::RevocationFloorStore;
    store.compare_and_set(&reference_key, 5, [7; 32]).unwrap();
    let keys = issuer().public_key().to_hex();
    let older = SignedRevocationList::sign(&issuer(), 4, [], now());
    let list = write(&dir, "srl.b64", &older.to_base64());
    let floor_text = floor.to_str().unwrap().to_owned();
    // Starts the server with the list and the floor; only a refusal returns.
    let start = || {
        run_exact(
            &[
                "--revocation-list",
                &list,
                "--revocation-floor",
                &floor_text,
                "serve",
                "--port",
                "0",
                "--health-port",
                "0",
            ],
            &[("TENUO_TRUSTED_KEYS", keys.as_str())],
            "",
        )
    };
    let (status, _, stderr) = start();
    assert_eq!(status.code(), Some(64), "{stderr}");
    assert!(stderr.contains("older than version 5"), "{stderr}");
    // The same version with other contents (its digest differs): refused too.
    let equivocating = SignedRevocationList::sign(&issuer(), 5, [], now());
    std::fs::write(&list, equivocating.to_base64()).unwrap();
    let (status, _, stderr) = start();
    assert_eq!(status.code(), Some(64), "{stderr}");
    assert!(stderr.contains("different ids"), "{stderr}");
}

#[test]
fn a_list_the_reference_accepted_into_its_floor_is_accepted_here() {
    // Same version, same ids: the two digests must agree, or a restart on a
    // floor the reference wrote would be refused as an equivocation.
    let dir = scratch("same-digest");
    let floor = dir.join("floor.json");
    let revoked = warrant(now(), 300);
    let ours = SignedRevocationList::sign(&issuer(), 6, [*revoked.id()], now());
    let reference_list =
        tenuo::revocation::SignedRevocationList::from_bytes(&ours.to_cbor()).unwrap();
    let reference_key = tenuo::PublicKey::from_bytes(&issuer().public_key().to_bytes()).unwrap();
    let tracker = tenuo::revocation_tracker::RevocationTracker::new(
        vec![reference_key],
        std::time::Duration::from_secs(300),
        std::time::Duration::from_secs(30),
        std::sync::Arc::new(tenuo::revocation_tracker::FileFloorStore::open(&floor).unwrap()),
    )
    .unwrap();
    let at = chrono::DateTime::<chrono::Utc>::from_timestamp(now() as i64, 0).unwrap();
    tracker
        .accept(
            tenuo::revocation_tracker::RevocationUpdate {
                srl: reference_list,
                fetched_at: at,
            },
            at,
        )
        .unwrap();
    let list = write(&dir, "srl.b64", &ours.to_base64());
    let floor_text = floor.to_str().unwrap().to_owned();
    let keys = issuer().public_key().to_hex();
    let server = ExactProcess::start(
        &[
            "serve",
            "--port",
            "0",
            "--bind",
            "127.0.0.1",
            "--health-port",
            "0",
        ],
        &[
            ("TENUO_TRUSTED_KEYS", keys.as_str()),
            ("TENUO_REVOCATION_LIST", list.as_str()),
            ("TENUO_REVOCATION_FLOOR", floor_text.as_str()),
        ],
    );
    assert_eq!(server.started["revocation_version"], 6);
    assert!(server.stop().success());
}

#[test]
fn info_check_and_verify_exit_codes() {
    let keys = issuer().public_key().to_hex();
    let env = [("TENUO_TRUSTED_KEYS", keys.as_str())];

    let (status, stdout, _) = run_exact(&["info"], &env, "");
    assert!(status.success() && stdout.contains(&keys), "{stdout}");
    for bad in [
        vec![],
        vec![("TENUO_TRUSTED_KEYS", "")],
        vec![("TENUO_TRUSTED_KEYS", "zz")],
    ] {
        let (status, _, stderr) = run_exact(&["info"], &bad, "");
        assert_eq!(status.code(), Some(64), "{bad:?}");
        assert!(stderr.contains("TENUO_TRUSTED_KEYS"), "{stderr}");
    }

    let good = warrant(now(), 300);
    let token = good.to_base64url();
    // check: 0 valid (flag, `-` and stdin), 2 expired, 1 invalid.
    let (status, stdout, _) = run_exact(&["check", "--warrant", &token], &[], "");
    assert_eq!(status.code(), Some(0), "{stdout}");
    assert!(stdout.contains(&good.id().to_string()), "{stdout}");
    assert_eq!(
        run_exact(&["check", "-w", "-"], &env, &token).0.code(),
        Some(0)
    );
    assert_eq!(run_exact(&["check"], &env, &token).0.code(), Some(0));
    let expired = warrant(now() - 1000, 10).to_base64url();
    assert_eq!(
        run_exact(&["check", "-w", &expired], &env, "").0.code(),
        Some(2)
    );
    assert_eq!(
        run_exact(&["check", "-w", "garbage"], &env, "").0.code(),
        Some(1)
    );
    // Configured keys are the trust anchor: another issuer's warrant fails.
    let other = SigningKey::from_bytes(&[43; 32]).public_key().to_hex();
    let (status, _, stderr) = run_exact(
        &["check", "-w", &token],
        &[("TENUO_TRUSTED_KEYS", other.as_str())],
        "",
    );
    assert_eq!(status.code(), Some(1), "{stderr}");

    // verify: 0 allowed, 1 denied; json prints the verdict and exits 0.
    let pop = |path: &str| {
        hex::encode(
            sign_pop(
                &agent(),
                good.id(),
                "read_file",
                &path_args(path),
                now() as i64,
            )
            .to_bytes(),
        )
    };
    let ok = pop("/data/a");
    let verify = |path: &str, pop: &str, output: &str| {
        let arg = format!("path={path}");
        run_exact(
            &[
                "verify",
                "-w",
                &token,
                "-t",
                "read_file",
                "-a",
                &arg,
                "-p",
                pop,
                "-o",
                output,
            ],
            &env,
            "",
        )
    };
    assert_eq!(verify("/data/a", &ok, "exit-code").0.code(), Some(0));
    let (status, _, stderr) = verify("/data/b", &ok, "exit-code");
    assert_eq!(status.code(), Some(1));
    assert!(stderr.contains("invalid_pop"), "{stderr}");
    let bad_path = pop("/etc/passwd");
    assert_eq!(verify("/etc/passwd", &bad_path, "quiet").0.code(), Some(1));
    assert_eq!(verify("/data/a", &ok, "quiet").0.code(), Some(0));
    let (status, stdout, _) = verify("/etc/passwd", &bad_path, "json");
    assert_eq!(status.code(), Some(0));
    let verdict: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(verdict["authorized"], false);
    assert_eq!(verdict["reason"], "constraint_violation");
    assert_eq!(verdict["warrant_id"], good.id().to_string());
    assert_eq!(verdict["tool"], "read_file");
    assert_eq!(verify("/data/a", "nothex", "exit-code").0.code(), Some(1));
    assert_eq!(verify("/data/a", &ok, "yaml").0.code(), Some(1));
    // The revocation list applies to verify, as in the reference.
    let dir = scratch("verify");
    let srl = SignedRevocationList::sign(&issuer(), 1, [*good.id()], now());
    let list = write(&dir, "srl.b64", &srl.to_base64());
    let arg = "path=/data/a".to_owned();
    let (status, _, stderr) = run_exact(
        &[
            "--revocation-list",
            &list,
            "verify",
            "-w",
            &token,
            "-t",
            "read_file",
            "-a",
            &arg,
            "-p",
            &ok,
        ],
        &env,
        "",
    );
    assert_eq!(status.code(), Some(1));
    assert!(stderr.contains("warrant_revoked"), "{stderr}");
    // No key: refused, naming the variable.
    let (status, _, stderr) = run_exact(
        &["verify", "-w", &token, "-t", "read_file", "-p", &ok],
        &[],
        "",
    );
    assert_eq!(status.code(), Some(1));
    assert!(stderr.contains("TENUO_TRUSTED_KEYS"), "{stderr}");
}

#[test]
fn control_plane_settings_are_refused_not_ignored() {
    let keys = issuer().public_key().to_hex();
    for (name, value) in [
        ("TENUO_CONTROL_PLANE_URL", "https://cp.example"),
        ("TENUO_CONNECT_TOKEN", "tok"),
        ("TENUO_SIGNING_KEY", "00"),
    ] {
        let (status, _, stderr) = run_exact(
            &["serve", "--port", "0", "--health-port", "0"],
            &[("TENUO_TRUSTED_KEYS", keys.as_str()), (name, value)],
            "",
        );
        assert_eq!(status.code(), Some(64), "{name}: {stderr}");
        assert!(
            stderr.contains(name) && stderr.contains("not implemented"),
            "{stderr}"
        );
    }
}
