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

/// Runs every scenario of every plan, side by side over the run's tab budget;
/// pages are reported in file and scenario order.
pub async fn run_plans(
    browser: &Browser,
    plans: &[Plan],
    options: &AuditOptions,
    on_page: &(dyn Fn(&PageResult) + Sync),
) -> RunOutcome {
    let journey = &journey_options(options);
    let runs = plans
        .iter()
        .flat_map(|plan| plan.scenarios.iter().map(move |scenario| (plan, scenario)));
    // Each scenario waits for a tab of the budget, so no more than
    // --concurrency scenarios (or crawl tabs) are ever open.
    let runs: Vec<_> = futures::stream::iter(runs)
        .map(|(plan, scenario)| async move {
            let mut on_page = |result: &PageResult| on_page(result);
            journey::run_scenario(browser, plan, scenario, journey, None, &mut on_page).await
        })
        .buffered(options.concurrency.max(1))
        .collect()
        .await;
    let mut results: Vec<PageResult> = Vec::new();
    let mut scenarios = Vec::new();
    let mut error = None;
    for run in runs {
        error = error.or(run.error);
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
/// with `context`. Results come in list order (a page listed twice once).
pub async fn check_pages(
    browser: &Browser,
    pages: &[Url],
    scenario: &str,
    context: PageContext,
    options: &AuditOptions,
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
    };
    let list = PageList {
        scope: Scope::of_pages(pages),
        session: context.session,
    };
    let mut on_page = |result: &PageResult| on_page(result);
    let run = journey::run_scenario(
        browser,
        &plan,
        &scenario,
        &journey_options(options),
        Some(&list),
        &mut on_page,
    )
    .await;
    Outcome {
        done: run.done.pages,
        error: run.error,
    }
}
