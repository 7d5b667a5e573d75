//! Serving on a Unix domain socket (`--socket`, `--socket-mode`, `--socket-group`):
//! parsing the mode and group, preparing the path, binding, and removing the
//! socket file when the server stops.
//!
//! Who may connect is decided by the socket's mode and group, and who may put a
//! socket at the path by its directory: so the directory must not be writable
//! by group or others (anyone who can write there could answer in our place),
//! and only a stale socket, never a file, directory or symlink, is removed.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::settings_source::ConfigError;

/// The socket mode when none is given: owner and group may connect.
pub const DEFAULT_SOCKET_MODE: u32 = 0o660;

/// Where and how to serve on a Unix socket.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnixSocketConfig {
    /// The socket's path.
    pub path: PathBuf,
    /// Permission bits set after binding.
    pub mode: u32,
    /// Group set after binding (before the mode), if any.
    pub group: Option<u32>,
}

impl UnixSocketConfig {
    /// A socket at `path` with the default mode ([`DEFAULT_SOCKET_MODE`]) and group.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            mode: DEFAULT_SOCKET_MODE,
            group: None,
        }
    }
}

/// Parses an octal mode: `0660`, `660` or `0o660`, at most `0o7777`.
pub fn parse_socket_mode(text: &str) -> Result<u32, ConfigError> {
    let invalid = |reason: &str| ConfigError::Invalid {
        name: "--socket-mode".into(),
        reason: format!("{text:?}: {reason}"),
    };
    let trimmed = text.trim();
    let digits = trimmed
        .strip_prefix("0o")
        .or_else(|| trimmed.strip_prefix("0O"))
        .unwrap_or(trimmed);
    if digits.is_empty() {
        return Err(invalid("empty"));
    }
    let mode = u32::from_str_radix(digits, 8).map_err(|_| invalid("expected octal like 0660"))?;
    if mode > 0o7777 {
        return Err(invalid("out of range (at most 7777)"));
    }
    Ok(mode)
}

/// Resolves a group name or numeric gid. Names are looked up in `group_file`
/// (`/etc/group` in production): the server forbids `unsafe`, so it reads the
/// file rather than calling `getgrnam`; groups served only by NSS (LDAP, sssd)
/// must be given by number.
pub fn resolve_group(spec: &str, group_file: &Path) -> Result<u32, ConfigError> {
    let spec = spec.trim();
    let invalid = |reason: String| ConfigError::Invalid {
        name: "--socket-group".into(),
        reason,
    };
    if spec.is_empty() {
        return Err(invalid("empty".into()));
    }
    if let Ok(gid) = spec.parse::<u32>() {
        return Ok(gid);
    }
    let text = std::fs::read_to_string(group_file)
        .map_err(|e| invalid(format!("cannot read {}: {e}", group_file.display())))?;
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            let gid = fields.nth(1)?.trim().parse::<u32>().ok()?;
            (name == spec).then_some(gid)
        })
        .next()
        .ok_or_else(|| {
            invalid(format!(
                "no group named {spec:?} in {} (give the gid instead)",
                group_file.display()
            ))
        })
}

/// Why the socket could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SocketError {
    /// The directory could be written by others than its owner.
    #[error("refusing to bind {path}: its directory is writable by group or others (mode {mode:o}); use a directory only the service user can write")]
    UnsafeDirectory {
        /// The socket path.
        path: PathBuf,
        /// The directory's permission bits.
        mode: u32,
    },
    /// Something other than a socket is at the path.
    #[error("refusing to remove {path}: it is a {kind}, not a stale socket")]
    NotASocket {
        /// The socket path.
        path: PathBuf,
        /// What is there.
        kind: &'static str,
    },
    /// A file system call failed.
    #[error("unix socket {path}: {action}: {source}")]
    Io {
        /// The socket path.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// Why it failed.
        source: std::io::Error,
    },
}

/// Creates the directory if missing, checks it, and removes a stale socket.
fn prepare(path: &Path) -> Result<(), SocketError> {
    let io = |action, source| SocketError::Io {
        path: path.to_path_buf(),
        action,
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| io("creating its directory", e))?;
        let mode = std::fs::metadata(parent)
            .map_err(|e| io("reading its directory", e))?
            .permissions()
            .mode();
        if mode & 0o022 != 0 {
            return Err(SocketError::UnsafeDirectory {
                path: path.to_path_buf(),
                mode: mode & 0o7777,
            });
        }
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) => {
            let kind = meta.file_type();
            let what = if kind.is_symlink() {
                Some("symlink")
            } else if kind.is_dir() {
                Some("directory")
            } else if !kind.is_socket() {
                Some("file")
            } else {
                None
            };
            if let Some(kind) = what {
                return Err(SocketError::NotASocket {
                    path: path.to_path_buf(),
                    kind,
                });
            }
            tracing::info!(event = "stale_socket_removed", path = %path.display());
            std::fs::remove_file(path).map_err(|e| io("removing the stale socket", e))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(io("inspecting the path", error)),
    }
}

/// A bound socket; its file is removed when this is dropped.
#[derive(Debug)]
pub(crate) struct BoundSocket {
    pub(crate) listener: tokio::net::UnixListener,
    pub(crate) guard: SocketFile,
}

/// Removes the socket file on drop (the server stopped).
#[derive(Debug)]
pub(crate) struct SocketFile(PathBuf);

impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Prepares the path, binds, sets the group then the mode.
pub(crate) fn bind(config: &UnixSocketConfig) -> Result<BoundSocket, SocketError> {
    let path = &config.path;
    prepare(path)?;
    let io = |action, source| SocketError::Io {
        path: path.clone(),
        action,
        source,
    };
    let listener = tokio::net::UnixListener::bind(path).map_err(|e| io("binding", e))?;
    let guard = SocketFile(path.clone());
    if let Some(gid) = config.group {
        std::os::unix::fs::chown(path, None, Some(gid)).map_err(|e| io("setting its group", e))?;
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(config.mode))
        .map_err(|e| io("setting its mode", e))?;
    if config.mode & 0o002 != 0 {
        tracing::warn!(
            event = "socket_world_connectable",
            path = %path.display(),
            mode = format!("{:04o}", config.mode),
        );
    }
    Ok(BoundSocket { listener, guard })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_octal_and_bounded() {
        assert_eq!(parse_socket_mode("0660").unwrap(), 0o660);
        assert_eq!(parse_socket_mode("600").unwrap(), 0o600);
        assert_eq!(parse_socket_mode("0o666").unwrap(), 0o666);
        for bad in ["", "0o", "0990", "abc", "17777", "-1"] {
            let err = parse_socket_mode(bad).unwrap_err();
            assert!(err.to_string().contains("--socket-mode"), "{bad}: {err}");
        }
    }

    #[test]
    fn groups_resolve_by_number_or_name() {
        let file = std::env::temp_dir().join(format!("tenuo-group-{}", std::process::id()));
        std::fs::write(&file, "root:x:0:\ntenuo:x:1234:alice,bob\nbroken\n").unwrap();
        assert_eq!(resolve_group("77", &file).unwrap(), 77);
        assert_eq!(resolve_group("tenuo", &file).unwrap(), 1234);
        assert_eq!(resolve_group(" root ", &file).unwrap(), 0);
        for bad in ["", "nobody-here", "tenu"] {
            let err = resolve_group(bad, &file).unwrap_err();
            assert!(err.to_string().contains("--socket-group"), "{bad}: {err}");
        }
    }

    #[tokio::test]
    async fn binding_replaces_only_a_stale_socket() {
        let dir = std::env::temp_dir().join(format!("tenuo-sock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let config = UnixSocketConfig {
            path: dir.join("a.sock"),
            mode: 0o600,
            group: None,
        };
        let first = bind(&config).unwrap();
        let mode = std::fs::metadata(&config.path)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o7777, 0o600);
        // A crash leaves the file: forget the guard, bind again.
        std::mem::forget(first.guard);
        drop(first.listener);
        let second = bind(&config).unwrap();
        drop(second);
        assert!(!config.path.exists(), "the socket file is removed on drop");
        std::fs::write(&config.path, "data").unwrap();
        assert!(matches!(bind(&config), Err(SocketError::NotASocket { .. })));
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(matches!(
            bind(&UnixSocketConfig {
                path: dir.join("b.sock"),
                ..config
            }),
            Err(SocketError::UnsafeDirectory { .. })
        ));
    }
}
