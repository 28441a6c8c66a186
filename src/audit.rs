//! Auditing a list of pages over a pool of reused tabs: each page is visited,
//! judged, and handed to the caller as soon as it is done.

use crate::browser::Browser;
use crate::capture::PageCapture;
use crate::checks::{self, PageContext};
use crate::error::Fatal;
use crate::finding::Finding;
use crate::rules::Severity;
use crate::screenshot::Screenshots;
use crate::visit::{Tab, VisitOptions};
use std::collections::VecDeque;
use std::sync::Mutex;

/// A page to audit, with how to judge it.
#[derive(Debug, Clone)]
pub struct Target {
    /// The URL to visit.
    pub url: String,
    /// The scenario it belongs to (`logged-out` for `check`).
    pub scenario: String,
    /// Session state and expectations.
    pub context: PageContext,
}

/// One audited page: what was captured and what was found.
#[derive(Debug, Clone)]
pub struct PageResult {
    /// Position in the list of targets.
    pub index: usize,
    /// The target.
    pub target: Target,
    /// What the visit recorded.
    pub capture: PageCapture,
    /// What the checks found.
    pub findings: Vec<Finding>,
    /// A screenshot of the page, relative to the report directory.
    pub screenshot: Option<String>,
}

impl PageResult {
    /// Findings at `severity` that count (not accepted).
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity && f.counts())
            .count()
    }
}

/// How to audit.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// How each page is visited.
    pub visit: VisitOptions,
    /// Pages in flight at once (one tab each).
    pub concurrency: usize,
    /// Which pages get a screenshot, and where.
    pub screenshots: Screenshots,
}

/// What a run produced: what was done, and the failure that stopped it early
/// (what was audited before it is kept, so it can still be reported).
pub struct Outcome<T> {
    /// What was done.
    pub done: T,
    /// Why the run stopped early, if it did.
    pub error: Option<Fatal>,
}

/// Audits `targets` in one fresh browser context, `concurrency` tabs at a time.
/// `on_page` sees each result as soon as it is judged; the results come back in
/// target order, also when the browser fails part way.
pub async fn audit(
    browser: &Browser,
    targets: Vec<Target>,
    options: &AuditOptions,
    mut on_page: impl FnMut(&PageResult, usize),
) -> Outcome<Vec<PageResult>> {
    let total = targets.len();
    let context = match browser.new_context().await {
        Ok(context) => context,
        Err(error) => {
            return Outcome {
                done: Vec::new(),
                error: Some(error),
            }
        }
    };
    let queue = Mutex::new(targets.into_iter().enumerate().collect::<VecDeque<_>>());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<PageResult>();
    let workers = (0..options.concurrency.clamp(1, total.max(1)))
        .map(|_| {
            let tx = tx.clone();
            let (queue, context) = (&queue, &context);
            async move {
                let mut tab: Option<Tab> = None;
                loop {
                    let Some((index, target)) = queue.lock().expect("queue lock").pop_front()
                    else {
                        break;
                    };
                    let current = match tab.take() {
                        Some(tab) => tab,
                        None => browser.open_tab(context).await?,
                    };
                    let visit = current.visit(&target.url, &options.visit, None).await;
                    if !browser.is_alive() {
                        // Not the page's fault: it was not audited.
                        return Err(browser.died());
                    }
                    let findings = checks::judge(&visit.capture, &target.context);
                    let screenshot = if visit.tab_usable && options.screenshots.wanted(&findings) {
                        options
                            .screenshots
                            .take(&current, &format!("{}-{:03}", target.scenario, index + 1))
                            .await
                    } else {
                        None
                    };
                    if visit.tab_usable {
                        tab = Some(current);
                    } else {
                        // A stuck renderer: close the tab in the background, use a new one.
                        tokio::spawn(current.close());
                    }
                    let _ = tx.send(PageResult {
                        index,
                        target,
                        capture: visit.capture,
                        findings,
                        screenshot,
                    });
                }
                if let Some(tab) = tab {
                    tab.close().await;
                }
                Ok::<(), Fatal>(())
            }
        })
        .collect::<Vec<_>>();
    drop(tx);
    let run = futures::future::try_join_all(workers);
    let mut results = Vec::with_capacity(total);
    let receive = async {
        while let Some(result) = rx.recv().await {
            on_page(&result, total);
            results.push(result);
        }
    };
    let (run, ()) = tokio::join!(run, receive);
    browser.dispose_context(context).await;
    results.sort_by_key(|r| r.index);
    Outcome {
        done: results,
        error: run.err(),
    }
}
