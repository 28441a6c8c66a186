//! Rules about creating the queue: `queue-missing`, `queue-clobbered`.

use super::Subject;
use crate::capture::{evidence_of, is_sdk_script, Event, Location, QueueKind};
use crate::finding::Finding;
use crate::rules::Rule;
use regex::Regex;
use std::sync::LazyLock;

/// `queue-missing`: the page never creates `window.InsiderQueue`, or creates it
/// only with a bare `InsiderQueue = InsiderQueue || []`, which natively throws a
/// ReferenceError before the queue exists (the audit's watch cannot hide that it
/// defines the name, so the native outcome is judged from the script source).
pub(super) fn queue_missing(s: &Subject) -> Vec<Finding> {
    if !s.context.expect.integration {
        return vec![];
    }
    let bare_inits: Vec<&Location> = s
        .capture
        .events
        .iter()
        .filter_map(|e| match e {
            Event::AbsentRead {
                location: Some(location),
                source,
                before,
                declared,
                ..
            } if bare_init(source.as_deref(), before.as_deref(), *declared) => Some(location),
            _ => None,
        })
        .collect();
    if bare_inits.is_empty() {
        if s.queue_created() {
            return vec![];
        }
        return vec![Finding::new(
            Rule::QueueMissing,
            "The page never creates window.InsiderQueue: add `window.InsiderQueue = window.InsiderQueue || [];` before any push",
        )];
    }
    let created_elsewhere = s.capture.events.iter().any(|e| match e {
        Event::Assign {
            location,
            value_kind: QueueKind::Array | QueueKind::QueueObject,
            ..
        } => location.as_ref().is_some_and(|l| {
            !is_sdk_script(&l.script)
                && !bare_inits
                    .iter()
                    .any(|b| b.script == l.script && b.line == l.line)
        }),
        _ => false,
    });
    if created_elsewhere {
        return vec![];
    }
    let first = bare_inits[0];
    vec![Finding::new(
        Rule::QueueMissing,
        format!(
            "The queue's init at {}:{} reads the bare name `InsiderQueue` before it exists: without the audit this throws `ReferenceError: InsiderQueue is not defined`, so the queue is never created and the rest of that script does not run. Write `window.InsiderQueue = window.InsiderQueue || [];`",
            first.script, first.line
        ),
    )
    .evidence(Some(first.evidence()))]
}

/// Whether a read of the absent queue is an init that reads the bare name
/// (`InsiderQueue = InsiderQueue || []`, `window.InsiderQueue = InsiderQueue || []`),
/// which natively throws. The stack points at the statement or at the read.
fn bare_init(source: Option<&str>, before: Option<&str>, declared: bool) -> bool {
    static STATEMENT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:(?:window|self|globalThis)\s*\.\s*)?InsiderQueue\s*=\s*((?:(?:window|self|globalThis)\s*\.\s*)?)InsiderQueue\s*(?:\|\||\?\?)")
            .expect("a valid regex")
    });
    static READ: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^InsiderQueue\s*(?:\|\||\?\?)").expect("a valid regex"));
    let Some(source) = source else {
        return false;
    };
    if declared {
        return false;
    }
    match STATEMENT.captures(source) {
        Some(statement) => statement[1].is_empty(),
        None => READ.is_match(source) && super::bare_read(Some(source), before, declared),
    }
}

/// How an assignment to `window.InsiderQueue` lost what the old queue held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Clobber {
    /// The SDK had taken the old queue over: later pushes land in an array it
    /// never reads.
    TakenOver,
    /// The old queue held this many pushes the SDK had not read: they are lost.
    Unread(u32),
}

/// The assignments that clobbered the queue, with their location: a new
/// array replacing one the SDK had taken over or that held unread pushes. The
/// SDK's own assignments (its tag taking the queue over) are not clobbers.
pub(crate) fn clobbers(
    capture: &crate::capture::PageCapture,
) -> impl Iterator<Item = (&Option<crate::capture::Location>, Clobber)> {
    capture.events.iter().filter_map(|e| match e {
        Event::Assign {
            location,
            same: false,
            prev_exists: true,
            prev_len,
            prev_taken_over,
            ..
        } if !location.as_ref().is_some_and(|l| is_sdk_script(&l.script)) => {
            if *prev_taken_over {
                Some((location, Clobber::TakenOver))
            } else if *prev_len > 0 {
                Some((location, Clobber::Unread(*prev_len)))
            } else {
                None
            }
        }
        _ => None,
    })
}

/// `queue-clobbered`: the queue is reassigned after it held unconsumed entries, or
/// after the SDK took it over.
pub(super) fn queue_clobbered(s: &Subject) -> Vec<Finding> {
    clobbers(s.capture)
        .map(|(location, clobber)| {
            let message = match clobber {
                Clobber::TakenOver => "window.InsiderQueue was replaced after the SDK had taken the queue over: every later push lands in an array the SDK never reads (use `window.InsiderQueue = window.InsiderQueue || []`)".to_string(),
                Clobber::Unread(n) => format!(
                    "window.InsiderQueue was replaced while it held {n} push(es) the SDK had not read yet: they are lost (an init written as `= []` runs after a push; use `window.InsiderQueue = window.InsiderQueue || []`)"
                ),
            };
            Finding::new(Rule::QueueClobbered, message).evidence(evidence_of(location))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{Session, Subject};
    use super::clobbers;
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

    /// The SDK's tag reassigning the queue it took over is no clobber, for
    /// `queue-clobbered` and for the cause `user-not-returned` names alike.
    #[test]
    fn the_sdk_replacing_its_own_queue_is_no_clobber() {
        let by_sdk = |seq| Event::Assign {
            seq,
            t: 0.0,
            location: Some(crate::capture::Location {
                script: "https://cdn.example/ins.js".into(),
                line: 1,
                column: 1,
            }),
            same: false,
            value_kind: QueueKind::Array,
            prev_exists: true,
            prev_len: 0,
            prev_taken_over: true,
        };
        let page = Canned::page()
            .init_queue()
            .user(json!({"uuid": "U-1", "gdpr_optin": true}))
            .init()
            .event(by_sdk)
            .readback(json!(null));
        let context = super::super::PageContext {
            session: Session::LoggedOut,
            expect: crate::expect::Expectations::default(),
        };
        let subject = Subject::new(&page.capture, &context);
        assert!(clobbers(&page.capture).next().is_none());
        let not_returned = super::super::user::user_not_returned(&subject);
        assert_eq!(not_returned.len(), 1, "{not_returned:?}");
        assert!(
            !not_returned[0].message.contains("queue-clobbered"),
            "{}",
            not_returned[0].message
        );
    }
}
