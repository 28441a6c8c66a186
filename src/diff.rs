//! What changed between two JSON reports: findings new, fixed and unchanged,
//! matched by scenario, normalised URL, rule and attribute. This is what a
//! nightly audit posts to a channel. A finding accepted before but not any more
//! (its entry expired or was removed) counts as new.

use crate::finding::Accepted;
use crate::report::Report;
use crate::rules::{Rule, Severity};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// One finding in a diff.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// The scenario the finding's page was audited in.
    pub scenario: String,
    /// The page URL (as the newer report has it, for new and unchanged findings).
    pub url: String,
    /// The rule that found it.
    pub rule: Rule,
    /// The attribute, where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    /// Its severity in the report it comes from.
    pub severity: Severity,
    /// Its message, as the report wrote it.
    pub message: String,
    /// Accepted in the report it comes from (never fails the diff).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<Accepted>,
    /// (in `new`) The finding was in the older report too, accepted there: it
    /// is new in that it counts again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_longer_accepted: Option<Accepted>,
}

impl Entry {
    /// Whether it fails the diff at `threshold`.
    fn fails_at(&self, threshold: Severity) -> bool {
        self.accepted.is_none() && self.severity >= threshold
    }

    /// How it is shown after the page, e.g. ` (no longer accepted: SHOP-9 (until 2025-01-31))`.
    fn note(&self) -> String {
        match (&self.no_longer_accepted, &self.accepted) {
            (Some(was), _) => format!(" (no longer accepted: {was})"),
            (None, Some(why)) => format!(" (accepted: {why})"),
            (None, None) => String::new(),
        }
    }
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
                accepted: f.accepted.clone(),
                no_longer_accepted: None,
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
        for (was, mut now) in before.iter().zip(entries.by_ref().take(kept)) {
            if now.accepted.is_none() && was.accepted.is_some() {
                now.no_longer_accepted = was.accepted.clone();
                result.new.push(now);
            } else {
                result.unchanged.push(now);
            }
        }
        result.new.extend(entries);
        result.fixed.extend(before.into_iter().skip(kept));
    }
    result.fixed.extend(old.into_values().flatten());
    result
}

impl Diff {
    /// Whether a new finding, not accepted, is at or above `threshold` (`None`: never).
    pub fn fails_at(&self, threshold: Option<Severity>) -> bool {
        threshold.is_some_and(|t| self.new.iter().any(|e| e.fails_at(t)))
    }

    /// `3 new (1 no longer accepted), 1 fixed, 2 unchanged`.
    fn counts(&self) -> String {
        let again = self
            .new
            .iter()
            .filter(|e| e.no_longer_accepted.is_some())
            .count();
        let again = if again > 0 {
            format!(" ({again} no longer accepted)")
        } else {
            String::new()
        };
        format!(
            "{} new{again}, {} fixed, {} unchanged",
            self.new.len(),
            self.fixed.len(),
            self.unchanged.len()
        )
    }

    /// A plain-text summary and the new and fixed findings.
    pub fn table(&self) -> String {
        let mut out = format!("{}\n", self.counts());
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
                    "  {:<7} {}{attr}  {} [{}]{}",
                    e.severity,
                    e.rule,
                    e.url,
                    e.scenario,
                    e.note()
                );
            }
        }
        out
    }

    /// A Markdown summary for a channel or a pull request.
    pub fn markdown(&self) -> String {
        let icon = if self.fails_at(Some(Severity::Warning)) {
            "❌"
        } else {
            "✅"
        };
        let mut out = format!("## {icon} insider-audit: {}\n", self.counts());
        for (title, list) in [("New findings", &self.new), ("Fixed", &self.fixed)] {
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n### {title}\n\n| rule | severity | attribute | page | scenario |\n|---|---|---|---|---|");
            for e in list {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} | {}{} |",
                    e.rule,
                    e.severity,
                    e.attribute.as_deref().unwrap_or("-"),
                    crate::report::markdown::cell(&e.url),
                    crate::report::markdown::cell(&e.scenario),
                    crate::report::markdown::cell(&e.note())
                );
            }
        }
        out
    }
}
