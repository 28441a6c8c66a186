use super::*;
use crate::scenario::parse_settings;
use std::path::Path;

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn settings(text: &str) -> Settings {
    parse_settings(Path::new("settings.json"), text).unwrap()
}

fn finding(rule: Rule, attribute: Option<&str>) -> Finding {
    let f = Finding::new(rule, "something is wrong");
    match attribute {
        Some(a) => f.attribute(a),
        None => f,
    }
}

/// Findings of a page: attr-format phone_number, attr-unknown loyalty, init-missing.
fn page() -> Vec<Finding> {
    vec![
        finding(Rule::AttrFormat, Some("phone_number")),
        finding(Rule::AttrUnknown, Some("loyalty")),
        finding(Rule::InitMissing, None),
    ]
}

const URL: &str = "https://shop.example/legacy/checkout?step=2";

#[test]
fn no_settings_change_nothing() {
    let applied = Settings::default().apply(page(), URL, "logged-in", day("2026-05-01"));
    assert_eq!(applied.findings, page());
    assert!(applied.used.is_empty());
}

#[test]
fn an_off_rule_is_not_reported() {
    let s = settings(r#"{"rules": {"attr-unknown": "off"}}"#);
    let applied = s.apply(page(), URL, "logged-in", day("2026-05-01"));
    let rules: Vec<Rule> = applied.findings.iter().map(|f| f.rule).collect();
    assert_eq!(rules, [Rule::AttrFormat, Rule::InitMissing]);
}

#[test]
fn severities_are_raised_and_lowered() {
    let s = settings(r#"{"rules": {"init-missing": "error", "attr-format": "warning"}}"#);
    let applied = s.apply(page(), URL, "logged-in", day("2026-05-01"));
    let severities: Vec<Severity> = applied.findings.iter().map(|f| f.severity).collect();
    assert_eq!(
        severities,
        [Severity::Warning, Severity::Warning, Severity::Error]
    );
}

#[test]
fn rules_set_the_severity_last_also_over_expect() {
    // whatsapp-optin-off is an error when the scenario expects an opted-in user.
    let raised = finding(Rule::WhatsappOptinOff, None).severity(Severity::Error);
    let s = settings(r#"{"rules": {"whatsapp-optin-off": "warning"}}"#);
    let applied = s.apply(vec![raised], URL, "logged-in", day("2026-05-01"));
    assert_eq!(applied.findings[0].severity, Severity::Warning);
}

#[test]
fn an_accepted_finding_stays_marked_with_its_reason() {
    let s = settings(
        r#"{"accept": [{"rule": "attr-format", "attribute": "phone_number", "pages": ["/legacy/**"],
                        "reason": "SHOP-812", "until": "2027-01-31"}]}"#,
    );
    let applied = s.apply(page(), URL, "logged-in", day("2027-01-31"));
    assert_eq!(applied.findings.len(), 3, "accepted findings stay");
    assert_eq!(
        applied.findings[0].accepted,
        Some(Accepted {
            reason: "SHOP-812".into(),
            until: Some(day("2027-01-31"))
        }),
        "until is inclusive"
    );
    assert!(applied.findings[1..].iter().all(Finding::counts));
    assert_eq!(applied.used, [0]);
    assert_eq!(s.accept[0].source, "settings.json:1:13");
}

#[test]
fn accept_matches_rule_attribute_pages_and_scenario() {
    let accepts = |entry: &str, url: &str, scenario: &str| {
        let s = settings(&format!(r#"{{"accept": [{entry}]}}"#));
        !s.apply(page(), url, scenario, day("2026-05-01"))
            .used
            .is_empty()
    };
    assert!(accepts(
        r#"{"rule": "init-missing", "reason": "r"}"#,
        URL,
        "a"
    ));
    assert!(!accepts(
        r#"{"rule": "queue-missing", "reason": "r"}"#,
        URL,
        "a"
    ));
    assert!(!accepts(
        r#"{"rule": "attr-format", "attribute": "email", "reason": "r"}"#,
        URL,
        "a"
    ));
    // init-missing has no attribute: an entry naming one does not match it.
    assert!(!accepts(
        r#"{"rule": "init-missing", "attribute": "uuid", "reason": "r"}"#,
        URL,
        "a"
    ));
    // Globs: ** crosses '/', * does not; the query is not part of the path.
    let on =
        |glob: &str| format!(r#"{{"rule": "init-missing", "pages": ["{glob}"], "reason": "r"}}"#);
    assert!(accepts(&on("/legacy/**"), URL, "a"));
    assert!(accepts(&on("/legacy/*"), URL, "a"));
    assert!(!accepts(&on("/*"), URL, "a"));
    assert!(accepts(&on("/**"), URL, "a"));
    assert!(!accepts(&on("/legacy/checkout?step=2"), URL, "a"));
    let in_scenario = r#"{"rule": "init-missing", "scenario": "logged-in", "reason": "r"}"#;
    assert!(accepts(in_scenario, URL, "logged-in"));
    assert!(!accepts(in_scenario, URL, "logged-out"));
}

#[test]
fn an_expired_entry_no_longer_applies_and_is_listed() {
    let s = settings(
        r#"{"accept": [{"rule": "init-missing", "reason": "old", "until": "2025-01-31"}]}"#,
    );
    let mut ledger = Ledger::new(day("2025-02-01"));
    let findings = ledger.apply(&s, page(), URL, "logged-out");
    assert!(findings.iter().all(Finding::counts));
    let report = ledger.report();
    assert_eq!(report.expired.len(), 1);
    assert_eq!(report.expired[0].reason, "old");
    assert!(
        report.unused.is_empty(),
        "an expired entry is not also unused"
    );
}

#[test]
fn an_entry_that_matched_nothing_in_the_run_is_unused() {
    let file = settings(
        r#"{"accept": [{"rule": "init-missing", "reason": "used on one page"},
                       {"rule": "queue-missing", "reason": "never happens"}]}"#,
    );
    let mut ledger = Ledger::new(day("2026-05-01"));
    // Two scenarios share the file's entries: they are still two entries.
    let other = file.merged(Settings::default());
    ledger.apply(&file, Vec::new(), URL, "logged-out");
    ledger.apply(&other, page(), URL, "logged-in");
    let report = ledger.report();
    assert!(report.expired.is_empty());
    let unused: Vec<&str> = report.unused.iter().map(|e| e.reason.as_str()).collect();
    assert_eq!(unused, ["never happens"]);
    // A scenario that audited nothing still has its entries listed.
    let mut ledger = Ledger::new(day("2026-05-01"));
    ledger.register(&file);
    assert_eq!(ledger.report().unused.len(), 2);
}

#[test]
fn a_scenario_replaces_rules_per_rule_and_adds_accept_entries() {
    let file = settings(
        r#"{"rules": {"attr-unknown": "off", "init-missing": "error"},
            "accept": [{"rule": "init-missing", "reason": "file"}]}"#,
    );
    let own = settings(
        r#"{"rules": {"attr-unknown": "error"},
            "accept": [{"rule": "attr-format", "reason": "scenario"}]}"#,
    );
    let merged = file.merged(own);
    assert_eq!(merged.levels[&Rule::AttrUnknown], Level::Error);
    assert_eq!(merged.levels[&Rule::InitMissing], Level::Error);
    assert_eq!(merged.accept.len(), 2);
    // --rule wins over --settings.
    let flags = merged.with_levels([parse_rule_flag("attr-unknown=off").unwrap()]);
    assert_eq!(flags.levels[&Rule::AttrUnknown], Level::Off);
}

#[test]
fn rule_flags_are_validated() {
    assert_eq!(
        parse_rule_flag("attr-unknown=warning"),
        Ok((Rule::AttrUnknown, Level::Warning))
    );
    let e = parse_rule_flag("attr-formt=off").unwrap_err();
    assert!(e.contains("did you mean \"attr-format\"?"), "{e}");
    let e = parse_rule_flag("attr-format=warn").unwrap_err();
    assert!(e.contains("did you mean \"warning\"?"), "{e}");
    let e = parse_rule_flag("attr-format").unwrap_err();
    assert!(e.contains("ID=LEVEL"), "{e}");
    let e = parse_rule_flag("page-unreachable=off").unwrap_err();
    assert!(e.contains("page-unreachable cannot be set"), "{e}");
    assert!(parse_rule_flag("page-unreachable=error").is_ok());
}

#[test]
fn dates_are_calendar_days() {
    assert_eq!(date("2027-01-31"), Some(day("2027-01-31")));
    for bad in [
        "2027-1-31",
        "2027-02-30",
        "31.01.2027",
        "2027-01-31T00:00:00Z",
        "",
    ] {
        assert_eq!(date(bad), None, "{bad}");
    }
}
