//! Secrets never leave the tool: a logged-in run at the most verbose log level
//! (also through the log filter of the environment), with every report format,
//! screenshots of every page and a GET sign-in form that puts the password in
//! the URL, writes neither the password nor the one-time code anywhere.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;

const CODE: &str = "492817-otp";

fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_in_any_output() {
    let (shop, _other) = shop_servers().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let file = dir.path().join("shop.json");
    let text = format!(
        r##"{{ "site": "Fixture shop", "base_url": "{}",
  "scenarios": [
    {{ "name": "get-form",
      "login": [
        {{ "goto": "/shop/get-login.html" }},
        {{ "fill": "#email", "value": "${{env:SHOP_USER}}" }},
        {{ "fill": "#password", "value": "${{env:SHOP_PASSWORD}}", "secret": true }},
        {{ "fill": "#code", "value": "{CODE}", "secret": true }},
        {{ "click": "button[type=submit]" }},
        {{ "wait_for": {{ "url": "/shop/welcome.html" }} }}
      ],
      "steps": [ {{ "visit": "/shop/products.html" }} ],
      "crawl": false }},
    {{ "name": "post-form", "login": [
        {{ "goto": "/shop/login.html" }},
        {{ "fill": "#email", "value": "${{env:SHOP_USER}}" }},
        {{ "fill": "#password", "value": "${{env:SHOP_PASSWORD}}", "secret": true }},
        {{ "click": "button[type=submit]" }},
        {{ "wait_for": {{ "url": "/shop/account/**" }} }},
        {{ "fill": "#no-such-field", "value": "{CODE}", "secret": true }}
      ], "crawl": false }}
  ] }}"##,
        shop.url("/shop/")
    );
    std::fs::write(&file, text).unwrap();
    let output = Command::new(assert_cmd::cargo::cargo_bin("insider-audit"))
        .args(["run", "-vv", "--screenshots", "always", "--timeout", "15"])
        .args(["--format", "table", "--format", "json", "--format", "junit"])
        .args(["--format", "html", "--format", "markdown", "--out-dir"])
        .arg(&out)
        .arg(&file)
        .env("SHOP_USER", SHOP_EMAIL)
        .env("SHOP_PASSWORD", SHOP_PASSWORD)
        .env("INSIDER_AUDIT_LOG", "trace")
        .output()
        .unwrap();
    let mut texts = vec![
        ("stdout".to_string(), output.stdout.clone()),
        ("stderr".to_string(), output.stderr.clone()),
    ];
    let mut files = Vec::new();
    files_under(&out, &mut files);
    assert!(
        files
            .iter()
            .any(|f| f.extension().is_some_and(|e| e == "png")),
        "screenshots were taken: {files:?}"
    );
    for path in files {
        texts.push((path.display().to_string(), std::fs::read(&path).unwrap()));
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.lines().count() > 50, "a trace-level log was written");
    let journal = texts
        .iter()
        .find(|(name, _)| name.ends_with("pages.jsonl"))
        .unwrap();
    assert!(
        String::from_utf8_lossy(&journal.1).contains("password=***"),
        "the GET form's URL is in the journal, redacted"
    );
    let encoded: String = url::form_urlencoded::byte_serialize(SHOP_PASSWORD.as_bytes()).collect();
    for (name, bytes) in &texts {
        let text = String::from_utf8_lossy(bytes);
        for secret in [SHOP_PASSWORD, encoded.as_str(), CODE] {
            assert!(!text.contains(secret), "{name} shows a secret ({secret})");
        }
    }
}
