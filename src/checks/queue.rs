//! Rules about creating the queue: `queue-missing`, `queue-clobbered`.

use super::Subject;
use crate::capture::{evidence_of, is_sdk_script, Event};
use crate::finding::Finding;
use crate::rules::Rule;

/// `queue-missing`: the page never creates `window.InsiderQueue`.
pub fn queue_missing(s: &Subject) -> Vec<Finding> {
    if !s.context.expect.integration || s.queue_created() {
        return vec![];
    }
    vec![Finding::new(
        Rule::QueueMissing,
        "The page never creates window.InsiderQueue: add `window.InsiderQueue = window.InsiderQueue || [];` before any push",
    )]
}

/// `queue-clobbered`: the queue is reassigned after it held unconsumed entries, or
/// after the SDK took it over.
pub fn queue_clobbered(s: &Subject) -> Vec<Finding> {
    s.capture
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Assign {
                location,
                same: false,
                prev_exists: true,
                prev_len,
                prev_taken_over,
                ..
            } => {
                if location.as_ref().is_some_and(|l| is_sdk_script(&l.script)) {
                    return None;
                }
                let message = if *prev_taken_over {
                    "window.InsiderQueue was replaced after the SDK had taken the queue over: every later push lands in an array the SDK never reads (use `window.InsiderQueue = window.InsiderQueue || []`)".to_string()
                } else if *prev_len > 0 {
                    format!(
                        "window.InsiderQueue was replaced while it held {prev_len} push(es) the SDK had not read yet: they are lost (an init written as `= []` runs after a push; use `window.InsiderQueue = window.InsiderQueue || []`)"
                    )
                } else {
                    return None;
                };
                Some(Finding::new(Rule::QueueClobbered, message).evidence(evidence_of(location)))
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::Session;
    use crate::capture::{Event, QueueKind};
    use serde_json::json;

    fn reassign(prev_len: u32, prev_taken_over: bool) -> impl FnOnce(u64) -> Event {
        move |seq| Event::Assign {
            seq,
            t: 0.0,
            location: loc(40),
            same: false,
            value_kind: QueueKind::Array,
            prev_exists: true,
            prev_len,
            prev_taken_over,
        }
    }

    #[test]
    fn missing_queue() {
        let page = Canned::page();
        assert_eq!(
            page.findings(Session::LoggedOut),
            ids(&[("queue-missing", None)])
        );
        // A logged-in page without a queue gets no user-push-missing as well.
        assert_eq!(
            page.findings(Session::LoggedIn),
            ids(&[("queue-missing", None)])
        );
    }

    #[test]
    fn clobber_after_push_and_after_takeover() {
        let lost = Canned::page()
            .init_queue()
            .push(json!({"type": "home"}))
            .event(reassign(1, false))
            .init();
        assert_eq!(
            lost.findings(Session::LoggedOut),
            ids(&[("queue-clobbered", None)])
        );
        let taken = Canned::page().init_queue().event(reassign(0, true)).init();
        assert_eq!(
            taken.findings(Session::LoggedOut),
            ids(&[("queue-clobbered", None)])
        );
        let harmless = Canned::page().init_queue().event(reassign(0, false)).init();
        assert_eq!(harmless.findings(Session::LoggedOut), ids(&[]));
    }
}
