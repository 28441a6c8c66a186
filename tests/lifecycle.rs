//! No Chromium process outlives the tool: on success, on an error after launch,
//! on Ctrl-C (SIGINT), on SIGTERM and on SIGKILL.

mod common;

use common::processes::*;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn spawn_tool(args: &[&str]) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("insider-audit"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits (at most 30 s) until the journal holds its first page (after the run record).
async fn wait_for_first_page(journal: &std::path::Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !std::fs::read_to_string(journal)
        .unwrap_or_default()
        .lines()
        .any(|line| line.starts_with("{\"page\""))
    {
        assert!(
            Instant::now() < deadline,
            "the first page never reached the journal"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Audits a page that never yields, signals the tool while it waits, and checks
/// the exit code and that Chromium is gone.
async fn interrupt_with(signal: i32, expected_code: Option<i32>) {
    let server = common::fixture_server().await;
    let url = server.url("/infinite-loop.html");
    let mut tool = spawn_tool(&["check", "--timeout", "60", &url]);
    let chromium = chromium_of(&tool).await;
    tokio::time::sleep(Duration::from_millis(500)).await; // let the page start looping
                                                          // SAFETY: signalling our own child.
    unsafe { libc::kill(tool.id() as i32, signal) };
    let status = wait_exit(&mut tool, 30).await;
    assert_eq!(status.code(), expected_code, "exit status {status:?}");
    assert_group_gone(chromium, &format!("signal {signal}")).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigint_closes_the_browser() {
    interrupt_with(libc::SIGINT, Some(130)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_closes_the_browser() {
    interrupt_with(libc::SIGTERM, Some(143)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_of_the_tool_takes_the_browser_with_it() {
    interrupt_with(libc::SIGKILL, None).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn success_and_error_paths_leave_no_browser() {
    let server = common::fixture_server().await;
    let url = server.url("/compliant.html");
    let mut ok = spawn_tool(&["check", &url]);
    let chromium = chromium_of(&ok).await;
    assert_eq!(wait_exit(&mut ok, 30).await.code(), Some(0));
    assert_group_gone(chromium, "a successful run").await;

    // An error after the browser started: the report cannot be written.
    let mut failing = spawn_tool(&[
        "check",
        "--format",
        "json",
        "--output",
        "/proc/no-such-dir/report.json",
        &url,
    ]);
    let chromium = chromium_of(&failing).await;
    assert_eq!(wait_exit(&mut failing, 30).await.code(), Some(3));
    assert_group_gone(chromium, "a failed run").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn browser_ws_uses_a_running_browser_and_leaves_it_running() {
    let server = common::fixture_server().await;
    let executable = insider_audit::browser::locate(None).unwrap();
    let (running, ws_url) = insider_audit::browser::ChromiumProcess::spawn(&executable, &[])
        .await
        .unwrap();
    let status = tokio::process::Command::new(assert_cmd::cargo::cargo_bin("insider-audit"))
        .current_dir(tempfile::tempdir().unwrap().keep())
        .args([
            "check",
            "-q",
            "--browser-ws",
            &ws_url,
            &server.url("/compliant.html"),
        ])
        .status()
        .await
        .unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(
        group_alive(running.pid() as i32),
        "the user's browser was closed"
    );
    running.close().await;
    let unreachable = tokio::process::Command::new(assert_cmd::cargo::cargo_bin("insider-audit"))
        .current_dir(tempfile::tempdir().unwrap().keep())
        .args([
            "check",
            "-q",
            "--browser-ws",
            "ws://127.0.0.1:9/devtools/browser/x",
            &server.url("/compliant.html"),
        ])
        .status()
        .await
        .unwrap();
    assert_eq!(unreachable.code(), Some(3));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_browser_killed_mid_run_is_relaunched_and_the_run_completes() {
    let server = common::fixture_server().await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let mut tool = Command::new(assert_cmd::cargo::cargo_bin("insider-audit"))
        .current_dir(tempfile::tempdir().unwrap().keep())
        .args([
            "check",
            "-q",
            "--concurrency",
            "1",
            "--timeout",
            "5",
            "--format",
            "json",
            "--out-dir",
        ])
        .arg(dir.path())
        .arg("--output")
        .arg(&report)
        .args([
            server.url("/compliant.html"),
            server.url("/infinite-loop.html"),
            server.url("/guide-sample.html"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let chromium = chromium_of(&tool).await;
    // Let the first page reach the journal and the second one hang, then kill the browser.
    wait_for_first_page(&dir.path().join("pages.jsonl")).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    // SAFETY: killing the process group of our child's browser.
    unsafe { libc::kill(-chromium, libc::SIGKILL) };
    let status = wait_exit(&mut tool, 30).await;
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).expect("a report")).unwrap();
    // The looping page is unreachable (exit 1); the run went on to the end.
    assert_eq!(status.code(), Some(1), "{written}");
    let urls = common::page_urls(&written);
    assert_eq!(
        urls,
        [
            server.url("/compliant.html"),
            server.url("/infinite-loop.html"),
            server.url("/guide-sample.html")
        ]
    );
    assert_eq!(written["pages"][0]["findings"], serde_json::json!([]));
    assert_eq!(
        written["pages"][1]["findings"][0]["rule"],
        "page-unreachable"
    );
    assert_eq!(
        written["notes"][0]["kind"], "browser-restart",
        "{}",
        written["notes"]
    );
    assert_group_gone(chromium, "the kill").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_are_on_disk_as_soon_as_judged_so_ctrl_c_loses_nothing() {
    let server = common::fixture_server().await;
    let dir = tempfile::tempdir().unwrap();
    let mut tool = Command::new(assert_cmd::cargo::cargo_bin("insider-audit"))
        .current_dir(tempfile::tempdir().unwrap().keep())
        .args([
            "check",
            "-q",
            "--concurrency",
            "1",
            "--timeout",
            "60",
            "--out-dir",
        ])
        .arg(dir.path())
        .args([
            server.url("/attr-type.html"),
            server.url("/infinite-loop.html"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stream = dir.path().join("pages.jsonl");
    wait_for_first_page(&stream).await;
    // SAFETY: signalling our own child.
    unsafe { libc::kill(tool.id() as i32, libc::SIGINT) };
    assert_eq!(wait_exit(&mut tool, 30).await.code(), Some(130));
    let text = std::fs::read_to_string(&stream).unwrap();
    let run: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert!(
        run["run"]["id"].is_string(),
        "the journal starts with its run: {run}"
    );
    let first: serde_json::Value = serde_json::from_str(
        text.lines()
            .find(|line| line.starts_with("{\"page\""))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(first["page"]["url"], server.url("/attr-type.html"));
    assert_eq!(first["page"]["findings"][0]["rule"], "attr-type");
}
