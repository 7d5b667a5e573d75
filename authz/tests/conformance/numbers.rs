//! The `integral_floats` class: numbers keep their kind. A float that holds an
//! integral value (`10.0`, `-0.0`, `1e12`) is a float for the PoP challenge and
//! for the constraints, as the reference treats it: a PoP over the integer does
//! not admit the float, nor the reverse, and `Exact(10)` refuses `10.0`.
//! Minted both ways.

use tenuo_authz::constraint::{ArgValue, Constraint, ConstraintSet};
use tenuo_authz::DenyReason as R;

use crate::common::{args, s, Minted, Minter, Step};
use crate::harness::Case;

fn n(value: ArgValue) -> tenuo_authz::pop::Args {
    args(&[("n", value)])
}

/// All cases, both minters.
pub(crate) fn cases(out: &mut Vec<Case>) {
    use ArgValue::{Float, Integer};
    let range = Constraint::range(Some(-100.0), Some(1e13)).expect("a range");
    for minter in Minter::BOTH {
        let m = Minted::mint(
            minter,
            &[Step::new(
                2,
                vec![
                    ("compute", ConstraintSet::new().with("n", range.clone())),
                    (
                        "pin",
                        ConstraintSet::new().with("n", Constraint::exact(10i64)),
                    ),
                ],
            )],
        );
        let call = |what: &str, tool: &str, value: ArgValue| {
            Case::call("integral_floats", what, &m, tool, n(value))
        };
        for (what, value) in [
            ("10.0 signed as 10.0", Float(10.0)),
            ("10 signed as 10", Integer(10)),
            ("-0.0 signed as -0.0", Float(-0.0)),
            ("0.0 signed as 0.0", Float(0.0)),
            ("1e12 as a float", Float(1e12)),
            ("-100.0 at the bound", Float(-100.0)),
        ] {
            out.push(call(what, "compute", value));
        }
        // The PoP names one kind, the call presents the other.
        for (what, signed, presented) in [
            ("10.0 presented, PoP over 10", Integer(10), Float(10.0)),
            ("10 presented, PoP over 10.0", Float(10.0), Integer(10)),
            ("-0.0 presented, PoP over 0.0", Float(0.0), Float(-0.0)),
            (
                "1e12 presented, PoP over the integer",
                Integer(1_000_000_000_000),
                Float(1e12),
            ),
        ] {
            out.push(
                call(what, "compute", signed)
                    .with_args(n(presented))
                    .deny(R::InvalidPop),
            );
        }
        out.push(call("1e15 past the range", "compute", Float(1e15)).deny(R::ConstraintViolation));
        out.push(
            call(
                "an integer beyond i64, as text",
                "compute",
                s("18446744073709551615"),
            )
            .deny(R::ConstraintViolation),
        );
        out.push(call("Exact(10) admits 10", "pin", Integer(10)));
        out.push(call("Exact(10) refuses 10.0", "pin", Float(10.0)).deny(R::ConstraintViolation));
    }
}
