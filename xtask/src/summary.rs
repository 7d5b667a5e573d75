//! The CI job summary: GitHub gives every step one Markdown file to append to
//! (`GITHUB_STEP_SUMMARY`), and the xtasks add their tables there.

use std::io::Write as _;
use std::path::Path;

use anyhow::Result;

/// Appends `table` under a `### heading`, as preformatted text.
pub(crate) fn append(path: &Path, heading: &str, table: &str) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    writeln!(file, "### {heading}\n\n```text\n{}\n```\n", table.trim())?;
    Ok(())
}
