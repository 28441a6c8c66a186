//! Running one scenario: its own browser context, the login block, the steps,
//! then the crawl; every audited page judged by the page rules and, in order,
//! by the session rules.

use crate::audit::{Outcome, PageResult, Target};
use crate::browser::Browser;
use crate::browser::{DomAction, Mark, Tab, TabError, Visit, VisitOptions, WaitCondition};
use crate::capture::PageCapture;
use crate::checks::{self, PageContext, Session};
use crate::crawl::Frontier;
use crate::crawl::Scope;
use crate::error::Fatal;
use crate::finding::Finding;
use crate::journal::{Replay, ReplayedPage};
use crate::report::Skipped;
use crate::rules::Rule;
use crate::scenario::{Action, Block, Logout, Plan, Scenario, Step, WaitFor};
use crate::screenshot::{Screenshots, When};
use crate::session::{PageInSession, SessionJudge};
use crate::shard::Shard;
use chromiumoxide::cdp::browser_protocol::browser::BrowserContextId;
use futures::stream::FuturesUnordered;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

/// How journeys run.
#[derive(Debug, Clone)]
pub struct JourneyOptions {
    /// How pages are visited.
    pub visit: VisitOptions,
    /// Which pages get a screenshot, and where (a failing step gets one unless
    /// screenshots are off).
    pub screenshots: Screenshots,
    /// The run's tab budget (`--concurrency`), shared by every scenario: each
    /// open tab holds one permit.
    pub tabs: Arc<Semaphore>,
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
pub struct PageList {
    /// Where navigation may go.
    pub scope: Scope,
    /// Whether the pages count as logged in.
    pub session: Session,
}

/// Why a step failed, in the words of its finding.
fn step_failure(failure: TabError) -> String {
    match failure {
        TabError::OutOfScope(to) => format!(
            "the step went to {to}, outside the steps' scope (base_url's origin, origins a goto or visit step names, login_origins): not requested; add the origin to login_origins if it is the site's own sign-in page"
        ),
        other => other.to_string(),
    }
}

/// One step as it ran, safe to show (secrets masked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// The step, e.g. `login step 2 (fill "#email" = ***)`.
    pub step: String,
    /// `ok` or `failed`.
    pub status: String,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The page URL after the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Its wall time.
    pub ms: u64,
}

/// A scenario as it ran.
#[derive(Debug, Clone)]
pub struct ScenarioRun {
    /// The scenario's name.
    pub name: String,
    /// Every step, in order.
    pub steps: Vec<StepRecord>,
    /// Every audited page, in order.
    pub pages: Vec<PageResult>,
    /// Crawled URLs that were not audited, in order.
    pub skipped: Vec<Skipped>,
    /// Links of a sharded crawl's pages that it did not follow.
    pub discovered: Vec<String>,
    /// URLs being audited when the run stopped early (the browser died).
    pub in_flight: Vec<String>,
}

impl ScenarioRun {
    /// A scenario that has done nothing yet.
    pub fn empty(name: &str) -> Self {
        ScenarioRun {
            name: name.to_string(),
            steps: Vec::new(),
            pages: Vec::new(),
            skipped: Vec::new(),
            discovered: Vec::new(),
            in_flight: Vec::new(),
        }
    }
}

/// What a journey reports as it goes (to the journal and the progress bar).
pub enum JourneyEvent<'e> {
    /// A page was judged (page and session rules).
    Page(&'e PageResult),
    /// A crawled URL was skipped.
    Skipped(&'e Skipped),
}

/// Runs `scenario` of `plan` in a fresh browser context. `on_event` sees each
/// page as soon as it is judged. Pages and skips in `replay` (a resumed run, a
/// relaunched browser) are not audited again: the journey walks its steps to
/// them and takes them as they were judged.
pub async fn run_scenario(
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

    async fn login(&mut self) -> Result<(), Stop> {
        let mut mark: Option<Mark> = None;
        for step in &self.scenario.login {
            if matches!(step.action, Action::Click(_) | Action::Press { .. }) {
                // Pushes after the last click or press of the login began count as logged in.
                mark = self.tab().mark().await;
            }
            self.step(step).await?;
        }
        self.session = Session::LoggedIn;
        if !self.audits_steps() {
            self.boundary_pending = true;
            return Ok(());
        }
        if let Some(page) = self.replayed_here().await {
            if page.capture.logged_in_from_seq.is_none() {
                self.boundary_pending = true;
            }
            self.replayed(page);
            return Ok(());
        }
        let visit = self.tab().audit_current(&self.options.visit).await;
        let from_seq = match (&mark, &visit.doc) {
            (Some(mark), Some(doc)) if mark.doc == *doc => Some(mark.seq + 1),
            _ => None,
        };
        if from_seq.is_none() {
            self.boundary_pending = true;
        }
        self.audit(visit, from_seq).await?;
        Ok(())
    }

    fn resolve(&self, target: &str) -> String {
        self.plan
            .resolve(target)
            .map(|u| u.to_string())
            .unwrap_or_else(|| target.to_string())
    }

    fn on_base_origin(&self, url: &str) -> bool {
        Url::parse(url).is_ok_and(|u| u.origin() == self.plan.base_url.origin())
    }

    /// Runs one step; a failure records a finding and stops the scenario.
    async fn step(&mut self, step: &Step) -> Result<(), Stop> {
        let started = Instant::now();
        // A failing step has recorded itself (and its finding) before returning.
        self.perform(step).await?;
        let url = self.tab().url().await;
        let ms = started.elapsed().as_millis() as u64;
        self.run.steps.push(StepRecord {
            step: step.to_string(),
            status: "ok".into(),
            error: None,
            url,
            ms,
        });
        Ok(())
    }

    async fn perform(&mut self, step: &Step) -> Result<(), Stop> {
        let mut options = self.options.visit.clone();
        if let Some(timeout) = step.timeout {
            options.timeout = timeout;
        }
        let outcome: Result<(), String> = if let Some(dom) = step.action.dom_action() {
            self.perform_dom(step, dom, &options).await?
        } else {
            self.perform_other(step, &options).await?
        };
        match outcome {
            Ok(()) => Ok(()),
            Err(_) if !self.browser.is_alive() => Err(Stop::Fatal(self.browser.died())),
            Err(reason) => {
                self.fail(step, &reason).await;
                if std::mem::take(&mut self.renew_after_failure) {
                    self.renew_tab().await?;
                }
                Err(Stop::Step)
            }
        }
    }

    /// Runs a step that is one DOM interaction: credentials only where they
    /// may go, secret fields remembered for masking, a consent click marked.
    async fn perform_dom(
        &mut self,
        step: &Step,
        dom: DomAction,
        options: &VisitOptions,
    ) -> Result<Result<(), String>, Stop> {
        if dom.types_text() {
            self.guard_credentials(step).await?;
        }
        match &step.action {
            Action::Fill { selector, value } if value.is_secret() => {
                self.tab().received_secret(selector)
            }
            Action::Consent(_) => {
                if let Some(mark) = self.tab().mark().await {
                    self.consents.push(mark);
                }
            }
            _ => {}
        }
        Ok(self.act(dom, options).await)
    }

    /// Runs a step that navigates, waits, sets state or logs out.
    async fn perform_other(
        &mut self,
        step: &Step,
        options: &VisitOptions,
    ) -> Result<Result<(), String>, Stop> {
        let options = options.clone();
        let outcome: Result<(), String> = match &step.action {
            Action::Goto(target) => {
                let url = self.resolve(target);
                self.tab().goto(&url, &options).await.map_err(step_failure)
            }
            Action::Visit(target) => {
                let url = self.resolve(target);
                self.visit_and_audit(&url, &options).await?
            }
            // One DOM interaction each: `perform` runs them by `perform_dom`.
            Action::Fill { .. }
            | Action::Select { .. }
            | Action::Press { .. }
            | Action::Check { .. }
            | Action::Click(_)
            | Action::Consent(_) => Ok(()),
            Action::WaitFor(wait) => match wait {
                WaitFor::Selector(s) => self
                    .tab()
                    .wait_until(&WaitCondition::Selector(s.clone()), &options)
                    .await
                    .map_err(|f| f.to_string()),
                WaitFor::Url(glob) => self
                    .tab()
                    .wait_until(&WaitCondition::Url(crate::glob::Glob::new(glob)), &options)
                    .await
                    .map_err(|f| f.to_string()),
                WaitFor::Ms(ms) => {
                    tokio::time::sleep(std::time::Duration::from_millis(*ms)).await;
                    Ok(())
                }
                WaitFor::NetworkIdle => {
                    self.tab().settle(&options).await.map_err(|f| f.to_string())
                }
            },
            Action::SetCookie { name, value, path } => {
                self.tab()
                    .set_cookie(self.plan.base_url.as_str(), name, value.expose(), path)
                    .await
            }
            Action::LocalStorage(entries) => {
                let here = self.tab().url().await.unwrap_or_default();
                if !self.on_base_origin(&here) {
                    Err(format!("the page is {here}, not on base_url's origin: put a goto to a page of the site before local_storage"))
                } else {
                    let script = entries
                        .iter()
                        .map(|(k, v)| {
                            format!(
                                "localStorage.setItem({}, {});",
                                serde_json::json!(k),
                                serde_json::json!(v.expose())
                            )
                        })
                        .collect::<String>();
                    self.act(DomAction::Script(script), &options).await
                }
            }
            Action::Logout(how) => {
                self.session = Session::LoggedOut;
                self.boundary_pending = true;
                match how {
                    Logout::Visit(target) => {
                        let url = self.resolve(target);
                        self.visit_and_audit(&url, &options).await?
                    }
                    Logout::Click(selector) => match self
                        .act(
                            DomAction::Click {
                                selector: selector.clone(),
                            },
                            &options,
                        )
                        .await
                    {
                        Ok(()) if !self.audits_steps() => Ok(()),
                        Ok(()) => {
                            if let Some(page) = self.replayed_here().await {
                                self.replayed(page);
                            } else {
                                let visit = self.tab().audit_current(&options).await;
                                self.audit(visit, None).await?;
                            }
                            Ok(())
                        }
                        Err(e) => Err(e),
                    },
                }
            }
        };
        Ok(outcome)
    }

    /// The page rules' findings on `capture` (none with `--discover-only`).
    fn page_findings(&self, capture: &PageCapture) -> Vec<Finding> {
        if self.options.judge {
            checks::judge(capture, &self.context())
        } else {
            Vec::new()
        }
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

    /// A `visit` step: audits `url`, or, when an earlier run already did, walks
    /// there without auditing and takes the page as it was judged.
    /// The outer error stops the run (the browser failed); the inner one fails
    /// the step.
    async fn visit_and_audit(
        &mut self,
        url: &str,
        options: &VisitOptions,
    ) -> Result<Result<(), String>, Fatal> {
        if !self.audits_steps() {
            return Ok(self
                .tab()
                .goto(url, options)
                .await
                .map_err(|f| f.to_string()));
        }
        if let Some(page) = self.replay.take_page(url) {
            let walked = self.tab().goto(url, options).await;
            self.replayed(page);
            return Ok(walked.map_err(|f| f.to_string()));
        }
        let visit = self.tab().visit(url, options, None).await;
        self.audit(visit, None).await.map(Ok)
    }

    /// The replayed page of the tab's current URL, if an earlier run judged it.
    async fn replayed_here(&mut self) -> Option<ReplayedPage> {
        if self.replay.is_empty() {
            return None;
        }
        let here = self.tab().url().await?;
        self.replay.take_page(&here)
    }

    /// Takes a page an earlier run judged: the session rules see it again (so
    /// later pages are judged as they were), its findings stay as they were.
    fn replayed(&mut self, page: ReplayedPage) {
        let visit = Visit {
            capture: page.capture,
            tab_usable: true,
            out_of_scope: None,
            not_a_page: None,
            doc: None,
        };
        self.judged(visit, page.findings, page.screenshot, true);
    }

    async fn act(&mut self, action: DomAction, options: &VisitOptions) -> Result<(), String> {
        match self.tab().act(&action, options).await {
            Ok(()) => Ok(()),
            Err(failure) => {
                // The stuck tab is replaced after the failure is recorded on it
                // (its URL and screenshot), not before.
                self.renew_after_failure |= !failure.tab_usable();
                Err(step_failure(failure))
            }
        }
    }

    /// Credentials (a login step, a secret value) are typed only into pages on
    /// base_url's origin or one of `login_origins`.
    async fn guard_credentials(&mut self, step: &Step) -> Result<(), Stop> {
        if step.block != Block::Login && !step.action.has_secret() {
            return Ok(());
        }
        let here = self.tab().url().await.unwrap_or_default();
        if Url::parse(&here).is_ok_and(|u| self.plan.takes_credentials(&u)) {
            return Ok(());
        }
        let reason = format!(
            "the step landed on {here}, which is neither base_url's origin {} nor in login_origins: nothing was typed there (add the origin to login_origins if it is the site's own sign-in page)",
            self.plan.base_url.origin().ascii_serialization()
        );
        self.fail(step, &reason).await;
        Err(Stop::Step)
    }

    /// Records a failed step: a screenshot, a finding on the current page, the step history.
    async fn fail(&mut self, step: &Step, reason: &str) {
        let url = self
            .tab()
            .url()
            .await
            .unwrap_or_else(|| "about:blank".into());
        let screenshot = match self.options.screenshots.when {
            When::Never => None,
            _ => {
                let name = self.qualified_shot_name(&format!("{}-step{}", step.block, step.index));
                self.options.screenshots.take(self.tab(), &name).await
            }
        };
        let selector = step
            .action
            .selector()
            .map(|s| format!(" (selector {s:?})"))
            .unwrap_or_default();
        let shot = screenshot
            .as_ref()
            .map(|p| {
                format!(
                    "; screenshot: {}",
                    self.options.screenshots.out_dir.join(p).display()
                )
            })
            .unwrap_or_default();
        let message =
            format!("The scenario stopped: {step} failed on {url}{selector}: {reason}{shot}");
        tracing::warn!("{}: {message}", self.scenario.name);
        self.run.steps.push(StepRecord {
            step: step.to_string(),
            status: "failed".into(),
            error: Some(reason.to_string()),
            url: Some(url.clone()),
            ms: 0,
        });
        let mut capture = crate::capture::PageCapture::unreachable(&url, reason);
        capture.final_url = Some(url.clone());
        let finding = Finding::new(Rule::PageUnreachable, message);
        self.record(capture, vec![finding], screenshot, false);
    }

    fn context(&self) -> PageContext {
        PageContext {
            session: self.session,
            expect: self.scenario.expect.clone(),
        }
    }

    /// Judges a visited page (page rules, then session rules) and records it.
    async fn audit(&mut self, visit: Visit, logged_in_from_seq: Option<u64>) -> Result<(), Fatal> {
        if !self.browser.is_alive() {
            // Not the page's fault: it was not audited.
            return Err(self.browser.died());
        }
        if !visit.tab_usable {
            self.renew_tab().await?;
        }
        let mut visit = visit;
        visit.capture.logged_in_from_seq = logged_in_from_seq;
        let findings = self.page_findings(&visit.capture);
        let screenshot = if visit.tab_usable && self.options.screenshots.wanted(&findings) {
            let name = self.shot_name(self.run.pages.len() + 1);
            self.options.screenshots.take(self.tab(), &name).await
        } else {
            None
        };
        self.judged(visit, findings, screenshot, false);
        Ok(())
    }

    /// Records a page judged by the page rules: the session rules judge it in
    /// the order pages are recorded. A `replayed` page carries its findings
    /// already; the session rules only learn from it.
    fn judged(
        &mut self,
        visit: Visit,
        mut findings: Vec<Finding>,
        screenshot: Option<String>,
        replayed: bool,
    ) {
        let capture = visit.capture;
        let context = self.context();
        let meta = PageInSession {
            boundary_before: std::mem::take(&mut self.boundary_pending),
            consent_before: self
                .consents
                .iter()
                .any(|m| Some(&m.doc) != visit.doc.as_ref()),
            consent_seqs: self
                .consents
                .iter()
                .filter(|m| Some(&m.doc) == visit.doc.as_ref())
                .map(|m| m.seq)
                .collect(),
        };
        self.consents.clear();
        if replayed || !self.options.judge {
            self.judge.judge(&capture, &context, &meta, &mut Vec::new());
        } else {
            self.judge.judge(&capture, &context, &meta, &mut findings);
        }
        if let Some(url) = capture
            .final_url
            .as_deref()
            .and_then(|u| Url::parse(u).ok())
            .and_then(|u| crate::crawl::normalize(&u))
        {
            self.audited.insert(url.to_string());
        }
        self.record(capture, findings, screenshot, replayed);
    }

    fn record(
        &mut self,
        capture: crate::capture::PageCapture,
        findings: Vec<Finding>,
        screenshot: Option<String>,
        replayed: bool,
    ) {
        let result = PageResult {
            index: self.run.pages.len(),
            target: Target {
                url: capture.url.clone(),
                scenario: self.scenario.name.clone(),
                context: self.context(),
            },
            capture,
            findings,
            screenshot,
        };
        if !replayed {
            (self.on_event)(JourneyEvent::Page(&result));
        }
        self.run.pages.push(result);
    }

    /// Crawls breadth first with up to the run's tab budget in flight. Each
    /// visit runs as a task of its own and is judged by the page rules as soon as
    /// it finishes, and its tab goes to the next URL at once; a small reorder
    /// buffer then hands the pages to the session rules, the report and the
    /// frontier in the order the URLs were taken, so the pages audited and their
    /// order are those of a crawl with one tab.
    async fn crawl(&mut self, config: &crate::scenario::CrawlConfig) -> Result<(), Stop> {
        let base = &self.plan.base_url;
        // A sharded crawl audits its part of the page list known before the
        // run and follows no links: they are listed as discovered.
        let shard = self.options.shard.filter(|_| self.page_list.is_none());
        let mut known: HashSet<String> = HashSet::new();
        let mut frontier = match (self.page_list, shard) {
            (Some(list), _) => Frontier::with_scope(list.scope.clone(), base, config),
            (None, Some(shard)) => {
                let scope = Scope::new(base, config);
                let mut list: Vec<Url> = config
                    .start
                    .iter()
                    .filter_map(|s| base.join(s).ok())
                    .collect();
                if config.sitemap {
                    if let Some(tab) = self.tab.as_ref() {
                        list.extend(sitemap(tab, self.plan).await);
                    }
                }
                list.retain(|u| scope.allows(u));
                known.extend(
                    list.iter()
                        .filter_map(crate::crawl::normalize)
                        .map(String::from),
                );
                let mine: Vec<String> = list
                    .iter()
                    .filter(|u| shard.owns(u))
                    .map(Url::to_string)
                    .collect();
                let part = crate::scenario::CrawlConfig {
                    max_pages: mine.len(),
                    start: mine,
                    max_depth: 0,
                    sitemap: false,
                    ..config.clone()
                };
                Frontier::new(base, &part)
            }
            (None, None) => Frontier::new(base, config),
        };
        let mut discovered: BTreeSet<String> = BTreeSet::new();
        for seen in &self.audited {
            if let Ok(url) = Url::parse(seen) {
                frontier.mark_seen(&url);
            }
        }
        let scope = frontier.scope().clone();
        let mut sitemap_pending = config.sitemap && shard.is_none();
        let mut idle: Vec<Tab> = self.tab.take().into_iter().collect();
        let mut permits: Vec<OwnedSemaphorePermit> = Vec::new();
        let mut tabs_open = idle.len();
        let first_name = self.run.pages.len();
        let mut taken = 0usize;
        let mut next = 0usize;
        let mut finished: BTreeMap<usize, CrawlVisit> = BTreeMap::new();
        let mut in_flight = FuturesUnordered::new();
        // URLs being visited, by frontier index: retried after a browser restart.
        let mut flying: HashMap<usize, String> = HashMap::new();
        let result = loop {
            // Hand the finished pages on in frontier order.
            while let Some(page) = finished.remove(&next) {
                next += 1;
                // A redirect out of scope, or a response that is not a page: listed
                // under skipped, not audited, and not counted toward max_pages.
                let skip = match (&page.visit.out_of_scope, &page.visit.not_a_page) {
                    _ if self.page_list.is_some() => None,
                    (Some(to), _) => Some(("redirects out of scope".to_string(), Some(to.clone()))),
                    (None, Some(why)) => Some((why.clone(), None)),
                    (None, None) => None,
                };
                if let Some((reason, to)) = skip {
                    tracing::info!("{}: {} skipped: {reason}", self.scenario.name, page.url);
                    let skipped = Skipped {
                        url: page.url.to_string(),
                        scenario: self.scenario.name.clone(),
                        reason,
                        to,
                    };
                    if !page.replayed {
                        (self.on_event)(JourneyEvent::Skipped(&skipped));
                    }
                    self.run.skipped.push(skipped);
                    frontier.uncount();
                    continue;
                }
                if !self.browser.is_alive() {
                    break;
                }
                if let Some(final_url) = page
                    .visit
                    .capture
                    .final_url
                    .as_deref()
                    .and_then(|u| Url::parse(u).ok())
                {
                    frontier.mark_seen(&final_url);
                }
                if sitemap_pending && page.visit.capture.unreachable.is_none() {
                    sitemap_pending = false;
                    if idle.is_empty() {
                        if let Some(done) = in_flight.next().await {
                            let done = self.tab_back(done, &mut idle, &mut tabs_open).await;
                            flying.remove(&done.index);
                            finished.insert(done.index, done);
                        }
                    }
                    if let Some(tab) = idle.last() {
                        for loc in sitemap(tab, self.plan).await {
                            frontier.offer(&loc, 1);
                        }
                    }
                }
                let links = page.visit.capture.links.clone();
                self.judged(page.visit, page.findings, page.screenshot, page.replayed);
                for link in links {
                    let Ok(link) = Url::parse(&link) else {
                        continue;
                    };
                    if shard.is_none() {
                        frontier.offer(&link, page.depth + 1);
                    } else if let Some(link) = crate::crawl::normalize(&link) {
                        if scope.allows(&link) && !known.contains(link.as_str()) {
                            discovered.insert(link.to_string());
                        }
                    }
                }
            }
            if !self.browser.is_alive() {
                self.run.in_flight = flying.values().cloned().collect();
                break Err(Stop::Fatal(self.browser.died()));
            }
            // Start the next URLs on every free tab, opening tabs while the budget allows.
            while let Some((url, depth)) = frontier.pop() {
                if let Some(page) = self.replay_crawled(taken, &url, depth) {
                    finished.insert(taken, page);
                    taken += 1;
                    continue;
                }
                let tab = match idle.pop() {
                    Some(tab) => tab,
                    None => match self.options.tabs.clone().try_acquire_owned() {
                        Ok(permit) => match self.open_tab().await {
                            Ok(tab) => {
                                permits.push(permit);
                                tabs_open += 1;
                                tab
                            }
                            Err(error) => {
                                frontier.push_front(url, depth);
                                if tabs_open == 0 {
                                    return Err(Stop::Fatal(error));
                                }
                                break;
                            }
                        },
                        Err(_) => {
                            frontier.push_front(url, depth);
                            break;
                        }
                    },
                };
                let job = CrawlJob {
                    index: taken,
                    url,
                    depth,
                    options: self.options.visit.clone(),
                    scope: scope.clone(),
                    context: self.context(),
                    screenshots: self.options.screenshots.clone(),
                    name: self.shot_name(first_name + taken + 1),
                    judge: self.options.judge,
                };
                flying.insert(taken, job.url.to_string());
                taken += 1;
                in_flight.push(tokio::spawn(job.run(tab)));
            }
            match in_flight.next().await {
                Some(done) => {
                    let done = self.tab_back(done, &mut idle, &mut tabs_open).await;
                    flying.remove(&done.index);
                    finished.insert(done.index, done);
                }
                None if finished.is_empty() => break Ok(()),
                None => {}
            }
        };
        self.run.discovered = discovered.into_iter().collect();
        // One tab stays for the journey's end; the others close with their permits.
        self.tab = idle.pop();
        for tab in idle {
            tab.close().await;
        }
        drop(permits);
        result
    }

    /// A crawl URL that needs no visit: judged or skipped by an earlier run
    /// (replayed), or being audited at two browser deaths already (it is not
    /// tried a third time: unreachable).
    fn replay_crawled(&mut self, index: usize, url: &Url, depth: usize) -> Option<CrawlVisit> {
        let visit = |capture: PageCapture, skipped: Option<&Skipped>| Visit {
            capture,
            tab_usable: true,
            out_of_scope: skipped.and_then(|s| s.to.clone()),
            not_a_page: skipped.filter(|s| s.to.is_none()).map(|s| s.reason.clone()),
            doc: None,
        };
        let crawl_visit = |visit: Visit, findings, screenshot, replayed| CrawlVisit {
            index,
            url: url.clone(),
            depth,
            visit,
            findings,
            screenshot,
            replayed,
        };
        if let Some(page) = self.replay.take_page(url.as_str()) {
            let replayed = visit(page.capture, None);
            return Some(crawl_visit(replayed, page.findings, page.screenshot, true));
        }
        if let Some(skipped) = self.replay.skipped(url.as_str()) {
            let skipped = skipped.clone();
            let replayed = visit(PageCapture::unreachable(url.as_str(), ""), Some(&skipped));
            return Some(crawl_visit(replayed, Vec::new(), None, true));
        }
        if self.replay.died_on.get(url.as_str()).copied().unwrap_or(0) >= 2 {
            let capture = PageCapture::unreachable(
                url.as_str(),
                "the browser died twice while this page was being audited",
            );
            let findings = checks::judge(&capture, &self.context());
            return Some(crawl_visit(visit(capture, None), findings, None, false));
        }
        None
    }

    /// Takes a finished crawl visit back: its tab returns to the idle ones, or
    /// is replaced when it is stuck.
    async fn tab_back(
        &mut self,
        done: Result<(CrawlVisit, Tab), tokio::task::JoinError>,
        idle: &mut Vec<Tab>,
        tabs_open: &mut usize,
    ) -> CrawlVisit {
        let (page, tab) = done.expect("a crawl visit does not panic");
        if page.visit.tab_usable {
            idle.push(tab);
        } else {
            tokio::spawn(tab.close());
            match self.open_tab().await {
                Ok(tab) => idle.push(tab),
                Err(error) => {
                    *tabs_open -= 1;
                    tracing::warn!("cannot replace a stuck tab: {error}");
                }
            }
        }
        page
    }
}

/// A crawl URL on its way through a tab.
struct CrawlJob {
    index: usize,
    url: Url,
    depth: usize,
    options: VisitOptions,
    scope: Scope,
    context: PageContext,
    screenshots: Screenshots,
    name: String,
    judge: bool,
}

/// A crawl URL visited and judged by the page rules, waiting for its turn.
struct CrawlVisit {
    index: usize,
    url: Url,
    depth: usize,
    visit: Visit,
    findings: Vec<Finding>,
    screenshot: Option<String>,
    /// Judged by an earlier run: not reported again.
    replayed: bool,
}

impl CrawlJob {
    /// Visits the URL and judges the page (page rules; the session rules come
    /// in frontier order), taking its screenshot while the tab is still on it.
    async fn run(self, tab: Tab) -> (CrawlVisit, Tab) {
        let visit = tab
            .visit(self.url.as_str(), &self.options, Some(&self.scope))
            .await;
        let findings = if visit.out_of_scope.is_none() {
            if self.judge {
                checks::judge(&visit.capture, &self.context)
            } else {
                Vec::new()
            }
        } else {
            Vec::new()
        };
        let screenshot = if visit.tab_usable && self.screenshots.wanted(&findings) {
            self.screenshots.take(&tab, &self.name).await
        } else {
            None
        };
        let page = CrawlVisit {
            index: self.index,
            url: self.url,
            depth: self.depth,
            visit,
            findings,
            screenshot,
            replayed: false,
        };
        (page, tab)
    }
}

/// The `<loc>` URLs of the site's /sitemap.xml, fetched by the page (same origin).
async fn sitemap(tab: &Tab, plan: &Plan) -> Vec<Url> {
    let Some(sitemap) = plan.resolve("/sitemap.xml") else {
        return Vec::new();
    };
    let expr = format!(
            "fetch({}, {{ credentials: 'same-origin' }}).then(r => r.ok ? r.text() : '').catch(() => '')",
            serde_json::json!(sitemap.as_str())
        );
    let text = tab
        .evaluate_async(&expr)
        .await
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    sitemap_urls(&text)
}

/// The `<url><loc>` URLs of a sitemap, read as XML (entities decoded: a
/// `&amp;` in a query string is `&`); an unreadable sitemap gives none.
fn sitemap_urls(text: &str) -> Vec<Url> {
    let Ok(doc) = roxmltree::Document::parse(text) else {
        tracing::info!("the sitemap is not well-formed XML: no URLs taken from it");
        return Vec::new();
    };
    doc.descendants()
        .filter(|n| n.tag_name().name() == "loc")
        .filter_map(|n| n.text())
        .filter_map(|t| Url::parse(t.trim()).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sitemap_entities_are_decoded() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://shop.test/search?q=espresso&amp;page=2</loc></url>
  <url><loc>
    https://shop.test/cart
  </loc></url>
</urlset>"#;
        let urls: Vec<String> = sitemap_urls(xml).iter().map(Url::to_string).collect();
        assert_eq!(
            urls,
            [
                "https://shop.test/search?q=espresso&page=2",
                "https://shop.test/cart"
            ]
        );
        assert!(sitemap_urls("<urlset><loc>unclosed").is_empty());
    }
}
