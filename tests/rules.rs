//! One real-browser test per rule: a fixture page served on loopback, audited in
//! headless Chromium, with the exact findings (rule id and attribute) asserted.

mod common;

use common::*;
use insider_audit::checks::Session;
use insider_audit::expect::{Expectations, UserPushExpectation};

async fn findings_of(
    path: &str,
    session: Session,
    expect: Expectations,
) -> Vec<(String, Option<String>)> {
    let results = audit_fixtures(&[path], session, expect, test_options(15)).await;
    let result = &results[0];
    assert!(
        result.capture.unreachable.is_none() || path.contains("status") || path.contains("loop"),
        "{path} was unreachable: {:?}",
        result.capture.unreachable
    );
    rule_ids(result)
}

macro_rules! rule_test {
    ($name:ident, $path:literal, $session:ident, [$(($rule:literal, $attr:expr)),* $(,)?]) => {
        rule_test!($name, $path, $session, Expectations::default(), [$(($rule, $attr)),*]);
    };
    ($name:ident, $path:literal, $session:ident, $expect:expr, [$(($rule:literal, $attr:expr)),* $(,)?]) => {
        #[tokio::test]
        async fn $name() {
            let got = findings_of($path, Session::$session, $expect).await;
            assert_eq!(got, expected(&[$(($rule, $attr)),*]), "findings of {}", $path);
        }
    };
}

fn every_page() -> Expectations {
    Expectations {
        user_push: UserPushExpectation::EveryPage,
        ..Expectations::default()
    }
}

// Compliant integrations, the way real sites build them: no finding at all.
rule_test!(compliant_inline_snippet, "/compliant.html", LoggedOut, []);
rule_test!(
    deferred_bundle_above_the_init_is_compliant,
    "/deferred-above-init.html",
    LoggedOut,
    every_page(),
    []
);
rule_test!(
    logged_out_page_without_user_push_is_compliant,
    "/logged-out-no-user.html",
    LoggedOut,
    []
);
rule_test!(
    value_set_to_undefined_is_compliant,
    "/undefined-value.html",
    LoggedOut,
    []
);
rule_test!(
    second_init_after_a_cart_update_fetch_is_compliant,
    "/cart-update.html",
    LoggedOut,
    []
);
rule_test!(
    spa_route_change_is_a_new_page_view,
    "/spa-router.html",
    LoggedOut,
    []
);
rule_test!(
    push_from_a_consent_timer_is_caught,
    "/consent-gate.html",
    LoggedOut,
    every_page(),
    []
);
rule_test!(
    push_from_a_tag_manager_tag_is_caught,
    "/tag-manager.html",
    LoggedOut,
    every_page(),
    []
);

// The guide's own sample.
rule_test!(
    guide_sample_logged_in,
    "/guide-sample.html",
    LoggedIn,
    [("phone-invalid", Some("phone_number"))]
);
rule_test!(
    guide_sample_logged_out,
    "/guide-sample.html",
    LoggedOut,
    [
        ("phone-invalid", Some("phone_number")),
        ("anonymous-identity", Some("uuid")),
        ("anonymous-identity", Some("phone_number")),
        ("anonymous-identity", Some("whatsapp_optin")),
    ]
);

// One fixture per rule.
rule_test!(
    queue_missing,
    "/queue-missing.html",
    LoggedOut,
    [("queue-missing", None)]
);
rule_test!(
    queue_clobbered_after_a_push,
    "/queue-clobbered.html",
    LoggedOut,
    [("queue-clobbered", None)]
);
rule_test!(
    queue_clobbered_after_takeover,
    "/queue-clobbered-takeover.html",
    LoggedOut,
    [("queue-clobbered", None), ("user-not-returned", None),]
);
rule_test!(
    push_before_init_throws,
    "/push-before-init.html",
    LoggedOut,
    [("push-before-init", None)]
);
rule_test!(
    guarded_push_before_init,
    "/push-before-init-guarded.html",
    LoggedOut,
    [("push-before-init", None)]
);
rule_test!(
    user_push_missing_logged_in,
    "/logged-out-no-user.html",
    LoggedIn,
    [("user-push-missing", None)]
);
rule_test!(
    user_push_missing_when_asked_for,
    "/logged-out-no-user.html",
    LoggedOut,
    every_page(),
    [("user-push-missing", None)]
);
rule_test!(
    user_push_malformed,
    "/user-push-malformed.html",
    LoggedOut,
    [("user-push-malformed", None)]
);
rule_test!(
    user_not_returned,
    "/user-not-returned.html",
    LoggedOut,
    [("user-not-returned", Some("language"))]
);
rule_test!(
    sdk_not_loaded,
    "/sdk-not-loaded.html",
    LoggedOut,
    [("sdk-not-loaded", None)]
);
rule_test!(
    sdk_loaded_twice,
    "/sdk-loaded-twice.html",
    LoggedOut,
    [("sdk-loaded-twice", None)]
);
rule_test!(
    attr_type,
    "/attr-type.html",
    LoggedOut,
    [("attr-type", Some("age"))]
);
rule_test!(
    attr_format,
    "/attr-format.html",
    LoggedOut,
    [("attr-format", Some("language"))]
);
rule_test!(
    attr_empty,
    "/attr-empty.html",
    LoggedOut,
    [("attr-empty", Some("name"))]
);
rule_test!(
    attr_unknown,
    "/attr-unknown.html",
    LoggedOut,
    [("attr-unknown", Some("loyalty_tier"))]
);
rule_test!(
    gdpr_missing,
    "/gdpr-missing.html",
    LoggedIn,
    [
        ("login-incomplete", Some("gdpr_optin")),
        ("gdpr-missing", Some("gdpr_optin")),
    ]
);
rule_test!(
    anonymous_identity,
    "/anonymous-identity.html",
    LoggedOut,
    [("anonymous-identity", Some("email"))]
);
rule_test!(
    user_after_init,
    "/user-after-init.html",
    LoggedOut,
    [("user-after-init", None)]
);
rule_test!(
    init_missing,
    "/init-missing.html",
    LoggedOut,
    [("init-missing", None)]
);
rule_test!(
    init_repeated,
    "/init-repeated.html",
    LoggedOut,
    [("init-repeated", None)]
);
rule_test!(
    push_type_unknown,
    "/push-type-unknown.html",
    LoggedOut,
    [("push-type-unknown", None)]
);
rule_test!(
    mixed_integration,
    "/mixed-integration.html",
    LoggedOut,
    [("mixed-integration", None)]
);
rule_test!(
    login_incomplete,
    "/login-incomplete.html",
    LoggedIn,
    [
        ("login-incomplete", Some("phone_number")),
        ("login-incomplete", Some("whatsapp_optin")),
    ]
);
rule_test!(
    whatsapp_optin_off,
    "/whatsapp-optin-off.html",
    LoggedIn,
    [("whatsapp-optin-off", Some("whatsapp_optin"))]
);
rule_test!(
    page_unreachable_on_http_500,
    "/status-500.html",
    LoggedOut,
    [("page-unreachable", None)]
);
