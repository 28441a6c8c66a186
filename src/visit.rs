//! A tab that audits pages: navigate, act, settle, take the recorder's log, and
//! return a [`PageCapture`]. This is the only module that reads a page.

use crate::capture::{is_sdk_script, Dialog, Event, PageCapture, ReadBack};
use crate::crawl::Scope;
use crate::error::Fatal;
use crate::network::Inflight;
use chromiumoxide::cdp::browser_protocol::emulation::SetFocusEmulationEnabledParams;
use chromiumoxide::cdp::browser_protocol::fetch::{
    ContinueRequestParams, EnableParams as FetchEnable, EventRequestPaused, FailRequestParams,
    RequestPattern, RequestStage,
};
use chromiumoxide::cdp::browser_protocol::inspector::EventTargetCrashed;
use chromiumoxide::cdp::browser_protocol::network::{
    ErrorReason, EventLoadingFailed, EventLoadingFinished, EventRequestWillBeSent,
    EventResponseReceived, ResourceType,
};
use chromiumoxide::cdp::browser_protocol::page::{
    AddScriptToEvaluateOnNewDocumentParams, CaptureScreenshotFormat, EventJavascriptDialogOpening,
    EventLoadEventFired, HandleJavaScriptDialogParams, NavigateParams,
};
use chromiumoxide::cdp::js_protocol::debugger::{
    DisableParams as DebuggerDisable, EnableParams as DebuggerEnable, EventScriptParsed,
    GetScriptSourceParams, SetSkipAllPausesParams,
};
use chromiumoxide::cdp::js_protocol::runtime::{EvaluateParams, TerminateExecutionParams};
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::Page;
use futures::stream::{BoxStream, SelectAll};
use futures::StreamExt;
use regex::Regex;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The in-page recorder, installed before any page script runs.
pub const RECORDER_JS: &str = include_str!("recorder.js");

/// The default read-back expression of `user-not-returned`.
pub const DEFAULT_USER_EXPR: &str = "window.InsiderQueue.user";

/// How a page is visited.
#[derive(Debug, Clone)]
pub struct VisitOptions {
    /// Everything (load, settle, read-back) must finish within this.
    pub timeout: Duration,
    /// No request in flight for this long counts as network quiet.
    pub quiet: Duration,
    /// The settle window: after network quiet, wait this long for late pushes
    /// (fixed), or look this far ahead for timers that could still push (auto).
    pub settle: Duration,
    /// How a page is settled after its load event.
    pub mode: SettleMode,
    /// A page waits at most this long after load, then is judged as still busy.
    pub max_settle: Duration,
    /// The expression that reads the user back.
    pub user_expr: String,
}

/// How a page is settled after its load event (interface.md, "How a page is audited").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum SettleMode {
    /// Until nothing can still push: no request in flight, no timer due within
    /// the settle window, and silence while recurring work runs.
    #[default]
    Auto,
    /// 500 ms without a request, then the whole settle window (0.1's behaviour).
    Fixed,
}

impl Default for VisitOptions {
    fn default() -> Self {
        VisitOptions {
            timeout: Duration::from_secs(30),
            quiet: Duration::from_millis(500),
            settle: Duration::from_millis(500),
            mode: SettleMode::Auto,
            max_settle: Duration::from_secs(10),
            user_expr: DEFAULT_USER_EXPR.to_string(),
        }
    }
}

/// Where the recorder's log stands: pushes after a mark came after an action.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Mark {
    /// The document the recorder runs in.
    pub doc: String,
    /// The last sequence number handed out.
    pub seq: u64,
}

/// A tab with the recorder installed, reused from page to page.
pub struct Tab {
    page: Page,
    /// False once the browser's connection is gone.
    alive: Arc<std::sync::atomic::AtomicBool>,
    /// The crawl's scope while a crawl visit runs; `None`: any navigation.
    scope: Arc<Mutex<Option<Scope>>>,
    /// Navigations refused because they left the scope.
    blocked: Arc<Mutex<Vec<String>>>,
    gatekeeper: tokio::task::JoinHandle<()>,
}

/// What a visit produced.
pub struct Visit {
    /// The capture, possibly of an unreachable page.
    pub capture: PageCapture,
    /// False when the tab is stuck (a script that never yields) and must be
    /// replaced by a new one.
    pub tab_usable: bool,
    /// Set when a redirect left the crawl's scope: the page was not requested
    /// there and is not audited.
    pub out_of_scope: Option<String>,
    /// The recorder's document of the capture.
    pub doc: Option<String>,
}

/// Why an operation on the tab failed.
#[derive(Debug, Clone)]
pub struct Failure {
    /// For the finding's message.
    pub reason: String,
    /// Whether the tab can still be used.
    pub tab_usable: bool,
}

impl Visit {
    /// The visit of a page that could not be audited.
    fn failed(url: &str, failure: Failure) -> Self {
        Visit {
            capture: PageCapture::unreachable(url, failure.reason),
            tab_usable: failure.tab_usable,
            out_of_scope: None,
            doc: None,
        }
    }
}

impl Failure {
    fn new(reason: impl Into<String>, tab_usable: bool) -> Self {
        Failure {
            reason: reason.into(),
            tab_usable,
        }
    }
}

/// Everything one operation learns from CDP.
enum Cdp {
    RequestSent(Arc<EventRequestWillBeSent>),
    RequestDone(String),
    Response(Arc<EventResponseReceived>),
    Load,
    Dialog(Arc<EventJavascriptDialogOpening>),
    Crashed,
}

/// What the collecting expression returns.
#[derive(Deserialize)]
struct Dump {
    #[serde(default)]
    missing: bool,
    #[serde(default)]
    events: Vec<Event>,
    #[serde(default)]
    dropped: u64,
    readback: Option<ReadBack>,
    #[serde(default)]
    sdk: bool,
    href: Option<String>,
    start_url: Option<String>,
    #[serde(default)]
    links: Vec<String>,
    doc: Option<String>,
}

impl Tab {
    /// Prepares a tab: the recorder on every new document; the debugger (for
    /// reading script sources) with pauses skipped so `debugger;` cannot hang a
    /// page; and a gatekeeper that lets a crawl's document requests through only
    /// inside its scope, so a redirect never requests an out-of-scope URL.
    pub async fn new(page: Page, alive: Arc<std::sync::atomic::AtomicBool>) -> Result<Tab, Fatal> {
        let scope: Arc<Mutex<Option<Scope>>> = Arc::default();
        let blocked: Arc<Mutex<Vec<String>>> = Arc::default();
        let setup = async {
            page.execute(AddScriptToEvaluateOnNewDocumentParams::new(RECORDER_JS))
                .await?;
            // Every tab counts as focused, as a visitor's would (and a browser
            // we did not launch may throttle background tabs).
            page.execute(SetFocusEmulationEnabledParams::new(true))
                .await?;
            let paused = page.event_listener::<EventRequestPaused>().await?;
            let pattern = RequestPattern::builder()
                .url_pattern("*")
                .resource_type(ResourceType::Document)
                .request_stage(RequestStage::Request)
                .build();
            page.execute(FetchEnable::builder().pattern(pattern).build())
                .await?;
            Ok::<_, chromiumoxide::error::CdpError>(paused)
        };
        let mut paused = tokio::time::timeout(Duration::from_secs(20), setup)
            .await
            .map_err(|_| Fatal::BrowserDied("setting up a tab timed out".into()))?
            .map_err(|e| Fatal::BrowserDied(format!("cannot set up a tab: {e}")))?;
        let gatekeeper = {
            let (page, scope, blocked) = (page.clone(), scope.clone(), blocked.clone());
            tokio::spawn(async move {
                while let Some(event) = paused.next().await {
                    let allowed = match (
                        scope.lock().expect("scope lock").as_ref(),
                        url::Url::parse(&event.request.url),
                    ) {
                        (None, _) => true,
                        (Some(scope), Ok(url)) => scope.allows(&url),
                        (Some(_), Err(_)) => false,
                    };
                    let page = page.clone();
                    if allowed {
                        tokio::spawn(async move {
                            let _ = page
                                .execute(ContinueRequestParams::new(event.request_id.clone()))
                                .await;
                        });
                    } else {
                        tracing::info!(url = %event.request.url, "not requested: outside the crawl's scope");
                        blocked
                            .lock()
                            .expect("blocked lock")
                            .push(event.request.url.clone());
                        tokio::spawn(async move {
                            let _ = page
                                .execute(FailRequestParams::new(
                                    event.request_id.clone(),
                                    ErrorReason::BlockedByClient,
                                ))
                                .await;
                        });
                    }
                }
            })
        };
        Ok(Tab {
            page,
            alive,
            scope,
            blocked,
            gatekeeper,
        })
    }

    /// Closes the tab, giving up quickly on a stuck renderer.
    pub async fn close(self) {
        self.gatekeeper.abort();
        let _ = tokio::time::timeout(
            Duration::from_secs(2),
            self.page.execute(TerminateExecutionParams::default()),
        )
        .await;
        let _ = tokio::time::timeout(Duration::from_secs(5), self.page.clone().close()).await;
    }

    async fn operation(&self, options: &VisitOptions) -> Result<Operation, Failure> {
        let p = &self.page;
        let listen = async {
            let mut all = SelectAll::new();
            all.push(
                p.event_listener::<EventRequestWillBeSent>()
                    .await?
                    .map(Cdp::RequestSent)
                    .boxed(),
            );
            all.push(
                p.event_listener::<EventLoadingFinished>()
                    .await?
                    .map(|e| Cdp::RequestDone(e.request_id.inner().clone()))
                    .boxed(),
            );
            all.push(
                p.event_listener::<EventLoadingFailed>()
                    .await?
                    .map(|e| Cdp::RequestDone(e.request_id.inner().clone()))
                    .boxed(),
            );
            all.push(
                p.event_listener::<EventResponseReceived>()
                    .await?
                    .map(Cdp::Response)
                    .boxed(),
            );
            all.push(
                p.event_listener::<EventLoadEventFired>()
                    .await?
                    .map(|_| Cdp::Load)
                    .boxed(),
            );
            all.push(
                p.event_listener::<EventJavascriptDialogOpening>()
                    .await?
                    .map(Cdp::Dialog)
                    .boxed(),
            );
            all.push(
                p.event_listener::<EventTargetCrashed>()
                    .await?
                    .map(|_| Cdp::Crashed)
                    .boxed(),
            );
            Ok::<_, chromiumoxide::error::CdpError>(all)
        };
        let events = listen
            .await
            .map_err(|e| Failure::new(format!("browser error: {e}"), false))?;
        let started = Instant::now();
        Ok(Operation {
            events,
            state: OpState::new(
                started,
                self.page.target_id().inner().clone(),
                self.alive.clone(),
            ),
            started,
            deadline: started + options.timeout,
            timeout: options.timeout,
        })
    }

    /// Visits `url` (inside `scope` when crawling) and records what happened to
    /// `window.InsiderQueue`.
    pub async fn visit(&self, url: &str, options: &VisitOptions, scope: Option<&Scope>) -> Visit {
        *self.scope.lock().expect("scope lock") = scope.cloned();
        self.blocked.lock().expect("blocked lock").clear();
        let result = async {
            let mut op = self.operation(options).await?;
            op.navigate(&self.page, url).await?;
            op.settle(&self.page, options).await?;
            Ok::<_, Failure>(op)
        }
        .await;
        *self.scope.lock().expect("scope lock") = None;
        let op = match result {
            Ok(op) => op,
            Err(failure) => {
                let out_of_scope = self.blocked.lock().expect("blocked lock").first().cloned();
                let failure = match &out_of_scope {
                    Some(to) => Failure::new(
                        format!("redirected out of the crawl's scope to {to}"),
                        failure.tab_usable,
                    ),
                    None => failure,
                };
                return Visit {
                    out_of_scope,
                    ..Visit::failed(url, failure)
                };
            }
        };
        self.finish(url, op, options).await
    }

    /// Navigates to `url` and settles, without auditing.
    pub async fn goto(&self, url: &str, options: &VisitOptions) -> Result<(), Failure> {
        let mut op = self.operation(options).await?;
        op.navigate(&self.page, url).await?;
        op.settle(&self.page, options).await
    }

    /// Runs `action` in the page, then settles (following a navigation it starts).
    pub async fn act(&self, action: &DomAction, options: &VisitOptions) -> Result<(), Failure> {
        let mut op = self.operation(options).await?;
        let page = self.page.clone();
        let perform = action.perform(&page);
        let result = tokio::select! {
            result = tokio::time::timeout_at(op.deadline.into(), perform) => result.unwrap_or_else(|_| Err(format!("no answer within {} s", options.timeout.as_secs()))),
            _ = op.state.pump(&self.page, &mut op.events, op.deadline) => Err("the renderer crashed or the browser died".into()),
        };
        result.map_err(|reason| Failure::new(reason, !op.state.crashed))?;
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
    ) -> Result<(), Failure> {
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
                WaitCondition::Url(glob) => self.url().await.is_some_and(|u| url_matches(glob, &u)),
            };
            if holds {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(Failure::new(
                    format!("still waiting after {} s", options.timeout.as_secs()),
                    true,
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for network quiet and the settle window on the current page.
    pub async fn settle(&self, options: &VisitOptions) -> Result<(), Failure> {
        let mut op = self.operation(options).await?;
        op.settle(&self.page, options).await
    }

    /// Settles and audits the page the tab is on (the end of a login, a logout click).
    pub async fn audit_current(&self, options: &VisitOptions) -> Visit {
        let url = self.url().await.unwrap_or_default();
        let settled = async {
            let mut op = self.operation(options).await?;
            op.settle(&self.page, options).await?;
            Ok::<_, Failure>(op)
        }
        .await;
        match settled {
            Ok(op) => self.finish(&url, op, options).await,
            Err(failure) => Visit::failed(&url, failure),
        }
    }

    /// Where the recorder's log stands now.
    pub async fn mark(&self) -> Option<Mark> {
        let value = evaluate(
            &self.page,
            "window.__insiderAuditRecorder ? window.__insiderAuditRecorder.mark() : null",
        )
        .await
        .ok()?;
        serde_json::from_value(value).ok()
    }

    /// The URL of the current document.
    pub async fn url(&self) -> Option<String> {
        evaluate(&self.page, "document.URL")
            .await
            .ok()?
            .as_str()
            .map(str::to_string)
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
    pub async fn screenshot(&self) -> Result<Vec<u8>, String> {
        let params = ScreenshotParams::builder()
            .format(CaptureScreenshotFormat::Png)
            .build();
        tokio::time::timeout(Duration::from_secs(10), self.page.screenshot(params))
            .await
            .map_err(|_| "the screenshot timed out".to_string())?
            .map_err(|e| e.to_string())
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
        let unreachable =
            |reason: String, tab_usable| Visit::failed(url, Failure::new(reason, tab_usable));
        let load_ms = op
            .state
            .loaded_at
            .map(|t| t.duration_since(op.started).as_millis() as u64);
        if let Some(status) = op.state.status().filter(|s| *s >= 400) {
            let mut v = unreachable(format!("HTTP status {status}"), true);
            v.capture.status = Some(status);
            return v;
        }
        let collect_deadline = op.deadline.max(Instant::now() + Duration::from_secs(1));
        let collect = self.collect(&options.user_expr);
        let dump = tokio::select! {
            dump = tokio::time::timeout_at(collect_deadline.into(), collect) => dump.ok(),
            _ = op.state.pump(&self.page, &mut op.events, collect_deadline) => None,
        };
        let dump = match dump {
            Some(Ok(dump)) => dump,
            Some(Err(reason)) => return unreachable(reason, true),
            None if op.state.crashed => {
                return unreachable("the renderer crashed or the browser died".into(), false)
            }
            None => {
                return unreachable(
                    format!(
                        "a page script never yields: the page did not answer within {} s",
                        op.timeout.as_secs()
                    ),
                    false,
                )
            }
        };
        let mut capture = PageCapture {
            url: url.to_string(),
            final_url: dump.href,
            start_url: dump.start_url,
            existence_tests: Vec::new(),
            still_busy: op.state.busy.clone(),
            status: op.state.status(),
            load_ms,
            unreachable: None,
            events: dump.events,
            events_dropped: dump.dropped,
            readback: dump.readback,
            sdk_present: dump.sdk,
            sdk_requests: op.state.sdk_requests.clone(),
            dialogs: op.state.dialogs.clone(),
            logged_in_from_seq: None,
            links: dump.links,
        };
        if dump.missing {
            capture.unreachable = Some(crate::capture::Unreachable {
                reason: "the recorder did not run on this page".into(),
            });
        }
        if needs_sources(&capture) {
            let scripts = self.parsed_scripts().await;
            self.fill_sources(&mut capture, &scripts).await;
            let _ = tokio::time::timeout(
                Duration::from_secs(2),
                self.page.execute(DebuggerDisable::default()),
            )
            .await;
        }
        Visit {
            capture,
            tab_usable: true,
            out_of_scope: None,
            doc: dump.doc,
        }
    }

    async fn collect(&self, user_expr: &str) -> Result<Dump, String> {
        let expression = format!(
            r#"(() => {{
  const r = window.__insiderAuditRecorder;
  if (!r) return {{ missing: true }};
  const out = r.take();
  let readback;
  try {{ readback = {{ outcome: 'value', value: r.encode((function () {{ return ({user_expr}); }})()) }}; }}
  catch (e) {{ let m = 'error'; try {{ m = '' + e; }} catch (_) {{}} readback = {{ outcome: 'threw', message: m }}; }}
  let sdk = false;
  try {{ sdk = window.Insider !== undefined && window.Insider !== null; }} catch (_) {{}}
  const links = [];
  try {{ const as = document.querySelectorAll('a[href]'); for (let i = 0; i < as.length && i < 5000; i++) links[i] = String(as[i].href); }} catch (_) {{}}
  return {{ events: out.events, dropped: out.dropped, doc: out.doc, start_url: out.start_url, readback, sdk, href: document.URL, links }};
}})()"#
        );
        let value = evaluate(&self.page, &expression)
            .await
            .map_err(|e| format!("reading the recorder failed: {e}"))?;
        serde_json::from_value(value).map_err(|e| format!("the recorder's log is unreadable: {e}"))
    }

    /// The scripts of the current document. The debugger is enabled only for
    /// this, and only on a page that needs sources (most do not): enabling it
    /// reports every script the document parsed, and keeping it on would cost
    /// every page a hash of every script and V8's debug mode. Pauses are
    /// skipped at once, so a `debugger;` statement cannot hang the page.
    async fn parsed_scripts(&self) -> Vec<Arc<EventScriptParsed>> {
        let collect = async {
            let mut parsed = self.page.event_listener::<EventScriptParsed>().await?;
            self.page.execute(DebuggerEnable::default()).await?;
            self.page.execute(SetSkipAllPausesParams::new(true)).await?;
            // Chromium reports the existing scripts before it answers enable;
            // they are in the listener's channel now.
            let mut scripts = Vec::new();
            while let Some(Some(script)) = futures::FutureExt::now_or_never(parsed.next()) {
                scripts.push(script);
            }
            Ok::<_, chromiumoxide::error::CdpError>(scripts)
        };
        let scripts = tokio::time::timeout(Duration::from_secs(5), collect)
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        scripts
    }

    /// Reads the page's script sources where the judgement needs them: the text
    /// at and before each absent read (a push, a test, or a bare read that throws
    /// natively), and, on a page that read the absent queue or never created it,
    /// every test of the queue's existence (`'InsiderQueue' in window`), whose
    /// outcome under the audit may differ.
    async fn fill_sources(&self, capture: &mut PageCapture, scripts: &[Arc<EventScriptParsed>]) {
        let mut sources = Sources {
            page: &self.page,
            texts: HashMap::new(),
        };
        let mut any_absent = false;
        for event in capture.events.iter_mut() {
            let Event::AbsentRead {
                location: Some(location),
                source,
                before,
                declared,
                ..
            } = event
            else {
                continue;
            };
            any_absent = true;
            let (line, column) = (i64::from(location.line) - 1, i64::from(location.column) - 1);
            let candidates = scripts.iter().filter(|s| {
                s.url == location.script
                    && (line, column) >= (s.start_line, s.start_column)
                    && (line, column) <= (s.end_line, s.end_column)
            });
            let mut best: Option<(String, String, bool)> = None;
            for script in candidates {
                let Some(text) = sources.text(script).await else {
                    continue;
                };
                let rel_line = (line - script.start_line) as usize;
                let col = if rel_line == 0 {
                    column - script.start_column
                } else {
                    column
                } as usize;
                let found = (
                    snippet_at(&text, rel_line, col),
                    line_before(&text, rel_line, col),
                    declares_queue(&text),
                );
                let points_at_queue = crate::checks::points_at_queue(&found.0);
                if points_at_queue || best.is_none() {
                    best = Some(found);
                }
                if points_at_queue {
                    break;
                }
            }
            if let Some((at, preceding, declares)) = best {
                *source = Some(at);
                *before = Some(preceding);
                *declared = declares;
            }
        }
        let created = crate::checks::creates_queue(&capture.events);
        if any_absent || !created {
            for script in scripts {
                if script.url.is_empty() || script.url.contains("insider-audit-recorder.js") {
                    continue;
                }
                let Some(text) = sources.text(script).await else {
                    continue;
                };
                for line in existence_test_lines(&text) {
                    let at = format!("{}:{}", script.url, script.start_line + line as i64 + 1);
                    if !capture.existence_tests.contains(&at) {
                        capture.existence_tests.push(at);
                    }
                }
            }
        }
    }
}

/// Whether judging `capture` needs the page's script sources: it read the
/// absent queue, or never created the queue (an existence test may explain why).
fn needs_sources(capture: &PageCapture) -> bool {
    capture
        .events
        .iter()
        .any(|e| matches!(e, Event::AbsentRead { .. }))
        || !crate::checks::creates_queue(&capture.events)
}

/// Script sources read from the debugger, each once.
struct Sources<'p> {
    page: &'p Page,
    texts: HashMap<String, Option<Arc<str>>>,
}

impl Sources<'_> {
    async fn text(&mut self, script: &EventScriptParsed) -> Option<Arc<str>> {
        let id = script.script_id.inner().clone();
        if let Some(text) = self.texts.get(&id) {
            return text.clone();
        }
        let text = tokio::time::timeout(
            Duration::from_secs(5),
            self.page
                .execute(GetScriptSourceParams::new(script.script_id.clone())),
        )
        .await
        .ok()
        .and_then(Result::ok)
        .map(|r| Arc::from(r.result.script_source.as_str()));
        self.texts.insert(id, text.clone());
        text
    }
}

/// The text of 0-based `line` before 0-based `column`, at most 200 characters.
fn line_before(text: &str, line: usize, column: usize) -> String {
    let Some(line_text) = text.split('\n').nth(line) else {
        return String::new();
    };
    let before: Vec<char> = line_text.chars().take(column).collect();
    before[before.len().saturating_sub(200)..].iter().collect()
}

/// Whether a script declares the queue as a global `var` (so a bare read of it
/// before the assignment is `undefined`, not a ReferenceError).
fn declares_queue(text: &str) -> bool {
    static DECLARED: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\bvar\s+InsiderQueue\b").expect("a valid regex"));
    DECLARED.is_match(text)
}

/// 0-based lines of `text` that test whether the queue exists with `in` or
/// `hasOwnProperty` (true under the audit before the queue exists).
fn existence_test_lines(text: &str) -> Vec<usize> {
    static TEST: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r#"['"`]InsiderQueue['"`]\s+in\b|(?:hasOwnProperty|hasOwn|Reflect\.has)\s*(?:\.\s*call\s*)?\([^)]*['"`]InsiderQueue['"`]"#,
        )
        .expect("a valid regex")
    });
    TEST.find_iter(text)
        .map(|m| text[..m.start()].matches('\n').count())
        .collect()
}

/// Evaluates `expression` in the page's main world and returns its value as JSON.
async fn evaluate(page: &Page, expression: &str) -> Result<serde_json::Value, String> {
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

/// Whether a URL matches a `wait_for` url glob: the whole URL when the glob has
/// a scheme, else the path.
pub fn url_matches(glob: &str, url: &str) -> bool {
    let regex = crate::crawl::glob_regex(glob);
    if glob.contains("://") {
        return regex.is_match(url);
    }
    url::Url::parse(url).is_ok_and(|u| regex.is_match(u.path()))
}

/// A condition a `wait_for` step polls.
#[derive(Debug, Clone)]
pub enum WaitCondition {
    /// An element matches the selector.
    Selector(String),
    /// The current URL matches the glob.
    Url(String),
}

/// Something a step does to the page.
#[derive(Debug, Clone)]
pub enum DomAction {
    /// Type `value` into the field (replacing its content).
    Fill {
        /// The field.
        selector: String,
        /// What to type.
        value: String,
    },
    /// Click the element with the mouse.
    Click {
        /// The element.
        selector: String,
    },
    /// Press a key on the element (or the focused one).
    Press {
        /// The key, e.g. `Enter`.
        key: String,
        /// The element (else the focused one).
        selector: Option<String>,
    },
    /// Choose the option with this value.
    Select {
        /// The `<select>`.
        selector: String,
        /// The option's value.
        value: String,
    },
    /// Tick or untick a checkbox.
    Check {
        /// The checkbox.
        selector: String,
        /// Ticked or not.
        checked: bool,
    },
    /// Run JavaScript (local_storage entries).
    Script(String),
}

impl DomAction {
    /// Whether the action may start a navigation (a click, a key press).
    fn may_navigate(&self) -> bool {
        matches!(self, DomAction::Click { .. } | DomAction::Press { .. })
    }

    async fn perform(&self, page: &Page) -> Result<(), String> {
        let quoted = |s: &str| serde_json::to_string(s).expect("a string");
        let find = |selector: &str| {
            format!("(() => {{ const el = document.querySelector({}); if (!el) throw new Error('no element matches ' + {}); return el; }})()", quoted(selector), quoted(selector))
        };
        match self {
            DomAction::Fill { selector, value } => {
                let expr = format!(
                    "(() => {{ const el = {}; el.focus(); const proto = Object.getPrototypeOf(el); const d = Object.getOwnPropertyDescriptor(proto, 'value'); if (d && d.set) d.set.call(el, {}); else el.value = {}; el.dispatchEvent(new Event('input', {{ bubbles: true }})); el.dispatchEvent(new Event('change', {{ bubbles: true }})); return true; }})()",
                    find(selector), quoted(value), quoted(value)
                );
                evaluate(page, &expr).await.map(|_| ())
            }
            DomAction::Click { selector } => {
                evaluate(page, &find(selector)).await?;
                let element = page
                    .find_element(selector.as_str())
                    .await
                    .map_err(|e| format!("no element matches {selector}: {e}"))?;
                element
                    .click()
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("cannot click {selector}: {e}"))
            }
            DomAction::Press { key, selector } => {
                let selector = selector.clone().unwrap_or_else(|| ":focus".into());
                let element = page
                    .find_element(selector.as_str())
                    .await
                    .map_err(|e| format!("no element matches {selector}: {e}"))?;
                element
                    .press_key(key)
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("cannot press {key}: {e}"))
            }
            DomAction::Select { selector, value } => {
                let expr = format!(
                    "(() => {{ const el = {}; const v = {}; if (!Array.from(el.options || []).some(o => o.value === v)) throw new Error('no option with value ' + v); el.value = v; el.dispatchEvent(new Event('input', {{ bubbles: true }})); el.dispatchEvent(new Event('change', {{ bubbles: true }})); return true; }})()",
                    find(selector), quoted(value)
                );
                evaluate(page, &expr).await.map(|_| ())
            }
            DomAction::Check { selector, checked } => {
                let expr = format!("(() => {{ const el = {}; if (el.checked !== {checked}) el.click(); return true; }})()", find(selector));
                evaluate(page, &expr).await.map(|_| ())
            }
            DomAction::Script(expr) => evaluate(page, expr).await.map(|_| ()),
        }
    }
}

/// Up to 300 characters of `text` from 0-based `line` and `column`.
fn snippet_at(text: &str, line: usize, column: usize) -> String {
    let Some(line_text) = text.split('\n').nth(line) else {
        return String::new();
    };
    let start = line_text
        .char_indices()
        .nth(column)
        .map(|(i, _)| i)
        .unwrap_or(line_text.len());
    let line_start = text
        .split('\n')
        .take(line)
        .map(|l| l.len() + 1)
        .sum::<usize>();
    text[line_start + start..].chars().take(300).collect()
}

/// One operation on a tab: its event streams and what they told so far.
struct Operation {
    events: SelectAll<BoxStream<'static, Cdp>>,
    state: OpState,
    started: Instant,
    deadline: Instant,
    timeout: Duration,
}

impl Operation {
    async fn navigate(&mut self, page: &Page, url: &str) -> Result<(), Failure> {
        let secs = self.timeout.as_secs();
        let navigate = page.execute(NavigateParams::new(url));
        self.state.document_pending = true;
        let nav = tokio::select! {
            result = tokio::time::timeout_at(self.deadline.into(), navigate) => result,
            // Keep reading events meanwhile, so dialogs during navigation are handled.
            _ = self.state.pump(page, &mut self.events, self.deadline) => return Err(Failure::new("the renderer crashed or the browser died", false)),
        };
        match nav {
            Err(_) => Err(Failure::new(
                match self.state.documents.values().last() {
                    Some(status) => format!("no load event within {secs} s (the server answered HTTP {status}; a script that never yields?)"),
                    None => format!("no response within {secs} s"),
                },
                false,
            )),
            Ok(Err(e)) => Err(Failure::new(format!("navigation failed: {e}"), true)),
            Ok(Ok(response)) => {
                if let Some(error) = response.result.error_text.clone().filter(|e| !e.is_empty()) {
                    return Err(Failure::new(format!("navigation failed: {error}"), true));
                }
                self.state.loader_id = response.result.loader_id.as_ref().map(|l| l.inner().clone());
                Ok(())
            }
        }
    }

    /// Waits for the load of any pending document (within the page timeout,
    /// else the page is unreachable), then settles: until nothing can still push
    /// (`SettleMode::Auto`) or for network quiet plus the settle window
    /// (`SettleMode::Fixed`), at most `max_settle` after load. A page still busy
    /// then is judged on what it did, with the reason kept in `busy`.
    async fn settle(&mut self, page: &Page, options: &VisitOptions) -> Result<(), Failure> {
        let secs = self.timeout.as_secs();
        if !self
            .state
            .wait(page, &mut self.events, self.deadline, |s, _| {
                !s.document_pending || s.loaded_at.is_some()
            })
            .await
        {
            return Err(stuck(page, secs, self.state.crashed).await);
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
            }
            SettleMode::Auto => self.settle_auto(page, options, cap).await?,
        };
        if self.state.crashed {
            return Err(Failure::new(
                "the renderer crashed or the browser died",
                false,
            ));
        }
        if !settled {
            let now = Instant::now();
            let network = if self.state.network.pending(now) > 0 {
                Some(format!(
                    "{} request(s) in flight",
                    self.state.network.pending(now)
                ))
            } else if !self.state.network.is_quiet(now, options.settle) {
                Some("requests one after another".to_string())
            } else {
                None
            };
            self.state.busy = Some(busy_reason(page, options, network).await?);
        }
        Ok(())
    }

    /// Settles until nothing can still push: no request in flight, no one-shot
    /// timer or frame due within the settle window, and, while recurring work
    /// runs, no push and no request during the last window. False at `cap`.
    async fn settle_auto(
        &mut self,
        page: &Page,
        options: &VisitOptions,
        cap: Instant,
    ) -> Result<bool, Failure> {
        // A response's callbacks run just after its request finishes.
        const GRACE: Duration = Duration::from_millis(100);
        loop {
            let now = Instant::now();
            if now >= cap {
                return Ok(false);
            }
            let tick = (now + Duration::from_millis(50)).min(cap);
            self.state
                .wait(page, &mut self.events, tick, |s, now| {
                    s.crashed || s.network.is_quiet(now, GRACE)
                })
                .await;
            if self.state.crashed {
                return Ok(false);
            }
            let now = Instant::now();
            if !self.state.network.is_quiet(now, GRACE) {
                continue;
            }
            let pending = pending(page, options).await?;
            let Some(pending) = pending else {
                // A document without the recorder (an error page): network quiet is all.
                return Ok(true);
            };
            let window = options.settle;
            let silent = pending
                .since_push_ms
                .is_none_or(|ms| ms >= window.as_millis() as f64)
                && self.state.network.is_quiet(now, window);
            if pending.soon_ms.is_none() && (!pending.recurring || silent) {
                return Ok(true);
            }
            if let Some(ms) = pending.soon_ms {
                // Sleep until the timer is due, reading events meanwhile.
                let until = (Instant::now() + Duration::from_millis(ms as u64 + 10)).min(cap);
                self.state
                    .wait(page, &mut self.events, until, |s, _| s.crashed)
                    .await;
            }
        }
    }
}

/// What the recorder says can still push; `None` when it is not on the page.
async fn pending(page: &Page, options: &VisitOptions) -> Result<Option<Pending>, Failure> {
    let expr = format!(
        "window.__insiderAuditRecorder ? window.__insiderAuditRecorder.busy({}) : null",
        options.settle.as_millis()
    );
    match tokio::time::timeout(Duration::from_secs(2), evaluate(page, &expr)).await {
        Ok(Ok(value)) => Ok(serde_json::from_value(value).ok()),
        Ok(Err(_)) => Ok(None),
        Err(_) => Err(Failure::new(
            "a page script never yields: the page stopped answering after load",
            false,
        )),
    }
}

/// Why a page is still busy when the settle cap is reached (the `still-busy` note).
async fn busy_reason(
    page: &Page,
    options: &VisitOptions,
    network: Option<String>,
) -> Result<String, Failure> {
    let mut what: Vec<String> = network.into_iter().collect();
    if options.mode == SettleMode::Auto {
        if let Some(pending) = pending(page, options).await? {
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
async fn stuck(page: &Page, secs: u64, crashed: bool) -> Failure {
    if crashed {
        return Failure::new("the renderer crashed or the browser died", false);
    }
    let answers = tokio::time::timeout(Duration::from_secs(1), evaluate(page, "1"))
        .await
        .is_ok_and(|r| r.is_ok());
    let reason = if answers {
        format!("no load event within {secs} s")
    } else {
        format!("a page script never yields: the page stopped answering within {secs} s")
    };
    Failure::new(reason, answers)
}

/// What the recorder's `busy()` reports.
#[derive(Debug, Deserialize)]
struct Pending {
    soon_ms: Option<f64>,
    #[serde(default)]
    recurring: bool,
    since_push_ms: Option<f64>,
}

/// What one operation has learnt so far.
struct OpState {
    network: Inflight,
    /// Why the page was still busy when the settle cap was reached.
    busy: Option<String>,
    alive: Arc<std::sync::atomic::AtomicBool>,
    main_frame: String,
    document_pending: bool,
    loaded_at: Option<Instant>,
    crashed: bool,
    loader_id: Option<String>,
    last_document: Option<String>,
    documents: HashMap<String, u16>,
    sdk_ids: HashSet<String>,
    sdk_requests: Vec<String>,
    dialogs: Vec<Dialog>,
}

impl OpState {
    fn new(now: Instant, main_frame: String, alive: Arc<std::sync::atomic::AtomicBool>) -> Self {
        OpState {
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
    fn status(&self) -> Option<u16> {
        let id = self.last_document.as_ref().or(self.loader_id.as_ref())?;
        self.documents.get(id).copied()
    }

    async fn apply(&mut self, page: &Page, event: Cdp) {
        let now = Instant::now();
        match event {
            Cdp::RequestSent(e) => {
                let id = e.request_id.inner().clone();
                self.network.started(&id, now);
                let main_document = e.r#type == Some(ResourceType::Document)
                    && e.frame_id
                        .as_ref()
                        .is_some_and(|f| *f.inner() == self.main_frame);
                if main_document {
                    // A new document: what the old one requested no longer counts.
                    self.document_pending = true;
                    self.loaded_at = None;
                    self.last_document = Some(id.clone());
                    self.sdk_ids.clear();
                    self.sdk_requests.clear();
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
                }
            }
            Cdp::Load => {
                self.loaded_at = Some(now);
                self.network.touch(now);
            }
            Cdp::Dialog(e) => {
                self.dialogs.push(Dialog {
                    kind: format!("{:?}", e.r#type).to_lowercase(),
                    message: e.message.clone(),
                });
                // Dismiss, without waiting on the answer inside the event loop.
                let page = page.clone();
                tokio::spawn(async move {
                    let _ = page.execute(HandleJavaScriptDialogParams::new(false)).await;
                });
            }
            Cdp::Crashed => self.crashed = true,
        }
    }

    /// Reads events until `done` holds (true) or the deadline passes (false).
    async fn wait(
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

    /// Reads events until the deadline or a crash; used beside a pending command.
    async fn pump(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets() {
        let text = "a\n  window.InsiderQueue.push(x);\nnext";
        assert_eq!(&snippet_at(text, 1, 9)[..17], "InsiderQueue.push");
        assert_eq!(snippet_at(text, 7, 0), "");
    }

    #[test]
    fn wait_for_url_globs() {
        assert!(url_matches("/account", "http://a.test/account"));
        assert!(url_matches("/account/**", "http://a.test/account/orders"));
        assert!(!url_matches(
            "/account",
            "http://a.test/login?next=/account"
        ));
        assert!(url_matches("http://a.test/**", "http://a.test/x"));
    }
}
