//! The binary as users and CI run it: exit codes, output formats, the missing
//! browser, bad input.

mod common;

use assert_cmd::Command;
use predicates::prelude::*;

/// The tool, run in a directory of its own: its journal and reports
/// (`reports/` by default) are its run's alone, as on a user's machine.
fn insider_audit() -> Command {
    let mut cmd = Command::cargo_bin("insider-audit").unwrap();
    cmd.timeout(std::time::Duration::from_secs(120));
    cmd.current_dir(tempfile::tempdir().unwrap().keep());
    cmd
}

#[tokio::test(flavor = "multi_thread")]
async fn compliant_page_exits_0_with_no_finding() {
    let server = common::fixture_server().await;
    insider_audit()
        .args(["check", &server.url("/compliant.html")])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "1 pages: 1 passed, 0 failed; 0 errors, 0 warnings",
        ));
}

#[tokio::test(flavor = "multi_thread")]
async fn defect_exits_1_and_names_the_rule() {
    let server = common::fixture_server().await;
    insider_audit()
        .args([
            "check",
            "-q",
            &server.url("/push-before-init.html"),
            &server.url("/compliant.html"),
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("error   push-before-init"))
        .stdout(predicate::str::contains("early-push.js:2"))
        .stdout(predicate::str::contains("2 pages: 1 passed, 1 failed"));
}

#[tokio::test(flavor = "multi_thread")]
async fn json_report_to_a_file_follows_schema_version_1() {
    let server = common::fixture_server().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out/report.json");
    insider_audit()
        .args([
            "check",
            "-q",
            "--format",
            "json",
            "--output",
            path.to_str().unwrap(),
        ])
        .args([&server.url("/attr-type.html")])
        .assert()
        .code(1)
        .stdout("");
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["tool"]["name"], "insider-audit");
    assert!(report["started_at"].as_str().unwrap().ends_with('Z'));
    assert!(report["duration_ms"].as_u64().unwrap() > 0);
    assert_eq!(
        report["summary"],
        serde_json::json!({"pages": 1, "passed": 0, "failed": 1, "errors": 1, "warnings": 0, "accepted": 0})
    );
    assert_eq!(
        report["settings"],
        serde_json::json!({"expired": [], "unused": []})
    );
    let page = &report["pages"][0];
    assert_eq!(page["url"], server.url("/attr-type.html"));
    assert_eq!(page["scenario"], "logged-out");
    assert_eq!(page["status"], 200);
    assert_eq!(
        page["user"],
        serde_json::json!({"language": "en_US", "age": "33"})
    );
    assert_eq!(page["pushes"][0]["value"]["type"], "user");
    assert_eq!(page["pushes"].as_array().unwrap().len(), 2);
    let finding = &page["findings"][0];
    assert_eq!(finding["rule"], "attr-type");
    assert_eq!(finding["severity"], "error");
    assert_eq!(finding["attribute"], "age");
    assert_eq!(finding["evidence"]["script"], server.url("/attr-type.html"));
    assert!(finding["evidence"]["line"].as_u64().unwrap() > 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn json_on_stdout_is_only_json() {
    let server = common::fixture_server().await;
    let output = insider_audit()
        .args(["check", "--format", "json", &server.url("/compliant.html")])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout is one JSON document");
    assert_eq!(report["summary"]["pages"], 1);
    assert!(String::from_utf8_lossy(&output.stderr).contains("[logged-out] pass"));
}

#[tokio::test(flavor = "multi_thread")]
async fn fail_on_decides_the_exit_code() {
    let server = common::fixture_server().await;
    let url = server.url("/init-missing.html"); // a warning only
    insider_audit().args(["check", "-q", &url]).assert().code(0);
    insider_audit()
        .args(["check", "-q", "--fail-on", "warning", &url])
        .assert()
        .code(1);
    let error_url = server.url("/attr-empty.html");
    insider_audit()
        .args(["check", "-q", "--fail-on", "never", &error_url])
        .assert()
        .code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn expect_user_push_and_user_expr_options() {
    let server = common::fixture_server().await;
    let url = server.url("/logged-out-no-user.html");
    insider_audit().args(["check", "-q", &url]).assert().code(0);
    insider_audit()
        .args(["check", "-q", "--expect-user-push", &url])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("user-push-missing"));
    // The read-back expression is configurable: the stand-in SDK also answers Insider.user().
    insider_audit()
        .args([
            "check",
            "-q",
            "--user-expr",
            "window.Insider.user()",
            &server.url("/user-not-returned.html"),
        ])
        .assert()
        .code(0);
}

#[test]
fn no_browser_exits_3_naming_the_install_command() {
    insider_audit()
        .args([
            "check",
            "--browser",
            "/nonexistent/chromium",
            "http://127.0.0.1:9/",
        ])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("apt-get install -y chromium"));
    // $CHROME names the browser when --browser does not; the usual install
    // locations are only tried when neither is set (unit-tested in browser::locate).
    insider_audit()
        .env("CHROME", "/nonexistent/chrome")
        .args(["check", "http://127.0.0.1:9/"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("no Chromium browser found"))
        .stderr(predicate::str::contains(
            "/nonexistent/chrome (not an executable file)",
        ));
}

#[test]
fn bad_invocations_exit_2() {
    insider_audit()
        .args(["check", "not a url"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "URL #1 \"not a url\" is not a URL",
        ));
    insider_audit()
        .args(["check", "ftp://example.com/"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not http(s)"));
    insider_audit().args(["check"]).assert().code(2);
    insider_audit()
        .args(["check", "--fail-on", "sometimes", "http://x/"])
        .assert()
        .code(2);
    insider_audit()
        .args(["check", "--timeout", "0", "http://127.0.0.1:9/"])
        .assert()
        .code(2);
}

#[test]
fn demo_prints_the_table_and_exits_1() {
    insider_audit()
        .args(["demo", "-q"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("/account/profile.html"))
        .stdout(predicate::str::contains("34 pages: 19 passed, 15 failed"))
        .stdout(predicate::str::contains("push-before-init"))
        .stdout(predicate::str::contains("page-unreachable"))
        // The journeys' session defects.
        .stdout(predicate::str::contains("uuid-inconsistent"))
        .stdout(predicate::str::contains("optin-reactivated"))
        .stdout(predicate::str::contains("identity-after-logout"))
        .stdout(predicate::str::contains("Logged out vs logged in"))
        // scenarios/demo.json accepts one finding and has one expired entry.
        .stdout(predicate::str::contains("; 1 accepted"))
        .stdout(predicate::str::contains(
            "accepted warning attr-unknown membership_type",
        ))
        .stdout(predicate::str::contains("DEMO-7: marketing sends"))
        .stdout(predicate::str::contains("Expired accept entries"))
        .stdout(predicate::str::contains(
            "(until 2025-01-31) at scenarios/demo.json:",
        ));
}

/// `check` names the right rule on each planted defect, in one run.
#[tokio::test(flavor = "multi_thread")]
async fn check_names_the_rule_of_each_planted_defect() {
    let server = common::fixture_server().await;
    let cases = [
        ("/queue-missing.html", "queue-missing"),
        ("/queue-clobbered.html", "queue-clobbered"),
        ("/push-before-init.html", "push-before-init"),
        ("/push-before-init-guarded.html", "push-before-init"),
        ("/user-push-malformed.html", "user-push-malformed"),
        ("/user-not-returned.html", "user-not-returned"),
        ("/sdk-not-loaded.html", "sdk-not-loaded"),
        ("/sdk-loaded-twice.html", "sdk-loaded-twice"),
        ("/attr-type.html", "attr-type"),
        ("/attr-format.html", "attr-format"),
        ("/attr-empty.html", "attr-empty"),
        ("/attr-unknown.html", "attr-unknown"),
        ("/guide-sample.html", "phone-invalid"),
        ("/anonymous-identity.html", "anonymous-identity"),
        ("/user-after-init.html", "user-after-init"),
        ("/init-missing.html", "init-missing"),
        ("/init-repeated.html", "init-repeated"),
        ("/push-type-unknown.html", "push-type-unknown"),
        ("/mixed-integration.html", "mixed-integration"),
        ("/status-500.html", "page-unreachable"),
    ];
    let urls: Vec<String> = cases.iter().map(|(path, _)| server.url(path)).collect();
    let output = insider_audit()
        .args(["check", "-q", "--format", "json", "--concurrency", "4"])
        .args(&urls)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for (page, (path, rule)) in report["pages"].as_array().unwrap().iter().zip(cases) {
        let rules: Vec<&str> = page["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap())
            .collect();
        assert!(
            rules.contains(&rule),
            "{path}: expected {rule}, got {rules:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn screenshots_follow_the_flag_and_are_referenced() {
    let server = common::fixture_server().await;
    let urls = [server.url("/attr-type.html"), server.url("/compliant.html")];
    for (flag, expected) in [
        ("failures", [true, false]),
        ("always", [true, true]),
        ("never", [false, false]),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let output = insider_audit()
            .args([
                "check",
                "-q",
                "--format",
                "json",
                "--screenshots",
                flag,
                "--out-dir",
            ])
            .arg(dir.path())
            .args(&urls)
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let taken: Vec<bool> = report["pages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| match p["screenshot"].as_str() {
                Some(path) => {
                    let png = std::fs::read(dir.path().join(path))
                        .expect("the referenced screenshot exists");
                    assert!(png.starts_with(b"\x89PNG"), "{path} is a PNG");
                    true
                }
                None => false,
            })
            .collect();
        assert_eq!(taken, expected, "--screenshots {flag}");
    }
}

/// `--rule` and `--settings` decide what counts, on the same findings.
#[tokio::test(flavor = "multi_thread")]
async fn rule_and_settings_flags_decide_what_counts() {
    let server = common::fixture_server().await;
    let url = server.url("/attr-type.html");
    insider_audit().args(["check", "-q", &url]).assert().code(1);
    insider_audit()
        .args(["check", "-q", "--rule", "attr-type=warning", &url])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("warning attr-type age"));
    insider_audit()
        .args(["check", "-q", "--rule", "attr-type=off", &url])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "1 pages: 1 passed, 0 failed; 0 errors, 0 warnings",
        ))
        .stdout(predicate::str::contains("attr-type age").not());
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("team.json");
    std::fs::write(
        &settings,
        r#"{"accept": [{"rule": "attr-type", "attribute": "age", "pages": ["/attr-*.html"], "reason": "QA-1: ages as strings"},
                      {"rule": "queue-missing", "reason": "QA-2", "until": "2025-01-31"}]}"#,
    )
    .unwrap();
    let settings = settings.to_str().unwrap();
    insider_audit()
        .args(["check", "-q", "--settings", settings, &url])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("0 errors, 0 warnings; 1 accepted"))
        .stdout(predicate::str::contains("accepted error attr-type age"))
        .stdout(predicate::str::contains("QA-1: ages as strings"))
        .stdout(predicate::str::contains("Expired accept entries"));
    // --rule wins over --settings: raised to an error, still accepted.
    insider_audit()
        .args([
            "check",
            "-q",
            "--settings",
            settings,
            "--rule",
            "attr-type=error",
            &url,
        ])
        .assert()
        .code(0);
}

/// The demo's findings as (scenario, path, rule, attribute, accepted) lines,
/// in report order; the port the demo shop runs on left out.
fn demo_findings(extra: &[&str]) -> Vec<String> {
    let output = insider_audit()
        .args(["demo", "-q", "--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}): {output:?}"));
    let mut lines = Vec::new();
    for page in report["pages"].as_array().unwrap() {
        let url = url::Url::parse(page["url"].as_str().unwrap()).unwrap();
        for finding in page["findings"].as_array().unwrap() {
            let line = format!(
                "{} {} {} {} {}",
                page["scenario"].as_str().unwrap(),
                url.path(),
                finding["rule"].as_str().unwrap(),
                finding["attribute"].as_str().unwrap_or("-"),
                if finding.get("accepted").is_some() {
                    "accepted"
                } else {
                    ""
                },
            );
            lines.push(line.trim_end().to_string());
        }
    }
    lines
}

/// The first command a newcomer runs gives the same table every time: the
/// demo's findings are pinned, and a run with the renderer slowed 4× finds
/// exactly the same.
#[test]
fn the_demo_finds_the_same_every_time() {
    let quiet = demo_findings(&[]);
    insta::assert_snapshot!(quiet.join("\n"));
    let throttled = demo_findings(&["--cpu-throttle", "4"]);
    assert_eq!(quiet, throttled, "throttled 4x");
}
