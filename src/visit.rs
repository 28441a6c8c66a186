//! Visiting one page in a tab: navigate, settle, take the recorder's log, and
//! return a [`PageCapture`]. This is the only module that reads a page.

use crate::capture::{is_sdk_script, Dialog, Event, PageCapture, ReadBack};
use crate::error::Fatal;
use crate::network::Inflight;
use chromiumoxide::cdp::browser_protocol::inspector::EventTargetCrashed;
use chromiumoxide::cdp::browser_protocol::network::{
    EventLoadingFailed, EventLoadingFinished, EventRequestWillBeSent, EventResponseReceived,
    ResourceType,
};
use chromiumoxide::cdp::browser_protocol::page::{
    AddScriptToEvaluateOnNewDocumentParams, EventJavascriptDialogOpening, EventLoadEventFired,
    HandleJavaScriptDialogParams, NavigateParams,
};
use chromiumoxide::cdp::js_protocol::debugger::{
    EnableParams as DebuggerEnable, EventScriptParsed, GetScriptSourceParams,
    SetSkipAllPausesParams,
};
use chromiumoxide::cdp::js_protocol::runtime::{EvaluateParams, TerminateExecutionParams};
use chromiumoxide::Page;
use futures::stream::{BoxStream, SelectAll};
use futures::StreamExt;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
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
    /// After network quiet, wait this long for late pushes (timers, route changes).
    pub settle: Duration,
    /// The expression that reads the user back.
    pub user_expr: String,
}

impl Default for VisitOptions {
    fn default() -> Self {
        VisitOptions {
            timeout: Duration::from_secs(30),
            quiet: Duration::from_millis(500),
            settle: Duration::from_millis(500),
            user_expr: DEFAULT_USER_EXPR.to_string(),
        }
    }
}

/// A tab with the recorder installed, reused from page to page.
pub struct Tab {
    page: Page,
}

/// What a visit produced.
pub struct Visit {
    /// The capture, possibly of an unreachable page.
    pub capture: PageCapture,
    /// False when the tab is stuck (a script that never yields) and must be
    /// replaced by a new one.
    pub tab_usable: bool,
}

/// Everything the event loop of one visit learns from CDP.
enum Cdp {
    RequestSent(Arc<EventRequestWillBeSent>),
    RequestDone(String),
    Response(Arc<EventResponseReceived>),
    Load,
    Dialog(Arc<EventJavascriptDialogOpening>),
    Script(Arc<EventScriptParsed>),
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
}

impl Tab {
    /// Prepares a tab: the recorder on every new document, and the debugger (for
    /// reading script sources) with pauses skipped so `debugger;` cannot hang a page.
    pub async fn new(page: Page) -> Result<Tab, Fatal> {
        let setup = async {
            page.execute(AddScriptToEvaluateOnNewDocumentParams::new(RECORDER_JS))
                .await?;
            page.execute(DebuggerEnable::default()).await?;
            page.execute(SetSkipAllPausesParams::new(true)).await?;
            Ok::<_, chromiumoxide::error::CdpError>(())
        };
        tokio::time::timeout(Duration::from_secs(20), setup)
            .await
            .map_err(|_| Fatal::BrowserDied("setting up a tab timed out".into()))?
            .map_err(|e| Fatal::BrowserDied(format!("cannot set up a tab: {e}")))?;
        Ok(Tab { page })
    }

    /// Closes the tab, giving up quickly on a stuck renderer.
    pub async fn close(self) {
        let _ = tokio::time::timeout(
            Duration::from_secs(2),
            self.page.execute(TerminateExecutionParams::default()),
        )
        .await;
        let _ = tokio::time::timeout(Duration::from_secs(5), self.page.close()).await;
    }

    async fn listen(
        &self,
    ) -> Result<SelectAll<BoxStream<'static, Cdp>>, chromiumoxide::error::CdpError> {
        let p = &self.page;
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
            p.event_listener::<EventScriptParsed>()
                .await?
                .map(Cdp::Script)
                .boxed(),
        );
        all.push(
            p.event_listener::<EventTargetCrashed>()
                .await?
                .map(|_| Cdp::Crashed)
                .boxed(),
        );
        Ok(all)
    }

    /// Visits `url` and records what happened to `window.InsiderQueue`.
    pub async fn visit(&self, url: &str, options: &VisitOptions) -> Visit {
        let started = Instant::now();
        let deadline = started + options.timeout;
        let mut state = VisitState::new(started);
        let unreachable = |capture: PageCapture, tab_usable| Visit {
            capture,
            tab_usable,
        };
        let mut events = match self.listen().await {
            Ok(events) => events,
            Err(e) => {
                return unreachable(
                    PageCapture::unreachable(url, format!("browser error: {e}")),
                    false,
                )
            }
        };

        // Navigate; Page.navigate answers once the response is committed (or failed).
        let navigate = self.page.execute(NavigateParams::new(url));
        let nav = tokio::select! {
            result = tokio::time::timeout_at(deadline.into(), navigate) => result,
            // Keep reading events meanwhile, so dialogs during navigation are handled.
            _ = state.pump(&self.page, &mut events, deadline) => return unreachable(
                PageCapture::unreachable(url, "the renderer crashed"), false),
        };
        let loader_id = match nav {
            Err(_) => {
                let secs = options.timeout.as_secs();
                let reason = match state.documents.values().last() {
                    Some(status) => format!("no load event within {secs} s (the server answered HTTP {status}; a script that never yields?)"),
                    None => format!("no response within {secs} s"),
                };
                return unreachable(PageCapture::unreachable(url, reason), false);
            }
            Ok(Err(e)) => {
                return unreachable(
                    PageCapture::unreachable(url, format!("navigation failed: {e}")),
                    true,
                )
            }
            Ok(Ok(response)) => {
                if let Some(error) = response.result.error_text.filter(|e| !e.is_empty()) {
                    return unreachable(
                        PageCapture::unreachable(url, format!("navigation failed: {error}")),
                        true,
                    );
                }
                response.result.loader_id.map(|l| l.inner().clone())
            }
        };
        state.loader_id = loader_id;

        // Load event.
        if !state
            .wait(&self.page, &mut events, deadline, |s, _| s.loaded)
            .await
        {
            let reason = if state.crashed {
                "the renderer crashed".to_string()
            } else {
                format!(
                    "no load event within {} s (a script that never yields?)",
                    options.timeout.as_secs()
                )
            };
            return unreachable(PageCapture::unreachable(url, reason), false);
        }
        let load_ms = started.elapsed().as_millis() as u64;
        if let Some(status) = state.status().filter(|s| *s >= 400) {
            let mut capture = PageCapture::unreachable(url, format!("HTTP status {status}"));
            capture.status = Some(status);
            return unreachable(capture, true);
        }

        // Network quiet, then the settle window (new activity restarts the wait).
        let quiet = options.quiet + options.settle;
        if !state
            .wait(&self.page, &mut events, deadline, |s, now| {
                s.network.is_quiet(now, quiet)
            })
            .await
        {
            return unreachable(
                PageCapture::unreachable(
                    url,
                    format!(
                        "the page did not settle within {} s (network never quiet)",
                        options.timeout.as_secs()
                    ),
                ),
                !state.crashed,
            );
        }

        // Take the log and read the user back.
        let collect = self.collect(&options.user_expr);
        let collect_deadline = deadline.max(Instant::now() + Duration::from_secs(1));
        let dump = tokio::select! {
            dump = tokio::time::timeout_at(collect_deadline.into(), collect) => dump.ok(),
            _ = state.pump(&self.page, &mut events, collect_deadline) => None,
        };
        let dump = match dump {
            Some(Ok(dump)) => dump,
            Some(Err(reason)) => return unreachable(PageCapture::unreachable(url, reason), true),
            None if state.crashed => {
                return unreachable(PageCapture::unreachable(url, "the renderer crashed"), false)
            }
            None => {
                return unreachable(
                    PageCapture::unreachable(
                        url,
                        format!(
                            "a page script never yields: the page did not answer within {} s",
                            options.timeout.as_secs()
                        ),
                    ),
                    false,
                )
            }
        };
        let mut capture = PageCapture {
            url: url.to_string(),
            final_url: dump.href,
            status: state.status(),
            load_ms: Some(load_ms),
            unreachable: None,
            events: dump.events,
            events_dropped: dump.dropped,
            readback: dump.readback,
            sdk_present: dump.sdk,
            sdk_requests: state.sdk_requests.clone(),
            dialogs: state.dialogs.clone(),
            logged_in_from_seq: None,
        };
        if dump.missing {
            capture.unreachable = Some(crate::capture::Unreachable {
                reason: "the recorder did not run on this page".into(),
            });
        }
        self.fill_sources(&mut capture.events, &state.scripts).await;
        Visit {
            capture,
            tab_usable: true,
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
  return {{ events: out.events, dropped: out.dropped, readback, sdk, href: document.URL }};
}})()"#
        );
        let params = EvaluateParams::builder()
            .expression(expression)
            .return_by_value(true)
            .build()
            .map_err(|e| e.to_string())?;
        let result = self
            .page
            .execute(params)
            .await
            .map_err(|e| format!("reading the recorder failed: {e}"))?;
        if let Some(details) = &result.result.exception_details {
            return Err(format!("reading the recorder failed: {}", details.text));
        }
        let value = result.result.result.value.clone().unwrap_or_default();
        serde_json::from_value(value).map_err(|e| format!("the recorder's log is unreadable: {e}"))
    }

    /// Adds the script text at each absent read, so checks can tell a push from a test.
    async fn fill_sources(&self, events: &mut [Event], scripts: &[Arc<EventScriptParsed>]) {
        let mut sources: HashMap<String, Option<String>> = HashMap::new();
        for event in events.iter_mut() {
            let Event::AbsentRead {
                location: Some(location),
                source,
                ..
            } = event
            else {
                continue;
            };
            let (line, column) = (i64::from(location.line) - 1, i64::from(location.column) - 1);
            let candidates = scripts.iter().filter(|s| {
                s.url == location.script
                    && (line, column) >= (s.start_line, s.start_column)
                    && (line, column) <= (s.end_line, s.end_column)
            });
            let mut best: Option<String> = None;
            for script in candidates {
                let id = script.script_id.inner().clone();
                if !sources.contains_key(&id) {
                    let text = tokio::time::timeout(
                        Duration::from_secs(5),
                        self.page
                            .execute(GetScriptSourceParams::new(script.script_id.clone())),
                    )
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .map(|r| r.result.script_source.clone());
                    sources.insert(id.clone(), text);
                }
                let Some(text) = sources[&id].as_deref() else {
                    continue;
                };
                let rel_line = (line - script.start_line) as usize;
                let col = if rel_line == 0 {
                    column - script.start_column
                } else {
                    column
                } as usize;
                let snippet = snippet_at(text, rel_line, col);
                let points_at_queue = snippet
                    .get(..24)
                    .is_some_and(|s| s.contains("InsiderQueue"));
                if points_at_queue || best.is_none() {
                    best = Some(snippet);
                }
                if points_at_queue {
                    break;
                }
            }
            *source = best;
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

/// What one visit has learnt so far.
struct VisitState {
    network: Inflight,
    loaded: bool,
    crashed: bool,
    loader_id: Option<String>,
    documents: HashMap<String, u16>,
    sdk_ids: HashSet<String>,
    sdk_requests: Vec<String>,
    dialogs: Vec<Dialog>,
    scripts: Vec<Arc<EventScriptParsed>>,
}

impl VisitState {
    fn new(now: Instant) -> Self {
        VisitState {
            network: Inflight::new(now),
            loaded: false,
            crashed: false,
            loader_id: None,
            documents: HashMap::new(),
            sdk_ids: HashSet::new(),
            sdk_requests: Vec::new(),
            dialogs: Vec::new(),
            scripts: Vec::new(),
        }
    }

    /// HTTP status of the navigated document.
    fn status(&self) -> Option<u16> {
        self.loader_id
            .as_ref()
            .and_then(|id| self.documents.get(id).copied())
    }

    async fn apply(&mut self, page: &Page, event: Cdp) {
        let now = Instant::now();
        match event {
            Cdp::RequestSent(e) => {
                let id = e.request_id.inner().clone();
                self.network.started(&id, now);
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
                self.loaded = true;
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
            Cdp::Script(e) => self.scripts.push(e),
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
}
