//! The tab's gatekeeper: every document request of the tab's main frame is
//! paused (CDP Fetch domain) until the gatekeeper decides whether it goes on,
//! so a navigation out of scope is never requested, a page leaving its scope
//! stays where it is, and a download is stopped before it starts.
//!
//! It keeps the books the tab reads after an operation: which navigations it
//! refused, where the loaded (or committed) page tried to go, and why a
//! document's response was stopped.

use crate::scope::Scope;
use chromiumoxide::cdp::browser_protocol::fetch::{
    ContinueRequestParams, EnableParams as FetchEnable, EventRequestPaused, FailRequestParams,
    FulfillRequestParams, RequestPattern, RequestStage,
};
use chromiumoxide::cdp::browser_protocol::network::{ErrorReason, ResourceType};
use chromiumoxide::Page;
use futures::StreamExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;

/// The gatekeeper's task; dropping it stops the task (a tab dropped without
/// `close`, on an error path or a cancelled future, leaves nothing running).
pub(super) struct Gatekeeper {
    gate: Arc<Gate>,
    task: JoinHandle<()>,
}

/// What the gatekeeper and the tab's operations share.
#[derive(Default)]
pub(super) struct Gate {
    /// The scope navigations are held to: the crawl's while a crawl visit
    /// runs, else the tab's standing one; `None`: any navigation.
    scope: Mutex<Option<Scope>>,
    /// Navigations refused because they left the scope.
    blocked: Mutex<Vec<String>>,
    /// Whether the current page reached its load event (a navigation out of
    /// scope after it is the page leaving: it is held, not failed).
    loaded: AtomicBool,
    /// Whether the current document committed (the gatekeeper saw its
    /// answer): a navigation out of scope after that is the page leaving too,
    /// during its load (a geo redirect in the head).
    committed: AtomicBool,
    /// Where the loaded page tried to go out of scope (the first such URL).
    left_to: Mutex<Option<String>>,
    /// Why the gatekeeper stopped the document's response (a download).
    refused: Mutex<Option<String>>,
}

impl Gate {
    /// Holds the tab's navigations to `scope` from now on (`None`: anywhere).
    pub(super) fn hold_to(&self, scope: Option<Scope>) {
        *self.scope.lock().expect("scope lock") = scope;
    }

    /// A new page is about to be visited: it has neither committed nor loaded.
    pub(super) fn new_page(&self) {
        self.loaded.store(false, Ordering::SeqCst);
        self.committed.store(false, Ordering::SeqCst);
    }

    /// The current page reached its load event.
    pub(super) fn set_loaded(&self) {
        self.loaded.store(true, Ordering::SeqCst);
    }

    /// Whether the current page reached its load event.
    pub(super) fn loaded(&self) -> bool {
        self.loaded.load(Ordering::SeqCst)
    }

    /// Forgets the navigations held for the last operation.
    pub(super) fn clear_scope_log(&self) {
        self.blocked.lock().expect("blocked lock").clear();
        *self.left_to.lock().expect("left_to lock") = None;
    }

    /// The first navigation refused as out of scope since the log was cleared.
    pub(super) fn blocked(&self) -> Option<String> {
        self.blocked.lock().expect("blocked lock").first().cloned()
    }

    /// Where the loaded page tried to go out of scope, if it did.
    pub(super) fn left_to(&self) -> Option<String> {
        self.left_to.lock().expect("left_to lock").clone()
    }

    /// Where the last operation tried to go out of scope, if it did.
    pub(super) fn went_out_of_scope(&self) -> Option<String> {
        self.blocked().or_else(|| self.left_to())
    }

    /// Why the document's response was stopped, if it was.
    pub(super) fn refused(&self) -> Option<String> {
        self.refused.lock().expect("refused lock").clone()
    }

    /// Forgets why an earlier document's response was stopped.
    pub(super) fn clear_refused(&self) {
        *self.refused.lock().expect("refused lock") = None;
    }
}

impl Gatekeeper {
    /// Pauses every document request of `page` (before it is sent and again at
    /// its response) and starts deciding on them. Call once per tab, before
    /// its first navigation.
    pub(super) async fn enable(page: &Page) -> Result<Self, chromiumoxide::error::CdpError> {
        let mut paused = page.event_listener::<EventRequestPaused>().await?;
        let pattern = |stage| {
            RequestPattern::builder()
                .url_pattern("*")
                .resource_type(ResourceType::Document)
                .request_stage(stage)
                .build()
        };
        page.execute(
            FetchEnable::builder()
                .pattern(pattern(RequestStage::Request))
                .pattern(pattern(RequestStage::Response))
                .build(),
        )
        .await?;
        let gate: Arc<Gate> = Arc::default();
        let task = {
            let (page, gate) = (page.clone(), gate.clone());
            let main_frame = page.target_id().inner().clone();
            tokio::spawn(async move {
                while let Some(event) = paused.next().await {
                    decide(&page, &gate, &main_frame, &event);
                }
            })
        };
        Ok(Gatekeeper { gate, task })
    }

    /// The books the gatekeeper keeps, shared with the tab's operations.
    pub(super) fn gate(&self) -> &Arc<Gate> {
        &self.gate
    }

    /// Stops deciding: paused requests are no longer answered.
    pub(super) fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for Gatekeeper {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Answers one paused request; the answer is sent from its own task, so a slow
/// answer never holds the next decision.
fn decide(page: &Page, gate: &Gate, main_frame: &str, event: &EventRequestPaused) {
    let id = event.request_id.clone();
    // Frames inside the page (a video embed, a payment form) are the page's
    // own content: never held.
    if *event.frame_id.inner() != main_frame {
        answer(page, ContinueRequestParams::new(id));
        return;
    }
    if event.response_status_code.is_some() || event.response_error_reason.is_some() {
        // A document's response: a download is stopped before it starts (a
        // pending download holds the context's other navigations); everything
        // else goes on.
        let download = event.response_headers.iter().flatten().any(|h| {
            h.name.eq_ignore_ascii_case("content-disposition")
                && h.value
                    .trim_start()
                    .to_ascii_lowercase()
                    .starts_with("attachment")
        });
        // The document commits: a navigation after this one is the page
        // leaving (a head script's redirect), not a redirect of the URL asked for.
        let status = event.response_status_code.unwrap_or(0);
        if !download
            && event.response_error_reason.is_none()
            && !(300..400).contains(&status)
            && !matches!(status, 204 | 205)
        {
            gate.committed.store(true, Ordering::SeqCst);
        }
        if download {
            *gate.refused.lock().expect("refused lock") =
                Some("the response is a download (Content-Disposition: attachment)".into());
            answer(page, FailRequestParams::new(id, ErrorReason::Aborted));
        } else {
            answer(page, ContinueRequestParams::new(id));
        }
        return;
    }
    let allowed = match (
        gate.scope.lock().expect("scope lock").as_ref(),
        url::Url::parse(&event.request.url),
    ) {
        (None, _) => true,
        (Some(scope), Ok(url)) => scope.allows(&url),
        (Some(_), Err(_)) => false,
    };
    if allowed {
        answer(page, ContinueRequestParams::new(id));
    } else if gate.loaded.load(Ordering::SeqCst) || gate.committed.load(Ordering::SeqCst) {
        // The loaded page navigates itself away (a meta refresh,
        // location.href): answered "204 No Content", so the browser stays on
        // the page and it is judged on what it did; the report says where it
        // tried to go.
        tracing::info!(url = %event.request.url, "not requested: the page tried to leave the scope");
        gate.left_to
            .lock()
            .expect("left_to lock")
            .get_or_insert_with(|| event.request.url.clone());
        answer(page, FulfillRequestParams::new(id, 204));
    } else {
        tracing::info!(url = %event.request.url, "not requested: outside the crawl's scope");
        gate.blocked
            .lock()
            .expect("blocked lock")
            .push(event.request.url.clone());
        answer(
            page,
            FailRequestParams::new(id, ErrorReason::BlockedByClient),
        );
    }
}

/// Sends `command` from its own task (its result is of no use here).
fn answer<C>(page: &Page, command: C)
where
    C: chromiumoxide::types::Command + Send + 'static,
{
    let page = page.clone();
    tokio::spawn(async move {
        let _ = page.execute(command).await;
    });
}
