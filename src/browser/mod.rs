//! The browser: finding, launching and connecting to Chromium, and closing it so
//! that no process outlives the tool. Knows nothing of the CLI, the crawl or
//! the rule checks: it turns a visit into a [`crate::capture::PageCapture`].
//!
//! - `locate`, `process`: finding the executable; the Chromium process, launched
//!   and closed asynchronously.
//! - `popups`: closes the windows pages open.
//! - `tab`: one tab auditing pages; `gatekeeper`: which of its document requests
//!   go on; `recorder`: the in-page recorder and its log.
//! - `operation` (one navigation, action or settle), `events` (what its CDP
//!   events told), `settle` (when a page is done), `options` (how a page is
//!   visited).
//! - `dom`: actions in the page; `sources`: script sources from the debugger;
//!   `failure`: why a page could not be audited.

mod dom;
mod events;
mod failure;
mod gatekeeper;
mod locate;
mod operation;
mod options;
mod popups;
mod process;
mod recorder;
mod settle;
mod sources;
mod tab;

pub use dom::{DomAction, WaitCondition};
pub use failure::TabError;
pub use locate::locate;
pub use options::{SettleMode, VisitOptions, DEFAULT_USER_EXPR};
pub use process::{ChromiumProcess, FLAGS};
pub use recorder::{Mark, RECORDER_JS};
pub use tab::{Tab, Visit};

use crate::error::Fatal;
use chromiumoxide::cdp::browser_protocol::browser::{
    BrowserContextId, SetDownloadBehaviorBehavior, SetDownloadBehaviorParams,
};
use chromiumoxide::cdp::browser_protocol::target::{
    CreateBrowserContextParams, CreateTargetParams,
};
use chromiumoxide::handler::HandlerConfig;
use chromiumoxide::Page;
use futures::StreamExt;
use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;

/// A connected browser: the CDP client, the task polling its handler, and (when
/// we launched it) the process.
pub struct Browser {
    client: Arc<chromiumoxide::Browser>,
    handler: JoinHandle<()>,
    /// Closes the windows pages open, before they request anything (see
    /// [`popups::watch`]).
    popups: JoinHandle<()>,
    /// The browser contexts this tool created: only their popups are closed.
    contexts: Arc<Mutex<HashSet<BrowserContextId>>>,
    /// False once the DevTools connection is gone (the browser died).
    alive: Arc<AtomicBool>,
    process: Option<ChromiumProcess>,
}

impl Browser {
    /// Launches Chromium from `executable` with a fresh profile, the tool's
    /// flags and then `args`, and connects to it.
    pub async fn launch(executable: &Path, args: &[String]) -> Result<Browser, Fatal> {
        let (process, ws_url) = ChromiumProcess::spawn(executable, args).await?;
        tracing::debug!(pid = process.pid(), %ws_url, "chromium started");
        match Browser::connect_to(&ws_url, true).await {
            Ok(mut browser) => {
                browser.process = Some(process);
                Ok(browser)
            }
            Err(e) => {
                process.kill().await;
                Err(Fatal::BrowserLaunch {
                    path: executable.to_path_buf(),
                    reason: e.to_string(),
                })
            }
        }
    }

    /// Connects to a running browser's DevTools websocket (`--browser-ws`).
    pub async fn connect(ws_url: &str) -> Result<Browser, Fatal> {
        Browser::connect_to(ws_url, false).await
    }

    /// Connects; `own`: the tool launched this browser, so it may hold every
    /// document request of the browser until it knows it is not a popup's
    /// (in a browser we only connected to, that would slow other users' tabs:
    /// there popups are closed, not held).
    async fn connect_to(ws_url: &str, own: bool) -> Result<Browser, Fatal> {
        let config = HandlerConfig {
            viewport: None,
            request_timeout: Duration::from_secs(30),
            ..HandlerConfig::default()
        };
        let (client, mut handler) = chromiumoxide::Browser::connect_with_config(ws_url, config)
            .await
            .map_err(|e| Fatal::BrowserDied(format!("cannot connect to {ws_url}: {e}")))?;
        // The handler must be polled for anything to happen. Chromium sends
        // messages this chromiumoxide cannot decode: log them and keep polling.
        let alive = Arc::new(AtomicBool::new(true));
        let connected = alive.clone();
        let handler = tokio::spawn(async move {
            while let Some(item) = handler.next().await {
                match item {
                    Ok(()) => {}
                    // The websocket itself failed: the browser is gone.
                    Err(chromiumoxide::error::CdpError::Ws(error)) => {
                        tracing::debug!(%error, "the DevTools connection failed");
                        break;
                    }
                    Err(error) => tracing::debug!(%error, "CDP message not understood (ignored)"),
                }
            }
            // The connection is gone: commands in flight will never be answered.
            connected.store(false, Ordering::SeqCst);
            tracing::debug!("CDP connection closed");
        });
        let client = Arc::new(client);
        let contexts = Arc::default();
        let popups = popups::watch(client.clone(), Arc::clone(&contexts), own)
            .await
            .map_err(|e| Fatal::BrowserDied(format!("cannot watch {ws_url}'s windows: {e}")))?;
        Ok(Browser {
            client,
            handler,
            popups,
            contexts,
            alive,
            process: None,
        })
    }

    /// A new isolated browser context (its own cookies and storage).
    /// Downloads are denied in it: a link to a file is no page to audit, and
    /// a download left pending would hold the context's later navigations.
    pub async fn new_context(&self) -> Result<BrowserContextId, Fatal> {
        let context = self
            .client
            .create_browser_context(CreateBrowserContextParams::default())
            .await
            .map_err(|e| Fatal::BrowserDied(format!("cannot create a browser context: {e}")))?;
        let deny = SetDownloadBehaviorParams::builder()
            .behavior(SetDownloadBehaviorBehavior::Deny)
            .browser_context_id(context.clone())
            .build()
            .map_err(Fatal::BrowserDied)?;
        self.client
            .execute(deny)
            .await
            .map_err(|e| Fatal::BrowserDied(format!("cannot set up a browser context: {e}")))?;
        self.contexts.lock().unwrap().insert(context.clone());
        Ok(context)
    }

    /// Drops a browser context and everything in it (tabs, cookies, storage).
    pub async fn dispose_context(&self, context: BrowserContextId) {
        self.contexts.lock().unwrap().remove(&context);
        let _ = tokio::time::timeout(
            Duration::from_secs(5),
            self.client.dispose_browser_context(context),
        )
        .await;
    }

    /// Whether the DevTools connection still stands.
    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    /// The failure to report once the browser is gone.
    pub fn died(&self) -> Fatal {
        Fatal::BrowserDied(
            "the DevTools connection was lost (the browser exited or was killed)".into(),
        )
    }

    /// A new tab in `context` with the recorder installed, ready to audit.
    pub async fn open_tab(&self, context: &BrowserContextId) -> Result<Tab, Fatal> {
        Tab::new(self.new_tab(context).await?, self.alive.clone()).await
    }

    /// A new blank tab in `context`.
    pub async fn new_tab(&self, context: &BrowserContextId) -> Result<Page, Fatal> {
        let params = CreateTargetParams::builder()
            .url("about:blank")
            .browser_context_id(context.clone())
            .build()
            .map_err(Fatal::BrowserDied)?;
        tokio::time::timeout(Duration::from_secs(30), self.client.new_page(params))
            .await
            .map_err(|_| Fatal::BrowserDied("opening a tab timed out".into()))?
            .map_err(|e| Fatal::BrowserDied(format!("cannot open a tab: {e}")))
    }

    /// Closes the browser in order, then makes sure the process is gone.
    /// A browser we connected to (`--browser-ws`) is left running: only our
    /// browser contexts are gone (each audit disposes its own).
    pub async fn close(mut self) {
        // The popup watch holds the other reference to the client.
        self.popups.abort();
        let _ = (&mut self.popups).await;
        if let Some(process) = self.process.take() {
            if let Some(client) = Arc::get_mut(&mut self.client) {
                let _ = tokio::time::timeout(Duration::from_secs(3), client.close()).await;
            }
            // Waits for the whole process group to exit.
            process.close().await;
        }
        self.handler.abort();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // On an error path or a cancelled future: kill without ceremony (and
        // without waiting; `close` is the way that waits).
        self.popups.abort();
        self.handler.abort();
        self.process.take();
    }
}
