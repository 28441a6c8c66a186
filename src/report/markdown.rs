//! A Markdown summary for a CI job summary or a pull-request comment: counts,
//! the rules that fire most, and the failing pages. Short enough to read.

use super::{Format, PageReport, Report};
use crate::rules::Severity;
use crate::verdict::Verdict;
use std::collections::BTreeMap;
use std::fmt::Write;

/// At most this many failing pages are listed.
const MAX_PAGES: usize = 20;

/// The Markdown summary.
pub struct Markdown;

/// Markdown-safe text for a table cell: pipes and line breaks would break the row.
pub(crate) fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
        .replace('<', "&lt;")
}

fn verdict(page: &PageReport) -> &'static str {
    match page.verdict() {
        Verdict::Fail => "❌ fail",
        Verdict::Warn => "⚠️ warn",
        Verdict::Pass => "✅ pass",
    }
}

impl Format for Markdown {
    fn render(&self, report: &Report) -> Vec<u8> {
        let s = &report.summary;
        let mut out = String::new();
        let status = if s.errors > 0 {
            "❌"
        } else if s.warnings > 0 {
            "⚠️"
        } else {
            "✅"
        };
        let _ = writeln!(
            out,
            "## {status} insider-audit: {} pages, {} failed",
            s.pages, s.failed
        );
        let _ = writeln!(out);
        // Accepted findings are counted apart, in their own column when there are any.
        let (head, rule, accepted) = if s.accepted > 0 {
            (" accepted |", "---:|", format!(" {} |", s.accepted))
        } else {
            ("", "", String::new())
        };
        let _ = writeln!(out, "| pages | passed | failed | errors | warnings |{head}");
        let _ = writeln!(out, "|---:|---:|---:|---:|---:|{rule}");
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |{accepted}",
            s.pages, s.passed, s.failed, s.errors, s.warnings
        );
        let mut counts: BTreeMap<&str, (usize, Severity)> = BTreeMap::new();
        for f in report.pages.iter().flat_map(PageReport::counted) {
            let entry = counts.entry(f.rule.id()).or_insert((0, f.severity));
            entry.0 += 1;
            entry.1 = entry.1.max(f.severity);
        }
        let mut rules: Vec<(&str, usize, Severity)> =
            counts.into_iter().map(|(r, (n, s))| (r, n, s)).collect();
        rules.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        if !rules.is_empty() {
            let _ = writeln!(out, "\n### Top rules\n");
            let _ = writeln!(out, "| rule | severity | findings |");
            let _ = writeln!(out, "|---|---|---:|");
            for (rule, n, severity) in rules.iter().take(10) {
                let _ = writeln!(out, "| `{rule}` | {severity} | {n} |");
            }
        }
        let failing: Vec<&PageReport> = report
            .pages
            .iter()
            .filter(|p| p.counted().next().is_some())
            .collect();
        if !failing.is_empty() {
            let _ = writeln!(out, "\n### Pages with findings\n");
            let _ = writeln!(out, "| page | scenario | verdict | rules |");
            let _ = writeln!(out, "|---|---|---|---|");
            for page in failing.iter().take(MAX_PAGES) {
                let ids: Vec<String> = crate::finding::distinct_rules(page.counted())
                    .iter()
                    .map(|id| format!("`{id}`"))
                    .collect();
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    cell(&page.url),
                    cell(&page.scenario),
                    verdict(page),
                    ids.join(" ")
                );
            }
            if failing.len() > MAX_PAGES {
                let _ = writeln!(
                    out,
                    "\n…and {} more pages with findings (see the full report).",
                    failing.len() - MAX_PAGES
                );
            }
        }
        accepted_findings(&mut out, report);
        settings(&mut out, report);
        out.into_bytes()
    }
}

/// The accepted findings, each with its reason.
fn accepted_findings(out: &mut String, report: &Report) {
    let accepted: Vec<_> = report
        .pages
        .iter()
        .flat_map(|p| p.accepted().map(move |f| (p, f)))
        .collect();
    if accepted.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n### Accepted findings\n");
    let _ = writeln!(
        out,
        "| rule | attribute | page | scenario | reason | until |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    for (page, f) in accepted.iter().take(MAX_PAGES) {
        let Some(why) = &f.accepted else { continue };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} |",
            f.rule,
            cell(f.attribute.as_deref().unwrap_or("-")),
            cell(&page.url),
            cell(&page.scenario),
            cell(&why.reason),
            why.until
                .map(|d| d.to_string())
                .unwrap_or_else(|| "-".into())
        );
    }
    if accepted.len() > MAX_PAGES {
        let _ = writeln!(
            out,
            "\n…and {} more accepted findings (see the full report).",
            accepted.len() - MAX_PAGES
        );
    }
}

/// Expired and unused accept entries.
fn settings(out: &mut String, report: &Report) {
    for (title, entries) in [
        (
            "Expired accept entries: their findings count again",
            &report.settings.expired,
        ),
        (
            "Unused accept entries: they matched no finding",
            &report.settings.unused,
        ),
    ] {
        if entries.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n### {title}\n");
        for entry in entries {
            let _ = writeln!(out, "- {}", cell(&entry.one_line()));
        }
    }
}
