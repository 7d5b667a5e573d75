//! The Python the tests drive the reference SDK with: the project's virtual
//! environment under the target directory (`tenuo-pyenv`), made on first use.
//! When it cannot be made, the test fails and says what to install: it never
//! skips.

#![allow(dead_code)] // each test binary uses a different part

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The environment's `python`, made on first use.
pub(crate) fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| match tenuo_pyenv::python_in(&target_dir()) {
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

/// The Cargo target directory (`CARGO_TARGET_TMPDIR` is its `tmp` folder).
pub(crate) fn target_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).to_path_buf()
}
