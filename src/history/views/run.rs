//! One run: its pages with verdicts, its findings with their states, and the
//! baseline's findings it fixed or did not check (what `history show` reads,
//! with the ids the pages link by).

use super::{compliance, hex_id, in_one_read};
use crate::history::query::{show_in, RunRow, ShownFinding, ShownPage};
use crate::history::states::GoneFinding;
use crate::history::{DbResult, HistoryError, Store};
use serde::Serialize;

/// A page of the run, with its id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunPage {
    /// The page's id (hex).
    pub id: String,
    /// The page as the run saw it.
    #[serde(flatten)]
    pub page: ShownPage,
}

/// A finding of the run, with its fingerprint id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunFinding {
    /// Its fingerprint id (hex).
    pub fp: String,
    /// The finding and its state in the run.
    #[serde(flatten)]
    pub finding: ShownFinding,
}

/// A baseline finding the run does not have, with its fingerprint id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunGone {
    /// Its fingerprint id (hex).
    pub fp: String,
    /// The finding as the baseline had it.
    #[serde(flatten)]
    pub finding: GoneFinding,
}

/// One run as the pages show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunView {
    /// The run.
    pub run: RunRow,
    /// Its share of audited pages with no error.
    pub compliance: Option<f64>,
    /// Its pages, by scenario and path.
    pub pages: Vec<RunPage>,
    /// Its findings, by key.
    pub findings: Vec<RunFinding>,
    /// The baseline's findings it fixed.
    pub fixed: Vec<RunGone>,
    /// The baseline's findings it did not check.
    pub not_checked: Vec<RunGone>,
}

/// Run `id`; `None` when the store has no such run. Bounded by the run's
/// own size (its pages and findings).
pub async fn run_view(store: &Store, id: &str) -> Result<Option<RunView>, HistoryError> {
    let Some(detail) = in_one_read!(store, conn => show_in(&mut conn, store, id))? else {
        return Ok(None);
    };
    let gone = |list: Vec<GoneFinding>| -> Vec<RunGone> {
        list.into_iter()
            .map(|g| RunGone {
                fp: hex_id(detail.gone_ids.get(&g.key).copied().unwrap_or_default()),
                finding: g,
            })
            .collect()
    };
    Ok(Some(RunView {
        compliance: compliance(&detail.run),
        pages: detail
            .pages
            .into_iter()
            .map(|p| RunPage {
                id: hex_id(p.id),
                page: p,
            })
            .collect(),
        findings: detail
            .findings
            .into_iter()
            .map(|f| RunFinding {
                fp: hex_id(f.fp),
                finding: f,
            })
            .collect(),
        fixed: gone(detail.fixed),
        not_checked: gone(detail.not_checked),
        run: detail.run,
    }))
}
