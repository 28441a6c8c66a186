//! The options the auditing commands share, and the small enums of the
//! command line.

use crate::audit::AuditOptions;
use crate::browser::{SettleMode, VisitOptions, DEFAULT_USER_EXPR};
use crate::error::Fatal;
use crate::rules::Severity;
use crate::screenshot::{Screenshots, When};
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatKind {
    /// The compliance table (stdout).
    Table,
    /// The JSON report (schema_version 1): report.json.
    Json,
    /// JUnit XML for CI test reporters: report.xml.
    Junit,
    /// One self-contained HTML file: report.html.
    Html,
    /// A Markdown summary for CI job summaries and pull requests: report.md.
    Markdown,
}

impl FormatKind {
    /// The stable file name under --out-dir.
    pub fn file_name(self) -> &'static str {
        match self {
            FormatKind::Table => "report.txt",
            FormatKind::Json => "report.json",
            FormatKind::Junit => "report.xml",
            FormatKind::Html => "report.html",
            FormatKind::Markdown => "report.md",
        }
    }
}

/// Output formats of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Counts and the new and fixed findings.
    Table,
    /// new, fixed and unchanged findings as JSON.
    Json,
    /// A Markdown summary for a channel or pull request.
    Markdown,
}

/// When the exit code says "failed".
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Any error finding (the default).
    Error,
    /// Any finding.
    Warning,
    /// Never (exit 0 whenever the audit ran).
    Never,
    /// Error findings new or reopened since the baseline (needs --history):
    /// gate on what this change broke, not on last year's debt.
    New,
    /// Findings new or reopened since the baseline, warnings too.
    #[value(name = "new:warning")]
    NewWarning,
}

impl FailOn {
    /// The lowest severity that fails, if any.
    pub(crate) fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Error | FailOn::New => Some(Severity::Error),
            FailOn::Warning | FailOn::NewWarning => Some(Severity::Warning),
            FailOn::Never => None,
        }
    }

    /// Whether only findings new or reopened since the baseline fail.
    pub(crate) fn only_new(self) -> bool {
        matches!(self, FailOn::New | FailOn::NewWarning)
    }
}

/// `--settle`: how a page is judged done. The browser's [`SettleMode`],
/// spelled for the command line (the browser layer knows nothing of clap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Settle {
    /// Judged as soon as nothing can still push (the default).
    #[default]
    Auto,
    /// 500 ms without a request, then the settle window.
    Fixed,
}

impl From<Settle> for SettleMode {
    fn from(settle: Settle) -> Self {
        match settle {
            Settle::Auto => SettleMode::Auto,
            Settle::Fixed => SettleMode::Fixed,
        }
    }
}

/// Options every auditing command takes.
#[derive(Debug, Args, Clone)]
pub struct Common {
    /// Output format; repeat for several (default: table).
    #[arg(long = "format", value_enum)]
    pub formats: Vec<FormatKind>,
    /// Write the one non-table format here (default: stdout when it is the only
    /// format, else a file under --out-dir).
    #[arg(long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Exit 1 when a finding at or above this severity exists.
    #[arg(long, value_enum, default_value = "error")]
    pub fail_on: FailOn,
    /// Per-page time limit in seconds (load, settle and read-back).
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub timeout: u64,
    /// The settle window in milliseconds: how far ahead `--settle auto` looks for
    /// timers that could still push, or how long `--settle fixed` waits after
    /// network quiet.
    #[arg(long, default_value_t = 500, value_name = "MS")]
    pub settle_ms: u64,
    /// auto: a page is judged as soon as nothing can still push (no request in
    /// flight, no timer due within the settle window, silence while recurring
    /// timers run); fixed: always 500 ms without a request, then the settle window.
    #[arg(long, value_enum, default_value = "auto")]
    pub settle: Settle,
    /// A page waits at most this many seconds after load; a page still busy then
    /// is judged on what it did, with a `still-busy` note.
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub max_settle: u64,
    /// Pages audited at once (one tab each).
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub concurrency: usize,
    /// Slow every page's renderer down RATE times (CDP CPU throttling): how a
    /// busy CI runner looks to a page. For checking that verdicts hold under
    /// load (scripts/bench-pipeline.sh); the findings must not change.
    #[arg(long, value_name = "RATE", hide = true)]
    pub cpu_throttle: Option<f64>,
    /// The browser executable (else $CHROME, $CHROMIUM, then chromium on PATH).
    #[arg(long, value_name = "PATH")]
    pub browser: Option<PathBuf>,
    /// Use an already running Chrome/Chromium over the DevTools protocol
    /// (ws://host:port/devtools/browser/...) instead of launching one; it is left running.
    #[arg(long, value_name = "WS_URL", conflicts_with = "browser")]
    pub browser_ws: Option<String>,
    /// One more Chromium command-line argument for the browser the tool
    /// launches, after its own flags (repeatable), e.g.
    /// `--browser-arg=--js-flags=--max-old-space-size=512` to cap each page's
    /// JavaScript heap.
    #[arg(
        long = "browser-arg",
        value_name = "ARG",
        allow_hyphen_values = true,
        conflicts_with = "browser_ws"
    )]
    pub browser_args: Vec<String>,
    /// The expression that reads the user back for user-not-returned.
    #[arg(long, default_value = DEFAULT_USER_EXPR, value_name = "JS")]
    pub user_expr: String,
    /// Directory for reports (report.json, report.xml, report.html, report.md)
    /// and screenshots.
    #[arg(long, default_value = "reports", value_name = "DIR")]
    pub out_dir: PathBuf,
    /// Audit only shard K of N of the page list known before the run (crawl
    /// start pages, the sitemap, --urls); links are listed as discovered, not
    /// followed. N jobs with K = 1..N audit every page once; `merge` joins them.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<crate::shard::Shard>,
    /// The page list to audit: one URL (or path) a line, or a JSON report or
    /// journal of an earlier run whose pages are taken. Links are not followed.
    #[arg(long = "urls", id = "url_list", value_name = "FILE")]
    pub url_list: Option<PathBuf>,
    /// Continue an interrupted run from DIR/pages.jsonl: pages it already
    /// audited are not audited again; the journal and reports go to DIR.
    #[arg(long, value_name = "DIR")]
    pub resume: Option<PathBuf>,
    /// (run, demo) Only the scenarios with this name; repeatable.
    #[arg(long = "scenario", value_name = "NAME")]
    pub scenarios: Vec<String>,
    /// The run's id, carried in the journal and every report (e.g. the CI
    /// run id, shared by every shard of one run); else a fresh UUID.
    #[arg(long, value_name = "TEXT")]
    pub run_id: Option<String>,
    /// The suite the run belongs to (else the scenario file's `site`; for
    /// `check`, the first URL's origin).
    #[arg(long, value_name = "NAME")]
    pub suite: Option<String>,
    /// Record the run in this history store: a SQLite file (created on first
    /// use) or a postgres:// URL; else $INSIDER_AUDIT_HISTORY (README,
    /// "Scheduled audits").
    #[arg(long = "history", value_name = "STORE")]
    pub history: Option<String>,
    /// Record nothing, even with INSIDER_AUDIT_HISTORY set.
    #[arg(long, conflicts_with = "history")]
    pub no_history: bool,
    /// What the run's findings are compared with: last (the suite's latest
    /// complete run on this branch), run:ID, label:TEXT or branch:NAME.
    #[arg(long, value_name = "BASELINE", default_value = "last")]
    pub baseline: String,
    /// Exit 2 when the store has no baseline for the run (an evicted cache
    /// must not pass every gate).
    #[arg(long)]
    pub require_baseline: bool,
    /// A label for the recorded run (a release, a deploy).
    #[arg(long, value_name = "TEXT")]
    pub label: Option<String>,
    /// The branch the run audits (else $GITHUB_REF_NAME or $CI_COMMIT_REF_NAME).
    #[arg(long, value_name = "NAME")]
    pub branch: Option<String>,
    /// Post a message about the run to this webhook (Slack, Mattermost, Google
    /// Chat or any JSON endpoint) once it is recorded; repeatable. Else
    /// $INSIDER_AUDIT_NOTIFY (URLs separated by spaces), which keeps the
    /// webhook's token off the command line. Never changes the exit code.
    #[arg(long = "notify", value_name = "URL")]
    pub notify: Vec<String>,
    /// Which runs send a message: new (new or reopened findings at or above
    /// error, or warning with --fail-on warning|new:warning), failed (exit 1
    /// or 3), always. A run that could not run (exit 3) always sends.
    #[arg(long, value_enum, default_value = "new")]
    pub notify_on: crate::notify::NotifyOn,
    /// Where the run's HTML report is published, for the message.
    #[arg(long, value_name = "URL")]
    pub report_url: Option<String>,
    /// Which pages get a screenshot (stored in DIR/screenshots, referenced from the reports).
    #[arg(long, value_enum, default_value = "failures")]
    pub screenshots: When,
}

impl Common {
    pub(crate) fn audit_options(&self) -> Result<AuditOptions, Fatal> {
        if self.timeout == 0 {
            return Err(Fatal::Usage("--timeout must be at least 1 second".into()));
        }
        if self.concurrency == 0 {
            return Err(Fatal::Usage("--concurrency must be at least 1".into()));
        }
        Ok(AuditOptions {
            visit: VisitOptions {
                timeout: Duration::from_secs(self.timeout),
                settle: Duration::from_millis(self.settle_ms),
                mode: self.settle.into(),
                max_settle: Duration::from_secs(self.max_settle),
                user_expr: self.user_expr.clone(),
                cpu_throttle: self.cpu_throttle.filter(|rate| *rate > 1.0),
                ..VisitOptions::default()
            },
            concurrency: self.concurrency,
            screenshots: Screenshots {
                when: self.screenshots,
                out_dir: self.out_dir.clone(),
            },
            shard: match (self.shard, &self.url_list) {
                (None, Some(_)) => Some(crate::shard::Shard::WHOLE),
                (shard, _) => shard,
            },
            judge: true,
        })
    }

    pub(crate) fn threshold(&self) -> Option<Severity> {
        self.fail_on.threshold()
    }
}
