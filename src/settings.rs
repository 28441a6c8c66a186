//! Rule settings and accepted findings (README, "Rule settings and accepted findings"): the levels a site's team
//! gives rules and the findings it accepts for now, validated into [`Settings`],
//! and applied to a page's findings after judging, which they never change.

use crate::finding::{Accepted, Finding};
use crate::glob::Glob;
use crate::json_locate::{nearest, Seg};
use crate::rules::{Rule, Severity};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What `rules` sets a rule to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Its findings are dropped.
    Off,
    /// Its findings are warnings.
    Warning,
    /// Its findings are errors.
    Error,
}

impl Level {
    const NAMES: [&'static str; 3] = ["off", "warning", "error"];

    fn parse(name: &str) -> Option<Level> {
        match name {
            "off" => Some(Level::Off),
            "warning" => Some(Level::Warning),
            "error" => Some(Level::Error),
            _ => None,
        }
    }

    /// The severity findings get, `None` when the rule is off.
    pub fn severity(self) -> Option<Severity> {
        match self {
            Level::Off => None,
            Level::Warning => Some(Severity::Warning),
            Level::Error => Some(Severity::Error),
        }
    }
}

/// One `accept` entry: findings it matches are accepted for now.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AcceptEntry {
    /// The rule of the findings.
    pub rule: Rule,
    /// Only findings on this attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    /// Only pages whose URL path matches one of these globs (none: every page).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pages: Vec<Glob>,
    /// Only pages of this scenario.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    /// Why the findings are accepted.
    pub reason: String,
    /// The last day it applies (UTC, inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
    /// Where it is written (`file:line:column`); identifies the entry in a run.
    pub source: String,
}

impl AcceptEntry {
    /// Whether `today` (UTC) is after its `until`.
    pub fn expired(&self, today: NaiveDate) -> bool {
        self.until.is_some_and(|until| today > until)
    }

    fn matches(&self, finding: &Finding, path: &str, scenario: &str) -> bool {
        self.rule == finding.rule
            && self
                .attribute
                .as_ref()
                .is_none_or(|a| finding.attribute.as_ref() == Some(a))
            && (self.pages.is_empty() || self.pages.iter().any(|g| g.matches(path)))
            && self.scenario.as_deref().is_none_or(|s| s == scenario)
    }

    /// One line for plain-text reports.
    pub fn one_line(&self) -> String {
        let mut out = self.rule.id().to_string();
        if let Some(a) = &self.attribute {
            out.push_str(&format!(" {a}"));
        }
        if !self.pages.is_empty() {
            let pages: Vec<&str> = self.pages.iter().map(Glob::as_str).collect();
            out.push_str(&format!(" on {}", pages.join(", ")));
        }
        if let Some(s) = &self.scenario {
            out.push_str(&format!(" [{s}]"));
        }
        out.push_str(&format!(": {}", self.reason));
        if let Some(until) = self.until {
            out.push_str(&format!(" (until {until})"));
        }
        out.push_str(&format!(" at {}", self.source));
        out
    }
}

/// The settings one scenario (or `check`) runs with.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Levels set by `rules` (rules not named keep their severity).
    pub levels: BTreeMap<Rule, Level>,
    /// `accept` entries, in file order (the file's before the scenario's).
    pub accept: Vec<AcceptEntry>,
}

/// A page's findings with the settings applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// What remains: `off` rules dropped, severities set, accepted ones marked.
    pub findings: Vec<Finding>,
    /// The indices (into [`Settings::accept`]) of the entries that matched a finding.
    pub used: Vec<usize>,
}

impl Settings {
    /// A scenario's settings: its `rules` replace `self`'s per rule, its
    /// `accept` entries add to `self`'s.
    pub fn merged(&self, scenario: Settings) -> Settings {
        let mut levels = self.levels.clone();
        levels.extend(scenario.levels);
        let mut accept = self.accept.clone();
        accept.extend(scenario.accept);
        Settings { levels, accept }
    }

    /// These settings with `levels` winning over the ones they have (`--rule`).
    pub fn with_levels(mut self, levels: impl IntoIterator<Item = (Rule, Level)>) -> Settings {
        self.levels.extend(levels);
        self
    }

    /// Applies the settings to the findings of the page `url` of `scenario`, on
    /// `today` (UTC). Entries that expired no longer apply.
    pub fn apply(
        &self,
        findings: Vec<Finding>,
        url: &str,
        scenario: &str,
        today: NaiveDate,
    ) -> Applied {
        let path = url::Url::parse(url)
            .map(|u| u.path().to_string())
            .unwrap_or_else(|_| url.to_string());
        let mut used = Vec::new();
        let findings = findings
            .into_iter()
            .filter_map(|mut finding| {
                if let Some(level) = self.levels.get(&finding.rule) {
                    finding.severity = level.severity()?;
                }
                let matching: Vec<usize> = self
                    .accept
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| !e.expired(today) && e.matches(&finding, &path, scenario))
                    .map(|(i, _)| i)
                    .collect();
                // The first matching entry gives the reason; every one of them is used.
                finding.accepted = matching.first().map(|&i| Accepted {
                    reason: self.accept[i].reason.clone(),
                    until: self.accept[i].until,
                });
                for i in matching {
                    if !used.contains(&i) {
                        used.push(i);
                    }
                }
                Some(finding)
            })
            .collect();
        Applied { findings, used }
    }
}

/// The accept entries of a run that did not apply, as the JSON report lists them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SettingsReport {
    /// Entries whose `until` has passed: their findings count again.
    pub expired: Vec<AcceptEntry>,
    /// Entries (not expired) that matched no finding in the whole run.
    pub unused: Vec<AcceptEntry>,
}

impl SettingsReport {
    /// Whether there is nothing to say.
    pub fn is_empty(&self) -> bool {
        self.expired.is_empty() && self.unused.is_empty()
    }
}

/// Applies settings over a whole run and remembers which entries were used,
/// so that the run can list expired and unused ones. A file-level entry is
/// one entry however many scenarios it applies to.
#[derive(Debug)]
pub struct Ledger {
    today: NaiveDate,
    entries: Vec<(AcceptEntry, bool)>,
}

impl Ledger {
    /// A ledger for a run on `today` (UTC).
    pub fn new(today: NaiveDate) -> Self {
        Ledger {
            today,
            entries: Vec::new(),
        }
    }

    /// The day entries expire against.
    pub fn today(&self) -> NaiveDate {
        self.today
    }

    /// Notes the entries of settings a scenario ran with (also when it audited nothing).
    pub fn register(&mut self, settings: &Settings) {
        for entry in &settings.accept {
            if !self.entries.iter().any(|(e, _)| e.source == entry.source) {
                self.entries.push((entry.clone(), false));
            }
        }
    }

    /// [`Settings::apply`], remembering the entries used.
    pub fn apply(
        &mut self,
        settings: &Settings,
        findings: Vec<Finding>,
        url: &str,
        scenario: &str,
    ) -> Vec<Finding> {
        self.register(settings);
        let applied = settings.apply(findings, url, scenario, self.today);
        for i in applied.used {
            let source = &settings.accept[i].source;
            if let Some((_, used)) = self.entries.iter_mut().find(|(e, _)| &e.source == source) {
                *used = true;
            }
        }
        applied.findings
    }

    /// The expired and the unused entries, in the order they were first seen.
    pub fn report(&self) -> SettingsReport {
        let mut report = SettingsReport::default();
        for (entry, used) in &self.entries {
            if entry.expired(self.today) {
                report.expired.push(entry.clone());
            } else if !used {
                report.unused.push(entry.clone());
            }
        }
        report
    }
}

/// A problem in settings as written: where (a path into the JSON) and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid {
    /// Where in the file.
    pub(crate) path: Vec<Seg>,
    /// What is wrong and how to fix it.
    pub(crate) message: String,
}

/// `rules` as written: rule id → level (`"//"` is a comment).
pub(crate) type RawRules = serde_json::Map<String, serde_json::Value>;

/// One `accept` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAccept {
    /// A comment: `"//": "..."` is ignored.
    #[serde(rename = "//", default)]
    pub _comment: Option<serde_json::Value>,
    pub rule: Option<String>,
    pub attribute: Option<String>,
    pub pages: Option<Vec<String>>,
    pub scenario: Option<String>,
    pub reason: Option<String>,
    pub until: Option<String>,
}

/// A `--settings` file: only `rules` and `accept`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSettingsFile {
    /// The JSON Schema an editor validates with (ignored here).
    #[serde(rename = "$schema", default)]
    pub _schema: Option<String>,
    /// A comment: `"//": "..."` is ignored.
    #[serde(rename = "//", default)]
    pub _comment: Option<serde_json::Value>,
    pub rules: Option<RawRules>,
    pub accept: Option<Vec<RawAccept>>,
}

/// A rule id as written, or the fix naming the nearest valid id.
pub(crate) fn rule_id(id: &str) -> Result<Rule, String> {
    let ids = || Rule::ALL.iter().map(|r| r.id());
    Rule::from_id(id).ok_or_else(|| match nearest(id, ids()) {
        Some(near) => format!("unknown rule id {id:?}: did you mean \"{near}\"?"),
        None => format!(
            "unknown rule id {id:?}: valid ids are {}",
            ids().collect::<Vec<_>>().join(", ")
        ),
    })
}

/// A rule's level as written, or the fix.
pub(crate) fn level(rule: Rule, name: &str) -> Result<Level, String> {
    let level = Level::parse(name).ok_or_else(|| {
        let hint = nearest(name, Level::NAMES)
            .map(|near| format!(" (did you mean \"{near}\"?)"))
            .unwrap_or_default();
        format!("{name:?} is not a level for {rule}: use \"off\", \"warning\" or \"error\"{hint}")
    })?;
    if rule == Rule::PageUnreachable && level != Level::Error {
        return Err(format!("page-unreachable cannot be set to {name:?}: a page that could not be audited is always an error (accept known pages with an accept entry instead)"));
    }
    Ok(level)
}

/// `--rule ID=LEVEL`.
pub(crate) fn parse_rule_flag(flag: &str) -> Result<(Rule, Level), String> {
    let (id, name) = flag
        .split_once('=')
        .ok_or("write ID=LEVEL, e.g. --rule attr-unknown=off (levels: off, warning, error)")?;
    let rule = rule_id(id.trim())?;
    Ok((rule, level(rule, name.trim())?))
}

fn key(path: &[Seg], k: &str) -> Vec<Seg> {
    let mut p = path.to_vec();
    p.push(Seg::Key(k.into()));
    p
}

fn index(path: &[Seg], i: usize) -> Vec<Seg> {
    let mut p = path.to_vec();
    p.push(Seg::Index(i));
    p
}

/// Validates `rules` found at `at`.
pub(crate) fn levels(raw: &RawRules, at: &[Seg]) -> Result<BTreeMap<Rule, Level>, Invalid> {
    let mut levels = BTreeMap::new();
    for (id, value) in raw.iter().filter(|(id, _)| id.as_str() != "//") {
        let here = key(at, id);
        let invalid = |message: String| Invalid {
            path: here.clone(),
            message,
        };
        let rule = rule_id(id).map_err(|m| invalid(format!("in rules: {m}")))?;
        let name = value.as_str().ok_or_else(|| {
            invalid(format!(
                "the level of {rule} must be a string: \"off\", \"warning\" or \"error\""
            ))
        })?;
        levels.insert(rule, level(rule, name).map_err(invalid)?);
    }
    Ok(levels)
}

/// Validates `accept` found at `at`; `source` names an entry's position.
pub(crate) fn accept(
    raw: &[RawAccept],
    at: &[Seg],
    source: &dyn Fn(&[Seg]) -> String,
) -> Result<Vec<AcceptEntry>, Invalid> {
    raw.iter()
        .enumerate()
        .map(|(i, entry)| accept_entry(entry, &index(at, i), source))
        .collect()
}

fn accept_entry(
    raw: &RawAccept,
    at: &[Seg],
    source: &dyn Fn(&[Seg]) -> String,
) -> Result<AcceptEntry, Invalid> {
    let invalid = |path: Vec<Seg>, message: String| Invalid { path, message };
    let id = raw.rule.as_deref().ok_or_else(|| {
        invalid(
            at.to_vec(),
            "an accept entry needs \"rule\": the rule id of the findings it accepts".into(),
        )
    })?;
    let rule = rule_id(id).map_err(|m| invalid(key(at, "rule"), m))?;
    let reason = match raw.reason.as_deref().map(str::trim) {
        Some(reason) if !reason.is_empty() => reason.to_string(),
        _ => return Err(invalid(
            if raw.reason.is_some() { key(at, "reason") } else { at.to_vec() },
            "an accept entry needs a \"reason\": say why the finding is accepted for now, e.g. \"SHOP-812: the old checkout formats numbers nationally\"".into(),
        )),
    };
    if raw
        .attribute
        .as_deref()
        .is_some_and(|a| a.trim().is_empty())
    {
        return Err(invalid(
            key(at, "attribute"),
            "an empty attribute: name one (e.g. \"phone_number\") or leave the key out".into(),
        ));
    }
    if raw.scenario.as_deref().is_some_and(|s| s.trim().is_empty()) {
        return Err(invalid(
            key(at, "scenario"),
            "an empty scenario: name one or leave the key out".into(),
        ));
    }
    let mut pages = Vec::new();
    if let Some(list) = &raw.pages {
        if list.is_empty() {
            return Err(invalid(
                key(at, "pages"),
                "pages is empty, so the entry would accept nothing: list path globs (e.g. \"/legacy/**\") or leave the key out for every page".into(),
            ));
        }
        for (i, glob) in list.iter().enumerate() {
            if let Some(fix) = crate::glob::problem(glob) {
                return Err(invalid(
                    index(&key(at, "pages"), i),
                    format!("pages glob {glob:?} {fix}"),
                ));
            }
            pages.push(Glob::new(glob));
        }
    }
    let until = raw
        .until
        .as_deref()
        .map(|text| {
            date(text).ok_or_else(|| {
                invalid(
                    key(at, "until"),
                    format!("until {text:?} is not a date: write YYYY-MM-DD, e.g. \"2027-01-31\" (UTC; the entry applies through that day)"),
                )
            })
        })
        .transpose()?;
    Ok(AcceptEntry {
        rule,
        attribute: raw.attribute.clone(),
        pages,
        scenario: raw.scenario.clone(),
        reason,
        until,
        source: source(at),
    })
}

/// A `YYYY-MM-DD` calendar date.
fn date(text: &str) -> Option<NaiveDate> {
    let shaped = text.len() == 10
        && text.char_indices().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        });
    shaped.then(|| text.parse().ok()).flatten()
}

#[cfg(test)]
mod tests;
