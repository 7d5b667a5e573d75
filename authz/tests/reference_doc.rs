//! `docs/reference.md` names everything the code defines for users: every deny
//! reason (§2), every metric the server registers (§4) and every environment
//! variable the server reads (§5). A reason, metric or setting added without its
//! line in the reference fails here.

use tenuo_authz::DenyReason;

fn reference() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/reference.md");
    std::fs::read_to_string(path).expect("docs/reference.md")
}

/// The text of section `n` (from its `## n.` heading to the next heading).
fn section(doc: &str, n: u8) -> &str {
    let start = doc
        .find(&format!("\n## {n}. "))
        .unwrap_or_else(|| panic!("no section {n}"));
    let rest = &doc[start + 1..];
    let end = rest[1..].find("\n## ").map_or(rest.len(), |i| i + 1);
    &rest[..end]
}

#[test]
fn every_deny_reason_is_in_section_2() {
    let doc = reference();
    let reasons = section(&doc, 2);
    for reason in DenyReason::ALL {
        assert!(
            reasons.contains(&format!("| `{}` |", reason.as_str())),
            "{reason} has no row in docs/reference.md §2"
        );
    }
}

#[test]
fn every_exported_metric_is_in_section_4() {
    let doc = reference();
    let metrics_doc = section(&doc, 4);
    // Every name the server registers or collects (a family with no sample yet is
    // absent from a scrape, so the names come from the source).
    let sources = [
        include_str!("../src/server/metrics.rs"),
        include_str!("../src/server/metrics/process.rs"),
    ];
    let names: Vec<&str> = sources
        .iter()
        .flat_map(|source| source.split('"').skip(1).step_by(2))
        .filter(|q| (q.starts_with("tenuo_") || q.starts_with("process_")) && !q.contains(' '))
        .collect();
    assert!(names.len() >= 16, "only {names:?}: the scan is broken");
    for name in names {
        // Counters are registered without the `_total` their samples carry.
        let listed = metrics_doc.contains(&format!("`{name}`"))
            || metrics_doc.contains(&format!("`{name}_total`"));
        assert!(listed, "{name} is not in docs/reference.md §4");
    }
}

#[test]
fn every_setting_the_server_reads_is_in_section_5() {
    let doc = reference();
    let settings = section(&doc, 5);
    let sources = [
        include_str!("../src/server/config.rs"),
        include_str!("../src/server/reference_cli.rs"),
    ];
    let mut seen = 0;
    for source in sources {
        for quoted in source.split('"').skip(1).step_by(2) {
            let is_variable = quoted.len() >= 6
                && quoted.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
                && quoted.contains('_');
            if is_variable {
                seen += 1;
                assert!(
                    settings.contains(&format!("`{quoted}")),
                    "{quoted} is read by the server but not in docs/reference.md §5"
                );
            }
        }
    }
    assert!(
        seen >= 20,
        "only {seen} variables found: the scan is broken"
    );
}
