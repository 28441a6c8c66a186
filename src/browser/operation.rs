//! One operation on a tab (a navigation, an action, a settle): the CDP event
//! streams it reads, its deadline, and the navigation itself. What the events
//! told is kept in `events`; the wait until a page is done, in `settle`.

use super::events::{Cdp, Navigation, OpState};
use super::failure::TabError;
use super::gatekeeper::Gate;
use super::options::VisitOptions;
use chromiumoxide::cdp::browser_protocol::emulation::SetCpuThrottlingRateParams;
use chromiumoxide::cdp::browser_protocol::inspector::EventTargetCrashed;
use chromiumoxide::cdp::browser_protocol::network::{
    EventLoadingFailed, EventLoadingFinished, EventRequestWillBeSent, EventResponseReceived,
};
use chromiumoxide::cdp::browser_protocol::page::{
    EventJavascriptDialogOpening, EventLoadEventFired, NavigateParams,
};
use chromiumoxide::cdp::js_protocol::runtime::EvaluateParams;
use chromiumoxide::Page;
use futures::stream::{BoxStream, SelectAll};
use futures::StreamExt;
use std::sync::atomic::AtomicBool;
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

impl Operation {
    /// Starts an operation on `page`: its event listeners first, so nothing
    /// that happens from here on is missed.
    pub(super) async fn start(
        page: &Page,
        alive: Arc<AtomicBool>,
        gate: Arc<Gate>,
        options: &VisitOptions,
    ) -> Result<Operation, TabError> {
        let listen = async {
            let mut all = SelectAll::new();
            all.push(
                page.event_listener::<EventRequestWillBeSent>()
                    .await?
                    .map(Cdp::RequestSent)
                    .boxed(),
            );
            all.push(
                page.event_listener::<EventLoadingFinished>()
                    .await?
                    .map(|e| Cdp::RequestDone(e.request_id.inner().clone()))
                    .boxed(),
            );
            all.push(
                page.event_listener::<EventLoadingFailed>()
                    .await?
                    .map(|e| Cdp::RequestDone(e.request_id.inner().clone()))
                    .boxed(),
            );
            all.push(
                page.event_listener::<EventResponseReceived>()
                    .await?
                    .map(Cdp::Response)
                    .boxed(),
            );
            all.push(
                page.event_listener::<EventLoadEventFired>()
                    .await?
                    .map(|_| Cdp::Load)
                    .boxed(),
            );
            all.push(
                page.event_listener::<EventJavascriptDialogOpening>()
                    .await?
                    .map(Cdp::Dialog)
                    .boxed(),
            );
            all.push(
                page.event_listener::<EventTargetCrashed>()
                    .await?
                    .map(|_| Cdp::Crashed)
                    .boxed(),
            );
            Ok::<_, chromiumoxide::error::CdpError>(all)
        };
        let events = listen.await.map_err(|e| TabError::Browser(e.to_string()))?;
        if let Some(rate) = options.cpu_throttle {
            page.execute(SetCpuThrottlingRateParams::new(rate))
                .await
                .map_err(|e| TabError::Browser(e.to_string()))?;
        }
        let started = Instant::now();
        Ok(Operation {
            events,
            state: OpState::new(started, page.target_id().inner().clone(), alive, gate),
            started,
            deadline: started + options.timeout,
            timeout: options.timeout,
        })
    }

    pub(super) async fn navigate(&mut self, page: &Page, url: &str) -> Result<(), TabError> {
        let secs = self.timeout.as_secs();
        let mut navigate = Box::pin(page.execute(NavigateParams::new(url)));
        self.state.navigation = Navigation::Awaiting(without_fragment(url).to_string());
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
                self.state.navigation = Navigation::Following;
                self.state.loaded_at.get_or_insert_with(Instant::now);
                self.state.gate.set_loaded();
                Ok(())
            }
        }
    }
}
