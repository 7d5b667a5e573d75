//! The Python that the tests and `cargo xtask` run the reference SDK (`tenuo`) and
//! Helm's engine (`helm-python-sdk`) with: a virtual environment under the Cargo
//! target directory, made on first use with the pinned [`PACKAGES`] and reused.
//!
//! The environment is named after a digest of its package list, so a change of
//! pins builds a new one beside the old instead of patching it, and it appears
//! only when complete (built under a temporary name, then renamed), so concurrent
//! test processes never see half an environment. Nothing is installed into the
//! system Python, which PEP 668 distributions refuse anyway. When it cannot be
//! made, the error says what to install; callers fail with it, never skip.
//!
//! `PYTHON` names the interpreter the environment is made from (default
//! `python3`); `TENUO_PYTHON` names a ready interpreter to use instead of any
//! environment (it must import `tenuo` and `helm_python`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::Digest;

/// The packages, pinned: the reference Python SDK, Helm's engine, and libjq's
/// bindings (the guide's jq programs, where the `jq` program is not installed).
pub const PACKAGES: &[&str] = &["tenuo==0.3.3", "helm-python-sdk==0.2.2", "jq==1.13.0"];

/// Why the environment could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PythonEnvError {
    /// `python3 -m venv` failed or is missing.
    #[error(
        "`{interpreter} -m venv {}` failed: install Python 3 with its venv module \
         (Debian and Ubuntu: `apt-get install python3-venv`), or set PYTHON to one that has it\n{output}",
        path.display()
    )]
    Venv {
        /// The interpreter tried.
        interpreter: String,
        /// Where the environment was being made.
        path: PathBuf,
        /// What it printed, or why it did not start.
        output: String,
    },
    /// pip could not install the packages.
    #[error(
        "pip could not install {} into {} (it needs the package index or a pip \
         configuration pointing at a mirror)\n{output}",
        PACKAGES.join(" "),
        path.display()
    )]
    Install {
        /// The environment.
        path: PathBuf,
        /// What pip printed.
        output: String,
    },
    /// The environment's interpreter is not where it should be.
    #[error("{} was not created", .0.display())]
    Missing(PathBuf),
    /// No Cargo target directory holds the running program.
    #[error("no Cargo target directory holds {} (set CARGO_TARGET_DIR)", .0.display())]
    NoTargetDir(PathBuf),
}

/// The environment's `python` under the target directory of the running
/// program (a test or a tool Cargo built), made on first use.
pub fn python() -> Result<PathBuf, PythonEnvError> {
    let exe = std::env::current_exe().unwrap_or_default();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| target_dir_of(&exe))
        .ok_or(PythonEnvError::NoTargetDir(exe))?;
    python_in(&target)
}

/// The target directory of a program Cargo built: `<target>/<profile>/<name>`,
/// or `<target>/<profile>/deps/<name>` for a test.
fn target_dir_of(exe: &Path) -> Option<PathBuf> {
    let mut dir = exe.parent()?;
    if dir.file_name().is_some_and(|name| name == "deps") {
        dir = dir.parent()?;
    }
    dir.parent().map(Path::to_path_buf)
}

/// The environment's `python` under `target_dir`, made on first use.
pub fn python_in(target_dir: &Path) -> Result<PathBuf, PythonEnvError> {
    if let Some(ready) = std::env::var_os("TENUO_PYTHON").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(ready));
    }
    let digest = sha2::Sha256::digest(PACKAGES.join("\n").as_bytes());
    let name = format!("py-{}", &hex::encode(digest)[..12]);
    let home = target_dir.join(&name);
    let python = interpreter_of(&home);
    if python.exists() {
        return Ok(python);
    }
    let building = target_dir.join(format!("{name}.building-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&building);
    let interpreter = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    run(Command::new(&interpreter)
        .args(["-m", "venv"])
        .arg(&building))
    .map_err(|output| PythonEnvError::Venv {
        interpreter: interpreter.clone(),
        path: building.clone(),
        output,
    })?;
    run(Command::new(interpreter_of(&building))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
        ])
        .args(PACKAGES))
    .map_err(|output| PythonEnvError::Install {
        path: building.clone(),
        output,
    })?;
    // Another process may have finished first: its environment is as good as ours.
    if std::fs::rename(&building, &home).is_err() {
        let _ = std::fs::remove_dir_all(&building);
    }
    if python.exists() {
        Ok(python)
    } else {
        Err(PythonEnvError::Missing(python))
    }
}

/// The interpreter of the environment at `home`.
fn interpreter_of(home: &Path) -> PathBuf {
    home.join("bin").join("python")
}

/// Runs `command`; on failure, what it printed (or why it did not start).
fn run(command: &mut Command) -> Result<(), String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_directory_is_found_from_a_test_or_a_tool() {
        let target = Path::new("/work/target");
        for exe in [
            "/work/target/debug/deps/tenuo_e2e-0123abcd",
            "/work/target/debug/xtask",
            "/work/target/release/deps/tests-9f",
        ] {
            assert_eq!(
                target_dir_of(Path::new(exe)).as_deref(),
                Some(target),
                "{exe}"
            );
        }
    }

    #[test]
    fn a_missing_interpreter_is_an_error_that_says_what_to_install() {
        let dir = std::env::temp_dir().join(format!("tenuo-pyenv-test-{}", std::process::id()));
        let error = run(Command::new(dir.join("no-such-python")).arg("-V"))
            .expect_err("a missing interpreter cannot run");
        assert!(!error.is_empty());
        let shown = PythonEnvError::Venv {
            interpreter: "python3".into(),
            path: dir,
            output: error,
        }
        .to_string();
        assert!(shown.contains("apt-get install python3-venv"), "{shown}");
    }
}
