//! The reference `tenuo-authorizer` 0.3.5, built from crates.io with its `server`
//! feature into the target directory on first use, and run on loopback beside ours.
//!
//! The build is `cargo install tenuo --version =0.3.5 --features server --locked
//! --debug` (its own lock file, so the dependencies are the ones its authors
//! tested; a debug build, since the suites compare answers, not speed), into
//! `<target>/reference-authorizer-0.3.5`; later runs reuse it. `TENUO_REFERENCE_AUTHORIZER`
//! names a binary to use instead. When it cannot be built, the test fails and says
//! why: it never skips.

#![allow(dead_code)] // each test binary uses a different part

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::python::target_dir;
use super::server_process::{http, Reply};

/// The reference version the suites compare against.
pub(crate) const VERSION: &str = "0.3.5";

/// The reference binary, built on first use.
pub(crate) fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        if let Ok(path) = std::env::var("TENUO_REFERENCE_AUTHORIZER") {
            return PathBuf::from(path);
        }
        let root = target_dir().join(format!("reference-authorizer-{VERSION}"));
        let binary = root.join("bin").join("tenuo-authorizer");
        if binary.exists() {
            return binary;
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        eprintln!(
            "building the reference tenuo-authorizer {VERSION} into {} (once)",
            root.display()
        );
        let status = Command::new(&cargo)
            .args(["install", "tenuo", "--version"])
            .arg(format!("={VERSION}"))
            .args(["--features", "server", "--locked", "--debug", "--root"])
            .arg(&root)
            .stdin(Stdio::null())
            .status()
            .unwrap_or_else(|e| {
                panic!("cannot run {cargo} to build the reference authorizer: {e}")
            });
        assert!(
            status.success() && binary.exists(),
            "`cargo install tenuo --version ={VERSION} --features server` failed ({status}): \
             the reference authorizer is needed for the differential suite"
        );
        binary
    })
}

/// A free loopback port (bound, read, released).
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A running reference authorizer.
pub(crate) struct ReferenceServer {
    child: Child,
    pub(crate) addr: SocketAddr,
}

impl ReferenceServer {
    /// Starts `tenuo-authorizer --trusted-keys KEYS serve --config CONFIG` on a free
    /// loopback port, with no health listener, and waits until it accepts connections.
    pub(crate) fn start(trusted_keys: &str, config: &Path) -> Self {
        let port = free_port();
        let child = Command::new(binary())
            .arg("--trusted-keys")
            .arg(trusted_keys)
            .args(["serve", "--bind", "127.0.0.1", "--port"])
            .arg(port.to_string())
            .args(["--health-port", "0", "--config"])
            .arg(config)
            .env_remove("TENUO_TRUSTED_KEYS")
            .env("RUST_LOG", "error")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the reference authorizer");
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut server = Self { child, addr };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("the reference authorizer exited at start: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "the reference authorizer did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server.addr = addr;
        server
    }

    /// Sends a request.
    pub(crate) fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Reply {
        http(self.addr, method, path, headers, body)
    }
}

impl Drop for ReferenceServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
