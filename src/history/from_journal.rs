//! A run's journal as the history records it, and the reports' pages with
//! the states the store computed: the bridge between the run's record
//! (`journal`) and the store, both read as a stream.

use super::model::{page_input, page_keys, FindingKey, RunInput, RunSummary};
use super::record::Recorded;
use crate::finding::{FindingHistory, FirstSeen};
use crate::journal::{self, RunEnd, RunRecord};
use crate::report::{GoneFinding, Head, PageReport, Pages, RunHistory};
use crate::rules::Rule;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// What the journal does not say about a run: where and how it ran.
#[derive(Debug, Clone, Default)]
pub struct RunContext {
    /// The branch (`--branch`, else the CI variables).
    pub branch: Option<String>,
    /// `--label`.
    pub label: Option<String>,
    /// The commit audited, from the CI variables.
    pub commit: Option<String>,
    /// The CI job's URL, from the CI variables.
    pub ci_job_url: Option<String>,
    /// The run's exit code, when known.
    pub exit_code: Option<u8>,
}

impl RunContext {
    /// `--branch` and `--label`, and what the usual CI variables say
    /// (GitHub Actions, GitLab CI).
    pub fn from_env(branch: Option<&str>, label: Option<&str>) -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let github_job = match (
            var("GITHUB_SERVER_URL"),
            var("GITHUB_REPOSITORY"),
            var("GITHUB_RUN_ID"),
        ) {
            (Some(server), Some(repo), Some(run)) => {
                Some(format!("{server}/{repo}/actions/runs/{run}"))
            }
            _ => None,
        };
        RunContext {
            branch: branch
                .map(str::to_string)
                .or_else(|| var("GITHUB_REF_NAME"))
                .or_else(|| var("CI_COMMIT_REF_NAME")),
            label: label.map(str::to_string),
            commit: var("GITHUB_SHA").or_else(|| var("CI_COMMIT_SHA")),
            ci_job_url: github_job.or_else(|| var("CI_JOB_URL")),
            exit_code: None,
        }
    }
}

/// The run the journal at `path` records, its pages read one at a time.
/// `head` is the journal's head ([`journal::report_of`]); a journal without
/// an end record, or whose run stopped early or failed on a page, is not
/// complete (never a baseline).
pub fn run_from_journal(
    path: &Path,
    head: &Head,
    end: Option<&RunEnd>,
    context: RunContext,
) -> Result<RunInput, String> {
    let mut run: Option<RunRecord> = None;
    let mut pages = Vec::new();
    let mut findings = Vec::new();
    let expired = end.map(|e| e.settings.expired.clone()).unwrap_or_default();
    let mut bases: HashMap<String, url::Url> = HashMap::new();
    let mut off: HashMap<String, BTreeSet<Rule>> = HashMap::new();
    for entry in journal::Reader::open(path)? {
        let (_, record) = entry?;
        if let Some(record) = record.run {
            bases = base_urls(&record);
            off = record.rules_off.clone();
            run.get_or_insert(record);
        }
        if let Some(page) = record.page {
            let (page, page_findings) = page_input(
                &page,
                bases.get(&page.scenario),
                off.get(&page.scenario),
                &expired,
            );
            pages.push(page);
            findings.extend(page_findings);
        }
    }
    let run = run.ok_or_else(|| {
        format!(
            "{}: the journal has no run record (written by an earlier insider-audit): record its JSON report instead",
            path.display()
        )
    })?;
    let started_at = chrono::DateTime::parse_from_rfc3339(&run.started_at)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| format!("{}: started_at: {e}", path.display()))?;
    let s = &head.summary;
    let complete = end.is_some_and(|e| e.stopped.is_none())
        && !head.skipped.iter().any(|s| s.is_internal_error());
    Ok(RunInput {
        id: run.info.id,
        suite: run.info.suite,
        shard: run.info.shard,
        branch: context.branch,
        label: context.label,
        started_at,
        ended_at: started_at
            + chrono::Duration::milliseconds(end.map_or(0, |e| e.duration_ms) as i64),
        tool_version: run.tool.version,
        rules_version: run.rules_version,
        commit: context.commit,
        ci_job_url: context.ci_job_url,
        exit_code: context.exit_code,
        complete,
        summary: RunSummary::from(s),
        pages,
        findings,
    })
}

/// The base URL of each scenario of a run record.
fn base_urls(run: &RunRecord) -> HashMap<String, url::Url> {
    run.base_urls
        .iter()
        .filter_map(|(scenario, url)| Some((scenario.clone(), url::Url::parse(url).ok()?)))
        .collect()
}

/// A run's pages with the state of each finding, as the store computed them.
pub struct WithHistory<'a> {
    pages: &'a dyn Pages,
    bases: HashMap<String, url::Url>,
    states: HashMap<FindingKey, FindingHistory>,
}

impl<'a> WithHistory<'a> {
    /// `pages` of the run `input` (as recorded), with `recorded`'s states;
    /// `head` gains the run's history (baseline, fixed, not checked).
    pub fn new(
        pages: &'a dyn Pages,
        journal_path: &Path,
        input: &RunInput,
        recorded: &Recorded,
        head: &mut Head,
    ) -> Self {
        let states: HashMap<FindingKey, FindingHistory> = input
            .findings
            .iter()
            .zip(&recorded.findings)
            .map(|(finding, history)| {
                (
                    finding.key.clone(),
                    FindingHistory {
                        state: history.state,
                        first_seen: FirstSeen {
                            run: history.first_seen_run.clone(),
                            at: history
                                .first_seen_at
                                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        },
                        runs_seen: history.runs_seen,
                    },
                )
            })
            .collect();
        head.fresh = input
            .findings
            .iter()
            .zip(&recorded.findings)
            .filter(|(f, h)| !f.accepted && h.state != crate::finding::FindingState::Open)
            .count();
        let gone = |list: &[super::GoneFinding]| -> Vec<GoneFinding> {
            list.iter()
                .map(|g| GoneFinding {
                    scenario: g.key.scenario.clone(),
                    path: g.key.path.clone(),
                    view: Some(g.key.view.clone()).filter(|v| !v.is_empty()),
                    rule: g.key.rule,
                    attribute: Some(g.key.attribute.clone()).filter(|a| !a.is_empty()),
                    severity: g.severity,
                    message: g.message.clone(),
                })
                .collect()
        };
        head.history = Some(RunHistory {
            store: recorded.store.clone(),
            baseline: recorded.baseline.clone(),
            baseline_spec: recorded.baseline_spec.clone(),
            fixed: gone(&recorded.fixed),
            not_checked: gone(&recorded.not_checked),
        });
        let bases = journal::Reader::open(journal_path)
            .ok()
            .and_then(|mut r| r.next())
            .and_then(|e| e.ok())
            .and_then(|(_, record)| record.run)
            .map(|run| base_urls(&run))
            .unwrap_or_default();
        WithHistory {
            pages,
            bases,
            states,
        }
    }
}

impl Pages for WithHistory<'_> {
    fn pass(&self) -> Box<dyn Iterator<Item = Result<PageReport, String>> + '_> {
        Box::new(self.pages.pass().map(move |page| {
            let mut page = page?;
            let keys = page_keys(&page, self.bases.get(&page.scenario));
            for (finding, key) in page.findings.iter_mut().zip(keys) {
                finding.history = self.states.get(&key).cloned();
            }
            Ok(page)
        }))
    }
}
