//! Scheduled audits as a person runs them: `check` with `--history` on a real
//! SQLite file and a real PostgreSQL database, night after night. The reports
//! carry each finding's state; `--fail-on new` gates on what is new;
//! `--require-baseline` refuses an empty store; a store that cannot be
//! reached still leaves the reports (without history), exit 3, its password
//! never shown.

// Whole runs of the tool are waited for, and the PostgreSQL harness starts a
// throwaway cluster (initdb, pg_ctl): blocking waits in a test binary.
#![allow(clippy::disallowed_methods)]

mod common;
#[path = "history/pg.rs"]
#[allow(dead_code)] // the store tests use the rest of the harness
mod pg;

use serde_json::Value;
use std::path::Path;

/// Runs `check` on `pages` recording into `store`; (exit code, JSON report, stderr).
fn check(store: &str, out: &Path, pages: &[String], extra: &[&str]) -> (i32, Value, String) {
    let report = out.join("report.json");
    let output = std::process::Command::new(assert_cmd::cargo::cargo_bin("insider-audit"))
        .current_dir(out)
        .args(["check", "-q", "--format", "json", "--output"])
        .arg(&report)
        .arg("--out-dir")
        .arg(out)
        .args(["--history", store, "--suite", "fixtures"])
        .args(extra)
        .args(pages)
        .env_remove("INSIDER_AUDIT_HISTORY")
        .output()
        .unwrap();
    let json = std::fs::read(&report)
        .map(|bytes| serde_json::from_slice(&bytes).unwrap())
        .unwrap_or(Value::Null);
    (
        output.status.code().unwrap_or(-1),
        json,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// (rule, state, runs_seen) of every finding of the report.
fn states(report: &Value) -> Vec<(String, String, u64)> {
    let mut states: Vec<_> = report["pages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["findings"].as_array().unwrap().iter())
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["history"]["state"].as_str().unwrap_or("-").to_string(),
                f["history"]["runs_seen"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    states.sort();
    states
}

async fn three_nights(store: &str) {
    let server = common::fixture_server().await;
    let dir = tempfile::tempdir().unwrap();
    let night = |n: u32| {
        let out = dir.path().join(format!("night{n}"));
        std::fs::create_dir_all(&out).unwrap();
        out
    };
    let first = vec![
        server.url("/push-before-init.html"),
        server.url("/compliant.html"),
    ];
    // No baseline yet: --require-baseline refuses to pass the gate.
    let (code, report, stderr) = check(store, &night(0), &first, &["--require-baseline"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        report["history"]["baseline"].is_null(),
        "{}",
        report["history"]
    );
    assert_eq!(
        states(&report),
        [("push-before-init".into(), "new".into(), 1)]
    );
    // The next night has the same defect: open, seen twice; nothing new fails.
    let (code, report, stderr) = check(store, &night(1), &first, &["--fail-on", "new"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        states(&report),
        [("push-before-init".into(), "open".into(), 2)]
    );
    assert_eq!(
        report["history"]["baseline"],
        report_run_id(&dir.path().join("night0")),
        "compared with the night before"
    );
    // A page with a new defect: the gate fails on it, not on the old one.
    let mut third = first.clone();
    third.push(server.url("/attr-type.html"));
    let (code, report, stderr) = check(store, &night(2), &third, &["--fail-on", "new"]);
    assert_eq!(code, 1, "{stderr}");
    let found = states(&report);
    assert!(
        found.contains(&("push-before-init".into(), "open".into(), 3)),
        "{found:?}"
    );
    assert!(
        found.contains(&("attr-type".into(), "new".into(), 1)),
        "{found:?}"
    );
    // The defect gone from the first page: fixed.
    let fixed_pages = vec![server.url("/compliant.html"), server.url("/attr-type.html")];
    let (code, report, stderr) = check(store, &night(3), &fixed_pages, &["--fail-on", "new"]);
    assert_eq!(code, 0, "{stderr}");
    let history = &report["history"];
    assert!(
        history["not_checked"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "push-before-init"),
        "the page left the run: not checked, not fixed: {history}"
    );
}

fn report_run_id(out: &Path) -> Value {
    let report: Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    report["run"]["id"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn three_nights_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    three_nights(dir.path().join("history.db").to_str().unwrap()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn three_nights_on_postgres() {
    three_nights(&pg::database().await).await;
}

/// A store that cannot be reached: the reports are written without history,
/// exit 3, and the password of its URL appears nowhere.
#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_store_keeps_the_reports_and_its_password() {
    let server = common::fixture_server().await;
    let dir = tempfile::tempdir().unwrap();
    let pages = vec![server.url("/compliant.html")];
    let secret = "Sup3rSecretPw";
    let url = format!("postgres://audit:{secret}@127.0.0.1:9/history");
    let (code, report, stderr) = check(&url, dir.path(), &pages, &["-vv"]);
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(report["summary"]["pages"], 1, "the report is written");
    assert!(report.get("history").is_none());
    assert!(
        stderr.contains("127.0.0.1:9"),
        "the store is named: {stderr}"
    );
    assert!(!stderr.contains(secret), "{stderr}");
    for entry in walk(dir.path()) {
        let text = std::fs::read(&entry).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&text).contains(secret),
            "{} holds the password",
            entry.display()
        );
    }
    // A SQLite store on a path that cannot be created.
    let (code, report, stderr) = check("/proc/no/such/dir/history.db", dir.path(), &pages, &[]);
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(report["summary"]["pages"], 1);
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
