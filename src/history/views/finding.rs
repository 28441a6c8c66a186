//! One fingerprint over all the runs that had it, on every branch: its
//! spans, when it was first seen, how many runs have had it, and each state
//! change (came new or reopened, changed, fixed, not checked).

use super::page::SpanView;
use super::{hex_id, in_one_read, RunRef};
use crate::history::db::Conn;
use crate::history::model::FindingKey;
use crate::history::query::{key_joins, key_of, KEY_COLUMNS};
use crate::history::record::severity_of;
use crate::history::states::{millis, State};
use crate::history::{DbResult, HistoryError, Store};
use serde::Serialize;

/// The most spans and events a finding view reads (a finding that came and
/// went every night for years is cut there).
const MAX_ROWS: usize = 1000;

/// What happened to the finding in one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingEvent {
    /// The run.
    pub run: RunRef,
    /// `new`, `reopened`, `open` (its severity, acceptance or message
    /// changed, or a gate marked it so), `fixed` or `not-checked`.
    pub what: &'static str,
}

/// One fingerprint's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingView {
    /// Its id (hex).
    pub fp: String,
    /// Its suite.
    pub suite: String,
    /// Its page's id (hex).
    pub page: String,
    /// Its fingerprint.
    pub key: FindingKey,
    /// Its rule group.
    pub group: String,
    /// The run that first had it (`None`: every run that had it is pruned).
    pub first_seen: Option<RunRef>,
    /// How many runs have had it (on the branch of its latest span).
    pub runs_seen: i64,
    /// Whether a branch's latest run has it.
    pub open: bool,
    /// Its spans, oldest first.
    pub spans: Vec<SpanView>,
    /// Its state changes, oldest first.
    pub events: Vec<FindingEvent>,
}

/// Fingerprint `fp` (a [`super::hex_id`]); `None` when the store has none such.
pub async fn finding_view(store: &Store, fp: &str) -> Result<Option<FindingView>, HistoryError> {
    let Some(id) = super::parse_hex_id(fp) else {
        return Ok(None);
    };
    in_one_read!(store, conn => finding_in(&mut conn, store, id))
}

/// A run reference from `id` and `started_at` columns, if the run is kept.
fn run_ref(id: &crate::history::db::Value, at: &crate::history::db::Value) -> Option<RunRef> {
    id.opt_text().map(|id| RunRef {
        id,
        started_at: millis(at.int()),
        label: None,
    })
}

/// [`finding_view`] inside the caller's read (e.g. a server's own connection).
pub(crate) async fn finding_in(
    conn: &mut Conn,
    store: &Store,
    id: i64,
) -> Result<Option<FindingView>, HistoryError> {
    let joins = key_joins("f0.id");
    let Some(head) = conn
        .one(
            &format!(
                "SELECT su.name, f.grp, p.id, {KEY_COLUMNS} FROM fingerprints f0 {joins} \
                 JOIN suites su ON su.id = sc.suite_id WHERE f0.id = $1"
            ),
            &[id.into()],
        )
        .await
        .db(store)?
    else {
        return Ok(None);
    };
    let Some(key) = key_of(&head, 3) else {
        return Ok(None);
    };
    let spans = conn
        .query(
            &format!(
                "SELECT s.first_bseq, s.last_bseq, s.severity, s.accepted, s.message, s.start_state, \
                 COALESCE(s.first_seen_run, fr.id), COALESCE(s.first_seen_at, fr.started_at), \
                 s.runs_seen, b.name, fr.id, fr.started_at, lr.id, lr.started_at, b.last_bseq \
                 FROM finding_spans s JOIN branches b ON b.id = s.branch_id \
                 LEFT JOIN runs fr ON fr.branch_id = s.branch_id AND fr.bseq = s.first_bseq \
                 LEFT JOIN runs lr ON lr.branch_id = s.branch_id AND lr.bseq = s.last_bseq \
                 WHERE s.fp_id = $1 ORDER BY COALESCE(s.first_seen_at, fr.started_at), s.id LIMIT {MAX_ROWS}"
            ),
            &[id.into()],
        )
        .await
        .db(store)?;
    let mut events = Vec::new();
    let mut view_spans = Vec::with_capacity(spans.len());
    for r in &spans {
        let state = State::of_code(r[5].int());
        let first_run = run_ref(&r[10], &r[11]);
        if let Some(run) = &first_run {
            events.push(FindingEvent {
                run: run.clone(),
                what: state.word(),
            });
        }
        view_spans.push(SpanView {
            branch: r[9].opt_text().filter(|b| !b.is_empty()),
            first_run,
            last_run: run_ref(&r[12], &r[13]),
            open: r[1].opt_int().is_none(),
            state,
            severity: severity_of(r[2].int()),
            accepted: r[3].int() == 1,
            message: r[4].text(),
        });
    }
    let first_seen = spans
        .iter()
        .filter_map(|r| run_ref(&r[6], &r[7]))
        .min_by_key(|run| run.started_at);
    let runs_seen = spans.last().map_or(0, |r| {
        let last = r[1].opt_int().unwrap_or(r[14].int());
        r[8].int() + last - r[0].int()
    });
    for r in conn
        .query(
            &format!(
                "SELECT r.id, r.started_at, g.fixed FROM finding_gone g JOIN runs r ON r.seq = g.run_seq \
                 WHERE g.fp_id = $1 ORDER BY r.seq LIMIT {MAX_ROWS}"
            ),
            &[id.into()],
        )
        .await
        .db(store)?
    {
        if let Some(run) = run_ref(&r[0], &r[1]) {
            let what = if r[2].int() != 0 { "fixed" } else { "not-checked" };
            events.push(FindingEvent { run, what });
        }
    }
    for r in conn
        .query(
            &format!(
                "SELECT r.id, r.started_at, m.state FROM finding_marks m JOIN runs r ON r.seq = m.run_seq \
                 WHERE m.fp_id = $1 ORDER BY r.seq LIMIT {MAX_ROWS}"
            ),
            &[id.into()],
        )
        .await
        .db(store)?
    {
        if let Some(run) = run_ref(&r[0], &r[1]) {
            events.retain(|e| e.run.id != run.id);
            events.push(FindingEvent {
                run,
                what: State::of_code(r[2].int()).word(),
            });
        }
    }
    events.sort_by_key(|e| e.run.started_at);
    Ok(Some(FindingView {
        fp: hex_id(id),
        suite: head[0].text(),
        page: hex_id(head[2].int()),
        key,
        group: head[1].text(),
        first_seen,
        runs_seen,
        open: view_spans.iter().any(|s| s.open),
        spans: view_spans,
        events,
    }))
}
