//! Reports: one data model of a run, one module per output format, each
//! returning bytes.

pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod table;

use crate::audit::PageResult;
use crate::capture::{evidence_of, Event, ReadBack};
use crate::checks::Session;
use crate::finding::{Evidence, Finding};
use crate::rules::{Group, Severity};
use crate::settings::SettingsReport;
use crate::verdict::{Cell, Counts, Verdict};
use serde::{Deserialize, Serialize};

/// The JSON report (schema_version 1; README, "JSON report").
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// Always 1.
    pub schema_version: u32,
    /// Which tool wrote it.
    pub tool: Tool,
    /// RFC 3339 start time.
    pub started_at: String,
    /// Wall time of the run.
    pub duration_ms: u64,
    /// Counts.
    pub summary: Summary,
    /// Every audited page, in audit order.
    pub pages: Vec<PageReport>,
    /// The step history of each scenario (`run` and `demo`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scenarios: Vec<ScenarioReport>,
    /// Accept entries that expired or matched nothing in the run.
    #[serde(default)]
    pub settings: SettingsReport,
    /// Crawled URLs that were not audited, with why (a redirect out of scope).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skipped>,
    /// What happened to the run itself (a browser restart).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<crate::finding::Note>,
    /// Links found on a shard's pages that it did not follow (`--shard`,
    /// `--urls`): the page list of the next full run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discovered: Vec<String>,
    /// False for a report rebuilt from a journal, which does not say which
    /// accept entries went unused.
    #[serde(skip, default = "yes")]
    pub settings_known: bool,
}

fn yes() -> bool {
    true
}

/// A crawled URL that was not audited (the JSON report's `skipped`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// The URL the crawl took.
    pub url: String,
    /// The scenario whose crawl took it.
    pub scenario: String,
    /// Why it was not audited.
    pub reason: String,
    /// Where it tried to go, for a redirect out of scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// The steps one scenario ran.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioReport {
    /// The scenario's name.
    pub name: String,
    /// Every step in order, secrets masked.
    pub steps: Vec<crate::journey::StepRecord>,
}

/// The tool's name and version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tool {
    /// `insider-audit`.
    pub name: String,
    /// The crate version.
    pub version: String,
}

/// Counts over the run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Pages audited.
    pub pages: usize,
    /// Pages without an error finding (accepted ones do not count).
    pub passed: usize,
    /// Pages with at least one error finding (accepted ones do not count).
    pub failed: usize,
    /// Error findings, not accepted.
    pub errors: usize,
    /// Warning findings, not accepted.
    pub warnings: usize,
    /// Accepted findings, counted apart (whatever their severity).
    #[serde(default)]
    pub accepted: usize,
}

/// Reads the JSON report at `path` (written by `--format json`); a file that
/// is not one is named with the position and what to give instead.
pub fn read_json_report(path: &std::path::Path) -> Result<Report, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read the report: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}:{}:{}: not an insider-audit JSON report ({}): give files written by --format json",
            path.display(),
            e.line(),
            e.column(),
            crate::error::serde_message(&e)
        )
    })
}

impl Summary {
    /// The counts over `pages`.
    pub fn of(pages: &[PageReport]) -> Self {
        let mut summary = Summary {
            pages: pages.len(),
            ..Summary::default()
        };
        for page in pages {
            let counts = page.counts();
            summary.errors += counts.errors;
            summary.warnings += counts.warnings;
            summary.accepted += page.accepted().count();
            if counts.verdict().passed() {
                summary.passed += 1;
            } else {
                summary.failed += 1;
            }
        }
        summary
    }
}

/// One push as recorded, for the report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushReport {
    /// Execution order on the page.
    pub seq: u64,
    /// Milliseconds since navigation start.
    pub t: f64,
    /// The pushed value (`{"$js": ...}` marks what JSON cannot hold).
    pub value: serde_json::Value,
    /// Who pushed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
}

/// One audited page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PageReport {
    /// The URL asked for.
    pub url: String,
    /// The URL the page ended on.
    pub final_url: Option<String>,
    /// The scenario the page was audited in (its name in the file).
    pub scenario: String,
    /// Whether the page was audited as logged in.
    pub logged_in: bool,
    /// HTTP status of the document.
    pub status: Option<u16>,
    /// Milliseconds to the load event.
    pub load_ms: Option<u64>,
    /// What the read-back expression returned after settling (null if nothing).
    pub user: serde_json::Value,
    /// Every push onto the queue, in execution order.
    pub pushes: Vec<PushReport>,
    /// A screenshot of the page, relative to the report's directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screenshot: Option<String>,
    /// Dialogs the page opened (dismissed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dialogs: Vec<crate::capture::Dialog>,
    /// What was found.
    pub findings: Vec<Finding>,
    /// Where the page tried to navigate out of scope after it loaded (it was
    /// held there and judged on what it did before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_to: Option<String>,
    /// What the audit could not observe on this page, or may see otherwise
    /// than the page does without it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<crate::finding::Note>,
}

impl Report {
    /// Builds the report of a run.
    pub fn new(
        results: &[PageResult],
        started_at: chrono::DateTime<chrono::Utc>,
        duration_ms: u64,
    ) -> Self {
        let pages: Vec<PageReport> = results.iter().map(PageReport::from_result).collect();
        Report {
            schema_version: 1,
            tool: Tool {
                name: "insider-audit".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            started_at: started_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            duration_ms,
            summary: Summary::of(&pages),
            pages,
            scenarios: Vec::new(),
            settings: SettingsReport::default(),
            skipped: Vec::new(),
            notes: Vec::new(),
            discovered: Vec::new(),
            settings_known: true,
        }
    }

    /// Adds what the run's settings left unapplied (expired and unused entries).
    pub fn with_settings(mut self, settings: SettingsReport) -> Self {
        self.settings = settings;
        self
    }

    /// Adds the URLs the crawl skipped, the notes of the run, and the links a
    /// sharded run found but did not follow.
    pub fn with_run_facts(
        mut self,
        skipped: Vec<Skipped>,
        notes: Vec<crate::finding::Note>,
        discovered: Vec<String>,
    ) -> Self {
        self.skipped = skipped;
        self.notes = notes;
        self.discovered = discovered;
        self
    }

    /// Adds the step history of the scenarios that produced the pages.
    pub fn with_scenarios(mut self, scenarios: Vec<ScenarioReport>) -> Self {
        self.scenarios = scenarios;
        self
    }

    /// The scenarios of the pages, once each, in report order.
    pub fn scenario_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for page in &self.pages {
            if !names.contains(&page.scenario.as_str()) {
                names.push(&page.scenario);
            }
        }
        names
    }

    /// Whether a finding that counts (not accepted) is at or above `threshold`
    /// (`None`: never fail).
    pub fn fails_at(&self, threshold: Option<Severity>) -> bool {
        threshold.is_some_and(|t| {
            self.pages
                .iter()
                .flat_map(PageReport::counted)
                .any(|f| f.severity >= t)
        })
    }
}

impl PageReport {
    /// The report of one audited page.
    pub fn from_result(result: &PageResult) -> Self {
        let capture = &result.capture;
        let pushes = capture
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Push {
                    seq,
                    t,
                    location,
                    value,
                    ..
                } => Some(PushReport {
                    seq: *seq,
                    t: *t,
                    value: value.to_json(),
                    evidence: evidence_of(location),
                }),
                _ => None,
            })
            .collect();
        let user = match &capture.readback {
            Some(ReadBack::Value { value }) => match value {
                crate::jsvalue::JsValue::Undefined => serde_json::Value::Null,
                other => other.to_json(),
            },
            Some(ReadBack::Threw { message }) => {
                serde_json::json!({ "$js": format!("threw: {message}") })
            }
            None => serde_json::Value::Null,
        };
        PageReport {
            url: capture.url.clone(),
            final_url: capture.final_url.clone(),
            scenario: result.target.scenario.clone(),
            logged_in: result.target.context.session == Session::LoggedIn,
            status: capture.status,
            load_ms: capture.load_ms,
            user,
            pushes,
            screenshot: result.screenshot.clone(),
            left_to: capture.left_to.clone(),
            notes: crate::checks::notes(capture),
            dialogs: capture.dialogs.clone(),
            findings: result.findings.clone(),
        }
    }
}

impl PageReport {
    /// The findings that count for the verdict and `--fail-on` (not accepted).
    pub fn counted(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.counts())
    }

    /// The accepted findings.
    pub fn accepted(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| !f.counts())
    }

    /// Whether a group's rules could apply to the page at all (else `n/a`).
    fn applies(&self, group: Group) -> bool {
        if self.findings.iter().any(|f| f.rule.group() == Group::Page) {
            return group == Group::Page;
        }
        let user_push = self
            .pushes
            .iter()
            .any(|p| p.value.get("type").and_then(|t| t.as_str()) == Some("user"));
        match group {
            Group::Queue | Group::Order | Group::Page => true,
            Group::UserPush => user_push || self.logged_in,
            Group::Attributes | Group::Session => user_push,
            Group::Login => self.logged_in,
            Group::Sdk => !self.pushes.is_empty(),
        }
    }

    /// The counted findings' errors and warnings.
    pub fn counts(&self) -> Counts {
        Counts::of(&self.findings)
    }

    /// A compliance-table cell (README, "Reports") for `group`; accepted findings do
    /// not count.
    pub fn cell(&self, group: Group) -> Cell {
        let counts = Counts::of(self.findings.iter().filter(|f| f.rule.group() == group));
        Cell::of(counts, self.applies(group))
    }

    /// The page's verdict; accepted findings do not count.
    pub fn verdict(&self) -> Verdict {
        self.counts().verdict()
    }

    /// The page as a row label: its path (a redirect shows where it ended: `/logout → /`).
    pub fn label(&self) -> String {
        let asked = path_of(&self.url);
        match self.final_url.as_deref().map(path_of) {
            Some(landed) if landed != asked && self.status.is_some() => {
                format!("{asked} → {landed}")
            }
            _ => asked,
        }
    }
}

/// The path (and query) of a URL, or the URL itself when it does not parse.
fn path_of(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(url) => match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        },
        Err(_) => url.to_string(),
    }
}

/// An output format.
pub trait Format {
    /// Renders the report.
    fn render(&self, report: &Report) -> Vec<u8>;
}
