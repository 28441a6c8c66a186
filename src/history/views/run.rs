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
    /// The part of each list shown, when a live page shows one part at a
    /// time ([`RunView::cut`]); `None`: every item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cut: Option<Cut>,
}

/// Which items of a run's lists a view holds: from `offset`, at most
/// `limit` of each list, and how many each list has in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Cut {
    /// The first item shown of each list (counted from 0).
    pub offset: usize,
    /// At most this many of each list.
    pub limit: usize,
    /// The run's findings in all.
    pub findings: usize,
    /// Its pages in all.
    pub pages: usize,
    /// Its fixed findings in all.
    pub fixed: usize,
    /// Its findings not checked in all.
    pub not_checked: usize,
}

impl RunView {
    /// The view with each list cut to `limit` items from `offset` (a run of
    /// 20,000 findings is read once and shown a part at a time).
    pub fn cut(mut self, offset: usize, limit: usize) -> RunView {
        self.cut = Some(Cut {
            offset,
            limit,
            findings: keep(&mut self.findings, offset, limit),
            pages: keep(&mut self.pages, offset, limit),
            fixed: keep(&mut self.fixed, offset, limit),
            not_checked: keep(&mut self.not_checked, offset, limit),
        });
        self
    }
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
        cut: None,
    }))
}

/// Keeps `limit` items of `list` from `offset`; how many it had.
fn keep<T>(list: &mut Vec<T>, offset: usize, limit: usize) -> usize {
    let total = list.len();
    list.truncate(offset.saturating_add(limit).min(total));
    list.drain(..offset.min(list.len()));
    total
}

#[cfg(test)]
mod tests {
    use super::keep;

    #[test]
    fn a_cut_keeps_the_part_asked_for_and_counts_the_rest() {
        let mut list: Vec<u32> = (0..10).collect();
        assert_eq!(keep(&mut list, 4, 3), 10);
        assert_eq!(list, [4, 5, 6]);
        let mut short: Vec<u32> = (0..3).collect();
        keep(&mut short, 5, usize::MAX);
        assert!(short.is_empty());
    }
}
