//! Benchmark data for the history store (scripts/bench-history.sh): a
//! synthetic year of nightly runs of a 5,000-page site with 20,000 findings,
//! fixed seed. Each night 5% of the findings are fixed and as many new ones
//! appear, 1% of the findings come back (reopened; as many more are fixed so
//! the count stays 20,000), and 2% of the pages are not audited.
//!
//! `bench_history STORE NIGHTS` records the nights and prints one JSON line
//! per measure: each night's recording time, the store's size, the bytes an
//! unchanged night adds (SQLite), `history list` and `history show` times.

use chrono::{TimeZone, Utc};
use insider_audit::history::query;
use insider_audit::history::{
    fingerprints, record, Baseline, FindingInput, PageInput, PageVerdict, RunInput, RunSummary,
    Store,
};
use insider_audit::rules::{Rule, Severity};
use std::collections::{BTreeSet, HashSet};
use std::time::Instant;

const PAGES: usize = 5_000;
const FINDINGS: usize = 20_000;

/// xorshift64*: a fixed sequence without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A finding of the synthetic site: page, rule, attribute number.
type Defect = (usize, usize, u32);

struct Site {
    rng: Rng,
    open: Vec<Defect>,
    fixed: Vec<Defect>,
    next_attr: u32,
}

impl Site {
    fn new() -> Self {
        let mut site = Site {
            rng: Rng(0x5eed_1234_abcd_ef01),
            open: Vec::new(),
            fixed: Vec::new(),
            next_attr: 0,
        };
        while site.open.len() < FINDINGS {
            let d = site.fresh();
            site.open.push(d);
        }
        site
    }

    fn fresh(&mut self) -> Defect {
        self.next_attr += 1;
        let rules = Rule::ALL.len() - 1; // page-unreachable is not planted
        (self.rng.below(PAGES), self.rng.below(rules), self.next_attr)
    }

    /// The next night's changes: findings fixed earlier come back, others
    /// are fixed (as many more as came back), new ones appear.
    fn churn(&mut self) {
        let (fixed, new, reopened) = (FINDINGS * 5 / 100, FINDINGS * 5 / 100, FINDINGS / 100);
        let reopen = reopened.min(self.fixed.len());
        let back: Vec<Defect> = (0..reopen)
            .map(|_| {
                let i = self.rng.below(self.fixed.len());
                self.fixed.swap_remove(i)
            })
            .collect();
        for _ in 0..fixed + reopen {
            let i = self.rng.below(self.open.len());
            let d = self.open.swap_remove(i);
            self.fixed.push(d);
        }
        self.open.extend(back);
        for _ in 0..new {
            let d = self.fresh();
            self.open.push(d);
        }
    }

    /// The run of night `n`, with `skip` of every 100 pages not audited.
    fn run(&mut self, n: u32, skip: usize) -> RunInput {
        let skipped: HashSet<usize> = (0..PAGES * skip / 100)
            .map(|_| self.rng.below(PAGES))
            .collect();
        let mut defects: Vec<&Defect> = self
            .open
            .iter()
            .filter(|d| !skipped.contains(&d.0))
            .collect();
        defects.sort();
        let paths: Vec<String> = (0..PAGES)
            .map(|p| format!("/products/{p}?ref=nav"))
            .collect();
        let attrs: Vec<String> = defects.iter().map(|d| format!("custom_{}", d.2)).collect();
        let keys = fingerprints(defects.iter().zip(&attrs).map(|(d, a)| {
            (
                "logged-in",
                paths[d.0].as_str(),
                "",
                Rule::ALL[d.1],
                a.as_str(),
            )
        }));
        let findings: Vec<FindingInput> = keys
            .into_iter()
            .map(|key| FindingInput {
                severity: key.rule.severity(),
                group: key.rule.group(),
                message: format!(
                    "{} on {}: the value does not have the expected form",
                    key.rule, key.attribute
                ),
                accepted: false,
                accept_expired: false,
                key,
            })
            .collect();
        let mut counts = vec![(0u32, 0u32); PAGES];
        for f in &findings {
            let p: usize = f.key.path[10..].split('?').next().unwrap().parse().unwrap();
            if f.severity == Severity::Error {
                counts[p].0 += 1;
            } else {
                counts[p].1 += 1;
            }
        }
        let judged: BTreeSet<Rule> = Rule::ALL.iter().copied().collect();
        let pages: Vec<PageInput> = (0..PAGES)
            .filter(|p| !skipped.contains(p))
            .map(|p| PageInput {
                scenario: "logged-in".into(),
                path: paths[p].clone(),
                final_path: Some(paths[p].clone()),
                verdict: match counts[p] {
                    (0, 0) => PageVerdict::Pass,
                    (0, _) => PageVerdict::Warn,
                    _ => PageVerdict::Fail,
                },
                errors: counts[p].0,
                warnings: counts[p].1,
                accepted: 0,
                judged: judged.clone(),
            })
            .collect();
        let started =
            Utc.with_ymd_and_hms(2026, 1, 1, 2, 0, 0).unwrap() + chrono::Duration::days(n.into());
        RunInput {
            id: format!("night-{n:03}"),
            suite: "synthetic".into(),
            shard: None,
            branch: Some("main".into()),
            label: None,
            started_at: started,
            ended_at: started + chrono::Duration::minutes(40),
            tool_version: "0.1.0".into(),
            rules_version: "0.1.0+bench".into(),
            commit: None,
            ci_job_url: None,
            exit_code: Some(1),
            complete: true,
            summary: RunSummary {
                pages: pages.len() as u64,
                passed: pages.iter().filter(|p| p.errors == 0).count() as u64,
                failed: pages.iter().filter(|p| p.errors > 0).count() as u64,
                errors: findings
                    .iter()
                    .filter(|f| f.severity == Severity::Error)
                    .count() as u64,
                warnings: findings
                    .iter()
                    .filter(|f| f.severity == Severity::Warning)
                    .count() as u64,
                ..RunSummary::default()
            },
            pages,
            findings,
        }
    }
}

fn size(store: &Store) -> Option<u64> {
    match store {
        Store::Sqlite(p) => std::fs::metadata(p).ok().map(|m| m.len()),
        Store::Postgres(_) => None,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or_default()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let store = Store::parse(args.get(1).expect("usage: bench_history STORE NIGHTS"));
    let nights: u32 = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(365);
    let mut site = Site::new();
    let mut times = Vec::new();
    for n in 0..nights {
        if n > 0 {
            site.churn();
        }
        let run = site.run(n, 2);
        let t = Instant::now();
        let r = record(&store, &run, &Baseline::Last).await.expect("record");
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        times.push(ms);
        let new = r
            .findings
            .iter()
            .filter(|h| h.state != insider_audit::history::State::Open)
            .count();
        println!(
            "{{\"night\": {n}, \"record_ms\": {ms:.0}, \"findings\": {}, \"new_or_reopened\": {new}, \"fixed\": {}, \"not_checked\": {}, \"bytes\": {}}}",
            run.findings.len(),
            r.fixed.len(),
            r.not_checked.len(),
            size(&store).unwrap_or(0)
        );
    }
    // Two nights with every page audited and nothing changed: the second adds only its run.
    let steady = site.run(nights, 0);
    record(&store, &steady, &Baseline::Last)
        .await
        .expect("record");
    let before = size(&store);
    let mut same = site.run(nights + 1, 0);
    same.id = format!("night-{:03}-unchanged", nights + 1);
    let t = Instant::now();
    record(&store, &same, &Baseline::Last)
        .await
        .expect("record");
    let unchanged_ms = t.elapsed().as_secs_f64() * 1000.0;
    let added = size(&store).zip(before).map(|(a, b)| a as i64 - b as i64);
    let mut list = Vec::new();
    let mut show = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let runs = query::list(&store, None, None).await.expect("list");
        list.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(runs.len() as u32 >= nights);
        let t = Instant::now();
        let detail = query::show(&store, &same.id).await.expect("show");
        show.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(detail.findings.len(), same.findings.len());
    }
    println!(
        "{{\"summary\": true, \"nights\": {nights}, \"record_ms_median\": {:.0}, \"record_ms_median_last_30\": {:.0}, \"unchanged_record_ms\": {unchanged_ms:.0}, \"bytes\": {}, \"unchanged_night_bytes\": {}, \"list_ms_median\": {:.1}, \"show_ms_median\": {:.1}}}",
        median(times.clone()),
        median(times[times.len().saturating_sub(30)..].to_vec()),
        size(&store).map_or("null".into(), |b| b.to_string()),
        added.map_or("null".into(), |b| b.to_string()),
        median(list),
        median(show)
    );
}
