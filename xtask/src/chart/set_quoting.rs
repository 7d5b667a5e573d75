//! The documented `helm --set` arguments are quoted where a shell would glob
//! them: `--set config.trustedRoots[0]=KEY` unquoted is a glob pattern, which
//! zsh refuses ("no matches found") and bash replaces if a file matches.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// A `--set` value with an unquoted `[`, where it was found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Unquoted {
    /// 1-based line number.
    pub(crate) line: usize,
    /// The shell word as written.
    pub(crate) word: String,
}

/// The `--set` family of flags whose next word is a `PATH=VALUE` expression.
const FLAGS: [&str; 5] = [
    "--set",
    "--set-string",
    "--set-json",
    "--set-file",
    "--set-literal",
];

/// Every `--set`-family argument in `text` whose word holds a `[` that no
/// quote or backslash protects.
pub(crate) fn unquoted(text: &str) -> Vec<Unquoted> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("--set") {
            let before = rest[..at].chars().next_back();
            let after = &rest[at..];
            rest = &after["--set".len()..];
            if before.is_some_and(|c| !c.is_whitespace() && c != '`') {
                continue;
            }
            let flag_len = after
                .find(|c: char| c.is_whitespace() || c == '=')
                .unwrap_or(after.len());
            if !FLAGS.contains(&&after[..flag_len]) {
                continue;
            }
            let value = after[flag_len..]
                .strip_prefix('=')
                .unwrap_or_else(|| after[flag_len..].trim_start());
            let (word, globs) = shell_word(value);
            if globs {
                found.push(Unquoted {
                    line: n + 1,
                    word: word.to_owned(),
                });
            }
        }
    }
    found
}

/// The shell word at the start of `s` (up to unquoted whitespace, or a
/// Markdown backtick), and whether it has an unquoted, unescaped `[`.
fn shell_word(s: &str) -> (&str, bool) {
    let (mut single, mut double, mut escaped, mut globs) = (false, false, false, false);
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if !single => escaped = true,
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '[' if !single && !double => globs = true,
            c if !single && !double && (c.is_whitespace() || c == '`') => return (&s[..i], globs),
            _ => {}
        }
    }
    (s, globs)
}

/// The files that document commands: every README and NOTES.txt under
/// `charts/`, the top-level README and everything under `docs/`.
pub(crate) fn documents(root: &Path) -> Result<Vec<PathBuf>> {
    let mut files = vec![root.join("README.md")];
    walk(
        &root.join("charts"),
        &mut |p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            name == "README.md" || name == "NOTES.txt"
        },
        &mut files,
    )?;
    walk(
        &root.join("docs"),
        &mut |p| p.extension().is_some_and(|e| e == "md" || e == "txt"),
        &mut files,
    )?;
    files.sort();
    Ok(files)
}

fn walk(dir: &Path, keep: &mut dyn FnMut(&Path) -> bool, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, keep, out)?;
        } else if keep(&path) {
            out.push(path);
        }
    }
    Ok(())
}

/// `file:line: word` for each unquoted argument in the documents.
pub(crate) fn check(root: &Path) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for file in documents(root)? {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        let shown = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .display()
            .to_string();
        for u in unquoted(&text) {
            problems.push(format!("{shown}:{}: --set {}", u.line, u.word));
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        unquoted(text).into_iter().map(|u| u.word).collect()
    }

    #[test]
    fn brackets_outside_quotes_are_found() {
        assert_eq!(
            words("  --set config.trustedRoots[0]=\"KEY\""),
            ["config.trustedRoots[0]=\"KEY\""]
        );
        assert_eq!(words("helm install x --set=a[0]=b"), ["a[0]=b"]);
        assert_eq!(words("`--set-string a[1]=b` in prose"), ["a[1]=b"]);
        assert_eq!(words("--set-json  a[0]='{}'"), ["a[0]='{}'"]);
        let two = unquoted("--set a=1\n\n--set 'b[0]=1' --set c[0]=2\n");
        assert_eq!(
            two,
            [Unquoted {
                line: 3,
                word: "c[0]=2".into()
            }]
        );
    }

    #[test]
    fn quoted_escaped_or_bracketless_pass() {
        for ok in [
            "--set 'config.trustedRoots[0]=KEY'",
            "--set \"config.trustedRoots[0]=KEY\"",
            "--set config.trustedRoots\\[0\\]=KEY",
            "--set config.trustedRoots='{a,b}'",
            "--set mode=gateway",
            "--settle a[0]",
            "x--set a[0]=b",
            "--set-unknown a[0]=b",
        ] {
            assert!(unquoted(ok).is_empty(), "{ok}");
        }
    }

    /// The repository's own documents: the README and chart README installs
    /// are among them, so this fails if one loses its quotes.
    #[test]
    fn the_documents_quote_every_bracketed_set() {
        let root = crate::project_root();
        let files = documents(&root).expect("the documents");
        assert!(files
            .iter()
            .any(|f| f.ends_with("charts/tenuo-authorizer/README.md")));
        assert!(files.iter().any(|f| f.ends_with("templates/NOTES.txt")));
        assert_eq!(check(&root).expect("readable"), Vec::<String>::new());
    }
}
