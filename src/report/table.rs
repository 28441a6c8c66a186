//! The compliance table (README, "Reports"): a row per page and scenario, a column per
//! requirement group, a verdict, and a summary line.

use super::{Format, PageReport, Report};
use crate::finding::distinct_rules;
use crate::rules::Group;
use tabled::builder::Builder;
use tabled::settings::object::Columns;
use tabled::settings::{Style, Width};

/// The terminal table.
pub struct Table {
    /// The terminal's width in columns, when the table goes to one: a table
    /// wider than that shows its cells as short marks. `None`
    /// (piped, a file): always the words.
    pub width: Option<usize>,
}

impl Table {
    /// The compliance table in words, or in short marks when the words do not
    /// fit the terminal.
    fn compliance(&self, report: &Report) -> String {
        let words = compliance(report, false);
        match self.width {
            Some(width) if widest(&words) > width => {
                let mut marks = compliance(report, true);
                // Still too wide: the page column gives way (long paths end in …).
                let over = widest(&marks).saturating_sub(width);
                if over > 0 {
                    marks = compliance_truncated(report, over);
                }
                format!("{marks}\n{MARKS_LEGEND}")
            }
            _ => words,
        }
    }
}

/// What the short marks mean, under a table that uses them.
const MARKS_LEGEND: &str = "✓ pass  !n warn (n)  ✗n fail (n)  – n/a";

/// The widest line of `text`, in characters.
fn widest(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

/// The short-mark table with the page column `over` characters narrower
/// (at least 12 wide).
fn compliance_truncated(report: &Report, over: usize) -> String {
    let page_width = report
        .pages
        .iter()
        .map(|p| p.label().chars().count())
        .max()
        .unwrap_or(0)
        .max("page".len());
    let keep = page_width.saturating_sub(over).max(12);
    let mut table = compliance_table(report, true);
    table.modify(Columns::first(), Width::truncate(keep).suffix("…"));
    table.to_string()
}

/// The compliance table, a row per page and scenario: cells in words, or in
/// short marks with short group titles.
fn compliance(report: &Report, marks: bool) -> String {
    compliance_table(report, marks).to_string()
}

fn compliance_table(report: &Report, marks: bool) -> tabled::Table {
    let mut builder = Builder::default();
    let mut header = vec!["page".to_string(), "scenario".to_string()];
    header.extend(Group::ALL.iter().map(|g| match marks {
        true => g.short_title().to_string(),
        false => g.title().to_string(),
    }));
    header.push("verdict".into());
    builder.push_record(header);
    for page in &report.pages {
        let mut row = vec![page.label(), page.scenario.clone()];
        row.extend(Group::ALL.iter().map(|g| match marks {
            true => page.cell(*g).mark(),
            false => page.cell(*g).word(),
        }));
        row.push(page.verdict().word().into());
        builder.push_record(row);
    }
    let mut table = builder.build();
    table.with(Style::sharp());
    table
}

impl Format for Table {
    fn render(&self, report: &Report) -> Vec<u8> {
        let s = &report.summary;
        let mut out = format!("{}\n", self.compliance(report));
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
            out.verdict().word().to_string(),
            rule_list(out),
            inside.verdict().word().to_string(),
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
