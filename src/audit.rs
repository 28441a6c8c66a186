//! What an audit works with and produces: a page's target, its judged result,
//! the options of a run, and the outcome of a run that may stop early.

use crate::browser::VisitOptions;
use crate::capture::PageCapture;
use crate::capture::{evidence_of, Event, ReadBack};
use crate::checks::PageContext;
use crate::checks::Session;
use crate::error::Fatal;
use crate::finding::Finding;
use crate::report::{PageReport, PushReport};
use crate::screenshot::Screenshots;

/// A page to audit, with how to judge it.
#[derive(Debug, Clone)]
pub struct Target {
    /// The URL to visit.
    pub url: String,
    /// The scenario it belongs to (`logged-out` for `check`).
    pub scenario: String,
    /// Session state and expectations.
    pub context: PageContext,
}

/// One audited page: what was captured and what was found.
#[derive(Debug, Clone)]
pub struct PageResult {
    /// Position in the list of targets.
    pub index: usize,
    /// Which page in which scenario, and its session state.
    pub target: Target,
    /// What the visit recorded.
    pub capture: PageCapture,
    /// What the checks found.
    pub findings: Vec<Finding>,
    /// A screenshot of the page, relative to the report directory.
    pub screenshot: Option<String>,
}

impl PageResult {
    /// The findings that count (not accepted).
    pub fn counts(&self) -> crate::verdict::Counts {
        crate::verdict::Counts::of(&self.findings)
    }
}

/// How to audit.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// How each page is visited.
    pub visit: VisitOptions,
    /// Pages in flight at once (one tab each).
    pub concurrency: usize,
    /// Which pages get a screenshot, and where.
    pub screenshots: Screenshots,
    /// Audit only this shard of the page list known before the run, following
    /// no links (`--shard`, `--urls`).
    pub shard: Option<crate::shard::Shard>,
    /// False for `run --discover-only`: pages are visited and settled, not judged.
    pub judge: bool,
}

/// What a run produced: what was done, and the failure that stopped it early
/// (what was audited before it is kept, so it can still be reported).
pub struct Outcome<T> {
    /// What was done.
    pub done: T,
    /// Why the run stopped early, if it did.
    pub error: Option<Fatal>,
}

impl PageResult {
    /// The page as the reports show it.
    pub fn report(&self) -> PageReport {
        let result = self;
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
