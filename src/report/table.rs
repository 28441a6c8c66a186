//! The compliance table of rules.md: a row per page and scenario, a column per
//! requirement group, a verdict, and a summary line.

use super::{Format, PageReport, Report};
use crate::finding::distinct_rules;
use crate::rules::Group;
use tabled::builder::Builder;
use tabled::settings::Style;

/// The terminal table.
pub struct Table;

impl Format for Table {
    fn render(&self, report: &Report) -> Vec<u8> {
        let mut builder = Builder::default();
        let mut header = vec!["page".to_string(), "scenario".to_string()];
        header.extend(Group::ALL.iter().map(|g| g.title().to_string()));
        header.push("verdict".into());
        builder.push_record(header);
        for page in &report.pages {
            let mut row = vec![page.label(), page.scenario.clone()];
            row.extend(Group::ALL.iter().map(|g| page.cell(*g)));
            row.push(page.verdict().into());
            builder.push_record(row);
        }
        let mut table = builder.build();
        table.with(Style::sharp());
        let s = &report.summary;
        let mut out = format!("{table}\n");
        out.push_str(&format!(
            "{} pages: {} passed, {} failed; {} errors, {} warnings",
            s.pages, s.passed, s.failed, s.errors, s.warnings
        ));
        if s.accepted > 0 {
            out.push_str(&format!("; {} accepted", s.accepted));
        }
        out.push('\n');
        out.push_str(&session_comparison(report));
        let failing: Vec<_> = report
            .pages
            .iter()
            .filter(|p| !p.findings.is_empty() || !p.notes.is_empty())
            .collect();
        if !failing.is_empty() {
            out.push('\n');
        }
        for page in failing {
            out.push_str(&format!("{} [{}]\n", page.url, page.scenario));
            for f in page.counted() {
                out.push_str(&format!("  {:<7} {}\n", f.severity, f.one_line()));
            }
            for f in page.accepted() {
                if let Some(accepted) = &f.accepted {
                    out.push_str(&format!(
                        "  accepted {} {} — {accepted}\n",
                        f.severity,
                        f.one_line()
                    ));
                }
            }
            for note in &page.notes {
                out.push_str(&format!("  {:<7} {}\n", "note", note.message));
            }
        }
        out.push_str(&settings(report));
        out.into_bytes()
    }
}

/// The accept entries that expired or matched nothing, so stale ones get removed.
pub(crate) fn settings(report: &Report) -> String {
    let mut out = String::new();
    for (title, entries) in [
        (
            "Expired accept entries (their findings count again)",
            &report.settings.expired,
        ),
        (
            "Unused accept entries (matched no finding in this run)",
            &report.settings.unused,
        ),
    ] {
        if entries.is_empty() {
            continue;
        }
        out.push_str(&format!("\n{title}:\n"));
        for entry in entries {
            out.push_str(&format!("  {}\n", entry.one_line()));
        }
    }
    out
}

/// Rule ids of a page that count, in order, once each.
fn rule_list(page: &PageReport) -> String {
    let ids = distinct_rules(page.counted());
    if ids.is_empty() {
        "-".into()
    } else {
        ids.join(", ")
    }
}

/// For each page audited both logged out and logged in: the two verdicts and
/// their rules side by side, so what signing in changes is visible.
fn session_comparison(report: &Report) -> String {
    let mut builder = Builder::default();
    let mut rows = 0;
    let mut seen: Vec<String> = Vec::new();
    for out in report.pages.iter().filter(|p| !p.logged_in) {
        let label = out.label();
        if seen.contains(&label) {
            continue;
        }
        let Some(inside) = report
            .pages
            .iter()
            .find(|p| p.logged_in && p.label() == label)
        else {
            continue;
        };
        seen.push(label.clone());
        if rows == 0 {
            builder.push_record([
                "page",
                "logged out",
                "rules logged out",
                "logged in",
                "rules logged in",
            ]);
        }
        builder.push_record([
            label,
            out.verdict().to_string(),
            rule_list(out),
            inside.verdict().to_string(),
            rule_list(inside),
        ]);
        rows += 1;
    }
    if rows == 0 {
        return String::new();
    }
    let mut table = builder.build();
    table.with(Style::sharp());
    format!("\nLogged out vs logged in:\n{table}\n")
}
