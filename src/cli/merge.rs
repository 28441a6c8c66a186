//! `merge`: one report from shard reports or journals, in every format asked
//! for, written from the merged journal in `--out-dir`; with `--history`, the
//! sharded run is recorded once (all shards of one run id, none missing
//! unless `--partial`).

use super::notify::{digest_of, Notifier};
use super::options::Common;
use super::output::output_targets;
use crate::error::{ExitCode, Fatal};
use crate::notify::RunDigest;
use std::path::PathBuf;

pub(super) async fn merge_reports(
    inputs: &[PathBuf],
    partial: bool,
    common: &Common,
    quiet: bool,
) -> Result<ExitCode, Fatal> {
    let Some(notifier) = Notifier::of(common, false)? else {
        return merge_run(inputs, partial, common, quiet, &mut None).await;
    };
    let mut digest = None;
    let result = merge_run(inputs, partial, common, quiet, &mut digest).await;
    notifier
        .after(digest, &result, common.suite.as_deref(), common)
        .await;
    result
}

/// Merges, records and reports; `digest` gathers what the message says.
async fn merge_run(
    inputs: &[PathBuf],
    partial: bool,
    common: &Common,
    quiet: bool,
    digest: &mut Option<RunDigest>,
) -> Result<ExitCode, Fatal> {
    let targets = output_targets(common)?;
    let memory = super::history::memory_of(common, false)?;
    let merged = crate::merge::merge(inputs, &common.out_dir).map_err(Fatal::Usage)?;
    if memory.is_some() {
        merged.check_shards(partial).map_err(Fatal::Usage)?;
    }
    let (head, pages, mut end) =
        crate::journal::report_of(&merged.journal).map_err(Fatal::Usage)?;
    *digest = Some(digest_of(&head, common.label.as_deref()));
    if partial && !merged.missing.is_empty() {
        // A partial run is never a baseline.
        if let Some(end) = &mut end {
            end.stopped = Some(format!("shards missing: {}", merged.missing.join(", ")));
        }
    }
    super::history::record_and_report(
        &merged.journal,
        head,
        &pages,
        end.as_ref(),
        memory,
        &targets,
        common,
        quiet,
        digest,
    )
    .await
}
