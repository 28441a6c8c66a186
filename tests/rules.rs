//! One real-browser test per rule: a fixture page served on loopback, audited in
//! headless Chromium, with the exact findings (rule id and attribute) asserted.
//! Every case is audited again with the renderer slowed 4× and 8× (CDP CPU
//! throttling, as on a busy CI runner): the same findings, asserted in full.

mod common;

use common::*;
use insider_audit::checks::Session;
use insider_audit::expect::{Expectations, UserPushExpectation};

/// One fixture page and what auditing it must find.
struct Case {
    name: &'static str,
    path: &'static str,
    session: Session,
    /// A user push is expected on every page (`--expect-user-push`).
    every_page: bool,
    expected: &'static [(&'static str, Option<&'static str>)],
}

/// Audits `cases` in one browser per expectation (their pages side by side),
/// with the renderer slowed `throttle` times, and asserts each case's findings.
async fn check(cases: &[&Case], throttle: Option<f64>) {
    for session in [Session::LoggedOut, Session::LoggedIn] {
        for every_page in [false, true] {
            let group: Vec<&&Case> = cases
                .iter()
                .filter(|c| c.session == session && c.every_page == every_page)
                .collect();
            if group.is_empty() {
                continue;
            }
            let expect = Expectations {
                user_push: if every_page {
                    UserPushExpectation::EveryPage
                } else {
                    UserPushExpectation::default()
                },
                ..Expectations::default()
            };
            // Signed-in pages audited together would be one session, judged
            // by the session rules across them: one audit each.
            let size = if session == Session::LoggedIn {
                1
            } else {
                group.len()
            };
            for chunk in group.chunks(size) {
                let paths: Vec<&str> = chunk.iter().map(|c| c.path).collect();
                let mut options = test_options(20);
                options.visit.cpu_throttle = throttle;
                let results = audit_fixtures(&paths, session, expect.clone(), options).await;
                for (case, result) in chunk.iter().zip(&results) {
                    assert!(
                        result.capture.unreachable.is_none() || case.path.contains("status"),
                        "{} was unreachable (throttled {throttle:?}): {:?}",
                        case.path,
                        result.capture.unreachable
                    );
                    assert_eq!(
                        rule_ids(result),
                        expected(case.expected),
                        "findings of {} ({}, throttled {throttle:?})",
                        case.path,
                        case.name
                    );
                }
            }
        }
    }
}

/// The cases, each also a test of its own (named as the case).
macro_rules! cases {
    ($($name:ident: $path:literal, $session:ident $(, $every:ident)? => [$(($rule:literal, $attr:expr)),* $(,)?];)*) => {
        const CASES: &[Case] = &[$(Case {
            name: stringify!($name),
            path: $path,
            session: Session::$session,
            every_page: cases!(@every $($every)?),
            expected: &[$(($rule, $attr)),*],
        }),*];
        $(
            #[tokio::test]
            async fn $name() {
                let case = CASES.iter().find(|c| c.name == stringify!($name)).expect("listed");
                check(&[case], None).await;
            }
        )*
    };
    (@every every_page) => { true };
    (@every) => { false };
}

cases! {
    // Compliant integrations, the way real sites build them: no finding at all.
    compliant_inline_snippet: "/compliant.html", LoggedOut => [];
    deferred_bundle_above_the_init_is_compliant: "/deferred-above-init.html", LoggedOut, every_page => [];
    logged_out_page_without_user_push_is_compliant: "/logged-out-no-user.html", LoggedOut => [];
    value_set_to_undefined_is_compliant: "/undefined-value.html", LoggedOut => [];
    second_init_after_a_cart_update_fetch_is_compliant: "/cart-update.html", LoggedOut => [];
    spa_route_change_is_a_new_page_view: "/spa-router.html", LoggedOut => [];
    push_from_a_consent_timer_is_caught: "/consent-gate.html", LoggedOut, every_page => [];
    push_from_a_tag_manager_tag_is_caught: "/tag-manager.html", LoggedOut, every_page => [];
    // The guide's own sample.
    guide_sample_logged_in: "/guide-sample.html", LoggedIn => [("phone-invalid", Some("phone_number"))];
    guide_sample_logged_out: "/guide-sample.html", LoggedOut => [("phone-invalid", Some("phone_number")), ("anonymous-identity", Some("uuid")), ("anonymous-identity", Some("phone_number")), ("anonymous-identity", Some("whatsapp_optin"))];
    // One fixture per rule.
    queue_missing: "/queue-missing.html", LoggedOut => [("queue-missing", None)];
    queue_clobbered_after_a_push: "/queue-clobbered.html", LoggedOut => [("queue-clobbered", None)];
    queue_clobbered_after_takeover: "/queue-clobbered-takeover.html", LoggedOut => [("queue-clobbered", None), ("user-not-returned", None)];
    push_before_init_throws: "/push-before-init.html", LoggedOut => [("push-before-init", None)];
    guarded_push_before_init: "/push-before-init-guarded.html", LoggedOut => [("push-before-init", None)];
    user_push_missing_logged_in: "/logged-out-no-user.html", LoggedIn => [("user-push-missing", None)];
    user_push_missing_when_asked_for: "/logged-out-no-user.html", LoggedOut, every_page => [("user-push-missing", None)];
    user_push_malformed: "/user-push-malformed.html", LoggedOut => [("user-push-malformed", None)];
    user_not_returned: "/user-not-returned.html", LoggedOut => [("user-not-returned", Some("language"))];
    sdk_not_loaded: "/sdk-not-loaded.html", LoggedOut => [("sdk-not-loaded", None)];
    sdk_loaded_twice: "/sdk-loaded-twice.html", LoggedOut => [("sdk-loaded-twice", None)];
    attr_type: "/attr-type.html", LoggedOut => [("attr-type", Some("age"))];
    attr_format: "/attr-format.html", LoggedOut => [("attr-format", Some("language"))];
    attr_empty: "/attr-empty.html", LoggedOut => [("attr-empty", Some("name"))];
    attr_unknown: "/attr-unknown.html", LoggedOut => [("attr-unknown", Some("loyalty_tier"))];
    gdpr_missing: "/gdpr-missing.html", LoggedIn => [("login-incomplete", Some("gdpr_optin")), ("gdpr-missing", Some("gdpr_optin"))];
    anonymous_identity: "/anonymous-identity.html", LoggedOut => [("anonymous-identity", Some("email"))];
    user_after_init: "/user-after-init.html", LoggedOut => [("user-after-init", None)];
    init_missing: "/init-missing.html", LoggedOut => [("init-missing", None)];
    init_repeated: "/init-repeated.html", LoggedOut => [("init-repeated", None)];
    push_type_unknown: "/push-type-unknown.html", LoggedOut => [("push-type-unknown", None)];
    mixed_integration: "/mixed-integration.html", LoggedOut => [("mixed-integration", None)];
    login_incomplete: "/login-incomplete.html", LoggedIn => [("login-incomplete", Some("phone_number")), ("login-incomplete", Some("whatsapp_optin"))];
    whatsapp_optin_off: "/whatsapp-optin-off.html", LoggedIn => [("whatsapp-optin-off", Some("whatsapp_optin"))];
    page_unreachable_on_http_500: "/status-500.html", LoggedOut => [("page-unreachable", None)];
}

#[tokio::test]
async fn every_case_holds_with_the_renderer_slowed_4x() {
    check(&CASES.iter().collect::<Vec<_>>(), Some(4.0)).await;
}

#[tokio::test]
async fn every_case_holds_with_the_renderer_slowed_8x() {
    check(&CASES.iter().collect::<Vec<_>>(), Some(8.0)).await;
}
