//! The road every audited page takes, wherever it was visited (a step, the
//! crawl, a URL the browser died on twice): the page rules judge the visit
//! (not with `--discover-only`), its screenshot is taken while the tab is
//! still on the page; then, in audit order, the session rules and the journal
//! (ledger.rs). A panic while judging is the tool's bug, not the site's: the
//! page goes under `skipped` ("internal error") and the run goes on.

use crate::browser::{Tab, Visit};
use crate::checks::{self, PageContext};
use crate::finding::Finding;
use crate::screenshot::Screenshots;

/// How pages are judged and photographed on the road (sent to crawl tasks).
#[derive(Debug, Clone)]
pub(super) struct Road {
    /// False for `--discover-only`: pages are visited and settled, not judged.
    pub judge: bool,
    /// Which pages get a screenshot, and where.
    pub screenshots: Screenshots,
}

/// A visited page as the page rules judged it.
pub(super) struct Inspected {
    /// The page rules' findings.
    pub findings: Vec<Finding>,
    /// Its screenshot, relative to the report directory.
    pub screenshot: Option<String>,
    /// The panic that stopped judging it (the tool's bug), if one did.
    pub internal_error: Option<String>,
}

impl Road {
    /// Judges `visit` by the page rules and takes its screenshot from `tab`
    /// (none without a tab, or when the tab is stuck), named `shot_name`.
    pub(super) async fn inspect(
        &self,
        tab: Option<&Tab>,
        visit: &Visit,
        context: &PageContext,
        shot_name: &str,
    ) -> Inspected {
        let judged = if self.judge && visit.out_of_scope.is_none() {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                crate::fault::panic_on_page(crate::fault::Place::Judge, &visit.capture.url);
                checks::judge(&visit.capture, context)
            }))
            .map_err(|panic| panic_message(panic.as_ref()))
        } else {
            Ok(Vec::new())
        };
        let findings = match judged {
            Ok(findings) => findings,
            Err(message) => {
                return Inspected {
                    findings: Vec::new(),
                    screenshot: None,
                    internal_error: Some(message),
                }
            }
        };
        let screenshot = match tab {
            Some(tab) if visit.tab_usable && self.screenshots.wanted(&findings) => {
                self.screenshots.take(tab, shot_name).await
            }
            _ => None,
        };
        Inspected {
            findings,
            screenshot,
            internal_error: None,
        }
    }
}

/// What a panic said.
pub(super) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}
