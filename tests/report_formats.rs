//! Every report format over one fixed run with findings of every severity
//! (snapshots), JUnit parsed back, and `diff` between two reports.

use assert_cmd::Command;
use insider_audit::report::{
    html::Html, json::Json, junit::Junit, markdown::Markdown, table::Table, Format, Report,
};
use insider_audit::verdict::Verdict;

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/reports")
        .join(name)
}

fn fixed_run() -> Report {
    serde_json::from_slice(&std::fs::read(fixture("new.json")).unwrap()).unwrap()
}

fn render(format: &dyn Format) -> String {
    String::from_utf8(format.render(&fixed_run())).unwrap()
}

#[test]
fn table_snapshot() {
    insta::assert_snapshot!(render(&Table { width: None }));
}

/// rules.md: on a terminal too narrow for the words, the same cells as short
/// marks; full words when the table fits, or is piped.
#[test]
fn a_narrow_terminal_gets_short_marks() {
    let table_lines = |text: &str| -> Vec<String> {
        text.lines()
            .take_while(|l| !l.contains(" pages: "))
            .map(str::to_string)
            .collect()
    };
    let words = render(&Table { width: None });
    let wide = render(&Table { width: Some(400) });
    assert_eq!(wide, words, "a table that fits keeps its words");
    let widest = table_lines(&words)
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap();
    assert!(
        widest > 100,
        "the fixture's table is wider than 100 columns ({widest})"
    );
    let narrow = render(&Table { width: Some(100) });
    let lines = table_lines(&narrow);
    for line in &lines {
        assert!(line.chars().count() <= 100, "{line}");
    }
    let rows = lines.join("\n");
    assert!(
        rows.contains("│ ✗1 ") && rows.contains("│ !1 ") && rows.contains("│ – "),
        "{rows}"
    );
    assert!(
        rows.contains("│ FAIL "),
        "the verdict keeps its word: {rows}"
    );
    assert!(narrow.contains("✓ pass  !n warn (n)  ✗n fail (n)  – n/a"));
    assert_eq!(
        narrow
            .lines()
            .filter(|l| l.contains(" pages: "))
            .collect::<Vec<_>>(),
        words
            .lines()
            .filter(|l| l.contains(" pages: "))
            .collect::<Vec<_>>(),
        "the summary is the same"
    );
}

#[test]
fn json_snapshot_round_trips() {
    let json = render(&Json);
    let again: Report = serde_json::from_str(&json).unwrap();
    assert_eq!(String::from_utf8(Json.render(&again)).unwrap(), json);
    insta::assert_snapshot!(json);
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!(render(&Markdown));
}

#[test]
fn junit_snapshot() {
    insta::assert_snapshot!(render(&Junit));
}

#[test]
fn html_snapshot() {
    insta::assert_snapshot!(render(&Html {
        base_dir: fixture("")
    }));
}

#[test]
fn junit_parses_back_with_the_right_counts() {
    let xml = render(&Junit);
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let suites: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(
        suites
            .iter()
            .map(|s| s.attribute("name").unwrap())
            .collect::<Vec<_>>(),
        ["logged-out", "logged-in"]
    );
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 4, "a test case per page");
    let failures: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .collect();
    assert_eq!(
        failures.len(),
        2,
        "a failure for each page with error findings"
    );
    assert_eq!(
        failures[1].attribute("type"),
        Some("uuid-inconsistent,login-incomplete")
    );
    let described = failures[1].text().unwrap_or_default();
    assert!(
        described.contains("uuid-inconsistent") && described.contains("login-incomplete"),
        "{described}"
    );
    let system_out: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("system-out"))
        .collect();
    assert_eq!(system_out.len(), 2, "warnings as system-out");
    let root = doc.root_element();
    assert_eq!(root.attribute("tests"), Some("4"));
    assert_eq!(root.attribute("failures"), Some("2"));
}

#[test]
fn html_escapes_what_the_page_pushed() {
    let html = render(&Html {
        base_dir: fixture(""),
    });
    assert!(
        !html.contains("<img src=x"),
        "a pushed value reached the HTML unescaped"
    );
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    for external in ["src=\"http", "href=\"http", "<link ", "@import", "url("] {
        assert!(!html.contains(external), "an external resource: {external}");
    }
}

#[test]
fn diff_new_fixed_unchanged() {
    let old: Report = serde_json::from_slice(&std::fs::read(fixture("old.json")).unwrap()).unwrap();
    let diff = insider_audit::diff::diff(&old, &fixed_run());
    let ids =
        |list: &[insider_audit::diff::Entry]| list.iter().map(|e| e.rule.id()).collect::<Vec<_>>();
    assert_eq!(
        ids(&diff.new),
        ["login-incomplete", "gdpr-missing", "init-missing"]
    );
    assert_eq!(ids(&diff.fixed), ["attr-type"]);
    assert_eq!(ids(&diff.unchanged), ["uuid-inconsistent", "attr-format"]);
    insta::assert_snapshot!("diff_markdown", diff.markdown());
}

#[test]
fn diff_command_exit_codes_and_formats() {
    let run = |args: &[&str]| {
        let mut cmd = Command::cargo_bin("insider-audit").unwrap();
        cmd.arg("diff")
            .arg(fixture("old.json"))
            .arg(fixture("new.json"))
            .args(args);
        cmd.assert()
    };
    run(&[])
        .code(1)
        .stdout(predicates::str::contains("3 new, 1 fixed, 2 unchanged"));
    run(&["--fail-on", "never"]).code(0);
    let out = run(&["--format", "json"])
        .code(1)
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["new"].as_array().unwrap().len(), 3);
    assert_eq!(json["fixed"][0]["rule"], "attr-type");
    // The same report twice: nothing new.
    Command::cargo_bin("insider-audit")
        .unwrap()
        .arg("diff")
        .arg(fixture("new.json"))
        .arg(fixture("new.json"))
        .assert()
        .code(0)
        .stdout(predicates::str::contains("0 new, 0 fixed, 5 unchanged"));
    // A file that is not a report names itself and the position.
    Command::cargo_bin("insider-audit")
        .unwrap()
        .arg("diff")
        .arg(fixture("old.json"))
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "Cargo.toml:1:2: not an insider-audit JSON report",
        ));
}

/// Settings over the fixed run: an accepted error, an off rule, an expired and
/// an unused entry.
const SETTINGS: &str = r#"{
  "rules": { "gdpr-missing": "off" },
  "accept": [
    { "rule": "attr-format", "attribute": "language", "pages": ["/p/**"],
      "reason": "SHOP-812: the old catalogue sends bare languages" },
    { "rule": "login-incomplete", "scenario": "logged-in",
      "reason": "SHOP-9: the phone number arrives with the new account page", "until": "2025-01-31" },
    { "rule": "queue-missing", "reason": "SHOP-1: the tag manager migration", "until": "2027-12-31" }
  ]
}"#;

fn day(text: &str) -> chrono::NaiveDate {
    text.parse().unwrap()
}

/// `report` with `settings` applied on `today`, as a run would.
fn settled(mut report: Report, settings: &str, today: chrono::NaiveDate) -> Report {
    let settings =
        insider_audit::scenario::parse_settings(std::path::Path::new("settings.json"), settings)
            .unwrap();
    let mut ledger = insider_audit::settings::Ledger::new(today);
    ledger.register(&settings);
    for page in &mut report.pages {
        page.findings = ledger.apply(
            &settings,
            std::mem::take(&mut page.findings),
            &page.url,
            &page.scenario,
        );
    }
    report.summary = insider_audit::report::Summary::of(&report.pages);
    report.with_settings(ledger.report())
}

fn accepted_run() -> Report {
    settled(fixed_run(), SETTINGS, day("2026-03-01"))
}

fn render_accepted(format: &dyn Format) -> String {
    String::from_utf8(format.render(&accepted_run())).unwrap()
}

#[test]
fn accepted_findings_are_counted_apart() {
    let report = accepted_run();
    let s = &report.summary;
    assert_eq!(
        (s.pages, s.passed, s.failed, s.errors, s.warnings, s.accepted),
        (4, 3, 1, 2, 1, 1),
        "the accepted error no longer fails its page; gdpr-missing is off"
    );
    assert!(
        !report.pages[3]
            .findings
            .iter()
            .any(|f| f.rule.id() == "gdpr-missing"),
        "an off rule is not reported"
    );
    assert_eq!(report.pages[1].verdict(), Verdict::Warn);
    assert_eq!(report.settings.expired.len(), 1);
    assert_eq!(report.settings.expired[0].rule.id(), "login-incomplete");
    assert_eq!(report.settings.unused.len(), 1);
    assert_eq!(report.settings.unused[0].rule.id(), "queue-missing");
    assert_eq!(report.settings.unused[0].source, "settings.json:8:5");
}

#[test]
fn accepted_findings_never_count_for_fail_on() {
    use insider_audit::rules::Severity;
    let only_accepted = settled(
        fixed_run(),
        r#"{"accept": [{"rule": "attr-format", "reason": "a"}, {"rule": "uuid-inconsistent", "reason": "b"},
                       {"rule": "login-incomplete", "reason": "c"}]}"#,
        day("2026-03-01"),
    );
    assert!(!only_accepted.fails_at(Some(Severity::Error)));
    assert!(only_accepted.fails_at(Some(Severity::Warning)));
    assert_eq!(only_accepted.summary.failed, 0);
}

#[test]
fn severities_raised_and_lowered_decide_the_exit_threshold() {
    use insider_audit::rules::Severity;
    let run = fixed_run();
    assert!(run.fails_at(Some(Severity::Error)));
    // Every error rule of the run lowered to a warning: --fail-on error passes.
    let lowered = settled(
        fixed_run(),
        r#"{"rules": {"attr-format": "warning", "uuid-inconsistent": "warning", "login-incomplete": "warning"}}"#,
        day("2026-03-01"),
    );
    assert!(!lowered.fails_at(Some(Severity::Error)));
    assert!(lowered.fails_at(Some(Severity::Warning)));
    assert_eq!((lowered.summary.errors, lowered.summary.warnings), (0, 5));
    // Warnings only, then one raised to an error: --fail-on error fails again.
    let raised = settled(
        lowered.clone(),
        r#"{"rules": {"init-missing": "error"}}"#,
        day("2026-03-01"),
    );
    assert!(raised.fails_at(Some(Severity::Error)));
    assert_eq!(raised.pages[1].verdict(), Verdict::Fail);
    // Every rule off: nothing is reported.
    let off = settled(
        fixed_run(),
        r#"{"rules": {"attr-format": "off", "init-missing": "off", "uuid-inconsistent": "off",
                      "login-incomplete": "off", "gdpr-missing": "off"}}"#,
        day("2026-03-01"),
    );
    assert!(!off.fails_at(Some(Severity::Warning)));
    assert!(off.pages.iter().all(|p| p.findings.is_empty()));
}

#[test]
fn accepted_table_snapshot() {
    insta::assert_snapshot!(render_accepted(&Table { width: None }));
}

#[test]
fn accepted_json_snapshot_round_trips() {
    let json = render_accepted(&Json);
    let again: Report = serde_json::from_str(&json).unwrap();
    assert_eq!(String::from_utf8(Json.render(&again)).unwrap(), json);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        value["pages"][1]["findings"][0]["accepted"],
        serde_json::json!({"reason": "SHOP-812: the old catalogue sends bare languages"})
    );
    assert_eq!(value["summary"]["accepted"], 1);
    assert_eq!(value["settings"]["expired"][0]["until"], "2025-01-31");
    assert_eq!(value["settings"]["unused"][0]["rule"], "queue-missing");
    insta::assert_snapshot!(json);
}

#[test]
fn accepted_markdown_snapshot() {
    insta::assert_snapshot!(render_accepted(&Markdown));
}

#[test]
fn accepted_junit_snapshot_keeps_the_case_passing() {
    let xml = render_accepted(&Junit);
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let case = doc
        .descendants()
        .find(|n| {
            n.has_tag_name("testcase")
                && n.attribute("name") == Some("https://shop.example/p/espresso")
        })
        .unwrap();
    assert!(
        !case.children().any(|c| c.has_tag_name("failure")),
        "an accepted error does not fail its test case"
    );
    let out = case
        .children()
        .find(|c| c.has_tag_name("system-out"))
        .and_then(|c| c.text())
        .unwrap_or_default();
    assert!(
        out.contains("accepted error attr-format language")
            && out.contains("SHOP-812: the old catalogue sends bare languages"),
        "{out}"
    );
    assert_eq!(doc.root_element().attribute("failures"), Some("1"));
    insta::assert_snapshot!(xml);
}

#[test]
fn accepted_html_snapshot() {
    let html = render_accepted(&Html {
        base_dir: fixture(""),
    });
    assert!(html.contains("class=\"finding accepted\""));
    assert!(html.contains("id=\"f-accepted\""));
    assert!(html.contains("Expired accept entries") && html.contains("Unused accept entries"));
    insta::assert_snapshot!(html);
}

#[test]
fn diff_counts_a_finding_no_longer_accepted_as_new() {
    use insider_audit::rules::Severity;
    // The same run judged before and after the login-incomplete entry expired.
    let before = settled(fixed_run(), SETTINGS, day("2025-01-31"));
    let after = settled(fixed_run(), SETTINGS, day("2025-02-01"));
    assert!(before.settings.expired.is_empty());
    let diff = insider_audit::diff::diff(&before, &after);
    assert_eq!(diff.new.len(), 1);
    assert_eq!(diff.new[0].rule.id(), "login-incomplete");
    let was = diff.new[0].no_longer_accepted.as_ref().unwrap();
    assert_eq!(was.until, Some(day("2025-01-31")));
    assert!(diff.fails_at(Some(Severity::Error)));
    assert!(diff
        .table()
        .starts_with("1 new (1 no longer accepted), 0 fixed, 3 unchanged"));
    insta::assert_snapshot!("diff_no_longer_accepted", diff.table());
    // The other way round: newly accepted is unchanged, and fails nothing.
    let diff = insider_audit::diff::diff(&after, &before);
    assert!(diff.new.is_empty());
    assert!(!diff.fails_at(Some(Severity::Warning)));
}
