//! Auditing changes nothing: every page the test suite serves (the fixtures, the
//! fixture shop and the demo shop) is loaded in real Chromium twice, once under
//! the audit and once with nothing installed, and what the page's stand-in SDK
//! received, the read-back, the page's uncaught errors and console errors, and
//! anything the page exposes as `window.__observed` must be the same.
//!
//! New pages are covered without being listed here. A page that cannot be
//! compared (it hangs, or differs under the audit on purpose, as rules.md
//! allows) opts out with `<!-- transparency: skip: the reason -->`; a page
//! that pushes late (after a long task) says how long to watch it without the
//! audit with `<!-- transparency: watch-ms: N -->` (1,800 otherwise).

mod common;

use chromiumoxide::cdp::browser_protocol::page::{
    EventJavascriptDialogOpening, HandleJavaScriptDialogParams,
};
use chromiumoxide::cdp::js_protocol::runtime::{
    ConsoleApiCalledType, EventConsoleApiCalled, EventExceptionThrown,
};
use chromiumoxide::Page;
use common::*;
use futures::StreamExt;
use insider_audit::browser::{locate, Browser};
use insider_audit::browser::{Tab, VisitOptions};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a page did, as far as the comparison goes.
#[derive(Debug, PartialEq)]
struct Observed {
    state: serde_json::Value,
    errors: Vec<String>,
}

/// Read in the page after it settled; written for hostile pages (no JSON, no
/// Array.prototype.push of the page's).
const OBSERVE: &str = r#"(() => {
  const describe = (v, depth, seen) => {
    if (v === null) return 'null';
    if (typeof v === 'string') return '"' + v.slice(0, 200) + '"';
    if (typeof v !== 'object') return typeof v === 'function' ? 'function' : String(v);
    if (depth > 4) return '…';
    if (seen.indexOf(v) >= 0) return '<cycle>';
    seen = seen.concat([v]);
    const parts = [];
    for (const key in v) {
      let item;
      try { item = describe(v[key], depth + 1, seen); } catch (e) { item = '<threw>'; }
      parts[parts.length] = key + ':' + item;
    }
    return '{' + parts.join(',') + '}';
  };
  const read = (f) => { try { return describe(f(), 0, []); } catch (e) { return '<threw ' + e + '>'; } };
  let received = null;
  try { received = window.Insider && window.Insider.received ? Array.prototype.slice.call(window.Insider.received) : null; } catch (e) { received = 'threw'; }
  return {
    received,
    readback: read(() => window.InsiderQueue && window.InsiderQueue.user),
    observed: read(() => window.__observed),
    url: document.URL,
  };
})()"#;

/// Listens for uncaught errors and console errors, and dismisses dialogs (the
/// harness's job in both modes, as the audit does).
async fn listen(page: &Page) -> Arc<Mutex<Vec<String>>> {
    let errors: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut thrown = page.event_listener::<EventExceptionThrown>().await.unwrap();
    let mut console = page
        .event_listener::<EventConsoleApiCalled>()
        .await
        .unwrap();
    let mut dialogs = page
        .event_listener::<EventJavascriptDialogOpening>()
        .await
        .unwrap();
    let (sink, p) = (errors.clone(), page.clone());
    tokio::spawn(async move {
        loop {
            tokio::select! {
                Some(e) = thrown.next() => {
                    let details = &e.exception_details;
                    let first_line = details
                        .exception
                        .as_ref()
                        .and_then(|x| x.description.clone())
                        .unwrap_or_default()
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    sink.lock().unwrap().push(format!("{}: {first_line}", details.text));
                }
                Some(e) = console.next() => {
                    if e.r#type == ConsoleApiCalledType::Error {
                        let text: Vec<String> = e.args.iter().map(|a| format!("{:?}", a.value)).collect();
                        sink.lock().unwrap().push(format!("console.error {}", text.join(" ")));
                    }
                }
                Some(_) = dialogs.next() => {
                    let _ = p.execute(HandleJavaScriptDialogParams::new(false)).await;
                }
                else => break,
            }
        }
    });
    errors
}

async fn observe(
    browser: &Browser,
    url: &str,
    audited: bool,
    watch: Duration,
) -> Result<Observed, String> {
    let context = browser.new_context().await.map_err(|e| e.to_string())?;
    let page = browser.new_tab(&context).await.map_err(|e| e.to_string())?;
    let errors = listen(&page).await;
    let run = async {
        let state = if audited {
            let tab = Tab::new(page.clone(), Arc::new(AtomicBool::new(true)))
                .await
                .map_err(|e| e.to_string())?;
            let options = VisitOptions {
                timeout: Duration::from_secs(15),
                ..VisitOptions::default()
            };
            tab.visit(url, &options, None).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            let state = tab.evaluate(OBSERVE).await;
            tab.close().await;
            state
        } else {
            page.goto(url).await.map_err(|e| e.to_string())?;
            tokio::time::sleep(watch).await;
            let state = page
                .evaluate(OBSERVE)
                .await
                .map_err(|e| e.to_string())?
                .into_value::<serde_json::Value>()
                .map_err(|e| e.to_string());
            let _ = page.clone().close().await;
            state
        };
        state
    };
    let state = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .map_err(|_| "did not finish within 30 s".to_string())??;
    browser.dispose_context(context).await;
    let errors = errors.lock().unwrap().clone();
    Ok(Observed { state, errors })
}

/// How long the page is watched without the audit before it is read.
fn watch(html: &str) -> Duration {
    let ms = html
        .find("<!-- transparency: watch-ms:")
        .and_then(|at| {
            let rest = &html[at + "<!-- transparency: watch-ms:".len()..];
            rest[..rest.find("-->")?].trim().parse().ok()
        })
        .unwrap_or(1800);
    Duration::from_millis(ms)
}

/// `Some(reason)` when the page opts out of the comparison.
fn opt_out(html: &str) -> Option<String> {
    let start = html.find("<!-- transparency: skip:")? + "<!-- transparency: skip:".len();
    let end = html[start..].find("-->")? + start;
    Some(html[start..end].trim().to_string())
}

fn html_files(dir: &Path, prefix: &str, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().to_string();
        let path = format!("{prefix}/{name}");
        if entry.file_type().unwrap().is_dir() {
            html_files(&entry.path(), &path, out);
        } else if name.ends_with(".html") {
            out.push((path, std::fs::read_to_string(entry.path()).unwrap()));
        }
    }
}

#[tokio::test]
async fn every_served_page_behaves_the_same_under_the_audit() {
    let fixtures_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let fixtures = fixture_server().await;
    let (shop, _other) = shop_servers().await;
    let demo = insider_audit::demo::serve().await.unwrap();

    let mut pages: Vec<(String, String)> = Vec::new(); // (url, html)
    let mut files = Vec::new();
    html_files(&fixtures_dir, "", &mut files);
    for (path, html) in files {
        let url = match path.strip_prefix("/shop") {
            Some(_) => shop.url(&path),
            None => fixtures.url(&path),
        };
        pages.push((url, html));
    }
    let demo_site = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/demo/site");
    for path in demo.pages() {
        let html = std::fs::read_to_string(demo_site.join(&path[1..])).unwrap();
        pages.push((format!("{}{path}", demo.base_url()), html));
    }

    let mut skipped = Vec::new();
    let compared: Vec<(String, Duration)> = pages
        .iter()
        .filter_map(|(url, html)| match opt_out(html) {
            Some(reason) => {
                assert!(
                    !reason.is_empty(),
                    "{url}: an opt-out must state its reason"
                );
                skipped.push(url.clone());
                None
            }
            None => Some((url.clone(), watch(html))),
        })
        .collect();
    assert!(
        compared.len() > 60,
        "only {} pages compared",
        compared.len()
    );

    let browser = Browser::launch(&locate(None).expect("Chromium is installed"), &[])
        .await
        .expect("browser launches");
    let differences: Vec<String> = futures::stream::iter(compared.iter())
        .map(|(url, watch)| {
            let browser = &browser;
            async move {
                let native = observe(browser, url, false, *watch).await;
                let audited = observe(browser, url, true, *watch).await;
                match (native, audited) {
                    (Ok(native), Ok(audited)) if native == audited => None,
                    (native, audited) => Some(format!(
                        "{url}\n  without the audit: {native:?}\n  under the audit:   {audited:?}"
                    )),
                }
            }
        })
        .buffer_unordered(4)
        .filter_map(|d| async move { d })
        .collect()
        .await;
    browser.close().await;
    assert!(
        differences.is_empty(),
        "{} page(s) behave differently under the audit ({} compared, {} opted out):\n{}",
        differences.len(),
        compared.len(),
        skipped.len(),
        differences.join("\n")
    );
}
