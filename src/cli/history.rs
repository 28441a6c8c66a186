//! A run's memory (`--history`): the store a run is recorded in, and the end
//! of every auditing command: record the run from its journal (states and
//! run in one transaction), then write the reports with the states in them,
//! then decide the exit code (`--fail-on new` gates on what is new).

use super::notify::changes_of;
use super::options::Common;
use super::options::FormatKind;
use super::output::{write_reports, Destination};
use crate::error::{ExitCode, Fatal};
use crate::history::from_journal::{run_from_journal, RunContext, WithHistory};
use crate::history::{fails_new, record, Baseline, Store};
use crate::journal::RunEnd;
use crate::notify::RunDigest;
use crate::report::{Head, Pages};
use std::path::Path;

/// Where and how a run is recorded.
pub(super) struct Memory {
    store: Store,
    baseline: Baseline,
    context: RunContext,
    require_baseline: bool,
}

/// The history of this command: `--history`, else `INSIDER_AUDIT_HISTORY`
/// (not for a shard, which `merge --history` records once), none with
/// `--no-history`.
pub(super) fn memory_of(common: &Common, shard: bool) -> Result<Option<Memory>, Fatal> {
    if shard && common.history.is_some() {
        return Err(Fatal::Usage(
            "a --shard run is not recorded on its own: give --history to `merge`, which records the sharded run once".into(),
        ));
    }
    let from_env = || {
        std::env::var("INSIDER_AUDIT_HISTORY")
            .ok()
            .filter(|s| !s.is_empty() && !shard)
    };
    let store = match common.no_history {
        true => None,
        false => common.history.clone().or_else(from_env),
    };
    let Some(store) = store else {
        if common.fail_on.only_new() || common.require_baseline {
            return Err(Fatal::Usage(
                "--fail-on new and --require-baseline compare with the history: give --history STORE (a SQLite file or a postgres:// URL) or set INSIDER_AUDIT_HISTORY".into(),
            ));
        }
        return Ok(None);
    };
    let baseline: Baseline = common.baseline.parse().map_err(Fatal::Usage)?;
    Ok(Some(Memory {
        store: Store::parse(&store),
        baseline,
        context: RunContext::from_env(common.branch.as_deref(), common.label.as_deref()),
        require_baseline: common.require_baseline,
    }))
}

/// Records the run of the journal at `journal` (when it has a memory),
/// writes its reports, and says the exit code; `digest` gains the run's
/// states for its message.
#[allow(clippy::too_many_arguments)]
pub(super) async fn record_and_report(
    journal: &Path,
    mut head: Head,
    pages: &dyn Pages,
    end: Option<&RunEnd>,
    memory: Option<Memory>,
    targets: &[(FormatKind, Destination)],
    common: &Common,
    quiet: bool,
    digest: &mut Option<RunDigest>,
) -> Result<ExitCode, Fatal> {
    let threshold = common.threshold();
    let Some(memory) = memory else {
        write_reports(&head, pages, targets, common, quiet)?;
        return Ok(ExitCode::of_findings(head.fails_at(threshold)));
    };
    let mut context = memory.context;
    if !common.fail_on.only_new() {
        context.exit_code = Some(ExitCode::of_findings(head.fails_at(threshold)).code());
    }
    let recorded = match run_from_journal(journal, &head, end, context) {
        Ok(input) => match record(&memory.store, &input, &memory.baseline).await {
            Ok(recorded) => Ok((input, recorded)),
            Err(error) => Err(error.to_string()),
        },
        Err(error) => Err(error),
    };
    let (input, recorded) = match recorded {
        Ok(done) => done,
        Err(error) => {
            // Nothing audited is lost: the reports are written without history.
            write_reports(&head, pages, targets, common, quiet)?;
            return Err(Fatal::Internal(format!(
                "{error}; the reports were written without history"
            )));
        }
    };
    if let Some(digest) = digest {
        digest.changes = Some(changes_of(&input, &recorded));
    }
    let with_history = WithHistory::new(pages, journal, &input, &recorded, &mut head);
    write_reports(&head, &with_history, targets, common, quiet)?;
    if memory.require_baseline && recorded.baseline.is_none() {
        return Err(Fatal::Usage(format!(
            "--require-baseline: {} holds no baseline ({}) for suite {:?}: the run was recorded, every finding is new",
            recorded.store, recorded.baseline_spec, input.suite
        )));
    }
    let fails = match (common.fail_on.only_new(), threshold) {
        (true, Some(threshold)) => input
            .findings
            .iter()
            .zip(&recorded.findings)
            .any(|(finding, history)| fails_new(finding, history, threshold)),
        _ => head.fails_at(threshold),
    };
    Ok(ExitCode::of_findings(fails))
}
