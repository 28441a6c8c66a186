//! `push-before-init`: a push attempted before the queue exists.

use super::Subject;
use crate::capture::{evidence_of, Event, Location};
use crate::finding::Finding;
use crate::rules::Rule;
use regex::Regex;
use std::sync::LazyLock;

/// What the script does at the position where it read the absent queue.
#[derive(Debug, PartialEq, Eq)]
enum ReadIntent {
    /// `InsiderQueue.push(...)`: throws a TypeError.
    Push,
    /// `InsiderQueue?.push(...)`, `if (InsiderQueue) InsiderQueue.push(...)`,
    /// `InsiderQueue && InsiderQueue.push(...)`: silently does nothing.
    GuardedPush,
    /// Anything else (the init line itself, polling for the SDK).
    Other,
}

const QUEUE: &str = r"(?:(?:window|self|globalThis)\s*\.\s*)?InsiderQueue";

static PUSH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^InsiderQueue\s*\.\s*push\b").unwrap());
static GUARDED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"^InsiderQueue\s*(?:\?\.\s*push\b|\)\s*\{{?\s*{QUEUE}\s*\??\.\s*push\b|&&\s*{QUEUE}\s*\??\.\s*push\b)"
    ))
    .unwrap()
});

/// Classifies the script source that follows a read of the absent queue.
fn intent(source: &str) -> ReadIntent {
    let start = super::queue_name_at(source).unwrap_or(0);
    let rest = &source[start..];
    if PUSH.is_match(rest) {
        ReadIntent::Push
    } else if GUARDED.is_match(rest) {
        ReadIntent::GuardedPush
    } else {
        ReadIntent::Other
    }
}

fn same_place(a: &Option<Location>, b: &Option<Location>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if a.script == b.script && a.line == b.line)
}

/// `push-before-init`.
pub(super) fn push_before_init(s: &Subject) -> Vec<Finding> {
    let events = &s.capture.events;
    let mut findings = Vec::new();
    for event in events {
        let Event::AbsentRead {
            seq,
            location,
            source,
            before,
            declared,
            count,
            ..
        } = event
        else {
            continue;
        };
        // A TypeError thrown right at the read confirms an unguarded push even
        // when the source could not be read.
        let threw = events.iter().any(|e| {
            matches!(e,
            Event::PageError { seq: s2, location: l2, message, .. }
                if s2 > seq && same_place(l2, location) && message.contains("push"))
        });
        let intent = match source.as_deref().map(intent) {
            Some(ReadIntent::Other) => continue,
            Some(found) => found,
            None if threw => ReadIntent::Push,
            None => continue,
        };
        // A guarded push that is retried until the queue exists (a poller) is
        // no lost push: a later push from the same lines shows it went through.
        let retried = s.pushes.iter().any(|p| {
            p.seq > *seq
                && matches!((p.location, location), (Some(p), Some(r))
                    if p.script == r.script && p.line >= r.line && p.line <= r.line + 3)
        });
        if retried {
            continue;
        }
        let place = location
            .as_ref()
            .map(|l| format!(" at {}:{}", l.script, l.line))
            .unwrap_or_default();
        let times = if *count > 1 {
            format!(" ({count} times)")
        } else {
            String::new()
        };
        let bare = super::bare_read(source.as_deref(), before.as_deref(), *declared);
        let message = match intent {
            _ if bare => format!(
                "InsiderQueue.push ran{place}{times} before the queue existed, on the bare name `InsiderQueue`: without the audit this throws `ReferenceError: InsiderQueue is not defined`, the script stops there and the push is lost. Create the queue first with `window.InsiderQueue = window.InsiderQueue || []`"
            ),
            ReadIntent::Push => format!(
                "InsiderQueue.push ran{place}{times} before `window.InsiderQueue = window.InsiderQueue || []`: the page threw a TypeError and the push was lost. Move the push under the queue's init"
            ),
            _ => format!(
                "A guarded push{place}{times} ran before the queue existed and silently did nothing. Move the push under `window.InsiderQueue = window.InsiderQueue || []`"
            ),
        };
        findings.push(Finding::new(Rule::PushBeforeInit, message).evidence(evidence_of(location)));
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::Session;
    use super::*;
    use serde_json::json;

    #[test]
    fn intents() {
        assert_eq!(intent("InsiderQueue.push({type:'user'})"), ReadIntent::Push);
        assert_eq!(intent("window.InsiderQueue.push({})"), ReadIntent::Push);
        assert_eq!(intent("InsiderQueue?.push({})"), ReadIntent::GuardedPush);
        assert_eq!(
            intent("InsiderQueue) { window.InsiderQueue.push({})"),
            ReadIntent::GuardedPush
        );
        assert_eq!(
            intent("InsiderQueue && InsiderQueue.push(x)"),
            ReadIntent::GuardedPush
        );
        assert_eq!(intent("InsiderQueue || [];"), ReadIntent::Other);
        assert_eq!(
            intent("InsiderQueue) { clearInterval(t); go(); }"),
            ReadIntent::Other
        );
    }

    fn absent(source: Option<&str>) -> impl FnOnce(u64) -> Event + '_ {
        move |seq| Event::AbsentRead {
            seq,
            t: 0.0,
            location: loc(3),
            count: 1,
            source: source.map(str::to_string),
            before: Some("  ".into()),
            declared: false,
        }
    }

    #[test]
    fn push_before_the_queue_exists() {
        let page = Canned::page()
            .event(absent(Some("InsiderQueue.push({type:'home'})")))
            .init_queue()
            .init();
        assert_eq!(
            page.findings(Session::LoggedOut),
            ids(&[("push-before-init", None)])
        );
        let polling = Canned::page()
            .event(absent(Some("InsiderQueue) { clearInterval(t) }")))
            .init_queue()
            .init();
        assert_eq!(polling.findings(Session::LoggedOut), ids(&[]));
        let init_line = Canned::page()
            .event(absent(Some("InsiderQueue || [];")))
            .init_queue()
            .init();
        assert_eq!(init_line.findings(Session::LoggedOut), ids(&[]));
    }

    #[test]
    fn retried_guarded_push_is_fine() {
        let page = Canned::page()
            .event(absent(Some(
                "InsiderQueue) { InsiderQueue.push({type:'home'}) }",
            )))
            .init_queue()
            .event(|seq| Event::Push {
                seq,
                t: 0.0,
                location: loc(4),
                queue: 1,
                taken_over: false,
                value: crate::jsvalue::JsValue::from_json(&json!({"type": "home"})),
            })
            .init();
        assert_eq!(page.findings(Session::LoggedOut), ids(&[]));
    }
}
