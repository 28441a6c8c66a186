//! Running one scenario: its own browser context, the login block, the steps,
//! then the crawl; every audited page judged by the page rules and, in order,
//! by the session rules.

use crate::audit::{Outcome, PageResult, Target};
use crate::browser::Browser;
use crate::checks::{self, PageContext, Session};
use crate::crawl::Frontier;
use crate::error::Fatal;
use crate::finding::Finding;
use crate::rules::Rule;
use crate::scenario::{Action, Block, Logout, Plan, Scenario, Step, WaitFor};
use crate::screenshot::{Screenshots, When};
use crate::session::{PageInSession, SessionJudge};
use crate::visit::{DomAction, Mark, Tab, Visit, VisitOptions, WaitCondition};
use chromiumoxide::cdp::browser_protocol::browser::BrowserContextId;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::time::Instant;
use url::Url;

/// How journeys run.
#[derive(Debug, Clone)]
pub struct JourneyOptions {
    /// How pages are visited.
    pub visit: VisitOptions,
    /// Which pages get a screenshot, and where (a failing step gets one unless
    /// screenshots are off).
    pub screenshots: Screenshots,
    /// Tabs a crawl keeps in flight.
    pub crawl_tabs: usize,
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
}

/// Runs `scenario` of `plan` in a fresh browser context. `on_page` sees each
/// page as soon as it is judged.
pub async fn run_scenario(
    browser: &Browser,
    plan: &Plan,
    scenario: &Scenario,
    options: &JourneyOptions,
    on_page: &mut (dyn FnMut(&PageResult) + Send),
) -> Outcome<ScenarioRun> {
    let empty = || ScenarioRun {
        name: scenario.name.clone(),
        steps: Vec::new(),
        pages: Vec::new(),
    };
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
        session: Session::LoggedOut,
        judge: SessionJudge::new(),
        run: ScenarioRun {
            name: scenario.name.clone(),
            steps: Vec::new(),
            pages: Vec::new(),
        },
        boundary_pending: false,
        consents: Vec::new(),
        audited: HashSet::new(),
        on_page,
    };
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
    session: Session,
    judge: SessionJudge,
    run: ScenarioRun,
    boundary_pending: bool,
    consents: Vec<Mark>,
    audited: HashSet<String>,
    on_page: &'a mut (dyn FnMut(&PageResult) + Send),
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

    /// Replaces a stuck tab by a new one in the same context (same cookies).
    async fn renew_tab(&mut self) -> Result<(), Fatal> {
        if let Some(old) = self.tab.take() {
            tokio::spawn(old.close());
        }
        self.tab = Some(self.browser.open_tab(&self.context).await?);
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
        let visit = self.tab().audit_current(&self.options.visit).await;
        let from_seq = match (&mark, &visit.doc) {
            (Some(mark), Some(doc)) if mark.doc == *doc => Some(mark.seq + 1),
            _ => None,
        };
        self.session = Session::LoggedIn;
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
        let outcome: Result<(), String> = match &step.action {
            Action::Goto(target) => {
                let url = self.resolve(target);
                self.tab().goto(&url, &options).await.map_err(|f| f.reason)
            }
            Action::Visit(target) => {
                let url = self.resolve(target);
                let visit = self.tab().visit(&url, &options, None).await;
                self.audit(visit, None).await?;
                Ok(())
            }
            Action::Fill { selector, value } => {
                self.guard_credentials(step).await?;
                self.act(
                    DomAction::Fill {
                        selector: selector.clone(),
                        value: value.expose().to_string(),
                    },
                    &options,
                )
                .await
            }
            Action::Select { selector, value } => {
                self.guard_credentials(step).await?;
                self.act(
                    DomAction::Select {
                        selector: selector.clone(),
                        value: value.expose().to_string(),
                    },
                    &options,
                )
                .await
            }
            Action::Press { key, selector } => {
                self.guard_credentials(step).await?;
                self.act(
                    DomAction::Press {
                        key: key.clone(),
                        selector: selector.clone(),
                    },
                    &options,
                )
                .await
            }
            Action::Check { selector, checked } => {
                self.act(
                    DomAction::Check {
                        selector: selector.clone(),
                        checked: *checked,
                    },
                    &options,
                )
                .await
            }
            Action::Click(selector) => {
                self.act(
                    DomAction::Click {
                        selector: selector.clone(),
                    },
                    &options,
                )
                .await
            }
            Action::Consent(selector) => {
                if let Some(mark) = self.tab().mark().await {
                    self.consents.push(mark);
                }
                self.act(
                    DomAction::Click {
                        selector: selector.clone(),
                    },
                    &options,
                )
                .await
            }
            Action::WaitFor(wait) => match wait {
                WaitFor::Selector(s) => self
                    .tab()
                    .wait_until(&WaitCondition::Selector(s.clone()), &options)
                    .await
                    .map_err(|f| f.reason),
                WaitFor::Url(glob) => self
                    .tab()
                    .wait_until(&WaitCondition::Url(glob.clone()), &options)
                    .await
                    .map_err(|f| f.reason),
                WaitFor::Ms(ms) => {
                    tokio::time::sleep(std::time::Duration::from_millis(*ms)).await;
                    Ok(())
                }
                WaitFor::NetworkIdle => self.tab().settle(&options).await.map_err(|f| f.reason),
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
                        let visit = self.tab().visit(&url, &options, None).await;
                        self.audit(visit, None).await?;
                        Ok(())
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
                        Ok(()) => {
                            let visit = self.tab().audit_current(&options).await;
                            self.audit(visit, None).await?;
                            Ok(())
                        }
                        Err(e) => Err(e),
                    },
                }
            }
        };
        match outcome {
            Ok(()) => Ok(()),
            Err(_) if !self.browser.is_alive() => Err(Stop::Fatal(self.browser.died())),
            Err(reason) => {
                self.fail(step, &reason).await;
                Err(Stop::Step)
            }
        }
    }

    async fn act(&mut self, action: DomAction, options: &VisitOptions) -> Result<(), String> {
        match self.tab().act(&action, options).await {
            Ok(()) => Ok(()),
            Err(failure) => {
                if !failure.tab_usable {
                    let _ = self.renew_tab().await;
                }
                Err(failure.reason)
            }
        }
    }

    /// Credentials are typed only into pages on base_url's origin.
    async fn guard_credentials(&mut self, step: &Step) -> Result<(), Stop> {
        if step.block != Block::Login {
            return Ok(());
        }
        let here = self.tab().url().await.unwrap_or_default();
        if self.on_base_origin(&here) {
            return Ok(());
        }
        let reason = format!(
            "the login landed on {here}, which is not on base_url's origin {}: nothing was typed there",
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
                let name = format!("{}-{}-step{}", self.scenario.name, step.block, step.index);
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
        self.record(capture, vec![finding], screenshot);
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
        let mut capture = visit.capture;
        capture.logged_in_from_seq = logged_in_from_seq;
        let context = self.context();
        let mut findings = checks::judge(&capture, &context);
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
        self.judge.judge(&capture, &context, &meta, &mut findings);
        if let Some(url) = capture
            .final_url
            .as_deref()
            .and_then(|u| Url::parse(u).ok())
            .and_then(|u| crate::crawl::normalize(&u))
        {
            self.audited.insert(url.to_string());
        }
        let screenshot = if visit.tab_usable && self.options.screenshots.wanted(&findings) {
            let name = format!("{}-{:03}", self.scenario.name, self.run.pages.len() + 1);
            self.options.screenshots.take(self.tab(), &name).await
        } else {
            None
        };
        self.record(capture, findings, screenshot);
        Ok(())
    }

    fn record(
        &mut self,
        capture: crate::capture::PageCapture,
        findings: Vec<Finding>,
        screenshot: Option<String>,
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
        (self.on_page)(&result);
        self.run.pages.push(result);
    }

    /// Crawls breadth first with several tabs in flight (settling, not the CPU,
    /// bounds throughput). Results are judged in the order the URLs were taken
    /// from the frontier, so the report and the session rules do not depend on
    /// which page happened to settle first.
    async fn crawl(&mut self, config: &crate::scenario::CrawlConfig) -> Result<(), Stop> {
        let mut frontier = Frontier::new(&self.plan.base_url, config);
        for seen in &self.audited {
            if let Ok(url) = Url::parse(seen) {
                frontier.mark_seen(&url);
            }
        }
        let scope = frontier.scope().clone();
        let mut sitemap_pending = config.sitemap;
        let mut idle: Vec<Tab> = self.tab.take().into_iter().collect();
        let mut extra_tabs = self.options.crawl_tabs.max(1) - 1;
        let mut in_flight = futures::stream::FuturesOrdered::new();
        loop {
            while let Some((url, depth)) = frontier.pop() {
                let tab = match idle.pop() {
                    Some(tab) => tab,
                    None if extra_tabs > 0 => {
                        extra_tabs -= 1;
                        self.browser.open_tab(&self.context).await?
                    }
                    None => {
                        frontier.push_front(url, depth);
                        break;
                    }
                };
                let (options, scope) = (self.options.visit.clone(), scope.clone());
                in_flight.push_back(async move {
                    let visit = tab.visit(url.as_str(), &options, Some(&scope)).await;
                    (tab, url, depth, visit)
                });
            }
            let Some((tab, url, depth, visit)) = futures::StreamExt::next(&mut in_flight).await
            else {
                break;
            };
            self.tab = Some(tab);
            if let Some(to) = &visit.out_of_scope {
                tracing::info!(
                    "{}: {url} redirects out of scope to {to}: not audited",
                    self.scenario.name
                );
            } else {
                let links: Vec<String> = visit.capture.links.clone();
                if let Some(final_url) = visit
                    .capture
                    .final_url
                    .as_deref()
                    .and_then(|u| Url::parse(u).ok())
                {
                    frontier.mark_seen(&final_url);
                }
                if sitemap_pending && visit.capture.unreachable.is_none() {
                    sitemap_pending = false;
                    for loc in self.sitemap().await {
                        frontier.offer(&loc, 1);
                    }
                }
                // The audit may replace a stuck tab; whichever tab it leaves is reused.
                self.audit(visit, None).await?;
                for link in links {
                    if let Ok(link) = Url::parse(&link) {
                        frontier.offer(&link, depth + 1);
                    }
                }
            }
            idle.extend(self.tab.take());
        }
        // One tab stays for the journey's end; the others close.
        self.tab = idle.pop();
        for tab in idle {
            tab.close().await;
        }
        Ok(())
    }

    /// The `<loc>` URLs of /sitemap.xml, fetched by the page (same origin).
    async fn sitemap(&self) -> Vec<Url> {
        let Some(sitemap) = self.plan.resolve("/sitemap.xml") else {
            return Vec::new();
        };
        let expr = format!(
            "fetch({}, {{ credentials: 'same-origin' }}).then(r => r.ok ? r.text() : '').catch(() => '')",
            serde_json::json!(sitemap.as_str())
        );
        let text = self
            .tab()
            .evaluate_async(&expr)
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let loc = regex::Regex::new(r"<loc>\s*([^<\s]+)\s*</loc>").expect("a valid regex");
        loc.captures_iter(&text)
            .filter_map(|c| Url::parse(c[1].trim()).ok())
            .collect()
    }
}
