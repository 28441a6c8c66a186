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
        .code(0)
        // Its expired entry (dated in the past on purpose) is pointed out.
        .stderr(predicate::str::contains("this accept entry has expired"))
        .stderr(predicate::str::contains(
            "phone-invalid phone_number [logged-in]",
        ));
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

/// A good file with `top` added at the top level (line 2).
fn with_top(top: &str) -> String {
    format!("{{\"base_url\": \"http://x/\",\n {top},\n \"scenarios\": [{{\"name\": \"logged-out\"}}, {{\"name\": \"logged-in\"}}]}}")
}

#[test]
fn rules_and_accept_validate() {
    validate(&with_top(
        r#""rules": {"attr-unknown": "off", "page-unreachable": "error"}, "accept": [{"rule": "attr-format", "pages": ["/legacy/**"], "scenario": "logged-in", "reason": "SHOP-812", "until": "2027-01-31"}]"#,
    ))
    .code(0);
}

#[test]
fn each_settings_error_names_its_position_and_fix() {
    let cases = [
        (
            r#""rules": {"atr-format": "off"}"#,
            "site.json:2:26: in rules: unknown rule id \"atr-format\": did you mean \"attr-format\"?",
        ),
        (
            r#""rules": {"attr-format": "of"}"#,
            "site.json:2:27: \"of\" is not a level for attr-format",
        ),
        (
            r#""rules": {"page-unreachable": "warning"}"#,
            "site.json:2:32: page-unreachable cannot be set to \"warning\"",
        ),
        (
            r#""accept": [{"rule": "init-mising", "reason": "r"}]"#,
            "site.json:2:22: unknown rule id \"init-mising\": did you mean \"init-missing\"?",
        ),
        (
            r#""accept": [{"rule": "attr-format", "pages": ["legacy/**"], "reason": "r"}]"#,
            "site.json:2:47: pages glob \"legacy/**\" must start with '/'",
        ),
        (
            r#""accept": [{"rule": "attr-format", "reason": "r", "until": "2027-1-31"}]"#,
            "site.json:2:61: until \"2027-1-31\" is not a date: write YYYY-MM-DD",
        ),
        (
            r#""accept": [{"rule": "attr-format"}]"#,
            "site.json:2:13: an accept entry needs a \"reason\"",
        ),
        (
            r#""accept": [{"rule": "attr-format", "reason": "r", "scenario": "loggedin"}]"#,
            "did you mean \"logged-in\"?",
        ),
    ];
    for (top, expected) in cases {
        validate(&with_top(top))
            .code(2)
            .stderr(predicate::str::contains(expected));
    }
}

fn check(args: &[&str]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("insider-audit")
        .unwrap()
        .arg("check")
        // Never a browser: valid flags reach the browser lookup and exit 3.
        .args(["--browser", "/nonexistent/chromium"])
        .args(args)
        .assert()
}

#[test]
fn check_rule_flags_are_validated_before_any_browser() {
    check(&["--rule", "nope=off", "http://x/"])
        .code(2)
        .stderr(predicate::str::contains("--rule"))
        .stderr(predicate::str::contains(
            "unknown rule id \"nope\": valid ids are queue-missing, queue-clobbered,",
        ));
    check(&["--rule", "atr-unknown=off", "http://x/"])
        .code(2)
        .stderr(predicate::str::contains("did you mean \"attr-unknown\"?"));
    check(&["--rule", "attr-unknown=warn", "http://x/"])
        .code(2)
        .stderr(predicate::str::contains("did you mean \"warning\"?"));
    check(&["--rule", "page-unreachable=off", "http://x/"])
        .code(2)
        .stderr(predicate::str::contains("page-unreachable cannot be set"));
    check(&["--rule", "attr-unknown", "http://x/"])
        .code(2)
        .stderr(predicate::str::contains("ID=LEVEL"));
    check(&[
        "--rule",
        "attr-unknown=off",
        "--rule",
        "init-missing=error",
        "http://127.0.0.1:9/",
    ])
    .code(3);
}

#[test]
fn check_settings_file_is_validated_before_any_browser() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("team.json");
    let settings = |text: &str| {
        std::fs::write(&file, text).unwrap();
        check(&["--settings", file.to_str().unwrap(), "http://127.0.0.1:9/"])
    };
    settings(
        r#"{"//": "our decisions", "rules": {"attr-unknown": "off"},
            "accept": [{"rule": "attr-format", "attribute": "phone_number", "reason": "SHOP-812"}]}"#,
    )
    .code(3);
    settings("{\n \"rules\": {\"attr-unknonw\": \"off\"}}")
        .code(2)
        .stderr(predicate::str::contains("--settings "))
        .stderr(predicate::str::contains(
            "team.json:2:28: in rules: unknown rule id",
        ))
        .stderr(predicate::str::contains("did you mean \"attr-unknown\"?"));
    settings("{\"scenarios\": []}")
        .code(2)
        .stderr(predicate::str::contains("unknown key \"scenarios\""))
        .stderr(predicate::str::contains("rules, accept"));
    settings("{\"accept\": [{\"rule\": \"attr-format\"}]}")
        .code(2)
        .stderr(predicate::str::contains("needs a \"reason\""));
    check(&["--settings", "/nonexistent/team.json", "http://x/"])
        .code(2)
        .stderr(predicate::str::contains(
            "--settings /nonexistent/team.json: cannot read",
        ));
}

#[test]
fn schema_and_init_know_rules_and_accept() {
    let out = Command::cargo_bin("insider-audit")
        .unwrap()
        .arg("schema")
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let schema: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!(schema["properties"]["rules"].is_object());
    assert_eq!(
        schema["properties"]["accept"]["items"]["required"],
        serde_json::json!(["rule", "reason"])
    );
    let starter =
        insider_audit::scenario::starter(&url::Url::parse("https://shop.example/").unwrap());
    assert!(starter.contains("\"accept\"") && starter.contains("\"rules\""));
}
