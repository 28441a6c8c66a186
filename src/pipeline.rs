//! The run loop every command shares: `check`'s page list and the scenarios of
//! `run` and `demo` go through the same journey and crawl, side by side over one
//! tab budget (`--concurrency` tabs open in the whole run), each page judged as
//! it finishes and handed to `on_page` (the journal, the progress bar) at once.

use crate::audit::{AuditOptions, Outcome, PageResult};
use crate::browser::Browser;
use crate::checks::PageContext;
use crate::crawl::Scope;
use crate::journey::{self, JourneyOptions, PageList};
use crate::report::ScenarioReport;
use crate::scenario::{CrawlConfig, Plan, Scenario};
use crate::settings::{Ledger, Settings};
use futures::StreamExt;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::Semaphore;
use url::Url;

/// What a run produced: every page in report order, and each scenario's steps.
pub type RunOutcome = Outcome<(Vec<PageResult>, Vec<ScenarioReport>)>;

fn journey_options(options: &AuditOptions) -> JourneyOptions {
    JourneyOptions {
        visit: options.visit.clone(),
        screenshots: options.screenshots.clone(),
        tabs: Arc::new(Semaphore::new(options.concurrency.max(1))),
    }
}

/// A page result with `settings` applied (what is shown and streamed while the
/// run goes on; the ledger marks what the whole run used at the end).
fn settled(result: &PageResult, settings: &Settings, today: chrono::NaiveDate) -> PageResult {
    let mut result = result.clone();
    result.findings = settings
        .apply(
            std::mem::take(&mut result.findings),
            &result.capture.url,
            &result.target.scenario,
            today,
        )
        .findings;
    result
}

/// Applies a scenario's settings to its judged pages, marking in the ledger
/// which accept entries the run used.
fn apply_settings(pages: &mut [PageResult], settings: &Settings, ledger: &mut Ledger) {
    ledger.register(settings);
    for page in pages {
        page.findings = ledger.apply(
            settings,
            std::mem::take(&mut page.findings),
            &page.capture.url,
            &page.target.scenario,
        );
    }
}

/// Every scenario of every plan, with its plan, in file order.
pub(crate) fn runs_of(plans: &[Plan]) -> impl Iterator<Item = (&Plan, &Scenario)> {
    plans
        .iter()
        .flat_map(|plan| plan.scenarios.iter().map(move |scenario| (plan, scenario)))
}

/// Runs every scenario of every plan, side by side over the run's tab budget;
/// pages are reported in file and scenario order, with each scenario's
/// settings applied (`on_page` sees them settled too).
pub async fn run_plans(
    browser: &Browser,
    plans: &[Plan],
    options: &AuditOptions,
    ledger: &mut Ledger,
    on_page: &(dyn Fn(&PageResult) + Sync),
) -> RunOutcome {
    let journey = &journey_options(options);
    let today = ledger.today();
    // Each scenario waits for a tab of the budget, so no more than
    // --concurrency scenarios (or crawl tabs) are ever open.
    let runs: Vec<_> = futures::stream::iter(runs_of(plans))
        .map(|(plan, scenario)| async move {
            let mut on_page =
                |result: &PageResult| on_page(&settled(result, &scenario.settings, today));
            journey::run_scenario(browser, plan, scenario, journey, None, &mut on_page).await
        })
        .buffered(options.concurrency.max(1))
        .collect()
        .await;
    let mut results: Vec<PageResult> = Vec::new();
    let mut scenarios = Vec::new();
    let mut error = None;
    for (mut run, (_, scenario)) in runs.into_iter().zip(runs_of(plans)) {
        error = error.or(run.error);
        apply_settings(&mut run.done.pages, &scenario.settings, ledger);
        for mut page in run.done.pages {
            page.index = results.len();
            results.push(page);
        }
        if !run.done.steps.is_empty() {
            scenarios.push(ScenarioReport {
                name: run.done.name,
                steps: run.done.steps,
            });
        }
    }
    Outcome {
        done: (results, scenarios),
        error,
    }
}

/// Audits a list of pages as given (`check`): one scenario named `scenario`
/// crawling the list at depth 0, each page in its own origin's scope, judged
/// with `context` and `settings`. Results come in list order (a page listed
/// twice once).
#[allow(clippy::too_many_arguments)] // one per input of a check; a struct would only rename them
pub async fn check_pages(
    browser: &Browser,
    pages: &[Url],
    scenario: &str,
    context: PageContext,
    settings: &Settings,
    options: &AuditOptions,
    ledger: &mut Ledger,
    on_page: &(dyn Fn(&PageResult) + Sync),
) -> Outcome<Vec<PageResult>> {
    let Some(first) = pages.first() else {
        return Outcome {
            done: Vec::new(),
            error: None,
        };
    };
    let plan = Plan {
        file: PathBuf::from("check"),
        site: "check".into(),
        base_url: first.clone(),
        scenarios: Vec::new(),
    };
    let scenario = Scenario {
        name: scenario.to_string(),
        login: Vec::new(),
        steps: Vec::new(),
        crawl: Some(CrawlConfig {
            start: pages.iter().map(Url::to_string).collect(),
            include: vec!["/**".into()],
            exclude: Vec::new(),
            max_pages: pages.len(),
            max_depth: 0,
            sitemap: false,
        }),
        expect: context.expect,
        settings: settings.clone(),
    };
    let list = PageList {
        scope: Scope::of_pages(pages),
        session: context.session,
    };
    let today = ledger.today();
    let mut on_page = |result: &PageResult| on_page(&settled(result, settings, today));
    let mut run = journey::run_scenario(
        browser,
        &plan,
        &scenario,
        &journey_options(options),
        Some(&list),
        &mut on_page,
    )
    .await;
    apply_settings(&mut run.done.pages, settings, ledger);
    Outcome {
        done: run.done.pages,
        error: run.error,
    }
}
