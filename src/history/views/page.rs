//! One page of a suite over the latest runs of a branch: its verdict in each
//! run (the strip's row, derived the same way) and each of its findings'
//! spans: when it was present, with which severity and message.

use super::strip::{verdicts, Audited, Cell, Counted};
use super::{alive_from, alive_since, branch_at, hex_id, in_one_read, latest_runs, RunRef, Window};
use crate::history::db::Conn;
use crate::history::model::FindingKey;
use crate::history::query::{key_joins, key_of, KEY_COLUMNS};
use crate::history::record::severity_of;
use crate::history::states::State;
use crate::history::{DbResult, HistoryError, Store};
use crate::rules::Severity;
use serde::Serialize;

/// A finding's presence over consecutive runs of a branch, as a view shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpanView {
    /// The branch (`None`: runs recorded without one).
    pub branch: Option<String>,
    /// The span's first run (`None`: pruned).
    pub first_run: Option<RunRef>,
    /// Its last run; `None` while still present in the branch's latest run.
    pub last_run: Option<RunRef>,
    /// Whether still present in the branch's latest run.
    pub open: bool,
    /// Its state in the first run (new, reopened, or open when only its
    /// severity, acceptance or message changed).
    pub state: State,
    /// Its severity.
    pub severity: Severity,
    /// Accepted over the span.
    pub accepted: bool,
    /// Its message.
    pub message: String,
}

/// One of the page's findings with its spans, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageFinding {
    /// Its fingerprint id (hex).
    pub fp: String,
    /// Its fingerprint.
    pub key: FindingKey,
    /// Its spans in the runs shown.
    pub spans: Vec<SpanView>,
}

/// One page of a suite over the latest runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageView {
    /// The suite.
    pub suite: String,
    /// The branch shown.
    pub branch: Option<String>,
    /// The page's id (hex).
    pub id: String,
    /// Its scenario.
    pub scenario: String,
    /// Its path relative to the base URL.
    pub path: String,
    /// The runs shown, oldest first.
    pub runs: Vec<RunRef>,
    /// Its verdict in each of them.
    pub cells: Vec<Cell>,
    /// Its findings present in any of them, by key.
    pub findings: Vec<PageFinding>,
}

/// Page `page` (a [`super::hex_id`]) of `suite` over the latest
/// `window.runs` runs of the branch of the suite's latest run; `None` when
/// the suite has no such page.
pub async fn page_view(
    store: &Store,
    suite: &str,
    page: &str,
    window: Window,
) -> Result<Option<PageView>, HistoryError> {
    let Some(id) = super::parse_hex_id(page) else {
        return Ok(None);
    };
    in_one_read!(store, conn => page_in(&mut conn, store, suite, id, window))
}

/// [`page_view`] inside the caller's read (e.g. a server's own connection).
pub(crate) async fn page_in(
    conn: &mut Conn,
    store: &Store,
    suite: &str,
    id: i64,
    window: Window,
) -> Result<Option<PageView>, HistoryError> {
    let Some(page) = conn
        .one(
            "SELECT sc.name, p.path FROM pages p JOIN scenarios sc ON sc.id = p.scenario_id \
             JOIN suites su ON su.id = sc.suite_id WHERE su.name = $1 AND p.id = $2",
            &[suite.into(), id.into()],
        )
        .await
        .db(store)?
    else {
        return Ok(None);
    };
    let Some(at) = branch_at(conn, store, suite, None).await? else {
        return Ok(None);
    };
    let rows = latest_runs(conn, store, &at, window.runs).await?;
    let numbers: Vec<i64> = rows.iter().map(|r| r[27].int()).collect();
    let from = numbers.first().copied().unwrap_or(0);
    let audited: Vec<Audited> = conn
        .query(
            &format!(
                "SELECT ps.first_bseq, ps.last_bseq, ps.unreachable FROM page_spans ps \
                 WHERE {} AND ps.page_id = $3",
                alive_since("ps", 4)
            ),
            &[at.id.into(), from.into(), id.into(), at.id.into()],
        )
        .await
        .db(store)?
        .iter()
        .map(|r| Audited {
            page: id,
            first: r[0].int(),
            last: r[1].opt_int(),
            unreachable: r[2].int() != 0,
        })
        .collect();
    // The page's fingerprints first: their spans are then found by the
    // `(fp_id, branch_id)` index, not among every span of the branch.
    let fps: Vec<i64> = conn
        .query(
            "SELECT id FROM fingerprints WHERE page_id = $1",
            &[id.into()],
        )
        .await
        .db(store)?
        .iter()
        .map(|r| r[0].int())
        .collect();
    let joins = key_joins("s.fp_id");
    let alive = alive_from("s");
    let mut spans = conn
        .query_in(
            &format!(
                "SELECT s.fp_id, s.first_bseq, s.last_bseq, s.severity, s.accepted, s.message, \
                 s.start_state, {KEY_COLUMNS} FROM finding_spans s {joins} \
                 WHERE s.branch_id = $1 AND {alive} \
                 AND s.fp_id IN ({{ids}})"
            ),
            &[at.id.into(), from.into()],
            &fps,
        )
        .await
        .db(store)?;
    spans.sort_by_key(|r| r[1].int());
    let counted: Vec<Counted> = spans
        .iter()
        .filter(|r| r[4].int() != 1)
        .map(|r| Counted {
            page: id,
            first: r[1].int(),
            last: r[2].opt_int(),
            severity: severity_of(r[3].int()),
        })
        .collect();
    let cells = verdicts(&numbers, &audited, &counted)
        .remove(&id)
        .unwrap_or_else(|| vec![Cell::NotAudited; numbers.len()]);
    let run_at = |bseq: Option<i64>| {
        bseq.and_then(|b| {
            rows.iter()
                .find(|r| r[27].int() == b)
                .map(|r| RunRef::of_row(r))
        })
    };
    let mut findings: Vec<PageFinding> = Vec::new();
    for r in &spans {
        let Some(key) = key_of(r, 7) else { continue };
        let span = SpanView {
            branch: at.name.clone(),
            first_run: run_at(Some(r[1].int())),
            last_run: run_at(r[2].opt_int()),
            open: r[2].opt_int().is_none(),
            state: State::of_code(r[6].int()),
            severity: severity_of(r[3].int()),
            accepted: r[4].int() == 1,
            message: r[5].text(),
        };
        let fp = hex_id(r[0].int());
        match findings.iter_mut().find(|f| f.fp == fp) {
            Some(f) => f.spans.push(span),
            None => findings.push(PageFinding {
                fp,
                key,
                spans: vec![span],
            }),
        }
    }
    findings.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(Some(PageView {
        suite: at.suite.clone(),
        branch: at.name.clone(),
        id: hex_id(id),
        scenario: page[0].text(),
        path: page[1].text(),
        runs: rows.iter().map(|r| RunRef::of_row(r)).collect(),
        cells,
        findings,
    }))
}
