//! Journeys on a fixture shop with a real sign-in (form POST, cookie session):
//! each session rule fires on its planted defect and stays silent on the clean
//! path; the crawl never requests what it must not; failing steps stop one
//! scenario only; secrets never show.

mod common;

use common::*;
use serde_json::{json, Value};

const LOGIN: &str = r##"[
  { "goto": "/shop/login.html" },
  { "fill": "#email", "value": "${env:SHOP_USER}" },
  { "fill": "#password", "value": "${env:SHOP_PASSWORD}", "secret": true },
  { "click": "button[type=submit]" },
  { "wait_for": { "url": "/shop/account/**" } }
]"##;

struct Run {
    code: Option<i32>,
    report: Value,
    output: String,
}

/// Runs `scenarios` (a JSON array) against the shop through the real binary.
fn run(
    shop: &insider_audit::server::StaticServer,
    crawl: Value,
    scenarios: &str,
    dir: &std::path::Path,
) -> Run {
    run_with(shop, "", crawl, scenarios, dir)
}

/// [`run`] with the renderer slowed `rate` times (CDP CPU throttling).
fn run_throttled(
    shop: &insider_audit::server::StaticServer,
    scenarios: &str,
    dir: &std::path::Path,
    rate: Option<&str>,
) -> Run {
    let args = rate.map(|r| vec!["--cpu-throttle", r]).unwrap_or_default();
    run_args(shop, "", json!({}), scenarios, dir, &args)
}

/// [`run`] with more top-level keys in the file (`"key": value,` each).
fn run_with(
    shop: &insider_audit::server::StaticServer,
    file_keys: &str,
    crawl: Value,
    scenarios: &str,
    dir: &std::path::Path,
) -> Run {
    run_args(shop, file_keys, crawl, scenarios, dir, &[])
}

/// [`run_with`] and more arguments for the tool.
// A blocking wait for a whole run of the tool: the multi-thread test runtime
// serves the fixtures on its other worker meanwhile.
#[allow(clippy::disallowed_methods)]
fn run_args(
    shop: &insider_audit::server::StaticServer,
    file_keys: &str,
    crawl: Value,
    scenarios: &str,
    dir: &std::path::Path,
    args: &[&str],
) -> Run {
    let file = dir.join("shop.json");
    let text = format!(
        r#"{{ "site": "Fixture shop", "base_url": "{}", {file_keys} "crawl": {crawl}, "scenarios": {scenarios} }}"#,
        shop.url("/shop/")
    );
    std::fs::write(&file, text).unwrap();
    let output = std::process::Command::new(assert_cmd::cargo::cargo_bin("insider-audit"))
        .args(["run", "--format", "json", "--timeout", "15", "--out-dir"])
        .arg(dir)
        .args(args)
        .arg(&file)
        .env("SHOP_USER", SHOP_EMAIL)
        .env("SHOP_PASSWORD", SHOP_PASSWORD)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}):\n{stdout}\n{stderr}"));
    Run {
        code: output.status.code(),
        report,
        output: format!("{stdout}\n{stderr}"),
    }
}

/// A page as the tests compare it: (path, logged_in, [(rule, attribute)]).
type PageSummary = (String, bool, Vec<(String, Option<String>)>);

/// Each page of the report, in order.
fn pages(report: &Value) -> Vec<PageSummary> {
    report["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let url =
                url::Url::parse(p["final_url"].as_str().or(p["url"].as_str()).unwrap()).unwrap();
            let findings = p["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    (
                        f["rule"].as_str().unwrap().to_string(),
                        f["attribute"].as_str().map(str::to_string),
                    )
                })
                .collect();
            (
                url.path().to_string(),
                p["logged_in"].as_bool().unwrap(),
                findings,
            )
        })
        .collect()
}

fn page(
    path: &str,
    logged_in: bool,
    findings: &[(&str, Option<&str>)],
) -> (String, bool, Vec<(String, Option<String>)>) {
    (path.to_string(), logged_in, expected(findings))
}

fn journey(name: &str, steps: &str, expect: &str) -> String {
    format!(
        r#"[{{ "name": "{name}", "login": {LOGIN}, "steps": {steps}, "crawl": false, "expect": {expect} }}]"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn clean_journey_is_silent_and_secrets_never_show() {
    let (shop, _other) = shop_servers().await;
    let dir = tempfile::tempdir().unwrap();
    let steps = r#"[ { "visit": "/shop/products.html" }, { "visit": "/shop/account/prefs-on.html" },
                     { "logout": "/shop/logout" }, { "visit": "/shop/products.html" } ]"#;
    let run = run(
        &shop,
        json!({}),
        &journey(
            "clean",
            steps,
            r#"{ "values": { "uuid": "U-1" }, "whatsapp_optin": true }"#,
        ),
        dir.path(),
    );
    assert_eq!(
        pages(&run.report),
        vec![
            page("/shop/account/profile.html", true, &[]),
            page("/shop/products.html", true, &[]),
            page("/shop/account/prefs-on.html", true, &[]),
            page("/shop/", false, &[]),
            page("/shop/products.html", false, &[]),
        ]
    );
    assert_eq!(run.code, Some(0), "{}", run.output);
    let steps = &run.report["scenarios"][0]["steps"];
    assert_eq!(steps.as_array().unwrap().len(), 9);
    assert_eq!(steps[2]["step"], "login step 3 (fill \"#password\" = ***)");
    assert_eq!(
        steps[1]["step"], "login step 2 (fill \"#email\" = ***)",
        "values from the environment are secret"
    );
    assert!(steps
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["status"] == "ok"));
    assert!(
        !run.output.contains(SHOP_PASSWORD),
        "the password leaked:\n{}",
        run.output
    );
    assert!(!run.output.contains("s3cret"), "the password leaked");
    // The login was a real form POST with a cookie session.
    assert!(shop.access_log().iter().any(|l| l == "POST /login"));
}

#[tokio::test(flavor = "multi_thread")]
async fn uuid_inconsistent_and_expect_mismatch() {
    let (shop, _other) = shop_servers().await;
    let dir = tempfile::tempdir().unwrap();
    let run = run(
        &shop,
        json!({}),
        &journey(
            "uuid",
            r#"[ { "visit": "/shop/account/orders.html" }, { "visit": "/shop/account/incomplete.html" } ]"#,
            r#"{ "values": { "uuid": "U-1" } }"#,
        ),
        dir.path(),
    );
    assert_eq!(
        pages(&run.report),
        vec![
            page("/shop/account/profile.html", true, &[]),
            page(
                "/shop/account/orders.html",
                true,
                &[
                    ("expect-mismatch", Some("uuid")),
                    ("uuid-inconsistent", Some("uuid"))
                ]
            ),
            page(
                "/shop/account/incomplete.html",
                true,
                &[
                    ("login-incomplete", Some("phone_number")),
                    ("login-incomplete", Some("whatsapp_optin"))
                ]
            ),
        ]
    );
    assert_eq!(run.code, Some(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn optin_reactivated_unless_the_user_consents() {
    let (shop, _other) = shop_servers().await;
    let dir = tempfile::tempdir().unwrap();
    let scenarios = format!(
        "[{}, {}]",
        journey("reversed", r#"[ { "visit": "/shop/account/prefs-off.html" }, { "visit": "/shop/account/prefs-on.html" } ]"#, "{}")
            .trim_start_matches('[').trim_end_matches(']'),
        journey("consented", r##"[ { "visit": "/shop/account/whatsapp.html" }, { "consent": "#optin" }, { "visit": "/shop/account/prefs-on.html" } ]"##, "{}")
            .trim_start_matches('[').trim_end_matches(']'),
    );
    let run = run(&shop, json!({}), &scenarios, dir.path());
    assert_eq!(
        pages(&run.report),
        vec![
            page("/shop/account/profile.html", true, &[]),
            page(
                "/shop/account/prefs-off.html",
                true,
                &[("whatsapp-optin-off", Some("whatsapp_optin"))]
            ),
            page(
                "/shop/account/prefs-on.html",
                true,
                &[("optin-reactivated", Some("whatsapp_optin"))]
            ),
            page("/shop/account/profile.html", true, &[]),
            page(
                "/shop/account/whatsapp.html",
                true,
                &[("whatsapp-optin-off", Some("whatsapp_optin"))]
            ),
            page("/shop/account/prefs-on.html", true, &[]),
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn identity_after_logout() {
    let (shop, _other) = shop_servers().await;
    let dir = tempfile::tempdir().unwrap();
    let steps = r#"[ { "logout": "/shop/logout" }, { "visit": "/shop/welcome.html" } ]"#;
    let run = run(
        &shop,
        json!({}),
        &journey("after-logout", steps, "{}"),
        dir.path(),
    );
    assert_eq!(
        pages(&run.report),
        vec![
            page("/shop/account/profile.html", true, &[]),
            page("/shop/", false, &[]),
            page(
                "/shop/welcome.html",
                false,
                &[
                    ("gdpr-missing", Some("gdpr_optin")),
                    ("identity-after-logout", Some("uuid"))
                ]
            ),
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn crawl_stays_in_scope_and_follows_rendered_links() {
    let (shop, other) = shop_servers().await;
    let dir = tempfile::tempdir().unwrap();
    let crawl = json!({ "start": ["/shop/index.html"], "include": ["/shop/**"], "exclude": ["/shop/private/**"], "max_depth": 3 });
    let run = run(&shop, crawl, r#"[ { "name": "logged-out" } ]"#, dir.path());
    let audited: Vec<String> = pages(&run.report)
        .into_iter()
        .map(|(path, _, _)| path)
        .collect();
    assert_eq!(
        audited,
        [
            "/shop/index.html",
            "/shop/products.html",
            "/shop/login.html",
            "/shop/rendered.html"
        ],
        "{}",
        run.output
    );
    let log = shop.access_log();
    let documents: Vec<&String> = log.iter().filter(|l| !l.ends_with(".js")).collect();
    for forbidden in [
        "/shop/private",
        "/shop/logout",
        "/shop/Sign-Out.php",
        "mailto",
    ] {
        assert!(
            !log.iter().any(|l| l.contains(forbidden)),
            "{forbidden} was requested: {documents:?}"
        );
    }
    // The account page redirects to the login page: audited once, as the login page.
    assert_eq!(
        log.iter()
            .filter(|l| l.starts_with("GET /shop/products.html"))
            .count(),
        1,
        "normalised URLs are fetched once: {documents:?}"
    );
    // The redirect to another origin was cut before it left the origin.
    assert!(
        log.iter().any(|l| l == "GET /shop/go-away"),
        "{documents:?}"
    );
    assert_eq!(
        other.access_log(),
        Vec::<String>::new(),
        "another origin was requested"
    );
    assert!(
        !log.iter().any(|l| l.contains("sitemap")),
        "no sitemap unless asked for"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sitemap_seeds_the_crawl_within_scope() {
    let (shop, _other) = shop_servers().await;
    let dir = tempfile::tempdir().unwrap();
    let crawl = json!({ "start": ["/shop/products.html"], "exclude": ["/shop/private/**"], "max_depth": 1, "sitemap": true });
    let run = run(&shop, crawl, r#"[ { "name": "logged-out" } ]"#, dir.path());
    let audited: Vec<String> = pages(&run.report)
        .into_iter()
        .map(|(path, _, _)| path)
        .collect();
    assert_eq!(
        audited,
        [
            "/shop/products.html",
            "/shop/index.html",
            "/shop/only-in-sitemap.html"
        ],
        "{:?} {}",
        shop.access_log(),
        run.output
    );
    assert!(!shop
        .access_log()
        .iter()
        .any(|l| l.contains("/shop/private")));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_step_stops_its_scenario_only() {
    let (shop, _other) = shop_servers().await;
    let dir = tempfile::tempdir().unwrap();
    let scenarios = r##"[
      { "name": "broken", "steps": [ { "visit": "/shop/products.html" }, { "click": "#no-such-button", "timeout_ms": 3000 }, { "visit": "/shop/index.html" } ], "crawl": false },
      { "name": "fine", "steps": [ { "visit": "/shop/index.html" } ], "crawl": false }
    ]"##;
    let run = run(&shop, json!({}), scenarios, dir.path());
    let pages = pages(&run.report);
    assert_eq!(pages.len(), 3, "{pages:?}");
    assert_eq!(pages[1].2, expected(&[("page-unreachable", None)]));
    let message = run.report["pages"][1]["findings"][0]["message"]
        .as_str()
        .unwrap();
    assert!(
        message.contains("steps step 2 (click \"#no-such-button\")"),
        "{message}"
    );
    assert!(message.contains("/shop/products.html"), "{message}");
    let shot = message
        .split("screenshot: ")
        .nth(1)
        .expect("a screenshot path");
    assert!(
        std::path::Path::new(shot).is_file(),
        "screenshot {shot} missing"
    );
    assert_eq!(
        pages[2],
        page("/shop/index.html", false, &[]),
        "the other scenario ran"
    );
    assert_eq!(run.report["scenarios"][0]["steps"][1]["status"], "failed");
    assert_eq!(run.code, Some(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_step_that_hangs_the_page_is_reported_on_that_page() {
    let (shop, _other) = shop_servers().await;
    let dir = tempfile::tempdir().unwrap();
    let scenarios = r##"[
      { "name": "hangs", "steps": [ { "goto": "/shop/stuck-button.html" }, { "click": "#hang", "timeout_ms": 3000 } ], "crawl": false },
      { "name": "after", "steps": [ { "visit": "/shop/index.html" } ], "crawl": false }
    ]"##;
    let run = run(&shop, json!({}), scenarios, dir.path());
    let message = run.report["pages"][0]["findings"][0]["message"]
        .as_str()
        .unwrap();
    // The failure is recorded on the page that hung, before its tab is replaced.
    assert!(message.contains("/shop/stuck-button.html"), "{message}");
    assert!(!message.contains("about:blank"), "{message}");
    assert_eq!(
        run.report["pages"][0]["final_url"],
        shop.url("/shop/stuck-button.html")
    );
    assert_eq!(
        pages(&run.report)[1],
        page("/shop/index.html", false, &[]),
        "the next scenario ran"
    );
}

/// The login's link leads to a look-alike sign-in page on another origin that
/// neither base_url nor `login_origins` names: the steps do not follow it
/// (nothing is requested there), and nothing is typed.
#[tokio::test(flavor = "multi_thread")]
async fn a_step_does_not_leave_the_steps_scope() {
    let (shop, other) = shop_servers().await;
    let dir = tempfile::tempdir().unwrap();
    let scenarios = r##"[ { "name": "phished", "login": [
        { "goto": "/shop/to-partner-login" },
        { "fill": "#email", "value": "${env:SHOP_USER}" },
        { "fill": "#password", "value": "${env:SHOP_PASSWORD}", "secret": true },
        { "click": "button[type=submit]" } ], "crawl": false } ]"##;
    let run = run(&shop, json!({}), scenarios, dir.path());
    let finding = &run.report["pages"][0]["findings"][0];
    assert_eq!(finding["rule"], "page-unreachable");
    let message = finding["message"].as_str().unwrap();
    assert!(
        message.contains(&other.url("/login.html")) && message.contains("outside the steps' scope"),
        "{message}"
    );
    assert_eq!(run.report["scenarios"][0]["steps"][0]["status"], "failed");
    assert!(
        other.access_log().is_empty(),
        "requested outside the scope: {:?}",
        other.access_log()
    );
    assert!(!run.output.contains(SHOP_PASSWORD));
}

/// With the other origin in `login_origins`, the hosted sign-in page is
/// reached and takes the credentials; a page on an origin a `goto` names is in
/// the steps' scope but takes none.
#[tokio::test(flavor = "multi_thread")]
async fn login_origins_let_a_hosted_sign_in_page_take_the_credentials() {
    let (shop, other) = shop_servers().await;
    let dir = tempfile::tempdir().unwrap();
    let login_origins = format!(r#""login_origins": ["{}"],"#, other.base_url());
    let scenarios = r##"[ { "name": "hosted", "login": [
        { "goto": "/shop/to-partner-login" },
        { "fill": "#email", "value": "${env:SHOP_USER}" },
        { "fill": "#password", "value": "${env:SHOP_PASSWORD}", "secret": true },
        { "click": "button[type=submit]" } ], "crawl": false } ]"##;
    let hosted = run_with(&shop, &login_origins, json!({}), scenarios, dir.path());
    let log = other.access_log();
    assert!(log.contains(&"GET /login.html".to_string()), "{log:?}");
    assert!(
        log.iter().any(|l| l.starts_with("POST")),
        "the sign-in page did not get the form: {log:?}"
    );
    assert!(!hosted.output.contains(SHOP_PASSWORD));

    let dir = tempfile::tempdir().unwrap();
    let scenarios = format!(
        r##"[ {{ "name": "named", "steps": [
        {{ "goto": "{}" }},
        {{ "fill": "#password", "value": "${{env:SHOP_PASSWORD}}", "secret": true }} ], "crawl": false }} ]"##,
        other.url("/login.html")
    );
    let before = other.access_log().len();
    let named = run(&shop, json!({}), &scenarios, dir.path());
    let message = named.report["pages"][0]["findings"][0]["message"]
        .as_str()
        .unwrap();
    assert!(
        message.contains("nor in login_origins") && message.contains("nothing was typed"),
        "{message}"
    );
    let after = &other.access_log()[before..];
    assert!(after.contains(&"GET /login.html".to_string()), "{after:?}");
    assert!(!after.iter().any(|l| l.starts_with("POST")), "{after:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn scenarios_do_not_share_cookies() {
    let (shop, _other) = shop_servers().await;
    let dir = tempfile::tempdir().unwrap();
    let scenarios = format!(
        r#"[ {{ "name": "in", "login": {LOGIN}, "crawl": false }},
             {{ "name": "out", "steps": [ {{ "wait_for": {{ "ms": 3000 }} }}, {{ "visit": "/shop/account/profile.html" }} ], "crawl": false }} ]"#
    );
    let run = run(&shop, json!({}), &scenarios, dir.path());
    let pages = pages(&run.report);
    assert_eq!(pages[0].0, "/shop/account/profile.html");
    assert_eq!(
        pages[1].0, "/shop/login.html",
        "the logged-out scenario was sent to the login page"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_step_kind_acts_on_the_page() {
    let (shop, _other) = shop_servers().await;
    let dir = tempfile::tempdir().unwrap();
    let scenarios = r##"[ { "name": "steps", "crawl": false, "steps": [
        { "goto": "/shop/form.html" },
        { "set_cookie": { "name": "ab", "value": "variant-b" } },
        { "local_storage": { "seen": "yes" } },
        { "select": "#lang", "value": "tr_TR" },
        { "check": "#newsletter" },
        { "fill": "#q", "value": "espresso" },
        { "press": "Enter", "selector": "#q" },
        { "wait_for": { "selector": "#results" } },
        { "wait_for": { "url": "/shop/search.html" } },
        { "wait_for": { "ms": 50 } },
        { "wait_for": { "network_idle": true } },
        { "visit": "/shop/search.html?q=again" }
    ] } ]"##;
    let run = run(&shop, json!({}), scenarios, dir.path());
    let steps = run.report["scenarios"][0]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 12, "{}", run.output);
    assert!(steps.iter().all(|s| s["status"] == "ok"), "{steps:?}");
    assert!(
        shop.access_log()
            .iter()
            .any(|l| l == "GET /shop/search.html?q=espresso&lang=tr_TR&newsletter=on"),
        "fill, select, check and press submitted the form: {:?}",
        shop.access_log()
    );
    let page = &run.report["pages"][0];
    assert_eq!(page["url"], shop.url("/shop/search.html?q=again"));
    let custom = &page["pushes"][0]["value"]["value"]["custom"];
    assert_eq!(custom["ab"], "variant-b", "set_cookie");
    assert_eq!(custom["seen"], "yes", "local_storage");
    assert_eq!(page["findings"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_by_click_ends_the_session() {
    let (shop, _other) = shop_servers().await;
    let dir = tempfile::tempdir().unwrap();
    let steps =
        r##"[ { "logout": { "click": "#signout" } }, { "visit": "/shop/account/profile.html" } ]"##;
    let run = run(
        &shop,
        json!({}),
        &journey("click-out", steps, "{}"),
        dir.path(),
    );
    assert_eq!(
        pages(&run.report),
        vec![
            page("/shop/account/profile.html", true, &[]),
            page("/shop/", false, &[]),
            page("/shop/login.html", false, &[]),
        ],
        "after the logout click the account page sends to the login page"
    );
}

/// The page a login block ends on is audited like a visited page: the
/// navigation the sign-in started reaches its load event first (the page's
/// HTML arrives a second late, its SDK tag 500 ms after that), also with the
/// renderer slowed 4×.
#[tokio::test(flavor = "multi_thread")]
async fn a_sign_in_that_lands_on_a_slow_page_is_judged_once_it_loaded() {
    let (shop, _other) = shop_servers().await;
    let login = LOGIN.replace("/shop/login.html", "/shop/login-slow.html");
    let scenarios = format!(r#"[{{ "name": "slow", "login": {login}, "crawl": false }}]"#);
    for rate in [None, Some("4")] {
        let dir = tempfile::tempdir().unwrap();
        let run = run_throttled(&shop, &scenarios, dir.path(), rate);
        assert_eq!(
            pages(&run.report),
            vec![page("/shop/account/slow.html", true, &[])],
            "throttled {rate:?}: {}",
            run.output
        );
        assert_eq!(run.code, Some(0), "{}", run.output);
    }
}
