//! Recording a run: its states computed against the baseline and the run
//! inserted in one transaction, under the store's write lock.

use super::db::{Conn, Value};
use super::model::{FindingInput, PageInput, RunInput};
use super::states::{
    millis, stable_id, BaseFinding, FindingHistory, FindingSpan, GoneFinding, PageSpan, Past, State,
};
use super::{DbResult, HistoryError, Store};
use crate::rules::{Group, Rule, Severity};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// Which runs a run is compared with (`--baseline`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Baseline {
    /// The suite's latest complete run on the same branch, else on any branch.
    #[default]
    Last,
    /// A named run (which must be complete).
    Run(String),
    /// The latest complete run with this label.
    Label(String),
    /// The latest complete run of this branch.
    Branch(String),
}

impl std::str::FromStr for Baseline {
    type Err = String;

    /// `last`, `run:ID`, `label:TEXT`, `branch:NAME`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once(':') {
            None if s == "last" => Ok(Baseline::Last),
            Some(("run", id)) if !id.is_empty() => Ok(Baseline::Run(id.into())),
            Some(("label", l)) if !l.is_empty() => Ok(Baseline::Label(l.into())),
            Some(("branch", b)) if !b.is_empty() => Ok(Baseline::Branch(b.into())),
            _ => Err(format!(
                "--baseline {s}: give last, run:ID, label:TEXT or branch:NAME"
            )),
        }
    }
}

impl std::fmt::Display for Baseline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Baseline::Last => f.write_str("last"),
            Baseline::Run(id) => write!(f, "run:{id}"),
            Baseline::Label(l) => write!(f, "label:{l}"),
            Baseline::Branch(b) => write!(f, "branch:{b}"),
        }
    }
}

/// What recording a run found: the states to put in its reports.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Recorded {
    /// The store, its password redacted.
    pub store: String,
    /// The baseline as asked (`last`, `branch:main`…).
    pub baseline_spec: String,
    /// The baseline run's id; `None` when the suite had none (all is new).
    pub baseline: Option<String>,
    /// Per finding of the run, in the run's order.
    pub findings: Vec<FindingHistory>,
    /// The baseline's findings this run checked and did not find.
    pub fixed: Vec<GoneFinding>,
    /// The baseline's findings this run did not check (page not audited, on
    /// another final path, or rule off).
    pub not_checked: Vec<GoneFinding>,
}

/// The baseline run found for a suite.
pub(crate) struct BaseRun {
    pub(crate) id: String,
    pub(crate) branch_id: i64,
    pub(crate) bseq: i64,
}

/// Finds the baseline run of `suite_id` for a run on `branch`.
pub(crate) async fn resolve(
    conn: &mut Conn,
    store: &Store,
    suite_id: i64,
    branch: &str,
    spec: &Baseline,
) -> Result<Option<BaseRun>, HistoryError> {
    const SELECT: &str = "SELECT r.id, r.branch_id, r.bseq, r.complete FROM runs r \
        JOIN branches b ON b.id = r.branch_id WHERE r.suite_id = $1";
    let order = "ORDER BY r.seq DESC LIMIT 1";
    let suite = Value::Int(suite_id);
    let row = match spec {
        Baseline::Last => {
            let on_branch = conn
                .one(
                    &format!("{SELECT} AND r.complete = 1 AND b.name = $2 {order}"),
                    &[suite.clone(), branch.into()],
                )
                .await
                .db(store)?;
            match on_branch {
                Some(row) => Some(row),
                None => conn
                    .one(&format!("{SELECT} AND r.complete = 1 {order}"), &[suite])
                    .await
                    .db(store)?,
            }
        }
        Baseline::Run(id) => {
            let row = conn
                .one(
                    &format!("{SELECT} AND r.id = $2"),
                    &[suite, id.as_str().into()],
                )
                .await
                .db(store)?
                .ok_or_else(|| {
                    HistoryError::Usage(format!("--baseline run:{id}: no such run in this suite"))
                })?;
            if row[3].int() == 0 {
                return Err(HistoryError::Usage(format!(
                    "--baseline run:{id}: that run is incomplete, and an incomplete run is never a baseline"
                )));
            }
            Some(row)
        }
        Baseline::Label(label) => conn
            .one(
                &format!("{SELECT} AND r.complete = 1 AND r.label = $2 {order}"),
                &[suite, label.as_str().into()],
            )
            .await
            .db(store)?,
        Baseline::Branch(name) => conn
            .one(
                &format!("{SELECT} AND r.complete = 1 AND b.name = $2 {order}"),
                &[suite, name.as_str().into()],
            )
            .await
            .db(store)?,
    };
    Ok(row.map(|r| BaseRun {
        id: r[0].text(),
        branch_id: r[1].int(),
        bseq: r[2].int(),
    }))
}

/// An id by name, inserted when missing.
async fn id_of(
    conn: &mut Conn,
    store: &Store,
    select: &str,
    insert: &str,
    params: &[Value],
) -> Result<i64, HistoryError> {
    if let Some(row) = conn.one(select, params).await.db(store)? {
        return Ok(row[0].int());
    }
    let row = conn.one(insert, params).await.db(store)?;
    Ok(row.map(|r| r[0].int()).unwrap_or_default())
}

/// The rules of a page as stored: ids joined by commas, in catalogue order.
pub(crate) fn rules_text(rules: &BTreeSet<Rule>) -> String {
    rules.iter().map(|r| r.id()).collect::<Vec<_>>().join(",")
}

/// The rules of a stored rule set.
pub(crate) fn rules_of(text: &str) -> BTreeSet<Rule> {
    text.split(',').filter_map(Rule::from_id).collect()
}

/// The stored code of a severity.
pub(crate) fn severity_code(s: Severity) -> i64 {
    match s {
        Severity::Warning => 0,
        Severity::Error => 1,
    }
}

/// The severity of a stored code.
pub(crate) fn severity_of(code: i64) -> Severity {
    if code == 1 {
        Severity::Error
    } else {
        Severity::Warning
    }
}

/// Records `run` into `store`, compared with `baseline`: its states are
/// computed and the run inserted in one transaction. A run id the store
/// already holds is refused; on any error the store is left as it was.
pub async fn record(
    store: &Store,
    run: &RunInput,
    baseline: &Baseline,
) -> Result<Recorded, HistoryError> {
    if run.id.trim().is_empty() || run.suite.trim().is_empty() {
        return Err(HistoryError::Usage(
            "a run to record needs an id and a suite".into(),
        ));
    }
    let mut conn = store.open_write().await?;
    conn.begin_write().await.db(store)?;
    match record_in(&mut conn, store, run, baseline).await {
        Ok(recorded) => {
            crate::fault::abort_at(crate::fault::Place::Record, "before-commit");
            conn.commit_change().await.db(store)?;
            tracing::debug!(store = %store.shown(), run = %run.id, "recorded the run");
            Ok(recorded)
        }
        Err(e) => {
            conn.rollback().await;
            Err(e)
        }
    }
}

/// Whether `suite` has a baseline for a run on `branch` (`--require-baseline`).
/// A store that does not exist yet has none.
pub async fn has_baseline(
    store: &Store,
    suite: &str,
    branch: Option<&str>,
    baseline: &Baseline,
) -> Result<bool, HistoryError> {
    if let Store::Sqlite(path) = store {
        if !path.exists() {
            return Ok(false);
        }
    }
    let mut conn = store.open_write().await?;
    let Some(suite) = conn
        .one("SELECT id FROM suites WHERE name = $1", &[suite.into()])
        .await
        .db(store)?
    else {
        return Ok(false);
    };
    match resolve(
        &mut conn,
        store,
        suite[0].int(),
        branch.unwrap_or(""),
        baseline,
    )
    .await
    {
        Ok(found) => Ok(found.is_some()),
        Err(HistoryError::Usage(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The page id of `path` in scenario `scenario_id`.
pub(crate) fn page_id(scenario_id: i64, path: &str) -> i64 {
    stable_id(&["page", &scenario_id.to_string(), path])
}

fn fingerprint_id(page: i64, f: &FindingInput) -> i64 {
    let k = &f.key;
    stable_id(&[
        "finding",
        &page.to_string(),
        k.rule.id(),
        &k.view,
        &k.attribute,
        &k.ordinal.to_string(),
    ])
}

async fn record_in(
    conn: &mut Conn,
    store: &Store,
    run: &RunInput,
    baseline: &Baseline,
) -> Result<Recorded, HistoryError> {
    if conn
        .one(
            "SELECT seq FROM runs WHERE id = $1",
            &[run.id.as_str().into()],
        )
        .await
        .db(store)?
        .is_some()
    {
        return Err(HistoryError::Usage(format!(
            "the store already holds run {}: a run is recorded once",
            run.id
        )));
    }
    let suite_id = id_of(
        conn,
        store,
        "SELECT id FROM suites WHERE name = $1",
        "INSERT INTO suites (name) VALUES ($1) RETURNING id",
        &[run.suite.as_str().into()],
    )
    .await?;
    let mut scenario_ids: HashMap<&str, i64> = HashMap::new();
    for name in run.pages.iter().map(|p| p.scenario.as_str()) {
        if !scenario_ids.contains_key(name) {
            let id = id_of(
                conn,
                store,
                "SELECT id FROM scenarios WHERE suite_id = $1 AND name = $2",
                "INSERT INTO scenarios (suite_id, name) VALUES ($1, $2) RETURNING id",
                &[suite_id.into(), name.into()],
            )
            .await?;
            scenario_ids.insert(name, id);
        }
    }
    let branch = run.branch.clone().unwrap_or_default();
    let branch_row = conn
        .one(
            "SELECT id, last_bseq FROM branches WHERE suite_id = $1 AND name = $2",
            &[suite_id.into(), branch.as_str().into()],
        )
        .await
        .db(store)?;
    let (branch_id, bseq) = match branch_row {
        Some(r) => (r[0].int(), r[1].int() + 1),
        None => {
            let row = conn
                .one(
                    "INSERT INTO branches (suite_id, name, last_bseq) VALUES ($1, $2, 0) RETURNING id",
                    &[suite_id.into(), branch.as_str().into()],
                )
                .await
                .db(store)?;
            (row.map(|r| r[0].int()).unwrap_or_default(), 1)
        }
    };
    let base = resolve(conn, store, suite_id, &branch, baseline).await?;

    // This run's pages and findings by id (a page or finding given twice counts once).
    let mut pages: HashMap<i64, &PageInput> = HashMap::new();
    let mut page_order: Vec<i64> = Vec::new();
    for p in &run.pages {
        let id = page_id(scenario_ids[p.scenario.as_str()], &p.path);
        if pages.insert(id, p).is_none() {
            page_order.push(id);
        }
    }
    let mut findings: Vec<(i64, i64, &FindingInput)> = Vec::new();
    let mut present: HashSet<i64> = HashSet::new();
    for f in &run.findings {
        let Some(&scenario) = scenario_ids.get(f.key.scenario.as_str()) else {
            return Err(HistoryError::Usage(format!(
                "run {}: a finding on {} [{}], a page the run did not audit",
                run.id, f.key.path, f.key.scenario
            )));
        };
        let page = page_id(scenario, &f.key.path);
        if !pages.contains_key(&page) {
            return Err(HistoryError::Usage(format!(
                "run {}: a finding on {} [{}], a page the run did not audit",
                run.id, f.key.path, f.key.scenario
            )));
        }
        let fp = fingerprint_id(page, f);
        present.insert(fp);
        findings.push((fp, page, f));
    }

    let rule_sets = load_rule_sets(conn, store).await?;
    let past = match &base {
        Some(b) => load_past(conn, store, b, &rule_sets, &findings).await?,
        None => Past::default(),
    };
    let histories: Vec<FindingHistory> = findings
        .iter()
        .map(|&(fp, page, f)| {
            past.state_of(fp, page, pages[&page], f.key.rule, &run.id, run.started_at)
        })
        .collect();
    let (fixed, not_checked) = past.gone(&present, &pages);

    super::write::write_run(
        conn,
        store,
        super::write::RunWrite {
            run,
            suite_id,
            branch_id,
            bseq,
            baseline: baseline.to_string(),
            base_id: base.as_ref().map(|b| b.id.clone()),
            base_at: base.as_ref().map(|b| (b.branch_id, b.bseq)),
            pages: &pages,
            page_order: &page_order,
            findings: &findings,
            histories: &histories,
            fixed: &fixed,
            not_checked: &not_checked,
            rule_sets,
            scenario_ids: &scenario_ids,
        },
    )
    .await?;
    Ok(Recorded {
        store: store.shown(),
        baseline_spec: baseline.to_string(),
        baseline: base.map(|b| b.id),
        findings: histories,
        fixed: fixed.into_iter().map(|(_, g)| g).collect(),
        not_checked: not_checked.into_iter().map(|(_, g)| g).collect(),
    })
}

/// Every stored rule set by id.
async fn load_rule_sets(
    conn: &mut Conn,
    store: &Store,
) -> Result<HashMap<i64, Arc<BTreeSet<Rule>>>, HistoryError> {
    Ok(conn
        .query("SELECT id, rules FROM rule_sets", &[])
        .await
        .db(store)?
        .into_iter()
        .map(|r| (r[0].int(), Arc::new(rules_of(&r[1].text()))))
        .collect())
}

/// The baseline branch's spans up to the baseline run: pages, this run's
/// findings, and the baseline run's own findings.
async fn load_past(
    conn: &mut Conn,
    store: &Store,
    base: &BaseRun,
    rule_sets: &HashMap<i64, Arc<BTreeSet<Rule>>>,
    findings: &[(i64, i64, &FindingInput)],
) -> Result<Past, HistoryError> {
    let (bb, xb) = (Value::Int(base.branch_id), Value::Int(base.bseq));
    let clip = |last: &Value| last.opt_int().map_or(base.bseq, |l| l.min(base.bseq));
    let mut past = Past {
        base_bseq: base.bseq,
        ..Past::default()
    };
    let empty = Arc::new(BTreeSet::new());
    for r in conn
        .query(
            "SELECT page_id, first_bseq, last_bseq, final_path, unreachable, rule_set FROM page_spans \
             WHERE branch_id = $1 AND first_bseq <= $2",
            &[bb.clone(), xb.clone()],
        )
        .await
        .db(store)?
    {
        past.pages.entry(r[0].int()).or_default().push(PageSpan {
            first: r[1].int(),
            last: clip(&r[2]),
            final_path: r[3].opt_text(),
            unreachable: r[4].int() != 0,
            judged: rule_sets.get(&r[5].int()).unwrap_or(&empty).clone(),
        });
    }
    let ids: Vec<i64> = findings.iter().map(|f| f.0).collect();
    for r in conn
        .query_in(
            "SELECT s.fp_id, s.first_bseq, s.last_bseq, COALESCE(s.first_seen_run, fr.id), \
             COALESCE(s.first_seen_at, fr.started_at) FROM finding_spans s \
             LEFT JOIN runs fr ON fr.branch_id = s.branch_id AND fr.bseq = s.first_bseq \
             WHERE s.branch_id = $1 AND s.first_bseq <= $2 AND s.fp_id IN ({ids})",
            &[bb.clone(), xb.clone()],
            &ids,
        )
        .await
        .db(store)?
    {
        past.findings
            .entry(r[0].int())
            .or_default()
            .push(FindingSpan {
                first: r[1].int(),
                last: clip(&r[2]),
                first_seen_run: r[3].text(),
                first_seen_at: r[4].int(),
            });
    }
    for r in conn
        .query(
            "SELECT s.fp_id, f.page_id, f.rule, s.severity, s.message, p.path, sc.name, f.view, \
             f.attribute, f.ordinal FROM finding_spans s JOIN fingerprints f ON f.id = s.fp_id \
             JOIN pages p ON p.id = f.page_id JOIN scenarios sc ON sc.id = p.scenario_id \
             WHERE s.branch_id = $1 AND s.first_bseq <= $2 AND (s.last_bseq IS NULL OR s.last_bseq >= $2)",
            &[bb, xb],
        )
        .await
        .db(store)?
    {
        let Some(rule) = Rule::from_id(&r[2].text()) else {
            continue;
        };
        past.base.push(BaseFinding {
            fp: r[0].int(),
            page: r[1].int(),
            severity: severity_of(r[3].int()),
            message: r[4].text(),
            key: super::model::FindingKey {
                scenario: r[6].text(),
                path: r[5].text(),
                view: r[7].text(),
                rule,
                attribute: r[8].text(),
                ordinal: r[9].int() as u32,
            },
        });
    }
    Ok(past)
}

/// Errors, warnings and accepted findings per rule group.
pub(crate) fn group_counts(findings: &[(i64, i64, &FindingInput)]) -> Vec<(Group, [i64; 3])> {
    let mut counts: Vec<(Group, [i64; 3])> = Group::ALL.iter().map(|&g| (g, [0; 3])).collect();
    for (_, _, f) in findings {
        if let Some((_, c)) = counts.iter_mut().find(|(g, _)| *g == f.group) {
            let slot = if f.accepted {
                2
            } else if f.severity == Severity::Error {
                0
            } else {
                1
            };
            c[slot] += 1;
        }
    }
    counts
}

/// The state code and first-seen of a history, as stored.
pub(crate) fn history_values(h: &FindingHistory) -> [Value; 4] {
    [
        Value::Int(h.state.code()),
        h.first_seen_run.as_str().into(),
        Value::Int(h.first_seen_at.timestamp_millis()),
        Value::Int(h.runs_seen as i64),
    ]
}

/// The history a finding has in a run where its span implies it: the span's
/// own at its first run, then open with one more run seen each run.
pub(crate) fn derived(
    bseq: i64,
    first_bseq: i64,
    start_state: i64,
    first_seen_run: String,
    first_seen_at: i64,
    runs_seen: i64,
) -> FindingHistory {
    let state = if bseq == first_bseq {
        State::of_code(start_state)
    } else {
        State::Open
    };
    FindingHistory {
        state,
        first_seen_run,
        first_seen_at: millis(first_seen_at),
        runs_seen: (runs_seen + bseq - first_bseq) as u64,
    }
}
