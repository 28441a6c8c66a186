//! The suites of a store, each with its run count and latest run: the
//! first page of `serve` and the index of a `trend` file of all suites.

use super::{compliance, in_one_read};
use crate::history::db::Conn;
use crate::history::query::{run_row, RunRow, RUN_COLUMNS};
use crate::history::{DbResult, HistoryError, Store};
use serde::Serialize;

/// One suite at a glance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuiteSummary {
    /// Its name.
    pub name: String,
    /// How many runs it has, all branches.
    pub runs: i64,
    /// Its latest run.
    pub latest: RunRow,
    /// The latest run's share of audited pages with no error.
    pub compliance: Option<f64>,
}

/// Every suite with runs, by name (a store holds a handful of suites: one
/// row each).
pub async fn suites(store: &Store) -> Result<Vec<SuiteSummary>, HistoryError> {
    in_one_read!(store, conn => suites_in(&mut conn, store))
}

/// [`suites`] inside the caller's read (e.g. a server's own connection).
pub(crate) async fn suites_in(
    conn: &mut Conn,
    store: &Store,
) -> Result<Vec<SuiteSummary>, HistoryError> {
    let counts = conn
        .query(
            "SELECT suite_id, COUNT(*), MAX(seq) FROM runs GROUP BY suite_id",
            &[],
        )
        .await
        .db(store)?;
    let latest: Vec<i64> = counts.iter().map(|r| r[2].int()).collect();
    let rows = conn
        .query_in(
            &format!("SELECT {RUN_COLUMNS} WHERE r.seq IN ({{ids}})"),
            &[],
            &latest,
        )
        .await
        .db(store)?;
    let mut suites: Vec<SuiteSummary> = rows
        .iter()
        .map(|row| {
            let latest = run_row(row);
            let runs = counts
                .iter()
                .find(|c| c[2].int() == row[25].int())
                .map_or(0, |c| c[1].int());
            SuiteSummary {
                name: latest.suite.clone(),
                runs,
                compliance: compliance(&latest),
                latest,
            }
        })
        .collect();
    suites.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(suites)
}
