//! The pages × runs strip: each page's verdict in each of a branch's latest
//! runs (pass, warn, fail, not audited), pages no longer crawled included.
//!
//! The verdicts are derived, not stored (schema.rs): a page span says the
//! page was audited (or unreachable, a fail) from its first to its last run;
//! the spans of the page's findings that count (not accepted) raise a run to
//! warn or fail. A strip covers the pages audited at least once in its runs,
//! sorted worst first (most failing runs, then most warning runs, then
//! scenario and path) and cut to the window's page range, so 5,000 pages ×
//! 365 runs is never drawn whole: the window says which slice.

use super::{alive_since, hex_id, BranchAt, RunRef, Window};
use crate::history::db::{Conn, Value};
use crate::history::record::severity_of;
use crate::history::{DbResult, HistoryError, Store};
use crate::rules::Severity;
use serde::Serialize;
use std::collections::HashMap;

/// A page's verdict in one run, worst last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cell {
    /// The run did not audit the page.
    NotAudited,
    /// Audited, no finding that counts.
    Pass,
    /// Warnings only.
    Warn,
    /// An error, or the page was unreachable.
    Fail,
}

impl Cell {
    /// The word the pages show (and the class of a cell).
    pub fn word(self) -> &'static str {
        match self {
            Cell::NotAudited => "not-audited",
            Cell::Pass => "pass",
            Cell::Warn => "warn",
            Cell::Fail => "fail",
        }
    }
}

/// A page's audit over consecutive runs (a `page_spans` row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Audited {
    /// The page's id.
    pub(crate) page: i64,
    /// First run number.
    pub(crate) first: i64,
    /// Last run number; `None` while still audited.
    pub(crate) last: Option<i64>,
    /// Unreachable over the span.
    pub(crate) unreachable: bool,
}

/// A finding that counts, over consecutive runs (a `finding_spans` row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counted {
    /// Its page's id.
    pub(crate) page: i64,
    /// First run number.
    pub(crate) first: i64,
    /// Last run number; `None` while still present.
    pub(crate) last: Option<i64>,
    /// Its severity.
    pub(crate) severity: Severity,
}

/// Each page's verdict in each of `runs` (run numbers, ascending), from its
/// audits and the findings that count; pages never audited in `runs` absent.
pub(crate) fn verdicts(
    runs: &[i64],
    audited: &[Audited],
    counted: &[Counted],
) -> HashMap<i64, Vec<Cell>> {
    let covered = |first: i64, last: Option<i64>| {
        let from = runs.partition_point(|&b| b < first);
        let to = runs.partition_point(|&b| last.is_none_or(|l| b <= l));
        from..to.max(from)
    };
    let mut cells: HashMap<i64, Vec<Cell>> = HashMap::new();
    for a in audited {
        let range = covered(a.first, a.last);
        if range.is_empty() {
            continue;
        }
        let row = cells
            .entry(a.page)
            .or_insert_with(|| vec![Cell::NotAudited; runs.len()]);
        let verdict = if a.unreachable {
            Cell::Fail
        } else {
            Cell::Pass
        };
        for c in &mut row[range] {
            *c = (*c).max(verdict);
        }
    }
    for f in counted {
        let Some(row) = cells.get_mut(&f.page) else {
            continue;
        };
        let verdict = match f.severity {
            Severity::Error => Cell::Fail,
            Severity::Warning => Cell::Warn,
        };
        for c in &mut row[covered(f.first, f.last)] {
            if *c != Cell::NotAudited {
                *c = (*c).max(verdict);
            }
        }
    }
    cells
}

/// The strip's order: most failing runs, then most warning runs, first.
fn badness(cells: &[Cell]) -> (usize, usize) {
    let count = |v| cells.iter().filter(|&&c| c == v).count();
    (count(Cell::Fail), count(Cell::Warn))
}

/// One page's row of the strip.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StripRow {
    /// The page's id (hex).
    pub page: String,
    /// Its scenario.
    pub scenario: String,
    /// Its path relative to the base URL.
    pub path: String,
    /// Whether the branch's latest run audited it (else no longer crawled).
    pub crawled: bool,
    /// Its verdict per run of [`Strip::runs`].
    pub cells: Vec<Cell>,
}

/// The pages × runs strip of a branch's latest runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Strip {
    /// The runs, oldest first (the columns).
    pub runs: Vec<RunRef>,
    /// How many pages were audited in these runs (all rows, not only shown).
    pub pages_total: usize,
    /// The rank (worst first, from 0) of the first row shown.
    pub offset: usize,
    /// The rows shown, worst first.
    pub rows: Vec<StripRow>,
}

/// The strip of `branch` over `runs` (its latest runs as [`RUN_COLUMNS`]
/// rows, oldest first), cut to `window`.
///
/// [`RUN_COLUMNS`]: crate::history::query::RUN_COLUMNS
pub(crate) async fn strip_in(
    conn: &mut Conn,
    store: &Store,
    branch: &BranchAt,
    runs: &[Vec<Value>],
    window: &Window,
) -> Result<Strip, HistoryError> {
    let runs = &runs[runs.len().saturating_sub(window.strip_runs)..];
    let numbers: Vec<i64> = runs.iter().map(|r| r[27].int()).collect();
    let (Some(&from), Some(&to)) = (numbers.first(), numbers.last()) else {
        return Ok(Strip {
            runs: Vec::new(),
            pages_total: 0,
            offset: window.strip_offset,
            rows: Vec::new(),
        });
    };
    let overlapping = [branch.id.into(), from.into(), to.into(), branch.id.into()];
    let audited: Vec<Audited> = conn
        .query(
            &format!(
                "SELECT ps.page_id, ps.first_bseq, ps.last_bseq, ps.unreachable FROM page_spans ps \
                 WHERE {} AND ps.first_bseq <= $3",
                alive_since("ps", 4)
            ),
            &overlapping,
        )
        .await
        .db(store)?
        .iter()
        .map(|r| Audited {
            page: r[0].int(),
            first: r[1].int(),
            last: r[2].opt_int(),
            unreachable: r[3].int() != 0,
        })
        .collect();
    let counted: Vec<Counted> = conn
        .query(
            &format!(
                "SELECT f.page_id, s.first_bseq, s.last_bseq, s.severity FROM finding_spans s \
                 JOIN fingerprints f ON f.id = s.fp_id WHERE {} AND s.first_bseq <= $3 \
                 AND s.accepted <> 1",
                alive_since("s", 4)
            ),
            &overlapping,
        )
        .await
        .db(store)?
        .iter()
        .map(|r| Counted {
            page: r[0].int(),
            first: r[1].int(),
            last: r[2].opt_int(),
            severity: severity_of(r[3].int()),
        })
        .collect();
    let cells = verdicts(&numbers, &audited, &counted);
    let crawled: std::collections::HashSet<i64> = audited
        .iter()
        .filter(|a| a.last.is_none())
        .map(|a| a.page)
        .collect();
    let ids: Vec<i64> = cells.keys().copied().collect();
    let mut names: HashMap<i64, (String, String)> = HashMap::new();
    for r in conn
        .query_in(
            "SELECT p.id, sc.name, p.path FROM pages p JOIN scenarios sc ON sc.id = p.scenario_id \
             WHERE p.id IN ({ids})",
            &[],
            &ids,
        )
        .await
        .db(store)?
    {
        names.insert(r[0].int(), (r[1].text(), r[2].text()));
    }
    let mut rows: Vec<StripRow> = cells
        .into_iter()
        .map(|(page, cells)| {
            let (scenario, path) = names.remove(&page).unwrap_or_default();
            StripRow {
                page: hex_id(page),
                scenario,
                path,
                crawled: crawled.contains(&page),
                cells,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        badness(&b.cells)
            .cmp(&badness(&a.cells))
            .then_with(|| (&a.scenario, &a.path).cmp(&(&b.scenario, &b.path)))
    });
    let pages_total = rows.len();
    let rows = rows
        .into_iter()
        .skip(window.strip_offset)
        .take(window.strip_pages)
        .collect();
    Ok(Strip {
        runs: runs.iter().map(|r| RunRef::of_row(r)).collect(),
        pages_total,
        offset: window.strip_offset,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audited(page: i64, first: i64, last: Option<i64>) -> Audited {
        Audited {
            page,
            first,
            last,
            unreachable: false,
        }
    }

    #[test]
    fn verdicts_follow_audits_and_findings_that_count() {
        // Runs 3..=6 shown; page 1 audited throughout, page 2 dropped after
        // run 4, page 3 unreachable in run 6, page 4 only before the window.
        let runs = [3, 4, 5, 6];
        let pages = [
            audited(1, 1, None),
            audited(2, 2, Some(4)),
            audited(3, 3, Some(5)),
            Audited {
                unreachable: true,
                ..audited(3, 6, None)
            },
            audited(4, 1, Some(2)),
        ];
        let findings = [
            Counted {
                page: 1,
                first: 4,
                last: Some(5),
                severity: Severity::Warning,
            },
            Counted {
                page: 1,
                first: 5,
                last: None,
                severity: Severity::Error,
            },
            Counted {
                page: 2,
                first: 1,
                last: None,
                severity: Severity::Error,
            },
        ];
        let cells = verdicts(&runs, &pages, &findings);
        use Cell::*;
        assert_eq!(cells[&1], [Pass, Warn, Fail, Fail]);
        assert_eq!(cells[&2], [Fail, Fail, NotAudited, NotAudited]);
        assert_eq!(cells[&3], [Pass, Pass, Pass, Fail]);
        assert!(!cells.contains_key(&4));
        assert_eq!(badness(&cells[&1]), (2, 1));
    }

    #[test]
    fn ids_round_trip_as_hex() {
        for id in [0, 1, -1, i64::MIN, i64::MAX, 0x1234_5678_9abc_def0] {
            assert_eq!(super::super::parse_hex_id(&hex_id(id)), Some(id));
        }
        assert_eq!(super::super::parse_hex_id("../etc/passwd"), None);
        assert_eq!(super::super::parse_hex_id("12"), None);
    }
}
