//! `diff`: what got fixed and what is new between two JSON reports.

use super::options::{DiffFormat, FailOn};
use super::output::write_stdout;
use crate::error::{ExitCode, Fatal};
use crate::report::{self, Report};

/// Reads a JSON report; a bad one is a usage error naming the file and position.
fn read_report(path: &std::path::Path) -> Result<Report, Fatal> {
    report::read_json_report(path).map_err(Fatal::Usage)
}

pub(super) fn diff_reports(
    old: &std::path::Path,
    new: &std::path::Path,
    format: DiffFormat,
    fail_on: FailOn,
) -> Result<ExitCode, Fatal> {
    let diff = crate::diff::diff(&read_report(old)?, &read_report(new)?);
    let text = match format {
        DiffFormat::Table => diff.table(),
        DiffFormat::Markdown => diff.markdown(),
        DiffFormat::Json => serde_json::to_string_pretty(&diff).expect("a diff serialises") + "\n",
    };
    write_stdout(text.as_bytes());
    Ok(ExitCode::of_findings(diff.fails_at(fail_on.threshold())))
}
