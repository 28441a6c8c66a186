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

/// The page column: the path for same-site pages is enough to tell them apart.
fn page_label(page: &PageReport) -> String {
    match url::Url::parse(&page.url) {
        Ok(url) => {
            let mut label = url.path().to_string();
            if let Some(q) = url.query() {
                label.push('?');
                label.push_str(q);
            }
            label
        }
        Err(_) => page.url.clone(),
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
