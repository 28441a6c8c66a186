//! The user attributes of the guide: their types and formats.

use crate::jsvalue::JsValue;
use chrono::{DateTime, NaiveDate};
use regex::Regex;
use std::sync::LazyLock;

/// The type an attribute must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttrType {
    /// A JSON string (phone numbers, e-mails, ids, locales).
    String,
    /// A JSON number (age, score).
    Number,
    /// A JSON boolean (opt-ins): the string `"true"` is not one.
    Boolean,
    /// A plain object (`custom`).
    Object,
    /// A date or RFC 3339 datetime, as a string.
    Datetime,
}

impl AttrType {
    /// The name used in messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            AttrType::String => "a string",
            AttrType::Number => "a number",
            AttrType::Boolean => "a boolean (true/false)",
            AttrType::Object => "a plain object",
            AttrType::Datetime => "a date string such as \"1990-01-14\"",
        }
    }

    /// Whether `value` has this type.
    pub(crate) fn accepts(self, value: &JsValue) -> bool {
        match self {
            AttrType::String | AttrType::Datetime => matches!(value, JsValue::String { .. }),
            AttrType::Number => matches!(value, JsValue::Number(_) | JsValue::NonFinite(_)),
            AttrType::Boolean => matches!(value, JsValue::Bool(_)),
            AttrType::Object => matches!(value, JsValue::Object { .. }),
        }
    }
}

/// The standard attributes (the guide, plus `username`, `has_transacted` and
/// `transaction_count` from Insider's public user-object page).
pub(crate) const CATALOGUE: &[(&str, AttrType)] = &[
    ("gender", AttrType::String),
    ("birthday", AttrType::Datetime),
    ("name", AttrType::String),
    ("surname", AttrType::String),
    ("username", AttrType::String),
    ("age", AttrType::Number),
    ("email", AttrType::String),
    ("email_optin", AttrType::Boolean),
    ("phone_number", AttrType::String),
    ("sms_optin", AttrType::Boolean),
    ("language", AttrType::String),
    ("city", AttrType::String),
    ("country", AttrType::String),
    ("uuid", AttrType::String),
    ("gdpr_optin", AttrType::Boolean),
    ("whatsapp_optin", AttrType::Boolean),
    ("custom", AttrType::Object),
    ("has_transacted", AttrType::Boolean),
    ("transaction_count", AttrType::Number),
];

/// The opt-ins a site must not turn on by itself.
pub(crate) const OPTINS: [&str; 4] = ["whatsapp_optin", "sms_optin", "email_optin", "gdpr_optin"];

/// The type of a standard attribute, `None` for a key outside the catalogue.
pub(crate) fn attr_type(name: &str) -> Option<AttrType> {
    CATALOGUE.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

static E164: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\+[1-9][0-9]{6,14}$").unwrap());
static LOCALE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[a-z]{2}_[A-Z]{2}$").unwrap());
static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$").unwrap());

/// Whether a phone number has the E.164 form: `+`, a first digit 1–9, 7 to 15 digits.
pub(crate) fn is_e164_form(phone: &str) -> bool {
    E164.is_match(phone)
}

/// Why a well-typed, non-empty value has the wrong format, if it does.
pub(crate) fn format_problem(name: &str, value: &JsValue) -> Option<String> {
    match (name, value) {
        ("phone_number", JsValue::String { value, .. }) if !is_e164_form(value) => Some(format!(
            "phone_number {value:?} is not in E.164 form (a '+', the country code, then the number: 7 to 15 digits, no spaces or dashes, e.g. \"+905321234567\")"
        )),
        ("gender", JsValue::String { value, .. }) if value != "F" && value != "M" => {
            Some(format!("gender {value:?} must be \"F\" or \"M\""))
        }
        ("birthday", JsValue::String { value, .. }) if !is_date_or_datetime(value) => Some(format!(
            "birthday {value:?} is neither a date (\"1990-01-14\") nor an RFC 3339 datetime (\"2000-01-20T00:00:00Z\")"
        )),
        ("email", JsValue::String { value, .. }) if !EMAIL.is_match(value) => {
            Some(format!("email {value:?} is not an e-mail address"))
        }
        ("language", JsValue::String { value, .. }) if !LOCALE.is_match(value) => Some(format!(
            "language {value:?} is not a locale of the form ll_CC (e.g. \"en_US\")"
        )),
        ("age", JsValue::Number(n)) if !(n.fract() == 0.0 && (1.0..=120.0).contains(n)) => {
            Some(format!("age {n} is not a whole number from 1 to 120"))
        }
        ("age", JsValue::NonFinite(s)) => Some(format!("age {s} is not a whole number from 1 to 120")),
        _ => None,
    }
}

fn is_date_or_datetime(text: &str) -> bool {
    (text.len() == 10 && NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok())
        || DateTime::parse_from_rfc3339(text).is_ok()
}

/// Why an E.164-form phone number is not a valid number, if it is not.
///
/// Uses libphonenumber's metadata (the `phonenumber` crate). A parser may strip a
/// trunk `0` after the country code; the number as written is then wrong, so the
/// parsed number must format back to exactly the digits written.
pub(crate) fn phone_validity_problem(phone: &str) -> Option<String> {
    let parsed = match phonenumber::parse(None, phone) {
        Ok(parsed) => parsed,
        Err(_) => {
            return Some(format!(
                "phone_number {phone:?} cannot be parsed as a phone number"
            ))
        }
    };
    let as_written = parsed.format().mode(phonenumber::Mode::E164).to_string();
    if as_written != phone {
        return Some(format!(
            "phone_number {phone:?} is not valid as written (it only parses as {as_written}: a trunk 0 after the country code?)"
        ));
    }
    if !phonenumber::is_valid(&parsed) {
        return Some(format!(
            "phone_number {phone:?} is not a valid number for country code +{}",
            parsed.code().value()
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_form() {
        assert!(is_e164_form("+120394879878"));
        assert!(is_e164_form("+905321234567"));
        assert!(!is_e164_form("05321234567"));
        assert!(!is_e164_form("+90 532 123 45 67"));
        assert!(!is_e164_form("+0123456789"));
        assert!(!is_e164_form("+12345"));
        assert!(!is_e164_form("+1234567890123456"));
    }

    #[test]
    fn phone_validity() {
        assert_eq!(phone_validity_problem("+905321234567"), None);
        assert_eq!(phone_validity_problem("+14155552671"), None);
        assert!(
            phone_validity_problem("+120394879878").is_some(),
            "guide sample"
        );
        assert!(
            phone_validity_problem("+9005321234567").is_some(),
            "trunk zero"
        );
    }

    #[test]
    fn formats() {
        let s = JsValue::string;
        assert!(format_problem("gender", &s("M")).is_none());
        assert!(format_problem("gender", &s("male")).is_some());
        assert!(format_problem("birthday", &s("1990-01-14")).is_none());
        assert!(format_problem("birthday", &s("2000-01-20T00:00:00Z")).is_none());
        assert!(format_problem("birthday", &s("1990-02-30")).is_some());
        assert!(format_problem("birthday", &s("14/01/1990")).is_some());
        assert!(format_problem("email", &s("jdoe@useinsider.com")).is_none());
        assert!(format_problem("email", &s("jdoe@")).is_some());
        assert!(format_problem("language", &s("en_US")).is_none());
        assert!(format_problem("language", &s("en-US")).is_some());
        assert!(format_problem("age", &JsValue::Number(33.0)).is_none());
        assert!(format_problem("age", &JsValue::Number(33.5)).is_some());
        assert!(format_problem("age", &JsValue::Number(0.0)).is_some());
        assert!(format_problem("phone_number", &s("+905321234567")).is_none());
        assert!(format_problem("phone_number", &s("0532 123 45 67")).is_some());
    }
}
