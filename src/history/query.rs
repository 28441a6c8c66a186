//! The history commands as library functions: list and show read a store
//! (never changing it); prune, rename and forget change it under the write lock.

use super::db::{Conn, Value};
use super::model::{FindingKey, PageVerdict};
use super::record::{derived, rules_of, severity_of};
use super::states::{millis, FindingHistory, GoneFinding, State};
use super::{DbResult, HistoryError, Store};
use crate::rules::{Rule, Severity};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;

/// One recorded run, as `history list` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRow {
    /// Its id.
    pub id: String,
    /// Its suite.
    pub suite: String,
    /// Its branch, if it had one.
    pub branch: Option<String>,
    /// Its label.
    pub label: Option<String>,
    /// Its shard, for a shard's own run.
    pub shard: Option<String>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub ended_at: DateTime<Utc>,
    /// The tool version.
    pub tool: String,
    /// The rules version.
    pub rules_version: String,
    /// The commit.
    pub commit: Option<String>,
    /// The CI job URL.
    pub ci_job_url: Option<String>,
    /// Its exit code, if known.
    pub exit_code: Option<i64>,
    /// Whether it audited everything it meant to.
    pub complete: bool,
    /// The baseline as asked.
    pub baseline: Option<String>,
    /// The baseline run it was compared with.
    pub baseline_run: Option<String>,
    /// Pages audited.
    pub pages: i64,
    /// Pages passed.
    pub passed: i64,
    /// Pages failed.
    pub failed: i64,
    /// Error findings that count.
    pub errors: i64,
    /// Warning findings that count.
    pub warnings: i64,
    /// Accepted findings.
    pub accepted: i64,
    /// New findings.
    pub new: i64,
    /// Reopened findings.
    pub reopened: i64,
    /// Baseline findings fixed.
    pub fixed: i64,
    /// Baseline findings not checked.
    pub not_checked: i64,
}

const RUN_COLUMNS: &str = "r.id, s.name, b.name, r.label, r.shard, r.started_at, r.ended_at, r.tool, \
    r.rules_version, r.commit_sha, r.ci_url, r.exit_code, r.complete, r.baseline, r.baseline_run, \
    r.pages, r.passed, r.failed, r.errors, r.warnings, r.accepted, r.new_count, r.reopened, r.fixed, \
    r.not_checked, r.seq, r.branch_id, r.bseq, r.baseline_branch, r.baseline_bseq FROM runs r JOIN suites s ON s.id = r.suite_id \
    JOIN branches b ON b.id = r.branch_id";

fn run_row(r: &[Value]) -> RunRow {
    RunRow {
        id: r[0].text(),
        suite: r[1].text(),
        branch: r[2].opt_text().filter(|b| !b.is_empty()),
        label: r[3].opt_text(),
        shard: r[4].opt_text(),
        started_at: millis(r[5].int()),
        ended_at: millis(r[6].int()),
        tool: r[7].text(),
        rules_version: r[8].text(),
        commit: r[9].opt_text(),
        ci_job_url: r[10].opt_text(),
        exit_code: r[11].opt_int(),
        complete: r[12].int() != 0,
        baseline: r[13].opt_text(),
        baseline_run: r[14].opt_text(),
        pages: r[15].int(),
        passed: r[16].int(),
        failed: r[17].int(),
        errors: r[18].int(),
        warnings: r[19].int(),
        accepted: r[20].int(),
        new: r[21].int(),
        reopened: r[22].int(),
        fixed: r[23].int(),
        not_checked: r[24].int(),
    }
}

/// The runs of the store (of `suite`, if given), newest first, at most `limit`.
pub async fn list(
    store: &Store,
    suite: Option<&str>,
    limit: Option<u64>,
) -> Result<Vec<RunRow>, HistoryError> {
    let mut conn = store.open_read().await?;
    let limit = limit.map_or(String::new(), |n| format!(" LIMIT {n}"));
    let rows = match suite {
        Some(s) => {
            conn.query(
                &format!("SELECT {RUN_COLUMNS} WHERE s.name = $1 ORDER BY r.seq DESC{limit}"),
                &[s.into()],
            )
            .await
        }
        None => {
            conn.query(
                &format!("SELECT {RUN_COLUMNS} ORDER BY r.seq DESC{limit}"),
                &[],
            )
            .await
        }
    }
    .db(store)?;
    Ok(rows.iter().map(|r| run_row(r)).collect())
}

/// A page of a run, as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShownPage {
    /// The scenario.
    pub scenario: String,
    /// The path relative to the base URL.
    pub path: String,
    /// Where it ended.
    pub final_path: Option<String>,
    /// Its verdict.
    pub verdict: &'static str,
    /// Errors that count.
    pub errors: i64,
    /// Warnings that count.
    pub warnings: i64,
    /// Accepted findings.
    pub accepted: i64,
    /// The rules that judged it.
    pub judged: Vec<Rule>,
}

/// A finding of a run, with its state in that run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShownFinding {
    /// Its fingerprint.
    pub key: FindingKey,
    /// Its rule group (the table's column).
    pub group: String,
    /// Its severity.
    pub severity: Severity,
    /// Its message.
    pub message: String,
    /// Accepted in this run.
    pub accepted: bool,
    /// Its accept entry had expired.
    pub accept_expired: bool,
    /// Its state, first seen and runs seen in this run.
    pub history: FindingHistory,
}

/// One run with its pages and findings (`history show`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunDetail {
    /// The run.
    pub run: RunRow,
    /// Its pages.
    pub pages: Vec<ShownPage>,
    /// Its findings with their states.
    pub findings: Vec<ShownFinding>,
    /// The baseline's findings it fixed.
    pub fixed: Vec<GoneFinding>,
    /// The baseline's findings it did not check.
    pub not_checked: Vec<GoneFinding>,
}

/// Run `id` with its pages and findings and their states as recorded.
pub async fn show(store: &Store, id: &str) -> Result<RunDetail, HistoryError> {
    let mut conn = store.open_read().await?;
    conn.begin_read().await.db(store)?;
    let detail = show_in(&mut conn, store, id).await;
    conn.rollback().await;
    detail
}

async fn show_in(conn: &mut Conn, store: &Store, id: &str) -> Result<RunDetail, HistoryError> {
    let row = conn
        .one(
            &format!("SELECT {RUN_COLUMNS} WHERE r.id = $1"),
            &[id.into()],
        )
        .await
        .db(store)?
        .ok_or_else(|| HistoryError::Usage(format!("no run {id} in {}", store.shown())))?;
    let run = run_row(&row);
    let (seq, branch, bseq) = (row[25].clone(), row[26].clone(), row[27].int());
    let at = [branch, Value::Int(bseq)];
    let mut pages: Vec<ShownPage> = conn
        .query(
            "SELECT sc.name, p.path, ps.final_path, ps.unreachable, rs.rules \
             FROM page_spans ps JOIN pages p ON p.id = ps.page_id JOIN scenarios sc ON sc.id = p.scenario_id \
             JOIN rule_sets rs ON rs.id = ps.rule_set \
             WHERE ps.branch_id = $1 AND ps.first_bseq <= $2 AND (ps.last_bseq IS NULL OR ps.last_bseq >= $2)",
            &at,
        )
        .await
        .db(store)?
        .into_iter()
        .map(|r| ShownPage {
            scenario: r[0].text(),
            path: r[1].text(),
            final_path: r[2].opt_text(),
            verdict: if r[3].int() != 0 {
                PageVerdict::Unreachable.word()
            } else {
                PageVerdict::Pass.word()
            },
            errors: 0,
            warnings: 0,
            accepted: 0,
            judged: rules_of(&r[4].text()).into_iter().collect(),
        })
        .collect();
    pages.sort_by(|a, b| (&a.scenario, &a.path).cmp(&(&b.scenario, &b.path)));
    let marks: HashMap<i64, FindingHistory> = conn
        .query(
            "SELECT fp_id, state, first_seen_run, first_seen_at, runs_seen FROM finding_marks WHERE run_seq = $1",
            std::slice::from_ref(&seq),
        )
        .await
        .db(store)?
        .into_iter()
        .map(|r| {
            (
                r[0].int(),
                FindingHistory {
                    state: State::of_code(r[1].int()),
                    first_seen_run: r[2].text(),
                    first_seen_at: millis(r[3].int()),
                    runs_seen: r[4].int() as u64,
                },
            )
        })
        .collect();
    let mut findings = Vec::new();
    for r in conn
        .query(
            "SELECT s.fp_id, s.first_bseq, s.severity, s.accepted, s.message, s.start_state, \
             COALESCE(s.first_seen_run, fr.id), COALESCE(s.first_seen_at, fr.started_at), s.runs_seen, \
             sc.name, p.path, f.view, f.rule, f.attribute, f.ordinal, f.grp FROM finding_spans s \
             LEFT JOIN runs fr ON fr.branch_id = s.branch_id AND fr.bseq = s.first_bseq \
             JOIN fingerprints f ON f.id = s.fp_id \
             JOIN pages p ON p.id = f.page_id JOIN scenarios sc ON sc.id = p.scenario_id \
             WHERE s.branch_id = $1 AND s.first_bseq <= $2 AND (s.last_bseq IS NULL OR s.last_bseq >= $2)",
            &at,
        )
        .await
        .db(store)?
    {
        let Some(rule) = Rule::from_id(&r[12].text()) else {
            continue;
        };
        let history = marks.get(&r[0].int()).cloned().unwrap_or_else(|| {
            derived(bseq, r[1].int(), r[5].int(), r[6].text(), r[7].int(), r[8].int())
        });
        findings.push(ShownFinding {
            key: FindingKey {
                scenario: r[9].text(),
                path: r[10].text(),
                view: r[11].text(),
                rule,
                attribute: r[13].text(),
                ordinal: r[14].int() as u32,
            },
            group: r[15].text(),
            severity: severity_of(r[2].int()),
            message: r[4].text(),
            accepted: r[3].int() == 1,
            accept_expired: r[3].int() == 2,
            history,
        });
    }
    findings.sort_by(|a, b| a.key.cmp(&b.key));
    // A page's verdict and counts follow from its findings in the run.
    let mut counts: HashMap<(&str, &str), [i64; 3]> = HashMap::new();
    for f in &findings {
        let c = counts.entry((&f.key.scenario, &f.key.path)).or_default();
        let slot = match (f.accepted, f.severity) {
            (true, _) => 2,
            (false, Severity::Error) => 0,
            (false, Severity::Warning) => 1,
        };
        c[slot] += 1;
    }
    for p in &mut pages {
        let [errors, warnings, accepted] = counts
            .get(&(p.scenario.as_str(), p.path.as_str()))
            .copied()
            .unwrap_or_default();
        (p.errors, p.warnings, p.accepted) = (errors, warnings, accepted);
        if p.verdict != PageVerdict::Unreachable.word() {
            p.verdict = match (errors, warnings) {
                (0, 0) => PageVerdict::Pass.word(),
                (0, _) => PageVerdict::Warn.word(),
                _ => PageVerdict::Fail.word(),
            };
        }
    }
    let mut fixed = Vec::new();
    let mut not_checked = Vec::new();
    for r in conn
        .query(
            "SELECT g.fixed, b.severity, b.message, sc.name, p.path, f.view, f.rule, f.attribute, f.ordinal \
             FROM finding_gone g JOIN fingerprints f ON f.id = g.fp_id JOIN pages p ON p.id = f.page_id \
             JOIN scenarios sc ON sc.id = p.scenario_id LEFT JOIN finding_spans b ON b.fp_id = g.fp_id \
             AND b.branch_id = $2 AND b.first_bseq <= $3 AND (b.last_bseq IS NULL OR b.last_bseq >= $3) \
             WHERE g.run_seq = $1",
            &[seq.clone(), row[28].clone(), row[29].clone()],
        )
        .await
        .db(store)?
    {
        let Some(rule) = Rule::from_id(&r[6].text()) else {
            continue;
        };
        let gone = GoneFinding {
            key: FindingKey {
                scenario: r[3].text(),
                path: r[4].text(),
                view: r[5].text(),
                rule,
                attribute: r[7].text(),
                ordinal: r[8].int() as u32,
            },
            severity: severity_of(r[1].int()),
            message: r[2].text(),
        };
        if r[0].int() != 0 {
            fixed.push(gone);
        } else {
            not_checked.push(gone);
        }
    }
    fixed.sort_by(|a, b| a.key.cmp(&b.key));
    not_checked.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(RunDetail {
        run,
        pages,
        findings,
        fixed,
        not_checked,
    })
}

pub use super::maintain::{forget_suite, prune, rename_scenario, rename_suite, Keep};
