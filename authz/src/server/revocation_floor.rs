//! The revocation floor file: for each revocation list issuer, the highest list
//! version accepted and a digest of that version's ids, kept across restarts.
//!
//! The in-memory rule ([`crate::revocation::RevocationSet::successor`]) refuses
//! a rollback only while the process lives; a restart would forget it and accept
//! an older list file. The floor remembers. Its JSON shape is the reference
//! authorizer's (`{"<issuer hex>": [version, "<sha256 hex>"]}`), so a floor
//! written by one is read by the other.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::Digest;

use crate::revocation::SignedRevocationList;

/// Why the floor refused a list or could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FloorError {
    /// The file could not be read or written.
    #[error(
        "revocation floor {path}: {source} (mount a writable path and set TENUO_REVOCATION_FLOOR)"
    )]
    Io {
        /// The floor file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a floor.
    #[error("revocation floor {path}: {reason}")]
    Malformed {
        /// The floor file.
        path: PathBuf,
        /// What is wrong.
        reason: &'static str,
    },
    /// The list is older than one accepted before.
    #[error("revocation list version {attempted} is older than version {floor} accepted before (revocation floor)")]
    Rollback {
        /// The floor's version for this issuer.
        floor: u64,
        /// The list's version.
        attempted: u64,
    },
    /// The list reuses an accepted version with other ids.
    #[error(
        "revocation list version {0} was accepted before with different ids (revocation floor)"
    )]
    Equivocation(u64),
}

/// One issuer's floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    version: u64,
    digest: [u8; 32],
}

/// The floor file and its contents in force.
#[derive(Debug)]
pub struct RevocationFloor {
    path: PathBuf,
    floors: Mutex<BTreeMap<[u8; 32], Entry>>,
}

impl RevocationFloor {
    /// Opens the floor, creating an empty one (and its directory) if missing,
    /// so an unwritable location fails at start rather than at the first list.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, FloorError> {
        let path = path.into();
        let io = |source| FloorError::Io {
            path: path.clone(),
            source,
        };
        let floors = match std::fs::read_to_string(&path) {
            Ok(text) => parse(&path, &text)?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(io)?;
                }
                let empty = BTreeMap::new();
                write(&path, &empty)?;
                empty
            }
            Err(error) => return Err(io(error)),
        };
        Ok(Self {
            path,
            floors: Mutex::new(floors),
        })
    }

    /// The floor file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The highest version accepted from `issuer` (its key bytes), if any.
    pub fn version_for(&self, issuer: &[u8; 32]) -> Option<u64> {
        self.lock().get(issuer).map(|e| e.version)
    }

    /// Whether `list` may be accepted: not older than the floor, and not the
    /// floor's version with other ids. Writes nothing.
    pub fn check(&self, list: &SignedRevocationList) -> Result<(), FloorError> {
        judge(&self.lock(), list).map(|_| ())
    }

    /// Checks `list` and, if it passes, raises the floor to it and persists the
    /// floor (temporary file then rename, so a crash leaves the old or the new
    /// floor, never half of one). Call only for a list whose signature verified.
    pub fn record(&self, list: &SignedRevocationList) -> Result<(), FloorError> {
        let mut floors = self.lock();
        let (key, entry) = judge(&floors, list)?;
        if floors.get(&key) == Some(&entry) {
            return Ok(());
        }
        let mut next = floors.clone();
        next.insert(key, entry);
        write(&self.path, &next)?;
        *floors = next;
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<[u8; 32], Entry>> {
        // The map is only replaced whole, so a poisoned lock still holds a
        // consistent floor.
        match self.floors.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// The floor entry `list` would set, or why it is refused.
fn judge(
    floors: &BTreeMap<[u8; 32], Entry>,
    list: &SignedRevocationList,
) -> Result<([u8; 32], Entry), FloorError> {
    let key = list.issuer().to_bytes();
    let entry = Entry {
        version: list.version(),
        digest: content_digest(list),
    };
    match floors.get(&key) {
        Some(floor) if entry.version < floor.version => Err(FloorError::Rollback {
            floor: floor.version,
            attempted: entry.version,
        }),
        Some(floor) if entry.version == floor.version && entry.digest != floor.digest => {
            Err(FloorError::Equivocation(entry.version))
        }
        _ => Ok((key, entry)),
    }
}

/// SHA-256 over the version (big-endian) and the sorted ids, each followed by a
/// zero byte: the reference's digest, so the two agree on "same contents".
pub fn content_digest(list: &SignedRevocationList) -> [u8; 32] {
    let mut ids: Vec<&str> = list.revoked_ids().iter().map(String::as_str).collect();
    ids.sort_unstable();
    let mut hasher = sha2::Sha256::new();
    hasher.update(list.version().to_be_bytes());
    for id in ids {
        hasher.update(id.as_bytes());
        hasher.update([0u8]);
    }
    hasher.finalize().into()
}

fn parse(path: &Path, text: &str) -> Result<BTreeMap<[u8; 32], Entry>, FloorError> {
    let malformed = |reason| FloorError::Malformed {
        path: path.to_path_buf(),
        reason,
    };
    let value: serde_json::Value = serde_json::from_str(text).map_err(|_| malformed("not JSON"))?;
    let object = value
        .as_object()
        .ok_or_else(|| malformed("not a JSON object"))?;
    let mut floors = BTreeMap::new();
    for (issuer, entry) in object {
        let key = hex32(issuer).ok_or_else(|| malformed("an issuer is not 32 bytes of hex"))?;
        let (version, digest) = match entry.as_array().map(Vec::as_slice) {
            Some([version, digest]) => (version.as_u64(), digest.as_str().and_then(hex32)),
            _ => (None, None),
        };
        let (Some(version), Some(digest)) = (version, digest) else {
            return Err(malformed(
                "an entry is not [version, \"<sha256 hex>\"] with an unsigned version",
            ));
        };
        floors.insert(key, Entry { version, digest });
    }
    Ok(floors)
}

fn hex32(text: &str) -> Option<[u8; 32]> {
    hex::decode(text).ok()?.try_into().ok()
}

fn write(path: &Path, floors: &BTreeMap<[u8; 32], Entry>) -> Result<(), FloorError> {
    let object: serde_json::Map<String, serde_json::Value> = floors
        .iter()
        .map(|(issuer, entry)| {
            (
                hex::encode(issuer),
                serde_json::json!([entry.version, hex::encode(entry.digest)]),
            )
        })
        .collect();
    let text = serde_json::Value::Object(object).to_string();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "floor".to_owned());
    // Same directory as the floor, so the rename is atomic (one filesystem).
    let temporary = path.with_file_name(format!(".{name}.tmp.{}", std::process::id()));
    let io = |source| FloorError::Io {
        path: path.to_path_buf(),
        source,
    };
    std::fs::write(&temporary, text).map_err(io)?;
    std::fs::rename(&temporary, path).map_err(|error| {
        let _ = std::fs::remove_file(&temporary);
        io(error)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SigningKey;
    use crate::warrant::WarrantId;

    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tenuo-floor-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn rollback_and_equivocation_are_refused_after_reopening() {
        let key = SigningKey::generate().unwrap();
        let path = dir("reopen").join("sub").join("floor.json");
        let v2 = SignedRevocationList::sign(&key, 2, [WarrantId([1; 16])], 10);
        let v1 = SignedRevocationList::sign(&key, 1, [], 5);
        let v2_other = SignedRevocationList::sign(&key, 2, [WarrantId([2; 16])], 10);
        let floor = RevocationFloor::open(&path).unwrap();
        floor.check(&v1).unwrap();
        floor.record(&v2).unwrap();
        drop(floor);
        let floor = RevocationFloor::open(&path).unwrap();
        assert_eq!(floor.version_for(&key.public_key().to_bytes()), Some(2));
        assert!(matches!(
            floor.check(&v1),
            Err(FloorError::Rollback {
                floor: 2,
                attempted: 1
            })
        ));
        assert!(matches!(
            floor.record(&v2_other),
            Err(FloorError::Equivocation(2))
        ));
        // The same list again, re-signed, is accepted.
        floor
            .record(&SignedRevocationList::sign(
                &key,
                2,
                [WarrantId([1; 16])],
                99,
            ))
            .unwrap();
        // Another issuer has its own floor.
        let other = SigningKey::generate().unwrap();
        floor
            .record(&SignedRevocationList::sign(&other, 1, [], 1))
            .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            json[key.public_key().to_hex()][0],
            serde_json::json!(2),
            "{text}"
        );
    }

    #[test]
    fn malformed_floors_are_refused() {
        let base = dir("malformed");
        std::fs::create_dir_all(&base).unwrap();
        for (i, text) in [
            "not json",
            "[]",
            r#"{"zz": [1, "00"]}"#,
            &format!(r#"{{"{}": [-1, "{}"]}}"#, "00".repeat(32), "00".repeat(32)),
            &format!(r#"{{"{}": [1]}}"#, "00".repeat(32)),
        ]
        .iter()
        .enumerate()
        {
            let path = base.join(format!("f{i}.json"));
            std::fs::write(&path, text).unwrap();
            assert!(
                matches!(
                    RevocationFloor::open(&path),
                    Err(FloorError::Malformed { .. })
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn digest_ignores_id_order_and_covers_the_version() {
        let key = SigningKey::generate().unwrap();
        let a = SignedRevocationList::sign(&key, 3, [WarrantId([1; 16]), WarrantId([2; 16])], 1);
        let b = SignedRevocationList::sign(&key, 3, [WarrantId([2; 16]), WarrantId([1; 16])], 2);
        let c = SignedRevocationList::sign(&key, 4, [WarrantId([2; 16]), WarrantId([1; 16])], 2);
        assert_eq!(content_digest(&a), content_digest(&b));
        assert_ne!(content_digest(&a), content_digest(&c));
    }
}
