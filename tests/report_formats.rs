//! Every report format over one fixed run with findings of every severity
//! (snapshots), JUnit parsed back, and `diff` between two reports.

use assert_cmd::Command;
use insider_audit::report::{
    html::Html, json::Json, junit::Junit, markdown::Markdown, table::Table, Format, Report,
};

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
    insta::assert_snapshot!(render(&Table));
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
