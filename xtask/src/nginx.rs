//! `cargo xtask nginx`: `docs/examples/nginx-auth-request.conf`, unchanged but
//! for its two addresses, in a real nginx in front of a real `tenuo-authorizer`
//! (started for nginx, `TENUO_AUTH_REQUEST=true`) and a stand-in upstream. Each
//! case goes through nginx as a client's request would, and must come back with
//! the status the example promises: 200 from the upstream when allowed, 401
//! without a warrant, 400 for an undecodable one (the authorizer's 403 with
//! `X-Tenuo-Status: 400`, turned back by the example's `@tenuo_denied`), 403
//! outside the warrant. nginx missing is an error naming the package.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, ensure, Context, Result};
use tenuo_authz::constraint::{ArgValue, Constraint, ConstraintSet};
use tenuo_authz::crypto::SigningKey;
use tenuo_authz::mint::Issue;
use tenuo_authz::pop::{sign_pop, Args};
use xshell::Shell;

use crate::e2e::Process;
use crate::project_root;

/// The example, and the two addresses in it that this run replaces.
const EXAMPLE: &str = "docs/examples/nginx-auth-request.conf";
const EXAMPLE_AUTHORIZER: &str = "127.0.0.1:9090";
const EXAMPLE_UPSTREAM: &str = "127.0.0.1:8000";

/// The authorizer's routes: one tool read from the query (decidable under
/// nginx) and one from the body (which the authorizer must warn about).
const GATEWAY: &str = r#"
version: "1"
settings: {}
tools:
  read_file:
    description: Read a file
    constraints:
      path: { from: query, path: "path", required: true }
  run:
    description: Run a command
    constraints:
      cmd: { from: body, path: "cmd", required: true }
routes:
  - pattern: "/api/files/read"
    method: ["GET"]
    tool: read_file
  - pattern: "/api/run"
    method: ["POST"]
    tool: run
"#;

pub(crate) fn run() -> Result<()> {
    let nginx = find_nginx()?;
    let root = project_root();
    let sh = Shell::new()?;
    sh.change_dir(&root);
    // `TENUO_AUTHORIZER_BIN` runs a prebuilt authorizer instead, as `cargo xtask e2e` does.
    let authorizer_bin = crate::e2e::authorizer_bin(&sh, &root)?;
    let work = root.join("target/xtask-nginx");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;

    let control_plane = SigningKey::generate()?;
    let agent = SigningKey::generate()?;
    let gateway = work.join("gateway.yaml");
    std::fs::write(&gateway, GATEWAY)?;
    let env = [
        ("TRUSTED_ISSUERS", control_plane.public_key().to_hex()),
        ("TENUO_GATEWAY_CONFIG", gateway.display().to_string()),
        ("TENUO_AUTH_REQUEST", "true".to_owned()),
        ("LISTEN_ADDR", "127.0.0.1:0".to_owned()),
        ("METRICS_ADDR", "127.0.0.1:0".to_owned()),
    ]
    .map(|(name, value)| (name.to_owned(), value));
    let log = Arc::new(Mutex::new(String::new()));
    let authorizer =
        Process::start_json(&authorizer_bin, &["serve".into()], &env, Arc::clone(&log))?;
    let authorizer_addr = authorizer.addr;
    // The load-time warnings come before `started`, so they are in the log by now.
    let log_text = log.lock().map(|l| l.clone()).unwrap_or_default();
    let warned: Vec<serde_json::Value> = log_text
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| line["event"] == "config_warning")
        .map(|line| line["route"].clone())
        .collect();
    ensure!(
        warned == ["/api/run"],
        "expected one config_warning, for the body route /api/run, got {warned:?}"
    );

    let (front, upstream) = (free_port()?, free_port()?);
    let config = nginx_config(&root, &work, front, upstream, authorizer_addr)?;
    std::fs::write(work.join("nginx.conf"), config)?;
    let nginx_process = Command::new(&nginx)
        .arg("-p")
        .arg(&work)
        .arg("-c")
        .arg(work.join("nginx.conf"))
        .args(["-e", "stderr"])
        .stdin(Stdio::null())
        .spawn()
        .map(KilledOnDrop)
        .context("starting nginx")?;
    let front_addr = SocketAddr::from(([127, 0, 0, 1], front));
    wait_for_port(front_addr)?;

    let warrant = {
        let mut paths = ConstraintSet::new();
        paths.insert("path", Constraint::pattern("/data/*")?);
        Issue::execution(agent.public_key())
            .tool("read_file", paths)
            .ttl_secs(600)
            .sign(&control_plane, now())?
    };
    let token = warrant.to_base64url();
    let pop = |path: &str| {
        let mut args = Args::new();
        args.insert("path".into(), ArgValue::String(path.into()));
        sign_pop(&agent, warrant.id(), "read_file", &args, now() as i64).to_base64url()
    };
    let (inside, outside) = (pop("/data/a"), pop("/etc/passwd"));
    let cases: [Case<'_>; 4] = [
        (
            "allowed",
            "/api/files/read?path=/data/a",
            vec![("x-tenuo-warrant", &token), ("x-tenuo-pop", &inside)],
            200,
        ),
        ("no warrant", "/api/files/read?path=/data/a", vec![], 401),
        (
            "undecodable warrant",
            "/api/files/read?path=/data/a",
            vec![("x-tenuo-warrant", "%%%"), ("x-tenuo-pop", &inside)],
            400,
        ),
        (
            "outside the warrant",
            "/api/files/read?path=/etc/passwd",
            vec![("x-tenuo-warrant", &token), ("x-tenuo-pop", &outside)],
            403,
        ),
    ];
    let mut failed = Vec::new();
    for (name, path, headers, want) in &cases {
        let reply = tenuo_e2e::request(front_addr, "GET", path, headers, "")?;
        let ok = reply.status == *want && (*want != 200 || reply.body.contains("upstream"));
        println!(
            "{:<22} {path:<36} want {want}, got {} {}",
            name,
            reply.status,
            if ok { "ok" } else { "FAILED" }
        );
        if !ok {
            failed.push(format!("{name}: {} {}", reply.status, reply.body.trim()));
        }
    }
    drop(nginx_process);
    drop(authorizer);
    if !failed.is_empty() {
        bail!(
            "{EXAMPLE} behind nginx:\n  {}\n(nginx's log: {})",
            failed.join("\n  "),
            work.join("error.log").display()
        );
    }
    println!(
        "{EXAMPLE}: every case as promised, through {}",
        nginx.display()
    );
    Ok(())
}

/// One request through nginx: its name, path, headers and the status it must get.
type Case<'a> = (
    &'static str,
    &'static str,
    Vec<(&'static str, &'a str)>,
    u16,
);

/// nginx on PATH or where Debian installs it.
fn find_nginx() -> Result<PathBuf> {
    let candidates = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([PathBuf::from("/usr/sbin")]);
    for dir in candidates {
        let nginx = dir.join("nginx");
        if nginx.is_file() {
            return Ok(nginx);
        }
    }
    bail!(
        "cargo xtask nginx needs nginx with its auth_request module: install it \
         (Debian and Ubuntu: `apt-get install nginx`; macOS: `brew install nginx`)"
    )
}

/// The example inside a minimal nginx.conf: one front server holding the
/// example's locations, one upstream answering `upstream`.
fn nginx_config(
    root: &Path,
    work: &Path,
    front: u16,
    upstream: u16,
    authorizer: SocketAddr,
) -> Result<String> {
    let example = std::fs::read_to_string(root.join(EXAMPLE))?;
    for address in [EXAMPLE_AUTHORIZER, EXAMPLE_UPSTREAM] {
        ensure!(
            example.matches(address).count() == 1,
            "{EXAMPLE} should name {address} once"
        );
    }
    let locations = example
        .replace(EXAMPLE_AUTHORIZER, &authorizer.to_string())
        .replace(EXAMPLE_UPSTREAM, &format!("127.0.0.1:{upstream}"));
    let work = work.display();
    Ok(format!(
        "daemon off;\nmaster_process off;\npid {work}/nginx.pid;\nerror_log {work}/error.log info;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n\
         access_log off;\n\
         client_body_temp_path {work}/body;\nproxy_temp_path {work}/proxy;\n\
         fastcgi_temp_path {work}/fastcgi;\nuwsgi_temp_path {work}/uwsgi;\nscgi_temp_path {work}/scgi;\n\
         server {{\nlisten 127.0.0.1:{front};\n{locations}\n}}\n\
         server {{\nlisten 127.0.0.1:{upstream};\nlocation / {{ return 200 \"upstream\\n\"; }}\n}}\n\
         }}\n"
    ))
}

/// nginx, killed when dropped.
struct KilledOnDrop(Child);

impl Drop for KilledOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for_port(addr: SocketAddr) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("nginx did not listen on {addr}")
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}
