//! `Shlex` (wire type 128): a shell command line that runs one allow-listed
//! program with literal arguments.
//!
//! Wire payload: `{"allow": [text]}`.
//!
//! A string argument is admitted when, in this order (the first failing rule
//! is the refusal reported, as the reference orders them):
//! 1. it is not empty;
//! 2. it has none of the control characters NUL, BEL, backspace, LF,
//!    vertical tab, form feed, CR and DEL ([`CONTROL_CHARACTERS`]; a tab is
//!    a blank, not refused);
//! 3. it has no `$` and no backquote anywhere, quoted or not (a shell would
//!    expand them inside double quotes, and refusing them everywhere is the
//!    reference's rule);
//! 4. it splits into words ([`split_shell_words`]) without an open quote or
//!    a trailing backslash, and yields at least one token;
//! 5. the first token, exactly as written after unquoting, is an entry of
//!    `allow` and contains no `..` (an entry `ls` does not admit `/bin/ls`);
//! 6. no token is an unquoted operator (`;`, `|`, `&&`, `>`, newline, ...).
//!
//! Globs, `~`, `#` and `!` are not refused: they are ordinary word characters
//! here, as in the reference. A non-string argument is never admitted.
//!
//! No length limit applies (the reference has none): the lexer is linear in
//! the command and only the first token and the first operator are kept.
//!
//! Attenuation: `Shlex → Shlex` needs the child's `allow` to be a subset of
//! the parent's; `Shlex → Exact` needs a string the parent admits.
//!
//! [`split_shell_words`]: super::split_shell_words

use std::fmt;

use super::shell_lexer::{Lexer, ShellSyntaxError, ShellToken};
use super::widening::Widening;

/// Characters that refuse a command wherever they appear.
pub const CONTROL_CHARACTERS: [char; 8] = [
    '\0', '\u{7}', '\u{8}', '\n', '\u{b}', '\u{c}', '\r', '\u{7f}',
];

/// A shell-command allow-list constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shlex {
    /// Allowed command words, compared literally with the command's first word.
    pub allow: Vec<String>,
}

/// Why a [`Shlex`] constraint refuses a command line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShlexRefusal {
    /// The command is empty, or only blanks.
    #[error("empty command")]
    Empty,
    /// A control character appears (the first one found).
    #[error("control character {character:?}")]
    ControlCharacter {
        /// The character.
        character: char,
    },
    /// `$` or a backquote appears (`$` is reported when both do).
    #[error("shell expansion {character:?}")]
    Expansion {
        /// `$` or `` ` ``.
        character: char,
    },
    /// The command does not split into words.
    #[error(transparent)]
    Syntax(#[from] ShellSyntaxError),
    /// The first word is not an allowed command (or contains `..`).
    #[error("command {command:?} is not allowed")]
    CommandNotAllowed {
        /// The first token as unquoted.
        command: String,
    },
    /// An unquoted control operator follows an allowed command.
    #[error("shell operator {operator:?}")]
    Operator {
        /// The first operator of the command line.
        operator: &'static str,
    },
}

impl Shlex {
    /// A constraint allowing exactly the listed command words.
    pub fn new<S: Into<String>>(allow: impl IntoIterator<Item = S>) -> Self {
        Shlex {
            allow: allow.into_iter().map(Into::into).collect(),
        }
    }

    /// Whether `command` runs one allowed program with literal arguments.
    pub fn admits(&self, command: &str) -> Result<(), ShlexRefusal> {
        if command.is_empty() {
            return Err(ShlexRefusal::Empty);
        }
        if let Some(character) = command.chars().find(|c| CONTROL_CHARACTERS.contains(c)) {
            return Err(ShlexRefusal::ControlCharacter { character });
        }
        for character in ['$', '`'] {
            if command.contains(character) {
                return Err(ShlexRefusal::Expansion { character });
            }
        }
        // The whole line must lex before the first word or an operator is
        // judged: a later open quote is the reported reason.
        let mut lexer = Lexer::new(command);
        let mut first: Option<ShellToken> = None;
        let mut operator: Option<&'static str> = None;
        while let Some(token) = lexer.next_token()? {
            if let (None, ShellToken::Operator(op)) = (operator, &token) {
                operator = Some(op);
            }
            if first.is_none() {
                first = Some(token);
            }
        }
        let first = first.ok_or(ShlexRefusal::Empty)?;
        let command = first.text();
        if command.is_empty() || command.contains("..") || !self.allow.iter().any(|a| a == command)
        {
            return Err(ShlexRefusal::CommandNotAllowed {
                command: command.to_owned(),
            });
        }
        match operator {
            Some(operator) => Err(ShlexRefusal::Operator { operator }),
            None => Ok(()),
        }
    }

    pub(crate) fn attenuate(&self, child: &Shlex) -> Result<(), Widening> {
        match child.allow.iter().find(|b| !self.allow.contains(b)) {
            None => Ok(()),
            Some(b) => Err(Widening::CommandNotAllowed { command: b.clone() }),
        }
    }
}

impl fmt::Display for Shlex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Shlex(allow={:?})", self.allow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(allow: &[&str], command: &str) -> Option<ShlexRefusal> {
        Shlex::new(allow.iter().copied()).admits(command).err()
    }

    #[test]
    fn admits_plain_and_quoted_commands() {
        for command in [
            "ls -la /tmp",
            "ls \"a; b\" 'c && d'",
            "ls foo\\ bar ~/x *.txt {a,b} #c !",
            "find . -exec rm {} \\;",
            "ls\t-la",
        ] {
            assert_eq!(refusal(&["ls", "find"], command), None, "{command:?}");
        }
    }

    #[test]
    fn refusals_in_order() {
        use ShlexRefusal as R;
        let cases: Vec<(&str, ShlexRefusal)> = vec![
            ("", R::Empty),
            ("  \t", R::Empty),
            ("rm\n", R::ControlCharacter { character: '\n' }),
            ("ls '$x' `y`", R::Expansion { character: '$' }),
            ("rm `y`", R::Expansion { character: '`' }),
            ("rm 'x", R::Syntax(ShellSyntaxError::UnclosedQuote)),
            ("ls; rm x\\", R::Syntax(ShellSyntaxError::TrailingBackslash)),
            (
                "/bin/ls",
                R::CommandNotAllowed {
                    command: "/bin/ls".into(),
                },
            ),
            (
                "; ls",
                R::CommandNotAllowed {
                    command: ";".into(),
                },
            ),
            (
                "'' ls",
                R::CommandNotAllowed {
                    command: String::new(),
                },
            ),
            ("ls x#; rm", R::Operator { operator: ";" }),
            ("ls <> f", R::Operator { operator: "<>" }),
        ];
        for (command, want) in cases {
            assert_eq!(refusal(&["ls"], command), Some(want), "{command:?}");
        }
    }

    #[test]
    fn dot_dot_in_the_command_word_is_refused_even_when_listed() {
        assert!(refusal(&["../ls"], "../ls").is_some());
        assert!(refusal(&["/usr/bin/ls"], "/usr/bin/ls -l").is_none());
        assert!(refusal(&["/usr/bin/ls"], "/usr/bin/../bin/ls").is_some());
    }

    #[test]
    fn subset_attenuation() {
        let p = Shlex::new(["ls", "cat"]);
        assert!(p.attenuate(&Shlex::new(["ls"])).is_ok());
        assert!(p.attenuate(&Shlex::new(Vec::<String>::new())).is_ok());
        assert!(p.attenuate(&Shlex::new(["ls", "rm"])).is_err());
    }

    #[test]
    fn display() {
        assert_eq!(
            Shlex::new(["ls", "a\"b"]).to_string(),
            "Shlex(allow=[\"ls\", \"a\\\"b\"])"
        );
    }
}
