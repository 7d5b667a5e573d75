//! `Subpath` (wire type 17): lexical path containment under a root.
//!
//! Wire payload: `{"root": text, "case_sensitive": bool, "allow_equal":
//! bool}`; both flags default to `true` when absent on input and are always
//! written.
//!
//! A path is contained when it has no NUL, is absolute (`/...` or a drive
//! like `C:\`/`C:/`), and after lexical normalization (split on `/` and `\`,
//! drop empty and `.` parts, `..` pops but never above the root, rejoin with
//! `/`) it equals the root (if `allow_equal`) or starts with
//! `root.trim_end_matches('/') + "/"`. With `case_sensitive == false` the
//! normalized path is lower-cased (Unicode) before comparing.
//!
//! # Compatibility note
//! * The root decoded from the wire is used verbatim: the reference does not
//!   normalize, lower-case or validate it on decode (only its constructor
//!   does). A wire root `/data/` therefore never equals a normalized path, so
//!   `/data/` itself is not admitted even with `allow_equal`.
//! * A list argument matches when every element is a contained string path;
//!   an **empty list matches**.

use std::fmt;

use super::error::{AttenuationError, ConstraintBuildError};
use super::value::ArgValue;
use super::widening::Widening;

/// A `Subpath` constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subpath {
    /// Root directory (normalized by the constructor, verbatim from the wire).
    pub root: String,
    /// Case-sensitive comparison.
    pub case_sensitive: bool,
    /// Whether the root itself is admitted.
    pub allow_equal: bool,
}

fn is_absolute(path: &str) -> bool {
    if path.starts_with('/') {
        return true;
    }
    let b = path.as_bytes();
    matches!(
        (b.first(), b.get(1), b.get(2)),
        (Some(d), Some(b':'), Some(b'\\' | b'/')) if d.is_ascii_alphabetic()
    )
}

/// Lexical normalization (see module doc).
pub(crate) fn normalize(path: &str) -> String {
    let b = path.as_bytes();
    let (prefix, rest) = if let Some(rest) = path.strip_prefix('/') {
        ("/", rest)
    } else if b.len() >= 2 && b.get(1) == Some(&b':') {
        let cut = if matches!(b.get(2), Some(b'\\' | b'/')) {
            3
        } else {
            2
        };
        match (path.get(..cut), path.get(cut..)) {
            (Some(p), Some(r)) => (p, r),
            _ => ("", path),
        }
    } else {
        ("", path)
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in rest.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    let mut out = prefix.to_owned();
    for (i, part) in parts.iter().enumerate() {
        if (i > 0 || !prefix.is_empty()) && !out.ends_with('/') && !out.ends_with('\\') {
            out.push('/');
        }
        out.push_str(part);
    }
    out
}

impl Subpath {
    /// Root must be absolute; it is normalized (and lower-cased when
    /// `case_sensitive` is false), like the reference's constructor.
    pub fn new(
        root: &str,
        case_sensitive: bool,
        allow_equal: bool,
    ) -> Result<Self, ConstraintBuildError> {
        if !is_absolute(root) {
            return Err(ConstraintBuildError::RelativeRoot {
                root: root.to_owned(),
            });
        }
        let mut root = normalize(root);
        if !case_sensitive {
            root = root.to_lowercase();
        }
        Ok(Subpath {
            root,
            case_sensitive,
            allow_equal,
        })
    }

    /// Whether `path` is contained under the root.
    pub fn contains_path(&self, path: &str) -> bool {
        if path.contains('\0') || !is_absolute(path) {
            return false;
        }
        let mut normalized = normalize(path);
        if !self.case_sensitive {
            normalized = normalized.to_lowercase();
        }
        if self.allow_equal && normalized == self.root {
            return true;
        }
        let mut root_with_sep = self.root.trim_end_matches('/').to_owned();
        root_with_sep.push('/');
        normalized.starts_with(&root_with_sep)
    }

    pub(crate) fn eval(&self, value: &ArgValue) -> bool {
        match value {
            ArgValue::String(p) => self.contains_path(p),
            ArgValue::List(items) => items
                .iter()
                .all(|i| i.as_str().is_some_and(|p| self.contains_path(p))),
            _ => false,
        }
    }

    /// Subpath → Subpath: child root contained under the parent, flags not
    /// loosened.
    pub(crate) fn attenuate(&self, child: &Subpath) -> Result<(), Widening> {
        if !self.contains_path(&child.root) {
            return Err(Widening::PathNotUnder {
                path: child.root.clone(),
                root: self.root.clone(),
            });
        }
        if self.case_sensitive && !child.case_sensitive {
            return Err(Widening::BecomesCaseInsensitive);
        }
        if !self.allow_equal && child.allow_equal {
            return Err(Widening::EnablesAllowEqual);
        }
        Ok(())
    }

    /// Subpath → Exact/Subset helper: every item must be a contained string.
    pub(crate) fn attenuate_paths<'a>(
        &self,
        items: impl IntoIterator<Item = &'a ArgValue>,
        child: &'static str,
    ) -> Result<(), AttenuationError> {
        for item in items {
            let Some(path) = item.as_str() else {
                return Err(AttenuationError::IncompatibleTypes {
                    parent: "Subpath",
                    child,
                });
            };
            if !self.contains_path(path) {
                return Err(AttenuationError::NotNarrower {
                    constraint: "Subpath",
                    widening: Widening::PathNotUnder {
                        path: path.to_owned(),
                        root: self.root.clone(),
                    },
                });
            }
        }
        Ok(())
    }
}

impl fmt::Display for Subpath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.case_sensitive && self.allow_equal {
            write!(f, "Subpath({})", self.root)
        } else {
            write!(
                f,
                "Subpath({}, case_sensitive={}, allow_equal={})",
                self.root, self.case_sensitive, self.allow_equal
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization() {
        assert_eq!(normalize("/data/../etc/passwd"), "/etc/passwd");
        assert_eq!(normalize("/a//b/./c/"), "/a/b/c");
        assert_eq!(normalize("/../.."), "/");
        assert_eq!(normalize("C:\\x\\..\\y"), "C:\\y");
        assert_eq!(normalize("C:x"), "C:/x");
    }

    #[test]
    fn containment() {
        let s = Subpath::new("/data", true, true).expect("valid");
        assert!(s.contains_path("/data"));
        assert!(s.contains_path("/data/x/y"));
        assert!(!s.contains_path("/data/../etc"));
        assert!(!s.contains_path("/database"));
        assert!(!s.contains_path("data/x"));
        assert!(!s.contains_path("/data/\0x"));
        assert!(s.eval(&ArgValue::List(vec![])));
        assert!(!s.eval(&ArgValue::List(vec![ArgValue::Integer(1)])));
    }

    #[test]
    fn wire_root_is_verbatim() {
        let s = Subpath {
            root: "/data/".into(),
            case_sensitive: true,
            allow_equal: true,
        };
        assert!(!s.contains_path("/data"));
        assert!(s.contains_path("/data/x"));
    }

    #[test]
    fn attenuation() {
        let p = Subpath::new("/data", true, true).expect("valid");
        assert!(p
            .attenuate(&Subpath::new("/data/x", true, true).expect("valid"))
            .is_ok());
        assert!(p
            .attenuate(&Subpath::new("/etc", true, true).expect("valid"))
            .is_err());
        assert!(p
            .attenuate(&Subpath::new("/data/x", false, true).expect("valid"))
            .is_err());
        assert!(Subpath::new("rel", true, true).is_err());
    }
}
