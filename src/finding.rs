//! A finding: one rule broken on one page, as plain data (never an `Err`).

use crate::rules::{Rule, Severity};
use serde::{Deserialize, Serialize};

/// Where in the page's scripts a finding happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Evidence {
    /// The script URL (the page URL for inline scripts).
    pub script: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
}

/// The rule ids of `findings`, once each, in the order they first appear.
pub fn distinct_rules<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Vec<&'static str> {
    let mut ids: Vec<&'static str> = Vec::new();
    for f in findings {
        if !ids.contains(&f.rule.id()) {
            ids.push(f.rule.id());
        }
    }
    ids
}

/// One rule broken on one page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule id of the catalogue that found it.
    pub rule: Rule,
    /// The severity (the rule's default unless a scenario changed it).
    pub severity: Severity,
    /// The user attribute concerned, where there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    /// What is wrong, in words a QA person understands.
    pub message: String,
    /// The script position that caused it, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    /// The page view it concerns, on a document with several (a single-page
    /// app's route changes): that view's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<String>,
    /// Set when an `accept` entry of the settings covers it: still reported,
    /// never counted for `--fail-on` or the page's verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted: Option<Accepted>,
    /// Its place in the history of scheduled audits, when the run was
    /// recorded (`--history`): new, open or reopened, and since when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<FindingHistory>,
}

/// A finding compared with the earlier runs of its suite (interface.md,
/// "Finding states").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingState {
    /// Never seen in the suite before.
    New,
    /// The last run that audited its page and judged its rule had it.
    Open,
    /// Seen in some earlier run, but not in that last one.
    Reopened,
}

impl FindingState {
    /// `new`, `open`, `reopened`.
    pub fn word(self) -> &'static str {
        match self {
            FindingState::New => "new",
            FindingState::Open => "open",
            FindingState::Reopened => "reopened",
        }
    }
}

/// Where a finding was first seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstSeen {
    /// The run's id.
    pub run: String,
    /// When that run started (RFC 3339, UTC).
    pub at: String,
}

/// A finding's state and age (the JSON report's `history` of a finding).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingHistory {
    /// New, open or reopened.
    pub state: FindingState,
    /// The run that first had it.
    pub first_seen: FirstSeen,
    /// How many runs had it, this one included.
    pub runs_seen: u64,
}

impl FindingHistory {
    /// How reports show it: `new`, `reopened`, `open since 2026-11-02`.
    pub fn age(&self) -> String {
        match self.state {
            FindingState::Open => format!(
                "open since {}",
                self.first_seen.at.get(..10).unwrap_or(&self.first_seen.at)
            ),
            state => state.word().to_string(),
        }
    }
}

/// Why a finding is accepted for now (an `accept` entry of the settings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    /// The entry's reason, e.g. a ticket.
    pub reason: String,
    /// The last day (UTC, inclusive) the entry applies, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<chrono::NaiveDate>,
}

impl std::fmt::Display for Accepted {
    /// `REASON (until 2027-01-31)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)?;
        if let Some(until) = self.until {
            write!(f, " (until {until})")?;
        }
        Ok(())
    }
}

impl Finding {
    /// A finding of `rule` at its default severity.
    pub fn new(rule: Rule, message: impl Into<String>) -> Self {
        Finding {
            rule,
            severity: rule.severity(),
            attribute: None,
            message: message.into(),
            evidence: None,
            view: None,
            accepted: None,
            history: None,
        }
    }

    /// Names the page view it concerns, if the document had several.
    pub fn view(mut self, view: Option<&str>) -> Self {
        self.view = view.map(str::to_string);
        self
    }

    /// Names the attribute concerned.
    pub fn attribute(mut self, attribute: impl Into<String>) -> Self {
        self.attribute = Some(attribute.into());
        self
    }

    /// Attaches the script position, if known.
    pub fn evidence(mut self, evidence: Option<Evidence>) -> Self {
        self.evidence = evidence;
        self
    }

    /// One line for plain-text reports: `rule attribute: message (script:line)`.
    pub fn one_line(&self) -> String {
        let attr = self
            .attribute
            .as_deref()
            .map(|a| format!(" {a}"))
            .unwrap_or_default();
        let at = self
            .evidence
            .as_ref()
            .map(|e| format!(" ({}:{})", e.script, e.line))
            .unwrap_or_default();
        let view = self
            .view
            .as_deref()
            .map(|v| format!(" [view {v}]"))
            .unwrap_or_default();
        let age = self
            .history
            .as_ref()
            .map(|h| format!(" [{}]", h.age()))
            .unwrap_or_default();
        format!("{}{attr}: {}{at}{view}{age}", self.rule, self.message)
    }

    /// Whether it counts for the verdict and `--fail-on` (it is not accepted).
    pub fn counts(&self) -> bool {
        self.accepted.is_none()
    }

    /// Overrides the severity.
    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }
}

/// What kind of thing a page note says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoteKind {
    /// The page made part of the queue unobservable (froze it, redefined a
    /// property): what happened after it could not be recorded.
    Unobservable,
    /// The browser died and was relaunched; the run went on (a run note).
    BrowserRestart,
    /// The page was still busy at `--max-settle`: judged on what it did until then.
    StillBusy,
    /// The page did more than the audit keeps: queue events past the
    /// recorder's bound (not judged), links past the crawl's cap (not followed).
    Truncated,
    /// The page tests the queue's existence with `in` or `hasOwnProperty`,
    /// whose outcome under the audit may differ before the queue exists.
    ExistenceTest,
}

/// A fact about how a page was audited that is not a finding: what the tool
/// could not observe, or where its view may differ from the page's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// What kind of note.
    pub kind: NoteKind,
    /// What it means for this page, in words.
    pub message: String,
}
