//! `--notify` as a team uses it: the real binary posts to a webhook served
//! here on 127.0.0.1 (axum), which can answer 200, 500 or nothing at all.
//! `merge --history` records a shipped report without a browser; one test
//! runs `demo` end to end (Chromium: run this binary under
//! `flock /tmp/browser-tests.lock`). Checked: the body, `--notify-on`,
//! one retry, the time limit, an exit code that never changes, and a
//! webhook token that appears nowhere (stdout, stderr, trace log, reports,
//! the store).

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use serde_json::Value;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The webhook's token: it must never be shown.
const SECRET: &str = "T0KEN-b7e1f2c9d4";

/// How the webhook answers one request.
#[derive(Clone, Copy)]
enum Answer {
    Status(u16),
    /// Takes the request and never answers.
    Never,
}

#[derive(Default)]
struct Hook {
    /// Answers still to give, in order; 200 when none is left.
    script: Mutex<VecDeque<Answer>>,
    /// Every request that arrived: (path, body).
    received: Mutex<Vec<(String, Value)>>,
}

/// A webhook on 127.0.0.1 answering `script`.
async fn webhook(script: &[Answer]) -> (SocketAddr, Arc<Hook>) {
    let hook = Arc::new(Hook {
        script: Mutex::new(script.iter().copied().collect()),
        ..Hook::default()
    });
    let app = axum::Router::new()
        .fallback(
            |State(hook): State<Arc<Hook>>, uri: Uri, body: String| async move {
                let body = serde_json::from_str(&body).unwrap_or(Value::String(body));
                hook.received.lock().unwrap().push((uri.to_string(), body));
                let answer = hook.script.lock().unwrap().pop_front();
                match answer.unwrap_or(Answer::Status(200)) {
                    Answer::Status(code) => StatusCode::from_u16(code).unwrap(),
                    Answer::Never => std::future::pending().await,
                }
            },
        )
        .with_state(hook.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, hook)
}

fn hook_url(addr: SocketAddr) -> String {
    format!("http://{addr}/hook/{SECRET}")
}

/// A shipped report of four pages (three errors, two warnings) as the shard
/// of run `run` of suite `shop`, with a `<script>` planted in one finding.
fn shard_report(dir: &Path, run: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports/new.json");
    let mut report: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    report["run"] = serde_json::json!({"id": run, "suite": "shop"});
    report["pages"][3]["findings"][0]["message"] =
        Value::from("uuid <script>alert(1)</script> & co changed");
    let out = dir.join(format!("{run}.json"));
    std::fs::write(&out, serde_json::to_vec(&report).unwrap()).unwrap();
    out
}

/// What a run of the binary left: exit code, stdout, stderr.
struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn insider_audit(args: &[&str], env: &[(&str, &str)]) -> Ran {
    let output = tokio::process::Command::new(assert_cmd::cargo::cargo_bin("insider-audit"))
        .args(args)
        .env_remove("INSIDER_AUDIT_HISTORY")
        .env_remove("INSIDER_AUDIT_NOTIFY")
        .env_remove("INSIDER_AUDIT_LOG")
        .envs(env.iter().copied())
        .output()
        .await
        .unwrap();
    Ran {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `merge` of the shard report of `run` into `dir`, recorded in `dir/h.db`.
async fn merge(dir: &Path, run: &str, extra: &[&str], env: &[(&str, &str)]) -> Ran {
    let report = shard_report(dir, run);
    let out = dir.join(format!("out-{run}"));
    let store = dir.join("h.db");
    let mut args = vec![
        "merge",
        "--format",
        "json",
        "--format",
        "html",
        "--format",
        "markdown",
        "--out-dir",
        out.to_str().unwrap(),
        "--history",
        store.to_str().unwrap(),
        report.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    insider_audit(&args, env).await
}

fn received(hook: &Hook) -> Vec<(String, Value)> {
    hook.received.lock().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_first_run_posts_its_new_findings() {
    let (addr, hook) = webhook(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let url = hook_url(addr);
    let ran = merge(
        dir.path(),
        "night-1",
        &[
            "--notify",
            &url,
            "--label",
            "release <2.1>",
            "--report-url",
            "https://ci.example/r/1/report.html",
        ],
        &[],
    )
    .await;
    assert_eq!(
        ran.code, 1,
        "three errors: exit 1 as without --notify\n{}",
        ran.stderr
    );
    let posts = received(&hook);
    assert_eq!(posts.len(), 1, "one message per run");
    let (path, body) = &posts[0];
    assert_eq!(path, &format!("/hook/{SECRET}"));
    assert_eq!(body["suite"], "shop");
    assert_eq!(body["run"], "night-1");
    assert_eq!(body["label"], "release <2.1>");
    assert_eq!(body["exit_code"], 1);
    assert_eq!(body["summary"]["pages"], 4);
    assert_eq!(body["summary"]["errors"], 3);
    assert_eq!(body["summary"]["warnings"], 2);
    assert_eq!(body["counts"]["new"], 5, "the first run: everything new");
    assert_eq!(body["reopened"], serde_json::json!([]));
    assert_eq!(body["fixed"], serde_json::json!([]));
    assert_eq!(body["report"], "https://ci.example/r/1/report.html");
    let messages: Vec<&str> = body["new"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        messages.contains(&"uuid <script>alert(1)</script> & co changed"),
        "structured fields are data: {messages:?}"
    );
    let text = body["text"].as_str().unwrap();
    assert!(
        text.starts_with("insider-audit: suite shop (release &lt;2.1&gt;): 4 pages audited, 2 failed; 3 errors, 2 warnings (exit 1). Since the baseline: 5 new, 0 reopened, 0 fixed. new error "),
        "{text}"
    );
    assert!(
        text.contains("uuid &lt;script&gt;alert(1)&lt;/script&gt; &amp; co changed"),
        "{text}"
    );
    assert!(!text.contains('<') && !text.contains('>'), "{text}");
    assert!(
        text.ends_with("Report: https://ci.example/r/1/report.html"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn notify_on_decides_which_runs_post() {
    let (addr, hook) = webhook(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let url = hook_url(addr);
    let first = merge(dir.path(), "n1", &["--notify", &url], &[]).await;
    assert_eq!(first.code, 1, "{}", first.stderr);
    assert_eq!(
        received(&hook).len(),
        1,
        "new findings: posted under the default `new`"
    );
    // The same findings again: nothing new, nothing posted under `new`.
    let second = merge(dir.path(), "n2", &["--notify", &url], &[]).await;
    assert_eq!(second.code, 1, "{}", second.stderr);
    assert_eq!(received(&hook).len(), 1, "nothing new: no message");
    // Still failing: `failed` posts, and says nothing is new.
    let third = merge(
        dir.path(),
        "n3",
        &["--notify", &url, "--notify-on", "failed"],
        &[],
    )
    .await;
    assert_eq!(third.code, 1, "{}", third.stderr);
    let posts = received(&hook);
    assert_eq!(posts.len(), 2, "exit 1 posts under `failed`");
    assert_eq!(posts[1].1["run"], "n3");
    assert_eq!(posts[1].1["counts"]["new"], 0);
    // --fail-on never: exit 0; `failed` stays quiet, `always` posts.
    let quiet = merge(
        dir.path(),
        "n4",
        &[
            "--notify",
            &url,
            "--notify-on",
            "failed",
            "--fail-on",
            "never",
        ],
        &[],
    )
    .await;
    assert_eq!(quiet.code, 0, "{}", quiet.stderr);
    assert_eq!(
        received(&hook).len(),
        2,
        "exit 0: no message under `failed`"
    );
    let always = merge(
        dir.path(),
        "n5",
        &["--notify-on", "always", "--fail-on", "never"],
        &[("INSIDER_AUDIT_NOTIFY", &url)],
    )
    .await;
    assert_eq!(always.code, 0, "{}", always.stderr);
    let posts = received(&hook);
    assert_eq!(
        posts.len(),
        3,
        "`always`, the webhook from INSIDER_AUDIT_NOTIFY"
    );
    assert_eq!(posts[2].1["run"], "n5");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_500_is_retried_once() {
    let (addr, hook) = webhook(&[Answer::Status(500)]).await;
    let dir = tempfile::tempdir().unwrap();
    let ran = merge(dir.path(), "r1", &["--notify", &hook_url(addr)], &[]).await;
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let posts = received(&hook);
    assert_eq!(posts.len(), 2, "a 500, then the retry");
    assert_eq!(posts[0].1, posts[1].1, "the same message twice");
    assert!(
        !ran.stderr.contains("notification"),
        "delivered: no warning\n{}",
        ran.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_500s_are_reported_with_the_url_redacted() {
    let (addr, hook) = webhook(&[Answer::Status(500), Answer::Status(503)]).await;
    let dir = tempfile::tempdir().unwrap();
    let ran = merge(dir.path(), "r1", &["--notify", &hook_url(addr)], &[]).await;
    assert_eq!(ran.code, 1, "the exit code is the run's\n{}", ran.stderr);
    assert_eq!(received(&hook).len(), 2, "tried twice, no more");
    assert!(
        ran.stderr.contains(&format!(
            "warning: the notification to http://{addr}/… was not delivered: it answered 503 Service Unavailable"
        )),
        "{}",
        ran.stderr
    );
    assert!(!ran.stderr.contains(SECRET), "{}", ran.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_webhook_that_never_answers_times_out_twice() {
    let (addr, hook) = webhook(&[Answer::Never, Answer::Never]).await;
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let ran = merge(
        dir.path(),
        "t1",
        &[
            "--notify",
            &hook_url(addr),
            "--fail-on",
            "never",
            "--notify-on",
            "always",
        ],
        // Debug builds only: 10 s a try in a release build.
        &[("INSIDER_AUDIT_NOTIFY_TIMEOUT_MS", "400")],
    )
    .await;
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(received(&hook).len(), 2, "the first try and one retry");
    assert!(
        ran.stderr.contains(&format!(
            "the notification to http://{addr}/… was not delivered: no answer within 400 ms"
        )),
        "{}",
        ran.stderr
    );
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_webhook_does_not_change_the_exit_code() {
    // A port nothing listens on: bound, then closed.
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let ran = merge(dir.path(), "u1", &["--notify", &hook_url(addr)], &[]).await;
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert!(
        ran.stderr.contains(&format!(
            "the notification to http://{addr}/… was not delivered: cannot connect"
        )),
        "{}",
        ran.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_webhook_is_a_usage_error_that_does_not_show_it() {
    let dir = tempfile::tempdir().unwrap();
    let bad = format!("ftp://files.example/{SECRET}");
    let ran = merge(dir.path(), "b1", &["--notify", &bad], &[]).await;
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("ftp://files.example/…"),
        "{}",
        ran.stderr
    );
    assert!(!ran.stderr.contains(SECRET), "{}", ran.stderr);
    assert!(
        !dir.path().join("out-b1").join("report.json").exists(),
        "nothing ran"
    );
}

/// Every file under `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        match path.is_dir() {
            true => out.extend(files(&path)),
            false => out.push(path),
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn the_token_is_nowhere() {
    // A failed delivery is the path most likely to print the URL.
    let (addr, hook) = webhook(&[Answer::Status(500), Answer::Status(500)]).await;
    let dir = tempfile::tempdir().unwrap();
    let url = hook_url(addr);
    let ran = merge(
        dir.path(),
        "s1",
        &["-vv", "--format", "junit", "--notify-on", "always"],
        &[
            ("INSIDER_AUDIT_NOTIFY", &url),
            ("INSIDER_AUDIT_LOG", "trace"),
            ("RUST_LOG", "trace"),
        ],
    )
    .await;
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert_eq!(
        received(&hook).len(),
        2,
        "the message was sent (and retried)"
    );
    assert!(
        ran.stderr.contains("TRACE"),
        "a trace log was written:\n{}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains(&format!("http://{addr}/…")),
        "{}",
        ran.stderr
    );
    assert!(!ran.stdout.contains(SECRET) && !ran.stderr.contains(SECRET));
    let written = files(dir.path());
    assert!(written.iter().any(|f| f.ends_with("report.html")));
    assert!(written.iter().any(|f| f.ends_with("h.db")));
    for file in written {
        let bytes = std::fs::read(&file).unwrap();
        let found = bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes());
        assert!(!found, "{} holds the webhook's token", file.display());
    }
}

/// `demo` end to end (Chromium): exits 1 by design, and posts once.
#[tokio::test(flavor = "multi_thread")]
async fn the_demo_posts_one_message() {
    let (addr, hook) = webhook(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("h.db");
    let out = dir.path().join("reports");
    let url = hook_url(addr);
    let report = out.join("report.json");
    let args = [
        "demo",
        "-q",
        "--format",
        "json",
        "--output",
        report.to_str().unwrap(),
        "--out-dir",
        out.to_str().unwrap(),
        "--history",
        store.to_str().unwrap(),
        "--notify",
        &url,
    ];
    let ran = insider_audit(&args, &[]).await;
    assert_eq!(
        ran.code, 1,
        "the demo shop has findings by design\n{}",
        ran.stderr
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let posts = received(&hook);
    assert_eq!(posts.len(), 1, "one message per run");
    let body = &posts[0].1;
    assert_eq!(body["suite"], "demo");
    assert_eq!(body["run"], report["run"]["id"]);
    assert_eq!(body["summary"], report["summary"]);
    let findings: usize = report["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["findings"].as_array().unwrap().len())
        .sum();
    assert!(findings > 0);
    assert_eq!(
        body["counts"]["new"].as_u64().unwrap() as usize,
        findings - report["summary"]["accepted"].as_u64().unwrap_or(0) as usize,
        "a first run: every finding not accepted is new"
    );
    assert!(!ran.stdout.contains(SECRET) && !ran.stderr.contains(SECRET));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_that_cannot_run_posts_without_a_history() {
    let (addr, hook) = webhook(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let url = hook_url(addr);
    let args = [
        "check",
        "-q",
        "--browser",
        "/nonexistent/chromium",
        "--out-dir",
        out.to_str().unwrap(),
        "--notify",
        &url,
        "http://127.0.0.1:9/",
    ];
    let ran = insider_audit(&args, &[]).await;
    assert_eq!(ran.code, 3, "{}", ran.stderr);
    let posts = received(&hook);
    assert_eq!(
        posts.len(),
        1,
        "exit 3 posts under the default `new`, history or not"
    );
    let body = &posts[0].1;
    assert_eq!(body["exit_code"], 3);
    assert_eq!(
        body["suite"], "http://127.0.0.1:9",
        "check's suite: the first origin"
    );
    assert_eq!(body["recorded"], false);
    assert_eq!(body["summary"], Value::Null);
    let error = body["error"].as_str().unwrap();
    assert!(error.starts_with("no Chromium browser found"), "{error}");
    assert!(body["text"]
        .as_str()
        .unwrap()
        .contains("The audit could not run: no Chromium"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shard_sends_nothing_of_its_own() {
    let (addr, hook) = webhook(&[]).await;
    let url = hook_url(addr);
    let args = [
        "check",
        "-q",
        "--shard",
        "1/2",
        "--notify",
        &url,
        "http://127.0.0.1:9/",
    ];
    let ran = insider_audit(&args, &[]).await;
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("give --notify to `merge`"),
        "{}",
        ran.stderr
    );
    assert!(received(&hook).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_https_webhook_is_spoken_to_in_tls() {
    // A plain-HTTP server behind an https:// URL: the client's TLS hello
    // reaches it (no request is made in the clear) and the handshake fails.
    let (addr, hook) = webhook(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("https://{addr}/hook/{SECRET}");
    let ran = merge(dir.path(), "h1", &["--notify", &url], &[]).await;
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert!(
        ran.stderr.contains(&format!(
            "the notification to https://{addr}/… was not delivered: TLS: "
        )),
        "{}",
        ran.stderr
    );
    assert!(
        received(&hook).is_empty(),
        "nothing was posted in the clear"
    );
}
