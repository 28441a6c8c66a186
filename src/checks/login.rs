//! Rules about what a logged-in page carries: `login-incomplete`,
//! `expect-mismatch`, `whatsapp-optin-off`.

use super::Subject;
use crate::capture::evidence_of;
use crate::expect::{IDENTIFIERS, WHATSAPP_REQUIRED};
use crate::finding::Finding;
use crate::jsvalue::JsValue;
use crate::rules::{Rule, Severity};

/// The logged-in, well-formed user values of a page.
fn logged_in_values<'s, 'a>(
    s: &'s Subject<'a>,
) -> impl Iterator<Item = (&'s super::Push<'a>, &'a JsValue)> + 's {
    s.user_values().filter(|(p, _)| p.logged_in)
}

/// `login-incomplete`: a logged-in page lacks a required attribute.
///
/// The page's logged-in user pushes are judged together, as the SDK merges them.
pub(super) fn login_incomplete(s: &Subject) -> Vec<Finding> {
    let values: Vec<_> = logged_in_values(s).collect();
    let Some((last, _)) = values.last() else {
        return vec![];
    };
    let has = |key: &str| values.iter().any(|(_, v)| v.get_defined(key).is_some());
    let required: Vec<String> = match &s.context.expect.required {
        Some(list) => list.clone(),
        None => WHATSAPP_REQUIRED.iter().map(|k| k.to_string()).collect(),
    };
    let mut findings: Vec<Finding> = required
        .iter()
        .filter(|k| !has(k))
        .map(|k| {
            Finding::new(
                Rule::LoginIncomplete,
                format!("The signed-in user is pushed without {k}: all properties must be filled in when a user logs in"),
            )
            .attribute(k.clone())
            .evidence(evidence_of(last.location))
        })
        .collect();
    if s.context.expect.required.is_none() && !IDENTIFIERS.iter().any(|k| has(k)) {
        findings.push(
            Finding::new(
                Rule::LoginIncomplete,
                "The signed-in user is pushed without any identifier (uuid, email or phone_number)",
            )
            .attribute("identifier")
            .evidence(evidence_of(last.location)),
        );
    }
    findings
}

/// `expect-mismatch`: an attribute differs from the scenario's stated value.
pub(super) fn expect_mismatch(s: &Subject) -> Vec<Finding> {
    let expected = &s.context.expect.values;
    let mut findings = Vec::new();
    for (push, value) in logged_in_values(s) {
        for (key, want) in expected {
            let Some(got) = value.get_defined(key) else {
                continue;
            };
            if got.is_empty_value() || got.same_data(&JsValue::from_json(want)) {
                continue;
            }
            findings.push(
                Finding::new(
                    Rule::ExpectMismatch,
                    format!("{key} is {} but the test user's is {want}", got.display()),
                )
                .attribute(key.clone())
                .evidence(evidence_of(push.location)),
            );
        }
    }
    findings
}

/// `whatsapp-optin-off`: a logged-in user pushed with whatsapp_optin false.
pub(super) fn whatsapp_optin_off(s: &Subject) -> Vec<Finding> {
    let severity = if s.context.expect.whatsapp_optin == Some(true) {
        Severity::Error
    } else {
        Severity::Warning
    };
    logged_in_values(s)
        .filter(|(_, v)| v.get("whatsapp_optin") == Some(&JsValue::Bool(false)))
        .map(|(p, _)| {
            Finding::new(
                Rule::WhatsappOptinOff,
                "The signed-in user is pushed with whatsapp_optin false: no WhatsApp message can reach this user",
            )
            .severity(severity)
            .attribute("whatsapp_optin")
            .evidence(evidence_of(p.location))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{PageContext, Session};
    use crate::expect::Expectations;
    use serde_json::json;

    fn user_page(user: serde_json::Value) -> Canned {
        Canned::user_page(user)
    }

    #[test]
    fn missing_whatsapp_set_and_identifier() {
        let page = user_page(json!({"name": "Ada"}));
        assert_eq!(
            page.findings(Session::LoggedIn),
            ids(&[
                ("login-incomplete", Some("phone_number")),
                ("login-incomplete", Some("whatsapp_optin")),
                ("login-incomplete", Some("gdpr_optin")),
                ("login-incomplete", Some("identifier"))
            ])
        );
        assert_eq!(page.findings(Session::LoggedOut), ids(&[]));
    }

    #[test]
    fn empty_required_is_attr_empty_only() {
        let page = user_page(
            json!({"uuid": "u", "phone_number": "", "whatsapp_optin": true, "gdpr_optin": true}),
        );
        assert_eq!(
            page.findings(Session::LoggedIn),
            ids(&[("attr-empty", Some("phone_number"))])
        );
    }

    #[test]
    fn optin_off_and_expected_values() {
        let user = json!({"uuid": "u2", "phone_number": "+905321234567", "whatsapp_optin": false, "gdpr_optin": true});
        let page = user_page(user);
        let mut expect = Expectations::default();
        expect.values.insert("uuid".into(), json!("u1"));
        expect.whatsapp_optin = Some(true);
        assert_eq!(
            page.findings_with(PageContext {
                session: Session::LoggedIn,
                expect
            }),
            ids(&[
                ("expect-mismatch", Some("uuid")),
                ("whatsapp-optin-off", Some("whatsapp_optin"))
            ])
        );
    }
}
