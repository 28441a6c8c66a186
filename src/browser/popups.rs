//! Windows pages open (`window.open` after a click, a `target=_blank` link a
//! step clicked): never audited, never left running, and in a browser the tool
//! launched, never requesting anything. Without a click Chromium blocks them
//! itself.
//!
//! Chromium reports a new window (`Target.targetCreated`) about when its first
//! request leaves, so closing it is not enough: the browser-wide `Fetch`
//! interception holds every document request until its frame is known not to
//! be a popup's (one `Target.getTargetInfo` per frame, then remembered).

use chromiumoxide::cdp::browser_protocol::browser::BrowserContextId;
use chromiumoxide::cdp::browser_protocol::fetch::{
    ContinueRequestParams, EnableParams as FetchEnable, EventRequestPaused, FailRequestParams,
    RequestPattern, RequestStage,
};
use chromiumoxide::cdp::browser_protocol::network::{ErrorReason, ResourceType};
use chromiumoxide::cdp::browser_protocol::target::{
    CloseTargetParams, EventTargetCreated, GetTargetInfoParams, TargetId, TargetInfo,
};
use chromiumoxide::error::CdpError;
use futures::StreamExt;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;

type Contexts = Arc<Mutex<HashSet<BrowserContextId>>>;

/// Whether `info` is a window a page opened in one of our browser contexts.
fn is_popup(info: &TargetInfo, contexts: &Contexts) -> bool {
    info.r#type == "page"
        && info.opener_id.is_some()
        && info
            .browser_context_id
            .as_ref()
            .is_some_and(|c| contexts.lock().expect("contexts lock").contains(c))
}

/// Watches for popups in `contexts`: closes each as it is created and, when
/// `hold` (a browser the tool launched), fails its requests before they leave.
pub(super) async fn watch(
    client: Arc<chromiumoxide::Browser>,
    contexts: Contexts,
    hold: bool,
) -> Result<JoinHandle<()>, CdpError> {
    let mut created = client.event_listener::<EventTargetCreated>().await?;
    let mut paused = client.event_listener::<EventRequestPaused>().await?;
    if hold {
        let documents = RequestPattern::builder()
            .url_pattern("*")
            .resource_type(ResourceType::Document)
            .request_stage(RequestStage::Request)
            .build();
        client
            .execute(FetchEnable::builder().pattern(documents).build())
            .await?;
    }
    Ok(tokio::spawn(async move {
        // Frame id → whether it is a popup's (main frames' ids are their targets').
        let mut frames: HashMap<String, bool> = HashMap::new();
        loop {
            tokio::select! {
                Some(event) = created.next() => {
                    let info = &event.target_info;
                    if is_popup(info, &contexts) {
                        tracing::debug!(url = %info.url, "closing a window a page opened");
                        frames.insert(info.target_id.inner().clone(), true);
                        close(&client, info.target_id.clone());
                    }
                }
                Some(event) = paused.next() => {
                    let frame = event.frame_id.inner().clone();
                    let popup = match frames.get(&frame) {
                        Some(popup) => *popup,
                        None => {
                            let info = client
                                .execute(GetTargetInfoParams::builder().target_id(TargetId::new(frame.clone())).build())
                                .await;
                            // Not a target (a frame inside a page): not a popup.
                            let popup = info.is_ok_and(|i| is_popup(&i.result.target_info, &contexts));
                            frames.insert(frame.clone(), popup);
                            popup
                        }
                    };
                    let client = client.clone();
                    let id = event.request_id.clone();
                    if popup {
                        tracing::debug!(url = %event.request.url, "not requested: a window a page opened");
                        close(&client, TargetId::new(frame));
                        tokio::spawn(async move {
                            let _ = client.execute(FailRequestParams::new(id, ErrorReason::BlockedByClient)).await;
                        });
                    } else {
                        tokio::spawn(async move {
                            let _ = client.execute(ContinueRequestParams::new(id)).await;
                        });
                    }
                }
                else => break,
            }
        }
    }))
}

/// Closes a popup's target without waiting for the answer.
fn close(client: &Arc<chromiumoxide::Browser>, target: TargetId) {
    let client = client.clone();
    tokio::spawn(async move {
        let _ = client.execute(CloseTargetParams::new(target)).await;
    });
}
