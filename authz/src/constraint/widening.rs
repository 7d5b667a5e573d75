//! [`Widening`]: the typed cause of a refused attenuation, one variant per way
//! a child constraint admits more than its parent. The checks that find them
//! live with each constraint type; this module owns only the vocabulary and
//! its messages.

/// How a child constraint admits more than its parent: the cause carried by
/// [`super::AttenuationError::NotNarrower`].
///
/// Operands that are argument values, constraints or `f64` bounds are stored
/// rendered (their `Display` text), because those types are only `PartialEq`
/// and the error types derive `Eq`; names, ports and flag names keep their
/// type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Widening {
    /// The child is an `Exact` value the parent does not admit.
    #[error("parent does not admit {value}")]
    ValueNotAdmitted {
        /// The child's value, rendered.
        value: String,
    },
    /// `Exact → Exact` with a different value.
    #[error("{child} differs from {parent}")]
    ExactDiffers {
        /// The parent's value, rendered.
        parent: String,
        /// The child's value, rendered.
        child: String,
    },
    /// A `OneOf`/`Subset` child lists a value the parent does not.
    #[error("child allows {value} which the parent does not")]
    ExtraMember {
        /// The extra value, rendered.
        value: String,
    },
    /// A `NotOneOf`/`Contains` child no longer lists a value of the parent.
    #[error("child drops {value}")]
    DroppedMember {
        /// The dropped value, rendered.
        value: String,
    },
    /// A `Shlex` child allows a command word the parent does not.
    #[error("command {command:?} not in parent allow list")]
    CommandNotAllowed {
        /// The command word.
        command: String,
    },
    /// A `Cidr` child network is not inside the parent's.
    #[error("{child} is not a subnet of {parent}")]
    NotSubnet {
        /// The parent network, as written.
        parent: String,
        /// The child network, as written.
        child: String,
    },
    /// A `Pattern` child glob is not a narrower prefix/suffix glob or literal.
    #[error("`{child}` does not narrow `{parent}`")]
    PatternNotNarrower {
        /// The parent glob.
        parent: String,
        /// The child glob.
        child: String,
    },
    /// A `Regex` child is not the identical expression.
    #[error("regex attenuation requires an identical expression")]
    RegexDiffers,
    /// A `Cel` child is neither the parent expression nor a conjunction with it.
    #[error("child CEL must be '(parent) && (predicate)'")]
    CelNotConjunction,
    /// `All → All` where either side is empty (an empty `All` is invalid).
    #[error("All with an empty constraints array is invalid")]
    EmptyAll,
    /// `All → All`: no child conjunct narrows this parent conjunct.
    #[error("no child conjunct narrows parent {conjunct}")]
    NoConjunctNarrows {
        /// The uncovered parent conjunct, rendered.
        conjunct: String,
    },
    /// `All → Exact`: a parent conjunct rejects the value.
    #[error("exact value is rejected by {conjunct}")]
    ExactRejectedByConjunct {
        /// The rejecting parent conjunct, rendered.
        conjunct: String,
    },
    /// `Any → Any`: this child branch narrows no parent branch.
    #[error("child branch {branch} narrows no parent branch")]
    BranchNarrowsNothing {
        /// The uncovered child branch, rendered.
        branch: String,
    },
    /// `Not → Not`: the child's inner constraint is not at least as
    /// permissive as the parent's (negation turns the check around).
    #[error("child's inner constraint must be at least as permissive as the parent's")]
    NotInnerNotWider,
    /// A `Range` child's lower bound is below the parent's.
    #[error("child min {child} below parent min {parent}")]
    MinBelow {
        /// The parent's lower bound, rendered.
        parent: String,
        /// The child's lower bound, rendered.
        child: String,
    },
    /// A `Range` child makes the parent's exclusive lower bound inclusive.
    #[error("child makes exclusive min {min} inclusive")]
    MinMadeInclusive {
        /// The shared lower bound, rendered.
        min: String,
    },
    /// A `Range` child has no lower bound where the parent has one.
    #[error("child drops min {min}")]
    MinDropped {
        /// The parent's lower bound, rendered.
        min: String,
    },
    /// A `Range` child's upper bound is above the parent's.
    #[error("child max {child} above parent max {parent}")]
    MaxAbove {
        /// The parent's upper bound, rendered.
        parent: String,
        /// The child's upper bound, rendered.
        child: String,
    },
    /// A `Range` child makes the parent's exclusive upper bound inclusive.
    #[error("child makes exclusive max {max} inclusive")]
    MaxMadeInclusive {
        /// The shared upper bound, rendered.
        max: String,
    },
    /// A `Range` child has no upper bound where the parent has one.
    #[error("child drops max {max}")]
    MaxDropped {
        /// The parent's upper bound, rendered.
        max: String,
    },
    /// A `UrlPattern` child allows any scheme (`*://`) under a scheme-bound parent.
    #[error("child allows any scheme")]
    AnyScheme,
    /// A `UrlPattern` child uses a scheme the parent does not allow.
    #[error("scheme {scheme} not allowed by parent")]
    SchemeNotAllowed {
        /// The child's scheme.
        scheme: String,
    },
    /// A `UrlPattern` child host is not within the parent's host pattern.
    #[error("host {child} not within {parent}")]
    HostNotWithin {
        /// The parent's host pattern.
        parent: String,
        /// The child's host pattern.
        child: String,
    },
    /// A `UrlPattern` child allows any host under a host-bound parent.
    #[error("child allows any host")]
    AnyHost,
    /// A `UrlPattern` child port differs from (or drops) the parent's.
    #[error("port {child:?} differs from {parent}")]
    PortDiffers {
        /// The parent's port.
        parent: u16,
        /// The child's port, if any.
        child: Option<u16>,
    },
    /// A `UrlPattern` child path is not within the parent's path pattern.
    #[error("path {child} not within {parent}")]
    PathNotWithin {
        /// The parent's path pattern.
        parent: String,
        /// The child's path pattern.
        child: String,
    },
    /// A `UrlPattern` child allows any path under a path-bound parent.
    #[error("child allows any path")]
    AnyPath,
    /// A `Subpath` child root, or a path of a `Subset`/`Exact` list child, is
    /// not contained under the parent's root.
    #[error("{path} is not under {root}")]
    PathNotUnder {
        /// The child's root or path.
        path: String,
        /// The parent's root.
        root: String,
    },
    /// A case-sensitive `Subpath` parent with a case-insensitive child.
    #[error("cannot become case-insensitive")]
    BecomesCaseInsensitive,
    /// A `Subpath` child admits its root where the parent does not.
    #[error("cannot enable allow_equal")]
    EnablesAllowEqual,
    /// A `UrlSafe` child allows a scheme the parent does not.
    #[error("scheme {scheme} not in parent")]
    SchemeNotInParent {
        /// The child's scheme.
        scheme: String,
    },
    /// A `UrlSafe` child turns off a blocking flag the parent has on.
    #[error("cannot disable {0}")]
    CannotDisable(
        /// The flag, e.g. `"block_private"`.
        &'static str,
    ),
    /// A `UrlSafe` child has no port allow list where the parent has one.
    #[error("child must keep a port allow list")]
    DropsPortList,
    /// A `UrlSafe` child allows a port the parent does not.
    #[error("port {0} not in parent")]
    PortNotInParent(
        /// The child's port.
        u16,
    ),
    /// A `UrlSafe` child has no domain allow list where the parent has one.
    #[error("child must keep a domain allow list")]
    DropsDomainList,
    /// A `UrlSafe` child allows a domain no parent domain pattern covers.
    #[error("domain {domain} not covered by parent")]
    DomainNotCovered {
        /// The child's domain pattern.
        domain: String,
    },
    /// A `UrlSafe` child has no deny list where the parent has one.
    #[error("child must keep the deny list")]
    DropsDenyList,
    /// A `UrlSafe` child no longer denies a domain the parent denies.
    #[error("child drops denied domain {domain}")]
    DropsDeniedDomain {
        /// The parent's denied domain pattern.
        domain: String,
    },
}

#[cfg(test)]
mod tests {
    use super::Widening as W;
    use crate::constraint::{ArgValue, AttenuationError, Constraint, Range, Subpath, UrlSafe};

    fn s(text: &str) -> String {
        text.to_owned()
    }

    /// Each variant against the text its call site used to `format!`.
    #[test]
    fn display_matches_the_former_messages() {
        let table = [
            (
                W::ValueNotAdmitted { value: s("\"b\"") },
                "parent does not admit \"b\"",
            ),
            (
                W::ExactDiffers {
                    parent: s("1"),
                    child: s("2"),
                },
                "2 differs from 1",
            ),
            (
                W::ExtraMember { value: s("\"b\"") },
                "child allows \"b\" which the parent does not",
            ),
            (W::DroppedMember { value: s("2") }, "child drops 2"),
            (
                W::CommandNotAllowed {
                    command: s("rm \"x"),
                },
                r#"command "rm \"x" not in parent allow list"#,
            ),
            (
                W::NotSubnet {
                    parent: s("10.0.0.0/8"),
                    child: s("11.0.0.0/8"),
                },
                "11.0.0.0/8 is not a subnet of 10.0.0.0/8",
            ),
            (
                W::PatternNotNarrower {
                    parent: s("a*"),
                    child: s("b*"),
                },
                "`b*` does not narrow `a*`",
            ),
            (
                W::RegexDiffers,
                "regex attenuation requires an identical expression",
            ),
            (
                W::CelNotConjunction,
                "child CEL must be '(parent) && (predicate)'",
            ),
            (
                W::EmptyAll,
                "All with an empty constraints array is invalid",
            ),
            (
                W::NoConjunctNarrows {
                    conjunct: s("Pattern(a*)"),
                },
                "no child conjunct narrows parent Pattern(a*)",
            ),
            (
                W::ExactRejectedByConjunct {
                    conjunct: s("NotOneOf([\"ab\"])"),
                },
                "exact value is rejected by NotOneOf([\"ab\"])",
            ),
            (
                W::BranchNarrowsNothing {
                    branch: s("Exact(\"c\")"),
                },
                "child branch Exact(\"c\") narrows no parent branch",
            ),
            (
                W::NotInnerNotWider,
                "child's inner constraint must be at least as permissive as the parent's",
            ),
            (
                W::MinBelow {
                    parent: s("0.5"),
                    child: s("0.25"),
                },
                "child min 0.25 below parent min 0.5",
            ),
            (
                W::MinMadeInclusive { min: s("0.5") },
                "child makes exclusive min 0.5 inclusive",
            ),
            (W::MinDropped { min: s("0.5") }, "child drops min 0.5"),
            (
                W::MaxAbove {
                    parent: s("10"),
                    child: s("10.5"),
                },
                "child max 10.5 above parent max 10",
            ),
            (
                W::MaxMadeInclusive { max: s("10") },
                "child makes exclusive max 10 inclusive",
            ),
            (W::MaxDropped { max: s("10") }, "child drops max 10"),
            (W::AnyScheme, "child allows any scheme"),
            (
                W::SchemeNotAllowed { scheme: s("http") },
                "scheme http not allowed by parent",
            ),
            (
                W::HostNotWithin {
                    parent: s("*.a.com"),
                    child: s("b.com"),
                },
                "host b.com not within *.a.com",
            ),
            (W::AnyHost, "child allows any host"),
            (
                W::PortDiffers {
                    parent: 8443,
                    child: None,
                },
                "port None differs from 8443",
            ),
            (
                W::PortDiffers {
                    parent: 8443,
                    child: Some(9443),
                },
                "port Some(9443) differs from 8443",
            ),
            (
                W::PathNotWithin {
                    parent: s("/api/*"),
                    child: s("/other/*"),
                },
                "path /other/* not within /api/*",
            ),
            (W::AnyPath, "child allows any path"),
            (
                W::PathNotUnder {
                    path: s("/etc"),
                    root: s("/data"),
                },
                "/etc is not under /data",
            ),
            (W::BecomesCaseInsensitive, "cannot become case-insensitive"),
            (W::EnablesAllowEqual, "cannot enable allow_equal"),
            (
                W::SchemeNotInParent { scheme: s("ftp") },
                "scheme ftp not in parent",
            ),
            (
                W::CannotDisable("block_private"),
                "cannot disable block_private",
            ),
            (W::DropsPortList, "child must keep a port allow list"),
            (W::PortNotInParent(8080), "port 8080 not in parent"),
            (W::DropsDomainList, "child must keep a domain allow list"),
            (
                W::DomainNotCovered { domain: s("b.com") },
                "domain b.com not covered by parent",
            ),
            (W::DropsDenyList, "child must keep the deny list"),
            (
                W::DropsDeniedDomain {
                    domain: s("evil.com"),
                },
                "child drops denied domain evil.com",
            ),
        ];
        for (widening, text) in table {
            assert_eq!(widening.to_string(), text, "{widening:?}");
        }
    }

    /// The constraint name, cause and full message of a refused attenuation.
    fn widening(parent: &Constraint, child: &Constraint) -> (&'static str, W, String) {
        let error = parent.check_attenuation(child).expect_err("child is wider");
        let text = error.to_string();
        match error {
            AttenuationError::NotNarrower {
                constraint,
                widening,
            } => (constraint, widening, text),
            other => panic!("expected NotNarrower, got {other:?}"),
        }
    }

    #[test]
    fn check_attenuation_reports_the_variant() {
        let range = |min, max| Constraint::range(min, max).expect("finite");
        let (constraint, w, text) = widening(
            &range(Some(0.5), Some(10.0)),
            &range(Some(0.25), Some(10.0)),
        );
        assert_eq!(constraint, "Range");
        assert!(matches!(&w, W::MinBelow { parent, child } if parent == "0.5" && child == "0.25"));
        assert_eq!(
            text,
            "Range: child is not narrower than parent: child min 0.25 below parent min 0.5"
        );
        let exclusive = Constraint::Range(
            Range::new(Some(0.0), Some(10.0))
                .expect("finite")
                .max_exclusive(),
        );
        let (_, w, _) = widening(&exclusive, &range(Some(0.0), Some(10.0)));
        assert!(matches!(&w, W::MaxMadeInclusive { max } if max == "10"));
        let (_, w, _) = widening(&range(Some(0.0), Some(10.0)), &Constraint::exact(11));
        assert!(matches!(&w, W::ValueNotAdmitted { value } if value == "11"));

        let safe = |f: fn(&mut UrlSafe)| {
            let mut config = UrlSafe::new();
            f(&mut config);
            Constraint::url_safe(config).expect("valid")
        };
        let (constraint, w, _) = widening(&safe(|_| {}), &safe(|u| u.block_loopback = false));
        assert_eq!(constraint, "UrlSafe");
        assert!(matches!(w, W::CannotDisable("block_loopback")));
        let (_, w, text) = widening(
            &safe(|u| u.allow_ports = Some(vec![443])),
            &safe(|u| u.allow_ports = Some(vec![443, 8080])),
        );
        assert!(matches!(w, W::PortNotInParent(8080)));
        assert_eq!(
            text,
            "UrlSafe: child is not narrower than parent: port 8080 not in parent"
        );
        let (_, w, _) = widening(
            &safe(|u| u.deny_domains = Some(vec!["bad.com".into()])),
            &safe(|_| {}),
        );
        assert!(matches!(w, W::DropsDenyList));

        let subpath = |root, case_sensitive, allow_equal| {
            Constraint::Subpath(Subpath::new(root, case_sensitive, allow_equal).expect("absolute"))
        };
        let (constraint, w, _) =
            widening(&subpath("/data", true, true), &subpath("/etc", true, true));
        assert_eq!(constraint, "Subpath");
        assert!(matches!(&w, W::PathNotUnder { path, root } if path == "/etc" && root == "/data"));
        let (_, w, _) = widening(
            &subpath("/data", true, true),
            &subpath("/data/x", false, true),
        );
        assert!(matches!(w, W::BecomesCaseInsensitive));
        let (_, w, _) = widening(
            &subpath("/data", true, true),
            &Constraint::Exact(ArgValue::List(vec!["/data/a".into(), "/var".into()])),
        );
        assert!(matches!(&w, W::PathNotUnder { path, .. } if path == "/var"));

        let (constraint, w, text) =
            widening(&Constraint::one_of(["a"]), &Constraint::one_of(["a", "b"]));
        assert_eq!(constraint, "OneOf");
        assert!(matches!(&w, W::ExtraMember { value } if value == "\"b\""));
        assert_eq!(
            text,
            "OneOf: child is not narrower than parent: child allows \"b\" which the parent does not"
        );
        let (constraint, w, _) = widening(
            &Constraint::not_one_of(["a", "b"]),
            &Constraint::not_one_of(["a"]),
        );
        assert_eq!(constraint, "NotOneOf");
        assert!(matches!(&w, W::DroppedMember { value } if value == "\"b\""));
    }
}
