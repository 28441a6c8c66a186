//! The in-page recorder, seen from Rust: its source (installed on every new
//! document), and reading its log back: where it stands (a [`Mark`]) and,
//! once a page is settled, everything it recorded.

use super::operation::evaluate;
use crate::capture::{Event, ReadBack};
use chromiumoxide::Page;
use serde::Deserialize;

/// The in-page recorder, installed before any page script runs: one function
/// written in parts, one concern each (src/recorder/).
pub const RECORDER_JS: &str = concat!(
    include_str!("../recorder/prelude.js"),
    include_str!("../recorder/values.js"),
    include_str!("../recorder/queue.js"),
    include_str!("../recorder/pending.js"),
    include_str!("../recorder/hook.js"),
);

/// Where the recorder's log stands: pushes after a mark came after an action.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Mark {
    /// The document the recorder runs in.
    pub doc: String,
    /// The last sequence number handed out.
    pub seq: u64,
}

/// What the collecting expression returns.
#[derive(Deserialize)]
pub(super) struct Dump {
    #[serde(default)]
    pub(super) missing: bool,
    #[serde(default)]
    pub(super) events: Vec<Event>,
    #[serde(default)]
    pub(super) dropped: u64,
    pub(super) readback: Option<ReadBack>,
    #[serde(default)]
    pub(super) sdk: bool,
    pub(super) href: Option<String>,
    pub(super) start_url: Option<String>,
    #[serde(default)]
    pub(super) links: Vec<String>,
    #[serde(default)]
    pub(super) links_total: u64,
    pub(super) doc: Option<String>,
    /// Navigations to another document the page began.
    #[serde(default)]
    pub(super) leaves: Vec<Leave>,
}

/// A navigation to another document the page began, and where the recorder's
/// log stood then.
#[derive(Deserialize)]
pub(super) struct Leave {
    pub(super) seq: u64,
    pub(super) url: String,
}

/// Where the recorder's log of the current document stands now.
pub(super) async fn mark(page: &Page) -> Option<Mark> {
    let value = evaluate(
        page,
        "window.__insiderAuditRecorder ? window.__insiderAuditRecorder.mark() : null",
    )
    .await
    .ok()?;
    serde_json::from_value(value).ok()
}

/// Takes the recorder's log of the current document, with the user read back
/// by `user_expr`, the SDK's presence and the page's links.
pub(super) async fn take(page: &Page, user_expr: &str) -> Result<Dump, String> {
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
  let links_total = 0;
  try {{ const as = document.querySelectorAll('a[href]'); links_total = as.length; for (let i = 0; i < as.length && i < {max_links}; i++) links[i] = String(as[i].href); }} catch (_) {{}}
  return {{ events: out.events, dropped: out.dropped, doc: out.doc, start_url: out.start_url, leaves: out.leaves, readback, sdk, href: document.URL, links, links_total }};
}})()"#,
        max_links = crate::capture::MAX_LINKS
    );
    let value = evaluate(page, &expression)
        .await
        .map_err(|e| format!("reading the recorder failed: {e}"))?;
    serde_json::from_value(value).map_err(|e| format!("the recorder's log is unreadable: {e}"))
}
