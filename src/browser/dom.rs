//! What steps do to a page (type, click, press, choose, tick, run a script)
//! and the conditions `wait_for` polls.

use super::operation::evaluate;
use chromiumoxide::cdp::browser_protocol::input::InsertTextParams;
use chromiumoxide::Page;

/// A condition a `wait_for` step polls.
#[derive(Debug, Clone)]
pub enum WaitCondition {
    /// An element matches the selector.
    Selector(String),
    /// The current URL matches the glob.
    Url(crate::glob::Glob),
}

/// Something a step does to the page.
#[derive(Debug, Clone)]
pub enum DomAction {
    /// Type `value` into the field (replacing its content).
    Fill {
        /// CSS selector of the input or textarea to type into.
        selector: String,
        /// What to type.
        value: String,
    },
    /// Click the element with the mouse.
    Click {
        /// CSS selector of the element to click (its centre, as a mouse would).
        selector: String,
    },
    /// Press a key on the element (or the focused one).
    Press {
        /// The key, e.g. `Enter`.
        key: String,
        /// The element (else the focused one).
        selector: Option<String>,
    },
    /// Choose the option with this value.
    Select {
        /// The `<select>`.
        selector: String,
        /// The option's value.
        value: String,
    },
    /// Tick or untick a checkbox.
    Check {
        /// CSS selector of the checkbox.
        selector: String,
        /// Ticked or not.
        checked: bool,
    },
    /// Run JavaScript (local_storage entries).
    Script(String),
}

impl DomAction {
    /// Whether it puts text into the page (typing, choosing, a key): the
    /// actions credentials go through.
    pub fn types_text(&self) -> bool {
        matches!(
            self,
            DomAction::Fill { .. } | DomAction::Select { .. } | DomAction::Press { .. }
        )
    }

    /// Whether the action may start a navigation (a click, a key press).
    pub(super) fn may_navigate(&self) -> bool {
        matches!(self, DomAction::Click { .. } | DomAction::Press { .. })
    }

    pub(super) async fn perform(&self, page: &Page) -> Result<(), String> {
        let quoted = |s: &str| serde_json::to_string(s).expect("a string");
        let find = |selector: &str| {
            format!("(() => {{ const el = document.querySelector({}); if (!el) throw new Error('no element matches ' + {}); return el; }})()", quoted(selector), quoted(selector))
        };
        match self {
            DomAction::Fill { selector, value } => {
                // Focus and empty the field, then type the value as the keyboard
                // would (Input.insertText: the page sees input events). The value
                // never appears in the source of a script the tool evaluates.
                let clear = format!(
                    "(() => {{ const el = {}; el.focus(); const proto = Object.getPrototypeOf(el); const d = Object.getOwnPropertyDescriptor(proto, 'value'); if (d && d.set) d.set.call(el, ''); else el.value = ''; return true; }})()",
                    find(selector)
                );
                evaluate(page, &clear).await?;
                page.execute(InsertTextParams::new(value.clone()))
                    .await
                    .map_err(|e| format!("cannot type into {selector}: {e}"))?;
                let changed = format!(
                    "(() => {{ const el = {}; el.dispatchEvent(new Event('change', {{ bubbles: true }})); return true; }})()",
                    find(selector)
                );
                evaluate(page, &changed).await.map(|_| ())
            }
            DomAction::Click { selector } => {
                evaluate(page, &find(selector)).await?;
                let element = page
                    .find_element(selector.as_str())
                    .await
                    .map_err(|e| format!("no element matches {selector}: {e}"))?;
                element
                    .click()
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("cannot click {selector}: {e}"))
            }
            DomAction::Press { key, selector } => {
                let selector = selector.clone().unwrap_or_else(|| ":focus".into());
                let element = page
                    .find_element(selector.as_str())
                    .await
                    .map_err(|e| format!("no element matches {selector}: {e}"))?;
                element
                    .press_key(key)
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("cannot press {key}: {e}"))
            }
            DomAction::Select { selector, value } => {
                let expr = format!(
                    "(() => {{ const el = {}; const v = {}; if (!Array.from(el.options || []).some(o => o.value === v)) throw new Error('no option with value ' + v); el.value = v; el.dispatchEvent(new Event('input', {{ bubbles: true }})); el.dispatchEvent(new Event('change', {{ bubbles: true }})); return true; }})()",
                    find(selector), quoted(value)
                );
                evaluate(page, &expr).await.map(|_| ())
            }
            DomAction::Check { selector, checked } => {
                let expr = format!("(() => {{ const el = {}; if (el.checked !== {checked}) el.click(); return true; }})()", find(selector));
                evaluate(page, &expr).await.map(|_| ())
            }
            DomAction::Script(expr) => evaluate(page, expr).await.map(|_| ()),
        }
    }
}
