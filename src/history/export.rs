//! `history export`: runs, page states and findings as CSV or JSON Lines for
//! spreadsheets and BI, read from the store without changing it. Page states
//! and findings are exported as stored, one row per unchanged stretch of runs
//! (first and last run), which a BI tool can expand; a page's verdict in a run
//! follows from its findings in that run.

use super::db::Value;
use super::query::list;
use super::{DbResult, HistoryError, Store};
use serde_json::{json, Map, Value as Json};
use std::io::Write;

/// Which table to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Table {
    /// One row per run.
    Runs,
    /// One row per page state over consecutive runs.
    Pages,
    /// One row per finding over consecutive runs.
    Findings,
}

/// The export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// Comma-separated values, one table, a header row first.
    Csv,
    /// One JSON object per line, each with its `kind`.
    Jsonl,
}

/// A CSV cell: quoted when needed, and a text that a spreadsheet would take
/// for a formula (`=`, `+`, `-`, `@`, and tab or carriage return) prefixed with `'`.
pub fn csv_cell(text: &str) -> String {
    let mut cell = String::with_capacity(text.len() + 2);
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        cell.push('\'');
    }
    cell.push_str(text);
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell
    }
}

fn text_of(v: &Json) -> String {
    match v {
        Json::Null => String::new(),
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Writes the `tables` of `store` (of `suite`, if given) to `out`.
pub async fn export(
    store: &Store,
    suite: Option<&str>,
    format: ExportFormat,
    tables: &[Table],
    out: &mut dyn Write,
) -> Result<(), HistoryError> {
    let io = |e: std::io::Error| HistoryError::Usage(format!("could not write the export: {e}"));
    for &table in tables {
        let (kind, columns, rows) = rows(store, suite, table).await?;
        if format == ExportFormat::Csv {
            let header: Vec<String> = columns.iter().map(|c| csv_cell(c)).collect();
            writeln!(out, "{}", header.join(",")).map_err(io)?;
        }
        for row in rows {
            match format {
                ExportFormat::Csv => {
                    let cells: Vec<String> = row.iter().map(|v| csv_cell(&text_of(v))).collect();
                    writeln!(out, "{}", cells.join(",")).map_err(io)?;
                }
                ExportFormat::Jsonl => {
                    let mut object = Map::new();
                    object.insert("kind".into(), json!(kind));
                    for (c, v) in columns.iter().zip(row) {
                        object.insert((*c).into(), v);
                    }
                    writeln!(out, "{}", Json::Object(object)).map_err(io)?;
                }
            }
        }
    }
    Ok(())
}

type Rows = (&'static str, Vec<&'static str>, Vec<Vec<Json>>);

fn time(ms: &Value) -> Json {
    ms.opt_int().map_or(Json::Null, |ms| {
        json!(super::states::millis(ms).to_rfc3339())
    })
}

fn opt(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Int(i) => json!(i),
        Value::Text(t) => json!(t),
    }
}

async fn rows(store: &Store, suite: Option<&str>, table: Table) -> Result<Rows, HistoryError> {
    if table == Table::Runs {
        let runs = list(store, suite, None).await?;
        let rows = runs
            .into_iter()
            .rev()
            .map(|r| match serde_json::to_value(r) {
                Ok(Json::Object(o)) => o.into_iter().map(|(_, v)| v).collect(),
                _ => Vec::new(),
            })
            .collect();
        let columns = vec![
            "id",
            "suite",
            "branch",
            "label",
            "shard",
            "started_at",
            "ended_at",
            "tool",
            "rules_version",
            "commit",
            "ci_job_url",
            "exit_code",
            "complete",
            "baseline",
            "baseline_run",
            "pages",
            "passed",
            "failed",
            "errors",
            "warnings",
            "accepted",
            "new",
            "reopened",
            "fixed",
            "not_checked",
        ];
        return Ok(("run", columns, rows));
    }
    let mut conn = store.open_read().await?;
    let span_runs = "LEFT JOIN runs r1 ON r1.branch_id = x.branch_id AND r1.bseq = x.first_bseq \
        LEFT JOIN runs r2 ON r2.branch_id = x.branch_id AND r2.bseq = COALESCE(x.last_bseq, b.last_bseq)";
    let filter = if suite.is_some() {
        "WHERE su.name = $1"
    } else {
        ""
    };
    let params: Vec<Value> = suite.map(|s| vec![s.into()]).unwrap_or_default();
    let (kind, columns, sql) = match table {
        Table::Pages => (
            "page",
            vec![
                "suite", "branch", "scenario", "path", "final_path", "unreachable", "rules",
                "first_run", "first_run_at", "last_run", "last_run_at", "still_current",
            ],
            format!(
                "SELECT su.name, b.name, sc.name, p.path, x.final_path, x.unreachable, rs.rules, \
                 r1.id, r1.started_at, r2.id, r2.started_at, x.last_bseq \
                 FROM page_spans x JOIN rule_sets rs ON rs.id = x.rule_set \
                 JOIN branches b ON b.id = x.branch_id JOIN suites su ON su.id = b.suite_id \
                 JOIN pages p ON p.id = x.page_id JOIN scenarios sc ON sc.id = p.scenario_id {span_runs} \
                 {filter} ORDER BY su.name, b.name, sc.name, p.path, x.first_bseq"
            ),
        ),
        _ => (
            "finding",
            vec![
                "suite", "branch", "scenario", "path", "view", "rule", "group", "attribute",
                "ordinal", "severity", "accepted", "message", "state_at_first_run",
                "first_seen_run", "first_seen_at", "first_run", "first_run_at", "last_run",
                "last_run_at", "still_current",
            ],
            format!(
                "SELECT su.name, b.name, sc.name, p.path, f.view, f.rule, f.grp, f.attribute, f.ordinal, \
                 x.severity, x.accepted, x.message, x.start_state, COALESCE(x.first_seen_run, r1.id), \
                 COALESCE(x.first_seen_at, r1.started_at), \
                 r1.id, r1.started_at, r2.id, r2.started_at, x.last_bseq \
                 FROM finding_spans x JOIN fingerprints f ON f.id = x.fp_id JOIN branches b ON b.id = x.branch_id \
                 JOIN suites su ON su.id = b.suite_id JOIN pages p ON p.id = f.page_id \
                 JOIN scenarios sc ON sc.id = p.scenario_id {span_runs} \
                 {filter} ORDER BY su.name, b.name, sc.name, p.path, f.rule, x.first_bseq"
            ),
        ),
    };
    let raw = conn.query(&sql, &params).await.db(store)?;
    let rows = raw
        .iter()
        .map(|r| {
            let n = r.len();
            let mut row: Vec<Json> = Vec::with_capacity(n);
            for (i, v) in r.iter().enumerate() {
                row.push(match (table, i) {
                    (Table::Pages, 5) => json!(v.int() != 0),
                    (Table::Pages, 8 | 10) | (Table::Findings, 14 | 16 | 18) => time(v),
                    (Table::Findings, 9) => json!(super::record::severity_of(v.int()).to_string()),
                    (Table::Findings, 10) => {
                        json!(["no", "yes", "expired"][v.int().clamp(0, 2) as usize])
                    }
                    (Table::Findings, 12) => json!(super::states::State::of_code(v.int()).word()),
                    (_, i) if i == n - 1 => json!(v.opt_int().is_none()),
                    _ => opt(v),
                });
            }
            row
        })
        .collect();
    Ok((kind, columns, rows))
}

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn formulas_are_defused_and_quotes_doubled() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-2"), "'-2");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("plain"), "plain");
    }
}
