//! `PageCapture`: everything the browser visit recorded about one page, as plain
//! data. Checks judge captures and never touch the browser. The few predicates
//! on what a page did that both the browser (deciding which script sources to
//! read) and the checks need are here, below both.

use crate::finding::Evidence;
use crate::jsvalue::JsValue;
use serde::{Deserialize, Serialize};

/// A script position as the recorder read it off the stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// Script URL; the document URL for inline scripts.
    pub script: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

impl Location {
    /// As finding evidence.
    pub fn evidence(&self) -> Evidence {
        Evidence {
            script: self.script.clone(),
            line: self.line,
            column: Some(self.column),
        }
    }
}

/// Evidence from an optional location.
pub fn evidence_of(location: &Option<Location>) -> Option<Evidence> {
    location.as_ref().map(Location::evidence)
}

/// Whether a URL is the Insider SDK tag (`ins.js`).
pub fn is_sdk_script(url: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.ends_with("/ins.js") || path == "ins.js"
}

/// Whether `events` create the queue (assign an array or a queue object).
pub fn creates_queue(events: &[Event]) -> bool {
    events.iter().any(|e| {
        matches!(
            e,
            Event::Assign {
                value_kind: QueueKind::Array | QueueKind::QueueObject,
                ..
            }
        )
    })
}

/// How far into the source at a read position the name `InsiderQueue` may start:
/// the stack may point at `window.` rather than at the property name.
const READ_WINDOW: usize = 24;

/// Where the name `InsiderQueue` starts in the source at a read position.
pub(crate) fn queue_name_at(source: &str) -> Option<usize> {
    source.find("InsiderQueue").filter(|i| *i <= READ_WINDOW)
}

/// Whether the source at a read position is an access of the queue.
pub fn points_at_queue(source: &str) -> bool {
    queue_name_at(source).is_some()
}

/// What kind of value was assigned to `window.InsiderQueue`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueKind {
    /// `undefined`.
    Undefined,
    /// `null` or another primitive.
    Primitive,
    /// An array.
    Array,
    /// A non-array object with a `push` method (a queue object).
    QueueObject,
    /// Any other object.
    Other,
}

/// One thing the recorder saw, in execution order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// An assignment to `window.InsiderQueue`.
    Assign {
        /// Sequence number (execution order).
        seq: u64,
        /// Milliseconds since navigation start.
        t: f64,
        /// Who assigned.
        location: Option<Location>,
        /// The same object was assigned again (`Q = Q || []` when Q exists).
        same: bool,
        /// Kind of the new value.
        value_kind: QueueKind,
        /// A queue existed before.
        prev_exists: bool,
        /// Entries the previous queue held.
        prev_len: u32,
        /// The SDK had replaced the previous queue's `push`.
        prev_taken_over: bool,
    },
    /// A push onto a queue (one event per pushed argument).
    Push {
        /// Sequence number.
        seq: u64,
        /// Milliseconds since navigation start.
        t: f64,
        /// Who pushed.
        location: Option<Location>,
        /// Which queue object (1 = the first one assigned).
        queue: u32,
        /// The SDK had taken that queue over when the push happened.
        taken_over: bool,
        /// The pushed value, copied.
        value: JsValue,
    },
    /// A queue's `push` was replaced by an innermost push that does not forward
    /// (the SDK's): what it receives from then on is what counts.
    Takeover {
        /// Sequence number.
        seq: u64,
        /// Milliseconds since navigation start.
        t: f64,
        /// Who replaced it.
        location: Option<Location>,
        /// Which queue object.
        queue: u32,
    },
    /// A page wrapper was installed over a queue's `push` (a telemetry or consent
    /// layer that keeps the previous push and forwards to it).
    Wrap {
        /// Sequence number.
        seq: u64,
        /// Milliseconds since navigation start.
        t: f64,
        /// Who installed it (`None`: through `Object.defineProperty`).
        location: Option<Location>,
        /// Which queue object.
        queue: u32,
    },
    /// The page made part of the queue unobservable (froze it, redefined a
    /// property): what happens after it cannot be recorded.
    Unwatchable {
        /// Sequence number.
        seq: u64,
        /// Milliseconds since navigation start.
        t: f64,
        /// Where, when known.
        location: Option<Location>,
        /// What cannot be watched, and why.
        reason: String,
    },
    /// `window.InsiderQueue` was read while it did not exist.
    AbsentRead {
        /// Sequence number of the first such read at this location.
        seq: u64,
        /// Milliseconds since navigation start.
        t: f64,
        /// Where it was read.
        location: Option<Location>,
        /// How many reads at this location.
        count: u32,
        /// Script source from the reading position on (filled in by the visit).
        #[serde(default)]
        source: Option<String>,
        /// The script's text before the reading position, up to the start of
        /// its line (filled in by the visit): tells a bare `InsiderQueue` read,
        /// which throws a ReferenceError natively, from `window.InsiderQueue`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<String>,
        /// The script declares `var InsiderQueue` (a bare read then does not throw).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        declared: bool,
    },
    /// An uncaught error or unhandled rejection.
    PageError {
        /// Sequence number.
        seq: u64,
        /// Milliseconds since navigation start.
        t: f64,
        /// Where it was thrown.
        location: Option<Location>,
        /// The error message.
        message: String,
    },
    /// A same-document navigation (History API, Navigation API, traversal, fragment).
    Route {
        /// Sequence number.
        seq: u64,
        /// Milliseconds since navigation start.
        t: f64,
        /// The new URL.
        url: String,
        /// The path or query changed, so this begins a new page view.
        new_view: bool,
    },
    /// An assignment to the legacy `window.insider_object`.
    LegacyObject {
        /// Sequence number.
        seq: u64,
        /// Milliseconds since navigation start.
        t: f64,
        /// Who assigned.
        location: Option<Location>,
    },
}

impl Event {
    /// The sequence number.
    pub fn seq(&self) -> u64 {
        match self {
            Event::Assign { seq, .. }
            | Event::Push { seq, .. }
            | Event::Takeover { seq, .. }
            | Event::Wrap { seq, .. }
            | Event::Unwatchable { seq, .. }
            | Event::AbsentRead { seq, .. }
            | Event::PageError { seq, .. }
            | Event::Route { seq, .. }
            | Event::LegacyObject { seq, .. } => *seq,
        }
    }
}

/// The result of evaluating the read-back expression after settling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ReadBack {
    /// It returned this value.
    Value {
        /// The returned value.
        value: JsValue,
    },
    /// It threw.
    Threw {
        /// What the thrown error said (`String(e)`).
        message: String,
    },
}

/// A dialog the page opened (dismissed by the tool).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dialog {
    /// `alert`, `confirm`, `prompt` or `beforeunload`.
    pub kind: String,
    /// The text the page showed in the dialog.
    pub message: String,
}

/// Why a page could not be audited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unreachable {
    /// What went wrong, for the finding's message.
    pub reason: String,
}

/// Everything recorded about one page visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageCapture {
    /// The URL asked for.
    pub url: String,
    /// The URL the page ended on (after redirects and route changes).
    pub final_url: Option<String>,
    /// The document's URL when it began: the URL of its first page view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_url: Option<String>,
    /// Tests of the queue's existence (`'InsiderQueue' in window`,
    /// `hasOwnProperty`) found in the page's scripts, as `script:line`: under the
    /// audit they are true before the queue exists.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub existence_tests: Vec<String>,
    /// HTTP status of the main document.
    pub status: Option<u16>,
    /// Milliseconds from navigation to the load event.
    pub load_ms: Option<u64>,
    /// Set when the page could not be audited.
    pub unreachable: Option<Unreachable>,
    /// Where the page tried to navigate out of scope after it loaded (held: the
    /// page is judged on what it did before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_to: Option<String>,
    /// Set when the page was still busy at the settle cap: what kept it busy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub still_busy: Option<String>,
    /// Recorder events in execution order.
    pub events: Vec<Event>,
    /// Events the recorder dropped past its bound.
    pub events_dropped: u64,
    /// The read-back expression's result after settling.
    pub readback: Option<ReadBack>,
    /// `window.Insider` existed after settling.
    pub sdk_present: bool,
    /// Requests for the SDK tag (`ins.js`) during this page view.
    pub sdk_requests: Vec<String>,
    /// Dialogs the page opened.
    pub dialogs: Vec<Dialog>,
    /// Pushes with `seq` at or above this count as logged in (`None`: every push
    /// on the page has the page's own session state).
    pub logged_in_from_seq: Option<u64>,
    /// Links of the rendered page (`a[href]`, absolute), for the crawl: the
    /// first [`MAX_LINKS`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    /// How many `a[href]` the page had, also past [`MAX_LINKS`].
    #[serde(default)]
    pub links_total: u64,
}

/// The links of one page the crawl reads; a page with more gets a note.
pub const MAX_LINKS: usize = 5000;

impl PageCapture {
    /// A capture of a page that could not be audited.
    pub fn unreachable(url: &str, reason: impl Into<String>) -> Self {
        PageCapture {
            url: url.to_string(),
            final_url: None,
            start_url: None,
            existence_tests: Vec::new(),
            still_busy: None,
            left_to: None,
            status: None,
            load_ms: None,
            unreachable: Some(Unreachable {
                reason: reason.into(),
            }),
            events: Vec::new(),
            events_dropped: 0,
            readback: None,
            sdk_present: false,
            sdk_requests: Vec::new(),
            dialogs: Vec::new(),
            logged_in_from_seq: None,
            links: Vec::new(),
            links_total: 0,
        }
    }

    /// A loaded page with no recorder events (tests build on it).
    pub fn loaded(url: &str) -> Self {
        PageCapture {
            final_url: Some(url.to_string()),
            status: Some(200),
            load_ms: Some(0),
            unreachable: None,
            ..PageCapture::unreachable(url, "")
        }
    }
}
