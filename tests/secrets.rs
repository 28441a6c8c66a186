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
// A blocking wait for a whole run of the tool: the multi-thread test runtime
// serves the fixtures on its other worker meanwhile.
#[allow(clippy::disallowed_methods)]
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

/// Dark pixels (the typed text: black on white) inside the one-time-code field
/// of the screenshot at `png`.
fn dark_pixels_in_code_field(png: &[u8]) -> usize {
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    let channels = frame.color_type.samples();
    assert_eq!(frame.bit_depth, png::BitDepth::Eight);
    let mut dark = 0;
    // The field: 40..640 × 40..160 CSS pixels (device scale 1).
    for y in 40..160 {
        for x in 40..640 {
            let at = (y * frame.width as usize + x) * channels;
            if pixels[at..at + 3].iter().all(|&c| c < 80) {
                dark += 1;
            }
        }
    }
    dark
}

/// Runs a login that types `CODE` into a visible text field (a one-time code)
/// and then fails, so the failing step's screenshot shows the field; returns
/// that screenshot.
// A blocking wait for a whole run of the tool: the multi-thread test runtime
// serves the fixtures on its other worker meanwhile.
#[allow(clippy::disallowed_methods)]
fn screenshot_after_typing_the_code(
    shop: &insider_audit::server::StaticServer,
    secret: bool,
) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let file = dir.path().join("shop.json");
    std::fs::write(
        &file,
        format!(
            r##"{{ "base_url": "{}", "scenarios": [ {{ "name": "otp", "crawl": false, "login": [
        {{ "goto": "/shop/otp.html" }},
        {{ "fill": "#otp", "value": "{CODE}", "secret": {secret} }},
        {{ "click": "#no-such-button", "timeout_ms": 2000 }} ] }} ] }}"##,
            shop.url("/shop/")
        ),
    )
    .unwrap();
    let status = Command::new(assert_cmd::cargo::cargo_bin("insider-audit"))
        .args(["run", "-q", "--format", "json", "--out-dir"])
        .arg(&out)
        .arg(&file)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
    let mut files = Vec::new();
    files_under(&out, &mut files);
    let shot = files
        .iter()
        .find(|f| f.extension().is_some_and(|e| e == "png"))
        .unwrap_or_else(|| panic!("the failing step has a screenshot: {files:?}"));
    std::fs::read(shot).unwrap()
}

/// A one-time code typed into a plain text field is on screen in big black
/// letters; the failing step's screenshot must not show it. The same run with
/// `"secret": false` shows the letters, so the pixel test can see a masking bug.
#[tokio::test(flavor = "multi_thread")]
async fn a_visible_secret_field_is_masked_in_screenshots() {
    let (shop, _other) = shop_servers().await;
    shop.insert(
        "/shop/otp.html",
        insider_audit::server::Resource::file(
            "otp.html",
            r#"<!doctype html><html><head><meta charset="utf-8"><title>Enter your code</title>
<style>
  body { margin: 0; background: #fff; }
  #otp { position: absolute; left: 40px; top: 40px; width: 600px; height: 120px; padding: 0;
         border: 0; outline: 0; background: #fff; color: #000; caret-color: transparent;
         font: bold 72px monospace; }
</style>
<script>window.InsiderQueue = window.InsiderQueue || [];</script></head>
<body><input id="otp" type="text" autocomplete="one-time-code" inputmode="numeric"></body></html>"#,
        ),
    );
    let shown = dark_pixels_in_code_field(&screenshot_after_typing_the_code(&shop, false));
    assert!(
        shown > 500,
        "the unmasked code should be visible ({shown} dark pixels)"
    );
    let masked = dark_pixels_in_code_field(&screenshot_after_typing_the_code(&shop, true));
    assert_eq!(masked, 0, "the secret code shows in the screenshot");
}
