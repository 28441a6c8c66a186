//! Shards: a crawl's page list (from `run --discover-only`) audited as two
//! shards and merged equals the crawl; accepted findings and skipped URLs
//! survive the merge; shards read from reports and from journals alike.

mod common;

use common::fixture_server;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn scenario_file(site: &insider_audit::server::StaticServer, dir: &Path) -> std::path::PathBuf {
    let file = dir.join("site.json");
    let text = format!(
        r#"{{ "site": "Fixture site", "base_url": "{}",
             "crawl": {{ "start": ["/site-index.html"], "max_pages": 40, "max_depth": 2 }},
             "accept": [ {{ "rule": "attr-type", "reason": "SHOP-1: types fixed next sprint" }} ],
             "scenarios": [ {{ "name": "visitor" }} ] }}"#,
        site.url("/")
    );
    std::fs::write(&file, text).unwrap();
    file
}

fn read(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("a report")).unwrap()
}

/// (url, [rule attribute accepted]) of every page, sorted.
fn summary(report: &Value) -> Vec<(String, Vec<String>)> {
    let mut pages: Vec<_> = report["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let findings = p["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    format!(
                        "{} {} {}",
                        f["rule"], f["attribute"], f["accepted"]["reason"]
                    )
                })
                .collect();
            (p["url"].as_str().unwrap().to_string(), findings)
        })
        .collect();
    pages.sort();
    pages
}

#[tokio::test(flavor = "multi_thread")]
// Blocking waits for whole runs of the tool: the multi-thread test runtime
// serves the fixtures on its other worker meanwhile.
#[allow(clippy::disallowed_methods)]
async fn two_shards_merged_equal_the_crawl() {
    let site = fixture_server().await;
    let elsewhere = fixture_server().await;
    site.insert(
        "/elsewhere",
        insider_audit::server::Resource::redirect(elsewhere.url("/compliant.html")),
    );
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let file = scenario_file(&site, d);

    let whole = d.join("whole.json");
    let code = Command::new(assert_cmd::cargo::cargo_bin("insider-audit"))
        .args([
            "run",
            "-q",
            "--timeout",
            "15",
            "--screenshots",
            "never",
            "--format",
            "json",
            "--output",
        ])
        .arg(&whole)
        .arg("--out-dir")
        .arg(d.join("w"))
        .arg(&file)
        .status()
        .unwrap()
        .code();
    assert!(matches!(code, Some(0) | Some(1)), "{code:?}");
    let whole_code = code;
    let whole = read(&whole);
    let expected = summary(&whole);
    assert!(expected.len() >= 8, "{expected:?}");
    assert!(
        whole["summary"]["accepted"].as_u64().unwrap() >= 1,
        "the accept entry is used"
    );

    // The page list, as a scheduled full run would leave it; plus the
    // redirect out of scope, which a shard lists as skipped.
    let list = d.join("pages.txt");
    let code = Command::new(assert_cmd::cargo::cargo_bin("insider-audit"))
        .args([
            "run",
            "-q",
            "--discover-only",
            "--timeout",
            "15",
            "--output",
        ])
        .arg(&list)
        .arg("--out-dir")
        .arg(d.join("disc"))
        .arg(&file)
        .status()
        .unwrap()
        .code();
    assert_eq!(code, Some(0));
    let mut urls: Vec<String> = std::fs::read_to_string(&list)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let mut audited: Vec<String> = expected.iter().map(|(u, _)| u.clone()).collect();
    urls.sort();
    audited.sort();
    assert_eq!(urls, audited, "discover-only lists the crawl's pages");
    let skipped = whole["skipped"]
        .as_array()
        .expect("the crawl skips the redirect");
    assert!(skipped[0]["url"].as_str().unwrap().ends_with("/elsewhere"));
    // The list of a scheduled run also names the redirect: a shard skips it.
    let mut text = std::fs::read_to_string(&list).unwrap();
    text.push_str("/elsewhere\n");
    std::fs::write(&list, text).unwrap();

    for k in ["1", "2"] {
        let out = d.join(format!("shard{k}"));
        let code = Command::new(assert_cmd::cargo::cargo_bin("insider-audit"))
            .args([
                "run",
                "-q",
                "--timeout",
                "15",
                "--screenshots",
                "never",
                "--format",
                "json",
            ])
            .args(["--shard", &format!("{k}/2"), "--urls"])
            .arg(&list)
            .arg("--output")
            .arg(out.join("report.json"))
            .arg("--out-dir")
            .arg(&out)
            .arg(&file)
            .status()
            .unwrap()
            .code();
        assert!(matches!(code, Some(0) | Some(1)), "shard {k}: {code:?}");
        let part = read(&out.join("report.json"));
        assert!(
            !part["pages"].as_array().unwrap().is_empty(),
            "shard {k} audited pages"
        );
    }
    // One shard from its report, the other from its journal.
    let merged = d.join("merged.json");
    let code = Command::new(assert_cmd::cargo::cargo_bin("insider-audit"))
        .args(["merge", "-q", "--format", "json", "--output"])
        .arg(&merged)
        .arg(d.join("shard1/report.json"))
        .arg(d.join("shard2/pages.jsonl"))
        .status()
        .unwrap()
        .code();
    assert_eq!(code, whole_code, "merge exits as the whole run");
    let merged = read(&merged);
    assert_eq!(summary(&merged), expected, "2 shards + merge = one crawl");
    assert_eq!(merged["summary"]["accepted"], whole["summary"]["accepted"]);
    assert_eq!(merged["summary"]["pages"], whole["summary"]["pages"]);
    let skipped = merged["skipped"]
        .as_array()
        .expect("skipped survives the merge");
    assert!(
        skipped
            .iter()
            .any(|s| s["url"].as_str().unwrap().ends_with("/elsewhere")),
        "{skipped:?}"
    );
}
