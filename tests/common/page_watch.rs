//! What a page did while a test looked at it, for the tests that open the
//! tool's own pages (the HTML report, the trend page, `history serve`) in
//! Chromium: console errors, uncaught exceptions, error log entries (CSP
//! violations, failed loads), dialogs, and every request it sent.

use chromiumoxide::cdp::browser_protocol::log::{EventEntryAdded, LogEntryLevel};
use chromiumoxide::cdp::browser_protocol::network::EventRequestWillBeSent;
use chromiumoxide::cdp::browser_protocol::page::EventJavascriptDialogOpening;
use chromiumoxide::cdp::js_protocol::runtime::{
    ConsoleApiCalledType, EventConsoleApiCalled, EventExceptionThrown,
};
use chromiumoxide::listeners::EventStream;
use chromiumoxide::Page;
use futures::{FutureExt, Stream, StreamExt};

/// The page's event streams, listened to from before its navigation.
pub struct PageWatch {
    console: EventStream<EventConsoleApiCalled>,
    exceptions: EventStream<EventExceptionThrown>,
    log: EventStream<EventEntryAdded>,
    dialogs: EventStream<EventJavascriptDialogOpening>,
    requests: EventStream<EventRequestWillBeSent>,
}

/// The events of `stream` that have arrived so far.
fn arrived<T, S: Stream<Item = T> + Unpin>(stream: &mut S) -> Vec<T> {
    let mut events = Vec::new();
    while let Some(Some(event)) = stream.next().now_or_never() {
        events.push(event);
    }
    events
}

impl PageWatch {
    /// Starts listening on `page` (before it navigates).
    pub async fn on(page: &Page) -> PageWatch {
        PageWatch {
            console: page.event_listener().await.unwrap(),
            exceptions: page.event_listener().await.unwrap(),
            log: page.event_listener().await.unwrap(),
            dialogs: page.event_listener().await.unwrap(),
            requests: page.event_listener().await.unwrap(),
        }
    }

    /// Console errors, uncaught exceptions and error log entries so far.
    pub fn errors(&mut self) -> Vec<String> {
        let mut errors: Vec<String> = arrived(&mut self.console)
            .into_iter()
            .filter(|e| e.r#type == ConsoleApiCalledType::Error)
            .map(|e| format!("{:?}", e.args))
            .collect();
        errors.extend(
            arrived(&mut self.exceptions)
                .into_iter()
                .map(|e| e.exception_details.text.clone()),
        );
        errors.extend(
            arrived(&mut self.log)
                .into_iter()
                .filter(|e| e.entry.level == LogEntryLevel::Error)
                .map(|e| e.entry.text.clone()),
        );
        errors
    }

    /// Whether a dialog opened (script from the page's data ran).
    pub fn dialog_opened(&mut self) -> bool {
        !arrived(&mut self.dialogs).is_empty()
    }

    /// The URLs of the requests sent so far.
    pub fn requests(&mut self) -> Vec<String> {
        arrived(&mut self.requests)
            .into_iter()
            .map(|e| e.request.url.clone())
            .collect()
    }
}
