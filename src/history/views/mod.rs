//! What `history trend` and `history serve` show (interface.md, "History of
//! scheduled audits"; issue #20), as plain data read from a store: the
//! suites, one suite's trend, a run, a page and a finding over time.
//!
//! Each view is one short read (a read transaction for a consistent view,
//! ended before the view returns), never changes the store, and bounds every
//! list it reads by its [`Window`] or by the size of one run. Pages and
//! findings are named by their stored hash ids in hex ([`hex_id`]), stable
//! across runs and safe in a URL.

pub mod finding;
pub mod page;
pub mod run;
pub mod strip;
pub mod suites;
pub mod trend;

pub use finding::{finding_view, FindingView};
pub use page::{page_view, PageView};
pub use run::{run_view, RunView};
pub use strip::{Cell, Strip};
pub use suites::{suites, SuiteSummary};
pub use trend::{suite_trend, SuiteTrend};

use super::db::{Conn, Value};
use super::query::{run_row, RunRow, RUN_COLUMNS};
use super::{DbResult, HistoryError, Store};
use serde::Serialize;

/// Runs `$body` (an async expression using the connection named `$conn`)
/// inside one read transaction of `$store`, ended whatever the outcome.
macro_rules! in_one_read {
    ($store:expr, $conn:ident => $body:expr) => {{
        let mut $conn = $store.open_read().await?;
        $conn.begin_read().await.db($store)?;
        let out = $body.await;
        $conn.rollback().await;
        out
    }};
}
pub(crate) use in_one_read;

/// How much of a suite's history a view reads and shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    /// The branch's latest runs in the series (compliance, errors and
    /// warnings per group, new and fixed counts).
    pub runs: usize,
    /// The latest runs the pages × runs strip covers.
    pub strip_runs: usize,
    /// The strip's first page, counted worst first from 0.
    pub strip_offset: usize,
    /// How many pages the strip shows from there.
    pub strip_pages: usize,
    /// How many open findings are listed (oldest first; the rest counted).
    pub open_findings: usize,
    /// How many of the latest runs list their new and fixed findings.
    pub change_runs: usize,
    /// How many new (and how many fixed) findings each of those lists.
    pub changes_per_run: usize,
}

impl Window {
    /// For a live page (`history serve`): the last 90 runs, the 50 worst pages
    /// over the last 14 runs (the strip reads every finding span of its runs:
    /// on the synthetic year about 40,000 for 14 runs, 61,000 for 30), a week
    /// of changes.
    pub const SERVE: Window = Window {
        runs: 90,
        strip_runs: 14,
        strip_offset: 0,
        strip_pages: 50,
        open_findings: 100,
        change_runs: 7,
        changes_per_run: 20,
    };

    /// For the one-file report (`history trend`): a year of nightly runs in
    /// the series, the 100 worst pages over the last 60 runs, a week of
    /// changes; at 365 runs × 5,000 pages this stays well under 5 MB.
    pub const FILE: Window = Window {
        runs: 366,
        strip_runs: 60,
        strip_offset: 0,
        strip_pages: 100,
        open_findings: 200,
        change_runs: 7,
        changes_per_run: 20,
    };
}

/// A stored id (`pages.id`, `fingerprints.id`) as 16 hex digits, for URLs and anchors.
pub fn hex_id(id: i64) -> String {
    format!("{:016x}", id as u64)
}

/// The stored id of [`hex_id`]'s text; `None` for anything else.
pub fn parse_hex_id(text: &str) -> Option<i64> {
    if text.len() != 16 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(text, 16).ok().map(|v| v as i64)
}

/// Share of audited pages with no error that counts; `None` for a run that
/// audited no page.
pub(crate) fn compliance(run: &RunRow) -> Option<f64> {
    (run.pages > 0).then(|| run.passed as f64 / run.pages as f64)
}

/// The condition "a span of `alias` (a `page_spans` or `finding_spans`
/// alias) on branch `$1` still true in run `$2` or later", written as two
/// index ranges (`(branch_id, last_bseq)`): `last_bseq IS NULL OR ...` would
/// make SQLite read every span of the branch. `$again` holds the branch id
/// a second time: with `$1` in both ranges SQLite does not use the index
/// for each (measured on the synthetic year: 123 ms against 189 ms).
pub(crate) fn alive_since(alias: &str, again: usize) -> String {
    format!(
        "(({alias}.branch_id = $1 AND {alias}.last_bseq IS NULL) \
         OR ({alias}.branch_id = ${again} AND {alias}.last_bseq >= $2))"
    )
}

/// The condition "a span of `alias` still true in run `$2` or later" for a
/// statement that finds its spans by fingerprint (`(fp_id, branch_id)`
/// index): written so SQLite does not prefer the branch's ranges of
/// [`alive_since`] to it.
pub(crate) fn alive_from(alias: &str) -> String {
    format!("COALESCE({alias}.last_bseq, $2) >= $2")
}

/// The branch a suite view reads: its ids and where it stands.
#[derive(Debug, Clone)]
pub(crate) struct BranchAt {
    /// The suite's name.
    pub(crate) suite: String,
    /// The branch's id.
    pub(crate) id: i64,
    /// Its name (`None`: runs recorded without a branch).
    pub(crate) name: Option<String>,
    /// Its latest run's number.
    pub(crate) last_bseq: i64,
}

/// The branch `branch` of `suite` (`None`: the branch of the suite's latest
/// run); `None` when there is no such suite or branch, or it has no runs.
pub(crate) async fn branch_at(
    conn: &mut Conn,
    store: &Store,
    suite: &str,
    branch: Option<&str>,
) -> Result<Option<BranchAt>, HistoryError> {
    let row = match branch {
        Some(name) => {
            conn.one(
                "SELECT b.id, b.name, b.last_bseq FROM branches b JOIN suites s ON s.id = b.suite_id \
                 WHERE s.name = $1 AND b.name = $2",
                &[suite.into(), name.into()],
            )
            .await
        }
        None => {
            conn.one(
                "SELECT b.id, b.name, b.last_bseq FROM runs r JOIN suites s ON s.id = r.suite_id \
                 JOIN branches b ON b.id = r.branch_id WHERE s.name = $1 ORDER BY r.seq DESC LIMIT 1",
                &[suite.into()],
            )
            .await
        }
    }
    .db(store)?;
    Ok(row.filter(|r| r[2].int() > 0).map(|r| BranchAt {
        suite: suite.to_string(),
        id: r[0].int(),
        name: r[1].opt_text().filter(|n| !n.is_empty()),
        last_bseq: r[2].int(),
    }))
}

/// The branch's latest `n` runs, oldest first, as [`RUN_COLUMNS`] rows.
pub(crate) async fn latest_runs(
    conn: &mut Conn,
    store: &Store,
    branch: &BranchAt,
    n: usize,
) -> Result<Vec<Vec<Value>>, HistoryError> {
    let mut rows = conn
        .query(
            &format!("SELECT {RUN_COLUMNS} WHERE r.branch_id = $1 ORDER BY r.bseq DESC LIMIT {n}"),
            &[branch.id.into()],
        )
        .await
        .db(store)?;
    rows.reverse();
    Ok(rows)
}

/// A run as a view names it: enough to link and place it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRef {
    /// Its id.
    pub id: String,
    /// When it started.
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// Its label.
    pub label: Option<String>,
}

impl RunRef {
    /// The reference of a [`RUN_COLUMNS`] row.
    pub(crate) fn of_row(row: &[Value]) -> RunRef {
        let run = run_row(row);
        RunRef {
            id: run.id,
            started_at: run.started_at,
            label: run.label,
        }
    }
}
