//! `run`, `check` and `demo`: the run's record is started (its identity the
//! journal's first line), the pipeline audits into the journal, and the
//! reports are written from the journal, page by page.

use super::notify::{digest_of, Notifier};
use super::options::Common;
use super::output::{output_targets, write_reports};
use super::plans::{select_scenarios, Work};
use crate::audit::PageResult;
use crate::error::{ExitCode, Fatal};
use crate::journal::{self, Journal, Record, RunEnd, RunRecord};
use crate::notify::RunDigest;
use crate::pipeline::{self, BrowserSource, RunOutcome, Sinks};
use crate::progress::Progress;
use crate::replay::Replays;
use crate::report::{PageReport, RunInfo, Tool};
use crate::settings::Ledger;
use std::time::Instant;

/// The suite a run belongs to: `--suite`, else the command's own (`demo`),
/// else the scenario files' `site` (one), else `check`'s first origin.
fn suite_of(work: &Work, common: &Common, own: Option<&str>) -> Result<String, Fatal> {
    if let Some(suite) = common.suite.as_deref().or(own) {
        return Ok(suite.to_string());
    }
    match work {
        Work::Plans(plans) => {
            let mut sites: Vec<&str> = plans.iter().map(|p| p.site.as_str()).collect();
            sites.dedup();
            match sites.as_slice() {
                [site] => Ok(site.to_string()),
                _ => Err(Fatal::Usage(format!(
                    "the scenario files name several sites ({}): name the run's suite with --suite NAME",
                    sites.join(", ")
                ))),
            }
        }
        Work::Pages(pages, ..) => Ok(pages
            .first()
            .map(|url| url.origin().ascii_serialization())
            .unwrap_or_else(|| "check".into())),
    }
}

/// The scenarios of `work` in report order.
fn scenario_order(work: &Work) -> Vec<String> {
    match work {
        Work::Plans(plans) => pipeline::runs_of(plans)
            .map(|(_, scenario)| scenario.name.clone())
            .collect(),
        Work::Pages(..) => vec!["logged-out".to_string()],
    }
}

/// The record a fresh run starts its journal with.
pub(super) fn run_record(
    work: &Work,
    common: &Common,
    own_suite: Option<&str>,
    started_at: chrono::DateTime<chrono::Utc>,
) -> Result<RunRecord, Fatal> {
    Ok(RunRecord {
        info: RunInfo {
            id: common
                .run_id
                .clone()
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            suite: suite_of(work, common, own_suite)?,
            shard: common.shard.map(|s| s.to_string()),
        },
        started_at: started_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        tool: Tool::this(),
        rules_version: crate::rules::rules_version(),
        scenarios: scenario_order(work),
        base_urls: match work {
            Work::Plans(plans) => pipeline::runs_of(plans)
                .map(|(plan, scenario)| (scenario.name.clone(), plan.base_url.to_string()))
                .collect(),
            Work::Pages(..) => Default::default(),
        },
        rules_off: match work {
            Work::Plans(plans) => pipeline::runs_of(plans)
                .map(|(_, scenario)| (scenario.name.clone(), off(&scenario.settings)))
                .collect(),
            Work::Pages(_, _, settings) => [("logged-out".to_string(), off(settings))]
                .into_iter()
                .collect(),
        },
    })
}

/// The rules a scenario's settings turn off.
fn off(settings: &crate::settings::Settings) -> std::collections::BTreeSet<crate::rules::Rule> {
    settings
        .levels
        .iter()
        .filter(|(_, level)| level.severity().is_none())
        .map(|(rule, _)| *rule)
        .collect()
}

/// Launches the browser, audits, writes the reports, sends the run's message
/// (`--notify`), returns the exit code.
pub(super) async fn execute(
    work: Work,
    common: &Common,
    quiet: bool,
    own_suite: Option<&str>,
) -> Result<ExitCode, Fatal> {
    let Some(notifier) = Notifier::of(common, common.shard.is_some())? else {
        return audit_run(work, common, quiet, own_suite, &mut None).await;
    };
    // Known before the run, for the message of a run that cannot start.
    let suite = suite_of(&work, common, own_suite).ok();
    let mut digest = None;
    let result = audit_run(work, common, quiet, own_suite, &mut digest).await;
    notifier
        .after(digest, &result, suite.as_deref(), common)
        .await;
    result
}

/// Launches the browser, audits, writes the reports, returns the exit code;
/// `digest` gathers what the run's message says.
async fn audit_run(
    work: Work,
    common: &Common,
    quiet: bool,
    own_suite: Option<&str>,
    digest: &mut Option<RunDigest>,
) -> Result<ExitCode, Fatal> {
    let options = common.audit_options()?;
    let targets = output_targets(common)?;
    let memory = super::history::memory_of(common, common.shard.is_some())?;
    let work = match work {
        Work::Plans(plans) => Work::Plans(select_scenarios(plans, &common.scenarios)?),
        pages => pages,
    };
    let started_at = chrono::Utc::now();
    let mut ledger = Ledger::new(started_at.date_naive());
    let clock = Instant::now();
    let source = BrowserSource::from_flags(
        common.browser_ws.as_deref(),
        common.browser.as_deref(),
        &common.browser_args,
    )?;
    // Every judged page goes to disk at once, so a crash or Ctrl-C loses nothing;
    // --resume goes on with the journal (and the run id) of the run it continues.
    let out_dir = common.resume.as_ref().unwrap_or(&common.out_dir);
    let path = out_dir.join(journal::FILE_NAME);
    let (replays, opened) = match &common.resume {
        Some(dir) => (
            Replays::index(&path)
                .map_err(|e| Fatal::Usage(format!("--resume {}: {e}", dir.display())))?,
            Journal::append(out_dir),
        ),
        None => (
            Replays::default(),
            Journal::create(out_dir, &run_record(&work, common, own_suite, started_at)?),
        ),
    };
    let journal = opened.map_err(|source| Fatal::Write {
        path: path.clone(),
        source,
    })?;
    if !quiet && replays.pages() > 0 {
        eprintln!(
            "resuming: {} pages already audited in {}",
            replays.pages(),
            journal.path().display()
        );
    }
    let mut outcome = match work {
        Work::Pages(mut pages, context, settings) => {
            if let Some(file) = &common.url_list {
                let base = pages.first().cloned().ok_or_else(|| {
                    Fatal::Usage("check --urls needs one URL too, to resolve paths against".into())
                })?;
                pages.extend(
                    super::plans::read_url_list(file, &base)
                        .map_err(|e| Fatal::Usage(format!("--urls {e}")))?,
                );
            }
            if let Some(shard) = options.shard {
                pages.retain(|page| shard.owns(page));
            }
            let progress = Progress::new(Some(pages.len()), quiet);
            let sinks = Sinks {
                journal: &journal,
                on_page: &|_: &PageResult, page: &PageReport| progress.page(page),
            };
            let outcome = match pipeline::page_list_plan(&pages, "logged-out", &context, &settings)
            {
                // A shard that owns none of the pages: an empty report.
                None => RunOutcome::empty(),
                Some(plan) => {
                    pipeline::check_pages(
                        &source,
                        &plan,
                        &context,
                        &options,
                        &mut ledger,
                        replays,
                        sinks,
                    )
                    .await
                }
            };
            progress.finish();
            outcome
        }
        Work::Plans(plans) => {
            let progress = Progress::new(None, quiet);
            let sinks = Sinks {
                journal: &journal,
                on_page: &|_: &PageResult, page: &PageReport| progress.page(page),
            };
            let outcome =
                pipeline::run_plans(&source, &plans, &options, &mut ledger, replays, sinks).await;
            progress.finish();
            outcome
        }
    };
    journal.write(&Record {
        end: Some(RunEnd {
            duration_ms: clock.elapsed().as_millis() as u64,
            settings: ledger.report(),
            stopped: outcome.error.as_ref().map(|e| e.to_string()),
        }),
        ..Record::default()
    });
    drop(journal);
    let (head, pages, end) = journal::report_of(&path).map_err(Fatal::Usage)?;
    *digest = Some(digest_of(&head, common.label.as_deref()));
    // What was audited before a failure is still reported; the failure decides the exit code.
    let error = match outcome.error.take() {
        Some(error) if head.summary.pages == 0 => return Err(error),
        error => error,
    };
    if let Some(error) = error {
        write_reports(&head, &pages, &targets, common, quiet)?;
        eprintln!(
            "error: the audit stopped early; the reports hold the {} pages audited before",
            head.summary.pages
        );
        return Err(error);
    }
    let code = super::history::record_and_report(
        &path,
        head,
        &pages,
        end.as_ref(),
        memory,
        &targets,
        common,
        quiet,
        digest,
    )
    .await?;
    if outcome.internal_errors > 0 {
        return Err(Fatal::Internal(format!(
            "{} page(s) could not be audited because insider-audit failed on them (listed under skipped as \"internal error\"): please report it; the other pages are in the reports",
            outcome.internal_errors
        )));
    }
    Ok(code)
}
