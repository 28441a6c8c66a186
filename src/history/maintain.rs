//! The history commands that change a store: `prune`, `rename`, `forget`,
//! each in one write transaction.

use super::db::{Conn, Value};
use super::{DbResult, HistoryError, Store};
use chrono::Utc;

/// What `prune` keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Runs that started within the last N days.
    Days(u32),
    /// The newest N runs of each suite.
    Runs(u32),
}

/// Opens `store` for a change and starts its write transaction.
async fn start_write(store: &Store) -> Result<Conn, HistoryError> {
    let mut conn = store.open_write().await?;
    conn.begin_write().await.db(store)?;
    Ok(conn)
}

/// Commits `result`'s transaction, or rolls it back on an error.
async fn finish<T>(
    conn: &mut Conn,
    store: &Store,
    result: Result<T, HistoryError>,
) -> Result<T, HistoryError> {
    match result {
        Ok(t) => {
            conn.commit_change().await.db(store)?;
            Ok(t)
        }
        Err(e) => {
            conn.rollback().await;
            Err(e)
        }
    }
}

/// The id of suite `name`, or a usage error naming the store.
async fn suite_id(conn: &mut Conn, store: &Store, name: &str) -> Result<i64, HistoryError> {
    conn.one("SELECT id FROM suites WHERE name = $1", &[name.into()])
        .await
        .db(store)?
        .map(|r| r[0].int())
        .ok_or_else(|| HistoryError::Usage(format!("no suite {name:?} in {}", store.shown())))
}

/// Removes old runs (of `suite`, else of every suite); what the kept runs
/// say (their findings, states, first seen, runs seen) does not change. The
/// number of runs removed.
pub async fn prune(store: &Store, suite: Option<&str>, keep: Keep) -> Result<u64, HistoryError> {
    let mut conn = start_write(store).await?;
    let conn = &mut conn;
    let result = async {
    let suites: Vec<i64> = match suite {
        Some(name) => vec![suite_id(conn, store, name).await?],
        None => conn
            .query("SELECT id FROM suites", &[])
            .await
            .db(store)?
            .iter()
            .map(|r| r[0].int())
            .collect(),
    };
    let mut doomed: Vec<i64> = Vec::new();
    for s in &suites {
        let runs = conn
            .query(
                "SELECT seq, started_at FROM runs WHERE suite_id = $1 ORDER BY seq DESC",
                &[Value::Int(*s)],
            )
            .await
            .db(store)?;
        let cutoff = match keep {
            Keep::Days(d) => Utc::now().timestamp_millis() - i64::from(d) * 86_400_000,
            Keep::Runs(_) => i64::MIN,
        };
        for (i, r) in runs.iter().enumerate() {
            let old = match keep {
                Keep::Runs(n) => i >= n as usize,
                Keep::Days(_) => r[1].int() < cutoff,
            };
            if old {
                doomed.push(r[0].int());
            }
        }
    }
    // Spans first seen in a run about to go keep its id and time.
    conn.exec_in(
        "UPDATE finding_spans SET first_seen_run = r.id, first_seen_at = r.started_at FROM runs r \
         WHERE r.branch_id = finding_spans.branch_id AND r.bseq = finding_spans.first_bseq \
         AND finding_spans.first_seen_run IS NULL AND r.seq IN ({ids})",
        &[],
        &doomed,
    )
    .await
    .db(store)?;
    for table in ["run_groups", "finding_marks", "finding_gone"] {
        conn.exec_in(&format!("DELETE FROM {table} WHERE run_seq IN ({{ids}})"), &[], &doomed)
            .await
            .db(store)?;
    }
    conn.exec_in("DELETE FROM runs WHERE seq IN ({ids})", &[], &doomed)
        .await
        .db(store)?;
    // Spans that ended before a branch's oldest kept run go with them.
    for s in &suites {
        for b in conn
            .query(
                "SELECT b.id, (SELECT MIN(r.bseq) FROM runs r WHERE r.branch_id = b.id) \
                 FROM branches b WHERE b.suite_id = $1",
                &[Value::Int(*s)],
            )
            .await
            .db(store)?
        {
            let oldest = b[1].opt_int().unwrap_or(i64::MAX);
            // A finding span stays while a kept run's fixed or not-checked
            // finding takes its severity and message from it.
            for (table, kept) in [
                ("page_spans", ""),
                ("finding_spans", " AND fp_id NOT IN (SELECT fp_id FROM finding_gone)"),
            ] {
                conn.exec(
                    &format!(
                        "DELETE FROM {table} WHERE branch_id = $1 AND \
                         ((last_bseq IS NOT NULL AND last_bseq < $2) OR $3 = 1){kept}"
                    ),
                    &[b[0].clone(), Value::Int(oldest), (oldest == i64::MAX).into()],
                )
                .await
                .db(store)?;
            }
        }
    }
    conn.batch(
        "DELETE FROM fingerprints WHERE NOT EXISTS (SELECT 1 FROM finding_spans s WHERE s.fp_id = fingerprints.id) \
         AND NOT EXISTS (SELECT 1 FROM finding_gone g WHERE g.fp_id = fingerprints.id) \
         AND NOT EXISTS (SELECT 1 FROM finding_marks m WHERE m.fp_id = fingerprints.id); \
         DELETE FROM pages WHERE NOT EXISTS (SELECT 1 FROM page_spans s WHERE s.page_id = pages.id) \
         AND NOT EXISTS (SELECT 1 FROM fingerprints f WHERE f.page_id = pages.id)",
    )
    .await
    .db(store)?;
    Ok(doomed.len() as u64)
    }
    .await;
    finish(conn, store, result).await
}

/// Renames suite `old` to `new`, keeping its history.
pub async fn rename_suite(store: &Store, old: &str, new: &str) -> Result<(), HistoryError> {
    let mut conn = start_write(store).await?;
    let conn = &mut conn;
    let result = async {
        let id = suite_id(conn, store, old).await?;
        if conn
            .one("SELECT id FROM suites WHERE name = $1", &[new.into()])
            .await
            .db(store)?
            .is_some()
        {
            return Err(HistoryError::Usage(format!(
                "suite {new:?} already has a history in {}: histories are not merged",
                store.shown()
            )));
        }
        conn.exec(
            "UPDATE suites SET name = $1 WHERE id = $2",
            &[new.into(), Value::Int(id)],
        )
        .await
        .db(store)
        .map(drop)
    }
    .await;
    finish(conn, store, result).await
}

/// Renames scenario `old` of `suite` to `new`, keeping its pages' and
/// findings' history (their ids do not depend on the name).
pub async fn rename_scenario(
    store: &Store,
    suite: &str,
    old: &str,
    new: &str,
) -> Result<(), HistoryError> {
    let mut conn = start_write(store).await?;
    let conn = &mut conn;
    let result = async {
        let sid = Value::Int(suite_id(conn, store, suite).await?);
        let find = "SELECT id FROM scenarios WHERE suite_id = $1 AND name = $2";
        let id = conn
            .one(find, &[sid.clone(), old.into()])
            .await
            .db(store)?
            .ok_or_else(|| {
                HistoryError::Usage(format!("suite {suite:?} has no scenario {old:?}"))
            })?;
        if conn
            .one(find, &[sid, new.into()])
            .await
            .db(store)?
            .is_some()
        {
            return Err(HistoryError::Usage(format!(
                "suite {suite:?} already has a scenario {new:?}: histories are not merged"
            )));
        }
        conn.exec(
            "UPDATE scenarios SET name = $1 WHERE id = $2",
            &[new.into(), id[0].clone()],
        )
        .await
        .db(store)
        .map(drop)
    }
    .await;
    finish(conn, store, result).await
}

/// Deletes everything the store holds of suite `name` (a client's data, gone).
pub async fn forget_suite(store: &Store, name: &str) -> Result<(), HistoryError> {
    let mut conn = start_write(store).await?;
    let conn = &mut conn;
    let result = async {
    let id = [Value::Int(suite_id(conn, store, name).await?)];
    for sql in [
        "DELETE FROM run_groups WHERE run_seq IN (SELECT seq FROM runs WHERE suite_id = $1)",
        "DELETE FROM finding_marks WHERE run_seq IN (SELECT seq FROM runs WHERE suite_id = $1)",
        "DELETE FROM finding_gone WHERE run_seq IN (SELECT seq FROM runs WHERE suite_id = $1)",
        "DELETE FROM runs WHERE suite_id = $1",
        "DELETE FROM finding_spans WHERE branch_id IN (SELECT id FROM branches WHERE suite_id = $1)",
        "DELETE FROM page_spans WHERE branch_id IN (SELECT id FROM branches WHERE suite_id = $1)",
        "DELETE FROM fingerprints WHERE page_id IN (SELECT p.id FROM pages p \
         JOIN scenarios sc ON sc.id = p.scenario_id WHERE sc.suite_id = $1)",
        "DELETE FROM pages WHERE scenario_id IN (SELECT id FROM scenarios WHERE suite_id = $1)",
        "DELETE FROM scenarios WHERE suite_id = $1",
        "DELETE FROM branches WHERE suite_id = $1",
        "DELETE FROM suites WHERE id = $1",
    ] {
        conn.exec(sql, &id).await.db(store)?;
    }
    Ok(())
    }
    .await;
    finish(conn, store, result).await
}
