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
