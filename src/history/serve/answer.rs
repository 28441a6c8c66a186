//! How `history serve` answers a view: HTML for people, the same data as JSON
//! for tools (`Accept: application/json` or `?format=json`), a missing thing
//! as 404, a bad parameter as 400 and a store that fails as 503, each in the
//! form asked for. Parameters are parsed here, bounded, never trusted.

use super::super::HistoryError;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use std::collections::HashMap;

/// The most rows one answer lists (a larger `?limit=` is cut to it).
pub(crate) const MAX_LIMIT: u32 = 500;

/// What the client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wants {
    Html,
    Json,
}

impl Wants {
    /// JSON with `?format=json` or an `Accept` that names JSON before HTML;
    /// HTML otherwise.
    pub(crate) fn of(headers: &HeaderMap, params: &Params) -> Wants {
        match params.get("format") {
            Some("json") => return Wants::Json,
            Some(_) => return Wants::Html,
            None => {}
        }
        let accept = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let json = accept.find("application/json");
        let html = accept.find("text/html");
        match (json, html) {
            (Some(j), Some(h)) if j < h => Wants::Json,
            (Some(_), None) => Wants::Json,
            _ => Wants::Html,
        }
    }
}

/// A request's query parameters.
#[derive(Debug, Default)]
pub(crate) struct Params(pub(crate) HashMap<String, String>);

/// A parameter that is not what it must be (400).
#[derive(Debug)]
pub(crate) struct BadParam(pub(crate) String);

impl Params {
    /// The parameter `name`, if given.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A count parameter (`limit`, `runs`…): `default` when absent, at most
    /// `max` (a larger one is cut, not refused), at least 1.
    pub(crate) fn count(&self, name: &str, default: u32, max: u32) -> Result<u32, BadParam> {
        match self.whole(name, u64::from(max))? {
            None => Ok(default.min(max)),
            Some(0) => Err(BadParam(format!("?{name}= must be at least 1"))),
            Some(n) => Ok(n as u32),
        }
    }

    /// A position parameter (`offset`): 0 when absent, at most 1,000,000.
    pub(crate) fn position(&self, name: &str) -> Result<usize, BadParam> {
        Ok(self.whole(name, 1_000_000)?.unwrap_or(0) as usize)
    }

    /// The whole number `name` gives, cut to `max` (more digits than a u64
    /// holds is as huge as any, cut too); `None` when absent or empty.
    fn whole(&self, name: &str, max: u64) -> Result<Option<u64>, BadParam> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(text) => match text.parse::<u64>() {
                Ok(n) => Ok(Some(n.min(max))),
                Err(_) if text.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(max)),
                Err(_) => Err(BadParam(format!(
                    "?{name}= must be a whole number, not {:?}",
                    truncate(text)
                ))),
            },
        }
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}

/// One view, ready in both forms.
pub(crate) struct Answer {
    /// The page's title.
    pub(crate) title: String,
    /// The view's data (the JSON form).
    pub(crate) json: serde_json::Value,
    /// The view's body (the HTML form, inside the document).
    pub(crate) html: Markup,
}

/// Why a view has no answer.
#[derive(Debug)]
pub(crate) enum Failure {
    /// No such suite, run, page or finding (404).
    NotFound(String),
    /// A bad parameter (400).
    Bad(String),
    /// The store failed (503), or took too long.
    Store(String),
}

impl From<BadParam> for Failure {
    fn from(e: BadParam) -> Self {
        Failure::Bad(e.0)
    }
}

impl From<HistoryError> for Failure {
    fn from(e: HistoryError) -> Self {
        match e {
            // An unknown run or suite, as the store said it.
            HistoryError::Usage(m) => Failure::NotFound(m),
            other => Failure::Store(other.to_string()),
        }
    }
}

/// A view's answer, rendered: what the server sends, and what it keeps
/// while the store does not change.
#[derive(Debug, Clone)]
pub(crate) struct Rendered {
    pub(crate) status: StatusCode,
    pub(crate) content_type: &'static str,
    pub(crate) body: axum::body::Bytes,
}

impl Rendered {
    /// The response: the body with its type, and `Vary: Accept` (one URL
    /// answers in two forms).
    pub(crate) fn response(&self) -> Response {
        let mut response = (self.status, self.body.clone()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        headers.insert(header::VARY, HeaderValue::from_static("accept"));
        response
    }
}

/// A view's outcome in the form asked for; `document` wraps an HTML body
/// into the whole page.
pub(crate) fn render(
    wants: Wants,
    outcome: Result<Answer, Failure>,
    document: impl Fn(&str, Markup) -> String,
) -> Rendered {
    let (status, answer) = match outcome {
        Ok(answer) => (StatusCode::OK, answer),
        Err(failure) => {
            let (status, title, message) = match failure {
                Failure::NotFound(m) => (StatusCode::NOT_FOUND, "Not found", m),
                Failure::Bad(m) => (StatusCode::BAD_REQUEST, "Bad request", m),
                Failure::Store(m) => (StatusCode::SERVICE_UNAVAILABLE, "Store unavailable", m),
            };
            let answer = Answer {
                title: title.to_string(),
                json: serde_json::json!({ "error": message, "status": status.as_u16() }),
                html: html! {
                    h1 { (title) }
                    p.error { (message) }
                    p { a href="/" { "All suites" } }
                },
            };
            (status, answer)
        }
    };
    let (content_type, body) = match wants {
        Wants::Json => (
            "application/json; charset=utf-8",
            serde_json::to_vec_pretty(&answer.json).unwrap_or_default(),
        ),
        Wants::Html => (
            "text/html; charset=utf-8",
            document(&answer.title, answer.html).into_bytes(),
        ),
    };
    Rendered {
        status,
        content_type,
        body: body.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn counts_are_bounded_and_checked() {
        let p = params(&[
            ("limit", "99999999999999999999999"),
            ("runs", "12"),
            ("bad", "1; DROP"),
        ]);
        assert_eq!(p.count("limit", 50, MAX_LIMIT).unwrap(), MAX_LIMIT);
        let p2 = params(&[("limit", "1000000000")]);
        assert_eq!(p2.count("limit", 50, MAX_LIMIT).unwrap(), MAX_LIMIT);
        assert_eq!(p.count("runs", 90, 365).unwrap(), 12);
        assert_eq!(p.count("absent", 90, 365).unwrap(), 90);
        assert!(p
            .count("bad", 1, 10)
            .unwrap_err()
            .0
            .contains("whole number"));
        assert!(params(&[("limit", "0")]).count("limit", 5, 10).is_err());
    }

    #[test]
    fn json_when_asked_for_first() {
        let mut h = HeaderMap::new();
        assert_eq!(Wants::of(&h, &Params::default()), Wants::Html);
        h.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        assert_eq!(Wants::of(&h, &Params::default()), Wants::Json);
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/html,application/xhtml+xml,application/json;q=0.9"),
        );
        assert_eq!(Wants::of(&h, &Params::default()), Wants::Html);
        assert_eq!(Wants::of(&h, &params(&[("format", "json")])), Wants::Json);
    }
}
