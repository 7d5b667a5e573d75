//! The `Shlex` class: shell command lines admitted and refused by a root
//! grant, by a delegated grant narrowed to fewer commands, and by a leaf
//! pinned to one exact command line; minted both ways.

use tenuo_authz::constraint::{ArgValue, Constraint, ConstraintSet};
use tenuo_authz::DenyReason as R;

use crate::common::{args, s, Minted, Minter, Step};
use crate::harness::Case;

/// Admitted by `Shlex(allow=["ls", "cat", "/usr/bin/git"])`.
const ADMITTED: &[&str] = &[
    "ls",
    "ls -la /tmp",
    "cat \"a; b\" 'c && d'",
    "ls foo\\ bar *.txt ~ #x",
    "/usr/bin/git status",
    "ls\t-l",
];

/// Refused by it, one per rule.
const REFUSED: &[&str] = &[
    "",
    "   ",
    "rm -rf /",
    "ls; rm -rf /",
    "ls foo#; rm",
    "ls | sh",
    "cat < /etc/shadow",
    "ls \"$HOME\"",
    "ls `id`",
    "ls\nrm",
    "ls 'unclosed",
    "ls \\",
    "git status",
    "/usr/bin/../bin/git",
    "./ls",
];

fn call(m: &Minted, what: &str, value: ArgValue) -> Case {
    Case::call("shlex", what, m, "shell", args(&[("cmd", value)]))
}

/// All Shlex cases, both minters.
pub(crate) fn cases(out: &mut Vec<Case>) {
    let grant = |c: Constraint| vec![("shell", ConstraintSet::new().with("cmd", c))];
    let root = Constraint::shlex(["ls", "cat", "/usr/bin/git"]);
    for minter in Minter::BOTH {
        let one = Minted::mint(minter, &[Step::new(2, grant(root.clone()))]);
        for line in ADMITTED {
            out.push(call(&one, &format!("{root} admits {line:?}"), s(line)));
        }
        for line in REFUSED {
            out.push(
                call(&one, &format!("{root} refuses {line:?}"), s(line))
                    .deny(R::ConstraintViolation),
            );
        }
        out.push(
            call(&one, "Shlex refuses a non-string", ArgValue::Integer(1))
                .deny(R::ConstraintViolation),
        );

        // Delegated to `ls` only: `cat` is gone, `ls` stays.
        let narrowed = Minted::mint(
            minter,
            &[
                Step::new(2, grant(root.clone())),
                Step::new(3, grant(Constraint::shlex(["ls"]))),
            ],
        );
        out.push(call(&narrowed, "narrowed Shlex admits ls", s("ls -a")));
        out.push(
            call(&narrowed, "narrowed Shlex refuses cat", s("cat x")).deny(R::ConstraintViolation),
        );

        // Delegated to one exact command line the parent admits.
        let pinned = Minted::mint(
            minter,
            &[
                Step::new(2, grant(root.clone())),
                Step::new(3, grant(Constraint::exact("ls \"a; b\""))),
            ],
        );
        out.push(call(&pinned, "Shlex → Exact admits it", s("ls \"a; b\"")));
        out.push(
            call(&pinned, "Shlex → Exact refuses others", s("ls")).deny(R::ConstraintViolation),
        );
    }
}
