//! What changed between two JSON reports: findings new, fixed and unchanged,
//! matched by scenario, normalised URL, rule and attribute. This is what a
//! nightly audit posts to a channel.

use crate::report::Report;
use crate::rules::{Rule, Severity};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// One finding in a diff.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// The scenario.
    pub scenario: String,
    /// The page URL (as the newer report has it, for new and unchanged findings).
    pub url: String,
    /// The rule.
    pub rule: Rule,
    /// The attribute, where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    /// The severity.
    pub severity: Severity,
    /// The message.
    pub message: String,
}

/// Findings new, fixed and unchanged between two reports.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Diff {
    /// In the newer report only.
    pub new: Vec<Entry>,
    /// In the older report only.
    pub fixed: Vec<Entry>,
    /// In both.
    pub unchanged: Vec<Entry>,
}

type Key = (String, String, Rule, Option<String>);

fn normalised(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| crate::crawl::normalize(&u))
        .map(|u| u.to_string())
        .unwrap_or_else(|| url.to_string())
}

fn entries(report: &Report) -> BTreeMap<Key, Vec<Entry>> {
    let mut map: BTreeMap<Key, Vec<Entry>> = BTreeMap::new();
    for page in &report.pages {
        for f in &page.findings {
            let key = (
                page.scenario.clone(),
                normalised(&page.url),
                f.rule,
                f.attribute.clone(),
            );
            map.entry(key).or_default().push(Entry {
                scenario: page.scenario.clone(),
                url: page.url.clone(),
                rule: f.rule,
                attribute: f.attribute.clone(),
                severity: f.severity,
                message: f.message.clone(),
            });
        }
    }
    map
}

/// Compares `old` with `new`. A finding repeated on one page is matched count by count.
pub fn diff(old: &Report, new: &Report) -> Diff {
    let mut old = entries(old);
    let mut result = Diff::default();
    for (key, entries) in entries(new) {
        let before = old.remove(&key).unwrap_or_default();
        let kept = before.len().min(entries.len());
        let mut entries = entries.into_iter();
        result.unchanged.extend(entries.by_ref().take(kept));
        result.new.extend(entries);
        result.fixed.extend(before.into_iter().skip(kept));
    }
    result.fixed.extend(old.into_values().flatten());
    result
}

impl Diff {
    /// Whether a new finding is at or above `threshold` (`None`: never).
    pub fn fails_at(&self, threshold: Option<Severity>) -> bool {
        threshold.is_some_and(|t| self.new.iter().any(|e| e.severity >= t))
    }

    /// A plain-text summary and the new and fixed findings.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{} new, {} fixed, {} unchanged\n",
            self.new.len(),
            self.fixed.len(),
            self.unchanged.len()
        );
        for (title, list) in [("New", &self.new), ("Fixed", &self.fixed)] {
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n{title}:");
            for e in list {
                let attr = e
                    .attribute
                    .as_deref()
                    .map(|a| format!(" {a}"))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  {:<7} {}{attr}  {} [{}]",
                    e.severity, e.rule, e.url, e.scenario
                );
            }
        }
        out
    }

    /// A Markdown summary for a channel or a pull request.
    pub fn markdown(&self) -> String {
        let icon = if self.new.is_empty() { "✅" } else { "❌" };
        let mut out = format!(
            "## {icon} insider-audit: {} new, {} fixed, {} unchanged\n",
            self.new.len(),
            self.fixed.len(),
            self.unchanged.len()
        );
        for (title, list) in [("New findings", &self.new), ("Fixed", &self.fixed)] {
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n### {title}\n\n| rule | severity | attribute | page | scenario |\n|---|---|---|---|---|");
            for e in list {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} | {} |",
                    e.rule,
                    e.severity,
                    e.attribute.as_deref().unwrap_or("-"),
                    crate::report::markdown::cell(&e.url),
                    crate::report::markdown::cell(&e.scenario)
                );
            }
        }
        out
    }
}
