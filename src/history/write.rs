//! Writing a run: its row, and the spans of its branch extended, closed or
//! begun. A page or finding unchanged since the branch's last run writes
//! nothing; only changes add rows.

use super::db::{Conn, Value};
use super::model::{FindingInput, PageInput, RunInput};
use super::record::{derived, group_counts, history_values, page_id, rules_text, severity_code};
use super::states::{accept_code, FindingHistory, GoneFinding};
use super::{DbResult, HistoryError, Store};
use crate::rules::Rule;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// Everything [`write_run`] writes.
pub(crate) struct RunWrite<'a> {
    pub(crate) run: &'a RunInput,
    pub(crate) suite_id: i64,
    pub(crate) branch_id: i64,
    pub(crate) bseq: i64,
    pub(crate) baseline: String,
    pub(crate) base_id: Option<String>,
    /// The baseline's branch and number on it.
    pub(crate) base_at: Option<(i64, i64)>,
    pub(crate) pages: &'a HashMap<i64, &'a PageInput>,
    pub(crate) page_order: &'a [i64],
    pub(crate) findings: &'a [(i64, i64, &'a FindingInput)],
    pub(crate) histories: &'a [FindingHistory],
    pub(crate) fixed: &'a [(i64, GoneFinding)],
    pub(crate) not_checked: &'a [(i64, GoneFinding)],
    pub(crate) rule_sets: HashMap<i64, Arc<BTreeSet<Rule>>>,
    pub(crate) scenario_ids: &'a HashMap<&'a str, i64>,
}

/// Writes the run (inside the caller's transaction).
pub(crate) async fn write_run(
    conn: &mut Conn,
    store: &Store,
    w: RunWrite<'_>,
) -> Result<(), HistoryError> {
    let run = w.run;
    let close_at = Value::Int(w.bseq - 1);

    // Rule sets: the distinct sets of judging rules, stored once each.
    let mut set_ids: HashMap<String, i64> = w
        .rule_sets
        .iter()
        .map(|(id, rules)| (rules_text(rules), *id))
        .collect();
    for p in w.pages.values() {
        if let std::collections::hash_map::Entry::Vacant(slot) =
            set_ids.entry(rules_text(&p.judged))
        {
            let row = conn
                .one(
                    "INSERT INTO rule_sets (rules) VALUES ($1) RETURNING id",
                    &[slot.key().as_str().into()],
                )
                .await
                .db(store)?;
            slot.insert(row.map(|r| r[0].int()).unwrap_or_default());
        }
    }

    // Page spans: an open span whose state is unchanged goes on.
    let mut open: HashMap<i64, (i64, Vec<Value>)> = HashMap::new();
    for r in conn
        .query(
            "SELECT id, page_id, final_path, unreachable, rule_set \
             FROM page_spans WHERE branch_id = $1 AND last_bseq IS NULL",
            &[w.branch_id.into()],
        )
        .await
        .db(store)?
    {
        open.insert(r[1].int(), (r[0].int(), r[2..].to_vec()));
    }
    let mut close = Vec::new();
    let mut new_spans = Vec::new();
    let mut new_pages = Vec::new();
    for id in w.page_order {
        let p = w.pages[id];
        let state = vec![
            Value::from(p.final_path.clone()),
            Value::from(p.unreachable()),
            Value::Int(set_ids[&rules_text(&p.judged)]),
        ];
        match open.remove(id) {
            Some((_, was)) if was == state => continue,
            Some((span, _)) => close.push(span),
            None => {}
        }
        let scenario = w.scenario_ids[p.scenario.as_str()];
        debug_assert_eq!(page_id(scenario, &p.path), *id);
        new_pages.extend([
            Value::Int(*id),
            Value::Int(scenario),
            p.path.as_str().into(),
        ]);
        new_spans.extend([Value::Int(*id), w.branch_id.into(), w.bseq.into()]);
        new_spans.extend(state);
    }
    close.extend(open.into_values().map(|(span, _)| span));
    conn.exec_in(
        "UPDATE page_spans SET last_bseq = $1 WHERE id IN ({ids})",
        std::slice::from_ref(&close_at),
        &close,
    )
    .await
    .db(store)?;
    conn.insert_many(
        "INSERT INTO pages (id, scenario_id, path)",
        3,
        new_pages,
        "ON CONFLICT (id) DO NOTHING",
    )
    .await
    .db(store)?;
    conn.insert_many(
        "INSERT INTO page_spans (page_id, branch_id, first_bseq, final_path, unreachable, rule_set)",
        6,
        new_spans,
        "",
    )
    .await
    .db(store)?;

    // Finding spans: an open span with the same severity, acceptance and
    // message goes on; a state its span does not imply is marked for this run.
    struct Open {
        id: i64,
        same: (i64, i64, String),
        first_bseq: i64,
        start: i64,
        first_seen_run: String,
        first_seen_at: i64,
        runs_seen: i64,
    }
    let mut open: HashMap<i64, Open> = HashMap::new();
    for r in conn
        .query(
            "SELECT s.id, s.fp_id, s.severity, s.accepted, s.message, s.first_bseq, s.start_state, \
             COALESCE(s.first_seen_run, fr.id), COALESCE(s.first_seen_at, fr.started_at), s.runs_seen \
             FROM finding_spans s LEFT JOIN runs fr ON fr.branch_id = s.branch_id AND fr.bseq = s.first_bseq \
             WHERE s.branch_id = $1 AND s.last_bseq IS NULL",
            &[w.branch_id.into()],
        )
        .await
        .db(store)?
    {
        open.insert(
            r[1].int(),
            Open {
                id: r[0].int(),
                same: (r[2].int(), r[3].int(), r[4].text()),
                first_bseq: r[5].int(),
                start: r[6].int(),
                first_seen_run: r[7].text(),
                first_seen_at: r[8].int(),
                runs_seen: r[9].int(),
            },
        );
    }
    let mut close = Vec::new();
    let mut spans = Vec::new();
    let mut prints = Vec::new();
    let mut marks = Vec::new();
    for (&(fp, page, f), h) in w.findings.iter().zip(w.histories) {
        let same = (severity_code(f.severity), accept_code(f), f.message.clone());
        match open.remove(&fp) {
            Some(o) if o.same == same => {
                let implied = derived(
                    w.bseq,
                    o.first_bseq,
                    o.start,
                    o.first_seen_run,
                    o.first_seen_at,
                    o.runs_seen,
                );
                if implied != *h {
                    marks.extend([Value::Null, Value::Int(fp)]);
                    marks.extend(history_values(h));
                }
                continue;
            }
            Some(o) => close.push(o.id),
            None => {}
        }
        let k = &f.key;
        prints.extend([
            Value::Int(fp),
            Value::Int(page),
            k.rule.id().into(),
            f.group.title().into(),
            k.view.as_str().into(),
            k.attribute.as_str().into(),
            Value::Int(k.ordinal.into()),
        ]);
        spans.extend([Value::Int(fp), w.branch_id.into(), w.bseq.into()]);
        spans.extend([Value::Int(same.0), Value::Int(same.1), same.2.into()]);
        let mut values = history_values(h);
        if h.first_seen_run == run.id {
            // First seen in the span's own first run: said by the run's row.
            values[1] = Value::Null;
            values[2] = Value::Null;
        }
        spans.extend(values);
    }
    close.extend(open.into_values().map(|o| o.id));
    conn.exec_in(
        "UPDATE finding_spans SET last_bseq = $1 WHERE id IN ({ids})",
        std::slice::from_ref(&close_at),
        &close,
    )
    .await
    .db(store)?;
    conn.insert_many(
        "INSERT INTO fingerprints (id, page_id, rule, grp, view, attribute, ordinal)",
        7,
        prints,
        "ON CONFLICT (id) DO NOTHING",
    )
    .await
    .db(store)?;
    conn.insert_many(
        "INSERT INTO finding_spans (fp_id, branch_id, first_bseq, severity, accepted, message, \
         start_state, first_seen_run, first_seen_at, runs_seen)",
        10,
        spans,
        "",
    )
    .await
    .db(store)?;

    // The run's row, then what refers to its number.
    let count =
        |s: super::states::State| w.histories.iter().filter(|h| h.state == s).count() as i64;
    let sum = &run.summary;
    let row = conn
        .one(
            "INSERT INTO runs (id, suite_id, branch_id, bseq, shard, label, started_at, ended_at, \
             recorded_at, tool, rules_version, commit_sha, ci_url, exit_code, complete, baseline, \
             baseline_run, pages, passed, failed, errors, warnings, accepted, new_count, reopened, \
             fixed, not_checked, baseline_branch, baseline_bseq) VALUES ($1, $2, $3, $4, $5, $6, $7, \
             $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, \
             $26, $27, $28, $29) RETURNING seq",
            &[
                run.id.as_str().into(),
                w.suite_id.into(),
                w.branch_id.into(),
                w.bseq.into(),
                run.shard.clone().into(),
                run.label.clone().into(),
                run.started_at.timestamp_millis().into(),
                run.ended_at.timestamp_millis().into(),
                chrono::Utc::now().timestamp_millis().into(),
                run.tool_version.as_str().into(),
                run.rules_version.as_str().into(),
                run.commit.clone().into(),
                run.ci_job_url.clone().into(),
                run.exit_code.map(i64::from).into(),
                run.complete.into(),
                w.baseline.as_str().into(),
                w.base_id.clone().into(),
                (sum.pages as i64).into(),
                (sum.passed as i64).into(),
                (sum.failed as i64).into(),
                (sum.errors as i64).into(),
                (sum.warnings as i64).into(),
                (sum.accepted as i64).into(),
                count(super::states::State::New).into(),
                count(super::states::State::Reopened).into(),
                (w.fixed.len() as i64).into(),
                (w.not_checked.len() as i64).into(),
                w.base_at.map(|b| b.0).into(),
                w.base_at.map(|b| b.1).into(),
            ],
        )
        .await
        .db(store)?;
    let seq = row.map(|r| r[0].int()).unwrap_or_default();
    // Marks were gathered before the run had its number.
    for chunk in marks.chunks_mut(6) {
        chunk[0] = Value::Int(seq);
    }
    conn.insert_many(
        "INSERT INTO finding_marks (run_seq, fp_id, state, first_seen_run, first_seen_at, runs_seen)",
        6,
        marks,
        "",
    )
    .await
    .db(store)?;
    let mut gone = Vec::new();
    for (fixed, list) in [(true, w.fixed), (false, w.not_checked)] {
        for (fp, _) in list {
            gone.extend([Value::Int(seq), Value::Int(*fp), fixed.into()]);
        }
    }
    conn.insert_many(
        "INSERT INTO finding_gone (run_seq, fp_id, fixed)",
        3,
        gone,
        "",
    )
    .await
    .db(store)?;
    let mut groups = Vec::new();
    for (group, [e, wn, a]) in group_counts(w.findings) {
        groups.extend([
            Value::Int(seq),
            group.title().into(),
            e.into(),
            wn.into(),
            a.into(),
        ]);
    }
    conn.insert_many(
        "INSERT INTO run_groups (run_seq, grp, errors, warnings, accepted)",
        5,
        groups,
        "",
    )
    .await
    .db(store)?;
    conn.exec(
        "UPDATE branches SET last_bseq = $1 WHERE id = $2",
        &[w.bseq.into(), w.branch_id.into()],
    )
    .await
    .db(store)?;
    Ok(())
}
