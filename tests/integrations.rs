//! Integrations written the way real sites write them — wrappers around `push`,
//! consent layers, frozen or redefined queues, bare globals, single-page-app page
//! views — each audited in real Chromium with its expected findings and notes.

mod common;

use common::*;
use insider_audit::audit::PageResult;
use insider_audit::capture::Event;
use insider_audit::checks::{notes, Session};
use insider_audit::expect::Expectations;
use insider_audit::finding::NoteKind;

type Expected<'a> = (&'a str, &'a [(&'a str, Option<&'a str>)], &'a [NoteKind]);

fn note_kinds(result: &PageResult) -> Vec<NoteKind> {
    notes(&result.capture).iter().map(|n| n.kind).collect()
}

async fn audit_expecting(session: Session, cases: &[Expected<'_>]) -> Vec<PageResult> {
    let paths: Vec<&str> = cases.iter().map(|(path, _, _)| *path).collect();
    let results = audit_fixtures(&paths, session, Expectations::default(), test_options(15)).await;
    let mut wrong = Vec::new();
    for ((path, findings, kinds), result) in cases.iter().zip(&results) {
        let (got, got_notes) = (rule_ids(result), note_kinds(result));
        if got != expected(findings) || got_notes != kinds.to_vec() {
            wrong.push(format!(
                "{path}: findings {got:?}, notes {got_notes:?} (expected {:?}, {kinds:?}); {:#?}",
                expected(findings),
                result.findings
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    results
}

fn user_pushes(result: &PageResult) -> usize {
    result
        .capture
        .events
        .iter()
        .filter(|e| matches!(e, Event::Push { value, .. } if value.get("type").and_then(|t| t.as_str()) == Some("user")))
        .count()
}

#[tokio::test]
async fn wrappers_around_push_are_transparent_and_judged_once() {
    let results = audit_expecting(
        Session::LoggedOut,
        &[
            ("/wrappers/before-sdk.html", &[], &[]),
            ("/wrappers/after-sdk.html", &[], &[]),
            ("/wrappers/chain.html", &[], &[]),
            ("/wrappers/define-property.html", &[], &[]),
            ("/wrappers/define-property-before-sdk.html", &[], &[]),
            ("/wrappers/multi-entry.html", &[], &[]),
            ("/wrappers/counting-reads.html", &[], &[]),
            (
                "/wrappers/planted-defect.html",
                &[("attr-type", Some("whatsapp_optin"))],
                &[],
            ),
        ],
    )
    .await;
    for result in &results {
        // A wrapper that forwards is not a second push.
        assert_eq!(user_pushes(result), 1, "{}", result.capture.url);
        let readback = format!("{:?}", result.capture.readback);
        assert!(
            readback.contains("en_US"),
            "{}: read-back {readback}",
            result.capture.url
        );
    }
    // The evidence is the page's own call, not the wrapper's forwarding line.
    let chain = &results[2];
    let Some(Event::Push {
        location: Some(at), ..
    }) = chain
        .capture
        .events
        .iter()
        .find(|e| matches!(e, Event::Push { .. }))
    else {
        panic!("no push recorded on the chain page")
    };
    assert!(at.script.ends_with("/wrappers/chain.html"), "{at:?}");
}

#[tokio::test]
async fn consent_layers_hold_drop_and_rewrite() {
    let results = audit_expecting(
        Session::LoggedIn,
        &[
            ("/wrappers/consent-timeout.html", &[], &[]),
            ("/wrappers/consent-promise.html", &[], &[]),
            // Consent denied: the SDK never receives the user.
            (
                "/wrappers/consent-deny.html",
                &[("user-push-missing", None)],
                &[],
            ),
            // Rewritten: judged as the SDK receives it.
            (
                "/wrappers/consent-rewrite.html",
                &[("attr-unknown", Some("consent_version"))],
                &[],
            ),
        ],
    )
    .await;
    assert_eq!(user_pushes(&results[0]), 1);
    assert_eq!(user_pushes(&results[1]), 1);
    assert_eq!(user_pushes(&results[2]), 0);
}

#[tokio::test]
async fn pages_that_hide_the_queue_get_a_note_or_the_native_outcome() {
    audit_expecting(
        Session::LoggedOut,
        &[
            // Natively a ReferenceError: the integration is broken.
            ("/native/bare-init.html", &[("queue-missing", None)], &[]),
            ("/native/bare-push.html", &[("push-before-init", None)], &[]),
            (
                "/native/in-test.html",
                &[("push-before-init", None)],
                &[NoteKind::ExistenceTest],
            ),
            (
                "/wrappers/frozen-before.html",
                &[("sdk-not-loaded", None)],
                &[NoteKind::Unobservable],
            ),
            // Natively the SDK cannot write InsiderQueue.user on a frozen array.
            (
                "/wrappers/frozen-after.html",
                &[("user-not-returned", None)],
                &[],
            ),
            (
                "/wrappers/own-accessor.html",
                &[("queue-missing", None)],
                &[NoteKind::Unobservable],
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn single_page_app_views() {
    let results = audit_expecting(
        Session::LoggedOut,
        &[
            ("/views/query-route.html", &[], &[]),
            ("/views/query-no-init.html", &[("init-missing", None)], &[]),
            (
                "/views/hash-user-after-init.html",
                &[("user-after-init", None)],
                &[],
            ),
            (
                "/views/replace-same-init.html",
                &[("init-repeated", None)],
                &[],
            ),
            ("/views/navigation-api.html", &[], &[]),
            ("/spa-router.html", &[], &[]),
        ],
    )
    .await;
    let new_views = |r: &PageResult| {
        r.capture
            .events
            .iter()
            .filter(|e| matches!(e, Event::Route { new_view: true, .. }))
            .count()
    };
    assert_eq!(new_views(&results[0]), 1, "a query change starts a view");
    assert_eq!(new_views(&results[2]), 0, "a fragment change does not");
    assert_eq!(
        new_views(&results[3]),
        0,
        "replaceState to the same URL does not"
    );
    assert_eq!(
        new_views(&results[4]),
        1,
        "navigation.navigate starts a view"
    );
    let view = results[1].findings[0].view.as_deref().unwrap_or_default();
    assert!(
        view.ends_with("/views/query-no-init.html?view=size-guide"),
        "{view}"
    );
    assert_eq!(
        results[2].findings[0].view, None,
        "one view: named by the page"
    );
}
