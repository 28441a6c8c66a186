//! The HTML report in real Chromium: it loads without console errors or
//! requests beyond itself, and a pushed `<img onerror=alert(1)>` stays text.

mod common;

use common::page_watch::PageWatch;
use insider_audit::browser::{locate, Browser};
use insider_audit::report::{html::Html, Format, Report};
use insider_audit::server::{Resource, StaticServer};
use std::collections::HashMap;

#[tokio::test(flavor = "multi_thread")]
async fn html_report_renders_cleanly_and_escapes_page_values() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports");
    let report: Report =
        serde_json::from_slice(&std::fs::read(dir.join("new.json")).unwrap()).unwrap();
    let html = Html { base_dir: dir }.render(&report);
    let mut files = HashMap::new();
    files.insert(
        "/report.html".to_string(),
        Resource::file("report.html", html),
    );
    let server = StaticServer::start(files).await.unwrap();

    let browser = Browser::launch(&locate(None).unwrap(), &[]).await.unwrap();
    let context = browser.new_context().await.unwrap();
    let page = browser.new_tab(&context).await.unwrap();
    let mut watch = PageWatch::on(&page).await;
    page.goto(server.url("/report.html")).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;

    // Filters work: choosing a scenario hides the other's rows.
    let visible: i64 = page
        .evaluate("(() => { const s = document.getElementById('f-scenario'); s.value = 'logged-in'; s.dispatchEvent(new Event('change')); return document.querySelectorAll('tbody tr:not(.hidden)').length; })()")
        .await
        .unwrap()
        .into_value()
        .unwrap();
    assert_eq!(visible, 2);
    let text: String = page
        .evaluate("document.body.textContent")
        .await
        .unwrap()
        .into_value()
        .unwrap();
    assert!(
        text.contains("<img src=x onerror=alert(1)>"),
        "the pushed name is shown as text"
    );
    let injected: i64 = page
        .evaluate("document.querySelectorAll('img[src=x]').length")
        .await
        .unwrap()
        .into_value()
        .unwrap();
    assert_eq!(injected, 0, "a pushed value became an element");

    assert_eq!(watch.errors(), Vec::<String>::new(), "console errors");
    assert!(
        !watch.dialog_opened(),
        "a dialog opened: script from the page ran"
    );
    let urls = watch.requests();
    assert_eq!(
        urls.len(),
        1,
        "the report requested more than itself: {urls:?}"
    );
    browser.close().await;
}
