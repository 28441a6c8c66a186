//! `--notify`, `--notify-on`, `--report-url`: the message an auditing command
//! sends once its run is recorded and its reports written. The run's facts
//! are gathered into a [`RunDigest`] as the command goes; whatever becomes of
//! the message, the exit code stays the run's.

use super::options::Common;
use crate::error::{ExitCode, Fatal};
use crate::history::{FindingKey, Recorded, RunInput, State};
use crate::notify::{self, Changes, Item, NotifyOn, RunDigest, Webhook};
use crate::report::Head;
use crate::rules::Severity;

/// Where a run's message goes and when, validated before the run starts.
pub(super) struct Notifier {
    webhooks: Vec<Webhook>,
    on: NotifyOn,
    report_url: Option<String>,
    /// New findings at or above this count for `--notify-on new`.
    threshold: Severity,
}

impl Notifier {
    /// The webhooks of `--notify`, else of `INSIDER_AUDIT_NOTIFY` (URLs
    /// separated by spaces); `None` when there are none. A bad URL is a usage
    /// error that does not repeat the URL. A shard sends nothing (the sharded
    /// run is one run, and `merge` tells of it), like it records nothing.
    pub(super) fn of(common: &Common, shard: bool) -> Result<Option<Notifier>, Fatal> {
        if shard {
            return match common.notify.is_empty() {
                true => Ok(None),
                false => Err(Fatal::Usage(
                    "a --shard run sends no message of its own: give --notify to `merge`, which tells of the sharded run once".into(),
                )),
            };
        }
        let from_env = std::env::var("INSIDER_AUDIT_NOTIFY").unwrap_or_default();
        let urls: Vec<&str> = match common.notify.is_empty() {
            true => from_env.split_whitespace().collect(),
            false => common.notify.iter().map(String::as_str).collect(),
        };
        if urls.is_empty() {
            return Ok(None);
        }
        let webhooks = urls
            .into_iter()
            .map(Webhook::parse)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Fatal::Usage(format!("--notify: {e}")))?;
        Ok(Some(Notifier {
            webhooks,
            on: common.notify_on,
            report_url: common.report_url.clone(),
            threshold: common.threshold().unwrap_or(Severity::Error),
        }))
    }

    /// Sends the message of the run that ended with `result`, when
    /// `--notify-on` says so. `digest` is what the run got as far as; a run
    /// that stopped before it had one is named by `suite` and the run id
    /// asked for. Failures go to stderr, the URL redacted.
    pub(super) async fn after(
        &self,
        digest: Option<RunDigest>,
        result: &Result<ExitCode, Fatal>,
        suite: Option<&str>,
        common: &Common,
    ) {
        let exit_code = match result {
            Ok(code) => *code,
            Err(error) => error.exit_code(),
        };
        let mut digest = match digest {
            Some(digest) => digest,
            // Nothing audited and not a failure to run: a mistyped command.
            None if exit_code != ExitCode::CouldNotRun => return,
            None => RunDigest {
                suite: suite.unwrap_or("(unknown)").to_string(),
                run: common.run_id.clone().unwrap_or_default(),
                label: common.label.clone(),
                ..RunDigest::default()
            },
        };
        digest.exit_code = exit_code.code();
        if let (ExitCode::CouldNotRun, Err(error)) = (exit_code, result) {
            digest.error = Some(crate::redact::redact(&error.to_string()).into_owned());
        }
        if !notify::should_send(self.on, &digest, self.threshold) {
            tracing::debug!("--notify-on {:?}: no message for this run", self.on);
            return;
        }
        let body = notify::message(&digest, self.report_url.as_deref());
        for failure in notify::deliver(&self.webhooks, &body, notify::attempt_limit()).await {
            eprintln!("warning: {failure}");
        }
    }
}

/// What a run whose reports were written from `head` says before the history
/// adds its states.
pub(super) fn digest_of(head: &Head, label: Option<&str>) -> RunDigest {
    let run = head.run.as_ref();
    RunDigest {
        suite: run.map(|r| r.suite.clone()).unwrap_or_default(),
        run: run.map(|r| r.id.clone()).unwrap_or_default(),
        label: label.map(str::to_string),
        summary: Some(head.summary.clone()),
        ..RunDigest::default()
    }
}

/// The run's new, reopened and fixed findings as recorded. Accepted findings
/// are left out (they never fail a gate), except that one whose accept entry
/// expired counts as new, as it does for `--fail-on new`.
pub(super) fn changes_of(input: &RunInput, recorded: &Recorded) -> Changes {
    let mut changes = Changes::default();
    for (finding, history) in input.findings.iter().zip(&recorded.findings) {
        let item = || item_of(&finding.key, finding.severity, &finding.message);
        match history.state {
            _ if finding.accepted => {}
            State::Reopened => changes.reopened.push(item()),
            State::New => changes.new.push(item()),
            State::Open if finding.accept_expired => changes.new.push(item()),
            State::Open => {}
        }
    }
    changes.fixed = recorded
        .fixed
        .iter()
        .map(|gone| item_of(&gone.key, gone.severity, &gone.message))
        .collect();
    changes
}

fn item_of(key: &FindingKey, severity: Severity, message: &str) -> Item {
    Item {
        severity,
        rule: key.rule.id().to_string(),
        scenario: key.scenario.clone(),
        page: match key.view.is_empty() {
            true => key.path.clone(),
            false => format!("{} (view {})", key.path, key.view),
        },
        attribute: key.attribute.clone(),
        message: message.to_string(),
    }
}
