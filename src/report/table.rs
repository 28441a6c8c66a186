//! The compliance table of rules.md: a row per page and scenario, a column per
//! requirement group, a verdict, and a summary line.

use super::{Format, PageReport, Report};
use crate::rules::{Group, Severity};
use tabled::builder::Builder;
use tabled::settings::Style;

/// The terminal table.
pub struct Table;

/// Whether a group's rules could apply to a page at all (else `n/a`).
fn applies(group: Group, page: &PageReport) -> bool {
    let unreachable = page.findings.iter().any(|f| f.rule.group() == Group::Page);
    if unreachable {
        return group == Group::Page;
    }
    let user_push = page
        .pushes
        .iter()
        .any(|p| p.value.get("type").and_then(|t| t.as_str()) == Some("user"));
    match group {
        Group::Queue | Group::Order | Group::Page => true,
        Group::UserPush => user_push || page.logged_in,
        Group::Attributes | Group::Session => user_push,
        Group::Login => page.logged_in,
        Group::Sdk => !page.pushes.is_empty(),
    }
}

fn cell(group: Group, page: &PageReport) -> String {
    let n = page
        .findings
        .iter()
        .filter(|f| f.rule.group() == group)
        .count();
    if n > 0 {
        format!("fail ({n})")
    } else if applies(group, page) {
        "pass".into()
    } else {
        "n/a".into()
    }
}

fn verdict(page: &PageReport) -> &'static str {
    if page.findings.iter().any(|f| f.severity == Severity::Error) {
        "FAIL"
    } else if page.findings.is_empty() {
        "pass"
    } else {
        "warn"
    }
}

/// The path (and query) of a URL, or the URL itself when it does not parse.
fn path_of(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(url) => match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        },
        Err(_) => url.to_string(),
    }
}

/// The page column: the path is enough to tell a site's pages apart; a redirect
/// shows where it ended (`/logout → /`).
fn page_label(page: &PageReport) -> String {
    let asked = path_of(&page.url);
    match page.final_url.as_deref().map(path_of) {
        Some(landed) if landed != asked && page.status.is_some() => format!("{asked} → {landed}"),
        _ => asked,
    }
}

impl Format for Table {
    fn render(&self, report: &Report) -> Vec<u8> {
        let mut builder = Builder::default();
        let mut header = vec!["page".to_string(), "scenario".to_string()];
        header.extend(Group::ALL.iter().map(|g| g.title().to_string()));
        header.push("verdict".into());
        builder.push_record(header);
        for page in &report.pages {
            let mut row = vec![page_label(page), page.scenario.clone()];
            row.extend(Group::ALL.iter().map(|g| cell(*g, page)));
            row.push(verdict(page).into());
            builder.push_record(row);
        }
        let mut table = builder.build();
        table.with(Style::sharp());
        let s = &report.summary;
        let mut out = format!("{table}\n");
        out.push_str(&format!(
            "{} pages: {} passed, {} failed; {} errors, {} warnings\n",
            s.pages, s.passed, s.failed, s.errors, s.warnings
        ));
        out.push_str(&session_comparison(report));
        let failing: Vec<_> = report
            .pages
            .iter()
            .filter(|p| !p.findings.is_empty())
            .collect();
        if !failing.is_empty() {
            out.push('\n');
        }
        for page in failing {
            out.push_str(&format!("{} [{}]\n", page.url, page.scenario));
            for f in &page.findings {
                let attr = f
                    .attribute
                    .as_deref()
                    .map(|a| format!(" {a}:"))
                    .unwrap_or_default();
                let at = f
                    .evidence
                    .as_ref()
                    .map(|e| format!(" ({}:{})", e.script, e.line))
                    .unwrap_or_default();
                out.push_str(&format!(
                    "  {:<7} {}{attr} {}{at}\n",
                    f.severity, f.rule, f.message
                ));
            }
        }
        out.into_bytes()
    }
}

/// Rule ids of a page, in order, once each.
fn rule_list(page: &PageReport) -> String {
    let mut ids: Vec<&str> = Vec::new();
    for f in &page.findings {
        if !ids.contains(&f.rule.id()) {
            ids.push(f.rule.id());
        }
    }
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
        let label = page_label(out);
        if seen.contains(&label) {
            continue;
        }
        let Some(inside) = report
            .pages
            .iter()
            .find(|p| p.logged_in && page_label(p) == label)
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
            verdict(out).to_string(),
            rule_list(out),
            verdict(inside).to_string(),
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
