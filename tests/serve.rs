//! `insider-audit history serve` as a client meets it, over real HTTP on
//! loopback: the views in HTML and JSON, and the hostile requests it must
//! survive — another Host (DNS rebinding), path traversal, a huge `?limit=`,
//! an unknown run, a write method, 50 requests at once — and a clean stop on
//! SIGTERM.
// The server runs as a child process; waiting for it is a blocking call of
// the test binary, never of the tool's runtime.
#![allow(clippy::disallowed_methods)]

mod common;

use common::history_server::HistoryServer as Server;
use std::process::Command;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A store holding two recorded nights of a one-page suite, one finding
/// message carrying markup.
fn store(dir: &std::path::Path) -> String {
    let db = dir.join("history.db").display().to_string();
    record_night(dir, &db, "night-1", 1, 2);
    record_night(dir, &db, "night-2", 2, 1);
    db
}

/// Records night `id` (the `day`th of November) with `findings` errors.
fn record_night(dir: &std::path::Path, db: &str, id: &str, day: u32, findings: usize) {
    let findings: Vec<serde_json::Value> = (0..findings)
        .map(|i| {
            serde_json::json!({"rule": "attr-format", "severity": "error",
                "attribute": if i == 0 { "email" } else { "phone_number" },
                "message": "<script>window.planted = 1</script> is not an email"})
        })
        .collect();
    let report = serde_json::json!({
        "schema_version": 1,
        "tool": {"name": "insider-audit", "version": "0.1.0"},
        "run": {"id": id, "suite": "shop", "shard": null},
        "started_at": format!("2026-11-{day:02}T02:00:00.000Z"),
        "duration_ms": 1000,
        "summary": {"pages": 1, "passed": 0, "failed": 1, "errors": findings.len(), "warnings": 0},
        "pages": [{
            "url": "http://127.0.0.1:9/cart?x=<script>", "final_url": "http://127.0.0.1:9/cart?x=<script>",
            "scenario": "logged-out", "logged_in": false, "status": 200, "load_ms": 10,
            "user": null, "pushes": [], "findings": findings
        }],
        "settings": {"expired": [], "unused": []}
    });
    let path = dir.join(format!("{id}.json"));
    std::fs::write(&path, report.to_string()).unwrap();
    let out = Command::new(assert_cmd::cargo::cargo_bin("insider-audit"))
        .args(["history", "record", "--history", db])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A response: status, headers (lower-case names), body.
struct Reply {
    status: u16,
    headers: String,
    body: String,
}

/// One raw HTTP/1.1 request, as written (no client normalises the path).
async fn request(addr: &str, method: &str, target: &str, host: &str, accept: &str) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {host}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).await.unwrap();
    let text = String::from_utf8_lossy(&bytes).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Reply {
        status,
        headers: head.to_ascii_lowercase(),
        body: body.to_string(),
    }
}

async fn get(server: &Server, target: &str) -> Reply {
    request(&server.addr, "GET", target, &server.addr, "text/html").await
}

#[tokio::test]
async fn views_answer_in_html_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let db = store(dir.path());
    let server = Server::start(&db);
    let home = get(&server, "/").await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.headers.contains("content-type: text/html"));
    assert!(home
        .headers
        .contains("content-security-policy: default-src 'none'"));
    assert!(home.body.contains("/suites/shop"), "{}", home.body);
    let suite = get(&server, "/suites/shop").await;
    assert_eq!(suite.status, 200, "{}", suite.body);
    assert!(suite.body.contains("night-2"), "{}", suite.body);
    let json = request(
        &server.addr,
        "GET",
        "/suites/shop",
        &server.addr,
        "application/json",
    )
    .await;
    assert_eq!(json.status, 200);
    assert!(json.headers.contains("content-type: application/json"));
    let value: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    assert_eq!(value["suite"], "shop", "{value}");
    assert_eq!(value["runs"].as_array().unwrap().len(), 2, "{value}");
    let same = get(&server, "/suites/shop?format=json").await;
    assert_eq!(
        same.body, json.body,
        "?format=json and Accept give the same JSON"
    );
    let run = get(&server, "/runs/night-1").await;
    assert_eq!(run.status, 200, "{}", run.body);
    // What a page pushed or a finding said is text, never markup.
    for reply in [&home, &suite, &run] {
        assert!(!reply.body.contains("<script>"), "{}", reply.body);
    }

    // A run's lists a part at a time.
    let first = get(&server, "/runs/night-1?limit=1&format=json").await;
    let first: serde_json::Value = serde_json::from_str(&first.body).unwrap();
    assert_eq!(first["findings"].as_array().unwrap().len(), 1, "{first}");
    assert_eq!(first["cut"]["findings"], 2, "{first}");
    let second = get(&server, "/runs/night-1?limit=1&offset=1&format=json").await;
    let second: serde_json::Value = serde_json::from_str(&second.body).unwrap();
    assert_ne!(first["findings"][0], second["findings"][0]);
    assert!(get(&server, "/runs/night-1?limit=1")
        .await
        .body
        .contains("Showing 1–1 of 2"));

    // A view is kept while the store does not change, and not after: a
    // night recorded while serving is in the next answer.
    record_night(dir.path(), &db, "night-3", 3, 0);
    let after = get(&server, "/suites/shop?format=json").await;
    let value: serde_json::Value = serde_json::from_str(&after.body).unwrap();
    assert_eq!(value["runs"].as_array().unwrap().len(), 3, "{value}");
    assert!(get(&server, "/suites/shop").await.body.contains("night-3"));
}

#[tokio::test]
async fn hostile_requests_get_plain_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&store(dir.path()));
    let addr = server.addr.clone();

    // DNS rebinding: a page on another name that resolves here.
    let port = addr.rsplit(':').next().unwrap();
    for host in [
        format!("evil.example:{port}"),
        "evil.example".into(),
        format!("127.0.0.2:{port}"),
    ] {
        let reply = request(&addr, "GET", "/", &host, "text/html").await;
        assert_eq!(reply.status, 421, "Host {host}: {}", reply.body);
        assert!(!reply.body.contains("night-"), "Host {host} read data");
    }
    assert_eq!(
        request(&addr, "GET", "/", &format!("localhost:{port}"), "text/html")
            .await
            .status,
        200
    );

    // Path traversal: nothing reaches the file system, whatever the path.
    for target in [
        "/../../../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/runs/..%2F..%2F..%2Fetc%2Fpasswd",
        "/runs/%2e%2e%2f%2e%2e%2fCargo.toml",
        "/static/../../Cargo.toml",
        "//etc/passwd",
    ] {
        let reply = get(&server, target).await;
        assert_eq!(reply.status, 404, "{target}: {}", reply.body);
        assert!(!reply.body.contains("root:"), "{target} read /etc/passwd");
        assert!(!reply.body.contains("[package]"), "{target} read a file");
    }

    // A huge limit is cut, a nonsense one refused; neither is a panic.
    let huge = get(
        &server,
        "/suites/shop?limit=99999999999999999999999999&runs=4000000000&offset=18446744073709551616&format=json",
    )
    .await;
    assert_eq!(huge.status, 200, "{}", huge.body);
    let value: serde_json::Value = serde_json::from_str(&huge.body).unwrap();
    assert_eq!(value["window"]["strip_pages"], 500, "{value}");
    assert_eq!(value["window"]["runs"], 366, "{value}");
    let bad = get(&server, "/suites/shop?limit=-1").await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("whole number"), "{}", bad.body);

    // An unknown run, suite, page or finding: 404 in the form asked for.
    for target in [
        "/runs/no-such-run",
        "/suites/no-such-suite",
        "/suites/shop?branch=no-such-branch",
        "/suites/shop/pages/0123456789abcdef",
        "/suites/shop/pages/not-hex",
        "/findings/0123456789abcdef",
        "/findings/%00%ff",
    ] {
        let missing = request(&addr, "GET", target, &addr, "application/json").await;
        assert_eq!(missing.status, 404, "{target}: {}", missing.body);
        let value: serde_json::Value = serde_json::from_str(&missing.body).unwrap();
        assert_eq!(value["status"], 404, "{target}");
    }

    // Read-only.
    for method in ["POST", "PUT", "DELETE"] {
        let reply = request(&addr, method, "/", &addr, "text/html").await;
        assert_eq!(reply.status, 405, "{method}");
        assert!(
            reply.headers.contains("allow: get, head"),
            "{}",
            reply.headers
        );
    }

    // 50 requests at once, every view: all answered, none failed.
    let mut tasks = Vec::new();
    for i in 0..50 {
        let addr = addr.clone();
        let target = match i % 4 {
            0 => "/",
            1 => "/runs/night-2",
            2 => "/suites/shop",
            _ => "/runs/night-1?format=json",
        };
        tasks.push(tokio::spawn(async move {
            request(&addr, "GET", target, &addr, "text/html")
                .await
                .status
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
}

#[test]
fn sigint_and_sigterm_stop_it_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let db = store(dir.path());
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let mut server = Server::start(&db);
        // SAFETY: signalling our own child process.
        unsafe { libc::kill(server.child.id() as i32, signal) };
        let status = server.child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "signal {signal}: {status:?}");
        let mut stderr = String::new();
        std::io::Read::read_to_string(server.child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn every_interface_needs_the_names_it_is_reached_by() {
    let dir = tempfile::tempdir().unwrap();
    let db = store(dir.path());
    let out = Command::new(assert_cmd::cargo::cargo_bin("insider-audit"))
        .args(["history", "serve", "--addr", "0.0.0.0:0", "--history", &db])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--host NAME"), "{stderr}");
}
