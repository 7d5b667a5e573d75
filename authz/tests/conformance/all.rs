//! Every conformance case, in one list: the library suite (`conformance.rs`) and
//! the command-line suite (`conformance_cli.rs`) decide the same cases.

use crate::harness::Case;

/// All cases, in a stable order.
pub(crate) fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    crate::calls::constraint_cases(&mut cases);
    crate::calls::argument_rule_cases(&mut cases);
    crate::calls::tool_cases(&mut cases);
    crate::calls::pop_cases(&mut cases);
    crate::calls::time_cases(&mut cases);
    crate::calls::revocation_cases(&mut cases);
    crate::calls::trust_cases(&mut cases);
    crate::calls::unsupported_cases(&mut cases);
    crate::shlex::cases(&mut cases);
    crate::numbers::cases(&mut cases);
    crate::calls::absent_warrant_cases(&mut cases);
    crate::chains::depth_cases(&mut cases);
    crate::chains::forged_link_cases(&mut cases);
    crate::chains::mixed_cases(&mut cases);
    crate::chains::tamper_cases(&mut cases);
    crate::chains::encoding_cases(&mut cases);
    crate::approvals::approval_cases(&mut cases);
    cases
}
