//! Rules about the SDK tag and the queue's other pushes: `sdk-not-loaded`,
//! `sdk-loaded-twice`, `user-after-init`, `init-missing`, `init-repeated`,
//! `push-type-unknown`, `mixed-integration`.

use super::{Push, Subject};
use crate::capture::{evidence_of, Event};
use crate::finding::Finding;
use crate::rules::Rule;

/// The push types the public integration guides document.
pub(super) const DOCUMENTED_TYPES: [&str; 12] = [
    "user",
    "currency",
    "home",
    "category",
    "product",
    "cart",
    "purchase",
    "other",
    "add_to_cart",
    "remove_from_cart",
    "custom_event",
    "init",
];

/// `sdk-not-loaded`: the queue is used but `window.Insider` never appeared.
pub(super) fn sdk_not_loaded(s: &Subject) -> Vec<Finding> {
    let used = s.queue_created() || !s.pushes.is_empty();
    if !used || s.capture.sdk_present {
        return vec![];
    }
    vec![Finding::new(
        Rule::SdkNotLoaded,
        "The page uses InsiderQueue but the Insider SDK (ins.js) never loaded (window.Insider is absent after the page settled): nothing is sent",
    )]
}

/// `sdk-loaded-twice`: the SDK tag requested more than once in one page view.
pub(super) fn sdk_loaded_twice(s: &Subject) -> Vec<Finding> {
    let requests = &s.capture.sdk_requests;
    if requests.len() < 2 {
        return vec![];
    }
    vec![Finding::new(
        Rule::SdkLoadedTwice,
        format!(
            "The SDK tag was requested {} times in one page view ({}): remove the duplicate tag",
            requests.len(),
            requests.join(", ")
        ),
    )]
}

/// The pushes of each page view, in order, with the view's URL for the finding
/// (`None` on a document with one view).
fn views<'s, 'a>(s: &'s Subject<'a>) -> Vec<(Option<&'a str>, Vec<&'s Push<'a>>)> {
    let mut views: Vec<(Option<&str>, Vec<&Push>)> = Vec::new();
    for push in &s.pushes {
        while views.len() <= push.view {
            views.push((s.view_url(views.len()), Vec::new()));
        }
        views[push.view].1.push(push);
    }
    views
}

/// `user-after-init`: a user push after the view's `init`.
pub(super) fn user_after_init(s: &Subject) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (url, view) in views(s) {
        let Some(first_init) = view.iter().position(|p| p.is_init()) else {
            continue;
        };
        for push in view[first_init..].iter().filter(|p| p.is_user()) {
            findings.push(
                Finding::new(
                    Rule::UserAfterInit,
                    "The user push comes after this page view's `init` push, so the SDK may ignore it for this view: push the user before `init`",
                )
                .evidence(evidence_of(push.location))
                .view(url),
            );
        }
    }
    findings
}

/// `init-missing`: user data pushed but no `init` follows in that view.
pub(super) fn init_missing(s: &Subject) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (url, view) in views(s) {
        // With an init in the view, every user push either has an init after it
        // or comes after the first init, which user-after-init reports.
        if view.iter().any(|p| p.is_init()) {
            continue;
        }
        if let Some(user) = view.iter().find(|p| p.is_user()) {
            findings.push(
                Finding::new(
                    Rule::InitMissing,
                    "The user is pushed but no `{type: 'init'}` push follows in this page view: public integration guides say nothing is sent without it",
                )
                .evidence(evidence_of(user.location))
                .view(url),
            );
        }
    }
    findings
}

/// `init-repeated`: an `init` directly after another `init` of the same view.
pub(super) fn init_repeated(s: &Subject) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (url, view) in views(s) {
        for pair in view.windows(2) {
            if pair[0].is_init() && pair[1].is_init() {
                findings.push(
                    Finding::new(
                        Rule::InitRepeated,
                        "An `init` push repeats the previous `init` with no other push between them: a duplicated tag or snippet?",
                    )
                    .evidence(evidence_of(pair[1].location))
                    .view(url),
                );
            }
        }
    }
    findings
}

/// `push-type-unknown`: a push whose `type` is not documented.
pub(super) fn push_type_unknown(s: &Subject) -> Vec<Finding> {
    s.pushes
        .iter()
        .filter(|p| !p.push_type.is_some_and(|t| DOCUMENTED_TYPES.contains(&t)))
        .map(|p| {
            let what = match (p.push_type, p.value.get("type")) {
                (Some(t), _) => format!("type {t:?}"),
                (None, Some(v)) => format!("a type that is {}", v.type_name()),
                (None, None) => format!("no type ({} {})", p.value.type_name(), p.value.display()),
            };
            Finding::new(
                Rule::PushTypeUnknown,
                format!(
                    "A push with {what}: documented types are {}",
                    DOCUMENTED_TYPES.join(", ")
                ),
            )
            .evidence(evidence_of(p.location))
        })
        .collect()
}

/// `mixed-integration`: the legacy `window.insider_object` is set.
pub(super) fn mixed_integration(s: &Subject) -> Vec<Finding> {
    s.capture
        .events
        .iter()
        .find_map(|e| match e {
            Event::LegacyObject { location, .. } => Some(location),
            _ => None,
        })
        .map(|location| {
            vec![Finding::new(
                Rule::MixedIntegration,
                "The page sets the legacy window.insider_object: it must not be used alongside InsiderQueue",
            )
            .evidence(evidence_of(location))]
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::Session;
    use crate::capture::Event;
    use serde_json::json;

    #[test]
    fn init_order() {
        let lang = json!({"language": "en_US"});
        let after = Canned::page()
            .init_queue()
            .init()
            .user(lang.clone())
            .readback(lang.clone());
        assert_eq!(
            after.findings(Session::LoggedOut),
            ids(&[("user-after-init", None)])
        );
        let missing = Canned::page()
            .init_queue()
            .user(lang.clone())
            .readback(lang.clone());
        assert_eq!(
            missing.findings(Session::LoggedOut),
            ids(&[("init-missing", None)])
        );
        let twice = Canned::page()
            .init_queue()
            .user(lang.clone())
            .init()
            .init()
            .readback(lang.clone());
        assert_eq!(
            twice.findings(Session::LoggedOut),
            ids(&[("init-repeated", None)])
        );
        let cart_update = Canned::page()
            .init_queue()
            .user(lang.clone())
            .init()
            .push(json!({"type": "cart", "value": {}}))
            .init()
            .readback(lang);
        assert_eq!(cart_update.findings(Session::LoggedOut), ids(&[]));
    }

    #[test]
    fn route_change_starts_a_new_view() {
        let page = Canned::page()
            .init_queue()
            .push(json!({"type": "home"}))
            .init()
            .event(|seq| Event::Route {
                seq,
                t: 0.0,
                url: "http://shop.test/p".into(),
                new_view: true,
            })
            .init();
        assert_eq!(page.findings(Session::LoggedOut), ids(&[]));
    }

    #[test]
    fn unknown_types_and_legacy_object() {
        let page = Canned::page()
            .init_queue()
            .push(json!({"type": "pageview"}))
            .push(json!("x"))
            .init()
            .event(|seq| Event::LegacyObject {
                seq,
                t: 0.0,
                location: loc(2),
            });
        assert_eq!(
            page.findings(Session::LoggedOut),
            ids(&[
                ("push-type-unknown", None),
                ("push-type-unknown", None),
                ("mixed-integration", None)
            ])
        );
    }

    #[test]
    fn sdk_twice() {
        let mut page = Canned::page().init_queue().init();
        page.capture.sdk_requests = vec![
            "http://shop.test/ins.js".into(),
            "http://shop.test/ins.js?v=2".into(),
        ];
        assert_eq!(
            page.findings(Session::LoggedOut),
            ids(&[("sdk-loaded-twice", None)])
        );
    }
}
