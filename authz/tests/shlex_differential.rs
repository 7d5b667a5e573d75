//! Differential tests of the `Shlex` constraint against the reference `tenuo`
//! 0.3.5 crate (its `shell_words` module and `Shlex` constraint): word
//! splitting, the decision and its reason, constraint evaluation through our
//! wire decoding, and attenuation (`Shlex → Shlex`, `Shlex → Exact`), both
//! directions of minting.

use proptest::prelude::*;
use tenuo::constraints as r;
use tenuo::shell_words as rw;
use tenuo_authz::constraint::{
    split_shell_words, ArgValue, Constraint, ShellSyntaxError, ShellToken, Shlex, ShlexRefusal,
};

/// Pieces of command lines: words, blanks, quotes, escapes, operators (whole
/// and split by line continuations), expansions, globs, comments, control
/// characters and non-ASCII text.
const FRAGMENTS: &[&str] = &[
    " ",
    "  ",
    "\t",
    "-la",
    "/tmp",
    "x",
    "é",
    "日本",
    "\u{a0}",
    "\u{1b}",
    "'",
    "\"",
    "\\",
    "\\ ",
    "\\\\",
    "\\\"",
    "\\'",
    "\\;",
    "\\\n",
    "\n",
    "\r",
    "\0",
    "\u{7}",
    "\u{8}",
    "\u{b}",
    "\u{c}",
    "\u{7f}",
    "'a;b'",
    "\"a|b\"",
    "\"a\\\"b\"",
    "\"a\\\\\"",
    "\"\\$\"",
    "''",
    "\"\"",
    ";",
    ";;",
    "|",
    "||",
    "|&",
    "&",
    "&&",
    "<",
    "<<",
    "<<-",
    ">",
    ">>",
    "<&",
    ">&",
    "<>",
    "(",
    ")",
    ">\\\n>",
    "&\\\n&",
    "<\\\n<\\\n-",
    "$",
    "$(id)",
    "${X}",
    "`id`",
    "*",
    "?",
    "[a-z]",
    "{a,b}",
    "~",
    "#",
    "#;",
    "!",
    "..",
    "../",
    "./",
    "/usr/bin/",
    ",",
    "=",
    "--",
    "%",
];

/// Command words the allow lists are drawn from (plus some near misses).
const COMMANDS: &[&str] = &[
    "ls",
    "cat",
    "/usr/bin/ls",
    "./ls",
    "../ls",
    "l s",
    "café",
    "",
    ";",
    "ls,evil",
];

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select(FRAGMENTS).prop_map(str::to_owned),
        2 => prop::sample::select(COMMANDS).prop_map(str::to_owned),
        1 => "\\PC{0,3}",
        1 => any::<char>().prop_map(String::from),
    ]
}

/// A command line: often an allowed-looking word first, then fragments.
fn command() -> impl Strategy<Value = String> {
    (
        prop::option::weighted(0.8, prop::sample::select(COMMANDS)),
        prop::collection::vec(fragment(), 0..12),
    )
        .prop_map(|(head, rest)| {
            let mut line = head.unwrap_or_default().to_owned();
            for piece in rest {
                line.push_str(&piece);
            }
            line
        })
}

fn allow_list() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(prop::sample::select(COMMANDS).prop_map(str::to_owned), 0..4)
}

/// Whether our verdict is the reference's: the same allow/deny and, for a
/// refusal, the same rule with the same detail (character, command word or
/// operator).
fn agree(ours: &Result<(), ShlexRefusal>, theirs: &rw::ShlexCheck) -> bool {
    match ours {
        Ok(()) => theirs.allowed,
        Err(_) if theirs.allowed => false,
        Err(ShlexRefusal::Empty) => theirs.reason == "empty command",
        Err(ShlexRefusal::ControlCharacter { character }) => {
            theirs.reason == "control character"
                && theirs.controls.first() == Some(&character.to_string())
        }
        Err(ShlexRefusal::Expansion { character }) => {
            theirs.reason == "shell expansion"
                && theirs.expansion.first() == Some(&character.to_string())
        }
        Err(ShlexRefusal::Syntax(ShellSyntaxError::UnclosedQuote)) => {
            theirs.reason == "unclosed quote"
        }
        Err(ShlexRefusal::Syntax(ShellSyntaxError::TrailingBackslash)) => {
            theirs.reason == "trailing backslash"
        }
        Err(ShlexRefusal::CommandNotAllowed { command }) => {
            !theirs.binary_allowed
                && theirs.reason.ends_with("is not allowlisted")
                && theirs.tokens.first() == Some(command)
        }
        Err(ShlexRefusal::Operator { operator }) => {
            theirs.binary_allowed && theirs.operators.first().map(String::as_str) == Some(*operator)
        }
        Err(other) => panic!("refusal kind without a reference counterpart: {other:?}"),
    }
}

fn assert_same_split(line: &str) {
    let ours = split_shell_words(line);
    let theirs = rw::tokenize(line);
    match (&ours, &theirs) {
        (Ok(a), Ok(b)) => {
            let a: Vec<(&str, bool)> = a
                .iter()
                .map(|t| (t.text(), matches!(t, ShellToken::Operator(_))))
                .collect();
            let b: Vec<(&str, bool)> = b.iter().map(|t| (t.text.as_str(), t.operator)).collect();
            assert_eq!(a, b, "tokens of {line:?}");
        }
        (Err(ShellSyntaxError::UnclosedQuote), Err(rw::ShellError::NoClosingQuotation))
        | (Err(ShellSyntaxError::TrailingBackslash), Err(rw::ShellError::NoEscapedCharacter)) => {}
        _ => panic!("split of {line:?}: ours {ours:?}, reference {theirs:?}"),
    }
}

fn assert_same_decision(allow: &[String], line: &str) {
    let ours = Shlex::new(allow.iter().cloned()).admits(line);
    let theirs = rw::check(allow, line);
    assert!(
        agree(&ours, &theirs),
        "allow {allow:?} command {line:?}: ours {ours:?}, reference {theirs:?}"
    );
    // The same through the constraint as decoded from the reference's bytes.
    let rc: r::Constraint = r::Shlex::new(allow.to_vec()).into();
    let mine = decode(&rc);
    let value = ArgValue::String(line.to_owned());
    let reference = rc
        .matches(&r::ConstraintValue::String(line.to_owned()))
        .expect("Shlex evaluation does not fail");
    assert_eq!(mine.check(&value).is_ok(), reference, "{allow:?} {line:?}");
}

fn decode(rc: &r::Constraint) -> Constraint {
    let mut bytes = Vec::new();
    ciborium::ser::into_writer(rc, &mut bytes).expect("encodes");
    let value: ciborium::Value = ciborium::de::from_reader(bytes.as_slice()).expect("CBOR");
    let c = Constraint::from_cbor(&value, 0).expect("we decode the reference's Shlex");
    let mut again = Vec::new();
    ciborium::ser::into_writer(&c.to_cbor(), &mut again).expect("encodes");
    assert_eq!(again, bytes, "re-encoding differs");
    c
}

fn encode(c: &Constraint) -> r::Constraint {
    let mut bytes = Vec::new();
    ciborium::ser::into_writer(&c.to_cbor(), &mut bytes).expect("encodes");
    ciborium::de::from_reader(bytes.as_slice()).expect("the reference decodes our Shlex")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn split_matches_reference(line in command()) {
        assert_same_split(&line);
    }

    #[test]
    fn decision_matches_reference(allow in allow_list(), line in command()) {
        assert_same_decision(&allow, &line);
    }

    #[test]
    fn attenuation_matches_reference(
        parent in allow_list(),
        child in allow_list(),
        line in command(),
    ) {
        // Minted by the reference, decided by us.
        let rp: r::Constraint = r::Shlex::new(parent.clone()).into();
        let rc: r::Constraint = r::Shlex::new(child.clone()).into();
        let rx: r::Constraint = r::Exact::new(line.as_str()).into();
        let (p, c, x) = (decode(&rp), decode(&rc), decode(&rx));
        prop_assert_eq!(p.check_attenuation(&c).is_ok(), rp.validate_attenuation(&rc).is_ok());
        prop_assert_eq!(p.check_attenuation(&x).is_ok(), rp.validate_attenuation(&rx).is_ok());
        // Minted by us, decided by the reference.
        let (op, oc) = (Constraint::shlex(parent), Constraint::shlex(child));
        let ox = Constraint::exact(line.as_str());
        prop_assert_eq!(encode(&op).validate_attenuation(&encode(&oc)).is_ok(), op.check_attenuation(&oc).is_ok());
        prop_assert_eq!(encode(&op).validate_attenuation(&encode(&ox)).is_ok(), op.check_attenuation(&ox).is_ok());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Soundness: whatever a child the parent accepts admits, the parent
    /// admits too, for Shlex and Exact children.
    #[test]
    fn narrowed_children_admit_nothing_new(
        parent in allow_list(),
        child in allow_list(),
        pinned in command(),
        lines in prop::collection::vec(command(), 16),
    ) {
        let parent = Constraint::shlex(parent);
        let mut lines = lines;
        lines.push(pinned.clone());
        for child in [Constraint::shlex(child), Constraint::exact(pinned.as_str())] {
            if parent.check_attenuation(&child).is_err() {
                continue;
            }
            for line in &lines {
                let v = ArgValue::String(line.clone());
                if child.check(&v).is_ok() {
                    prop_assert!(parent.check(&v).is_ok(), "{} admits {:?}, {} does not", child, line, parent);
                }
            }
        }
    }
}

/// Commands the reference's own tests and documentation pin, and the corner
/// cases of each rule.
#[test]
fn pinned_commands_match_reference() {
    let allow: Vec<String> = ["ls", "cat", "echo", "find", "npm", "/usr/bin/git", "café"]
        .map(str::to_owned)
        .to_vec();
    let lines = [
        "ls -la /tmp",
        "ls \"foo; bar\"",
        "ls 'foo && bar'",
        "ls -la; rm -rf /",
        "ls;rm",
        "echo \"AT&T\"",
        "echo AT&T",
        "cat <<EOF",
        "cat <> /etc/passwd",
        "\"ls\" -la",
        "ls -la \"\"",
        "ls foo\\ bar",
        "echo {a,b,c}",
        "ls file[12].txt",
        "echo hello!",
        "echo hello #world",
        "ls foo#; rm",
        "ls #; rm",
        "ls # |& sh",
        "./ls,evil -la",
        "find . -exec rm {} \\;",
        "echo 'a'\"b\"'c'",
        "echo \"a\\\"b;c\"",
        "echo \"a\\\\\"; rm",
        "echo foo\\\nbar",
        "cat >\\\n> file",
        "echo a\rb",
        "echo \"$VAR\"",
        "echo '$HOME'",
        "echo `id`",
        "npm install $(whoami)",
        "/usr/bin/git status",
        "git status",
        "/usr/bin/../bin/git",
        "café --help",
        "npm\tinstall",
        "   ",
        "",
        "ls \"",
        "ls \\",
        "ls \"x\\",
        "ls ~/Documents",
        "npm install -- --save",
    ];
    for line in lines {
        assert_same_split(line);
        assert_same_decision(&allow, line);
    }
    // And a few decisions stated outright, so a shared mistake cannot hide.
    let sh = Shlex::new(allow.iter().cloned());
    assert!(sh.admits("ls \"foo; bar\"").is_ok());
    assert!(sh.admits("find . -exec rm {} \\;").is_ok());
    assert!(sh.admits("ls foo#; rm").is_err());
    assert!(sh.admits("git status").is_err());
    assert!(sh.admits("echo '$HOME'").is_err());
}

/// Long inputs: a long word, a long quoted run of operator characters, many
/// operators, many continuations, an unclosed quote at the very end.
#[test]
fn huge_commands_match_reference() {
    let allow = vec!["ls".to_owned()];
    let lines = [
        format!("ls {}", "a".repeat(200_000)),
        format!("ls \"{}\"", ";".repeat(200_000)),
        format!("ls {}", "; x".repeat(50_000)),
        format!("ls >{}>", "\\\n".repeat(50_000)),
        format!("ls {}'", "'a' ".repeat(50_000)),
        format!("ls {}", "é\\ ".repeat(50_000)),
    ];
    for line in &lines {
        assert_same_split(line);
        assert_same_decision(&allow, line);
    }
}
