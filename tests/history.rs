//! The history store against both real engines: every state test runs on a
//! SQLite file in a temporary directory and on a PostgreSQL database of a
//! real server (tests/history/pg.rs).
// The harness starts and stops a throwaway PostgreSQL cluster (initdb, pg_ctl)
// and joins the threads of concurrent recordings: blocking waits in a test
// binary, never on the tool's runtime.
#![allow(clippy::disallowed_methods)]

#[path = "history/pg.rs"]
mod pg;

use chrono::{DateTime, TimeZone, Utc};
use insider_audit::history::query::{self, Keep};
use insider_audit::history::{
    fingerprints, record, Baseline, FindingInput, PageInput, PageVerdict, RunInput, RunSummary,
    State, Store,
};
use insider_audit::rules::{Rule, Severity};
use std::collections::BTreeSet;

/// A store of each engine, fresh for one test (the SQLite file's directory
/// lives as long as the returned guard).
enum Engine {
    Sqlite,
    Postgres,
}

async fn store(engine: Engine) -> (Store, Option<tempfile::TempDir>) {
    match engine {
        Engine::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            (
                Store::parse(dir.path().join("history.db").to_str().unwrap()),
                Some(dir),
            )
        }
        Engine::Postgres => (Store::parse(&pg::database().await), None),
    }
}

/// One test body on both engines: `both!(name, |store| async move { ... })`.
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let (store, _dir) = store(Engine::Sqlite).await;
                ($body)(store).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let (store, _dir) = store(Engine::Postgres).await;
                ($body)(store).await;
            }
        }
    };
}

fn at(n: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 2, 0, 0).unwrap() + chrono::Duration::days(n.into())
}

/// A page: path, where it ended, and the rules turned off.
struct P<'a>(&'a str, &'a str, &'a [Rule]);

/// A run `id` (the `n`th night) auditing `pages` with `findings` (path, rule, attribute).
fn night(id: &str, n: u32, pages: &[P], findings: &[(&str, Rule, &str)]) -> RunInput {
    let keys = fingerprints(
        findings
            .iter()
            .map(|(p, r, a)| ("logged-in", *p, "", *r, *a)),
    );
    let findings: Vec<FindingInput> = keys
        .into_iter()
        .map(|key| FindingInput {
            severity: key.rule.severity(),
            group: key.rule.group(),
            message: format!("{} broken", key.rule),
            accepted: false,
            accept_expired: false,
            key,
        })
        .collect();
    let pages = pages
        .iter()
        .map(|P(path, landed, off)| {
            let mine: Vec<&FindingInput> =
                findings.iter().filter(|f| f.key.path == *path).collect();
            let errors = mine
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .count() as u32;
            let warnings = mine.len() as u32 - errors;
            PageInput {
                scenario: "logged-in".into(),
                path: path.to_string(),
                final_path: Some(landed.to_string()),
                verdict: if errors > 0 {
                    PageVerdict::Fail
                } else if warnings > 0 {
                    PageVerdict::Warn
                } else {
                    PageVerdict::Pass
                },
                errors,
                warnings,
                accepted: 0,
                judged: Rule::ALL
                    .iter()
                    .copied()
                    .filter(|r| !off.contains(r))
                    .collect::<BTreeSet<_>>(),
            }
        })
        .collect::<Vec<_>>();
    RunInput {
        id: id.into(),
        suite: "shop".into(),
        shard: None,
        branch: Some("main".into()),
        label: None,
        started_at: at(n),
        ended_at: at(n) + chrono::Duration::minutes(5),
        tool_version: "0.1.0".into(),
        rules_version: "0.1.0+abc".into(),
        commit: None,
        ci_job_url: None,
        exit_code: Some(1),
        complete: true,
        summary: RunSummary {
            pages: pages.len() as u64,
            errors: findings.len() as u64,
            ..RunSummary::default()
        },
        pages,
        findings,
    }
}

/// The states of a recorded run's findings, by (path, rule).
fn states(run: &RunInput, r: &insider_audit::history::Recorded) -> Vec<(String, Rule, State, u64)> {
    run.findings
        .iter()
        .zip(&r.findings)
        .map(|(f, h)| (f.key.path.clone(), f.key.rule, h.state, h.runs_seen))
        .collect()
}

fn paths(list: &[insider_audit::history::GoneFinding]) -> Vec<&str> {
    list.iter().map(|g| g.key.path.as_str()).collect()
}

const FMT: Rule = Rule::AttrFormat;
const GDPR: Rule = Rule::GdprMissing;

both!(fixed_new_and_reopened, |store: Store| async move {
    let pages = [P("/a", "/a", &[]), P("/b", "/b", &[])];
    let one = night("n1", 1, &pages, &[("/a", FMT, "email"), ("/b", GDPR, "")]);
    let r1 = record(&store, &one, &Baseline::Last).await.unwrap();
    assert_eq!(r1.baseline, None);
    assert!(r1
        .findings
        .iter()
        .all(|h| h.state == State::New && h.runs_seen == 1));

    let two = night(
        "n2",
        2,
        &pages,
        &[("/b", GDPR, ""), ("/b", FMT, "phone_number")],
    );
    let r2 = record(&store, &two, &Baseline::Last).await.unwrap();
    assert_eq!(r2.baseline.as_deref(), Some("n1"));
    assert_eq!(
        states(&two, &r2),
        [
            ("/b".into(), GDPR, State::Open, 2),
            ("/b".into(), FMT, State::New, 1)
        ]
    );
    assert_eq!(paths(&r2.fixed), ["/a"]);
    assert!(r2.not_checked.is_empty());

    let three = night("n3", 3, &pages, &[("/a", FMT, "email"), ("/b", GDPR, "")]);
    let r3 = record(&store, &three, &Baseline::Last).await.unwrap();
    assert_eq!(
        states(&three, &r3),
        [
            ("/a".into(), FMT, State::Reopened, 2),
            ("/b".into(), GDPR, State::Open, 3)
        ]
    );
    assert_eq!(r3.findings[0].first_seen_run, "n1");
    assert_eq!(r3.findings[0].first_seen_at, at(1));
    assert_eq!(paths(&r3.fixed), ["/b"]);

    // What show says of each run is what recording said.
    for (run, rec) in [(&one, &r1), (&two, &r2), (&three, &r3)] {
        let shown = query::show(&store, &run.id).await.unwrap();
        for (f, h) in run.findings.iter().zip(&rec.findings) {
            let s = shown
                .findings
                .iter()
                .find(|s| s.key == f.key)
                .expect("shown");
            assert_eq!(&s.history, h, "{} {:?}", run.id, f.key);
        }
        assert_eq!(shown.fixed.len(), rec.fixed.len());
    }
    let runs = query::list(&store, None, None).await.unwrap();
    let ids: Vec<&str> = runs.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["n3", "n2", "n1"]);
    assert_eq!((runs[1].new, runs[1].fixed), (1, 1));
});

both!(
    a_page_that_dropped_out_is_not_checked,
    |store: Store| async move {
        let f = [("/a", FMT, "email")];
        record(
            &store,
            &night("n1", 1, &[P("/a", "/a", &[]), P("/b", "/b", &[])], &f),
            &Baseline::Last,
        )
        .await
        .unwrap();
        let r2 = record(
            &store,
            &night("n2", 2, &[P("/b", "/b", &[])], &[]),
            &Baseline::Last,
        )
        .await
        .unwrap();
        assert!(r2.fixed.is_empty());
        assert_eq!(paths(&r2.not_checked), ["/a"]);
        // Back in the crawl with the same defect: open (the last run that audited it had it).
        let three = night("n3", 3, &[P("/a", "/a", &[]), P("/b", "/b", &[])], &f);
        let r3 = record(&store, &three, &Baseline::Last).await.unwrap();
        assert_eq!(states(&three, &r3), [("/a".into(), FMT, State::Open, 2)]);
        let shown = query::show(&store, "n3").await.unwrap();
        assert_eq!(shown.findings[0].history, r3.findings[0]);
    }
);

both!(
    a_page_redirected_to_sign_in_is_not_checked,
    |store: Store| async move {
        let f = [("/account", FMT, "email")];
        record(
            &store,
            &night("n1", 1, &[P("/account", "/account", &[])], &f),
            &Baseline::Last,
        )
        .await
        .unwrap();
        let r2 = record(
            &store,
            &night("n2", 2, &[P("/account", "/login", &[])], &[]),
            &Baseline::Last,
        )
        .await
        .unwrap();
        assert!(r2.fixed.is_empty());
        assert_eq!(paths(&r2.not_checked), ["/account"]);
    }
);

both!(
    a_rule_turned_off_is_not_checked,
    |store: Store| async move {
        let f = [("/a", FMT, "email"), ("/a", GDPR, "")];
        record(
            &store,
            &night("n1", 1, &[P("/a", "/a", &[])], &f),
            &Baseline::Last,
        )
        .await
        .unwrap();
        let two = night("n2", 2, &[P("/a", "/a", &[FMT])], &[]);
        let r2 = record(&store, &two, &Baseline::Last).await.unwrap();
        assert_eq!(
            r2.not_checked
                .iter()
                .map(|g| g.key.rule)
                .collect::<Vec<_>>(),
            [FMT]
        );
        assert_eq!(
            r2.fixed.iter().map(|g| g.key.rule).collect::<Vec<_>>(),
            [GDPR]
        );
        // Turned on again and still there: the last run that judged it had it.
        let three = night("n3", 3, &[P("/a", "/a", &[])], &[("/a", FMT, "email")]);
        let r3 = record(&store, &three, &Baseline::Last).await.unwrap();
        assert_eq!(states(&three, &r3), [("/a".into(), FMT, State::Open, 2)]);
    }
);

both!(baselines_and_identity, |store: Store| async move {
    let pages = [P("/a", "/a", &[])];
    let f = [("/a", FMT, "email")];
    assert!(
        !insider_audit::history::has_baseline(&store, "shop", Some("main"), &Baseline::Last)
            .await
            .unwrap()
    );
    record(&store, &night("main-1", 1, &pages, &[]), &Baseline::Last)
        .await
        .unwrap();
    assert!(
        insider_audit::history::has_baseline(&store, "shop", Some("main"), &Baseline::Last)
            .await
            .unwrap()
    );
    // A run id already held is refused.
    let again = record(&store, &night("main-1", 2, &pages, &[]), &Baseline::Last).await;
    assert!(
        matches!(again, Err(insider_audit::history::HistoryError::Usage(_))),
        "{again:?}"
    );
    // A gate on a branch compared with main fails again when re-run.
    for (id, n) in [("pr-1", 2), ("pr-2", 3)] {
        let mut gate = night(id, n, &pages, &f);
        gate.branch = Some("feature".into());
        let r = record(&store, &gate, &Baseline::Branch("main".into()))
            .await
            .unwrap();
        assert_eq!(r.baseline.as_deref(), Some("main-1"));
        assert_eq!(r.findings[0].state, State::New, "{id}");
        let shown = query::show(&store, id).await.unwrap();
        assert_eq!(shown.findings[0].history, r.findings[0], "{id}");
    }
    // An incomplete run is never a baseline.
    let mut partial = night("main-2", 4, &pages, &f);
    partial.complete = false;
    record(&store, &partial, &Baseline::Last).await.unwrap();
    let r = record(&store, &night("main-3", 5, &pages, &f), &Baseline::Last)
        .await
        .unwrap();
    assert_eq!(r.baseline.as_deref(), Some("main-1"));
    let bad = record(
        &store,
        &night("x", 6, &pages, &f),
        &Baseline::Run("main-2".into()),
    )
    .await;
    assert!(bad.is_err());
});

both!(
    a_failed_recording_leaves_the_store_as_it_was,
    |store: Store| async move {
        record(
            &store,
            &night("n1", 1, &[P("/a", "/a", &[])], &[]),
            &Baseline::Last,
        )
        .await
        .unwrap();
        let mut broken = night("n2", 2, &[P("/a", "/a", &[])], &[("/a", FMT, "")]);
        broken.suite = "another".into();
        broken.findings[0].key.path = "/not-audited".into();
        assert!(record(&store, &broken, &Baseline::Last).await.is_err());
        let runs = query::list(&store, None, None).await.unwrap();
        assert_eq!(runs.len(), 1);
        assert!(
            query::forget_suite(&store, "another").await.is_err(),
            "no trace of the suite"
        );
    }
);

both!(concurrent_recordings_both_land, |store: Store| async move {
    record(
        &store,
        &night("n0", 0, &[P("/a", "/a", &[])], &[]),
        &Baseline::Last,
    )
    .await
    .unwrap();
    let mut handles = Vec::new();
    for i in 1..=2u32 {
        let store = store.clone();
        handles.push(std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let run = night(
                &format!("c{i}"),
                i,
                &[P("/a", "/a", &[])],
                &[("/a", FMT, "email")],
            );
            rt.block_on(record(&store, &run, &Baseline::Last))
                .map(|r| r.findings[0].state)
        }));
    }
    let mut seen: Vec<State> = handles
        .into_iter()
        .map(|h| h.join().unwrap().unwrap())
        .collect();
    seen.sort_by_key(|s| s.word());
    // One recorded first (new), the other saw it (open).
    assert_eq!(seen, [State::New, State::Open]);
    assert_eq!(query::list(&store, None, None).await.unwrap().len(), 3);
});

both!(
    prune_keeps_the_states_of_kept_runs,
    |store: Store| async move {
        let pages = [P("/a", "/a", &[]), P("/b", "/b", &[]), P("/c", "/c", &[])];
        let nights: [&[(&str, Rule, &str)]; 6] = [
            &[("/a", FMT, "email"), ("/b", GDPR, "")],
            &[("/a", FMT, "email")],
            &[("/b", GDPR, ""), ("/c", FMT, "")],
            &[("/a", FMT, "email"), ("/b", GDPR, ""), ("/c", FMT, "")],
            &[("/a", FMT, "email"), ("/c", FMT, "")],
            &[("/a", FMT, "email"), ("/b", GDPR, "")],
        ];
        for (i, f) in nights.iter().enumerate() {
            let run = night(&format!("n{i}"), i as u32, &pages, f);
            record(&store, &run, &Baseline::Last).await.unwrap();
        }
        let mut before = Vec::new();
        for id in ["n3", "n4", "n5"] {
            before.push(query::show(&store, id).await.unwrap());
        }
        assert_eq!(query::prune(&store, None, Keep::Runs(3)).await.unwrap(), 3);
        for (i, id) in ["n3", "n4", "n5"].iter().enumerate() {
            let after = query::show(&store, id).await.unwrap();
            assert_eq!(after, before[i], "{id}");
        }
        assert!(query::show(&store, "n0").await.is_err());
        assert_eq!(query::list(&store, None, None).await.unwrap().len(), 3);
        // Recording goes on after a prune.
        let run = night("n6", 6, &pages, &[("/a", FMT, "email")]);
        let r = record(&store, &run, &Baseline::Last).await.unwrap();
        assert_eq!(r.findings[0].state, State::Open);
        assert_eq!(paths(&r.fixed), ["/b"]);
    }
);

both!(rename_and_forget, |store: Store| async move {
    let f = [("/a", FMT, "email")];
    record(
        &store,
        &night("n1", 1, &[P("/a", "/a", &[])], &f),
        &Baseline::Last,
    )
    .await
    .unwrap();
    query::rename_suite(&store, "shop", "Shop").await.unwrap();
    query::rename_scenario(&store, "Shop", "logged-in", "signed-in")
        .await
        .unwrap();
    let mut two = night("n2", 2, &[P("/a", "/a", &[])], &f);
    two.suite = "Shop".into();
    for p in &mut two.pages {
        p.scenario = "signed-in".into();
    }
    for x in &mut two.findings {
        x.key.scenario = "signed-in".into();
    }
    let r = record(&store, &two, &Baseline::Last).await.unwrap();
    assert_eq!(
        (r.findings[0].state, r.findings[0].runs_seen),
        (State::Open, 2)
    );
    query::forget_suite(&store, "Shop").await.unwrap();
    assert!(query::list(&store, None, None).await.unwrap().is_empty());
});

#[path = "history/checks.rs"]
mod checks;
#[path = "history/durability.rs"]
mod durability;
#[path = "history/tls.rs"]
mod tls;
#[path = "history/trend.rs"]
mod trend;
