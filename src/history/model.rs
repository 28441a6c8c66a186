//! What a run hands to the history: plain data, independent of how the run
//! was audited (a live run, a journal, a JSON report), with findings keyed by
//! host- and port-independent fingerprints.

use crate::report::{PageReport, Report};
use crate::rules::{Group, Rule, Severity};
use chrono::{DateTime, Utc};
use std::collections::{BTreeSet, HashMap};

/// A finished run to record.
#[derive(Debug, Clone, PartialEq)]
pub struct RunInput {
    /// The run id (`--run-id`, else a fresh UUID); a store holds each once.
    pub id: String,
    /// The suite the run belongs to.
    pub suite: String,
    /// `K/N` for a shard's own run (sharded runs are recorded once merged).
    pub shard: Option<String>,
    /// The branch (`--branch` or the CI variables); `None`: no branch.
    pub branch: Option<String>,
    /// `--label TEXT`.
    pub label: Option<String>,
    /// When the run started (UTC).
    pub started_at: DateTime<Utc>,
    /// When the run ended (UTC).
    pub ended_at: DateTime<Utc>,
    /// The tool's version.
    pub tool_version: String,
    /// The tool version plus a hash of the rule catalogue.
    pub rules_version: String,
    /// The commit audited, when CI says.
    pub commit: Option<String>,
    /// The CI job's URL, when CI says.
    pub ci_job_url: Option<String>,
    /// The run's exit code, when known.
    pub exit_code: Option<u8>,
    /// Whether every page the run meant to audit was audited (an interrupted
    /// or `--partial` run is not: it is never a baseline).
    pub complete: bool,
    /// The run's summary counts.
    pub summary: RunSummary,
    /// Every page the run audited (unreachable ones included).
    pub pages: Vec<PageInput>,
    /// Every finding, accepted ones included.
    pub findings: Vec<FindingInput>,
}

/// A run's counts, as its report's `summary` says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Pages audited.
    pub pages: u64,
    /// Pages without an error that counts.
    pub passed: u64,
    /// Pages with an error that counts.
    pub failed: u64,
    /// Error findings, not accepted.
    pub errors: u64,
    /// Warning findings, not accepted.
    pub warnings: u64,
    /// Accepted findings.
    pub accepted: u64,
}

impl From<&crate::report::Summary> for RunSummary {
    /// A report's (or a journal head's) summary, as the store counts it.
    fn from(s: &crate::report::Summary) -> Self {
        RunSummary {
            pages: s.pages as u64,
            passed: s.passed as u64,
            failed: s.failed as u64,
            errors: s.errors as u64,
            warnings: s.warnings as u64,
            accepted: s.accepted as u64,
        }
    }
}

/// How a page came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PageVerdict {
    /// No finding that counts.
    Pass,
    /// Warnings only.
    Warn,
    /// An error.
    Fail,
    /// The page could not be audited (`page-unreachable`).
    Unreachable,
}

impl PageVerdict {
    /// `pass`, `warn`, `fail`, `unreachable`.
    pub fn word(self) -> &'static str {
        match self {
            PageVerdict::Pass => "pass",
            PageVerdict::Warn => "warn",
            PageVerdict::Fail => "fail",
            PageVerdict::Unreachable => "unreachable",
        }
    }
}

/// One audited page.
#[derive(Debug, Clone, PartialEq)]
pub struct PageInput {
    /// The scenario it was audited in.
    pub scenario: String,
    /// Path and query relative to the scenario's base URL (see [`relative_path`]).
    pub path: String,
    /// Where it ended, relative the same way (a redirect shows here); `None`
    /// when it never loaded.
    pub final_path: Option<String>,
    /// Its verdict.
    pub verdict: PageVerdict,
    /// Error findings that count.
    pub errors: u32,
    /// Warning findings that count.
    pub warnings: u32,
    /// Accepted findings.
    pub accepted: u32,
    /// The rules that judged it (every rule not `off`).
    pub judged: BTreeSet<Rule>,
}

impl PageInput {
    /// Whether the page could not be audited.
    pub fn unreachable(&self) -> bool {
        self.verdict == PageVerdict::Unreachable
    }
}

/// A finding's identity across runs: the same defect on the same page has
/// the same key on any host and port.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct FindingKey {
    /// The scenario.
    pub scenario: String,
    /// The page's path and query relative to the base URL.
    pub path: String,
    /// The page view (relative like the path), empty for the page itself.
    pub view: String,
    /// The rule.
    pub rule: Rule,
    /// The attribute, empty when there is none.
    pub attribute: String,
    /// Its place among findings of equal key on that page, from 0.
    pub ordinal: u32,
}

/// One finding of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingInput {
    /// Its fingerprint.
    pub key: FindingKey,
    /// Its severity in this run.
    pub severity: Severity,
    /// Its rule's group (the table's column) in this run's catalogue.
    pub group: Group,
    /// Its message.
    pub message: String,
    /// An accept entry covers it: never fails a gate.
    pub accepted: bool,
    /// An accept entry covered it but expired: it counts as new for `--fail-on new`.
    pub accept_expired: bool,
}

/// The fingerprints of a page's findings, given in the page's order as
/// (scenario, path, view, rule, attribute): each equal tuple gets the next
/// ordinal, so two identical findings on one page stay two.
pub fn fingerprints<'a>(
    findings: impl IntoIterator<Item = (&'a str, &'a str, &'a str, Rule, &'a str)>,
) -> Vec<FindingKey> {
    let mut counts: HashMap<(&str, &str, &str, Rule, &str), u32> = HashMap::new();
    findings
        .into_iter()
        .map(|k| {
            let n = counts.entry(k).or_insert(0);
            let ordinal = *n;
            *n += 1;
            FindingKey {
                scenario: k.0.to_string(),
                path: k.1.to_string(),
                view: k.2.to_string(),
                rule: k.3,
                attribute: k.4.to_string(),
                ordinal,
            }
        })
        .collect()
}

/// `url` as the history keys it: its path and query relative to `base` (the
/// scenario's base URL; `None`: the URL's own origin), without fragment, so
/// the same site on another host or port has the same paths. A URL on
/// another origin than `base` keeps its origin (a sign-in on another host).
pub fn relative_path(url: &str, base: Option<&url::Url>) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return url.to_string();
    };
    let Some(parsed) = crate::crawl::normalize(&parsed).or(Some(parsed)) else {
        return url.to_string();
    };
    let query = parsed.query().map(|q| format!("?{q}")).unwrap_or_default();
    let path = parsed.path();
    match base {
        Some(base) if base.origin() != parsed.origin() => {
            let mut bare = parsed.clone();
            let _ = bare.set_password(None);
            let _ = bare.set_username("");
            bare.to_string()
        }
        Some(base) => {
            let prefix = base.path().trim_end_matches('/');
            match path.strip_prefix(prefix) {
                Some(rest) if rest.is_empty() || rest.starts_with('/') => {
                    format!("{}{query}", if rest.is_empty() { "/" } else { rest })
                }
                _ => format!("{path}{query}"),
            }
        }
        None => format!("{path}{query}"),
    }
}

/// The base a page's paths are relative to: its scenario's base URL, else
/// the page URL's own origin.
fn base_of(page: &PageReport, base: Option<&url::Url>) -> Option<url::Url> {
    base.cloned().or_else(|| {
        url::Url::parse(&page.url)
            .ok()
            .and_then(|u| u.join("/").ok())
    })
}

/// The fingerprints of a page's findings, in the page's order: what the
/// store keys them by, and how a report's findings find their states.
pub fn page_keys(page: &PageReport, base: Option<&url::Url>) -> Vec<FindingKey> {
    let base = base_of(page, base);
    let path = relative_path(&page.url, base.as_ref());
    let views: Vec<String> = page
        .findings
        .iter()
        .map(|f| {
            f.view
                .as_deref()
                .map(|v| relative_path(v, base.as_ref()))
                .unwrap_or_default()
        })
        .collect();
    fingerprints(page.findings.iter().zip(&views).map(|(f, view)| {
        (
            page.scenario.as_str(),
            path.as_str(),
            view.as_str(),
            f.rule,
            f.attribute.as_deref().unwrap_or(""),
        )
    }))
}

/// One audited page as the history records it, with its findings: paths
/// relative to `base` (its scenario's base URL), judged by every rule but
/// those `off` in its scenario, a finding an `expired` accept entry matches
/// marked as such.
pub fn page_input(
    page: &PageReport,
    base: Option<&url::Url>,
    off: Option<&BTreeSet<Rule>>,
    expired: &[crate::settings::AcceptEntry],
) -> (PageInput, Vec<FindingInput>) {
    let keys = page_keys(page, base);
    let base = base_of(page, base);
    let base = base.as_ref();
    let path = relative_path(&page.url, base);
    let unreachable = page
        .findings
        .iter()
        .any(|f| f.rule == Rule::PageUnreachable);
    let counts = page.counts();
    let verdict = if unreachable {
        PageVerdict::Unreachable
    } else {
        match page.verdict() {
            crate::verdict::Verdict::Pass => PageVerdict::Pass,
            crate::verdict::Verdict::Warn => PageVerdict::Warn,
            crate::verdict::Verdict::Fail => PageVerdict::Fail,
        }
    };
    let input = PageInput {
        scenario: page.scenario.clone(),
        path,
        final_path: if unreachable {
            None
        } else {
            page.final_url.as_deref().map(|u| relative_path(u, base))
        },
        verdict,
        errors: counts.errors as u32,
        warnings: counts.warnings as u32,
        accepted: page.accepted().count() as u32,
        judged: if unreachable {
            [Rule::PageUnreachable].into_iter().collect()
        } else {
            Rule::ALL
                .iter()
                .copied()
                .filter(|r| off.is_none_or(|off| !off.contains(r)))
                .collect()
        },
    };
    let url_path = url::Url::parse(&page.url)
        .map(|u| u.path().to_string())
        .unwrap_or_default();
    let findings = page
        .findings
        .iter()
        .zip(keys)
        .map(|(f, key)| FindingInput {
            key,
            severity: f.severity,
            group: f.rule.group(),
            message: f.message.clone(),
            accepted: f.accepted.is_some(),
            accept_expired: f.accepted.is_none()
                && expired.iter().any(|e| {
                    e.rule == f.rule
                        && e.attribute
                            .as_ref()
                            .is_none_or(|a| f.attribute.as_ref() == Some(a))
                        && (e.pages.is_empty() || e.pages.iter().any(|g| g.matches(&url_path)))
                        && e.scenario.as_deref().is_none_or(|s| s == page.scenario)
                }),
        })
        .collect();
    (input, findings)
}

/// What a report does not say about its run, for [`run_from_report`].
#[derive(Debug, Clone, Default)]
pub struct RunMeta {
    /// The run id (the report's `run.id`, or one derived from its content).
    pub id: String,
    /// The suite.
    pub suite: String,
    /// The shard, if the report is a shard's.
    pub shard: Option<String>,
    /// The branch.
    pub branch: Option<String>,
    /// The label.
    pub label: Option<String>,
    /// The rules version (the report's tool version when unknown).
    pub rules_version: Option<String>,
    /// The commit.
    pub commit: Option<String>,
    /// The CI job URL.
    pub ci_job_url: Option<String>,
    /// The exit code, when known.
    pub exit_code: Option<u8>,
    /// Whether the run was complete.
    pub complete: bool,
    /// The base URL per scenario; a scenario not named is keyed relative to
    /// each page URL's origin.
    pub base_urls: HashMap<String, url::Url>,
    /// The rules `off` per scenario (they judged none of its pages).
    pub rules_off: HashMap<String, BTreeSet<Rule>>,
}

/// The run a JSON report describes. A report does not say which rules were
/// `off`, so every rule counts as having judged a reachable page (the
/// integrator, who knows the settings, passes the real sets); a finding not
/// accepted that an expired accept entry matches is marked `accept_expired`.
pub fn run_from_report(report: &Report, meta: RunMeta) -> RunInput {
    let started_at = DateTime::parse_from_rfc3339(&report.started_at)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|_| Utc::now());
    let ended_at = started_at + chrono::Duration::milliseconds(report.duration_ms as i64);
    let mut pages = Vec::new();
    let mut findings = Vec::new();
    for page in &report.pages {
        let (page, page_findings) = page_input(
            page,
            meta.base_urls.get(&page.scenario),
            meta.rules_off.get(&page.scenario),
            &report.settings.expired,
        );
        pages.push(page);
        findings.extend(page_findings);
    }
    let s = &report.summary;
    RunInput {
        id: meta.id,
        suite: meta.suite,
        shard: meta.shard,
        branch: meta.branch,
        label: meta.label,
        started_at,
        ended_at,
        tool_version: report.tool.version.clone(),
        rules_version: meta
            .rules_version
            .unwrap_or_else(|| report.tool.version.clone()),
        commit: meta.commit,
        ci_job_url: meta.ci_job_url,
        exit_code: meta.exit_code,
        complete: meta.complete,
        summary: RunSummary::from(s),
        pages,
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_ignore_host_and_port_and_keep_other_origins() {
        let a = url::Url::parse("http://127.0.0.1:8080/").unwrap();
        let b = url::Url::parse("https://staging.shop.test/").unwrap();
        assert_eq!(
            relative_path("http://127.0.0.1:8080/cart?x=1#top", Some(&a)),
            "/cart?x=1"
        );
        assert_eq!(
            relative_path("https://staging.shop.test//cart?x=1", Some(&b)),
            "/cart?x=1"
        );
        assert_eq!(relative_path("http://127.0.0.1:9999/cart", None), "/cart");
        let shop = url::Url::parse("http://h:1/shop/").unwrap();
        assert_eq!(relative_path("http://h:1/shop/cart", Some(&shop)), "/cart");
        assert_eq!(relative_path("http://h:1/shop", Some(&shop)), "/");
        assert_eq!(
            relative_path("https://sso.test/login?next=%2F", Some(&a)),
            "https://sso.test/login?next=%2F"
        );
    }

    #[test]
    fn equal_findings_on_a_page_get_ordinals() {
        let keys = fingerprints([
            ("s", "/", "", Rule::AttrFormat, "email"),
            ("s", "/", "", Rule::AttrFormat, "phone_number"),
            ("s", "/", "", Rule::AttrFormat, "email"),
        ]);
        let ordinals: Vec<u32> = keys.iter().map(|k| k.ordinal).collect();
        assert_eq!(ordinals, [0, 0, 1]);
    }
}
