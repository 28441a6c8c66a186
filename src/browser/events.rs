//! What one operation's CDP events told so far: the document it follows
//! (request, commit, load, status), the requests in flight, the SDK's
//! requests, dialogs, a crash, and the page's own navigations. Events are read
//! here, in the order the operation's streams give them.

use super::gatekeeper::Gate;
use super::operation::without_fragment;
use crate::capture::{is_sdk_script, Dialog};
use crate::network::Inflight;
use chromiumoxide::cdp::browser_protocol::network::{
    EventRequestWillBeSent, EventResponseReceived, ResourceType,
};
use chromiumoxide::cdp::browser_protocol::page::{
    DialogType, EventJavascriptDialogOpening, HandleJavaScriptDialogParams,
};
use chromiumoxide::Page;
use futures::stream::{BoxStream, SelectAll};
use futures::StreamExt;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Everything one operation learns from CDP.
pub(super) enum Cdp {
    RequestSent(Arc<EventRequestWillBeSent>),
    RequestDone(String),
    Response(Arc<EventResponseReceived>),
    Load,
    Dialog(Arc<EventJavascriptDialogOpening>),
    Crashed,
}

/// Which document an operation follows. Moves one way: `Idle` or
/// `Awaiting` to `Following`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Navigation {
    /// None: the operation began on the page the tab is on (an action, a
    /// settle) and nothing navigated since.
    Idle,
    /// The operation navigates to this URL (without fragment) and its
    /// document request is not seen yet: main-document requests, responses
    /// and load events before it belong to the previous page's own
    /// navigations (a page reloading itself in a loop), not to this visit.
    Awaiting(String),
    /// A document is pending or loaded: the operation's own (its request
    /// seen, or chromiumoxide said it loaded), or a new one the page brought.
    Following,
}

/// A loaded page's own navigation: its document request and loader.
pub(super) struct OwnNavigation {
    request: String,
    loader: String,
}

/// What one operation has learnt so far.
pub(super) struct OpState {
    pub(super) network: Inflight,
    /// Why the page was still busy when the settle cap was reached.
    pub(super) busy: Option<String>,
    pub(super) alive: Arc<std::sync::atomic::AtomicBool>,
    pub(super) main_frame: String,
    /// Which document the operation follows.
    pub(super) navigation: Navigation,
    /// When the document followed reached its load event.
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
    pub(super) pending_document: Option<OwnNavigation>,
    /// The main document answered (committed); until its load event, its
    /// own navigations are told apart from this operation's.
    pub(super) committed: bool,
    /// The document's load was stopped by its own navigation, held before
    /// its load event: no load event will come.
    pub(super) load_abandoned: bool,
    /// The loader of the main document this operation follows, once its
    /// request was seen: only its requests count as in flight.
    pub(super) loader: Option<String>,
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
            navigated_itself: false,
            navigation_held: false,
            network: Inflight::new(now),
            busy: None,
            alive,
            main_frame,
            navigation: Navigation::Idle,
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

    /// Whether the operation's navigation waits for its document request.
    fn awaiting(&self) -> bool {
        matches!(self.navigation, Navigation::Awaiting(_))
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
                    if let Navigation::Awaiting(target) = &self.navigation {
                        if without_fragment(&e.request.url) != target {
                            // The previous page navigating itself meanwhile.
                            return;
                        }
                        self.navigation = Navigation::Following;
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
                    self.pending_document = Some(OwnNavigation {
                        request: id.clone(),
                        loader: e.loader_id.inner().clone(),
                    });
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
                        .is_some_and(|n| n.request == *e.request_id.inner());
                    if main
                        && !own_navigation
                        && self.navigation == Navigation::Following
                        && self.loaded_at.is_none()
                    {
                        self.not_a_page = not_a_page(&e.response);
                    }
                    if main && !own_navigation && !self.awaiting() {
                        // The document commits: its own navigations from here
                        // on (a redirect by script during the load) bring a
                        // new document only if their answer is one.
                        self.committed = true;
                    }
                    let id = e.request_id.inner();
                    if main
                        && self
                            .pending_document
                            .as_ref()
                            .is_some_and(|n| n.request == *id)
                    {
                        let OwnNavigation { loader, .. } =
                            self.pending_document.take().expect("checked");
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
            Cdp::Load if self.awaiting() => {}
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
        if self.navigation == Navigation::Idle {
            self.navigation = Navigation::Following;
        }
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
