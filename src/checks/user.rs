//! Rules about the user push itself: `user-push-missing`, `user-push-malformed`,
//! `user-not-returned`.

use super::{Session, Subject};
use crate::capture::{evidence_of, ReadBack};
use crate::expect::UserPushExpectation;
use crate::finding::Finding;
use crate::jsvalue::JsValue;
use crate::rules::Rule;

/// `user-push-missing`: no user push where one is expected.
pub(super) fn user_push_missing(s: &Subject) -> Vec<Finding> {
    let expect = &s.context.expect;
    let logged_in = s.context.session == Session::LoggedIn;
    let expected = expect.integration
        && (logged_in || expect.user_push == UserPushExpectation::EveryPage)
        && s.queue_created();
    // On the page where a login ends, only the logged-in pushes count.
    let found = s.user_pushes().any(|p| !logged_in || p.logged_in);
    if !expected || found {
        return vec![];
    }
    let why = if logged_in {
        "a signed-in user must be pushed on every page (the guide: the WhatsApp fields are sent whenever a user logs in)"
    } else {
        "a user push is expected on every page"
    };
    vec![Finding::new(
        Rule::UserPushMissing,
        format!(
            "No `InsiderQueue.push({{type: 'user', value: {{...}}}})` happened on this page: {why}"
        ),
    )]
}

/// `user-push-malformed`: `type: 'user'` without a plain-object `value`.
pub(super) fn user_push_malformed(s: &Subject) -> Vec<Finding> {
    s.user_pushes()
        .filter(|p| p.user_value().is_none())
        .map(|p| {
            let what = match p.value.get_defined("value") {
                None => "has no `value`".to_string(),
                Some(v) => format!(
                    "has a `value` that is {}, not a plain object",
                    v.type_name()
                ),
            };
            Finding::new(
                Rule::UserPushMalformed,
                format!("A user push {what}: the SDK cannot read its attributes"),
            )
            .evidence(evidence_of(p.location))
        })
        .collect()
}

/// `user-not-returned`: after settling, the read-back expression does not return
/// the last well-formed user push.
pub(super) fn user_not_returned(s: &Subject) -> Vec<Finding> {
    let Some((last, pushed)) = s.user_values().last() else {
        return vec![];
    };
    if !s.capture.sdk_present {
        return vec![];
    }
    let evidence = evidence_of(last.location);
    let clobbered =
        super::queue::clobbers(s.capture).any(|(_, c)| c == super::queue::Clobber::TakenOver);
    let cause = if clobbered {
        " (the queue was replaced after the SDK took it over: see queue-clobbered)"
    } else {
        ""
    };
    let finding = |message: String| {
        Finding::new(Rule::UserNotReturned, format!("{message}{cause}")).evidence(evidence.clone())
    };
    let returned = match &s.capture.readback {
        None => return vec![],
        Some(ReadBack::Threw { message }) => {
            return vec![finding(format!(
                "The read-back of the user threw after the page settled: {message}"
            ))]
        }
        Some(ReadBack::Value { value }) => value,
    };
    if matches!(returned, JsValue::Undefined | JsValue::Null) {
        return vec![finding(
            "The read-back of the user (window.InsiderQueue.user by default) returned nothing after the page settled: the SDK did not take the user push".into(),
        )];
    }
    let mut findings = Vec::new();
    for (key, value) in pushed.as_plain_object().unwrap_or_default() {
        if matches!(value, JsValue::Undefined) {
            continue;
        }
        let message = match returned.get_defined(key) {
            None => format!(
                "The SDK's user lacks {key}, which the last user push sent as {}",
                value.display()
            ),
            Some(got) if !got.same_data(value) => format!(
                "The SDK's user holds {key} = {}, but the last user push sent {}",
                got.display(),
                value.display()
            ),
            Some(_) => continue,
        };
        findings.push(finding(message).attribute(key.clone()));
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{PageContext, Session};
    use crate::expect::{Expectations, UserPushExpectation};
    use serde_json::json;

    #[test]
    fn missing_user_push_on_logged_in_page_only() {
        let page = Canned::page().init_queue().init();
        assert_eq!(page.findings(Session::LoggedOut), ids(&[]));
        assert_eq!(
            page.findings(Session::LoggedIn),
            ids(&[("user-push-missing", None)])
        );
        let every_page = PageContext {
            session: Session::LoggedOut,
            expect: Expectations {
                user_push: UserPushExpectation::EveryPage,
                ..Default::default()
            },
        };
        assert_eq!(
            page.findings_with(every_page),
            ids(&[("user-push-missing", None)])
        );
        let off = PageContext {
            session: Session::LoggedIn,
            expect: Expectations {
                integration: false,
                ..Default::default()
            },
        };
        assert_eq!(page.findings_with(off), ids(&[]));
    }

    #[test]
    fn single_page_app_login_splits_the_document() {
        // Pushes before the login click are judged logged out; only the later ones count as logged in.
        let guest = json!({"uuid": "guest-1", "language": "en_US"});
        let mut page = Canned::page().init_queue().user(guest.clone()).init();
        page.capture.logged_in_from_seq = Some(100);
        assert_eq!(
            page.findings(Session::LoggedIn),
            ids(&[
                ("user-push-missing", None),
                ("gdpr-missing", Some("gdpr_optin")),
                ("anonymous-identity", Some("uuid")),
            ])
        );
        page.capture.logged_in_from_seq = Some(1);
        assert_eq!(
            page.findings(Session::LoggedIn),
            ids(&[
                ("login-incomplete", Some("phone_number")),
                ("login-incomplete", Some("whatsapp_optin")),
                ("login-incomplete", Some("gdpr_optin")),
                ("gdpr-missing", Some("gdpr_optin")),
            ])
        );
    }

    #[test]
    fn malformed_counts_as_user_push() {
        let page = Canned::page()
            .init_queue()
            .push(json!({"type": "user"}))
            .init();
        assert_eq!(
            page.findings(Session::LoggedIn),
            ids(&[("user-push-malformed", None)])
        );
        let array = Canned::page()
            .init_queue()
            .push(json!({"type": "user", "value": []}))
            .init();
        assert_eq!(
            array.findings(Session::LoggedOut),
            ids(&[("user-push-malformed", None)])
        );
    }

    #[test]
    fn read_back_must_hold_the_pushed_attributes() {
        let user = json!({"name": "Ada", "language": "en_US"});
        let ok = Canned::page()
            .init_queue()
            .user(user.clone())
            .init()
            .readback(json!({"name": "Ada", "language": "en_US", "sdk_id": 7}));
        assert_eq!(ok.findings(Session::LoggedOut), ids(&[]));
        let lacks = Canned::page()
            .init_queue()
            .user(user.clone())
            .init()
            .readback(json!({"name": "Ada"}));
        assert_eq!(
            lacks.findings(Session::LoggedOut),
            ids(&[("user-not-returned", Some("language"))])
        );
        let nothing = Canned::page().init_queue().user(user).init();
        let mut nothing = nothing;
        nothing.capture.readback = Some(crate::capture::ReadBack::Value {
            value: crate::jsvalue::JsValue::Undefined,
        });
        assert_eq!(
            nothing.findings(Session::LoggedOut),
            ids(&[("user-not-returned", None)])
        );
        nothing.capture.sdk_present = false;
        assert_eq!(
            nothing.findings(Session::LoggedOut),
            ids(&[("sdk-not-loaded", None)])
        );
    }
}
