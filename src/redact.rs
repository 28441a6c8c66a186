//! Secrets, redacted by value: every value a scenario marks secret (or takes
//! from the environment) is replaced by `***` wherever the tool writes text —
//! logs at any level, reports, the journal, stdout — in its raw and URL-encoded
//! forms (a GET sign-in form puts the password in the page's URL).

use std::borrow::Cow;
use std::sync::RwLock;

/// Values shorter than this are not redacted: a one-character "secret" would
/// blank out every occurrence of that character.
const MIN_LEN: usize = 3;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers a secret value (and its encoded forms) for redaction.
pub(crate) fn register(value: &str) {
    if value.chars().count() < MIN_LEN {
        return;
    }
    let mut forms = vec![value.to_string()];
    let form: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let percent = form.replace('+', "%20");
    let json = serde_json::to_string(value).unwrap_or_default();
    for encoded in [form, percent, json.trim_matches('"').to_string()] {
        if !forms.contains(&encoded) {
            forms.push(encoded);
        }
    }
    let mut secrets = SECRETS.write().expect("secrets lock");
    for form in forms {
        if !secrets.contains(&form) {
            secrets.push(form);
        }
    }
    // Longest first, so a value is replaced before a shorter form inside it.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// `text` with every registered secret replaced by `***`.
pub(crate) fn redact(text: &str) -> Cow<'_, str> {
    let secrets = SECRETS.read().expect("secrets lock");
    if !secrets.iter().any(|s| text.contains(s.as_str())) {
        return Cow::Borrowed(text);
    }
    let mut out = text.to_string();
    for secret in secrets.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), "***");
        }
    }
    Cow::Owned(out)
}

/// `bytes` (UTF-8 text) with every registered secret replaced.
pub(crate) fn redact_bytes(bytes: &[u8]) -> Cow<'_, [u8]> {
    match std::str::from_utf8(bytes) {
        Ok(text) => match redact(text) {
            Cow::Borrowed(_) => Cow::Borrowed(bytes),
            Cow::Owned(text) => Cow::Owned(text.into_bytes()),
        },
        Err(_) => Cow::Borrowed(bytes),
    }
}

/// A writer for logs that redacts each write (the log layer writes an event at once).
pub(crate) struct RedactingWriter<W>(pub W);

impl<W: std::io::Write> std::io::Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write_all(&redact_bytes(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_and_encoded_forms_are_redacted() {
        register("s3cret Pass&word");
        let url = "http://shop.test/login?password=s3cret+Pass%26word&next=/";
        assert_eq!(redact(url), "http://shop.test/login?password=***&next=/");
        assert_eq!(redact("typed s3cret Pass&word"), "typed ***");
        assert_eq!(redact("nothing here"), "nothing here");
        register("x");
        assert_eq!(redact("x marks"), "x marks", "too short to redact");
    }
}
