//! How `history list` and `history show` print: a table for people, JSON or
//! CSV for tools.

use super::cli::ViewFormat;
use super::export::csv_cell;
use super::query::{RunDetail, RunRow};
use super::State;
use tabled::builder::Builder;
use tabled::settings::Style;

fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut builder = Builder::default();
    builder.push_record(header.iter().map(|h| h.to_string()));
    for row in rows {
        builder.push_record(row);
    }
    let mut table = builder.build();
    table.with(Style::sharp());
    format!("{table}\n")
}

fn csv(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut out = String::new();
    for row in std::iter::once(header.iter().map(|h| h.to_string()).collect()).chain(rows) {
        let cells: Vec<String> = row.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

fn or_dash(s: Option<&str>) -> String {
    s.unwrap_or("-").to_string()
}

/// `history list`: the runs, newest first.
pub(crate) fn runs(runs: &[RunRow], format: ViewFormat) -> String {
    let header = [
        "run", "time", "branch", "label", "pages", "errors", "warnings", "new", "fixed",
    ];
    let rows = runs
        .iter()
        .map(|r| {
            let mut id = r.id.clone();
            if !r.complete {
                id.push_str(" (incomplete)");
            }
            vec![
                id,
                r.started_at.format("%Y-%m-%d %H:%M").to_string(),
                or_dash(r.branch.as_deref()),
                or_dash(r.label.as_deref()),
                r.pages.to_string(),
                r.errors.to_string(),
                r.warnings.to_string(),
                (r.new + r.reopened).to_string(),
                r.fixed.to_string(),
            ]
        })
        .collect();
    match format {
        ViewFormat::Table if runs.is_empty() => "no runs recorded\n".into(),
        ViewFormat::Table => table(&header, rows),
        ViewFormat::Csv => csv(&header, rows),
        ViewFormat::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(runs).unwrap_or_default()
        ),
    }
}

/// "new", "reopened", or "open since 2026-11-02".
fn age(state: State, since: chrono::DateTime<chrono::Utc>) -> String {
    match state {
        State::Open => format!("open since {}", since.format("%Y-%m-%d")),
        other => other.word().to_string(),
    }
}

/// `history show RUN`: the run, its pages, findings and what it fixed.
pub(crate) fn detail(d: &RunDetail, format: ViewFormat) -> String {
    let finding_rows: Vec<Vec<String>> = d
        .findings
        .iter()
        .map(|f| {
            let mut accepted = String::new();
            if f.accepted {
                accepted = "accepted".into();
            } else if f.accept_expired {
                accepted = "accept expired".into();
            }
            vec![
                f.key.scenario.clone(),
                f.key.path.clone(),
                f.key.rule.id().to_string(),
                f.key.attribute.clone(),
                f.severity.to_string(),
                age(f.history.state, f.history.first_seen_at),
                f.history.runs_seen.to_string(),
                accepted,
                f.message.clone(),
            ]
        })
        .collect();
    let header = [
        "scenario",
        "page",
        "rule",
        "attribute",
        "severity",
        "state",
        "runs seen",
        "accepted",
        "message",
    ];
    match format {
        ViewFormat::Json => format!("{}\n", serde_json::to_string_pretty(d).unwrap_or_default()),
        ViewFormat::Csv => csv(&header, finding_rows),
        ViewFormat::Table => {
            let r = &d.run;
            let mut out = format!(
                "run {} ({}), {} to {}, branch {}, label {}, tool {}, baseline {}\n\
                 {} pages: {} passed, {} failed; {} errors, {} warnings, {} accepted; \
                 {} new, {} reopened, {} fixed, {} not checked\n\n",
                r.id,
                r.suite,
                r.started_at.format("%Y-%m-%d %H:%M:%S"),
                r.ended_at.format("%H:%M:%S"),
                or_dash(r.branch.as_deref()),
                or_dash(r.label.as_deref()),
                r.tool,
                or_dash(r.baseline_run.as_deref()),
                r.pages,
                r.passed,
                r.failed,
                r.errors,
                r.warnings,
                r.accepted,
                r.new,
                r.reopened,
                r.fixed,
                r.not_checked
            );
            let pages = d
                .pages
                .iter()
                .map(|p| {
                    let landed = match p.final_path.as_deref() {
                        Some(f) if f != p.path => format!("{} → {f}", p.path),
                        _ => p.path.clone(),
                    };
                    vec![
                        p.scenario.clone(),
                        landed,
                        p.verdict.to_string(),
                        p.errors.to_string(),
                        p.warnings.to_string(),
                        p.accepted.to_string(),
                    ]
                })
                .collect();
            out.push_str(&table(
                &[
                    "scenario", "page", "verdict", "errors", "warnings", "accepted",
                ],
                pages,
            ));
            if !finding_rows.is_empty() {
                out.push_str("\nFindings:\n");
                out.push_str(&table(&header, finding_rows));
            }
            for (title, list) in [("Fixed", &d.fixed), ("Not checked", &d.not_checked)] {
                if list.is_empty() {
                    continue;
                }
                out.push_str(&format!("\n{title}:\n"));
                for g in list {
                    out.push_str(&format!(
                        "  {:<7} {} {}  {} [{}]\n",
                        g.severity.to_string(),
                        g.key.rule,
                        g.key.attribute,
                        g.key.path,
                        g.key.scenario
                    ));
                }
            }
            out
        }
    }
}
