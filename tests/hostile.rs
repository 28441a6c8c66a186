//! Pages that leave, and answers that are not pages: a compliant page that
//! sends the visitor to another origin after it loaded is judged on what it did
//! (with `left_to`), nothing is requested there; a download, a `204` and a JSON
//! answer are skipped by a crawl at once and are `page-unreachable` in `check`.

mod common;

use common::*;
use insider_audit::checks::Session;
use insider_audit::expect::Expectations;
use insider_audit::server::{Resource, StaticServer};

const SNIPPET: &str = r#"<script>window.InsiderQueue = window.InsiderQueue || [];</script>
<script async src="/ins.js"></script>
<script>
  window.InsiderQueue.push({ type: 'user', value: { language: 'en_US', gdpr_optin: true } });
  window.InsiderQueue.push({ type: 'init' });
</script>"#;

/// The 300-page crawl gives its pages 12 s and measures the tool's memory: it
/// runs alone (write), the other tests of this file side by side (read).
static ALONE: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// The fixture server plus pages that leave for `other`, and non-page answers.
async fn sites() -> (StaticServer, StaticServer) {
    let site = fixture_server().await;
    let other = fixture_server().await;
    let away = other.url("/compliant.html");
    site.insert(
        "/leaves/meta-refresh.html",
        Resource::file(
            "meta-refresh.html",
            format!(r#"<!doctype html><head><meta http-equiv="refresh" content="0;url={away}">{SNIPPET}</head><body>Moving</body>"#),
        ),
    );
    site.insert(
        "/leaves/script.html",
        Resource::file(
            "script.html",
            format!(r#"<!doctype html><head>{SNIPPET}<script>addEventListener('load', function () {{ setTimeout(function () {{ location.href = {away:?}; }}, 50); }});</script></head><body>Bye</body>"#),
        ),
    );
    // Geo, language and A/B redirects leave during the load: from the head,
    // from the end of the body, on DOMContentLoaded. A defect pushed 300 ms
    // later would come after the page had gone: it is never judged.
    let late_defect = "<script>setTimeout(function () { window.InsiderQueue.push({ type: 'user', value: { age: '33' } }); }, 300);</script>";
    for (name, head, body) in [
        ("head", format!("{SNIPPET}<script>location.href = {away:?};</script>{late_defect}"), String::new()),
        ("body-end", format!("{SNIPPET}{late_defect}"), format!("<p>Content</p><script>location.href = {away:?};</script>")),
        ("dom-ready", format!("{SNIPPET}{late_defect}<script>document.addEventListener('DOMContentLoaded', function () {{ location.href = {away:?}; }});</script>"), String::new()),
    ] {
        site.insert(
            &format!("/leaves/during-load-{name}.html"),
            Resource::file(
                "leaves.html",
                format!("<!doctype html><head>{head}</head><body><h1>Redirecting</h1>{body}</body>"),
            ),
        );
    }
    site.insert(
        "/files/price-list.pdf",
        Resource::file("price-list.html", "%PDF-1.4 not really")
            .with_header("content-disposition", "attachment; filename=price-list.pdf"),
    );
    site.insert(
        "/files/empty",
        Resource::file("empty.html", "").with_status(204),
    );
    site.insert(
        "/files/index.html",
        Resource::file(
            "index.html",
            format!(
                r#"<!doctype html><head>{SNIPPET}</head><body>
<a href="/files/price-list.pdf">Prices</a> <a href="/files/empty">Empty</a>
<a href="/api/cart.json">Cart API</a> <a href="/leaves/meta-refresh.html">Moving</a>
<a href="/compliant.html">Compliant</a></body>"#
            ),
        ),
    );
    (site, other)
}

/// `check` of these paths on `site`, logged out, with a page timeout of `secs`.
async fn check_paths(
    site: &StaticServer,
    paths: &[&str],
    secs: u64,
) -> Vec<insider_audit::audit::PageResult> {
    let urls: Vec<String> = paths.iter().map(|p| site.url(p)).collect();
    let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
    audit_urls(
        &urls,
        Session::LoggedOut,
        Expectations::default(),
        test_options(secs),
    )
    .await
}

/// Nothing was requested on the other origin (`server_log`: its access log).
fn assert_nothing_requested(server_log: Vec<String>) {
    assert!(
        server_log.is_empty(),
        "requested on the other origin: {server_log:?}"
    );
}

/// `insider-audit run -q --format json` of the scenario file `file` with
/// `flags`, writing into `dir`: the command, ready to run or spawn, and where
/// the JSON report goes.
fn run_command(
    dir: &std::path::Path,
    file: &std::path::Path,
    flags: &[&str],
) -> (std::process::Command, std::path::PathBuf) {
    let report = dir.join("report.json");
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("insider-audit"));
    command
        .args(["run", "-q", "--format", "json", "--output"])
        .arg(&report)
        .args(flags)
        .arg("--out-dir")
        .arg(dir)
        .arg(file)
        .stdout(std::process::Stdio::null());
    (command, report)
}

/// Runs [`run_command`] to its end: the exit code and the JSON report.
// A blocking wait for the tool: the multi-thread test runtime serves the
// fixtures on its other worker meanwhile.
#[allow(clippy::disallowed_methods)]
fn run_to_end(
    dir: &std::path::Path,
    file: &std::path::Path,
    flags: &[&str],
) -> (Option<i32>, serde_json::Value) {
    let (mut command, report) = run_command(dir, file, flags);
    let status = command.status().unwrap();
    let report = serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
    (status.code(), report)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_page_that_leaves_is_judged_on_what_it_did() {
    let _side_by_side = ALONE.read().await;
    let (site, other) = sites().await;
    let results = check_paths(
        &site,
        &["/leaves/meta-refresh.html", "/leaves/script.html"],
        15,
    )
    .await;
    for result in &results {
        assert_eq!(
            rule_ids(result),
            expected(&[]),
            "{}: {:#?}",
            result.capture.url,
            result.findings
        );
        assert_eq!(
            result.capture.left_to.as_deref(),
            Some(other.url("/compliant.html").as_str()),
            "{}",
            result.capture.url
        );
        assert!(result
            .capture
            .final_url
            .as_deref()
            .is_some_and(|u| u.starts_with(&site.base_url())));
    }
    assert_nothing_requested(other.access_log());
}

/// A page that navigates itself out of scope before its load event (a head
/// script, the end of the body, a DOMContentLoaded handler) is judged on what it
/// did before, with `left_to`, in `check` and in `visit` steps, with the
/// renderer slowed too; nothing is requested on the other origin.
#[tokio::test(flavor = "multi_thread")]
async fn a_page_that_leaves_during_its_load_is_judged_on_what_it_did_before() {
    let _side_by_side = ALONE.read().await;
    let (site, other) = sites().await;
    let paths = [
        "/leaves/during-load-head.html",
        "/leaves/during-load-body-end.html",
        "/leaves/during-load-dom-ready.html",
    ];
    let away = other.url("/compliant.html");
    for throttle in [None, Some(4.0), Some(8.0)] {
        let urls: Vec<String> = paths.iter().map(|p| site.url(p)).collect();
        let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
        let mut options = test_options(20);
        options.visit.cpu_throttle = throttle;
        let results = audit_urls(&urls, Session::LoggedOut, Expectations::default(), options).await;
        for result in &results {
            let what = format!("{} (throttled {throttle:?})", result.capture.url);
            assert_eq!(
                rule_ids(result),
                expected(&[]),
                "{what}: {:#?}",
                result.findings
            );
            assert_eq!(
                result.capture.left_to.as_deref(),
                Some(away.as_str()),
                "{what}"
            );
            let pushes = result
                .capture
                .events
                .iter()
                .filter(|e| matches!(e, insider_audit::capture::Event::Push { .. }))
                .count();
            assert_eq!(pushes, 2, "{what}: the user and the init, nothing later");
        }
    }
    // The same pages as `visit` steps of a journey.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.json");
    let steps: Vec<String> = paths
        .iter()
        .map(|p| format!(r#"{{ "visit": "{p}" }}"#))
        .collect();
    std::fs::write(
        &file,
        format!(
            r#"{{ "site": "s", "base_url": "{}", "scenarios": [ {{ "name": "visitor", "steps": [{}], "crawl": false }} ] }}"#,
            site.url("/"),
            steps.join(", ")
        ),
    )
    .unwrap();
    let (code, report) = run_to_end(dir.path(), &file, &[]);
    assert_eq!(code, Some(0), "{report:#}");
    for page in report["pages"].as_array().unwrap() {
        assert_eq!(page["findings"], serde_json::json!([]), "{page:#}");
        assert_eq!(page["left_to"], away.as_str(), "{page:#}");
    }
    assert_eq!(report["pages"].as_array().unwrap().len(), 3, "{report:#}");
    assert_nothing_requested(other.access_log());
}

#[tokio::test(flavor = "multi_thread")]
async fn answers_that_are_not_pages_are_unreachable_in_check() {
    let _side_by_side = ALONE.read().await;
    let (site, _other) = sites().await;
    // After a download or a `204` the tab is replaced: chromiumoxide would hold
    // the tab's next navigation for 30 s behind the one that never ended.
    let started = std::time::Instant::now();
    // A page timeout far longer than the test takes: recognised at the response.
    let results = check_paths(
        &site,
        &[
            "/files/price-list.pdf",
            "/api/cart.json",
            "/files/empty",
            "/files/price-list.pdf",
            "/api/cart.json",
        ],
        60,
    )
    .await;
    for result in &results {
        assert_eq!(
            rule_ids(result),
            expected(&[("page-unreachable", None)]),
            "{}",
            result.capture.url
        );
        let why = &result.findings[0].message;
        assert!(why.contains("not a page"), "{why}");
    }
    // Recognised at the response, not after the page timeout (60 s), nor
    // after chromiumoxide's 30 s hold of a tab whose navigation never ended.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(25),
        "waited for a timeout: {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crawl_skips_what_is_not_a_page_and_holds_pages_that_leave() {
    let _side_by_side = ALONE.read().await;
    let (site, other) = sites().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.json");
    std::fs::write(
        &file,
        format!(
            r#"{{ "site": "s", "base_url": "{}", "crawl": {{ "start": ["/files/index.html"], "max_pages": 4, "max_depth": 1 }}, "scenarios": [ {{ "name": "visitor" }} ] }}"#,
            site.url("/")
        ),
    )
    .unwrap();
    let (code, report) = run_to_end(dir.path(), &file, &["--timeout", "60"]);
    assert_eq!(code, Some(0), "{report:#}");
    let skipped: Vec<(&str, &str)> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["url"].as_str().unwrap(), s["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert!(skipped
        .iter()
        .any(|(u, r)| u.ends_with(".pdf") && r.contains("download")));
    assert!(skipped
        .iter()
        .any(|(u, r)| u.ends_with("/empty") && r.contains("204")));
    assert!(skipped
        .iter()
        .any(|(u, r)| u.ends_with(".json") && r.contains("application/json")));
    // Skipped URLs do not count toward max_pages (4): every page is audited.
    let pages = page_urls(&report);
    assert_eq!(pages.len(), 3, "{pages:?}");
    let moving = report["pages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["url"].as_str().unwrap().ends_with("meta-refresh.html"))
        .expect("the page that leaves is audited");
    assert_eq!(moving["left_to"], other.url("/compliant.html"));
    assert_nothing_requested(other.access_log());
}

/// 301 pages under an index and 30 sections, 31 of them hostile (a mix). Every page must be judged, skipped
/// or unreachable with its reason; the ordinary pages stay clean; nothing is
/// requested on the other origin; the tool stays under 500 MB and leaves no
/// Chromium. The browser runs with a 128 MB V8 heap cap so the page that
/// allocates without end kills its renderer, not the machine.
#[tokio::test(flavor = "multi_thread")]
async fn a_300_page_crawl_with_30_hostile_pages_judges_every_page() {
    let _alone = ALONE.write().await;
    use common::hostile_site::*;
    use common::processes::*;
    let other = HostileServer::start().await;
    let away = other.url("/welcome.html");
    let site = HostileServer::start().await;
    let mut hostile = add_hostile_pages(&site, &away);
    hostile.push(add_self_closing_page(&site));
    let ordinary = |h1: &str, links: &str| page(SNIPPET, &format!("<h1>{h1}</h1>{links}"));
    site.insert("/h/popup-target.html", ordinary("Promo", ""));
    // The index, 30 sections, and leaves: the hostile pages and as many
    // ordinary ones as make 301 pages, spread over the sections.
    const SECTIONS: usize = 30;
    let leaves = 301 - 1 - SECTIONS;
    let mut sections = vec![String::new(); SECTIONS];
    for i in 0..leaves {
        let path = match hostile.get(i) {
            Some(page) => page.path.to_string(),
            None => {
                let path = format!("/p/{i}.html");
                let back = format!(
                    "<a href=\"/\">Home</a> <a href=\"/s/{}.html\">Back</a>",
                    i % SECTIONS
                );
                site.insert(&path, ordinary(&format!("Item {i}"), &back));
                path
            }
        };
        sections[i % SECTIONS].push_str(&format!("<a href=\"{path}\">Item {i}</a>\n"));
    }
    let mut index = String::new();
    for (s, links) in sections.iter().enumerate() {
        index.push_str(&format!("<a href=\"/s/{s}.html\">Section {s}</a>\n"));
        site.insert(
            &format!("/s/{s}.html"),
            ordinary(&format!("Section {s}"), links),
        );
    }
    site.insert("/", ordinary("Shop", &index));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.json");
    std::fs::write(
        &file,
        format!(
            r#"{{ "site": "hostile", "base_url": "{}", "crawl": {{ "max_pages": 400, "max_depth": 2 }}, "scenarios": [ {{ "name": "visitor" }} ] }}"#,
            site.url("/")
        ),
    )
    .unwrap();
    let (mut command, report) = run_command(
        dir.path(),
        &file,
        &[
            // The 100,000-push page loads in 2.5 s on a quiet machine; beside
            // three other hostile tabs on a 2-core runner it came close to 8 s.
            "--timeout",
            "12",
            "--max-settle",
            "3",
            "--concurrency",
            "4",
            "--browser-arg=--js-flags=--max-old-space-size=128",
        ],
    );
    let mut tool = command.spawn().unwrap();
    let pid = tool.id();
    let chromium = chromium_of(&tool).await;
    let mut peak_kb = 0;
    let status = loop {
        if let Some(rss) = peak_rss_kb(pid) {
            peak_kb = peak_kb.max(rss);
        }
        if let Some(status) = tool.try_wait().unwrap() {
            break status;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_group_gone(chromium, "a hostile crawl").await;
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    // Hostile pages fail: exit 1, not an operational failure.
    assert_eq!(status.code(), Some(1), "{:#}", report["summary"]);
    assert!(
        peak_kb < 500 * 1024,
        "the tool's peak RSS was {} MB",
        peak_kb / 1024
    );
    eprintln!("hostile crawl: tool peak RSS {} MB", peak_kb / 1024);

    let pages = report["pages"].as_array().unwrap();
    let skipped = report["skipped"].as_array().unwrap();
    let page_of = |path: &str| {
        let url = site.url(path);
        pages.iter().find(|p| p["url"] == url.as_str())
    };
    let mut wrong = Vec::new();
    for h in &hostile {
        let url = site.url(h.path);
        let findings = |p: &serde_json::Value| -> Vec<String> {
            p["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| format!("{}: {}", f["rule"], f["message"]))
                .collect()
        };
        let unreachable = |p: &serde_json::Value| {
            findings(p)
                .iter()
                .any(|f| f.starts_with("\"page-unreachable\""))
        };
        let ok = match (h.outcome, page_of(h.path)) {
            (Outcome::Skipped(reason), None) => skipped.iter().any(|s| {
                s["url"] == url.as_str() && s["reason"].as_str().unwrap().contains(reason)
            }),
            (Outcome::Unreachable(reason), Some(p)) => findings(p)
                .iter()
                .any(|f| f.starts_with("\"page-unreachable\"") && f.contains(reason)),
            (Outcome::Left, Some(p)) => !unreachable(p) && p["left_to"] == away.as_str(),
            (Outcome::Judged(note), Some(p)) => {
                !unreachable(p)
                    && note.is_none_or(|kind| {
                        p["notes"]
                            .as_array()
                            .is_some_and(|n| n.iter().any(|n| n["kind"] == kind))
                    })
            }
            _ => false,
        };
        if !ok {
            wrong.push(format!(
                "{} ({}), expected {:?}: {}",
                h.path,
                h.does,
                h.outcome,
                page_of(h.path).map_or_else(
                    || "not in pages".to_string(),
                    |p| format!("{:#}", serde_json::json!({"findings": p["findings"], "notes": p["notes"], "left_to": p["left_to"]}))
                )
            ));
        }
    }
    // A page reloading itself is judged on its last document, each with its
    // own SDK request: not one page view loading the SDK again and again.
    if let Some(reloading) = page_of("/h/reloads-itself.html") {
        if reloading["findings"]
            .to_string()
            .contains("sdk-loaded-twice")
        {
            wrong.push(format!(
                "/h/reloads-itself.html: {:#}",
                reloading["findings"]
            ));
        }
    }
    for p in pages {
        let url = p["url"].as_str().unwrap();
        // Each ordinary page is judged on its own document, not on what the
        // page before it in the tab went on doing.
        if !url.contains("/h/") && p["final_url"] != url {
            wrong.push(format!("ordinary page {url} judged on {}", p["final_url"]));
        }
        if !url.contains("/h/") && !p["findings"].as_array().unwrap().is_empty() {
            wrong.push(format!("ordinary page {url}: {:#}", p["findings"]));
        }
    }
    if !wrong.is_empty() {
        let kept = dir.keep();
        panic!("{}\n(report kept in {})", wrong.join("\n"), kept.display());
    }
    let skipped_count = hostile
        .iter()
        .filter(|h| matches!(h.outcome, Outcome::Skipped(_)))
        .count();
    assert_eq!(pages.len() + skipped_count, 301, "every page accounted for");
    assert_nothing_requested(other.access_log());
}

/// Steps that click what opens windows: `window.open` to another origin and
/// `target=_blank` links. The windows are closed as they open and request
/// nothing, never audited; the journey goes on in its own tab.
#[tokio::test(flavor = "multi_thread")]
async fn windows_a_click_opens_are_closed_and_the_journey_goes_on() {
    let _side_by_side = ALONE.read().await;
    let (site, other) = sites().await;
    let away = other.url("/compliant.html");
    site.insert(
        "/popups.html",
        Resource::file(
            "popups.html",
            format!(
                r#"<!doctype html><head>{SNIPPET}</head><body>
<button id="open" onclick="window.open({away:?}, 'promo')">Open</button>
<a id="blank" target="_blank" href="/compliant.html?new-tab">New tab</a></body>"#
            ),
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.json");
    std::fs::write(
        &file,
        format!(
            r##"{{ "site": "s", "base_url": "{}", "scenarios": [ {{ "name": "clicks", "crawl": false,
  "steps": [ {{ "visit": "/popups.html" }}, {{ "click": "#open" }}, {{ "click": "#blank" }},
             {{ "wait_for": {{ "ms": 300 }} }}, {{ "visit": "/compliant.html" }} ] }} ] }}"##,
            site.url("/")
        ),
    )
    .unwrap();
    let (code, report) = run_to_end(dir.path(), &file, &["--timeout", "20"]);
    assert_eq!(code, Some(0), "{report:#}");
    let pages = page_urls(&report);
    assert_eq!(
        pages,
        [site.url("/popups.html"), site.url("/compliant.html")],
        "only the journey's own pages are audited"
    );
    // The windows' requests were held and failed before they left.
    assert_nothing_requested(other.access_log());
    assert!(
        !site.access_log().iter().any(|l| l.contains("new-tab")),
        "a popup requested its page: {:?}",
        site.access_log()
    );
}
