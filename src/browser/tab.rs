//! A tab that audits pages: navigate, act, settle, take the recorder's log, and
//! return a [`PageCapture`]. The tab is the only thing that reads a page; one
//! operation's streams and navigation are in `operation`, what its events told
//! in `events`, when a page is done in `settle`, which requests may go on in
//! `gatekeeper`, the recorder's log in `recorder`, DOM actions in `dom`,
//! script sources in `sources`.

use super::dom::{DomAction, WaitCondition};
use super::failure::TabError;
use super::gatekeeper::{Gate, Gatekeeper};
use super::operation::{evaluate, without_fragment, Operation};
use super::options::VisitOptions;
use super::recorder::{self, Mark, RECORDER_JS};
use super::sources;
use crate::capture::PageCapture;
use crate::error::Fatal;
use crate::scope::Scope;
use chromiumoxide::cdp::browser_protocol::emulation::SetFocusEmulationEnabledParams;
use chromiumoxide::cdp::browser_protocol::page::{
    AddScriptToEvaluateOnNewDocumentParams, CaptureScreenshotFormat,
};
use chromiumoxide::cdp::js_protocol::runtime::{EvaluateParams, TerminateExecutionParams};
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::Page;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A tab with the recorder installed, reused from page to page.
pub struct Tab {
    page: Page,
    /// False once the browser's connection is gone.
    alive: Arc<std::sync::atomic::AtomicBool>,
    /// The scope outside crawl visits: the steps' (see [`Tab::set_scope`]).
    standing: Mutex<Option<Scope>>,
    /// Selectors of the fields a secret was typed into (masked in screenshots).
    secret_fields: Mutex<Vec<String>>,
    /// Decides which document requests go on (see [`Gatekeeper`]); stopped
    /// when the tab is dropped.
    gatekeeper: Gatekeeper,
}

/// What a visit produced.
pub struct Visit {
    /// The capture, possibly of an unreachable page.
    pub capture: PageCapture,
    /// False when the tab is stuck (a script that never yields) and must be
    /// replaced by a new one.
    pub tab_usable: bool,
    /// The tab works, but must not be handed another page: chromiumoxide holds
    /// its navigations, or the page navigates itself and would race the next
    /// one (a crawl retires it; a journey goes on with it).
    pub retire: bool,
    /// chromiumoxide holds this tab's next navigation behind one it lost track
    /// of: whoever goes on needs another tab (a journey too).
    pub held: bool,
    /// Set when a redirect left the crawl's scope: the page was not requested
    /// there and is not audited.
    pub out_of_scope: Option<String>,
    /// Set when the response was not a page (a download, `204`, not HTML):
    /// why. A crawl skips such a URL; `check` and steps report it unreachable.
    pub not_a_page: Option<String>,
    /// The recorder's document of the capture.
    pub doc: Option<String>,
}

impl Visit {
    /// The visit of a page that could not be audited.
    fn failed(url: &str, failure: TabError) -> Self {
        Visit {
            capture: PageCapture::unreachable(url, failure.to_string()),
            tab_usable: failure.tab_usable(),
            retire: false,
            held: false,
            out_of_scope: None,
            not_a_page: None,
            doc: None,
        }
    }
}

impl Tab {
    /// Prepares a tab: the recorder on every new document; the debugger (for
    /// reading script sources) with pauses skipped so `debugger;` cannot hang a
    /// page; and a gatekeeper that lets a crawl's document requests through only
    /// inside its scope, so a redirect never requests an out-of-scope URL.
    pub async fn new(page: Page, alive: Arc<std::sync::atomic::AtomicBool>) -> Result<Tab, Fatal> {
        let setup = async {
            page.execute(AddScriptToEvaluateOnNewDocumentParams::new(RECORDER_JS))
                .await?;
            // Every tab counts as focused, as a visitor's would (and a browser
            // we did not launch may throttle background tabs).
            page.execute(SetFocusEmulationEnabledParams::new(true))
                .await?;
            Gatekeeper::enable(&page).await
        };
        let gatekeeper = tokio::time::timeout(Duration::from_secs(20), setup)
            .await
            .map_err(|_| Fatal::BrowserDied("setting up a tab timed out".into()))?
            .map_err(|e| Fatal::BrowserDied(format!("cannot set up a tab: {e}")))?;
        Ok(Tab {
            page,
            alive,
            standing: Mutex::default(),
            secret_fields: Mutex::default(),
            gatekeeper,
        })
    }

    /// The gatekeeper's books.
    fn gate(&self) -> &Gate {
        self.gatekeeper.gate()
    }

    /// Closes the tab, giving up quickly on a stuck renderer.
    pub async fn close(self) {
        self.gatekeeper.stop();
        let _ = tokio::time::timeout(
            Duration::from_secs(2),
            self.page.execute(TerminateExecutionParams::default()),
        )
        .await;
        let _ = tokio::time::timeout(Duration::from_secs(5), self.page.clone().close()).await;
    }

    async fn operation(&self, options: &VisitOptions) -> Result<Operation, TabError> {
        self.gate().clear_refused();
        Operation::start(
            &self.page,
            self.alive.clone(),
            self.gatekeeper.gate().clone(),
            options,
        )
        .await
    }

    /// Visits `url` (inside `scope` when crawling) and records what happened to
    /// `window.InsiderQueue`.
    pub async fn visit(&self, url: &str, options: &VisitOptions, scope: Option<&Scope>) -> Visit {
        self.gate()
            .hold_to(scope.cloned().or_else(|| self.standing()));
        self.gate().clear_scope_log();
        self.gate().new_page();
        let result = async {
            let mut op = self.operation(options).await?;
            op.navigate(&self.page, url).await?;
            op.settle(&self.page, options).await?;
            Ok::<_, TabError>(op)
        }
        .await;
        let op = match result {
            Ok(op) => op,
            Err(failure) => {
                let out_of_scope = self.gate().blocked();
                let refused = self.gate().refused();
                let failure = match (&out_of_scope, refused) {
                    (Some(to), _) => TabError::OutOfScope(to.clone()),
                    (None, Some(why)) => TabError::NotAPage(why),
                    (None, None) => failure,
                };
                self.gate().hold_to(self.standing());
                let not_a_page = match &failure {
                    TabError::NotAPage(reason) => Some(reason.clone()),
                    _ => None,
                };
                return Visit {
                    out_of_scope,
                    not_a_page,
                    ..Visit::failed(url, failure)
                };
            }
        };
        // The scope holds until the page is read: a page leaving late is held too.
        let mut visit = self.finish(url, op, options).await;
        self.gate().hold_to(self.standing());
        visit.capture.left_to = self.gate().left_to();
        visit
    }

    /// Holds every later navigation outside crawl visits to `scope` (the
    /// steps' scope); `None` lets the tab go anywhere.
    pub fn set_scope(&self, scope: Option<Scope>) {
        *self.standing.lock().expect("standing lock") = scope.clone();
        self.gate().hold_to(scope);
    }

    fn standing(&self) -> Option<Scope> {
        self.standing.lock().expect("standing lock").clone()
    }

    /// Navigates to `url` and settles, without auditing.
    pub async fn goto(&self, url: &str, options: &VisitOptions) -> Result<(), TabError> {
        self.gate().clear_scope_log();
        let result = async {
            let mut op = self.operation(options).await?;
            op.navigate(&self.page, url).await?;
            op.settle(&self.page, options).await
        }
        .await;
        match self.gate().went_out_of_scope() {
            Some(to) => Err(TabError::OutOfScope(to)),
            None => result,
        }
    }

    /// Runs `action` in the page, then settles (following a navigation it
    /// starts). A navigation out of the standing scope is held and fails the
    /// action with [`TabError::OutOfScope`].
    pub async fn act(&self, action: &DomAction, options: &VisitOptions) -> Result<(), TabError> {
        self.gate().clear_scope_log();
        let result = self.act_in_scope(action, options).await;
        match self.gate().went_out_of_scope() {
            Some(to) => Err(TabError::OutOfScope(to)),
            None => result,
        }
    }

    async fn act_in_scope(
        &self,
        action: &DomAction,
        options: &VisitOptions,
    ) -> Result<(), TabError> {
        let mut op = self.operation(options).await?;
        let page = self.page.clone();
        let perform = action.perform(&page);
        let result = tokio::select! {
            result = tokio::time::timeout_at(op.deadline.into(), perform) => result.unwrap_or_else(|_| Err(format!("no answer within {} s", options.timeout.as_secs()))),
            _ = op.state.pump(&self.page, &mut op.events, op.deadline) => Err("the renderer crashed or the browser died".into()),
        };
        result.map_err(|reason| {
            if op.state.crashed {
                TabError::Crashed
            } else {
                TabError::Action(reason)
            }
        })?;
        if action.may_navigate() {
            op.settle(&self.page, options).await
        } else {
            // Typing, choosing and ticking start no navigation: network quiet is
            // enough. Late pushes are not lost: the recorder's log of the document
            // is taken whole when the page is audited.
            let quiet_only = VisitOptions {
                settle: Duration::ZERO,
                ..options.clone()
            };
            op.settle(&self.page, &quiet_only).await
        }
    }

    /// Waits until `condition` holds in the page (polling), or fails at the deadline.
    pub async fn wait_until(
        &self,
        condition: &WaitCondition,
        options: &VisitOptions,
    ) -> Result<(), TabError> {
        let deadline = Instant::now() + options.timeout;
        loop {
            let holds = match condition {
                WaitCondition::Selector(selector) => {
                    let expr = format!(
                        "document.querySelector({}) !== null",
                        serde_json::to_string(selector).expect("a string")
                    );
                    evaluate(&self.page, &expr)
                        .await
                        .ok()
                        .and_then(|v| v.as_bool())
                        .unwrap_or(false)
                }
                WaitCondition::Url(glob) => self.url().await.is_some_and(|u| glob.matches_url(&u)),
            };
            if holds {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(TabError::Action(format!(
                    "still waiting after {} s",
                    options.timeout.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for network quiet and the settle window on the current page.
    pub async fn settle(&self, options: &VisitOptions) -> Result<(), TabError> {
        let mut op = self.operation(options).await?;
        op.settle(&self.page, options).await
    }

    /// Settles and audits the page the tab is on (the end of a login, a logout click).
    pub async fn audit_current(&self, options: &VisitOptions) -> Visit {
        let url = self.url().await.unwrap_or_default();
        let settled = async {
            let mut op = self.operation(options).await?;
            op.settle(&self.page, options).await?;
            Ok::<_, TabError>(op)
        }
        .await;
        match settled {
            Ok(op) => self.finish(&url, op, options).await,
            Err(failure) => Visit::failed(&url, failure),
        }
    }

    /// Where the recorder's log stands now.
    pub async fn mark(&self) -> Option<Mark> {
        recorder::mark(&self.page).await
    }

    /// The URL of the current document.
    /// Asked of the page (it knows route changes); a page stuck in a script
    /// cannot answer, so then the browser's own record of the frame's URL.
    pub async fn url(&self) -> Option<String> {
        let asked =
            tokio::time::timeout(Duration::from_secs(2), evaluate(&self.page, "document.URL"))
                .await
                .ok()
                .and_then(Result::ok)
                .and_then(|v| v.as_str().map(str::to_string));
        match asked {
            Some(url) => Some(url),
            None => tokio::time::timeout(Duration::from_secs(2), self.page.url())
                .await
                .ok()
                .and_then(Result::ok)
                .flatten(),
        }
    }

    /// Evaluates `expression` in the page and returns its JSON value.
    pub async fn evaluate(&self, expression: &str) -> Result<serde_json::Value, String> {
        evaluate(&self.page, expression).await
    }

    /// Evaluates `expression` and awaits the promise it returns.
    pub async fn evaluate_async(&self, expression: &str) -> Result<serde_json::Value, String> {
        let params = EvaluateParams::builder()
            .expression(expression)
            .return_by_value(true)
            .await_promise(true)
            .build()
            .map_err(|e| e.to_string())?;
        let result = tokio::time::timeout(Duration::from_secs(15), self.page.execute(params))
            .await
            .map_err(|_| "no answer within 15 s".to_string())?
            .map_err(|e| e.to_string())?;
        Ok(result.result.result.value.clone().unwrap_or_default())
    }

    /// A PNG screenshot of the viewport.
    /// Every field that received a secret is masked while the picture is taken.
    pub async fn screenshot(&self) -> Result<Vec<u8>, String> {
        let fields = self
            .secret_fields
            .lock()
            .expect("secret fields lock")
            .clone();
        let mask = |on: bool| {
            let selectors = serde_json::to_string(&fields).expect("strings");
            format!(
                "(() => {{ for (const s of {selectors}) {{ let els = []; try {{ els = document.querySelectorAll(s); }} catch (e) {{}} for (const el of els) {{ if ({on}) {{ el.style.setProperty('-webkit-text-security', 'disc', 'important'); el.style.setProperty('color', 'transparent', 'important'); el.style.setProperty('text-shadow', '0 0 0 #999', 'important'); }} else {{ el.style.removeProperty('-webkit-text-security'); el.style.removeProperty('color'); el.style.removeProperty('text-shadow'); }} }} }} return true; }})()"
            )
        };
        if !fields.is_empty() {
            // No picture at all rather than one that might show a secret.
            evaluate(&self.page, &mask(true))
                .await
                .map_err(|e| format!("cannot mask the secret fields: {e}"))?;
        }
        let params = ScreenshotParams::builder()
            .format(CaptureScreenshotFormat::Png)
            .build();
        let shot = tokio::time::timeout(Duration::from_secs(10), self.page.screenshot(params))
            .await
            .map_err(|_| "the screenshot timed out".to_string())
            .and_then(|r| r.map_err(|e| e.to_string()));
        if !fields.is_empty() {
            let _ = evaluate(&self.page, &mask(false)).await;
        }
        shot
    }

    /// Remembers that the element at `selector` received a secret: screenshots
    /// of this tab mask it.
    pub fn received_secret(&self, selector: &str) {
        let mut fields = self.secret_fields.lock().expect("secret fields lock");
        if !fields.iter().any(|f| f == selector) {
            fields.push(selector.to_string());
        }
    }

    /// Sets a cookie for `url`.
    pub async fn set_cookie(
        &self,
        url: &str,
        name: &str,
        value: &str,
        path: &str,
    ) -> Result<(), String> {
        use chromiumoxide::cdp::browser_protocol::network::CookieParam;
        let cookie = CookieParam::builder()
            .name(name)
            .value(value)
            .url(url)
            .path(path)
            .build()
            .map_err(|e| e.to_string())?;
        self.page
            .set_cookie(cookie)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    async fn finish(&self, url: &str, mut op: Operation, options: &VisitOptions) -> Visit {
        let unreachable = |failure: TabError| Visit::failed(url, failure);
        let load_ms = op
            .state
            .loaded_at
            .map(|t| t.duration_since(op.started).as_millis() as u64);
        if let Some(status) = op.state.status().filter(|s| *s >= 400) {
            let mut v = unreachable(TabError::Http(status));
            v.capture.status = Some(status);
            return v;
        }
        let collect_deadline = op.deadline.max(Instant::now() + Duration::from_secs(1));
        let collect = recorder::take(&self.page, &options.user_expr);
        let dump = tokio::select! {
            dump = tokio::time::timeout_at(collect_deadline.into(), collect) => dump.ok(),
            _ = op.state.pump(&self.page, &mut op.events, collect_deadline) => None,
        };
        let dump = match dump {
            Some(Ok(dump)) => dump,
            Some(Err(reason)) => return unreachable(TabError::Unreadable(reason)),
            None if op.state.crashed => return unreachable(TabError::Crashed),
            None => {
                return unreachable(TabError::Stuck(format!(
                    "the page did not answer within {} s",
                    op.timeout.as_secs()
                )))
            }
        };
        // A page held back from leaving (the gatekeeper answered its
        // navigation out of scope with a 204) lives on under the audit; without
        // it, nothing after that navigation began would have run.
        let left_to = self.gate().left_to();
        let mut events = dump.events;
        if let Some(left) = dump.leaves.iter().find(|l| {
            left_to
                .as_deref()
                .is_some_and(|to| without_fragment(to) == without_fragment(&l.url))
        }) {
            events.retain(|e| e.seq() <= left.seq);
        }
        let mut capture = PageCapture {
            url: url.to_string(),
            final_url: dump.href,
            start_url: dump.start_url,
            existence_tests: Vec::new(),
            still_busy: op.state.busy.clone(),
            left_to,
            status: op.state.status(),
            load_ms,
            unreachable: None,
            events,
            events_dropped: dump.dropped,
            readback: dump.readback,
            sdk_present: dump.sdk,
            sdk_requests: op.state.sdk_requests.clone(),
            dialogs: op.state.dialogs.clone(),
            logged_in_from_seq: None,
            links: dump.links,
            links_total: dump.links_total,
        };
        if dump.missing {
            capture.unreachable = Some(crate::capture::Unreachable {
                reason: "the recorder did not run on this page".into(),
            });
        }
        sources::read(&self.page, &mut capture).await;
        Visit {
            capture,
            tab_usable: true,
            // chromiumoxide would hold this tab's next navigation behind one
            // it lost track of (see `Operation::navigate`); a page that
            // navigates itself could race the next page in this tab.
            retire: op.state.navigation_held || op.state.navigated_itself,
            held: op.state.navigation_held,
            out_of_scope: None,
            not_a_page: None,
            doc: dump.doc,
        }
    }
}
