//! The scenario file as written: serde types that reject unknown keys, and
//! parse errors turned into messages that say where and how to fix.

use crate::expect::Expectations;
use crate::settings::{RawAccept, RawRules};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    /// The JSON Schema an editor validates with (ignored here).
    #[serde(rename = "$schema", default)]
    pub _schema: Option<String>,
    /// A comment: `"//": "..."` is ignored, so files can explain themselves.
    #[serde(rename = "//", default)]
    pub _comment: Option<serde_json::Value>,
    pub site: Option<String>,
    pub base_url: String,
    /// Origins of hosted sign-in pages (another origin than base_url's).
    pub login_origins: Option<Vec<String>>,
    pub crawl: Option<RawCrawl>,
    pub scenarios: Vec<RawScenario>,
    /// Rule levels for every scenario.
    pub rules: Option<RawRules>,
    /// Accepted findings for every scenario.
    pub accept: Option<Vec<RawAccept>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScenario {
    /// A comment: `"//": "..."` is ignored, so files can explain themselves.
    #[serde(rename = "//", default)]
    pub _comment: Option<serde_json::Value>,
    pub name: String,
    #[serde(default)]
    pub login: Vec<RawStep>,
    #[serde(default)]
    pub steps: Vec<RawStep>,
    pub crawl: Option<RawCrawl>,
    pub expect: Option<Expectations>,
    /// Rule levels replacing the file's, per rule.
    pub rules: Option<RawRules>,
    /// Accepted findings added to the file's.
    pub accept: Option<Vec<RawAccept>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCrawlConfig {
    /// A comment: `"//": "..."` is ignored, so files can explain themselves.
    #[serde(rename = "//", default)]
    pub _comment: Option<serde_json::Value>,
    pub start: Option<Vec<String>>,
    pub include: Option<Vec<String>>,
    pub exclude: Option<Vec<String>>,
    pub max_pages: Option<usize>,
    pub max_depth: Option<usize>,
    pub sitemap: Option<bool>,
}

/// `"crawl": false` or a crawl object.
#[derive(Debug)]
pub(super) enum RawCrawl {
    Enabled(bool),
    Config(RawCrawlConfig),
}

impl<'de> Deserialize<'de> for RawCrawl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CrawlVisitor;
        impl<'de> Visitor<'de> for CrawlVisitor {
            type Value = RawCrawl;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("false or a crawl object {\"start\": [...], \"max_pages\": ...}")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawCrawl, E> {
                Ok(RawCrawl::Enabled(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawCrawl, A::Error> {
                RawCrawlConfig::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawCrawl::Config)
            }
        }
        deserializer.deserialize_any(CrawlVisitor)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWait {
    pub selector: Option<String>,
    pub url: Option<String>,
    pub ms: Option<u64>,
    pub network_idle: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCookie {
    pub name: String,
    pub value: String,
    pub path: Option<String>,
    pub secret: Option<bool>,
}

/// `"logout": "/logout"` or `"logout": {"click": "#signout"}`.
#[derive(Debug)]
pub(super) enum RawLogout {
    Path(String),
    Click { click: String },
}

impl<'de> Deserialize<'de> for RawLogout {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Click {
            click: String,
        }
        struct LogoutVisitor;
        impl<'de> Visitor<'de> for LogoutVisitor {
            type Value = RawLogout;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a path such as \"/logout\" or {\"click\": \"#signout\"}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawLogout, E> {
                Ok(RawLogout::Path(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawLogout, A::Error> {
                Click::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|c| RawLogout::Click { click: c.click })
            }
        }
        deserializer.deserialize_any(LogoutVisitor)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    /// A comment: `"//": "..."` is ignored, so files can explain themselves.
    #[serde(rename = "//", default)]
    pub _comment: Option<serde_json::Value>,
    pub goto: Option<String>,
    pub visit: Option<String>,
    pub fill: Option<String>,
    pub click: Option<String>,
    pub press: Option<String>,
    pub select: Option<String>,
    pub check: Option<String>,
    pub wait_for: Option<RawWait>,
    pub set_cookie: Option<RawCookie>,
    pub local_storage: Option<BTreeMap<String, String>>,
    pub consent: Option<String>,
    pub logout: Option<RawLogout>,
    pub value: Option<serde_json::Value>,
    pub selector: Option<String>,
    pub secret: Option<bool>,
    pub timeout_ms: Option<u64>,
}

impl RawStep {
    /// The action keys a step may have (exactly one).
    pub(super) const KINDS: [&'static str; 12] = [
        "goto",
        "visit",
        "fill",
        "click",
        "press",
        "select",
        "check",
        "wait_for",
        "set_cookie",
        "local_storage",
        "consent",
        "logout",
    ];

    /// The actions present (a valid step has exactly one), each with its
    /// own value.
    pub(super) fn actions(&self) -> Vec<RawAction<'_>> {
        let present = [
            self.goto.as_deref().map(RawAction::Goto),
            self.visit.as_deref().map(RawAction::Visit),
            self.fill.as_deref().map(RawAction::Fill),
            self.click.as_deref().map(RawAction::Click),
            self.press.as_deref().map(RawAction::Press),
            self.select.as_deref().map(RawAction::Select),
            self.check.as_deref().map(RawAction::Check),
            self.wait_for.as_ref().map(RawAction::WaitFor),
            self.set_cookie.as_ref().map(RawAction::SetCookie),
            self.local_storage.as_ref().map(RawAction::LocalStorage),
            self.consent.as_deref().map(RawAction::Consent),
            self.logout.as_ref().map(RawAction::Logout),
        ];
        present.into_iter().flatten().collect()
    }
}

/// One action key of a step with its value, as written.
#[derive(Debug, Clone, Copy)]
pub(super) enum RawAction<'a> {
    Goto(&'a str),
    Visit(&'a str),
    Fill(&'a str),
    Click(&'a str),
    Press(&'a str),
    Select(&'a str),
    Check(&'a str),
    WaitFor(&'a RawWait),
    SetCookie(&'a RawCookie),
    LocalStorage(&'a BTreeMap<String, String>),
    Consent(&'a str),
    Logout(&'a RawLogout),
}

impl RawAction<'_> {
    /// The step's key in the file (one of [`RawStep::KINDS`]).
    pub(super) fn kind(&self) -> &'static str {
        match self {
            RawAction::Goto(_) => "goto",
            RawAction::Visit(_) => "visit",
            RawAction::Fill(_) => "fill",
            RawAction::Click(_) => "click",
            RawAction::Press(_) => "press",
            RawAction::Select(_) => "select",
            RawAction::Check(_) => "check",
            RawAction::WaitFor(_) => "wait_for",
            RawAction::SetCookie(_) => "set_cookie",
            RawAction::LocalStorage(_) => "local_storage",
            RawAction::Consent(_) => "consent",
            RawAction::Logout(_) => "logout",
        }
    }
}

/// Parses a file (a scenario file, a settings file); an error is (line, column, message).
pub(super) fn from_str<T: serde::de::DeserializeOwned>(
    text: &str,
) -> Result<T, (usize, usize, String)> {
    let mut de = serde_json::Deserializer::from_str(text);
    let file = serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|error| {
        let path = error.path().to_string();
        describe(error.into_inner(), &path)
    })?;
    de.end().map_err(|e| describe(e, ""))?;
    Ok(file)
}

fn describe(inner: serde_json::Error, path: &str) -> (usize, usize, String) {
    // serde_json counts a position at the start of a line (a raw newline
    // inside a string) as column 0; positions here are 1-based.
    let (line, column) = (inner.line().max(1), inner.column().max(1));
    let bare = crate::error::serde_message(&inner);
    let at = if path == "." || path.is_empty() {
        String::new()
    } else {
        format!(" (at {path})")
    };
    let message = match inner.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            format!("malformed JSON: {bare}; look for a missing comma, quote or bracket here or just before")
        }
        serde_json::error::Category::Io => format!("cannot read the file: {bare}"),
        serde_json::error::Category::Data => data_message(&bare, &at),
    };
    (line, column, message)
}

/// Rewrites serde's data errors: unknown keys get the nearest valid key.
fn data_message(bare: &str, at: &str) -> String {
    if let Some(rest) = bare.strip_prefix("unknown field `") {
        let (unknown, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let valid: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        let nearest = super::nearest(unknown, valid.iter().copied())
            .map(|v| format!("did you mean \"{v}\"? "))
            .unwrap_or_default();
        return format!(
            "unknown key \"{unknown}\"{at}: {nearest}valid keys here: {}",
            valid.join(", ")
        );
    }
    if let Some(rest) = bare.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or(rest);
        return format!("missing key \"{name}\"{at}: add it");
    }
    if let Some(rest) = bare.strip_prefix("invalid type: ") {
        return format!("wrong type{at}: {rest}");
    }
    format!("{bare}{at}")
}
