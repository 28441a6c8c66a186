//! `insider-audit init` (a commented starter scenario file for a site) and
//! `insider-audit schema` (a JSON Schema of the format, for editors).

use crate::rules::Rule;
use serde_json::{json, Value};
use url::Url;

/// A starter scenario file for `base_url`, explained with `"//"` comment keys.
pub fn starter(base_url: &Url) -> String {
    let site = base_url.host_str().unwrap_or("my site");
    let file = json!({
        "//": "insider-audit scenario file. Check it with `insider-audit validate FILE`, run it with `insider-audit run FILE`. Keys named \"//\" are comments.",
        "$schema": "./insider-audit.schema.json",
        "site": site,
        "base_url": base_url.as_str(),
        "crawl": {
            "//": "Breadth first from start over the links of the rendered pages; globs match the path (** spans slashes). Logout-like paths are never crawled.",
            "start": ["/"],
            "include": ["/**"],
            "exclude": [],
            "max_pages": 50,
            "max_depth": 3,
            "sitemap": false
        },
        "rules": {
            "//": "Rule levels for every scenario: \"off\", \"warning\" or \"error\" (page-unreachable stays an error). A scenario's own rules replace these per rule. Settings never change what is found, only how it counts.",
            "attr-unknown": "warning"
        },
        "accept": [
            {
                "//": "An example: findings accepted for now stay in every report, marked with the reason, and never fail the run. pages (path globs) and scenario narrow it; after until (UTC, inclusive) it no longer applies and the report lists it as expired; an entry that matched nothing is listed as unused. Adapt or delete it.",
                "rule": "attr-format",
                "attribute": "phone_number",
                "pages": ["/legacy/**"],
                "reason": "SHOP-812: the old checkout formats numbers nationally",
                "until": "2027-01-31"
            }
        ],
        "scenarios": [
            { "//": "An anonymous visitor: every page must create window.InsiderQueue.", "name": "logged-out" },
            {
                "//": "The test user. Export AUDIT_USER and AUDIT_PASSWORD before running; values from ${env:...} never appear in any output.",
                "name": "logged-in",
                "login": [
                    { "goto": "/login" },
                    { "fill": "#email", "value": "${env:AUDIT_USER}" },
                    { "fill": "#password", "value": "${env:AUDIT_PASSWORD}", "secret": true },
                    { "click": "button[type=submit]" },
                    { "wait_for": { "url": "/account/**" } }
                ],
                "steps": [
                    { "//": "visit audits a page; goto only navigates; consent is a click that is the user's own opt-in.", "visit": "/account" },
                    { "logout": "/logout" },
                    { "visit": "/" }
                ],
                "crawl": false,
                "expect": {
                    "values": {},
                    "whatsapp_optin": true
                }
            }
        ]
    });
    serde_json::to_string_pretty(&file).expect("a starter serialises") + "\n"
}

fn string() -> Value {
    json!({ "type": "string" })
}

fn comment() -> Value {
    json!({ "description": "A comment, ignored." })
}

fn strict(properties: Value, required: &[&str]) -> Value {
    json!({ "type": "object", "additionalProperties": false, "properties": properties, "required": required })
}

/// The keys a step may have, with their schema.
fn step_schema() -> Value {
    let selector = json!({ "type": "string", "description": "A CSS selector." });
    let path = json!({ "type": "string", "description": "A path (resolved against base_url) or a full URL." });
    strict(
        json!({
            "//": comment(),
            "goto": path, "visit": path,
            "fill": selector, "click": selector, "select": selector, "check": selector, "consent": selector,
            "press": { "type": "string", "description": "A key name, e.g. Enter." },
            "wait_for": strict(json!({
                "selector": selector, "url": { "type": "string", "description": "A glob on the path, or on the whole URL when it has a scheme." },
                "ms": { "type": "integer", "minimum": 0 }, "network_idle": { "const": true }
            }), &[]),
            "set_cookie": strict(json!({ "name": string(), "value": string(), "path": string(), "secret": { "type": "boolean" } }), &["name", "value"]),
            "local_storage": { "type": "object", "additionalProperties": { "type": "string" } },
            "logout": { "oneOf": [path, strict(json!({ "click": selector }), &["click"])] },
            "value": { "description": "What fill types, select chooses (may use ${env:NAME}); for check, true or false." },
            "selector": selector,
            "secret": { "type": "boolean", "description": "Never show this step's value in any output." },
            "timeout_ms": { "type": "integer", "minimum": 1 }
        }),
        &[],
    )
}

/// `rules`: a level per rule id; page-unreachable only `error`.
fn rules_schema() -> Value {
    let mut properties = serde_json::Map::new();
    properties.insert("//".into(), comment());
    for rule in Rule::ALL {
        let level = if *rule == Rule::PageUnreachable {
            json!({ "const": "error", "description": "An unaudited page is always an error." })
        } else {
            json!({ "enum": ["off", "warning", "error"] })
        };
        properties.insert(rule.id().into(), level);
    }
    json!({
        "type": "object",
        "description": "Rule levels: off drops a rule's findings, warning or error sets their severity (applied after expect).",
        "additionalProperties": false,
        "properties": properties
    })
}

/// `accept`: findings accepted for now.
fn accept_schema() -> Value {
    let ids: Vec<&str> = Rule::ALL.iter().map(|r| r.id()).collect();
    json!({
        "type": "array",
        "description": "Findings accepted for now: still reported with the reason, never counted for --fail-on.",
        "items": strict(json!({
            "//": comment(),
            "rule": { "enum": ids },
            "attribute": { "type": "string", "minLength": 1 },
            "pages": { "type": "array", "minItems": 1, "items": { "type": "string", "pattern": "^/" }, "description": "Path globs; ** spans slashes." },
            "scenario": { "type": "string", "minLength": 1 },
            "reason": { "type": "string", "pattern": "\\S", "description": "Why, e.g. a ticket." },
            "until": { "type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "description": "Last day it applies (UTC, inclusive)." }
        }), &["rule", "reason"])
    })
}

fn crawl_schema() -> Value {
    let globs = json!({ "type": "array", "items": { "type": "string", "pattern": "^/" } });
    strict(
        json!({
            "//": comment(),
            "start": { "type": "array", "items": string() },
            "include": globs, "exclude": globs,
            "max_pages": { "type": "integer", "minimum": 0 },
            "max_depth": { "type": "integer", "minimum": 0 },
            "sitemap": { "type": "boolean" }
        }),
        &[],
    )
}

/// A JSON Schema (draft 2020-12) of the scenario file format.
pub fn schema() -> Value {
    let steps = json!({ "type": "array", "items": step_schema() });
    let expect = strict(
        json!({
            "integration": { "type": "boolean" },
            "user_push": { "enum": ["logged_in", "every_page"] },
            "required": { "type": "array", "items": string() },
            "values": { "type": "object" },
            "whatsapp_optin": { "type": "boolean" },
            "attributes": { "type": "array", "items": string() }
        }),
        &[],
    );
    let mut file = strict(
        json!({
            "//": comment(),
            "$schema": string(),
            "site": string(),
            "base_url": { "type": "string", "format": "uri", "pattern": "^https?://" },
            "login_origins": {
                "description": "Origins of hosted sign-in pages: the steps may go there, and credentials are typed only there and on base_url's origin",
                "type": "array",
                "items": { "type": "string", "pattern": "^https?://[^/]+/?$" }
            },
            "crawl": crawl_schema(),
            "rules": rules_schema(),
            "accept": accept_schema(),
            "scenarios": {
                "type": "array",
                "minItems": 1,
                "items": strict(json!({
                    "//": comment(),
                    "name": string(),
                    "login": steps, "steps": steps,
                    "crawl": { "oneOf": [{ "const": false }, { "const": true }, crawl_schema()] },
                    "expect": expect,
                    "rules": rules_schema(),
                    "accept": accept_schema()
                }), &["name"])
            }
        }),
        &["base_url", "scenarios"],
    );
    file["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    file["title"] = json!("insider-audit scenario file");
    file
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys of a JSON object, sorted.
    fn sorted_keys(object: &serde_json::Value) -> Vec<&str> {
        let mut keys: Vec<&str> = object
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        keys
    }
    use std::path::Path;

    #[test]
    fn the_starter_is_a_valid_scenario_file() {
        let text = starter(&Url::parse("https://shop.example/").unwrap());
        let env = |name: &str| Some(format!("value-of-{name}"));
        let plan = crate::scenario::parse(Path::new("starter.json"), &text, &env).unwrap();
        assert_eq!(plan.scenarios.len(), 2);
        assert_eq!(
            plan.scenarios[1].settings.accept.len(),
            1,
            "a commented accept example"
        );
        assert_eq!(plan.base_url.as_str(), "https://shop.example/");
    }

    #[test]
    fn the_schema_knows_every_step_key_the_parser_accepts() {
        let schema = schema();
        let step = &schema["properties"]["scenarios"]["items"]["properties"]["steps"]["items"]
            ["properties"];
        let keys = sorted_keys(step);
        let mut accepted: Vec<&str> = super::super::raw::RawStep::KINDS.to_vec();
        accepted.extend(["value", "selector", "secret", "timeout_ms", "//"]);
        accepted.sort_unstable();
        assert_eq!(keys, accepted);
    }

    #[test]
    fn the_schema_knows_rules_and_accept_everywhere() {
        let schema = schema();
        let scenario = &schema["properties"]["scenarios"]["items"]["properties"];
        for place in [&schema["properties"], scenario] {
            let rules = place["rules"]["properties"].as_object().unwrap();
            assert_eq!(rules.len(), Rule::ALL.len() + 1, "every rule id and \"//\"");
            assert_eq!(rules["page-unreachable"]["const"], "error");
            let keys = sorted_keys(&place["accept"]["items"]["properties"]);
            assert_eq!(
                keys,
                [
                    "//",
                    "attribute",
                    "pages",
                    "reason",
                    "rule",
                    "scenario",
                    "until"
                ]
            );
        }
    }
}
