//! The trend pages as a person opens them, in real Chromium: `trend.html`
//! from a file:// URL and every view of `history serve`. Each loads nothing
//! beyond itself, logs no console error, shows the numbers the store holds
//! (a chart point per run, a strip row per page, a row per open finding),
//! keeps a `<script>` planted in a page URL, a finding message and a label as
//! text, and does not overflow sideways at 375 px or at 1280 px.
//!
//! With `INSIDER_AUDIT_DOCS_SCREENSHOTS=1` it also writes the README's
//! screenshots (docs/trend-*.png), to be looked at before committing.
// The server is a child process; waiting for it blocks the test binary only.
#![allow(clippy::disallowed_methods)]

mod common;

use chromiumoxide::cdp::browser_protocol::emulation::SetDeviceMetricsOverrideParams;
use chromiumoxide::cdp::browser_protocol::page::CaptureScreenshotFormat;
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::Page;
use common::history_server::HistoryServer;
use common::page_watch::PageWatch;
use insider_audit::browser::{locate, Browser};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const PLANTED_URL: &str = "http://127.0.0.1:41945/search?q=<script>window.pwned=1</script>";
const PLANTED_MESSAGE: &str = "<script>window.pwned=2</script><img src=x onerror=window.pwned=4>";
const PLANTED_LABEL: &str = "<b>4.4</b><script>window.pwned=3</script>";

fn bin() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin("insider-audit"))
}

fn ok(mut c: Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What the hand-built store holds, counted from the reports recorded (not
/// from the tool): runs, distinct pages, and the latest run's findings.
struct Expected {
    runs: usize,
    pages: usize,
    open_findings: usize,
}

/// The shipped two weeks of demo history and a planted night after them.
fn store(dir: &Path) -> (String, Expected) {
    let nights = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/demo-history");
    let mut reports: Vec<PathBuf> = std::fs::read_dir(&nights)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    reports.sort();
    let mut planted: Value =
        serde_json::from_slice(&std::fs::read(reports.last().unwrap()).unwrap()).unwrap();
    planted["run"]["id"] = "night-15-planted".into();
    planted["run"]["label"] = PLANTED_LABEL.into();
    planted["started_at"] = "2026-12-01T02:00:00.000Z".into();
    let mut page = planted["pages"][0].clone();
    page["url"] = PLANTED_URL.into();
    page["final_url"] = PLANTED_URL.into();
    page["findings"] = serde_json::json!([{"rule": "attr-format", "severity": "error",
        "attribute": "email", "message": PLANTED_MESSAGE}]);
    planted["pages"].as_array_mut().unwrap().push(page);
    for (field, more) in [("pages", 1), ("failed", 1), ("errors", 1)] {
        planted["summary"][field] = (planted["summary"][field].as_u64().unwrap() + more).into();
    }
    let path = dir.join("night-15.json");
    std::fs::write(&path, planted.to_string()).unwrap();
    reports.push(path);

    let mut pages = BTreeSet::new();
    for report in &reports {
        let r: Value = serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
        for p in r["pages"].as_array().unwrap() {
            let url = url::Url::parse(p["url"].as_str().unwrap()).unwrap();
            let path = format!("{}?{}", url.path(), url.query().unwrap_or(""));
            pages.insert((p["scenario"].as_str().unwrap().to_string(), path));
        }
    }
    let open_findings = planted["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["findings"].as_array().unwrap().len())
        .sum();
    let db = dir.join("history.db").display().to_string();
    let mut record = bin();
    record
        .args(["history", "record", "--history", &db])
        .args(&reports);
    ok(record);
    (
        db,
        Expected {
            runs: reports.len(),
            pages: pages.len(),
            open_findings,
        },
    )
}

async fn eval<T: serde::de::DeserializeOwned>(page: &Page, js: &str) -> T {
    page.evaluate(js)
        .await
        .unwrap_or_else(|e| panic!("{js}: {e}"))
        .into_value()
        .unwrap_or_else(|e| panic!("{js}: {e}"))
}

async fn count(page: &Page, selector: &str) -> usize {
    eval::<usize>(
        page,
        &format!("document.querySelectorAll({selector:?}).length"),
    )
    .await
}

async fn width(page: &Page, px: i64) {
    page.execute(
        SetDeviceMetricsOverrideParams::builder()
            .width(px)
            .height(900)
            .device_scale_factor(1.0)
            .mobile(px < 600)
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
}

/// Opens `url` in a fresh tab and checks what every page must hold: no
/// request beyond `allowed`, no console error, no script of the page's data
/// run, no sideways overflow at 375 and 1280 px. The tab, for more checks.
async fn open_clean(browser: &Browser, url: &str, allowed: &dyn Fn(&str) -> bool) -> Page {
    let context = browser.new_context().await.unwrap();
    let page = browser.new_tab(&context).await.unwrap();
    let mut watch = PageWatch::on(&page).await;
    page.goto(url)
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    for px in [375, 1280] {
        width(&page, px).await;
        let (scroll, client): (i64, i64) = (
            eval(&page, "document.documentElement.scrollWidth").await,
            eval(&page, "document.documentElement.clientWidth").await,
        );
        assert!(
            scroll <= client,
            "{url} overflows at {px} px: {scroll} > {client}"
        );
    }
    let pwned: bool = eval(&page, "window.pwned !== undefined").await;
    assert!(!pwned, "{url}: a planted script ran");
    assert_eq!(
        watch.errors(),
        Vec::<String>::new(),
        "{url}: console errors"
    );
    assert!(!watch.dialog_opened(), "{url}: a dialog opened");
    for request in watch.requests() {
        assert!(allowed(&request), "{url} requested {request}");
    }
    page
}

async fn text(page: &Page) -> String {
    eval(page, "document.body.innerText").await
}

/// The README's screenshots: the top of the page a person sees first.
async fn keep_screenshot(page: &Page, px: i64, name: &str) {
    if std::env::var_os("INSIDER_AUDIT_DOCS_SCREENSHOTS").is_none() {
        return;
    }
    width(page, px).await;
    let png = page
        .screenshot(
            ScreenshotParams::builder()
                .format(CaptureScreenshotFormat::Png)
                .build(),
        )
        .await
        .unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs")
        .join(name);
    std::fs::write(path, png).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn trend_file_and_served_views_read_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (db, expected) = store(dir.path());
    let file = dir.path().join("trend.html");
    let mut trend = bin();
    trend
        .args(["history", "trend", "--history", &db, "--output"])
        .arg(&file);
    ok(trend);
    let browser = Browser::launch(&locate(None).unwrap(), &[]).await.unwrap();

    // The file, from file://: only itself.
    let file_url = format!("file://{}", file.display());
    let only_itself = |u: &str| u == file_url;
    let page = open_clean(&browser, &file_url, &only_itself).await;
    assert_eq!(count(&page, "circle.point.compliance").await, expected.runs);
    assert_eq!(count(&page, "tr.run-row").await, expected.runs);
    assert_eq!(count(&page, "tr.strip-row").await, expected.pages);
    assert_eq!(
        count(&page, "tr.open-finding").await,
        expected.open_findings
    );
    // Every chart says what it shows to a screen reader.
    let charts = count(&page, "svg.chart").await;
    assert!(charts >= 3, "{charts} charts");
    assert_eq!(count(&page, "svg.chart > title").await, charts);
    assert_eq!(count(&page, "svg.chart > desc").await, charts);
    let shown = text(&page).await;
    // A URL's `<` and `>` arrive percent-encoded (as every URL parser
    // writes them); a message and a label keep theirs, as text.
    for planted in [
        PLANTED_MESSAGE,
        PLANTED_LABEL,
        "q=%3Cscript%3Ewindow.pwned=1%3C/script%3E",
    ] {
        assert!(
            shown.contains(planted),
            "trend.html does not show {planted} as text"
        );
    }
    keep_screenshot(&page, 1280, "trend-desktop.png").await;
    keep_screenshot(&page, 375, "trend-narrow.png").await;

    // The live views, each reached by a link as a person would.
    let server = HistoryServer::start(&db);
    let origin = server.origin();
    let same_origin = move |u: &str| u.starts_with(&format!("{origin}/"));
    let home = open_clean(&browser, &format!("{}/", server.origin()), &same_origin).await;
    let suite_link: String = eval(
        &home,
        "document.querySelector('a[href^=\"/suites/\"]').href",
    )
    .await;
    let suite = open_clean(&browser, &suite_link, &same_origin).await;
    assert_eq!(
        count(&suite, "circle.point.compliance").await,
        expected.runs
    );
    assert_eq!(count(&suite, "tr.strip-row").await, expected.pages);
    assert_eq!(
        count(&suite, "tr.open-finding").await,
        expected.open_findings
    );
    keep_screenshot(&suite, 1280, "serve-suite-desktop.png").await;
    // The planted finding's row links its page and its history.
    let planted_row = "[...document.querySelectorAll('tr.open-finding')].find(r => r.innerText.includes('pwned=2'))";
    let finding_link: String = eval(
        &suite,
        &format!("{planted_row}.querySelector('a[href^=\"/findings/\"]').href"),
    )
    .await;
    let page_link: String = eval(
        &suite,
        &format!("{planted_row}.querySelector('a[href*=\"/pages/\"]').href"),
    )
    .await;
    let run_link = format!("{}/runs/night-15-planted", server.origin());
    for link in [finding_link, page_link, run_link] {
        let view = open_clean(&browser, &link, &same_origin).await;
        let shown = text(&view).await;
        assert!(
            shown.contains("pwned=2"),
            "{link} does not show the planted finding: {shown}"
        );
        // Each links back up: to the suite, or to a run.
        assert!(
            count(&view, "a[href^=\"/suites/\"], a[href^=\"/runs/\"]").await > 0,
            "{link}"
        );
    }
    browser.close().await;
}
