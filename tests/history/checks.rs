//! The store's edges on both engines: schema versions, foreign databases,
//! read-only commands, backfill from reports, export and redaction.

use super::*;
use clap::Parser;
use insider_audit::history::cli::{execute, HistoryCommand};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: HistoryCommand,
}

/// Runs `insider-audit history ARGS...` in-process: its stdout, or the error.
pub(super) async fn history(args: &[&str]) -> Result<String, insider_audit::history::HistoryError> {
    let cli = Cli::try_parse_from(std::iter::once("history").chain(args.iter().copied()))
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    let mut out = Vec::new();
    execute(cli.command, &mut out).await?;
    Ok(String::from_utf8(out).unwrap())
}

pub(super) fn store_text(store: &Store) -> String {
    match store {
        Store::Sqlite(p) => p.display().to_string(),
        Store::Postgres(url) => url.clone(),
    }
}

async fn doctor(store: &Store, sql: &str) {
    match store {
        Store::Sqlite(p) => rusqlite::Connection::open(p)
            .unwrap()
            .execute_batch(sql)
            .unwrap(),
        Store::Postgres(url) => pg::execute(url, sql).await,
    }
}

/// A JSON report of one page on `origin`, with the `message` given.
pub(super) fn report(id: &str, day: u32, origin: &str, message: &str) -> String {
    serde_json::json!({
        "schema_version": 1,
        "tool": {"name": "insider-audit", "version": "0.1.0"},
        "run": {"id": id, "suite": "demo", "shard": null},
        "started_at": format!("2026-11-{day:02}T02:00:00.000Z"),
        "duration_ms": 1000,
        "summary": {"pages": 1, "passed": 0, "failed": 1, "errors": 2, "warnings": 0},
        "pages": [{
            "url": format!("{origin}/cart?step=1"), "final_url": format!("{origin}/cart?step=1"),
            "scenario": "logged-out", "logged_in": false, "status": 200, "load_ms": 10,
            "user": null, "pushes": [],
            "findings": [
                {"rule": "attr-format", "severity": "error", "attribute": "email", "message": message},
                {"rule": "attr-format", "severity": "error", "attribute": "email", "message": message,
                 "view": format!("{origin}/cart#review")}
            ]
        }],
        "settings": {"expired": [], "unused": []}
    })
    .to_string()
}

both!(
    reports_on_other_hosts_keep_their_fingerprints,
    |store: Store| async move {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.json");
        let b = dir.path().join("b.json");
        std::fs::write(&a, report("r1", 1, "http://127.0.0.1:41234", "bad")).unwrap();
        std::fs::write(&b, report("r2", 2, "https://staging.shop.test:8443", "bad")).unwrap();
        let s = store_text(&store);
        let out = history(&[
            "record",
            "--history",
            &s,
            b.to_str().unwrap(),
            a.to_str().unwrap(),
        ])
        .await
        .unwrap();
        assert!(
            out.contains("recorded r1") && out.contains("recorded r2"),
            "{out}"
        );
        let shown = query::show(&store, "r2").await.unwrap();
        assert_eq!(shown.findings.len(), 2);
        assert!(
            shown
                .findings
                .iter()
                .all(|f| f.history.state == State::Open),
            "{shown:?}"
        );
        assert_eq!(shown.pages[0].path, "/cart?step=1");
        // Recording a report twice is refused.
        let again = history(&["record", "--history", &s, a.to_str().unwrap()]).await;
        assert_eq!(again.unwrap_err().exit_code().code(), 2);
        let listed = history(&["list", "--history", &s]).await.unwrap();
        assert!(
            listed.find("r2").unwrap() < listed.find("r1").unwrap(),
            "{listed}"
        );
    }
);

both!(
    a_corrupt_report_is_named_and_nothing_recorded,
    |store: Store| async move {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.json");
        let bad = dir.path().join("bad.json");
        std::fs::write(&good, report("r1", 1, "http://h", "bad")).unwrap();
        std::fs::write(&bad, "{\"schema_version\": 1, \"pages\": 7}").unwrap();
        let s = store_text(&store);
        let e = history(&[
            "record",
            "--history",
            &s,
            good.to_str().unwrap(),
            bad.to_str().unwrap(),
        ])
        .await
        .unwrap_err();
        assert_eq!(e.exit_code().code(), 2);
        assert!(e.to_string().contains("bad.json"), "{e}");
        assert!(
            e.to_string().contains("not an insider-audit JSON report"),
            "{e}"
        );
        assert!(query::show(&store, "r1").await.is_err(), "nothing recorded");
    }
);

both!(a_newer_schema_is_refused, |store: Store| async move {
    record(
        &store,
        &night("n1", 1, &[P("/a", "/a", &[])], &[]),
        &Baseline::Last,
    )
    .await
    .unwrap();
    doctor(
        &store,
        "UPDATE history_meta SET value = '99' WHERE key = 'schema_version'",
    )
    .await;
    let e = query::list(&store, None, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("newer insider-audit") && e.contains("99"), "{e}");
    let e = record(
        &store,
        &night("n2", 2, &[P("/a", "/a", &[])], &[]),
        &Baseline::Last,
    )
    .await
    .unwrap_err();
    assert_eq!(e.exit_code().code(), 3, "{e}");
});

both!(a_foreign_database_is_refused, |store: Store| async move {
    doctor(&store, "CREATE TABLE orders (id INTEGER)").await;
    let e = record(
        &store,
        &night("n1", 1, &[P("/a", "/a", &[])], &[]),
        &Baseline::Last,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("not an insider-audit history store") && e.contains("orders"),
        "{e}"
    );
});

both!(export_csv_is_formula_safe, |store: Store| async move {
    let mut run = night("n1", 1, &[P("/a", "/a", &[])], &[("/a", FMT, "email")]);
    run.findings[0].message = "=HYPERLINK(\"http://evil\",\"x\")".into();
    run.label = Some("@label".into());
    record(&store, &run, &Baseline::Last).await.unwrap();
    let s = store_text(&store);
    let csv = history(&["export", "--history", &s, "--format", "csv"])
        .await
        .unwrap();
    assert!(csv.contains("'=HYPERLINK"), "{csv}");
    let runs = history(&[
        "export",
        "--history",
        &s,
        "--format",
        "csv",
        "--table",
        "runs",
    ])
    .await
    .unwrap();
    assert!(runs.contains(",'@label,"), "{runs}");
    for line in csv.lines().chain(runs.lines()) {
        for cell in line.split(',') {
            assert!(!cell.starts_with(['=', '+', '@']), "{line}");
        }
    }
    let jsonl = history(&["export", "--history", &s, "--format", "jsonl"])
        .await
        .unwrap();
    let kinds: BTreeSet<String> = jsonl
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["finding", "page", "run"]
    );
});

#[tokio::test]
async fn read_only_commands_never_change_a_sqlite_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let s = path.to_str().unwrap();
    assert!(history(&["list", "--history", s]).await.is_err());
    assert!(!path.exists(), "a reader does not create the store");
    let store = Store::parse(s);
    record(
        &store,
        &night("n1", 1, &[P("/a", "/a", &[])], &[("/a", FMT, "")]),
        &Baseline::Last,
    )
    .await
    .unwrap();
    let before = std::fs::read(&path).unwrap();
    let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
    history(&["list", "--history", s]).await.unwrap();
    history(&["show", "--history", s, "n1"]).await.unwrap();
    history(&["export", "--history", s, "--format", "jsonl"])
        .await
        .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        modified
    );
    // A file that is no database at all.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, "this is a text file, not a database, at all; really").unwrap();
    let e = query::list(&Store::parse(junk.to_str().unwrap()), None, None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("junk.db"), "{e}");
}

#[tokio::test]
async fn passwords_never_appear_in_errors() {
    let url = "postgres://auditor:Sup3rS3cret@127.0.0.1:1/history";
    let store = Store::parse(url);
    assert_eq!(store.shown(), "postgres://auditor:***@127.0.0.1:1/history");
    let e = query::list(&store, None, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        !e.contains("Sup3rS3cret") && e.contains("auditor:***@"),
        "{e}"
    );
    let e = history(&[
        "list",
        "--history",
        "postgresql://u@127.0.0.1:1/db?password=An0therS3cret",
    ])
    .await
    .unwrap_err()
    .to_string();
    assert!(!e.contains("An0therS3cret"), "{e}");
    assert!(e.contains("password=***"), "{e}");
}

both!(
    the_shipped_demo_history_records_as_the_readme_says,
    |store: Store| async move {
        let nights = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/demo-history");
        let s = store_text(&store);
        history(&["record", "--history", &s, nights]).await.unwrap();
        let runs = query::list(&store, Some("demo"), None).await.unwrap();
        assert_eq!(runs.len(), 14);
        // Newest first; labels and the branch come from the reports' `run`.
        let by_night = |n: usize| &runs[14 - n];
        assert_eq!(by_night(5).label.as_deref(), Some("release 4.1"));
        assert_eq!(by_night(8).label.as_deref(), Some("release 4.2"));
        assert!(runs.iter().all(|r| r.branch.as_deref() == Some("main")));
        assert_ne!(by_night(8).rules_version, by_night(9).rules_version);
        // The story: a page out of the crawl, a regression, a new rule's finding.
        assert_eq!(by_night(6).not_checked, 1);
        assert_eq!(by_night(8).reopened, 1);
        assert_eq!(by_night(9).new, 1);
        // The last night is the real demo's findings.
        assert_eq!((by_night(14).errors, by_night(14).warnings), (25, 12));
        assert!(by_night(14).errors < by_night(1).errors);
    }
);
