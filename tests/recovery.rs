//! A run that is interrupted or loses its browser comes back to the same report:
//! `--resume` after Ctrl-C, and a browser killed twice during a logged-in crawl,
//! each give the pages and findings of an undisturbed run.

mod common;

use common::processes::{chromium_of, wait_exit};

use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const LOGIN: &str = r##"[
  { "goto": "/shop/login.html" },
  { "fill": "#email", "value": "${env:SHOP_USER}" },
  { "fill": "#password", "value": "${env:SHOP_PASSWORD}", "secret": true },
  { "click": "button[type=submit]" },
  { "wait_for": { "url": "/shop/account/**" } }
]"##;

/// A logged-in scenario crawling the shop, and a logged-out one.
fn scenario_file(shop: &insider_audit::server::StaticServer, dir: &Path) -> std::path::PathBuf {
    let file = dir.join("shop.json");
    let text = format!(
        r#"{{ "site": "Fixture shop", "base_url": "{}",
             "crawl": {{ "start": ["/shop/"], "include": ["/shop/**"], "max_pages": 30, "max_depth": 3 }},
             "scenarios": [ {{ "name": "signed-in", "login": {LOGIN} }}, {{ "name": "visitor" }} ] }}"#,
        shop.url("/shop/")
    );
    std::fs::write(&file, text).unwrap();
    file
}

fn tool(file: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("insider-audit"));
    command
        .args([
            "run",
            "-q",
            "--format",
            "json",
            "--settle",
            "fixed",
            "--concurrency",
            "2",
        ])
        .args(["--timeout", "15", "--screenshots", "never", "--out-dir"])
        .arg(out)
        .args(["--output"])
        .arg(out.join("report.json"))
        .args(extra)
        .arg(file)
        .env("SHOP_USER", SHOP_EMAIL)
        .env("SHOP_PASSWORD", SHOP_PASSWORD)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// (scenario, url, logged_in, [rule attribute]) of every page, sorted.
fn summary(report: &Value) -> Vec<(String, String, bool, Vec<String>)> {
    let mut pages: Vec<_> = report["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let findings = p["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| format!("{} {}", f["rule"], f["attribute"]))
                .collect();
            (
                p["scenario"].as_str().unwrap().to_string(),
                p["url"].as_str().unwrap().to_string(),
                p["logged_in"].as_bool().unwrap(),
                findings,
            )
        })
        .collect();
    pages.sort();
    pages
}

fn report(out: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(out.join("report.json")).expect("a report")).unwrap()
}

/// Page records in the journal so far.
fn journaled(out: &Path) -> usize {
    std::fs::read_to_string(out.join("pages.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("{\"page\""))
        .count()
}

async fn wait_for_pages(tool: &mut Child, out: &Path, pages: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while journaled(out) < pages {
        assert!(
            tool.try_wait().unwrap().is_none(),
            "the run ended before {pages} pages"
        );
        assert!(
            Instant::now() < deadline,
            "{pages} pages never reached the journal"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
// Blocking waits for whole runs of the tool: the multi-thread test runtime
// serves the fixtures on its other worker meanwhile.
#[allow(clippy::disallowed_methods)]
async fn interrupted_and_resumed_equals_one_run() {
    let (shop, _other) = shop_servers().await;
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_file(&shop, dir.path());
    let whole = dir.path().join("whole");
    let code = tool(&file, &whole, &[]).status().unwrap().code();
    assert_eq!(code, Some(1), "the shop plants defects");
    let expected = summary(&report(&whole));
    assert!(expected.len() >= 10, "a crawl of some size: {expected:?}");

    let parts = dir.path().join("parts");
    let mut first = tool(&file, &parts, &[]).spawn().unwrap();
    wait_for_pages(&mut first, &parts, 4).await;
    // SAFETY: signalling our own child.
    unsafe { libc::kill(first.id() as i32, libc::SIGINT) };
    assert_eq!(wait_exit(&mut first, 120).await.code(), Some(130));
    let before = journaled(&parts);
    assert!(
        before < expected.len(),
        "interrupted part way ({before} pages)"
    );
    let resume = parts.to_str().unwrap().to_string();
    let code = tool(&file, &parts, &["--resume", &resume])
        .status()
        .unwrap()
        .code();
    assert_eq!(code, Some(1));
    assert_eq!(summary(&report(&parts)), expected);
    // Nothing audited twice: the journal holds each page once.
    assert_eq!(journaled(&parts), expected.len());
}

#[tokio::test(flavor = "multi_thread")]
// A blocking wait for a whole run of the tool: the multi-thread test runtime
// serves the fixtures on its other worker meanwhile.
#[allow(clippy::disallowed_methods)]
async fn a_browser_killed_twice_comes_back_with_the_same_report() {
    let (shop, _other) = shop_servers().await;
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_file(&shop, dir.path());
    let calm = dir.path().join("calm");
    assert_eq!(tool(&file, &calm, &[]).status().unwrap().code(), Some(1));
    let expected = summary(&report(&calm));

    let rough = dir.path().join("rough");
    let mut run = tool(&file, &rough, &[]).spawn().unwrap();
    for pages in [3, 7] {
        let chromium = chromium_of(&run).await;
        wait_for_pages(&mut run, &rough, pages).await;
        // SAFETY: killing the process group of our child's browser.
        unsafe { libc::kill(-chromium, libc::SIGKILL) };
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(wait_exit(&mut run, 120).await.code(), Some(1));
    let got = report(&rough);
    let restarts = got["notes"]
        .as_array()
        .map(|n| n.iter().filter(|n| n["kind"] == "browser-restart").count())
        .unwrap_or(0);
    assert_eq!(restarts, 2, "two restarts noted: {}", got["notes"]);
    assert_eq!(summary(&got), expected);
    assert_eq!(journaled(&rough), expected.len(), "every page audited once");
}

/// A page the tool itself fails on (a panic while judging it, in a crawl task
/// or on the page a sign-in lands on; a panic in a crawl visit's task) is the
/// tool's bug, not the site's: it is listed under skipped as an internal
/// error, every other page is audited as in an undisturbed run, and the run
/// ends with exit 3. `--resume` tries such a page again.
#[tokio::test(flavor = "multi_thread")]
// Blocking waits for whole runs of the tool: the multi-thread test runtime
// serves the fixtures on its other worker meanwhile.
#[allow(clippy::disallowed_methods)]
async fn a_page_the_tool_fails_on_is_an_internal_error_and_the_run_goes_on() {
    let (shop, _other) = shop_servers().await;
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_file(&shop, dir.path());
    let clean_out = dir.path().join("clean");
    let status = tool(&file, &clean_out, &[]).status().unwrap();
    assert_eq!(status.code(), Some(1), "the shop has findings");
    let clean = summary(&report(&clean_out));
    for (fault, failing) in [
        ("judge:/shop/products.html", "/shop/products.html"),
        ("judge:/shop/account/", "/shop/account/"),
        ("visit:/shop/products.html", "/shop/products.html"),
    ] {
        let out = dir.path().join(fault.replace([':', '/'], "_"));
        let status = tool(&file, &out, &[])
            .env("INSIDER_AUDIT_FAULT", fault)
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(3), "{fault}: exit 3");
        let faulted = report(&out);
        let internal: Vec<&Value> = faulted["skipped"]
            .as_array()
            .map(|s| {
                s.iter()
                    .filter(|s| s["reason"].as_str().unwrap().starts_with("internal error"))
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            !internal.is_empty()
                && internal.iter().all(|s| {
                    s["url"].as_str().unwrap().contains(failing)
                        && s["reason"]
                            .as_str()
                            .unwrap()
                            .starts_with("internal error: injected fault")
                }),
            "{fault}: skipped {internal:?}"
        );
        let pages = summary(&faulted);
        assert!(!pages.is_empty(), "{fault}: the other pages are audited");
        for page in &pages {
            assert!(!page.1.contains(failing), "{fault}: {page:?} was reported");
            assert!(
                clean.contains(page),
                "{fault}: {page:?} differs from the clean run"
            );
        }
        // Resumed without the fault, the page is audited after all.
        let status = tool(&file, &out, &["--resume", out.to_str().unwrap()])
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(1), "{fault}: the resumed run finishes");
        let resumed = report(&out);
        assert!(
            summary(&resumed).iter().any(|p| p.1.contains(failing)),
            "{fault}: the resumed run audits {failing}"
        );
    }
}
