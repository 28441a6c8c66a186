//! Bad scenario files: `validate` and `run` exit 2 with file, line, column and
//! the fix, before any browser starts.

use assert_cmd::Command;
use predicates::prelude::*;

fn validate(text: &str) -> assert_cmd::assert::Assert {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.json");
    std::fs::write(&file, text).unwrap();
    let assert = Command::cargo_bin("insider-audit")
        .unwrap()
        .env_remove("NOT_SET_ANYWHERE")
        .arg("validate")
        .arg(&file)
        .assert();
    drop(dir);
    assert
}

const GOOD: &str = r##"{
  "base_url": "http://127.0.0.1:9/",
  "scenarios": [ { "name": "logged-out" },
                 { "name": "in", "login": [ { "goto": "/login" }, { "click": "button[type=submit]" } ] } ]
}"##;

#[test]
fn a_good_file_validates() {
    validate(GOOD)
        .code(0)
        .stdout(predicate::str::contains("ok (2 scenarios, 2 steps"));
}

#[test]
fn malformed_json() {
    validate("{\n  \"base_url\": \"http://x/\"\n  \"scenarios\": []\n}")
        .code(2)
        .stderr(predicate::str::contains("site.json:3:3: malformed JSON"));
}

#[test]
fn unknown_key_with_the_nearest_valid_one() {
    validate("{\"base_url\": \"http://x/\",\n \"scenarios\": [{\"name\": \"a\", \"stpes\": []}]}")
        .code(2)
        .stderr(predicate::str::contains("site.json:2:"))
        .stderr(predicate::str::contains("unknown key \"stpes\""))
        .stderr(predicate::str::contains("did you mean \"steps\"?"));
}

#[test]
fn wrong_type() {
    validate("{\"base_url\": \"http://x/\",\n \"crawl\": {\"max_depth\": \"3\"},\n \"scenarios\": [{\"name\": \"a\"}]}")
        .code(2)
        .stderr(predicate::str::contains("site.json:2:"))
        .stderr(predicate::str::contains("wrong type (at crawl.max_depth)"));
}

#[test]
fn invalid_css_selector() {
    validate("{\"base_url\": \"http://x/\", \"scenarios\": [{\"name\": \"a\",\n \"steps\": [{\"click\": \"#a[\"}]}]}")
        .code(2)
        .stderr(predicate::str::contains("site.json:2:22"))
        .stderr(predicate::str::contains("\"#a[\" is not a valid CSS selector"));
}

#[test]
fn unset_environment_variable() {
    validate("{\"base_url\": \"http://x/\", \"scenarios\": [{\"name\": \"a\",\n \"login\": [{\"fill\": \"#p\", \"value\": \"${env:NOT_SET_ANYWHERE}\"}]}]}")
        .code(2)
        .stderr(predicate::str::contains("site.json:2:"))
        .stderr(predicate::str::contains("environment variable NOT_SET_ANYWHERE is not set"));
}

#[test]
fn base_url_not_http() {
    validate("{\"base_url\": \"file:///etc/passwd\", \"scenarios\": [{\"name\": \"a\"}]}")
        .code(2)
        .stderr(predicate::str::contains("site.json:1:14"))
        .stderr(predicate::str::contains("is not http(s)"));
}

#[test]
fn run_refuses_a_bad_file_before_starting_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.json");
    std::fs::write(&file, "{").unwrap();
    Command::cargo_bin("insider-audit")
        .unwrap()
        .args(["run", "--browser", "/nonexistent/chromium"])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.json:1:"));
}

#[test]
fn the_shipped_demo_scenario_validates() {
    Command::cargo_bin("insider-audit")
        .unwrap()
        .args([
            "validate",
            concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/demo.json"),
        ])
        .assert()
        .code(0);
}

#[test]
fn init_writes_a_starter_that_validates_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shop.json");
    let init = || {
        Command::cargo_bin("insider-audit")
            .unwrap()
            .args(["init", "https://shop.example/", "--output"])
            .arg(&file)
            .assert()
    };
    init().code(0);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("\"//\""), "the starter explains itself");
    Command::cargo_bin("insider-audit")
        .unwrap()
        .env("AUDIT_USER", "qa@shop.example")
        .env("AUDIT_PASSWORD", "x")
        .arg("validate")
        .arg(&file)
        .assert()
        .code(0);
    init()
        .code(2)
        .stderr(predicate::str::contains("exists: pass --force"));
    Command::cargo_bin("insider-audit")
        .unwrap()
        .args(["init", "shop.example"])
        .assert()
        .code(2);
}

#[test]
fn schema_is_json_schema_of_the_format() {
    let out = Command::cargo_bin("insider-audit")
        .unwrap()
        .arg("schema")
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let schema: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(
        schema["required"],
        serde_json::json!(["base_url", "scenarios"])
    );
    assert_eq!(schema["additionalProperties"], false);
}
