//! A Markdown summary for a CI job summary or a pull-request comment: counts,
//! the rules that fire most, and the failing pages. Short enough to read.

use super::{unreadable, Format, Head, PageReport, Pages};
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
    fn write(
        &self,
        head: &Head,
        pages: &dyn Pages,
        sink: &mut dyn std::io::Write,
    ) -> std::io::Result<()> {
        let s = &head.summary;
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
        if let Some(run) = &head.run {
            let _ = writeln!(
                out,
                "\nRun `{}` of suite {}{}.",
                cell(&run.id),
                cell(&run.suite),
                run.shard
                    .as_deref()
                    .map(|s| format!(", shard {s}"))
                    .unwrap_or_default()
            );
        }
        let _ = writeln!(out);
        // Accepted findings are counted apart, in their own column when there are any.
        let (column, rule, accepted) = if s.accepted > 0 {
            (" accepted |", "---:|", format!(" {} |", s.accepted))
        } else {
            ("", "", String::new())
        };
        let _ = writeln!(
            out,
            "| pages | passed | failed | errors | warnings |{column}"
        );
        let _ = writeln!(out, "|---:|---:|---:|---:|---:|{rule}");
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |{accepted}",
            s.pages, s.passed, s.failed, s.errors, s.warnings
        );
        // One pass: the findings per rule, the first failing pages and the
        // first accepted findings (the summary lists no more).
        let mut counts: BTreeMap<&str, (usize, Severity)> = BTreeMap::new();
        let mut failing: Vec<PageReport> = Vec::new();
        let mut failing_count = 0;
        let mut accepted: Vec<(PageReport, crate::finding::Finding)> = Vec::new();
        let mut accepted_count = 0;
        // Findings new or reopened since the baseline (a recorded run).
        let mut fresh: Vec<(PageReport, crate::finding::Finding)> = Vec::new();
        let mut fresh_count = 0;
        for page in pages.pass() {
            let page = page.map_err(unreadable)?;
            for f in page.counted() {
                let entry = counts.entry(f.rule.id()).or_insert((0, f.severity));
                entry.0 += 1;
                entry.1 = entry.1.max(f.severity);
            }
            for f in page.counted().filter(|f| {
                f.history
                    .as_ref()
                    .is_some_and(|h| h.state != crate::finding::FindingState::Open)
            }) {
                fresh_count += 1;
                if fresh.len() < MAX_PAGES {
                    fresh.push((page.clone(), f.clone()));
                }
            }
            for f in page.accepted() {
                accepted_count += 1;
                if accepted.len() < MAX_PAGES {
                    accepted.push((page.clone(), f.clone()));
                }
            }
            if page.counted().next().is_some() {
                failing_count += 1;
                if failing.len() < MAX_PAGES {
                    failing.push(page);
                }
            }
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
        if !failing.is_empty() {
            let _ = writeln!(out, "\n### Pages with findings\n");
            let _ = writeln!(out, "| page | scenario | verdict | rules |");
            let _ = writeln!(out, "|---|---|---|---|");
            for page in &failing {
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
            if failing_count > MAX_PAGES {
                let _ = writeln!(
                    out,
                    "\n…and {} more pages with findings (see the full report).",
                    failing_count - MAX_PAGES
                );
            }
        }
        if let Some(history) = &head.history {
            history_sections(&mut out, history, &fresh, fresh_count);
        }
        accepted_findings(&mut out, &accepted, accepted_count);
        settings(&mut out, head);
        sink.write_all(out.as_bytes())
    }
}

/// The accepted findings, each with its reason.
fn accepted_findings(
    out: &mut String,
    accepted: &[(PageReport, crate::finding::Finding)],
    count: usize,
) {
    if accepted.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n### Accepted findings\n");
    let _ = writeln!(
        out,
        "| rule | attribute | page | scenario | reason | until |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    for (page, f) in accepted {
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
    if count > MAX_PAGES {
        let _ = writeln!(
            out,
            "\n…and {} more accepted findings (see the full report).",
            count - MAX_PAGES
        );
    }
}

/// What is new since the baseline and what it fixed (a recorded run).
fn history_sections(
    out: &mut String,
    history: &super::RunHistory,
    fresh: &[(PageReport, crate::finding::Finding)],
    count: usize,
) {
    let baseline = match &history.baseline {
        Some(run) => format!("run `{}` ({})", cell(run), cell(&history.baseline_spec)),
        None => "no earlier run: everything is new".to_string(),
    };
    let _ = writeln!(
        out,
        "\n### Since the baseline\n\nBaseline: {baseline}. {count} new or reopened, {} fixed, {} not checked.",
        history.fixed.len(),
        history.not_checked.len()
    );
    if !fresh.is_empty() {
        let _ = writeln!(out, "\n| state | rule | attribute | page | scenario |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for (page, f) in fresh {
            let state = f.history.as_ref().map(|h| h.age()).unwrap_or_default();
            let _ = writeln!(
                out,
                "| {state} | `{}` | {} | {} | {} |",
                f.rule,
                cell(f.attribute.as_deref().unwrap_or("-")),
                cell(&page.url),
                cell(&page.scenario)
            );
        }
        if count > fresh.len() {
            let _ = writeln!(
                out,
                "\n…and {} more (see the full report).",
                count - fresh.len()
            );
        }
    }
    if !history.fixed.is_empty() {
        let _ = writeln!(out, "\nFixed:\n");
        for gone in history.fixed.iter().take(MAX_PAGES) {
            let _ = writeln!(
                out,
                "- `{}` {} on {} [{}]",
                gone.rule,
                cell(gone.attribute.as_deref().unwrap_or("")),
                cell(&gone.path),
                cell(&gone.scenario)
            );
        }
        if history.fixed.len() > MAX_PAGES {
            let _ = writeln!(out, "- …and {} more", history.fixed.len() - MAX_PAGES);
        }
    }
}

/// Expired and unused accept entries.
fn settings(out: &mut String, report: &Head) {
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
