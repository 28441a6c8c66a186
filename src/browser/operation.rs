//! One operation on a tab (a navigation, an action, a settle): its CDP event
//! streams, what they told so far (requests in flight, the load event, the
//! document's status, dialogs, a crash), and the settle rules of
//! the README's "How a page is audited".

use super::failure::TabError;
use super::gatekeeper::Gate;
use super::tab::{SettleMode, VisitOptions};
use crate::capture::{is_sdk_script, Dialog};
use crate::network::Inflight;
use chromiumoxide::cdp::browser_protocol::network::{
    EventRequestWillBeSent, EventResponseReceived, ResourceType,
};
use chromiumoxide::cdp::browser_protocol::page::{
    DialogType, EventJavascriptDialogOpening, HandleJavaScriptDialogParams, NavigateParams,
};
use chromiumoxide::cdp::js_protocol::runtime::EvaluateParams;
use chromiumoxide::Page;
use futures::stream::{BoxStream, SelectAll};
use futures::StreamExt;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Evaluates `expression` in the page's main world and returns its value as JSON.
pub(crate) async fn evaluate(page: &Page, expression: &str) -> Result<serde_json::Value, String> {
    let params = EvaluateParams::builder()
        .expression(expression)
        .return_by_value(true)
        .build()
        .map_err(|e| e.to_string())?;
    let result = page.execute(params).await.map_err(|e| e.to_string())?;
    if let Some(details) = &result.result.exception_details {
        let message = details
            .exception
            .as_ref()
            .and_then(|e| e.description.clone())
            .unwrap_or_else(|| details.text.clone());
        return Err(message);
    }
    Ok(result.result.result.value.clone().unwrap_or_default())
}

/// Everything one operation learns from CDP.
pub(super) enum Cdp {
    RequestSent(Arc<EventRequestWillBeSent>),
    RequestDone(String),
    Response(Arc<EventResponseReceived>),
    Load,
    Dialog(Arc<EventJavascriptDialogOpening>),
    Crashed,
}

/// One operation on a tab: its event streams and what they told so far.
pub(super) struct Operation {
    pub(super) events: SelectAll<BoxStream<'static, Cdp>>,
    pub(super) state: OpState,
    pub(super) started: Instant,
    pub(super) deadline: Instant,
    pub(super) timeout: Duration,
}

/// `url` without its fragment, as Chromium requests it.
pub(super) fn without_fragment(url: &str) -> &str {
    url.split('#').next().unwrap_or(url)
}

/// How long chromiumoxide's navigate may lag behind the load event we saw.
const NAVIGATE_GRACE: Duration = Duration::from_secs(1);

/// How long a page that stopped answering gets to crash (see
/// `Operation::stuck_or_crashed`).
const CRASH_GRACE: Duration = Duration::from_secs(1);

impl Operation {
    pub(super) async fn navigate(&mut self, page: &Page, url: &str) -> Result<(), TabError> {
        let secs = self.timeout.as_secs();
        let mut navigate = Box::pin(page.execute(NavigateParams::new(url)));
        self.state.document_pending = true;
        self.state.awaiting = Some(without_fragment(url).to_string());
        let first = tokio::select! {
            result = tokio::time::timeout_at(self.deadline.into(), &mut navigate) => Some(result),
            // Keep reading events meanwhile, so dialogs during navigation are
            // handled, a response that is not a page (a download, whose
            // navigation never ends) is recognised at once, and so is the
            // load event itself.
            _ = self.state.pump_until(page, &mut self.events, self.deadline, |s| {
                s.not_a_page().is_some() || s.loaded_at.is_some()
            }) => None,
        };
        let nav = match first {
            Some(result) => result,
            None => {
                if let Some(reason) = self.state.not_a_page() {
                    return Err(TabError::NotAPage(reason));
                }
                if self.state.loaded_at.is_none() {
                    return Err(TabError::Crashed);
                }
                // Loaded. chromiumoxide's own wait for this load ends at the
                // same event, unless same-document navigations during the load
                // (a router calling replaceState in a loop) lost it its track:
                // then the page is audited all the same, and the tab, whose
                // later navigations chromiumoxide would hold, is retired after.
                match tokio::time::timeout(NAVIGATE_GRACE, &mut navigate).await {
                    Ok(result) => Ok(result),
                    Err(_) => {
                        self.state.navigation_held = true;
                        return Ok(());
                    }
                }
            }
        };
        match nav {
            Err(_) => Err(TabError::LoadTimedOut(
                match self.state.documents.values().last() {
                    Some(status) => format!("no load event within {secs} s (the server answered HTTP {status}; a script that never yields?)"),
                    None => format!("no response within {secs} s"),
                },
            )),
            Ok(Err(e)) => Err(TabError::Navigation(e.to_string())),
            Ok(Ok(response)) => {
                if let Some(error) = response.result.error_text.clone().filter(|e| !e.is_empty()) {
                    return Err(TabError::Navigation(error));
                }
                self.state.loader_id = response.result.loader_id.as_ref().map(|l| l.inner().clone());
                // chromiumoxide answers after this navigation's load: the
                // document is loaded, also when its events were read in another
                // order (a load before its request, both queued while the tool
                // was busy) or its request went unrecognised (Chromium spelt
                // the URL otherwise).
                self.state.awaiting = None;
                self.state.loaded_at.get_or_insert_with(Instant::now);
                self.state.gate.set_loaded();
                Ok(())
            }
        }
    }

    /// Waits for the load of any pending document (within the page timeout,
    /// else the page is unreachable), then settles: until nothing can still push
    /// (`SettleMode::Auto`) or for network quiet plus the settle window
    /// (`SettleMode::Fixed`), at most `max_settle` after load. A page still busy
    /// then is judged on what it did, with the reason kept in `busy`.
    pub(super) async fn settle(
        &mut self,
        page: &Page,
        options: &VisitOptions,
    ) -> Result<(), TabError> {
        let secs = self.timeout.as_secs();
        if !self
            .state
            .wait(page, &mut self.events, self.deadline, |s, _| {
                !s.document_pending || s.loaded_at.is_some() || s.not_a_page().is_some()
            })
            .await
        {
            return Err(stuck(page, secs, self.state.crashed).await);
        }
        if let Some(reason) = self.state.not_a_page() {
            return Err(TabError::NotAPage(reason));
        }
        if self.state.loaded_at.is_none() {
            // No load event seen by this operation: the page the tab is on
            // (a step's navigation may have committed, as a `wait_for` url
            // saw, without loading yet) says whether it loaded.
            self.wait_page_loaded(page, options).await?;
        }
        let cap = Instant::now() + options.max_settle;
        let settled = match options.mode {
            SettleMode::Fixed => {
                let quiet = options.quiet + options.settle;
                self.state
                    .wait(page, &mut self.events, cap, |s, now| {
                        s.network.is_quiet(now, quiet)
                    })
                    .await
                    && self.settle_in_flight(page, options, cap).await?
            }
            SettleMode::Auto => self.settle_auto(page, options, cap).await?,
        };
        if self.state.crashed {
            return Err(TabError::Crashed);
        }
        if !settled {
            let now = Instant::now();
            let open: Vec<&str> = self.state.network.open(now).collect();
            let network = if let Some(first) = open.first() {
                Some(match open.len() {
                    1 => format!("a request in flight: {first}"),
                    n => format!("{n} requests in flight, e.g. {first}"),
                })
            } else if !self.state.network.is_quiet(now, options.settle) {
                Some("requests one after another".to_string())
            } else {
                None
            };
            self.state.busy = Some(busy_reason(page, options, network, self.deadline).await?);
        }
        Ok(())
    }

    /// A page that stopped answering may be a renderer about to die: one that
    /// ran out of memory thrashes in garbage collection first. Waits a moment
    /// for the crash, so the page is reported as what it was.
    async fn stuck_or_crashed(&mut self, page: &Page, reason: String) -> TabError {
        let started = Instant::now();
        self.state
            .wait(page, &mut self.events, started + CRASH_GRACE, |s, _| {
                s.crashed
            })
            .await;
        tracing::debug!(
            crashed = self.state.crashed,
            waited_ms = started.elapsed().as_millis() as u64,
            "stuck page"
        );
        if self.state.crashed {
            TabError::Crashed
        } else {
            TabError::Stuck(reason)
        }
    }

    /// Asks the page until its load event's handlers ran (or the page
    /// timeout: unreachable).
    async fn wait_page_loaded(
        &mut self,
        page: &Page,
        options: &VisitOptions,
    ) -> Result<(), TabError> {
        if self
            .ask_until(page, options, self.deadline, |p| p.loaded)
            .await?
        {
            return Ok(());
        }
        Err(TabError::TimedOut(format!(
            "no load event within {} s",
            self.timeout.as_secs()
        )))
    }

    /// Asks the page every [`PROBE_INTERVAL`] until `done` holds of its answer
    /// (true; a document without the recorder counts as done) or `until`
    /// passes (false).
    async fn ask_until(
        &mut self,
        page: &Page,
        options: &VisitOptions,
        until: Instant,
        done: impl Fn(&Pending) -> bool,
    ) -> Result<bool, TabError> {
        loop {
            match self.probe(page, options).await? {
                Probe::Pending(pending) if done(&pending) => return Ok(true),
                Probe::NoRecorder => return Ok(true),
                Probe::Pending(_) | Probe::Unknown => {}
            }
            if Instant::now() >= until {
                return Ok(false);
            }
            self.pause(page, PROBE_INTERVAL, until).await?;
        }
    }

    /// Asks the page what can still push; a page that stopped answering is
    /// stuck, or about to crash.
    async fn probe(&mut self, page: &Page, options: &VisitOptions) -> Result<Probe, TabError> {
        match pending(page, options, self.deadline).await {
            Err(TabError::Stuck(reason)) => Err(self.stuck_or_crashed(page, reason).await),
            other => other,
        }
    }

    /// Reads events for `length` (at most until `until`); a crash ends it.
    async fn pause(
        &mut self,
        page: &Page,
        length: Duration,
        until: Instant,
    ) -> Result<(), TabError> {
        let end = (Instant::now() + length).min(until);
        self.state
            .wait(page, &mut self.events, end, |s, _| s.crashed)
            .await;
        if self.state.crashed {
            return Err(TabError::Crashed);
        }
        Ok(())
    }

    /// `--settle fixed` after its windows: the work the page started (fetches,
    /// XHRs, inserted elements, messages) has run its callbacks. False at `cap`.
    async fn settle_in_flight(
        &mut self,
        page: &Page,
        options: &VisitOptions,
        cap: Instant,
    ) -> Result<bool, TabError> {
        let abandoned = self.state.load_abandoned;
        self.ask_until(page, options, cap, |p| {
            (p.loaded || abandoned) && p.in_flight == 0
        })
        .await
    }

    /// Settles until nothing can still push, as the page counts it: its load
    /// handlers ran, no work it started is waiting for its callbacks, no
    /// one-shot timer or frame is due within the settle window, and, while
    /// recurring work runs, no push and no request during the last window.
    /// CDP adds the requests the page cannot see (beacons, prefetches).
    /// False at `cap`.
    pub(super) async fn settle_auto(
        &mut self,
        page: &Page,
        options: &VisitOptions,
        cap: Instant,
    ) -> Result<bool, TabError> {
        let window = options.settle;
        loop {
            let now = Instant::now();
            if now >= cap {
                return Ok(false);
            }
            let tick = (now + PROBE_INTERVAL).min(cap);
            self.state
                .wait(page, &mut self.events, tick, |s, now| {
                    s.crashed || s.network.pending(now) == 0
                })
                .await;
            if self.state.crashed {
                return Ok(false);
            }
            if self.state.network.pending(Instant::now()) > 0 {
                continue;
            }
            let pending = match self.probe(page, options).await? {
                Probe::Pending(pending) => pending,
                // A document without the recorder (an error page): no request is all.
                Probe::NoRecorder => return Ok(true),
                Probe::Unknown => {
                    if self.pause(page, PROBE_INTERVAL, cap).await.is_err() {
                        return Ok(false);
                    }
                    continue;
                }
            };
            let now = Instant::now();
            let loaded = pending.loaded || self.state.load_abandoned;
            let wait = if !loaded || pending.in_flight > 0 {
                PROBE_INTERVAL
            } else if let Some(ms) = pending.soon_ms {
                // Until the timer is due; it counts until it ran.
                Duration::from_millis(ms as u64).max(Duration::from_millis(5))
            } else if !pending.recurring {
                return Ok(true);
            } else {
                // Recurring work: done after a window without a push or a request.
                let since_push = pending
                    .since_push_ms
                    .map_or(window, |ms| Duration::from_millis(ms as u64));
                let since_request = self.state.network.since_activity(now);
                let silence = since_push.min(since_request);
                if silence >= window {
                    return Ok(true);
                }
                window - silence
            };
            if self.pause(page, wait, cap).await.is_err() {
                return Ok(false);
            }
        }
    }
}

/// How often the page is asked while it has work in flight.
const PROBE_INTERVAL: Duration = Duration::from_millis(50);

/// What the settle probe learnt from the page.
enum Probe {
    /// The recorder's answer.
    Pending(Pending),
    /// No recorder on the document (an error page): network quiet is all.
    NoRecorder,
    /// No answer this time (the probe failed): ask again.
    Unknown,
}

/// What the recorder says can still push.
/// A page that does not answer until `deadline` (the page timeout; at least
/// 2 s from now) never yields; a slow one (a huge document still in layout)
/// answers in time.
async fn pending(
    page: &Page,
    options: &VisitOptions,
    deadline: Instant,
) -> Result<Probe, TabError> {
    let expr = format!(
        "window.__insiderAuditRecorder ? window.__insiderAuditRecorder.busy({}) : null",
        options.settle.as_millis()
    );
    let deadline = deadline.max(Instant::now() + Duration::from_secs(2));
    match tokio::time::timeout_at(deadline.into(), evaluate(page, &expr)).await {
        Ok(Ok(serde_json::Value::Null)) => Ok(Probe::NoRecorder),
        Ok(Ok(value)) => Ok(serde_json::from_value(value).map_or(Probe::Unknown, Probe::Pending)),
        // The document's context went away or is not ready (a navigation in
        // between): nothing is known yet; never a reason to stop waiting.
        Ok(Err(error)) => {
            tracing::debug!(%error, "the settle probe failed");
            Ok(Probe::Unknown)
        }
        Err(_) => Err(TabError::Stuck(
            "the page stopped answering after load".into(),
        )),
    }
}

/// Why a page is still busy when the settle cap is reached (the `still-busy` note).
async fn busy_reason(
    page: &Page,
    options: &VisitOptions,
    network: Option<String>,
    deadline: Instant,
) -> Result<String, TabError> {
    let mut what: Vec<String> = network.into_iter().collect();
    if options.mode == SettleMode::Auto {
        if let Probe::Pending(pending) = pending(page, options, deadline).await? {
            if pending.in_flight > 0 {
                let kinds: Vec<String> = pending
                    .kinds
                    .iter()
                    .map(|(kind, n)| format!("{n} {kind}"))
                    .collect();
                what.push(format!("waiting for {}", kinds.join(", ")));
            }
            if let Some(ms) = pending.soon_ms {
                what.push(format!("a timer due in {ms:.0} ms"));
            }
            if pending.recurring {
                what.push("a recurring timer or animation loop".to_string());
            }
            if pending
                .since_push_ms
                .is_some_and(|ms| ms < options.settle.as_millis() as f64)
            {
                what.push("pushes still coming".to_string());
            }
        }
    }
    if what.is_empty() {
        what.push("activity until the end".to_string());
    }
    Ok(format!(
        "still busy {} s after load ({}): judged on what it did until then",
        options.max_settle.as_secs(),
        what.join(", ")
    ))
}

/// Why a page that never reached its load event failed: a stuck script or a
/// slow server.
async fn stuck(page: &Page, secs: u64, crashed: bool) -> TabError {
    if crashed {
        return TabError::Crashed;
    }
    let answers = tokio::time::timeout(Duration::from_secs(1), evaluate(page, "1"))
        .await
        .is_ok_and(|r| r.is_ok());
    if answers {
        TabError::TimedOut(format!("no load event within {secs} s"))
    } else {
        TabError::Stuck(format!("the page stopped answering within {secs} s"))
    }
}

/// Why a document response is not a page to audit: `204`/`205` (nothing to
/// show), a download (`Content-Disposition: attachment`), or a type that is not
/// HTML.
fn not_a_page(
    response: &chromiumoxide::cdp::browser_protocol::network::Response,
) -> Option<String> {
    if matches!(response.status, 204 | 205) {
        return Some(format!(
            "the response is HTTP {} (no content)",
            response.status
        ));
    }
    let header = |name: &str| {
        response
            .headers
            .inner()
            .as_object()
            .and_then(|h| h.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
            .and_then(|(_, v)| v.as_str())
            .map(str::to_string)
    };
    if header("content-disposition").is_some_and(|d| {
        d.trim_start()
            .to_ascii_lowercase()
            .starts_with("attachment")
    }) {
        return Some("the response is a download (Content-Disposition: attachment)".into());
    }
    let mime = response.mime_type.to_ascii_lowercase();
    let page = mime.is_empty() || mime == "text/html" || mime == "application/xhtml+xml";
    (!page).then(|| format!("the response is {mime}, not an HTML page"))
}

/// What the recorder's `busy()` reports.
#[derive(Debug, Deserialize)]
struct Pending {
    /// The load event's handlers ran.
    #[serde(default)]
    loaded: bool,
    /// Work the page started whose callbacks have not run (fetches and body
    /// reads, XHRs, inserted elements, messages), by kind.
    #[serde(default)]
    in_flight: u32,
    #[serde(default)]
    kinds: std::collections::BTreeMap<String, u32>,
    soon_ms: Option<f64>,
    #[serde(default)]
    recurring: bool,
    since_push_ms: Option<f64>,
}

/// What one operation has learnt so far.
pub(super) struct OpState {
    pub(super) network: Inflight,
    /// Why the page was still busy when the settle cap was reached.
    pub(super) busy: Option<String>,
    pub(super) alive: Arc<std::sync::atomic::AtomicBool>,
    pub(super) main_frame: String,
    pub(super) document_pending: bool,
    pub(super) loaded_at: Option<Instant>,
    pub(super) crashed: bool,
    pub(super) loader_id: Option<String>,
    pub(super) last_document: Option<String>,
    pub(super) documents: HashMap<String, u16>,
    pub(super) sdk_ids: HashSet<String>,
    pub(super) sdk_requests: Vec<String>,
    pub(super) dialogs: Vec<Dialog>,
    /// Shared with the tab's gatekeeper: the main document's load event is
    /// marked there (from then on, a navigation out of scope is the page
    /// leaving, not a redirect of the URL asked for), and it says why it
    /// stopped the document's response (a download, stopped before Network
    /// reports a response).
    pub(super) gate: Arc<Gate>,
    /// Why the main document's response is not a page to audit (a download,
    /// `204`, a non-HTML type), recognised at the response.
    pub(super) not_a_page: Option<String>,
    /// A loaded page's own navigation, until its answer says whether it
    /// brings a new document.
    pub(super) pending_document: Option<(String, String)>,
    /// The main document answered (committed); until its load event, its
    /// own navigations are told apart from this operation's.
    pub(super) committed: bool,
    /// The document's load was stopped by its own navigation, held before
    /// its load event: no load event will come.
    pub(super) load_abandoned: bool,
    /// The loader of the main document this operation follows, once its
    /// request was seen: only its requests count as in flight.
    pub(super) loader: Option<String>,
    /// The URL (without fragment) this operation navigates to, until its
    /// document request is seen: main-document requests, responses and load
    /// events before it belong to the previous page's own navigations (a page
    /// reloading itself in a loop), not to this visit.
    pub(super) awaiting: Option<String>,
    /// The loaded page started a navigation of its own (a reload loop, a
    /// redirect by script): it may go on after the audit, so its tab is
    /// retired rather than handed the next page to race with.
    pub(super) navigated_itself: bool,
    /// chromiumoxide still waits for this navigation although the page loaded:
    /// the tab's later navigations would wait behind it, so it is retired.
    pub(super) navigation_held: bool,
}

impl OpState {
    /// Why the document is not a page, as Network or the gatekeeper saw it.
    pub(super) fn not_a_page(&self) -> Option<String> {
        self.not_a_page.clone().or_else(|| self.gate.refused())
    }

    pub(super) fn new(
        now: Instant,
        main_frame: String,
        alive: Arc<std::sync::atomic::AtomicBool>,
        gate: Arc<Gate>,
    ) -> Self {
        OpState {
            gate,
            not_a_page: None,
            pending_document: None,
            loader: None,
            load_abandoned: false,
            committed: false,
            awaiting: None,
            navigated_itself: false,
            navigation_held: false,
            network: Inflight::new(now),
            busy: None,
            alive,
            main_frame,
            document_pending: false,
            loaded_at: None,
            crashed: false,
            loader_id: None,
            last_document: None,
            documents: HashMap::new(),
            sdk_ids: HashSet::new(),
            sdk_requests: Vec::new(),
            dialogs: Vec::new(),
        }
    }

    /// HTTP status of the current main document.
    pub(super) fn status(&self) -> Option<u16> {
        let id = self.last_document.as_ref().or(self.loader_id.as_ref())?;
        self.documents.get(id).copied()
    }

    pub(super) async fn apply(&mut self, page: &Page, event: Cdp) {
        let now = Instant::now();
        match event {
            Cdp::RequestSent(e) => {
                let id = e.request_id.inner().clone();
                let main_document = e.r#type == Some(ResourceType::Document)
                    && e.frame_id
                        .as_ref()
                        .is_some_and(|f| *f.inner() == self.main_frame);
                if main_document {
                    if let Some(target) = &self.awaiting {
                        if without_fragment(&e.request.url) != target {
                            // The previous page navigating itself meanwhile.
                            return;
                        }
                        self.awaiting = None;
                    }
                }
                let loaded = self.gate.loaded();
                let known_loaded = self.loader_id.as_ref() == Some(&id) && self.loaded_at.is_some();
                if main_document && known_loaded {
                    // This navigation's own request, read after chromiumoxide
                    // said it loaded: nothing new.
                } else if main_document && !loaded && !self.committed {
                    self.new_document(&id, e.loader_id.inner());
                } else if main_document {
                    // A loaded page navigating itself: a new document only if
                    // the answer is one (a 204, or the gatekeeper holding the
                    // page in scope, leaves the page where it is).
                    self.pending_document = Some((id.clone(), e.loader_id.inner().clone()));
                    self.navigated_itself = true;
                }
                // The previous document's last requests (a pixel sent as it
                // was unloaded) never finish for this one: not counted.
                if self
                    .loader
                    .as_ref()
                    .is_none_or(|l| l == e.loader_id.inner())
                {
                    self.network.started(&id, &e.request.url, now);
                }
                if is_sdk_script(&e.request.url) && self.sdk_ids.insert(id) {
                    self.sdk_requests.push(e.request.url.clone());
                }
            }
            Cdp::RequestDone(id) => self.network.finished(&id, now),
            Cdp::Response(e) => {
                if e.r#type == ResourceType::Document {
                    self.documents
                        .insert(e.request_id.inner().clone(), e.response.status as u16);
                    let main = e
                        .frame_id
                        .as_ref()
                        .is_some_and(|f| *f.inner() == self.main_frame);
                    // The answer to the page's own navigation (one leaving,
                    // held with a 204) is not the document's.
                    let own_navigation = self
                        .pending_document
                        .as_ref()
                        .is_some_and(|(p, _)| p == e.request_id.inner());
                    if main
                        && !own_navigation
                        && self.awaiting.is_none()
                        && self.document_pending
                        && self.loaded_at.is_none()
                    {
                        self.not_a_page = not_a_page(&e.response);
                    }
                    if main && !own_navigation && self.awaiting.is_none() {
                        // The document commits: its own navigations from here
                        // on (a redirect by script during the load) bring a
                        // new document only if their answer is one.
                        self.committed = true;
                    }
                    let id = e.request_id.inner();
                    if main && self.pending_document.as_ref().is_some_and(|(p, _)| p == id) {
                        let (_, loader) = self.pending_document.take().expect("checked");
                        // The loaded page's own navigation brought a document
                        // (a reload, a same-origin link a script followed): the
                        // page is judged on it, with its own SDK requests. A
                        // 204 (the gatekeeper holding the page in scope) or a
                        // download leaves the page where it is.
                        if not_a_page(&e.response).is_none() {
                            self.new_document(id, &loader);
                            self.committed = true;
                        } else if self.loaded_at.is_none() {
                            // Held (a page leaving the scope gets a 204) before
                            // its load event: Chromium stops loading the document
                            // there, and no load event comes. Natively the page
                            // would have gone: its load ends here.
                            self.load_abandoned = true;
                            self.loaded_at = Some(now);
                            self.gate.set_loaded();
                        }
                    }
                }
            }
            // The previous page's load (it reloaded itself meanwhile).
            Cdp::Load if self.awaiting.is_some() => {}
            Cdp::Load => {
                self.loaded_at = Some(now);
                self.gate.set_loaded();
                self.network.touch(now);
            }
            Cdp::Dialog(e) => {
                self.dialogs.push(Dialog {
                    kind: format!("{:?}", e.r#type).to_lowercase(),
                    message: e.message.clone(),
                });
                // Dismiss alert/confirm/prompt (the visitor who clicks
                // "Cancel"), but leave on `beforeunload`: staying would cancel
                // the tab's next navigation. Not awaited inside the event loop.
                let leave = e.r#type == DialogType::Beforeunload;
                let page = page.clone();
                tokio::spawn(async move {
                    let _ = page.execute(HandleJavaScriptDialogParams::new(leave)).await;
                });
            }
            Cdp::Crashed => self.crashed = true,
        }
    }

    /// A new main document: what the old one requested no longer counts.
    fn new_document(&mut self, id: &str, loader: &str) {
        self.network = Inflight::new(Instant::now());
        self.committed = false;
        self.loader = Some(loader.to_string());
        self.document_pending = true;
        self.loaded_at = None;
        self.last_document = Some(id.to_string());
        self.sdk_ids.clear();
        self.sdk_requests.clear();
    }

    /// Reads events until `done` holds (true) or the deadline passes (false).
    pub(super) async fn wait(
        &mut self,
        page: &Page,
        events: &mut SelectAll<BoxStream<'static, Cdp>>,
        deadline: Instant,
        done: impl Fn(&Self, Instant) -> bool,
    ) -> bool {
        loop {
            if !self.alive.load(std::sync::atomic::Ordering::SeqCst) {
                // The browser died: nothing will ever answer. Counted as a crash.
                self.crashed = true;
            }
            if self.crashed {
                return false;
            }
            if done(self, Instant::now()) {
                return true;
            }
            let tick = (Instant::now() + Duration::from_millis(50)).min(deadline);
            tokio::select! {
                Some(event) = events.next() => self.apply(page, event).await,
                _ = tokio::time::sleep_until(tick.into()) => {
                    if Instant::now() >= deadline {
                        return false;
                    }
                }
            }
        }
    }

    /// Reads events until `done` holds or a crash (then returns), or the
    /// deadline (then never returns: the pending command's own timeout decides).
    pub(super) async fn pump_until(
        &mut self,
        page: &Page,
        events: &mut SelectAll<BoxStream<'static, Cdp>>,
        deadline: Instant,
        done: impl Fn(&Self) -> bool,
    ) {
        if self.wait(page, events, deadline, |s, _| done(s)).await || self.crashed {
            return;
        }
        std::future::pending::<()>().await;
    }

    /// Reads events until the deadline or a crash; used beside a pending command.
    pub(super) async fn pump(
        &mut self,
        page: &Page,
        events: &mut SelectAll<BoxStream<'static, Cdp>>,
        deadline: Instant,
    ) {
        self.wait(page, events, deadline, |_, _| false).await;
        if !self.crashed {
            // The pending command's own timeout decides; never finish first.
            std::future::pending::<()>().await;
        }
    }
}
