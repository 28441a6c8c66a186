//! Notifications (`--notify URL`): one chat message per run, after it is
//! recorded (interface.md, "Notifications"). Whether to send and what to send
//! are pure functions of plain data ([`RunDigest`]); [`send`] posts the message.

mod message;
mod send;

pub(crate) use message::message;
pub(crate) use send::{attempt_limit, deliver, Webhook};

use crate::report::Summary;
use crate::rules::Severity;

/// `--notify-on`: which runs send a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum NotifyOn {
    /// New or reopened findings at or above error (warning with `--fail-on
    /// warning` or `new:warning`), or a run that could not run (exit 3).
    #[default]
    New,
    /// A run that failed: exit 1 (findings) or 3 (could not run).
    Failed,
    /// Every run.
    Always,
}

/// What a message says of a run: plain data, gathered where the run ends.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct RunDigest {
    /// The suite the run belongs to.
    pub(crate) suite: String,
    /// The run id; empty when the run stopped before it had one.
    pub(crate) run: String,
    /// `--label TEXT`.
    pub(crate) label: Option<String>,
    /// The run's counts; `None` when nothing was audited.
    pub(crate) summary: Option<Summary>,
    /// The run's exit code.
    pub(crate) exit_code: u8,
    /// Why the run could not run (exit 3), already redacted.
    pub(crate) error: Option<String>,
    /// What changed since the baseline; `None` when the run was not recorded.
    pub(crate) changes: Option<Changes>,
}

/// The run's findings against its baseline (the history's states).
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Changes {
    /// Findings never seen in the suite (or whose accept entry expired).
    pub(crate) new: Vec<Item>,
    /// Findings seen before, but not in the last run that checked them.
    pub(crate) reopened: Vec<Item>,
    /// The baseline's findings this run checked and did not find.
    pub(crate) fixed: Vec<Item>,
}

/// One finding as a message names it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Item {
    /// Its severity (in the baseline, for a fixed one).
    pub(crate) severity: Severity,
    /// The rule's id.
    pub(crate) rule: String,
    /// The scenario.
    pub(crate) scenario: String,
    /// The page's path (and view) relative to the scenario's base URL.
    pub(crate) page: String,
    /// The attribute, empty when there is none.
    pub(crate) attribute: String,
    /// What is wrong, as the report says it.
    pub(crate) message: String,
}

/// Whether the run `digest` sends a message under `on`. `threshold` is the
/// lowest severity whose new findings count (error, or warning with
/// `--fail-on warning|new:warning`). A run that could not run (exit 3)
/// always does; without a history there are no new findings, so `new` sends
/// only for exit 3.
pub(crate) fn should_send(on: NotifyOn, digest: &RunDigest, threshold: Severity) -> bool {
    let could_not_run = digest.exit_code == 3;
    match on {
        NotifyOn::Always => true,
        NotifyOn::Failed => could_not_run || digest.exit_code == 1,
        NotifyOn::New => {
            could_not_run
                || digest.changes.as_ref().is_some_and(|changes| {
                    changes
                        .new
                        .iter()
                        .chain(&changes.reopened)
                        .any(|item| item.severity >= threshold)
                })
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn item(severity: Severity, message: &str) -> Item {
        Item {
            severity,
            rule: "attr-format".into(),
            scenario: "logged-in".into(),
            page: "/checkout".into(),
            attribute: "phone_number".into(),
            message: message.into(),
        }
    }

    fn digest(exit_code: u8, changes: Option<Changes>) -> RunDigest {
        RunDigest {
            suite: "shop".into(),
            run: "r1".into(),
            exit_code,
            changes,
            ..RunDigest::default()
        }
    }

    /// Every combination of `--notify-on`, exit code, history and what is new.
    #[test]
    fn which_runs_send() {
        let warning_new = Changes {
            new: vec![item(Severity::Warning, "w")],
            ..Changes::default()
        };
        let error_reopened = Changes {
            reopened: vec![item(Severity::Error, "e")],
            ..Changes::default()
        };
        let only_fixed = Changes {
            fixed: vec![item(Severity::Error, "gone")],
            ..Changes::default()
        };
        let histories = [
            ("no history", None),
            ("nothing new", Some(Changes::default())),
            ("only fixed", Some(only_fixed)),
            ("a new warning", Some(warning_new)),
            ("a reopened error", Some(error_reopened)),
        ];
        for exit_code in [0u8, 1, 2, 3] {
            for (name, changes) in &histories {
                let run = digest(exit_code, changes.clone());
                let case = format!("exit {exit_code}, {name}");
                assert!(
                    should_send(NotifyOn::Always, &run, Severity::Error),
                    "{case}"
                );
                assert_eq!(
                    should_send(NotifyOn::Failed, &run, Severity::Error),
                    exit_code == 1 || exit_code == 3,
                    "failed: {case}"
                );
                let new_error = *name == "a reopened error";
                let new_warning = new_error || *name == "a new warning";
                assert_eq!(
                    should_send(NotifyOn::New, &run, Severity::Error),
                    exit_code == 3 || new_error,
                    "new: {case}"
                );
                assert_eq!(
                    should_send(NotifyOn::New, &run, Severity::Warning),
                    exit_code == 3 || new_warning,
                    "new with --fail-on new:warning: {case}"
                );
            }
        }
    }
}
