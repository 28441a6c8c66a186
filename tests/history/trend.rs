//! The trend views and `history trend` on both engines, over a hand-built
//! store of three nights whose numbers are known: a finding fixed, new ones,
//! one reopened, a page that dropped out of the crawl, labels, a rules
//! version change, and a `<script>` planted in a page path and a message.

use super::checks::history;
use super::*;
use insider_audit::history::views::{
    finding_view, page_view, run_view, suite_trend, suites, Cell, Window,
};

const WARN: Rule = Rule::AttrUnknown;
const QUEUE: Rule = Rule::QueueMissing;
const HOSTILE: &str = "/x?q=<script>alert(1)</script>";
const PLANTED: &str = "<script>alert('message')</script>";

/// Night `n` with its summary counted from its pages, the label and rules
/// version given, and the planted message on the hostile page's finding.
fn counted(
    id: &str,
    n: u32,
    pages: &[P],
    findings: &[(&str, Rule, &str)],
    label: Option<&str>,
    rules: &str,
) -> RunInput {
    let mut run = night(id, n, pages, findings);
    for f in &mut run.findings {
        if f.key.path == HOSTILE {
            f.message = PLANTED.into();
        }
    }
    let failed = run.pages.iter().filter(|p| p.errors > 0).count() as u64;
    run.summary = RunSummary {
        pages: run.pages.len() as u64,
        passed: run.pages.len() as u64 - failed,
        failed,
        errors: run.pages.iter().map(|p| u64::from(p.errors)).sum(),
        warnings: run.pages.iter().map(|p| u64::from(p.warnings)).sum(),
        accepted: 0,
    };
    run.label = label.map(str::to_string);
    run.rules_version = rules.into();
    run
}

/// n1: /a, /b, /old fail, /c and the hostile page pass. n2: /old is no longer
/// crawled (its finding not checked), /a fixed, /c a new warning, the hostile
/// page a new error. n3: /a reopened, /c fixed, the rules version changed.
async fn three_nights(store: &Store) {
    let all = [
        P("/a", "/a", &[]),
        P("/b", "/b", &[]),
        P("/c", "/c", &[]),
        P("/old", "/old", &[]),
        P(HOSTILE, HOSTILE, &[]),
    ];
    let crawled = [&all[0], &all[1], &all[2], &all[4]].map(|p| P(p.0, p.1, p.2));
    let nights = [
        counted(
            "n1",
            1,
            &all,
            &[
                ("/a", FMT, "email"),
                ("/b", QUEUE, ""),
                ("/old", FMT, "email"),
            ],
            Some("before release"),
            "0.1.0+abc",
        ),
        counted(
            "n2",
            2,
            &crawled,
            &[
                ("/b", QUEUE, ""),
                ("/c", WARN, "shoe_size"),
                (HOSTILE, FMT, "email"),
            ],
            None,
            "0.1.0+abc",
        ),
        counted(
            "n3",
            3,
            &crawled,
            &[
                ("/a", FMT, "email"),
                ("/b", QUEUE, ""),
                (HOSTILE, FMT, "email"),
            ],
            Some("release 2"),
            "0.1.0+def",
        ),
    ];
    for run in &nights {
        record(store, run, &Baseline::Last).await.unwrap();
    }
}

both!(
    trend_views_give_the_known_numbers,
    |store: Store| async move {
        three_nights(&store).await;
        let t = suite_trend(&store, "shop", None, Window::FILE)
            .await
            .unwrap()
            .expect("the suite");
        assert_eq!(t.branch.as_deref(), Some("main"));
        assert_eq!(t.runs_total, 3);
        let ids: Vec<&str> = t.runs.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["n1", "n2", "n3"]);
        let compliance: Vec<Option<f64>> = t.runs.iter().map(|r| r.compliance).collect();
        assert_eq!(compliance, [Some(0.4), Some(0.5), Some(0.25)]);
        let changes: Vec<(i64, i64, i64, i64)> = t
            .runs
            .iter()
            .map(|r| (r.new, r.reopened, r.fixed, r.not_checked))
            .collect();
        assert_eq!(changes, [(3, 0, 0, 0), (2, 0, 1, 1), (0, 1, 1, 0)]);
        let marks: Vec<(bool, Option<&str>)> = t
            .runs
            .iter()
            .map(|r| (r.rules_changed, r.label.as_deref()))
            .collect();
        assert_eq!(
            marks,
            [
                (false, Some("before release")),
                (false, None),
                (true, Some("release 2"))
            ]
        );
        // Errors per group: attributes (attr-format) beside queue (queue-missing);
        // the warning of n2 in attributes.
        let attributes = t.groups.iter().position(|g| *g == "attributes").unwrap();
        let per_run: Vec<(i64, i64)> = t
            .runs
            .iter()
            .map(|r| (r.groups[attributes].errors, r.groups[attributes].warnings))
            .collect();
        assert_eq!(per_run, [(2, 0), (1, 1), (2, 0)]);

        // The strip: five pages worst first, /old no longer crawled.
        use Cell::*;
        let rows: Vec<(&str, bool, Vec<Cell>)> = t
            .strip
            .rows
            .iter()
            .map(|r| (r.path.as_str(), r.crawled, r.cells.clone()))
            .collect();
        assert_eq!(
            rows,
            [
                ("/b", true, vec![Fail, Fail, Fail]),
                ("/a", true, vec![Fail, Pass, Fail]),
                (HOSTILE, true, vec![Pass, Fail, Fail]),
                ("/old", false, vec![Fail, NotAudited, NotAudited]),
                ("/c", true, vec![Pass, Warn, Pass]),
            ]
        );
        assert_eq!(t.strip.pages_total, 5);

        // Open findings, oldest first: first seen n1 (/a, reopened, 2 runs; /b,
        // 3 runs), then the hostile page's from n2.
        let open: Vec<(&str, &str, i64)> = t
            .open
            .oldest
            .iter()
            .map(|f| (f.key.path.as_str(), f.first_seen_run.as_str(), f.runs_seen))
            .collect();
        assert_eq!(open, [("/a", "n1", 2), ("/b", "n1", 3), (HOSTILE, "n2", 2)]);
        assert_eq!(t.open.total, 3);

        // Per run, newest first: what came and what was fixed.
        let came: Vec<(&str, Vec<&str>, Vec<&str>)> = t
            .changes
            .iter()
            .map(|c| {
                (
                    c.run.id.as_str(),
                    c.new.iter().map(|x| x.key.path.as_str()).collect(),
                    c.fixed.iter().map(|x| x.key.path.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            came,
            [
                ("n3", vec!["/a"], vec!["/c"]),
                ("n2", vec!["/c", HOSTILE], vec!["/a"]),
                ("n1", vec!["/a", "/b", "/old"], vec![]),
            ]
        );
        assert_eq!(t.changes[0].new[0].state, Some(State::Reopened));

        // A smaller window: the last two runs, the worst two pages from the second.
        let small = Window {
            runs: 2,
            strip_runs: 2,
            strip_offset: 1,
            strip_pages: 2,
            open_findings: 1,
            change_runs: 1,
            changes_per_run: 1,
        };
        let t2 = suite_trend(&store, "shop", Some("main"), small)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(t2.runs.len(), 2);
        assert!(t2.runs[1].rules_changed && !t2.runs[0].rules_changed);
        let paths: Vec<&str> = t2.strip.rows.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, [HOSTILE, "/a"], "ranks 2 and 3 of (/b, x, /a, /c)");
        assert_eq!(t2.strip.pages_total, 4, "/old not audited in the last two");
        assert_eq!((t2.open.oldest.len(), t2.open.total), (1, 3));
        assert_eq!(t2.changes.len(), 1);

        // Unknown names are None, not errors.
        assert!(suite_trend(&store, "nope", None, Window::SERVE)
            .await
            .unwrap()
            .is_none());
        assert!(suite_trend(&store, "shop", Some("nope"), Window::SERVE)
            .await
            .unwrap()
            .is_none());
        assert!(run_view(&store, "nope").await.unwrap().is_none());
        assert!(page_view(&store, "shop", "0000000000000000", Window::SERVE)
            .await
            .unwrap()
            .is_none());
        assert!(page_view(&store, "shop", "../../etc/passwd", Window::SERVE)
            .await
            .unwrap()
            .is_none());
        assert!(finding_view(&store, "0123456789abcdef")
            .await
            .unwrap()
            .is_none());

        // The run, page and finding views behind the links.
        let n2 = run_view(&store, "n2").await.unwrap().unwrap();
        assert_eq!(n2.compliance, Some(0.5));
        assert_eq!(n2.pages.len(), 4);
        assert_eq!(n2.findings.len(), 3);
        assert_eq!(n2.fixed.len(), 1);
        assert_eq!(n2.not_checked[0].finding.key.path, "/old");
        let a = &t.strip.rows[1];
        let page = page_view(&store, "shop", &a.page, Window::SERVE)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(page.path, "/a");
        assert_eq!(page.cells, [Fail, Pass, Fail]);
        assert_eq!(page.findings.len(), 1);
        assert_eq!(page.findings[0].spans.len(), 2, "fixed, then reopened");
        let f = finding_view(&store, &page.findings[0].fp)
            .await
            .unwrap()
            .unwrap();
        let events: Vec<(&str, &str)> = f
            .events
            .iter()
            .map(|e| (e.run.id.as_str(), e.what))
            .collect();
        assert_eq!(events, [("n1", "new"), ("n2", "fixed"), ("n3", "reopened")]);
        assert_eq!(f.first_seen.as_ref().map(|r| r.id.as_str()), Some("n1"));
        assert_eq!(f.runs_seen, 2);
        assert!(f.open);

        // A gate branch compared with main twice: its finding is new both times
        // (main never had it), the second time by the run's mark, not its span.
        for (id, n) in [("p1", 4), ("p2", 5)] {
            let mut gate = night(id, n, &[P("/a", "/a", &[])], &[("/a", WARN, "gate")]);
            gate.branch = Some("pr".into());
            record(&store, &gate, &Baseline::Branch("main".into()))
                .await
                .unwrap();
        }
        let pr = suite_trend(&store, "shop", Some("pr"), Window::FILE)
            .await
            .unwrap()
            .unwrap();
        let came: Vec<(&str, Vec<Option<State>>)> = pr
            .changes
            .iter()
            .map(|c| (c.run.id.as_str(), c.new.iter().map(|x| x.state).collect()))
            .collect();
        assert_eq!(
            came,
            [
                ("p2", vec![Some(State::New)]),
                ("p1", vec![Some(State::New)])
            ]
        );
        assert_eq!(pr.branches, ["main", "pr"]);
        // The default branch is now the latest run's.
        let latest = suite_trend(&store, "shop", None, Window::FILE)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(latest.branch.as_deref(), Some("pr"));

        let all = suites(&store).await.unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!((all[0].runs, all[0].latest.id.as_str()), (5, "p2"));
    }
);

/// Every link of `html` is in-page and its target is there.
fn every_link_has_its_target(html: &str) {
    let targets: Vec<&str> = html
        .split("href=\"")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .collect();
    assert!(!targets.is_empty());
    for href in targets {
        let id = href.strip_prefix('#').unwrap_or_else(|| panic!("{href}"));
        assert!(html.contains(&format!("id=\"{id}\"")), "{href}");
    }
}

/// How often `needle` occurs in `hay`.
fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

both!(
    trend_html_has_the_points_and_rows_and_escapes,
    |store: Store| async move {
        three_nights(&store).await;
        let s = super::checks::store_text(&store);
        let html = history(&["trend", "--history", &s, "--suite", "shop"])
            .await
            .unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"), "{}", &html[..80]);
        assert_eq!(count(&html, "<circle class=\"point compliance\""), 3);
        assert_eq!(count(&html, "<circle class=\"point accepted\""), 3);
        assert_eq!(
            count(&html, "<g class=\"bar\""),
            6,
            "errors and warnings, per run"
        );
        assert_eq!(count(&html, "<tr class=\"strip-row\""), 5);
        assert_eq!(count(&html, "<rect class=\"cell "), 15);
        assert_eq!(count(&html, "<rect class=\"cell fail\""), 8);
        assert_eq!(count(&html, "<tr class=\"open-finding\""), 3);
        assert_eq!(count(&html, "<tr class=\"run-row\""), 3);
        assert_eq!(
            count(&html, "class=\"label-run\""),
            2 * 4,
            "two labels on four charts"
        );
        assert_eq!(
            count(&html, "class=\"version-change\""),
            4,
            "one change on four charts"
        );
        assert_eq!(count(&html, "<li class=\"change\""), 3 + 2 + 1 + 1 + 1);
        assert!(html.contains("no longer crawled"));
        // What a reader sees first: worse than the run before, 25% of 4 pages.
        let head = &html[..html.find("<svg").unwrap()];
        assert!(head.contains("Worse") && head.contains("25.0%"), "{head}");
        // The planted scripts stay text; nothing loads from anywhere.
        assert_eq!(count(&html, "<script"), 0, "no script at all");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("&lt;script&gt;alert('message')&lt;/script&gt;"));
        for outside in ["src=", "http://", "https://", "@import", "url("] {
            assert!(!html.contains(outside), "{outside}");
        }
        every_link_has_its_target(&html);
        // The open findings, oldest first, in the page too.
        let first = html.find("<tr class=\"open-finding\"").unwrap();
        let rest = &html[first..];
        assert!(rest.find("/a").unwrap() < rest.find("&lt;script&gt;alert(1)").unwrap());

        // The same views as JSON.
        let json = history(&["trend", "--history", &s, "--format", "json"])
            .await
            .unwrap();
        let json: serde_json::Value = serde_json::from_str(&json).unwrap();
        let trend = &json["trends"][0];
        assert_eq!(trend["runs"].as_array().unwrap().len(), 3);
        assert_eq!(trend["strip"]["rows"][3]["cells"][1], "not-audited");
        assert_eq!(trend["open"]["total"], 3);

        // --runs cuts the series; every suite without --suite; unknown suite refused.
        let two = history(&["trend", "--history", &s, "--runs", "2"])
            .await
            .unwrap();
        assert_eq!(count(&two, "<circle class=\"point compliance\""), 2);
        assert_eq!(
            count(&two, "<tr class=\"suite-row\""),
            0,
            "one suite: no index"
        );
        let e = history(&["trend", "--history", &s, "--suite", "nope"])
            .await
            .unwrap_err();
        assert_eq!(e.exit_code().code(), 2, "{e}");

        // A second suite: the index and both sections.
        let mut other = night("o1", 4, &[P("/z", "/z", &[])], &[]);
        other.suite = "blog".into();
        other.branch = None;
        record(&store, &other, &Baseline::Last).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("trend.html");
        history(&["trend", "--history", &s, "--output", out.to_str().unwrap()])
            .await
            .unwrap();
        let both = std::fs::read_to_string(&out).unwrap();
        assert_eq!(count(&both, "<tr class=\"suite-row\""), 2);
        assert_eq!(count(&both, "<section class=\"suite\""), 2);
        every_link_has_its_target(&both);
        // --runs 1 with both suites: every run row the index links is there.
        let one = history(&["trend", "--history", &s, "--runs", "1"])
            .await
            .unwrap();
        every_link_has_its_target(&one);
        // --branch main: the blog suite (no branch) has no section and no link.
        let main = history(&["trend", "--history", &s, "--branch", "main"])
            .await
            .unwrap();
        assert_eq!(count(&main, "<section class=\"suite\""), 1);
        every_link_has_its_target(&main);
    }
);

#[tokio::test]
async fn trend_never_changes_a_store_and_refuses_a_newer_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let s = path.to_str().unwrap();
    let store = Store::parse(s);
    three_nights(&store).await;
    let before = std::fs::read(&path).unwrap();
    history(&["trend", "--history", s]).await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), before);
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("UPDATE history_meta SET value = '99' WHERE key = 'schema_version'")
        .unwrap();
    let e = history(&["trend", "--history", s]).await.unwrap_err();
    assert!(e.to_string().contains("newer insider-audit"), "{e}");
}
