//! Rules about the attributes of a user push: `attr-empty`, `attr-type`,
//! `attr-format`, `phone-invalid`, `attr-unknown`, `gdpr-missing`,
//! `anonymous-identity`.

use super::{Push, Subject};
use crate::attributes::{self as catalogue, attr_type as type_of};
use crate::capture::evidence_of;
use crate::expect::IDENTIFIERS;
use crate::finding::Finding;
use crate::jsvalue::JsValue;
use crate::rules::Rule;

/// Each defined top-level attribute of every well-formed user push.
fn attributes<'s, 'a>(
    s: &'s Subject<'a>,
) -> impl Iterator<Item = (&'s Push<'a>, &'a str, &'a JsValue)> + 's {
    s.user_values().flat_map(|(push, value)| {
        value
            .as_plain_object()
            .unwrap_or_default()
            .iter()
            .filter(|(_, v)| !matches!(v, JsValue::Undefined))
            .map(move |(k, v)| (push, k.as_str(), v))
    })
}

/// Standard attributes with a value (not empty).
fn filled<'s, 'a>(
    s: &'s Subject<'a>,
) -> impl Iterator<Item = (&'s Push<'a>, &'a str, &'a JsValue)> + 's {
    attributes(s).filter(|(_, k, v)| type_of(k).is_some() && !v.is_empty_value())
}

/// `attr-empty`: a standard key sent as `null`, `""` or spaces.
pub(super) fn attr_empty(s: &Subject) -> Vec<Finding> {
    attributes(s)
        .filter(|(_, k, v)| type_of(k).is_some() && v.is_empty_value())
        .map(|(p, k, v)| {
            Finding::new(
                Rule::AttrEmpty,
                format!("{k} is sent as {} (a key without a value): leave the key out when the value is not known", v.display()),
            )
            .attribute(k)
            .evidence(evidence_of(p.location))
        })
        .collect()
}

/// `attr-type`: a standard attribute of the wrong type.
pub(super) fn attr_type(s: &Subject) -> Vec<Finding> {
    filled(s)
        .filter_map(|(p, k, v)| {
            let expected = type_of(k)?;
            (!expected.accepts(v)).then(|| {
                Finding::new(
                    Rule::AttrType,
                    format!(
                        "{k} is {} {}, but must be {}",
                        v.type_name(),
                        v.display(),
                        expected.name()
                    ),
                )
                .attribute(k)
                .evidence(evidence_of(p.location))
            })
        })
        .collect()
}

/// `attr-format`: a well-typed attribute in the wrong format.
pub(super) fn attr_format(s: &Subject) -> Vec<Finding> {
    filled(s)
        .filter(|(_, k, v)| type_of(k).is_some_and(|t| t.accepts(v)))
        .filter_map(|(p, k, v)| {
            catalogue::format_problem(k, v).map(|message| {
                Finding::new(Rule::AttrFormat, message)
                    .attribute(k)
                    .evidence(evidence_of(p.location))
            })
        })
        .collect()
}

/// `phone-invalid`: an E.164-form phone number that is not a valid number.
pub(super) fn phone_invalid(s: &Subject) -> Vec<Finding> {
    filled(s)
        .filter(|(_, k, _)| *k == "phone_number")
        .filter_map(|(p, k, v)| {
            let phone = v.as_str().filter(|p| catalogue::is_e164_form(p))?;
            catalogue::phone_validity_problem(phone).map(|problem| {
                Finding::new(
                    Rule::PhoneInvalid,
                    format!("{problem}; WhatsApp messages may not reach it"),
                )
                .attribute(k)
                .evidence(evidence_of(p.location))
            })
        })
        .collect()
}

/// `attr-unknown`: a top-level key outside the catalogue.
pub(super) fn attr_unknown(s: &Subject) -> Vec<Finding> {
    let extra = &s.context.expect.attributes;
    attributes(s)
        .filter(|(_, k, _)| type_of(k).is_none() && !extra.iter().any(|e| e == k))
        .map(|(p, k, _)| {
            Finding::new(
                Rule::AttrUnknown,
                format!(
                    "{k} is not a standard user attribute: custom attributes belong in `custom`"
                ),
            )
            .attribute(k)
            .evidence(evidence_of(p.location))
        })
        .collect()
}

/// The identifiers a user value carries with a value.
fn identifiers(value: &JsValue) -> impl Iterator<Item = &'static str> + '_ {
    IDENTIFIERS
        .into_iter()
        .filter(|k| value.get_defined(k).is_some_and(|v| !v.is_empty_value()))
}

/// `gdpr-missing`: an identified user pushed without gdpr_optin.
pub(super) fn gdpr_missing(s: &Subject) -> Vec<Finding> {
    s.user_values()
        .filter(|(_, v)| identifiers(v).next().is_some() && v.get_defined("gdpr_optin").is_none())
        .map(|(p, v)| {
            let ids: Vec<_> = identifiers(v).collect();
            Finding::new(
                Rule::GdprMissing,
                format!("The user is identified ({}) but gdpr_optin is not sent: send the user's cookie consent as true or false", ids.join(", ")),
            )
            .attribute("gdpr_optin")
            .evidence(evidence_of(p.location))
        })
        .collect()
}

/// `anonymous-identity`: a logged-out push carrying an identifier or an opt-in.
pub(super) fn anonymous_identity(s: &Subject) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (push, value) in s.user_values().filter(|(p, _)| !p.logged_in) {
        for key in identifiers(value) {
            findings.push(
                Finding::new(
                    Rule::AnonymousIdentity,
                    format!("Nobody is signed in, yet the user push carries {key} = {}: the identity is invented or leaked from another visitor", value.get(key).map(JsValue::display).unwrap_or_default()),
                )
                .attribute(key)
                .evidence(evidence_of(push.location)),
            );
        }
        for key in ["whatsapp_optin", "sms_optin", "email_optin"] {
            if value.get(key) == Some(&JsValue::Bool(true)) {
                findings.push(
                    Finding::new(
                        Rule::AnonymousIdentity,
                        format!("Nobody is signed in, yet the user push sets {key} to true: an opt-in must be the visitor's own"),
                    )
                    .attribute(key)
                    .evidence(evidence_of(push.location)),
                );
            }
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::Session;
    use crate::jsvalue::JsValue;
    use serde_json::json;

    fn user_page(user: serde_json::Value) -> Canned {
        Canned::user_page(user)
    }

    #[test]
    fn empty_is_not_also_type_or_format() {
        let page = user_page(json!({"language": "", "age": null, "gender": "  "}));
        assert_eq!(
            page.findings(Session::LoggedOut),
            ids(&[
                ("attr-empty", Some("language")),
                ("attr-empty", Some("age")),
                ("attr-empty", Some("gender"))
            ])
        );
    }

    #[test]
    fn undefined_counts_as_absent() {
        let value = JsValue::object(vec![
            ("type", JsValue::string("user")),
            (
                "value",
                JsValue::object(vec![
                    ("language", JsValue::string("en_US")),
                    ("name", JsValue::Undefined),
                ]),
            ),
        ]);
        let page = Canned::page()
            .init_queue()
            .push_js(value)
            .init()
            .readback(json!({"language": "en_US"}));
        assert_eq!(page.findings(Session::LoggedOut), ids(&[]));
    }

    #[test]
    fn types_and_formats() {
        let page = user_page(json!({"age": "33", "whatsapp_optin": "true", "custom": [],
            "language": "english", "gender": "male", "gdpr_optin": true}));
        assert_eq!(
            page.findings(Session::LoggedOut),
            ids(&[
                ("attr-type", Some("age")),
                ("attr-type", Some("whatsapp_optin")),
                ("attr-type", Some("custom")),
                ("attr-format", Some("language")),
                ("attr-format", Some("gender"))
            ])
        );
    }

    #[test]
    fn unknown_keys_only_by_attr_unknown() {
        let page = user_page(json!({"membership": "", "language": "en_US"}));
        assert_eq!(
            page.findings(Session::LoggedOut),
            ids(&[("attr-unknown", Some("membership"))])
        );
    }

    #[test]
    fn gdpr_missing_for_identified_user() {
        let page = user_page(
            json!({"uuid": "u1", "phone_number": "+905321234567", "whatsapp_optin": true}),
        );
        assert_eq!(
            page.findings(Session::LoggedIn),
            ids(&[
                ("login-incomplete", Some("gdpr_optin")),
                ("gdpr-missing", Some("gdpr_optin"))
            ])
        );
    }

    #[test]
    fn anonymous_identity_per_attribute_but_not_gdpr() {
        let page = user_page(json!({"email": "a@b.co", "sms_optin": true, "gdpr_optin": true}));
        assert_eq!(
            page.findings(Session::LoggedOut),
            ids(&[
                ("anonymous-identity", Some("email")),
                ("anonymous-identity", Some("sms_optin"))
            ])
        );
    }

    #[test]
    fn trunk_zero_phone_is_invalid_not_malformed() {
        let page = user_page(json!({"phone_number": "+9005321234567", "uuid": "u1",
            "whatsapp_optin": true, "gdpr_optin": true}));
        assert_eq!(
            page.findings(Session::LoggedIn),
            ids(&[("phone-invalid", Some("phone_number"))])
        );
    }
}
