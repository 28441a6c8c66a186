//! The run, page and finding pages over a small SQLite store with a
//! `<script>` planted in a path and a message: it stays text, and the rows
//! are the view's.

use super::{document, finding_page, page_page, run_page, ServeLinks};
use crate::history::views::{finding_view, page_view, run_view, suite_trend, Window};
use crate::history::{fingerprints, record, Baseline, FindingInput, PageInput, PageVerdict};
use crate::history::{RunInput, RunSummary, Store};
use crate::rules::Rule;
use chrono::TimeZone;

const HOSTILE: &str = "/p?<script>alert(1)</script>";

fn night(id: &str, day: u32, with_finding: bool) -> RunInput {
    let findings: Vec<FindingInput> = if with_finding {
        fingerprints([("s", HOSTILE, "", Rule::AttrFormat, "email")])
            .into_iter()
            .map(|key| FindingInput {
                severity: key.rule.severity(),
                group: key.rule.group(),
                message: "<script>alert('m')</script>".into(),
                accepted: false,
                accept_expired: false,
                key,
            })
            .collect()
    } else {
        Vec::new()
    };
    let at = chrono::Utc
        .with_ymd_and_hms(2026, 11, day, 2, 0, 0)
        .unwrap();
    RunInput {
        id: id.into(),
        suite: "shop".into(),
        shard: None,
        branch: None,
        label: Some("<b>label</b>".into()),
        started_at: at,
        ended_at: at,
        tool_version: "0.1.0".into(),
        rules_version: "r".into(),
        commit: None,
        ci_job_url: None,
        exit_code: None,
        complete: true,
        summary: RunSummary {
            pages: 1,
            passed: u64::from(!with_finding),
            ..RunSummary::default()
        },
        pages: vec![PageInput {
            scenario: "s".into(),
            path: HOSTILE.into(),
            final_path: None,
            verdict: PageVerdict::Pass,
            errors: 0,
            warnings: 0,
            accepted: 0,
            judged: Rule::ALL.iter().copied().collect(),
        }],
        findings,
    }
}

#[tokio::test]
async fn detail_pages_keep_planted_markup_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::parse(dir.path().join("h.db").to_str().unwrap());
    for (id, day, finding) in [("r1", 1, true), ("r2", 2, false), ("r3", 3, true)] {
        record(&store, &night(id, day, finding), &Baseline::Last)
            .await
            .unwrap();
    }
    let run = run_view(&store, "r2").await.unwrap().unwrap();
    let trend = suite_trend(&store, "shop", None, Window::SERVE)
        .await
        .unwrap()
        .unwrap();
    let page_id = &trend.strip.rows[0].page;
    let page = page_view(&store, "shop", page_id, Window::SERVE)
        .await
        .unwrap()
        .unwrap();
    let finding = finding_view(&store, &page.findings[0].fp)
        .await
        .unwrap()
        .unwrap();
    let pages = [
        (run_page(&run, &ServeLinks), "<tr class=\"page-row\"", 1),
        (
            page_page(&page, &ServeLinks),
            "<tr class=\"verdict-row\"",
            3,
        ),
        (
            finding_page(&finding, &ServeLinks),
            "<tr class=\"event-row\"",
            3,
        ),
    ];
    for (body, row, rows) in pages {
        let html = document("t", body).into_string();
        assert_eq!(html.matches(row).count(), rows, "{row}: {html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<b>label"), "{html}");
    }
    let html = run_page(&run, &ServeLinks).into_string();
    assert!(
        html.contains("&lt;script&gt;alert('m')"),
        "the fixed finding's message"
    );
    assert!(html.contains(&format!("/suites/shop/pages/{page_id}")));
    let html = page_page(&page, &ServeLinks).into_string();
    assert!(html.contains(&format!("href=\"/findings/{}\"", page.findings[0].fp)));
}
