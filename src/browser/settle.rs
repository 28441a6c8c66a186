//! The settle rules of the README's "How a page is audited": when a page is
//! done. Waits for the document's load, then asks the in-page recorder what
//! can still push (`SettleMode::Auto`) or waits for network quiet and a fixed
//! window (`SettleMode::Fixed`), at most `max_settle` after load; a page still
//! busy then is judged on what it did, with the reason kept.

use super::events::Navigation;
use super::failure::TabError;
use super::operation::{evaluate, Operation};
use super::options::{SettleMode, VisitOptions};
use chromiumoxide::Page;
use serde::Deserialize;
use std::time::{Duration, Instant};

/// How long a page that stopped answering gets to crash (see
/// `Operation::stuck_or_crashed`).
const CRASH_GRACE: Duration = Duration::from_secs(1);

impl Operation {
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
                s.navigation == Navigation::Idle
                    || s.loaded_at.is_some()
                    || s.not_a_page().is_some()
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
