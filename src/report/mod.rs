//! Reports: one data model of a run, one module per output format, each
//! returning bytes.

pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod table;

use crate::finding::{Evidence, Finding};
use crate::rules::{Group, Severity};
use crate::settings::SettingsReport;
use crate::verdict::{Cell, Counts, Verdict};
use serde::{Deserialize, Serialize};

/// The JSON report (schema_version 1; README, "JSON report"), as read back
/// from a file (`diff`, `merge`, `history record`). Reports are written as a
/// stream instead: a [`Head`] and the pages one at a time ([`Pages`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// Always 1.
    pub schema_version: u32,
    /// Which tool wrote it.
    pub tool: Tool,
    /// Which run it reports (absent in reports of earlier versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<RunInfo>,
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
    /// What the history store said of the run, when it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<RunHistory>,
}

/// What the history store said of a recorded run (`--history`): the baseline
/// it was compared with, and the baseline's findings it no longer has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunHistory {
    /// The store, its password redacted.
    pub store: String,
    /// The baseline run's id; `null` when the suite had none (all is new).
    pub baseline: Option<String>,
    /// The baseline as asked (`last`, `branch:main`, ...).
    pub baseline_spec: String,
    /// The baseline's findings this run checked and did not find.
    pub fixed: Vec<GoneFinding>,
    /// The baseline's findings this run could not check (page not audited,
    /// on another final path, or rule off).
    pub not_checked: Vec<GoneFinding>,
}

/// A finding of the baseline that this run does not have.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoneFinding {
    /// Its scenario.
    pub scenario: String,
    /// Its page's path and query, relative to the base URL.
    pub path: String,
    /// Its page view, when the document had several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<String>,
    /// Its rule.
    pub rule: crate::rules::Rule,
    /// Its attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    /// Its severity in the baseline.
    pub severity: Severity,
    /// Its message in the baseline.
    pub message: String,
}

/// Everything a report says besides its pages: what a first pass over the
/// journal gathers (counts, steps, skips, notes), small whatever the run's size.
#[derive(Debug, Clone)]
pub struct Head {
    /// Which tool wrote it.
    pub tool: Tool,
    /// Which run it reports.
    pub run: Option<RunInfo>,
    /// RFC 3339 start time.
    pub started_at: String,
    /// Wall time of the run.
    pub duration_ms: u64,
    /// Counts.
    pub summary: Summary,
    /// The scenarios of the pages, once each, in report order.
    pub scenario_names: Vec<String>,
    /// The step history of each scenario (`run` and `demo`).
    pub scenarios: Vec<ScenarioReport>,
    /// Accept entries that expired or matched nothing in the run.
    pub settings: SettingsReport,
    /// Crawled URLs that were not audited.
    pub skipped: Vec<Skipped>,
    /// What happened to the run itself.
    pub notes: Vec<crate::finding::Note>,
    /// Links a sharded run found and did not follow.
    pub discovered: Vec<String>,
    /// The most severe finding that counts (not accepted), for `--fail-on`.
    pub worst: Option<Severity>,
    /// The counts of each scenario's pages.
    pub by_scenario: std::collections::HashMap<String, Summary>,
    /// The rules with a finding on some page (counted or accepted).
    pub fired: std::collections::BTreeSet<crate::rules::Rule>,
    /// What the history store said of the run, when it was recorded.
    pub history: Option<RunHistory>,
    /// Findings that count and are new or reopened (a recorded run).
    pub fresh: usize,
}

impl Head {
    /// A head with nothing counted yet, for a run that started at `started_at`.
    pub fn new(run: Option<RunInfo>, started_at: String) -> Self {
        Head {
            tool: Tool::this(),
            run,
            started_at,
            duration_ms: 0,
            summary: Summary::default(),
            scenario_names: Vec::new(),
            scenarios: Vec::new(),
            settings: SettingsReport::default(),
            skipped: Vec::new(),
            notes: Vec::new(),
            discovered: Vec::new(),
            worst: None,
            fired: Default::default(),
            by_scenario: Default::default(),
            history: None,
            fresh: 0,
        }
    }

    /// Counts a page (the summary, its scenario, the worst finding).
    pub fn count(&mut self, page: &PageReport) {
        self.summary.add(page);
        self.by_scenario
            .entry(page.scenario.clone())
            .or_default()
            .add(page);
        if !self.scenario_names.contains(&page.scenario) {
            self.scenario_names.push(page.scenario.clone());
        }
        self.worst = self.worst.max(page.worst());
        self.fired.extend(page.findings.iter().map(|f| f.rule));
        self.fresh += page
            .counted()
            .filter(|f| {
                f.history
                    .as_ref()
                    .is_some_and(|h| h.state != crate::finding::FindingState::Open)
            })
            .count();
    }

    /// Whether a finding that counts (not accepted) is at or above `threshold`
    /// (`None`: never fail).
    pub fn fails_at(&self, threshold: Option<Severity>) -> bool {
        threshold.is_some_and(|t| self.worst.is_some_and(|w| w >= t))
    }
}

/// The pages of a report, in report order, read as often as a format needs
/// (each call is a fresh pass, e.g. over the journal on disk).
pub trait Pages {
    /// A pass over every page.
    fn pass(&self) -> Box<dyn Iterator<Item = Result<PageReport, String>> + '_>;
}

impl Pages for Vec<PageReport> {
    fn pass(&self) -> Box<dyn Iterator<Item = Result<PageReport, String>> + '_> {
        Box::new(self.iter().cloned().map(Ok))
    }
}

/// Which run a report is of (every report carries it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunInfo {
    /// The run id (`--run-id`, else a fresh UUID), shared by every shard.
    pub id: String,
    /// The suite the run belongs to.
    pub suite: String,
    /// `K/N` for a shard of a run.
    #[serde(default)]
    pub shard: Option<String>,
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

/// What a skipped page's reason starts with when the tool failed on it.
const INTERNAL_ERROR: &str = "internal error: ";

impl Skipped {
    /// A page the tool failed to audit (its own bug, e.g. a panic): not the
    /// site's fault, never replayed by `--resume`.
    pub fn internal_error(url: &str, scenario: &str, message: &str) -> Self {
        Skipped {
            url: url.to_string(),
            scenario: scenario.to_string(),
            reason: format!("{INTERNAL_ERROR}{message}"),
            to: None,
        }
    }

    /// Whether the tool failed on this page.
    pub fn is_internal_error(&self) -> bool {
        self.reason.starts_with(INTERNAL_ERROR)
    }
}

/// The steps one scenario ran.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioReport {
    /// The scenario's name.
    pub name: String,
    /// Every step in order, secrets masked.
    pub steps: Vec<StepRecord>,
}

/// One step as it ran, safe to show (secrets masked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// The step, e.g. `login step 2 (fill "#email" = ***)`.
    pub step: String,
    /// `ok` or `failed`.
    pub status: String,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The page URL after the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Its wall time.
    pub ms: u64,
}

/// The tool's name and version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tool {
    /// `insider-audit`.
    pub name: String,
    /// The crate version.
    pub version: String,
}

impl Tool {
    /// This build of insider-audit.
    pub fn this() -> Self {
        Tool {
            name: "insider-audit".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
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
        let mut summary = Summary::default();
        for page in pages {
            summary.add(page);
        }
        summary
    }

    /// Counts one more page.
    pub fn add(&mut self, page: &PageReport) {
        let counts = page.counts();
        self.pages += 1;
        self.errors += counts.errors;
        self.warnings += counts.warnings;
        self.accepted += page.accepted().count();
        if counts.verdict().passed() {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
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
    /// Adds what the run's settings left unapplied (expired and unused entries).
    pub fn with_settings(mut self, settings: SettingsReport) -> Self {
        self.settings = settings;
        self
    }

    /// Whether a finding that counts (not accepted) is at or above `threshold`
    /// (`None`: never fail).
    pub fn fails_at(&self, threshold: Option<Severity>) -> bool {
        let worst = self.pages.iter().filter_map(PageReport::worst).max();
        threshold.is_some_and(|t| worst.is_some_and(|w| w >= t))
    }

    /// Its head and its pages, to be written in any format.
    pub fn into_parts(self) -> (Head, Vec<PageReport>) {
        let mut head = Head::new(self.run, self.started_at);
        head.tool = self.tool;
        head.duration_ms = self.duration_ms;
        for page in &self.pages {
            head.count(page);
        }
        head.scenarios = self.scenarios;
        head.settings = self.settings;
        head.skipped = self.skipped;
        head.notes = self.notes;
        head.discovered = self.discovered;
        head.history = self.history;
        (head, self.pages)
    }
}

impl PageReport {
    /// The findings that count for the verdict and `--fail-on` (not accepted).
    pub fn counted(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.counts())
    }

    /// The most severe finding that counts, if any (what `--fail-on` looks at).
    pub fn worst(&self) -> Option<Severity> {
        self.counted().map(|f| f.severity).max()
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
    /// Writes the report of `head` and `pages` to `out`, page by page.
    fn write(
        &self,
        head: &Head,
        pages: &dyn Pages,
        out: &mut dyn std::io::Write,
    ) -> std::io::Result<()>;

    /// The whole report in memory (tests, small reports).
    fn render(&self, report: &Report) -> Vec<u8> {
        let (head, pages) = report.clone().into_parts();
        let mut out = Vec::new();
        self.write(&head, &pages, &mut out)
            .expect("writing to memory does not fail");
        out
    }
}

/// A page that could not be read back (the journal changed under the run).
pub(crate) fn unreadable(error: String) -> std::io::Error {
    std::io::Error::other(error)
}
