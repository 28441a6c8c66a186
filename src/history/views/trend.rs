//! One suite's trend on one branch: per run compliance, errors and warnings
//! per rule group with accepted findings as their own series, new, reopened
//! and fixed; the pages × runs strip; the open findings, oldest first; and
//! what the latest runs found new and fixed.

use super::strip::{strip_in, Strip};
use super::{
    alive_from, alive_since, branch_at, compliance, hex_id, in_one_read, latest_runs, BranchAt,
    RunRef, Window,
};
use crate::history::db::{Conn, Value};
use crate::history::model::FindingKey;
use crate::history::query::{gone_in, key_joins, key_of, run_row, KEY_COLUMNS};
use crate::history::record::severity_of;
use crate::history::states::{millis, State};
use crate::history::{DbResult, HistoryError, Store};
use crate::rules::{Group, Severity};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;

/// Errors, warnings and accepted findings of one rule group in one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct GroupCounts {
    /// Error findings that count.
    pub errors: i64,
    /// Warning findings that count.
    pub warnings: i64,
    /// Accepted findings (a series of their own: accepting is not fixing).
    pub accepted: i64,
}

/// One run of the series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunPoint {
    /// Its id.
    pub id: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Its label.
    pub label: Option<String>,
    /// The tool version.
    pub tool: String,
    /// The rules version.
    pub rules_version: String,
    /// The tool differs from the run before (the first run of a window
    /// compares with the run before the window).
    pub tool_changed: bool,
    /// The rules version differs from the run before.
    pub rules_changed: bool,
    /// Whether it audited everything it meant to.
    pub complete: bool,
    /// Pages audited.
    pub pages: i64,
    /// Pages with no error that counts.
    pub passed: i64,
    /// `passed / pages`; `None` when no page was audited.
    pub compliance: Option<f64>,
    /// Errors that count, all groups.
    pub errors: i64,
    /// Warnings that count, all groups.
    pub warnings: i64,
    /// Accepted findings, all groups.
    pub accepted: i64,
    /// Per rule group, in the compliance table's column order ([`Group::ALL`]).
    pub groups: Vec<GroupCounts>,
    /// New findings.
    pub new: i64,
    /// Reopened findings.
    pub reopened: i64,
    /// Baseline findings fixed.
    pub fixed: i64,
    /// Baseline findings not checked.
    pub not_checked: i64,
}

/// A finding still open in the branch's latest run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenFinding {
    /// Its fingerprint id (hex).
    pub fp: String,
    /// Its page's id (hex).
    pub page: String,
    /// Its fingerprint.
    pub key: FindingKey,
    /// Its severity.
    pub severity: Severity,
    /// Accepted in the latest run.
    pub accepted: bool,
    /// Its message.
    pub message: String,
    /// The run that first had it.
    pub first_seen_run: String,
    /// When that run started.
    pub first_seen_at: DateTime<Utc>,
    /// How many runs had it.
    pub runs_seen: i64,
}

/// The open findings, oldest first, as many as the window lists.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenFindings {
    /// How many are open in all.
    pub total: i64,
    /// The oldest of them.
    pub oldest: Vec<OpenFinding>,
}

/// A finding that came or went in a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// Its fingerprint id (hex).
    pub fp: String,
    /// Its fingerprint.
    pub key: FindingKey,
    /// Its severity.
    pub severity: Severity,
    /// Its message.
    pub message: String,
    /// New or reopened (for a finding that came).
    pub state: Option<State>,
}

/// What one run found new (or reopened) and what it fixed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunChanges {
    /// The run.
    pub run: RunRef,
    /// New and reopened findings in all.
    pub new_total: i64,
    /// The first of them (by scenario, path and rule).
    pub new: Vec<Change>,
    /// Fixed findings in all.
    pub fixed_total: i64,
    /// The first of them.
    pub fixed: Vec<Change>,
}

/// A suite's trend on one branch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuiteTrend {
    /// The suite.
    pub suite: String,
    /// The branch shown (`None`: runs recorded without one).
    pub branch: Option<String>,
    /// The suite's branches with runs, by name.
    pub branches: Vec<String>,
    /// How many runs the branch has (the series shows the latest of them).
    pub runs_total: i64,
    /// The window read.
    pub window: Window,
    /// The rule groups, in the order of [`RunPoint::groups`].
    pub groups: Vec<&'static str>,
    /// The series, oldest first.
    pub runs: Vec<RunPoint>,
    /// The pages × runs strip.
    pub strip: Strip,
    /// The open findings, oldest first.
    pub open: OpenFindings,
    /// The latest runs' new and fixed findings, newest first.
    pub changes: Vec<RunChanges>,
}

/// The trend of `suite` on `branch` (`None`: the branch of its latest run),
/// as much as `window` says; `None` when there is no such suite or branch.
pub async fn suite_trend(
    store: &Store,
    suite: &str,
    branch: Option<&str>,
    window: Window,
) -> Result<Option<SuiteTrend>, HistoryError> {
    in_one_read!(store, conn => trend_in(&mut conn, store, suite, branch, window))
}

/// [`suite_trend`] inside the caller's read (e.g. a server's own connection).
pub(crate) async fn trend_in(
    conn: &mut Conn,
    store: &Store,
    suite: &str,
    branch: Option<&str>,
    window: Window,
) -> Result<Option<SuiteTrend>, HistoryError> {
    let Some(at) = branch_at(conn, store, suite, branch).await? else {
        return Ok(None);
    };
    let branches = conn
        .query(
            "SELECT b.name FROM branches b JOIN suites s ON s.id = b.suite_id \
             WHERE s.name = $1 AND b.last_bseq > 0 ORDER BY b.name",
            &[suite.into()],
        )
        .await
        .db(store)?
        .iter()
        .map(|r| r[0].text())
        .collect();
    let runs_total = conn
        .one(
            "SELECT COUNT(*) FROM runs WHERE branch_id = $1",
            &[at.id.into()],
        )
        .await
        .db(store)?
        .map_or(0, |r| r[0].int());
    // One run more than shown, to say whether the first shown changed versions.
    let mut rows = latest_runs(conn, store, &at, window.runs + 1).await?;
    let before = (rows.len() > window.runs).then(|| rows.remove(0));
    let points = points_in(conn, store, &rows, before.as_deref()).await?;
    let strip = strip_in(conn, store, &at, &rows, &window).await?;
    let open = open_in(conn, store, &at, window.open_findings).await?;
    let recent = &rows[rows.len().saturating_sub(window.change_runs)..];
    let mut changes = changes_in(conn, store, &at, recent, window.changes_per_run).await?;
    changes.reverse();
    Ok(Some(SuiteTrend {
        suite: at.suite.clone(),
        branch: at.name.clone(),
        branches,
        runs_total,
        window,
        groups: Group::ALL.iter().map(|g| g.title()).collect(),
        runs: points,
        strip,
        open,
        changes,
    }))
}

/// The series of `rows` ([`RUN_COLUMNS`] rows, oldest first), `before` the
/// run preceding them.
///
/// [`RUN_COLUMNS`]: crate::history::query::RUN_COLUMNS
async fn points_in(
    conn: &mut Conn,
    store: &Store,
    rows: &[Vec<Value>],
    before: Option<&[Value]>,
) -> Result<Vec<RunPoint>, HistoryError> {
    let seqs: Vec<i64> = rows.iter().map(|r| r[25].int()).collect();
    let mut groups: HashMap<i64, Vec<GroupCounts>> = HashMap::new();
    for r in conn
        .query_in(
            "SELECT run_seq, grp, errors, warnings, accepted FROM run_groups WHERE run_seq IN ({ids})",
            &[],
            &seqs,
        )
        .await
        .db(store)?
    {
        let Some(i) = Group::ALL.iter().position(|g| g.title() == r[1].text()) else {
            continue;
        };
        groups
            .entry(r[0].int())
            .or_insert_with(|| vec![GroupCounts::default(); Group::ALL.len()])[i] = GroupCounts {
            errors: r[2].int(),
            warnings: r[3].int(),
            accepted: r[4].int(),
        };
    }
    let mut previous = before.map(run_row);
    let mut points = Vec::with_capacity(rows.len());
    for row in rows {
        let run = run_row(row);
        let (tool_changed, rules_changed) = previous.as_ref().map_or((false, false), |p| {
            (p.tool != run.tool, p.rules_version != run.rules_version)
        });
        points.push(RunPoint {
            compliance: compliance(&run),
            groups: groups
                .remove(&row[25].int())
                .unwrap_or_else(|| vec![GroupCounts::default(); Group::ALL.len()]),
            id: run.id.clone(),
            started_at: run.started_at,
            label: run.label.clone(),
            tool: run.tool.clone(),
            rules_version: run.rules_version.clone(),
            tool_changed,
            rules_changed,
            complete: run.complete,
            pages: run.pages,
            passed: run.passed,
            errors: run.errors,
            warnings: run.warnings,
            accepted: run.accepted,
            new: run.new,
            reopened: run.reopened,
            fixed: run.fixed,
            not_checked: run.not_checked,
        });
        previous = Some(run);
    }
    Ok(points)
}

/// The open findings of the branch's latest run, oldest first, at most `limit`.
async fn open_in(
    conn: &mut Conn,
    store: &Store,
    at: &BranchAt,
    limit: usize,
) -> Result<OpenFindings, HistoryError> {
    let total = conn
        .one(
            "SELECT COUNT(*) FROM finding_spans WHERE branch_id = $1 AND last_bseq IS NULL",
            &[at.id.into()],
        )
        .await
        .db(store)?
        .map_or(0, |r| r[0].int());
    let joins = key_joins("s.fp_id");
    let oldest = conn
        .query(
            &format!(
                "SELECT s.fp_id, s.severity, s.accepted, s.message, \
                 COALESCE(s.first_seen_run, fr.id), COALESCE(s.first_seen_at, fr.started_at), \
                 s.runs_seen + $2 - s.first_bseq, p.id, {KEY_COLUMNS} FROM finding_spans s \
                 LEFT JOIN runs fr ON fr.branch_id = s.branch_id AND fr.bseq = s.first_bseq {joins} \
                 WHERE s.branch_id = $1 AND s.last_bseq IS NULL \
                 ORDER BY 6, sc.name, p.path, f.rule, f.attribute, f.ordinal LIMIT {limit}"
            ),
            &[at.id.into(), at.last_bseq.into()],
        )
        .await
        .db(store)?
        .iter()
        .filter_map(|r| {
            Some(OpenFinding {
                fp: hex_id(r[0].int()),
                page: hex_id(r[7].int()),
                key: key_of(r, 8)?,
                severity: severity_of(r[1].int()),
                accepted: r[2].int() == 1,
                message: r[3].text(),
                first_seen_run: r[4].text(),
                first_seen_at: millis(r[5].int()),
                runs_seen: r[6].int(),
            })
        })
        .collect();
    Ok(OpenFindings { total, oldest })
}

/// What each of `rows` (oldest first) found new or reopened and fixed, at most
/// `limit` of each per run. A finding came in a run when its span began
/// there in state new or reopened, unless the run marks it otherwise (a gate
/// compared with another branch), or when the run marks it so.
async fn changes_in(
    conn: &mut Conn,
    store: &Store,
    at: &BranchAt,
    rows: &[Vec<Value>],
    limit: usize,
) -> Result<Vec<RunChanges>, HistoryError> {
    let Some(from) = rows.first().map(|r| r[27].int()) else {
        return Ok(Vec::new());
    };
    let seq_of: HashMap<i64, i64> = rows.iter().map(|r| (r[25].int(), r[27].int())).collect();
    let seqs: Vec<i64> = seq_of.keys().copied().collect();
    // (run number, fp) → state the run marks.
    let mut marked: HashMap<(i64, i64), State> = HashMap::new();
    for r in conn
        .query_in(
            "SELECT run_seq, fp_id, state FROM finding_marks WHERE run_seq IN ({ids})",
            &[],
            &seqs,
        )
        .await
        .db(store)?
    {
        marked.insert(
            (seq_of[&r[0].int()], r[1].int()),
            State::of_code(r[2].int()),
        );
    }
    // Only two kinds of span can have come in these runs: one that began in
    // them as new or reopened, and one a run marks so.
    let columns = format!(
        "SELECT s.id, s.fp_id, s.first_bseq, s.last_bseq, s.severity, s.message, s.start_state, \
         {KEY_COLUMNS} FROM finding_spans s {}",
        key_joins("s.fp_id")
    );
    let mut spans = conn
        .query(
            &format!(
                "{columns} WHERE {} AND s.first_bseq >= $2 AND s.start_state <> $3",
                alive_since("s", 4)
            ),
            &[
                at.id.into(),
                from.into(),
                State::Open.code().into(),
                at.id.into(),
            ],
        )
        .await
        .db(store)?;
    let mut marked_came: Vec<i64> = marked
        .iter()
        .filter(|(_, s)| matches!(s, State::New | State::Reopened))
        .map(|((_, fp), _)| *fp)
        .collect();
    marked_came.sort_unstable();
    marked_came.dedup();
    let alive = alive_from("s");
    spans.extend(
        conn.query_in(
            &format!(
                "{columns} WHERE s.branch_id = $1 AND {alive} \
                 AND s.fp_id IN ({{ids}})"
            ),
            &[at.id.into(), from.into()],
            &marked_came,
        )
        .await
        .db(store)?,
    );
    spans.sort_by_key(|r| r[0].int());
    spans.dedup_by_key(|r| r[0].int());
    let spans: Vec<&[Value]> = spans.iter().map(|r| &r[1..]).collect();
    let mut came: HashMap<i64, Vec<Change>> = HashMap::new();
    for r in spans {
        let fp = r[0].int();
        let (first, last) = (r[1].int(), r[2].opt_int());
        for &bseq in seq_of.values() {
            if bseq < first || last.is_some_and(|l| bseq > l) {
                continue;
            }
            let implied = (bseq == first).then(|| State::of_code(r[5].int()));
            let state = marked.get(&(bseq, fp)).copied().or(implied);
            if let Some(state @ (State::New | State::Reopened)) = state {
                let Some(key) = key_of(r, 6) else { continue };
                came.entry(bseq).or_default().push(Change {
                    fp: hex_id(fp),
                    key,
                    severity: severity_of(r[3].int()),
                    message: r[4].text(),
                    state: Some(state),
                });
            }
        }
    }
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let run = run_row(row);
        let mut new = came.remove(&row[27].int()).unwrap_or_default();
        new.sort_by(|a, b| a.key.cmp(&b.key));
        new.truncate(limit);
        let fixed = gone_in(conn, store, row, Some(limit as u64))
            .await?
            .into_iter()
            .filter(|(fixed, _, _)| *fixed)
            .map(|(_, fp, g)| Change {
                fp: hex_id(fp),
                key: g.key,
                severity: g.severity,
                message: g.message,
                state: None,
            })
            .collect();
        out.push(RunChanges {
            run: RunRef::of_row(row),
            new_total: run.new + run.reopened,
            new,
            fixed_total: run.fixed,
            fixed,
        });
    }
    Ok(out)
}
