//! The Python the tests drive the reference SDK with: a virtual environment under
//! the target directory, made on first use with the pinned packages and reused.
//!
//! The environment is named after a digest of its package list, so a change of pins
//! builds a new one beside the old instead of patching it, and it appears only when
//! complete (built under a temporary name, then renamed), so concurrent test
//! processes never see half an environment. Nothing is installed into the system
//! Python, which PEP 668 distributions refuse anyway. When it cannot be made, the
//! test fails and says what to install: it never skips.

#![allow(dead_code)] // each test binary uses a different part

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use sha2::Digest;

/// The packages the tests need, pinned: the reference Python SDK.
pub(crate) const PACKAGES: &[&str] = &["tenuo==0.3.3"];

/// The environment's `python`, made on first use.
pub(crate) fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| match provision() {
        Ok(python) => python,
        Err(why) => panic!("cannot provision the Python test environment: {why}"),
    })
}

/// Runs `script` with the environment's Python and `args`, and parses its
/// standard output as JSON; a failing script fails the test with its stderr.
pub(crate) fn run_json(script: &str, args: &[&str]) -> serde_json::Value {
    let output = Command::new(python())
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run the Python test environment");
    assert!(
        output.status.success(),
        "the Python script failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "the Python script printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

fn provision() -> Result<PathBuf, String> {
    let digest = sha2::Sha256::digest(PACKAGES.join("\n").as_bytes());
    let name = format!("tenuo-py-{}", &hex::encode(digest)[..12]);
    let target = target_dir();
    let home = target.join(&name);
    let python = home.join("bin").join("python");
    if python.exists() {
        return Ok(python);
    }
    let building = target.join(format!("{name}.building-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&building);
    let interpreter = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    run(
        Command::new(&interpreter)
            .args(["-m", "venv"])
            .arg(&building),
        &format!(
            "`{interpreter} -m venv` failed: install Python 3 with its venv module \
             (Debian and Ubuntu: `apt-get install python3-venv`), or set PYTHON"
        ),
    )?;
    run(
        Command::new(building.join("bin").join("python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(PACKAGES),
        &format!("pip could not install {}", PACKAGES.join(" ")),
    )?;
    // Another process may have finished first: its environment is as good as ours.
    if std::fs::rename(&building, &home).is_err() {
        let _ = std::fs::remove_dir_all(&building);
    }
    if python.exists() {
        Ok(python)
    } else {
        Err(format!("{} was not created", python.display()))
    }
}

fn run(command: &mut Command, failure: &str) -> Result<(), String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{failure}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{failure}:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// The Cargo target directory (`CARGO_TARGET_TMPDIR` is its `tmp` folder).
pub(crate) fn target_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).to_path_buf()
}
