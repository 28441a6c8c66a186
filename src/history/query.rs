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

/// The columns of a run row ([`run_row`] reads them), then `r.seq` (25),
/// `r.branch_id` (26), `r.bseq` (27), `r.baseline_branch` (28) and
/// `r.baseline_bseq` (29); the statement goes on after the joins.
pub(crate) const RUN_COLUMNS: &str = "r.id, s.name, b.name, r.label, r.shard, r.started_at, r.ended_at, r.tool, \
    r.rules_version, r.commit_sha, r.ci_url, r.exit_code, r.complete, r.baseline, r.baseline_run, \
    r.pages, r.passed, r.failed, r.errors, r.warnings, r.accepted, r.new_count, r.reopened, r.fixed, \
    r.not_checked, r.seq, r.branch_id, r.bseq, r.baseline_branch, r.baseline_bseq FROM runs r JOIN suites s ON s.id = r.suite_id \
    JOIN branches b ON b.id = r.branch_id";

/// The run of a row selected with [`RUN_COLUMNS`].
pub(crate) fn run_row(r: &[Value]) -> RunRow {
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
    /// Its stable id (`pages.id`), for links.
    #[serde(skip)]
    pub(crate) id: i64,
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
    /// Its fingerprint's stable id (`fingerprints.id`), for links.
    #[serde(skip)]
    pub(crate) fp: i64,
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
    /// The fingerprint ids of `fixed` and `not_checked`, for links.
    #[serde(skip)]
    pub(crate) gone_ids: HashMap<FindingKey, i64>,
}

/// Run `id` with its pages and findings and their states as recorded.
pub async fn show(store: &Store, id: &str) -> Result<RunDetail, HistoryError> {
    let mut conn = store.open_read().await?;
    conn.begin_read().await.db(store)?;
    let detail = show_in(&mut conn, store, id).await;
    conn.rollback().await;
    detail?.ok_or_else(|| HistoryError::Usage(format!("no run {id} in {}", store.shown())))
}

/// Run `id` as [`show`] reads it, inside the caller's read; `None` when the
/// store has no such run.
pub(crate) async fn show_in(
    conn: &mut Conn,
    store: &Store,
    id: &str,
) -> Result<Option<RunDetail>, HistoryError> {
    let Some(row) = conn
        .one(
            &format!("SELECT {RUN_COLUMNS} WHERE r.id = $1"),
            &[id.into()],
        )
        .await
        .db(store)?
    else {
        return Ok(None);
    };
    let run = run_row(&row);
    let (seq, branch, bseq) = (row[25].clone(), row[26].clone(), row[27].int());
    let at = [branch, Value::Int(bseq)];
    let mut pages: Vec<ShownPage> = conn
        .query(
            "SELECT sc.name, p.path, ps.final_path, ps.unreachable, rs.rules, p.id \
             FROM page_spans ps JOIN pages p ON p.id = ps.page_id JOIN scenarios sc ON sc.id = p.scenario_id \
             JOIN rule_sets rs ON rs.id = ps.rule_set \
             WHERE ps.branch_id = $1 AND ps.first_bseq <= $2 AND (ps.last_bseq IS NULL OR ps.last_bseq >= $2)",
            &at,
        )
        .await
        .db(store)?
        .into_iter()
        .map(|r| ShownPage {
            id: r[5].int(),
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
    let joins = key_joins("s.fp_id");
    for r in conn
        .query(
            &format!("SELECT s.fp_id, s.first_bseq, s.severity, s.accepted, s.message, s.start_state, \
             COALESCE(s.first_seen_run, fr.id), COALESCE(s.first_seen_at, fr.started_at), s.runs_seen, \
             f.grp, {KEY_COLUMNS} FROM finding_spans s \
             LEFT JOIN runs fr ON fr.branch_id = s.branch_id AND fr.bseq = s.first_bseq \
             {joins} WHERE s.branch_id = $1 AND s.first_bseq <= $2 AND (s.last_bseq IS NULL OR s.last_bseq >= $2)"),
            &at,
        )
        .await
        .db(store)?
    {
        let Some(key) = key_of(&r, 10) else {
            continue;
        };
        let history = marks.get(&r[0].int()).cloned().unwrap_or_else(|| {
            derived(bseq, r[1].int(), r[5].int(), r[6].text(), r[7].int(), r[8].int())
        });
        findings.push(ShownFinding {
            fp: r[0].int(),
            key,
            group: r[9].text(),
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
    let mut gone_ids = HashMap::new();
    for (was_fixed, fp, gone) in gone_in(conn, store, &row, None).await? {
        gone_ids.insert(gone.key.clone(), fp);
        if was_fixed {
            fixed.push(gone);
        } else {
            not_checked.push(gone);
        }
    }
    fixed.sort_by(|a, b| a.key.cmp(&b.key));
    not_checked.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(Some(RunDetail {
        run,
        pages,
        findings,
        fixed,
        not_checked,
        gone_ids,
    }))
}

/// The columns of a finding's key, read by [`key_of`], from the joins of
/// [`key_joins`].
pub(crate) const KEY_COLUMNS: &str = "sc.name, p.path, f.view, f.rule, f.attribute, f.ordinal";

/// The joins from the fingerprint id column `fp` to [`KEY_COLUMNS`].
pub(crate) fn key_joins(fp: &str) -> String {
    format!(
        "JOIN fingerprints f ON f.id = {fp} JOIN pages p ON p.id = f.page_id \
         JOIN scenarios sc ON sc.id = p.scenario_id"
    )
}

/// The key of a row holding [`KEY_COLUMNS`] from column `at`; `None` for a
/// rule this build does not know.
pub(crate) fn key_of(r: &[Value], at: usize) -> Option<FindingKey> {
    Some(FindingKey {
        scenario: r[at].text(),
        path: r[at + 1].text(),
        view: r[at + 2].text(),
        rule: Rule::from_id(&r[at + 3].text())?,
        attribute: r[at + 4].text(),
        ordinal: r[at + 5].int() as u32,
    })
}

/// The baseline's findings that the run of `run` (a [`RUN_COLUMNS`] row) does
/// not have: whether fixed (else not checked), the fingerprint id and the
/// finding as the baseline had it; at most `limit` (fixed first).
pub(crate) async fn gone_in(
    conn: &mut Conn,
    store: &Store,
    run: &[Value],
    limit: Option<u64>,
) -> Result<Vec<(bool, i64, GoneFinding)>, HistoryError> {
    let limit = limit.map_or(String::new(), |n| {
        format!(" ORDER BY g.fixed DESC, sc.name, p.path, f.rule, f.attribute, f.ordinal LIMIT {n}")
    });
    let joins = key_joins("g.fp_id");
    let rows = conn
        .query(
            &format!(
                "SELECT g.fixed, b.severity, b.message, g.fp_id, {KEY_COLUMNS} FROM finding_gone g \
                 {joins} LEFT JOIN finding_spans b ON b.fp_id = g.fp_id \
                 AND b.branch_id = $2 AND b.first_bseq <= $3 AND (b.last_bseq IS NULL OR b.last_bseq >= $3) \
                 WHERE g.run_seq = $1{limit}"
            ),
            &[run[25].clone(), run[28].clone(), run[29].clone()],
        )
        .await
        .db(store)?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            let gone = GoneFinding {
                key: key_of(r, 4)?,
                severity: severity_of(r[1].int()),
                message: r[2].text(),
            };
            Some((r[0].int() != 0, r[3].int(), gone))
        })
        .collect())
}

pub use super::maintain::{forget_suite, prune, rename_scenario, rename_suite, Keep};
