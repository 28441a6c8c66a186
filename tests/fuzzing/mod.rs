//! Inputs for the property tests and the long-running fuzz target
//! (`examples/fuzz.rs`): hand-written scenario files and recorder logs, and
//! strategies that build near-miss variants of them, shared by
//! `tests/properties.rs` and `examples/fuzz.rs`.

use proptest::prelude::*;
use serde_json::{json, Value};

/// Keys the scenario format and the recorder's log use, so generated objects
/// hit the parsers' real paths and not only "unknown key".
const KEYS: &[&str] = &[
    "site",
    "base_url",
    "crawl",
    "start",
    "include",
    "exclude",
    "max_pages",
    "max_depth",
    "sitemap",
    "scenarios",
    "name",
    "login",
    "steps",
    "expect",
    "required",
    "values",
    "integration",
    "user_push",
    "whatsapp_optin",
    "attributes",
    "goto",
    "visit",
    "fill",
    "value",
    "secret",
    "click",
    "press",
    "key",
    "selector",
    "select",
    "check",
    "checked",
    "wait_for",
    "url",
    "ms",
    "network_idle",
    "set_cookie",
    "path",
    "local_storage",
    "consent",
    "logout",
    "timeout",
    "rules",
    "accept",
    "rule",
    "attribute",
    "pages",
    "scenario",
    "reason",
    "until",
    "//",
    "kind",
    "seq",
    "t",
    "location",
    "script",
    "line",
    "column",
    "queue",
    "taken_over",
    "same",
    "value_kind",
    "prev_exists",
    "prev_len",
    "prev_taken_over",
    "count",
    "source",
    "message",
    "new_view",
    "type",
    "uuid",
    "phone_number",
];

/// Arbitrary JSON, biased toward the formats' own keys and shapes.
pub fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        "\\PC{0,12}".prop_map(Value::String),
        prop::sample::select(KEYS).prop_map(|k| Value::String(k.to_string())),
        prop::sample::select(
            &[
                "u",
                "z",
                "b",
                "n",
                "N",
                "s",
                "B",
                "y",
                "f",
                "d",
                "a",
                "o",
                "i",
                "c",
                "t",
                "x",
                "${env:X}",
                "/**",
                "2027-01-31",
                "attr-type",
                "off"
            ][..]
        )
        .prop_map(|k| Value::String(k.to_string())),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        prop::sample::select(KEYS).prop_map(str::to_string),
                        "\\PC{0,6}"
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// A valid scenario file, the seed of the text mutations.
pub const SCENARIO_SEED: &str = r##"{
  "site": "Shop", "base_url": "http://127.0.0.1:8080/",
  "crawl": { "start": ["/"], "include": ["/**"], "exclude": ["/logout*"], "max_pages": 5 },
  "rules": { "attr-unknown": "off" },
  "accept": [ { "rule": "attr-format", "pages": ["/legacy/**"], "reason": "SHOP-1", "until": "2027-01-31" } ],
  "scenarios": [ { "name": "in", "login": [ { "goto": "/login" },
    { "fill": "#p", "value": "${env:PW}", "secret": true }, { "click": "button" },
    { "wait_for": { "url": "/account/**" } } ],
    "steps": [ { "visit": "/cart" }, { "logout": "/logout" } ], "crawl": false,
    "expect": { "values": { "uuid": "U1" } } } ]
}"##;

/// Text near the seed: characters deleted, inserted or replaced.
pub fn scenario_text() -> impl Strategy<Value = String> {
    let edits = prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, "\\PC{0,3}"), 0..8);
    edits.prop_map(|edits| {
        let mut text: Vec<char> = SCENARIO_SEED.chars().collect();
        for (at, kind, insert) in edits {
            if text.is_empty() {
                break;
            }
            let i = at.index(text.len());
            match kind {
                0 => {
                    text.remove(i);
                }
                1 => {
                    for (k, c) in insert.chars().enumerate() {
                        text.insert(i + k, c);
                    }
                }
                _ => {
                    if let Some(c) = insert.chars().next() {
                        text[i] = c;
                    }
                }
            }
        }
        text.into_iter().collect()
    })
}
