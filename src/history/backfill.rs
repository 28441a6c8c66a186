//! `history record`: earlier runs read from their JSON reports or journals
//! (`pages.jsonl`, the run's own record), every file checked before anything
//! is recorded, oldest run first.

use super::cli::RecordArgs;
use super::model::{run_from_report, RunInput, RunMeta};
use super::HistoryError;
use std::path::{Path, PathBuf};

/// The `run` object a report carries (interface.md, "Identity"), when it does.
#[derive(Debug, Default, serde::Deserialize)]
struct Envelope {
    #[serde(default)]
    run: Option<RunIdentity>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct RunIdentity {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    suite: Option<String>,
    #[serde(default)]
    shard: Option<String>,
    #[serde(default)]
    rules_version: Option<String>,
    /// The branch and label the run was recorded with, when the report
    /// carries them (`--branch` and `--label` of `history record` win).
    #[serde(default)]
    branch: Option<String>,
    #[serde(default)]
    label: Option<String>,
}

/// The report files named by `inputs` (a directory: its `*.json` files).
fn files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, HistoryError> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(input)
                .map_err(|e| {
                    HistoryError::Usage(format!(
                        "{}: cannot read the directory: {e}",
                        input.display()
                    ))
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            if found.is_empty() {
                let journal = input.join(crate::journal::FILE_NAME);
                if journal.exists() {
                    files.push(journal);
                    continue;
                }
                return Err(HistoryError::Usage(format!(
                    "{}: no JSON report or journal in this directory",
                    input.display()
                )));
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(input.clone());
        }
    }
    Ok(files)
}

/// The run one report file or journal describes.
fn run_of(path: &Path, args: &RecordArgs) -> Result<RunInput, HistoryError> {
    if path.extension().is_some_and(|e| e == "jsonl") {
        let (head, _, end) = crate::journal::report_of(path).map_err(HistoryError::Usage)?;
        let (_, branch, label, _) = args.meta();
        let mut run = super::from_journal::run_from_journal(
            path,
            &head,
            end.as_ref(),
            super::from_journal::RunContext {
                branch: branch.map(str::to_string),
                label: label.map(str::to_string),
                ..Default::default()
            },
        )
        .map_err(HistoryError::Usage)?;
        if let (Some(suite), _, _, _) = args.meta() {
            run.suite = suite.to_string();
        }
        return Ok(run);
    }
    let report = crate::report::read_json_report(path).map_err(HistoryError::Usage)?;
    if report.schema_version != 1 {
        return Err(HistoryError::Usage(format!(
            "{}: schema_version {} is not one this insider-audit reads (1)",
            path.display(),
            report.schema_version
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| {
        HistoryError::Usage(format!("{}: cannot read the report: {e}", path.display()))
    })?;
    let envelope: Envelope = serde_json::from_str(&text).map_err(|e| {
        HistoryError::Usage(format!(
            "{}: its \"run\" is not a run identity: {e}",
            path.display()
        ))
    })?;
    let identity = envelope.run.unwrap_or_default();
    let (suite, branch, label, complete) = args.meta();
    let suite = suite
        .map(str::to_string)
        .or(identity.suite)
        .or_else(|| {
            let first = report.pages.first()?;
            url::Url::parse(&first.url)
                .ok()
                .map(|u| u.origin().ascii_serialization())
        })
        .ok_or_else(|| {
            HistoryError::Usage(format!(
                "{}: the report names no suite and has no page: give --suite",
                path.display()
            ))
        })?;
    // A report without a run id gets one from its content, so recording the
    // same file twice is refused like any run id already held.
    let id = identity
        .id
        .unwrap_or_else(|| format!("report-{:016x}", super::states::stable_id(&[&text]) as u64));
    Ok(run_from_report(
        &report,
        RunMeta {
            id,
            suite,
            shard: identity.shard,
            branch: branch.map(str::to_string).or(identity.branch),
            label: label.map(str::to_string).or(identity.label),
            rules_version: identity.rules_version,
            complete,
            ..RunMeta::default()
        },
    ))
}

/// Every run named by `inputs`, oldest first; the first file that is not a
/// report stops it all before anything is recorded.
pub(crate) fn runs_of(
    inputs: &[PathBuf],
    args: &RecordArgs,
) -> Result<Vec<RunInput>, HistoryError> {
    let mut runs = files(inputs)?
        .iter()
        .map(|f| run_of(f, args))
        .collect::<Result<Vec<_>, _>>()?;
    runs.sort_by_key(|r| r.started_at);
    Ok(runs)
}
