//! The compliance table (README, "Reports"): a row per page and scenario, a column per
//! requirement group, a verdict, and a summary line.

use super::{unreadable, Format, Head, PageReport, Pages};
use crate::finding::distinct_rules;
use crate::rules::Group;
use std::collections::HashMap;
use std::io::Write;

/// The terminal table.
pub struct Table {
    /// The terminal's width in columns, when the table goes to one: a table
    /// wider than that shows its cells as short marks. `None`
    /// (piped, a file): always the words.
    pub width: Option<usize>,
}

/// What the short marks mean, under a table that uses them.
const MARKS_LEGEND: &str = "✓ pass  !n warn (n)  ✗n fail (n)  – n/a";

/// Display width of a cell's text.
fn width_of(text: &str) -> usize {
    console::measure_text_width(text)
}

/// A box-drawn table written row by row (the "sharp" style: a rule under
/// the header only), its column widths known before the first row.
struct BoxTable {
    widths: Vec<usize>,
}

impl BoxTable {
    fn rule(
        &self,
        out: &mut dyn Write,
        left: &str,
        cross: &str,
        right: &str,
    ) -> std::io::Result<()> {
        let parts: Vec<String> = self.widths.iter().map(|w| "─".repeat(w + 2)).collect();
        writeln!(out, "{left}{}{right}", parts.join(cross))
    }

    fn row(&self, out: &mut dyn Write, cells: &[String]) -> std::io::Result<()> {
        let mut line = String::from("│");
        for (cell, width) in cells.iter().zip(&self.widths) {
            let cell = if width_of(cell) > *width {
                console::truncate_str(cell, *width, "…").into_owned()
            } else {
                cell.clone()
            };
            line.push(' ');
            line.push_str(&cell);
            line.push_str(&" ".repeat(width - width_of(&cell) + 1));
            line.push('│');
        }
        writeln!(out, "{line}")
    }

    fn top(&self, out: &mut dyn Write, header: &[String]) -> std::io::Result<()> {
        self.rule(out, "┌", "┬", "┐")?;
        self.row(out, header)?;
        self.rule(out, "├", "┼", "┤")
    }

    fn bottom(&self, out: &mut dyn Write) -> std::io::Result<()> {
        self.rule(out, "└", "┴", "┘")
    }

    /// The width of a line of the table.
    fn line_width(&self) -> usize {
        self.widths.iter().map(|w| w + 3).sum::<usize>() + 1
    }
}

/// The compliance table's header, in words or short titles.
fn header(marks: bool) -> Vec<String> {
    let mut header = vec!["page".to_string(), "scenario".to_string()];
    header.extend(Group::ALL.iter().map(|g| match marks {
        true => g.short_title().to_string(),
        false => g.title().to_string(),
    }));
    header.push("verdict".into());
    header
}

/// A page's row of the compliance table.
fn row(page: &PageReport, marks: bool) -> Vec<String> {
    let mut row = vec![page.label(), page.scenario.clone()];
    row.extend(Group::ALL.iter().map(|g| match marks {
        true => page.cell(*g).mark(),
        false => page.cell(*g).word(),
    }));
    row.push(page.verdict().word().into());
    row
}

/// The column widths of the compliance table, in words and in marks (one pass).
fn widths(pages: &dyn Pages) -> std::io::Result<(Vec<usize>, Vec<usize>)> {
    let mut words: Vec<usize> = header(false).iter().map(|h| width_of(h)).collect();
    let mut marks: Vec<usize> = header(true).iter().map(|h| width_of(h)).collect();
    for page in pages.pass() {
        let page = page.map_err(unreadable)?;
        for (w, cell) in words.iter_mut().zip(row(&page, false)) {
            *w = (*w).max(width_of(&cell));
        }
        for (w, cell) in marks.iter_mut().zip(row(&page, true)) {
            *w = (*w).max(width_of(&cell));
        }
    }
    Ok((words, marks))
}

impl Table {
    /// The compliance table in words, or in short marks when the words do not
    /// fit the terminal (and the page column gives way when even they do not).
    fn compliance(&self, pages: &dyn Pages, out: &mut dyn Write) -> std::io::Result<()> {
        let (words, marks) = widths(pages)?;
        let mut table = BoxTable { widths: words };
        let mut use_marks = false;
        if let Some(width) = self.width {
            if table.line_width() > width {
                use_marks = true;
                table = BoxTable { widths: marks };
                let over = table.line_width().saturating_sub(width);
                if over > 0 {
                    table.widths[0] = table.widths[0].saturating_sub(over).max(12);
                }
            }
        }
        table.top(out, &header(use_marks))?;
        for page in pages.pass() {
            let page = page.map_err(unreadable)?;
            table.row(out, &row(&page, use_marks))?;
        }
        table.bottom(out)?;
        if use_marks {
            writeln!(out, "{MARKS_LEGEND}")?;
        }
        Ok(())
    }
}

impl Format for Table {
    fn write(&self, head: &Head, pages: &dyn Pages, out: &mut dyn Write) -> std::io::Result<()> {
        let s = &head.summary;
        self.compliance(pages, out)?;
        write!(
            out,
            "{} pages: {} passed, {} failed; {} errors, {} warnings",
            s.pages, s.passed, s.failed, s.errors, s.warnings
        )?;
        if s.accepted > 0 {
            write!(out, "; {} accepted", s.accepted)?;
        }
        writeln!(out)?;
        if let Some(history) = &head.history {
            let fresh = head.fresh;
            match &history.baseline {
                Some(run) => writeln!(
                    out,
                    "Since run {run} ({}): {fresh} new or reopened, {} fixed, {} not checked",
                    history.baseline_spec,
                    history.fixed.len(),
                    history.not_checked.len()
                )?,
                None => writeln!(
                    out,
                    "First run of the suite in {}: every finding is new",
                    history.store
                )?,
            }
        }
        session_comparison(pages, out)?;
        let mut first = true;
        for page in pages.pass() {
            let page = page.map_err(unreadable)?;
            if page.findings.is_empty() && page.notes.is_empty() {
                continue;
            }
            if std::mem::take(&mut first) {
                writeln!(out)?;
            }
            writeln!(out, "{} [{}]", page.url, page.scenario)?;
            for f in page.counted() {
                writeln!(out, "  {:<7} {}", f.severity, f.one_line())?;
            }
            for f in page.accepted() {
                if let Some(accepted) = &f.accepted {
                    writeln!(
                        out,
                        "  accepted {} {} — {accepted}",
                        f.severity,
                        f.one_line()
                    )?;
                }
            }
            for note in &page.notes {
                writeln!(out, "  {:<7} {}", "note", note.message)?;
            }
        }
        out.write_all(settings(head).as_bytes())
    }
}

/// The accept entries that expired or matched nothing, so stale ones get removed.
pub(crate) fn settings(report: &Head) -> String {
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
fn session_comparison(pages: &dyn Pages, out: &mut dyn Write) -> std::io::Result<()> {
    // The first page of each label in each session: its verdict and rules.
    let mut logged_out: Vec<(String, String, String)> = Vec::new();
    let mut logged_in: HashMap<String, (String, String)> = HashMap::new();
    let mut labels_out: std::collections::HashSet<String> = Default::default();
    for page in pages.pass() {
        let page = page.map_err(unreadable)?;
        let label = page.label();
        let seen = (page.verdict().word().to_string(), rule_list(&page));
        if page.logged_in {
            logged_in.entry(label).or_insert(seen);
        } else if labels_out.insert(label.clone()) {
            logged_out.push((label, seen.0, seen.1));
        }
    }
    let header: Vec<String> = [
        "page",
        "logged out",
        "rules logged out",
        "logged in",
        "rules logged in",
    ]
    .map(String::from)
    .to_vec();
    let rows: Vec<Vec<String>> = logged_out
        .into_iter()
        .filter_map(|(label, verdict, rules)| {
            let (inside, inside_rules) = logged_in.get(&label)?.clone();
            Some(vec![label, verdict, rules, inside, inside_rules])
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let mut widths: Vec<usize> = header.iter().map(|h| width_of(h)).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(width_of(cell));
        }
    }
    let table = BoxTable { widths };
    writeln!(out, "\nLogged out vs logged in:")?;
    table.top(out, &header)?;
    for row in &rows {
        table.row(out, row)?;
    }
    table.bottom(out)
}
