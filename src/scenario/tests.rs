use super::*;

const SPEC_EXAMPLE: &str = r##"{
  "site": "Demo shop",
  "base_url": "http://127.0.0.1:8080/",
  "crawl": { "start": ["/"], "include": ["/**"], "exclude": ["/logout*"],
             "max_pages": 50, "max_depth": 3, "sitemap": false },
  "scenarios": [
    { "name": "logged-out" },
    { "name": "logged-in",
      "login": [
        { "goto": "/login" },
        { "fill": "#email", "value": "${env:AUDIT_USER}" },
        { "fill": "#password", "value": "${env:AUDIT_PASSWORD}", "secret": true },
        { "click": "button[type=submit]" },
        { "wait_for": { "url": "/account" } }
      ],
      "steps": [ { "visit": "/account" }, { "visit": "/cart" },
                 { "logout": "/logout" }, { "visit": "/" } ],
      "crawl": false,
      "expect": { "required": ["uuid", "phone_number", "whatsapp_optin", "gdpr_optin", "name", "surname", "email"],
                  "values": { "uuid": "INS123", "whatsapp_optin": true } } }
  ]
}"##;

fn env(name: &str) -> Option<String> {
    match name {
        "AUDIT_USER" => Some("ada@example.com".into()),
        "AUDIT_PASSWORD" => Some("hunter2".into()),
        _ => None,
    }
}

fn parse_text(text: &str) -> Result<Plan, ScenarioError> {
    parse(Path::new("shop.json"), text, &env)
}

fn error_of(text: &str) -> ScenarioError {
    parse_text(text).expect_err("the file must be refused")
}

#[test]
fn the_interface_example_parses() {
    let plan = parse_text(SPEC_EXAMPLE).unwrap();
    assert_eq!(plan.site, "Demo shop");
    assert_eq!(plan.scenarios.len(), 2);
    assert_eq!(
        plan.scenarios[0].crawl.as_ref().unwrap().exclude,
        vec!["/logout*"]
    );
    let logged_in = &plan.scenarios[1];
    assert!(logged_in.crawl.is_none());
    assert_eq!(logged_in.login.len(), 5);
    assert_eq!(
        logged_in.steps[2].action,
        Action::Logout(Logout::Visit("/logout".into()))
    );
    let Action::Fill { value, .. } = &logged_in.login[1].action else {
        panic!()
    };
    assert_eq!(value.expose(), "ada@example.com");
    assert!(value.is_secret(), "values from the environment are secret");
    assert_eq!(
        logged_in.login[2].to_string(),
        "login step 3 (fill \"#password\" = ***)"
    );
    assert_eq!(logged_in.expect.values["uuid"], serde_json::json!("INS123"));
}

#[test]
fn malformed_json_names_line_and_column() {
    let e = error_of("{\n  \"base_url\": \"http://x/\"\n  \"scenarios\": []\n}");
    assert_eq!((e.line, e.column), (3, 3));
    assert!(e.message.starts_with("malformed JSON"), "{}", e.message);
    assert!(e.to_string().starts_with("shop.json:3:3: malformed JSON"));
}

#[test]
fn unknown_key_suggests_the_nearest() {
    let e = error_of(
        r##"{"base_url": "http://x/", "scenarios": [{"name": "a", "steps": [{"fil": "#q", "value": "x"}]}]}"##,
    );
    assert_eq!(e.line, 1);
    assert!(e.message.contains("unknown key \"fil\""), "{}", e.message);
    assert!(
        e.message.contains("did you mean \"fill\"?"),
        "{}",
        e.message
    );
    let e = error_of(r##"{"base_url": "http://x/", "scenarios": [], "crwal": {}}"##);
    assert!(
        e.message.contains("did you mean \"crawl\"?"),
        "{}",
        e.message
    );
}

#[test]
fn wrong_type_is_named() {
    let e = error_of("{\"base_url\": \"http://x/\",\n \"crawl\": {\"max_pages\": \"ten\"}, \"scenarios\": [{\"name\": \"a\"}]}");
    assert_eq!(e.line, 2);
    assert!(
        e.message.contains("wrong type") && e.message.contains("crawl.max_pages"),
        "{}",
        e.message
    );
}

#[test]
fn invalid_selector_points_at_it() {
    let e = error_of("{\"base_url\": \"http://x/\", \"scenarios\": [{\"name\": \"a\",\n  \"login\": [{\"click\": \"button[type=\"}]}]}");
    assert_eq!((e.line, e.column), (2, 23));
    assert!(
        e.message.contains("not a valid CSS selector"),
        "{}",
        e.message
    );
}

#[test]
fn unset_env_variable_is_named() {
    let e = error_of("{\"base_url\": \"http://x/\", \"scenarios\": [{\"name\": \"a\",\n  \"login\": [{\"fill\": \"#p\", \"value\": \"${env:NOPE}\"}]}]}");
    assert_eq!(e.line, 2);
    assert!(
        e.message.contains("environment variable NOPE is not set"),
        "{}",
        e.message
    );
}

#[test]
fn base_url_must_be_http() {
    let e = error_of("{\n\"base_url\": \"ftp://x/\", \"scenarios\": [{\"name\": \"a\"}]}");
    assert_eq!((e.line, e.column), (2, 13));
    assert!(e.message.contains("not http(s)"), "{}", e.message);
    let e = error_of("{\"base_url\": \"shop.example\", \"scenarios\": [{\"name\": \"a\"}]}");
    assert!(e.message.contains("is not a URL"), "{}", e.message);
}

#[test]
fn a_step_does_one_thing() {
    let e = error_of(
        r##"{"base_url": "http://x/", "scenarios": [{"name": "a", "steps": [{"visit": "/", "click": "#a"}]}]}"##,
    );
    assert!(
        e.message.contains("several actions (visit, click)"),
        "{}",
        e.message
    );
    let e = error_of(
        r##"{"base_url": "http://x/", "scenarios": [{"name": "a", "steps": [{"click": "#a", "value": "x"}]}]}"##,
    );
    assert!(
        e.message.contains("a click step takes no \"value\""),
        "{}",
        e.message
    );
}

/// A file with `rules` and `accept` at the top level and in a scenario.
fn with_settings(top: &str, scenario: &str) -> String {
    format!(
        "{{\"base_url\": \"http://x/\",\n{top}\n\"scenarios\": [{{\"name\": \"logged-out\"}},\n {{\"name\": \"logged-in\", {scenario}\n \"crawl\": false}}]}}"
    )
}

#[test]
fn rules_and_accept_merge_into_each_scenario() {
    let plan = parse_text(&with_settings(
        r#""rules": {"//": "levels", "attr-unknown": "off", "init-missing": "error"},
           "accept": [{"rule": "attr-format", "attribute": "phone_number", "pages": ["/legacy/**"], "reason": "SHOP-812", "until": "2027-01-31"}],"#,
        r#""rules": {"attr-unknown": "warning"}, "accept": [{"rule": "gdpr-missing", "reason": "GDPR-3"}],"#,
    ))
    .unwrap();
    use crate::rules::Rule;
    use crate::settings::Level;
    let out = &plan.scenarios[0].settings;
    assert_eq!(out.levels[&Rule::AttrUnknown], Level::Off);
    assert_eq!(out.accept.len(), 1);
    assert_eq!(out.accept[0].source, "shop.json:3:23");
    let inside = &plan.scenarios[1].settings;
    assert_eq!(inside.levels[&Rule::AttrUnknown], Level::Warning);
    assert_eq!(inside.levels[&Rule::InitMissing], Level::Error);
    let reasons: Vec<&str> = inside.accept.iter().map(|e| e.reason.as_str()).collect();
    assert_eq!(reasons, ["SHOP-812", "GDPR-3"]);
}

/// The error of a file whose top level carries `top`.
fn settings_error(top: &str) -> ScenarioError {
    error_of(&with_settings(top, ""))
}

#[test]
fn an_unknown_rule_id_names_the_nearest() {
    let e = settings_error(r#""rules": {"atr-unknown": "off"},"#);
    assert_eq!((e.line, e.column), (2, 26));
    assert!(
        e.message.contains("unknown rule id \"atr-unknown\""),
        "{}",
        e.message
    );
    assert!(
        e.message.contains("did you mean \"attr-unknown\"?"),
        "{}",
        e.message
    );
    let e = settings_error(r#""accept": [{"rule": "phone-invalidd", "reason": "r"}],"#);
    assert_eq!((e.line, e.column), (2, 21));
    assert!(
        e.message.contains("did you mean \"phone-invalid\"?"),
        "{}",
        e.message
    );
}

#[test]
fn a_bad_severity_is_refused() {
    let e = settings_error(r#""rules": {"attr-unknown": "warn"},"#);
    assert_eq!((e.line, e.column), (2, 27));
    assert!(
        e.message
            .contains("\"warn\" is not a level for attr-unknown")
            && e.message.contains("did you mean \"warning\"?"),
        "{}",
        e.message
    );
    let e = settings_error(r#""rules": {"attr-unknown": false},"#);
    assert!(e.message.contains("must be a string"), "{}", e.message);
}

#[test]
fn page_unreachable_cannot_be_lowered() {
    for level in ["off", "warning"] {
        let e = settings_error(&format!(r#""rules": {{"page-unreachable": "{level}"}},"#));
        assert_eq!(e.line, 2);
        assert!(
            e.message.contains("page-unreachable cannot be set"),
            "{}",
            e.message
        );
    }
    assert!(parse_text(&with_settings(
        r#""rules": {"page-unreachable": "error"},"#,
        ""
    ))
    .is_ok());
    // Also not in a scenario.
    let e = error_of(&with_settings(
        "",
        r#""rules": {"page-unreachable": "off"},"#,
    ));
    assert_eq!(e.line, 4);
}

#[test]
fn a_malformed_glob_or_date_is_refused() {
    let e = settings_error(
        r#""accept": [{"rule": "attr-format", "pages": ["/ok/**", "legacy/**"], "reason": "r"}],"#,
    );
    assert_eq!((e.line, e.column), (2, 56));
    assert!(
        e.message
            .contains("pages glob \"legacy/**\" must start with '/'"),
        "{}",
        e.message
    );
    let e = settings_error(r#""accept": [{"rule": "attr-format", "pages": [], "reason": "r"}],"#);
    assert!(e.message.contains("pages is empty"), "{}", e.message);
    let e = settings_error(
        r#""accept": [{"rule": "attr-format", "reason": "r", "until": "31/01/2027"}],"#,
    );
    assert_eq!((e.line, e.column), (2, 60));
    assert!(
        e.message
            .contains("until \"31/01/2027\" is not a date: write YYYY-MM-DD"),
        "{}",
        e.message
    );
    let e = settings_error(
        r#""accept": [{"rule": "attr-format", "reason": "r", "until": "2027-02-30"}],"#,
    );
    assert!(e.message.contains("is not a date"), "{}", e.message);
}

#[test]
fn an_accept_entry_needs_a_rule_and_a_reason() {
    let e = settings_error(r#""accept": [{"rule": "attr-format"}],"#);
    assert_eq!((e.line, e.column), (2, 12));
    assert!(e.message.contains("needs a \"reason\""), "{}", e.message);
    let e = settings_error(r#""accept": [{"rule": "attr-format", "reason": "  "}],"#);
    assert!(e.message.contains("needs a \"reason\""), "{}", e.message);
    let e = settings_error(r#""accept": [{"reason": "r"}],"#);
    assert!(e.message.contains("needs \"rule\""), "{}", e.message);
    let e = settings_error(r#""accept": [{"rule": "attr-format", "reason": "r", "page": ["/"]}],"#);
    assert!(
        e.message.contains("did you mean \"pages\"?"),
        "{}",
        e.message
    );
}

#[test]
fn an_accept_entry_names_a_scenario_of_the_file() {
    let e = settings_error(
        r#""accept": [{"rule": "attr-format", "reason": "r", "scenario": "logged-on"}],"#,
    );
    assert_eq!((e.line, e.column), (2, 63));
    assert!(
        e.message.contains("did you mean \"logged-in\"?"),
        "{}",
        e.message
    );
    let e = error_of(&with_settings(
        "",
        r#""accept": [{"rule": "attr-format", "reason": "r", "scenario": "logged-out"}],"#,
    ));
    assert!(e.message.contains("would never apply"), "{}", e.message);
}

#[test]
fn a_settings_file_has_only_rules_and_accept() {
    let s = parse_settings(
        Path::new("settings.json"),
        r#"{"//": "team decisions", "rules": {"attr-unknown": "off"}, "accept": []}"#,
    )
    .unwrap();
    assert_eq!(s.levels.len(), 1);
    let e = parse_settings(Path::new("settings.json"), r#"{"rule": {}}"#).unwrap_err();
    assert!(e.to_string().starts_with("settings.json:1:"), "{e}");
    assert!(
        e.message.contains("did you mean \"rules\"?"),
        "{}",
        e.message
    );
}

#[test]
fn a_raw_newline_in_a_string_is_at_column_1_not_0() {
    // Found by tests/properties.rs: serde_json says column 0 here.
    let e = error_of("{ \"site\": \"a\n\", \"base_url\": \"http://x/\" }");
    assert_eq!((e.line, e.column), (2, 1), "{e}");
}

#[test]
fn login_origins_are_origins_and_widen_the_steps_scope() {
    let plan = parse_text(
        r#"{ "base_url": "https://shop.example/", "login_origins": ["https://id.shop.example"],
  "scenarios": [ { "name": "s", "steps": [ { "goto": "https://partner.example/offer" }, { "visit": "/cart" } ] } ] }"#,
    )
    .unwrap();
    let scope = plan.step_scope(&plan.scenarios[0]);
    for allowed in [
        "https://shop.example/logout",
        "https://id.shop.example/authorize?x=1",
        "https://partner.example/other",
    ] {
        assert!(scope.allows(&Url::parse(allowed).unwrap()), "{allowed}");
    }
    assert!(!scope.allows(&Url::parse("https://evil.example/").unwrap()));
    assert!(plan.takes_credentials(&Url::parse("https://id.shop.example/login").unwrap()));
    assert!(!plan.takes_credentials(&Url::parse("https://partner.example/login").unwrap()));

    let e = error_of(
        "{ \"base_url\": \"https://shop.example/\",\n  \"login_origins\": [\"id.shop.example\"], \"scenarios\": [ { \"name\": \"s\" } ] }",
    );
    assert_eq!((e.line, e.column), (2, 21));
    assert!(
        e.message.contains("https://accounts.shop.example"),
        "{}",
        e.message
    );
    let e = error_of(
        "{ \"base_url\": \"https://shop.example/\", \"login_origins\": [\"https://id.shop.example/login\"], \"scenarios\": [ { \"name\": \"s\" } ] }",
    );
    assert!(
        e.message.contains("has a path") && e.message.contains("\"https://id.shop.example\""),
        "{}",
        e.message
    );
}

/// The step keys are named in two places: `RawStep::KINDS` (messages, schema)
/// and `RawAction::kind` (the parser's match). Every key of the one is the
/// other's, in the same order.
#[test]
fn step_kinds_and_raw_actions_agree() {
    for kind in raw::RawStep::KINDS {
        let value = match kind {
            "wait_for" => serde_json::json!({ "ms": 1 }),
            "set_cookie" => serde_json::json!({ "name": "a", "value": "b" }),
            "local_storage" => serde_json::json!({}),
            _ => serde_json::json!("/x"),
        };
        let step: raw::RawStep =
            serde_json::from_value(serde_json::json!({ kind: value })).unwrap();
        let actions = step.actions();
        assert_eq!(actions.len(), 1, "{kind}");
        assert_eq!(actions[0].kind(), kind);
    }
}
