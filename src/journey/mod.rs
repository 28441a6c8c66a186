//! Running one scenario: its own browser context, the login block, the steps,
//! then the crawl; every audited page judged by the page rules and, in order,
//! by the session rules.

use crate::audit::{Outcome, PageResult, Target};
use crate::browser::Browser;
use crate::browser::{DomAction, Mark, Tab, TabError, Visit, VisitOptions, WaitCondition};
use crate::capture::PageCapture;
use crate::checks::{PageContext, Session};
use crate::crawl::Frontier;
use crate::crawl::Scope;
use crate::error::Fatal;
use crate::finding::Finding;
use crate::replay::{Replay, ReplayedPage};
use crate::report::{Skipped, StepRecord};
use crate::rules::Rule;
use crate::scenario::{Action, Block, Logout, Plan, Scenario, Step, WaitFor};
use crate::screenshot::{Screenshots, When};
use crate::session::{PageInSession, SessionJudge};
use crate::shard::Shard;
use chromiumoxide::cdp::browser_protocol::browser::BrowserContextId;
use futures::stream::FuturesUnordered;
use futures::StreamExt;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

mod crawl;
mod ledger;
mod road;
mod steps;

use road::Road;

/// How journeys run.
#[derive(Debug, Clone)]
pub(crate) struct JourneyOptions {
    /// How pages are visited.
    pub visit: VisitOptions,
    /// Which pages get a screenshot, and where (a failing step gets one unless
    /// screenshots are off).
    pub screenshots: Screenshots,
    /// The run's tab budget (`--concurrency`), shared by every scenario: each
    /// open tab holds one permit.
    pub tabs: Arc<Semaphore>,
    /// `--concurrency`: also how many finished crawl pages may wait behind a
    /// slow one for their turn.
    pub concurrency: usize,
    /// Audit only this shard of the crawl's known page list (start pages,
    /// sitemap, `--urls`), following no links.
    pub shard: Option<Shard>,
    /// False for `--discover-only`: pages are visited and settled, not judged.
    pub judge: bool,
}

/// A page list audited as given (`check`): each page's own origin is the
/// scope, a redirect out of it is `page-unreachable`, and the pages are judged
/// with `session`.
#[derive(Debug, Clone)]
pub(crate) struct PageList {
    /// Where navigation may go.
    pub scope: Scope,
    /// Whether the pages count as logged in.
    pub session: Session,
}

/// A scenario as it ran.
#[derive(Debug, Clone)]
pub(crate) struct ScenarioRun {
    /// The scenario's name.
    pub name: String,
    /// Every step, in order.
    pub steps: Vec<StepRecord>,
    /// How many pages it audited (or took from a replay).
    pub pages: usize,
    /// Links of a sharded crawl's pages that it did not follow.
    pub discovered: Vec<String>,
    /// URLs being audited when the run stopped early (the browser died).
    pub in_flight: Vec<String>,
}

impl ScenarioRun {
    /// A scenario that has done nothing yet.
    pub(crate) fn empty(name: &str) -> Self {
        ScenarioRun {
            name: name.to_string(),
            steps: Vec::new(),
            pages: 0,
            discovered: Vec::new(),
            in_flight: Vec::new(),
        }
    }
}

/// What a journey reports as it goes (to the journal and the progress bar).
pub(crate) enum JourneyEvent<'e> {
    /// A page was judged (page and session rules).
    Page(&'e PageResult),
    /// A page an earlier run judged was taken as it was (its findings still
    /// count for the run's settings ledger; it is not journaled again).
    Replayed(&'e PageResult),
    /// A crawled URL was skipped.
    Skipped(&'e Skipped),
    /// A page could not be judged because the tool failed (a panic): listed
    /// under skipped, and the run ends with exit 3.
    InternalError(&'e Skipped),
}

/// Runs `scenario` of `plan` in a fresh browser context. `on_event` sees each
/// page as soon as it is judged. Pages and skips in `replay` (a resumed run, a
/// relaunched browser) are not audited again: the journey walks its steps to
/// them and takes them as they were judged.
pub(crate) async fn run_scenario(
    browser: &Browser,
    plan: &Plan,
    scenario: &Scenario,
    options: &JourneyOptions,
    page_list: Option<&PageList>,
    replay: Replay,
    on_event: &mut (dyn FnMut(JourneyEvent) + Send),
) -> Outcome<ScenarioRun> {
    let empty = || ScenarioRun::empty(&scenario.name);
    // The journey's own tab holds one permit of the run's budget.
    let permit = options
        .tabs
        .clone()
        .acquire_owned()
        .await
        .expect("the tab budget is never closed");
    let context = match browser.new_context().await {
        Ok(context) => context,
        Err(error) => {
            return Outcome {
                done: empty(),
                error: Some(error),
            }
        }
    };
    let tab = match browser.open_tab(&context).await {
        Ok(tab) => tab,
        Err(error) => {
            browser.dispose_context(context).await;
            return Outcome {
                done: empty(),
                error: Some(error),
            };
        }
    };
    let mut journey = Journey {
        browser,
        context,
        plan,
        scenario,
        options,
        tab: Some(tab),
        step_scope: match page_list {
            Some(list) => list.scope.clone(),
            None => plan.step_scope(scenario),
        },
        _permit: permit,
        page_list,
        session: page_list.map_or(Session::LoggedOut, |p| p.session),
        judge: SessionJudge::new(),
        run: empty(),
        replay,
        renew_after_failure: false,
        boundary_pending: false,
        consents: Vec::new(),
        audited: HashSet::new(),
        on_event,
    };
    journey.tab().set_scope(Some(journey.step_scope.clone()));
    let outcome = journey.run().await;
    if let Some(tab) = journey.tab.take() {
        tab.close().await;
    }
    browser.dispose_context(journey.context.clone()).await;
    Outcome {
        done: journey.run,
        error: outcome.err(),
    }
}

/// Why a scenario stopped early.
enum Stop {
    /// A step failed; a finding was recorded.
    Step,
    /// The browser failed.
    Fatal(Fatal),
}

impl From<Fatal> for Stop {
    fn from(f: Fatal) -> Self {
        Stop::Fatal(f)
    }
}

struct Journey<'a> {
    browser: &'a Browser,
    context: BrowserContextId,
    plan: &'a Plan,
    scenario: &'a Scenario,
    options: &'a JourneyOptions,
    tab: Option<Tab>,
    /// Where the steps may navigate: every tab of the journey holds to it
    /// outside crawl visits.
    step_scope: Scope,
    /// The journey tab's share of the run's tab budget.
    _permit: OwnedSemaphorePermit,
    page_list: Option<&'a PageList>,
    session: Session,
    judge: SessionJudge,
    run: ScenarioRun,
    boundary_pending: bool,
    consents: Vec<Mark>,
    audited: HashSet<String>,
    replay: Replay,
    /// A step's action left the tab stuck: it is replaced once the failure
    /// is recorded.
    renew_after_failure: bool,
    on_event: &'a mut (dyn FnMut(JourneyEvent) + Send),
}

impl Journey<'_> {
    async fn run(&mut self) -> Result<(), Fatal> {
        match self.steps_and_crawl().await {
            Ok(()) | Err(Stop::Step) => Ok(()),
            Err(Stop::Fatal(f)) => Err(f),
        }
    }

    async fn steps_and_crawl(&mut self) -> Result<(), Stop> {
        if !self.scenario.login.is_empty() {
            self.login().await?;
        }
        for step in &self.scenario.steps {
            self.step(step).await?;
        }
        if let Some(crawl) = &self.scenario.crawl {
            self.crawl(crawl).await?;
        }
        Ok(())
    }

    fn tab(&self) -> &Tab {
        self.tab.as_ref().expect("a tab while running")
    }

    /// A new tab in the journey's context, held to the steps' scope.
    async fn open_tab(&self) -> Result<Tab, Fatal> {
        let tab = self.browser.open_tab(&self.context).await?;
        tab.set_scope(Some(self.step_scope.clone()));
        Ok(tab)
    }

    /// Replaces a stuck tab by a new one in the same context (same cookies).
    async fn renew_tab(&mut self) -> Result<(), Fatal> {
        if let Some(old) = self.tab.take() {
            tokio::spawn(old.close());
        }
        self.tab = Some(self.open_tab().await?);
        Ok(())
    }
    /// How this journey's pages are judged and photographed.
    fn road(&self) -> Road {
        Road {
            judge: self.options.judge,
            screenshots: self.options.screenshots.clone(),
        }
    }

    /// A page the tool failed to judge (its own bug): listed under skipped.
    fn internal_error(&mut self, url: &str, message: &str) {
        tracing::error!(
            "{}: {url} could not be audited: internal error: {message}",
            self.scenario.name
        );
        let skipped = Skipped::internal_error(url, &self.scenario.name, message);
        (self.on_event)(JourneyEvent::InternalError(&skipped));
    }

    /// The screenshot name of the scenario's `n`th page.
    fn shot_name(&self, n: usize) -> String {
        self.qualified_shot_name(&format!("{n:03}"))
    }

    /// A screenshot name: the scenario's, qualified by shard (so merged shards
    /// never share a name), then `what` (a page number, a failed step).
    fn qualified_shot_name(&self, what: &str) -> String {
        match self.options.shard {
            Some(shard) if shard.count > 1 => {
                format!("{}-shard{}-{what}", self.scenario.name, shard.index)
            }
            _ => format!("{}-{what}", self.scenario.name),
        }
    }

    /// Whether this run audits the pages its steps reach: a shard other than
    /// the first walks them without auditing.
    fn audits_steps(&self) -> bool {
        self.options.shard.is_none_or(|s| s.audits_steps())
    }
}
