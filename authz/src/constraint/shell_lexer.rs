//! POSIX-style word splitting for the `Shlex` constraint: quotes, backslash
//! escapes, line continuations and the shell's control operators, with no
//! expansion of any kind.
//!
//! The rules, as the reference's tokenizer applies them:
//! * words end at an unquoted space, tab, newline or operator; a newline
//!   outside a word is itself an operator token;
//! * operators are matched longest first from [`OPERATORS`], and a
//!   backslash-newline inside an operator (`>\` newline `>`) is skipped;
//! * `#` is an ordinary word character (never a comment), so nothing after it
//!   is hidden from the operator scan;
//! * single quotes keep everything literally; inside double quotes a
//!   backslash is removed only before `$`, `` ` ``, `"` and `\` (and together
//!   with a following newline), otherwise it stays;
//! * outside quotes a backslash makes the next character literal, and a
//!   backslash-newline disappears.
//!
//! The lexer works on bytes: every character it treats specially is ASCII,
//! and UTF-8 never uses ASCII bytes inside a multi-byte character, so copying
//! the other bytes through keeps the text valid. Work is linear in the input:
//! each byte is looked at a bounded number of times.

use std::fmt;

/// Control operators, longest first so that the first match is the longest.
pub const OPERATORS: [&str; 17] = [
    "<<-", "&&", "||", ";;", "|&", "<<", ">>", "<&", ">&", "<>", "|", "&", ";", "<", ">", "(", ")",
];

/// One token of a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShellToken {
    /// A word, with its quotes and escapes removed.
    Word(String),
    /// An unquoted control operator (one of [`OPERATORS`], or a newline).
    Operator(&'static str),
}

impl ShellToken {
    /// The token's text: the word itself or the operator.
    pub fn text(&self) -> &str {
        match self {
            ShellToken::Word(w) => w,
            ShellToken::Operator(op) => op,
        }
    }
}

/// Why a command line does not split into words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShellSyntaxError {
    /// A single or double quote is never closed.
    #[error("a quote is left open")]
    UnclosedQuote,
    /// The command ends with a backslash that has nothing to escape.
    #[error("the command ends in a lone backslash")]
    TrailingBackslash,
}

impl fmt::Display for ShellToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

/// Splits `command` into its tokens, in order.
pub fn split_shell_words(command: &str) -> Result<Vec<ShellToken>, ShellSyntaxError> {
    let mut lexer = Lexer::new(command);
    let mut tokens = Vec::new();
    while let Some(token) = lexer.next_token()? {
        tokens.push(token);
    }
    Ok(tokens)
}

/// A pull lexer, so that a caller can keep only the tokens it needs.
pub(crate) struct Lexer<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(command: &'a str) -> Self {
        Lexer {
            bytes: command.as_bytes(),
            pos: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn at_continuation(&self, at: usize) -> bool {
        self.bytes.get(at) == Some(&b'\\') && self.bytes.get(at + 1) == Some(&b'\n')
    }

    /// The operator starting here, and how many bytes it spans (line
    /// continuations inside it included).
    fn operator_here(&self) -> Option<(&'static str, usize)> {
        // Every operator starts with one of these; most bytes stop here.
        if !matches!(
            self.peek(),
            Some(b'<' | b'>' | b'&' | b'|' | b';' | b'(' | b')')
        ) {
            return None;
        }
        OPERATORS.iter().find_map(|op| {
            let mut at = self.pos;
            for want in op.bytes() {
                while self.at_continuation(at) {
                    at += 2;
                }
                if self.bytes.get(at) != Some(&want) {
                    return None;
                }
                at += 1;
            }
            Some((*op, at - self.pos))
        })
    }

    fn skip_blanks(&mut self) {
        loop {
            match self.peek() {
                Some(b' ' | b'\t') => self.pos += 1,
                Some(b'\\') if self.at_continuation(self.pos) => self.pos += 2,
                _ => return,
            }
        }
    }

    /// The byte after a backslash (the backslash already consumed).
    fn escaped(&mut self) -> Result<u8, ShellSyntaxError> {
        let b = self.peek().ok_or(ShellSyntaxError::TrailingBackslash)?;
        self.pos += 1;
        Ok(b)
    }

    pub(crate) fn next_token(&mut self) -> Result<Option<ShellToken>, ShellSyntaxError> {
        self.skip_blanks();
        match self.peek() {
            None => Ok(None),
            Some(b'\n') => {
                self.pos += 1;
                Ok(Some(ShellToken::Operator("\n")))
            }
            Some(_) => match self.operator_here() {
                Some((op, len)) => {
                    self.pos += len;
                    Ok(Some(ShellToken::Operator(op)))
                }
                None => self.word().map(|w| Some(ShellToken::Word(w))),
            },
        }
    }

    fn word(&mut self) -> Result<String, ShellSyntaxError> {
        let mut out: Vec<u8> = Vec::new();
        let mut quote: Option<u8> = None;
        while let Some(b) = self.peek() {
            match quote {
                None => match b {
                    b' ' | b'\t' | b'\n' => break,
                    b'\\' => {
                        self.pos += 1;
                        let e = self.escaped()?;
                        if e != b'\n' {
                            out.push(e);
                        }
                    }
                    b'\'' | b'"' => {
                        self.pos += 1;
                        quote = Some(b);
                    }
                    _ if self.operator_here().is_some() => break,
                    _ => {
                        self.pos += 1;
                        out.push(b);
                    }
                },
                Some(b'\'') => {
                    self.pos += 1;
                    if b == b'\'' {
                        quote = None;
                    } else {
                        out.push(b);
                    }
                }
                Some(_) => {
                    self.pos += 1;
                    match b {
                        b'"' => quote = None,
                        b'\\' => match self.escaped()? {
                            b'\n' => {}
                            e @ (b'$' | b'`' | b'"' | b'\\') => out.push(e),
                            e => out.extend_from_slice(&[b'\\', e]),
                        },
                        _ => out.push(b),
                    }
                }
            }
        }
        if quote.is_some() {
            return Err(ShellSyntaxError::UnclosedQuote);
        }
        // Only whole ASCII characters were dropped or added, so this is valid
        // UTF-8; the lossy conversion never replaces anything.
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(command: &str) -> Vec<String> {
        match split_shell_words(command) {
            Ok(tokens) => tokens.iter().map(|t| t.text().to_owned()).collect(),
            Err(e) => panic!("{command:?}: {e}"),
        }
    }

    #[test]
    fn splits_like_a_shell() {
        let cases: &[(&str, &[&str])] = &[
            ("ls -la /tmp", &["ls", "-la", "/tmp"]),
            ("ls\t 'a b' \"c;d\"", &["ls", "a b", "c;d"]),
            ("ls;rm", &["ls", ";", "rm"]),
            ("cat <<-EOF", &["cat", "<<-", "EOF"]),
            ("a|&b", &["a", "|&", "b"]),
            ("echo x#;y", &["echo", "x#", ";", "y"]),
            (
                "echo \"a\\b\" \"a\\\\b\" \"\\\"\"",
                &["echo", "a\\b", "a\\b", "\""],
            ),
            (
                "find . -exec rm {} \\;",
                &["find", ".", "-exec", "rm", "{}", ";"],
            ),
            ("echo foo\\\nbar", &["echo", "foobar"]),
            ("cat >\\\n> f", &["cat", ">>", "f"]),
            ("a\nb", &["a", "\n", "b"]),
            ("\\\n", &[]),
            ("'' x", &["", "x"]),
            ("café \\é \"\\é\"", &["café", "é", "\\é"]),
        ];
        for (command, want) in cases {
            assert_eq!(texts(command), *want, "{command:?}");
        }
    }

    #[test]
    fn syntax_errors() {
        assert_eq!(
            split_shell_words("ls 'x"),
            Err(ShellSyntaxError::UnclosedQuote)
        );
        assert_eq!(
            split_shell_words("ls \"x"),
            Err(ShellSyntaxError::UnclosedQuote)
        );
        assert_eq!(
            split_shell_words("ls x\\"),
            Err(ShellSyntaxError::TrailingBackslash)
        );
        // Inside double quotes a lone final backslash is the escape error.
        assert_eq!(
            split_shell_words("ls \"x\\"),
            Err(ShellSyntaxError::TrailingBackslash)
        );
    }
}
