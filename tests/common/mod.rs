//! Shared by the integration tests: the fixture site on loopback and a one-call
//! audit in real Chromium.
#![allow(dead_code)] // each test binary uses a different part of this module

pub mod history_server;
pub mod hostile_site;
pub mod page_watch;
pub mod processes;

use insider_audit::audit::{AuditOptions, PageResult};
use insider_audit::browser::locate;
use insider_audit::browser::VisitOptions;
use insider_audit::checks::{PageContext, Session};
use insider_audit::demo::STAND_IN_SDK;
use insider_audit::expect::Expectations;
use insider_audit::pipeline::{self, BrowserSource, Sinks};
use insider_audit::replay::Replays;
use insider_audit::server::{Resource, StaticServer};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Fixture files whose name says which status they answer with.
const STATUSES: &[(&str, u16)] = &[("/status-500.html", 500)];

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn collect(dir: &Path, prefix: &str, files: &mut HashMap<String, Resource>) {
    for entry in std::fs::read_dir(dir).expect("fixtures dir") {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().to_string();
        let path = format!("{prefix}/{name}");
        if entry.file_type().unwrap().is_dir() {
            collect(&entry.path(), &path, files);
        } else {
            let mut resource = Resource::file(&name, std::fs::read(entry.path()).unwrap());
            if let Some((_, status)) = STATUSES.iter().find(|(p, _)| *p == path) {
                resource = resource.with_status(*status);
            }
            files.insert(path, resource);
        }
    }
}

/// Serves tests/fixtures and the stand-in SDK at /ins.js on a free loopback port.
pub async fn fixture_server() -> StaticServer {
    let mut files = HashMap::new();
    collect(&fixtures_dir(), "", &mut files);
    files.insert("/ins.js".into(), Resource::file("ins.js", STAND_IN_SDK));
    files.insert(
        "/api/catalog.json".into(),
        Resource::file("catalog.json", catalog(400)),
    );
    // A long poll: answered after a minute, when the page is long judged.
    files.insert(
        "/api/poll".into(),
        Resource::file("poll.json", "{}").with_delay(Duration::from_secs(60)),
    );
    StaticServer::start(files).await.expect("fixture server")
}

/// A category's product list as a storefront API answers it: `n` products.
fn catalog(n: usize) -> String {
    let items: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            serde_json::json!({
                "id": format!("sku-{i}"), "name": format!("Winter jacket {i}"),
                "price": 4990 + i * 10, "currency": "EUR",
                "sizes": ["S", "M", "L", "XL"], "in_stock": i % 7 != 0,
            })
        })
        .collect();
    serde_json::json!({ "name": "Jackets", "items": items }).to_string()
}

/// Visit options for tests: a short timeout so hung pages cost little.
pub fn test_options(timeout_secs: u64) -> AuditOptions {
    AuditOptions {
        visit: VisitOptions {
            timeout: Duration::from_secs(timeout_secs),
            ..VisitOptions::default()
        },
        concurrency: 2,
        screenshots: insider_audit::screenshot::Screenshots::never(),
        shard: None,
        judge: true,
    }
}

/// Audits fixture `paths` in one browser, each with `session` and `expect`.
pub async fn audit_fixtures(
    paths: &[&str],
    session: Session,
    expect: Expectations,
    options: AuditOptions,
) -> Vec<PageResult> {
    let server = fixture_server().await;
    let urls: Vec<String> = paths.iter().map(|path| server.url(path)).collect();
    let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
    audit_urls(&urls, session, expect, options).await
}

/// Audits `urls` as `check` does, in one browser, each with `session` and `expect`.
pub async fn audit_urls(
    urls: &[&str],
    session: Session,
    expect: Expectations,
    options: AuditOptions,
) -> Vec<PageResult> {
    let pages: Vec<url::Url> = urls.iter().map(|u| url::Url::parse(u).unwrap()).collect();
    let context = PageContext { session, expect };
    let source = BrowserSource::launch(
        locate(None).expect("Chromium is installed (apt-get install -y chromium)"),
    );
    let settings = insider_audit::settings::Settings::default();
    let plan = pipeline::page_list_plan(&pages, "test", &context, &settings).expect("pages");
    // The journal is the run's record; the test keeps the judged pages it is handed.
    let scratch = tempfile::tempdir().unwrap();
    let journal = insider_audit::journal::Journal::append(scratch.path()).unwrap();
    let judged = std::sync::Mutex::new(Vec::new());
    let outcome = pipeline::check_pages(
        &source,
        &plan,
        &context,
        &options,
        &mut insider_audit::settings::Ledger::new(chrono::Utc::now().date_naive()),
        Replays::default(),
        Sinks {
            journal: &journal,
            on_page: &|result: &PageResult, _: &_| judged.lock().unwrap().push(result.clone()),
        },
    )
    .await;
    if let Some(error) = outcome.error {
        panic!("the audit failed: {error}");
    }
    judged.into_inner().unwrap()
}

/// The findings of one page as (rule id, attribute) pairs.
pub fn rule_ids(result: &PageResult) -> Vec<(String, Option<String>)> {
    result
        .findings
        .iter()
        .map(|f| (f.rule.id().to_string(), f.attribute.clone()))
        .collect()
}

/// Expected findings, written compactly.
pub fn expected(list: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
    list.iter()
        .map(|(r, a)| (r.to_string(), a.map(str::to_string)))
        .collect()
}

/// The fixture shop's test user.
pub const SHOP_EMAIL: &str = "grace@example.com";
/// Its password: must never appear in any output.
pub const SHOP_PASSWORD: &str = "s3cret-Passw0rd";

/// The fixture shop (tests/fixtures/shop under /shop/, with sign-in) and a
/// second origin it links and redirects to. The second origin's access log must
/// stay empty during a crawl.
pub async fn shop_servers() -> (StaticServer, StaticServer) {
    let mut other_files = HashMap::new();
    for page in ["/elsewhere.html", "/trap.html"] {
        other_files.insert(
            page.to_string(),
            Resource::file(
                page,
                "<!doctype html><title>Other origin</title><h1>Other origin</h1>",
            ),
        );
    }
    other_files.insert(
        "/login.html".to_string(),
        Resource::file("login.html", "<!doctype html><title>Look-alike login</title><form method=post action=/steal><input id=email name=email><input id=password name=password type=password><button type=submit>Sign in</button></form>"),
    );
    let other = StaticServer::start(other_files)
        .await
        .expect("other origin");
    let mut files = HashMap::new();
    collect(&fixtures_dir().join("shop"), "/shop", &mut files);
    for resource in files.values_mut() {
        let text = String::from_utf8_lossy(&resource.body).replace("{{OTHER}}", &other.base_url());
        resource.body = text.into_bytes();
    }
    files.insert("/ins.js".into(), Resource::file("ins.js", STAND_IN_SDK));
    // A sign-in that lands on a slow page: its HTML a second late, its SDK
    // tag another 500 ms.
    if let Some(slow) = files.get_mut("/shop/account/slow.html") {
        slow.delay = Duration::from_millis(1000);
    }
    files.insert(
        "/slow/ins.js".into(),
        Resource::file("ins.js", STAND_IN_SDK).with_delay(Duration::from_millis(500)),
    );
    files.insert(
        "/shop/go-away".into(),
        Resource::redirect(other.url("/trap.html")),
    );
    files.insert(
        "/shop/to-partner-login".into(),
        Resource::redirect(other.url("/login.html")),
    );
    let account = insider_audit::server::Account {
        email: SHOP_EMAIL.into(),
        password: SHOP_PASSWORD.into(),
        profile: serde_json::json!({
            "id": "U-1", "customer_number": "C-9", "first_name": "Grace", "last_name": "Hopper",
            "email": SHOP_EMAIL, "phone": "+14155552671", "locale": "en_US", "whatsapp": true, "consent": true
        }),
    };
    let shop = StaticServer::start_shop(files, vec![account])
        .await
        .expect("shop");
    let sitemap = std::fs::read_to_string(fixtures_dir().join("shop/sitemap.xml"))
        .unwrap()
        .replace("{{SHOP}}", &shop.base_url());
    shop.insert("/sitemap.xml", Resource::file("sitemap.xml", sitemap));
    (shop, other)
}

/// The `url` of every page of a JSON report, in report order.
pub fn page_urls(report: &serde_json::Value) -> Vec<&str> {
    report["pages"]
        .as_array()
        .expect("a JSON report has pages")
        .iter()
        .map(|p| p["url"].as_str().expect("a page has a url"))
        .collect()
}
