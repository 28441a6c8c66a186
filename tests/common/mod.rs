//! Shared by the integration tests: the fixture site on loopback and a one-call
//! audit in real Chromium.
#![allow(dead_code)] // each test binary uses a different part of this module

use insider_audit::audit::{audit, AuditOptions, PageResult, Target};
use insider_audit::browser::{locate, Browser};
use insider_audit::checks::{PageContext, Session};
use insider_audit::demo::STAND_IN_SDK;
use insider_audit::expect::Expectations;
use insider_audit::server::{Resource, StaticServer};
use insider_audit::visit::VisitOptions;
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
    StaticServer::start(files).await.expect("fixture server")
}

/// Visit options for tests: a short timeout so hung pages cost little.
pub fn test_options(timeout_secs: u64) -> AuditOptions {
    AuditOptions {
        visit: VisitOptions {
            timeout: Duration::from_secs(timeout_secs),
            ..VisitOptions::default()
        },
        concurrency: 2,
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
    let targets = paths
        .iter()
        .map(|path| Target {
            url: server.url(path),
            scenario: "test".into(),
            context: PageContext {
                session,
                expect: expect.clone(),
            },
        })
        .collect();
    let browser = Browser::launch(
        &locate(None).expect("Chromium is installed (apt-get install -y chromium)"),
    )
    .await
    .expect("browser launches");
    let results = audit(&browser, targets, &options, |_, _| {}).await;
    browser.close().await;
    results.expect("audit runs")
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
