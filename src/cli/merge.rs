//! `merge`: one report from shard reports or journals, in every format asked
//! for, written from the merged journal in `--out-dir`.

use super::options::Common;
use super::output::{output_targets, write_reports};
use crate::error::{ExitCode, Fatal};
use std::path::PathBuf;

pub(super) fn merge_reports(
    inputs: &[PathBuf],
    common: &Common,
    quiet: bool,
) -> Result<ExitCode, Fatal> {
    let targets = output_targets(common)?;
    let journal = crate::merge::merge(inputs, &common.out_dir).map_err(Fatal::Usage)?;
    let (head, pages, _) = crate::journal::report_of(&journal).map_err(Fatal::Usage)?;
    write_reports(&head, &pages, &targets, common, quiet)?;
    Ok(ExitCode::of_findings(head.fails_at(common.threshold())))
}
