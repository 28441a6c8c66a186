//! The recorder and the visit on hard pages: hostile built-ins, dialogs, route
//! changes, pages that never yield, and a run that goes on after them.

mod common;

use common::*;
use insider_audit::capture::Event;
use insider_audit::checks::Session;
use insider_audit::expect::Expectations;
use insider_audit::jsvalue::JsValue;

fn pushes(result: &insider_audit::audit::PageResult) -> Vec<&JsValue> {
    result
        .capture
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Push { value, .. } => Some(value),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn hostile_page_is_recorded_faithfully() {
    let results = audit_fixtures(
        &["/hostile.html"],
        Session::LoggedOut,
        Expectations::default(),
        test_options(15),
    )
    .await;
    let page = &results[0];
    assert_eq!(rule_ids(page), expected(&[]));
    let pushes = pushes(page);
    assert_eq!(pushes.len(), 2, "user and init pushes: {pushes:?}");
    let custom = pushes[0]
        .get("value")
        .and_then(|v| v.get("custom"))
        .expect("custom copied");
    assert_eq!(custom.get("tier"), Some(&JsValue::string("gold")));
    assert_eq!(custom.get("self"), Some(&JsValue::Circular));
    assert!(
        matches!(custom.get("huge"), Some(JsValue::String { cut: true, .. })),
        "huge string cut"
    );
    assert!(matches!(custom.get("boom"), Some(JsValue::Unreadable(why)) if why.contains("getter")));
    assert_eq!(pushes[1].get("type"), Some(&JsValue::string("init")));
    // Evidence survives a hijacked Error.prepareStackTrace.
    let Event::Push {
        location: Some(location),
        ..
    } = &page
        .capture
        .events
        .iter()
        .find(|e| matches!(e, Event::Push { .. }))
        .unwrap()
    else {
        panic!("push without location")
    };
    assert!(
        location.script.ends_with("/hostile.html") && location.line > 1,
        "{location:?}"
    );
    assert_eq!(page.capture.dialogs.len(), 1);
    assert_eq!(page.capture.dialogs[0].kind, "confirm");
}

#[tokio::test]
async fn alert_is_dismissed_and_recorded() {
    let results = audit_fixtures(
        &["/alert.html"],
        Session::LoggedOut,
        Expectations::default(),
        test_options(15),
    )
    .await;
    assert_eq!(rule_ids(&results[0]), expected(&[]));
    assert_eq!(results[0].capture.dialogs[0].message, "Welcome!");
    assert_eq!(pushes(&results[0]).len(), 2, "the pushes after alert() ran");
}

#[tokio::test]
async fn route_changes_are_recorded_in_order() {
    let results = audit_fixtures(
        &["/spa-router.html"],
        Session::LoggedOut,
        Expectations::default(),
        test_options(15),
    )
    .await;
    let page = &results[0];
    let kinds: Vec<String> = page
        .capture
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Push { value, .. } => value
                .get("type")
                .and_then(JsValue::as_str)
                .map(str::to_string),
            Event::Route { new_view: true, .. } => Some("<route>".into()),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, ["home", "init", "<route>", "other", "init"]);
    assert!(page
        .capture
        .final_url
        .as_deref()
        .unwrap()
        .ends_with("/spa-router.html/about"));
}

#[tokio::test]
async fn pages_that_never_yield_are_unreachable_and_the_run_goes_on() {
    let results = audit_fixtures(
        &[
            "/infinite-loop.html",
            "/loop-after-load.html",
            "/status-500.html",
            "/alert.html",
            "/compliant.html",
        ],
        Session::LoggedOut,
        Expectations::default(),
        insider_audit::audit::AuditOptions {
            concurrency: 1,
            ..test_options(4)
        },
    )
    .await;
    for page in &results[..3] {
        assert_eq!(
            rule_ids(page),
            expected(&[("page-unreachable", None)]),
            "{}",
            page.capture.url
        );
    }
    assert!(
        results[0].findings[0].message.contains("no load event"),
        "{}",
        results[0].findings[0].message
    );
    assert!(
        results[1].findings[0].message.contains("never yields"),
        "{}",
        results[1].findings[0].message
    );
    assert!(results[2].findings[0].message.contains("500"));
    assert_eq!(results[2].capture.status, Some(500));
    assert_eq!(
        rule_ids(&results[3]),
        expected(&[]),
        "an alert is dismissed and the page audited"
    );
    assert_eq!(results[3].capture.dialogs.len(), 1);
    assert_eq!(
        rule_ids(&results[4]),
        expected(&[]),
        "the run goes on after hung pages"
    );
}
