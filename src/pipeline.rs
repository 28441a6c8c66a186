//! The run loop every command shares: `check`'s page list and the scenarios of
//! `run` and `demo` go through the same journey and crawl, side by side over one
//! tab budget (`--concurrency` tabs open in the whole run), each page judged as
//! it finishes and written to the journal at once. The loop owns the browser: when
//! it dies, it is relaunched (or reconnected), each unfinished scenario walks its
//! journey again to where it was without auditing what it already audited, and
//! the pages that were in flight are tried once more; a browser that dies three
//! times within a minute ends the run.

use crate::audit::{AuditOptions, PageResult};
use crate::browser::{self, Browser};
use crate::checks::PageContext;
use crate::crawl::Scope;
use crate::error::Fatal;
use crate::finding::{Note, NoteKind};
use crate::journal::{Journal, Record, Replay, ReplayedPage, Replays};
use crate::journey::{self, JourneyEvent, JourneyOptions, PageList, ScenarioRun};
use crate::report::{ScenarioReport, Skipped};
use crate::scenario::{CrawlConfig, Plan, Scenario};
use crate::settings::{Ledger, Settings};
use futures::StreamExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use url::Url;

/// Where the browser comes from, and so how it comes back after it died.
#[derive(Debug, Clone)]
pub enum BrowserSource {
    /// Launch this executable with these extra arguments (and relaunch it).
    Launch {
        /// The Chromium binary.
        executable: PathBuf,
        /// `--browser-arg` values, after the tool's own flags.
        args: Vec<String>,
    },
    /// Connect to a running browser over the DevTools protocol (`--browser-ws`),
    /// and reconnect to it.
    Connect(String),
}

impl BrowserSource {
    /// A browser from this source.
    pub async fn open(&self) -> Result<Browser, Fatal> {
        match self {
            BrowserSource::Launch { executable, args } => Browser::launch(executable, args).await,
            BrowserSource::Connect(ws) => Browser::connect(ws).await,
        }
    }

    /// Launches `executable` with the tool's flags only.
    pub fn launch(executable: PathBuf) -> Self {
        BrowserSource::Launch {
            executable,
            args: Vec::new(),
        }
    }

    /// The source of `--browser-ws`, else of `--browser` (or the usual lookup)
    /// with `--browser-arg`s.
    pub fn from_flags(
        ws: Option<&str>,
        executable: Option<&std::path::Path>,
        args: &[String],
    ) -> Result<Self, Fatal> {
        Ok(match ws {
            Some(ws) => BrowserSource::Connect(ws.to_string()),
            None => BrowserSource::Launch {
                executable: browser::locate(executable)?,
                args: args.to_vec(),
            },
        })
    }
}

/// Where a run reports as it goes.
pub struct Sinks<'a> {
    /// The journal, if the run keeps one.
    pub journal: Option<&'a Journal>,
    /// Sees each page as the reports will show it (the progress bar).
    pub on_page: &'a (dyn Fn(&PageResult) + Sync),
}

/// What a run produced. Pages come in report order (file, then scenario, then
/// audit order) with their scenario's settings applied.
pub struct RunOutcome {
    /// Every audited page.
    pub pages: Vec<PageResult>,
    /// The steps of the scenarios that ran steps.
    pub scenarios: Vec<ScenarioReport>,
    /// Crawled URLs that were not audited.
    pub skipped: Vec<Skipped>,
    /// Links a sharded run found and did not follow, once each.
    pub discovered: Vec<String>,
    /// What happened to the run (browser restarts).
    pub notes: Vec<Note>,
    /// Why the run stopped early, if it did (what was audited before is kept).
    pub error: Option<Fatal>,
}

impl RunOutcome {
    /// A run that audited nothing (a shard with no page of its own).
    pub fn empty() -> Self {
        RunOutcome {
            pages: Vec::new(),
            scenarios: Vec::new(),
            skipped: Vec::new(),
            discovered: Vec::new(),
            notes: Vec::new(),
            error: None,
        }
    }
}

/// A browser dying this often within [`DEATH_WINDOW`] ends the run.
const MAX_DEATHS: usize = 3;
const DEATH_WINDOW: Duration = Duration::from_secs(60);

/// One scenario to run, with how its pages are judged.
struct Job<'a> {
    plan: &'a Plan,
    scenario: &'a Scenario,
    page_list: Option<PageList>,
}

/// Every scenario of every plan, with its plan, in file order.
pub(crate) fn runs_of(plans: &[Plan]) -> impl Iterator<Item = (&Plan, &Scenario)> {
    plans
        .iter()
        .flat_map(|plan| plan.scenarios.iter().map(move |scenario| (plan, scenario)))
}

/// Runs every scenario of every plan (continuing `replays`, from `--resume`).
pub async fn run_plans(
    source: &BrowserSource,
    plans: &[Plan],
    options: &AuditOptions,
    ledger: &mut Ledger,
    replays: Replays,
    sinks: Sinks<'_>,
) -> RunOutcome {
    let jobs = runs_of(plans)
        .map(|(plan, scenario)| Job {
            plan,
            scenario,
            page_list: None,
        })
        .collect();
    run_jobs(source, jobs, options, ledger, replays, sinks).await
}

/// The plan and scenario of a page list (`check`): one scenario named
/// `scenario` crawling the list at depth 0, judged with `context` and `settings`.
pub fn page_list_plan(
    pages: &[Url],
    scenario: &str,
    context: &PageContext,
    settings: &Settings,
) -> Option<Plan> {
    let first = pages.first()?;
    Some(Plan {
        file: PathBuf::from("check"),
        site: "check".into(),
        base_url: first.clone(),
        login_origins: Vec::new(),
        scenarios: vec![Scenario {
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
            expect: context.expect.clone(),
            settings: settings.clone(),
        }],
    })
}

/// Audits a list of pages as given (`check`): each page in its own origin's
/// scope, in list order (a page listed twice once).
pub async fn check_pages(
    source: &BrowserSource,
    plan: &Plan,
    context: &PageContext,
    options: &AuditOptions,
    ledger: &mut Ledger,
    replays: Replays,
    sinks: Sinks<'_>,
) -> RunOutcome {
    let urls: Vec<Url> = plan
        .scenarios
        .iter()
        .filter_map(|s| s.crawl.as_ref())
        .flat_map(|c| c.start.iter().filter_map(|u| Url::parse(u).ok()))
        .collect();
    let jobs = plan
        .scenarios
        .iter()
        .map(|scenario| Job {
            plan,
            scenario,
            page_list: Some(PageList {
                scope: Scope::of_pages(&urls),
                session: context.session,
            }),
        })
        .collect();
    run_jobs(source, jobs, options, ledger, replays, sinks).await
}

/// A page result with `settings` applied (what is shown and journaled while
/// the run goes on; the ledger marks what the whole run used at the end).
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

/// What a scenario already did, to be replayed after a browser restart: its
/// pages and skips, what its earlier replay still held, and the pages that were
/// in flight at each death.
fn replay_of(run: &ScenarioRun, earlier: Replay) -> Replay {
    let mut replay = Replay::default();
    for page in &run.pages {
        replay.add_page(ReplayedPage {
            capture: page.capture.clone(),
            findings: page.findings.clone(),
            screenshot: page.screenshot.clone(),
        });
    }
    for skipped in &run.skipped {
        replay.add_skipped(skipped.clone());
    }
    replay.died_on = earlier.died_on.clone();
    replay.keep_unreached(earlier);
    for url in &run.in_flight {
        *replay.died_on.entry(url.clone()).or_default() += 1;
    }
    replay
}

async fn run_jobs(
    source: &BrowserSource,
    jobs: Vec<Job<'_>>,
    options: &AuditOptions,
    ledger: &mut Ledger,
    mut replays: Replays,
    sinks: Sinks<'_>,
) -> RunOutcome {
    let journey = &JourneyOptions {
        visit: options.visit.clone(),
        screenshots: options.screenshots.clone(),
        tabs: Arc::new(Semaphore::new(options.concurrency.max(1))),
        shard: options.shard,
        judge: options.judge,
    };
    let today = ledger.today();
    let mut outcome = RunOutcome::empty();
    let mut runs: Vec<Option<ScenarioRun>> = jobs.iter().map(|_| None).collect();
    let mut job_replays: Vec<Replay> = jobs
        .iter()
        .map(|job| replays.take(&job.scenario.name))
        .collect();
    let mut pending: Vec<usize> = (0..jobs.len()).collect();
    let mut deaths: Vec<Instant> = Vec::new();
    let mut browser = match source.open().await {
        Ok(browser) => browser,
        Err(error) => {
            outcome.error = Some(error);
            return outcome;
        }
    };
    let sinks = &sinks;
    loop {
        let attempt: Vec<_> = pending
            .iter()
            .map(|&i| (i, std::mem::take(&mut job_replays[i])))
            .collect();
        let browser_ref = &browser;
        let jobs_ref = &jobs;
        let results: Vec<(usize, Replay, _)> = futures::stream::iter(attempt)
            .map(|(i, replay)| async move {
                let job = &jobs_ref[i];
                let settings = &job.scenario.settings;
                let kept = replay.clone();
                let mut on_event = |event: JourneyEvent| match event {
                    JourneyEvent::Page(result) => {
                        let shown = settled(result, settings, today);
                        if let Some(journal) = sinks.journal {
                            journal.page(result, &shown);
                        }
                        (sinks.on_page)(&shown);
                    }
                    JourneyEvent::Skipped(skipped) => {
                        if let Some(journal) = sinks.journal {
                            journal.write(&Record {
                                skipped: Some(skipped.clone()),
                                ..Record::default()
                            });
                        }
                    }
                };
                let run = journey::run_scenario(
                    browser_ref,
                    job.plan,
                    job.scenario,
                    journey,
                    job.page_list.as_ref(),
                    replay,
                    &mut on_event,
                )
                .await;
                (i, kept, run)
            })
            .buffered(options.concurrency.max(1))
            .collect()
            .await;
        let mut died = Vec::new();
        for (i, earlier, run) in results {
            match run.error {
                Some(Fatal::BrowserDied(why)) => died.push((i, earlier, run.done, why)),
                error => {
                    outcome.error = outcome.error.or(error);
                    runs[i] = Some(run.done);
                }
            }
        }
        if died.is_empty() {
            break;
        }
        browser.close().await;
        let now = Instant::now();
        deaths.retain(|t| now.duration_since(*t) < DEATH_WINDOW);
        deaths.push(now);
        let in_flight: Vec<String> = died
            .iter()
            .flat_map(|(_, _, run, _)| run.in_flight.iter().cloned())
            .collect();
        let why = died[0].3.clone();
        let relaunched = if deaths.len() >= MAX_DEATHS {
            Err(Fatal::BrowserDied(format!(
                "{why}; it died {MAX_DEATHS} times within a minute, so the run stops"
            )))
        } else {
            source.open().await
        };
        pending = died.iter().map(|(i, ..)| *i).collect();
        for (i, earlier, run, _) in died {
            job_replays[i] = replay_of(&run, earlier);
            runs[i] = Some(run);
        }
        match relaunched {
            Ok(next) => browser = next,
            Err(error) => {
                outcome.error = Some(error);
                let _ = pending;
                for (i, run) in runs.iter_mut().enumerate() {
                    if run.is_none() {
                        *run = Some(ScenarioRun::empty(&jobs[i].scenario.name));
                    }
                }
                return finish(outcome, jobs, runs, ledger);
            }
        }
        let note = Note {
            kind: NoteKind::BrowserRestart,
            message: format!(
                "The browser died ({why}) and was {} ({} of {MAX_DEATHS} allowed within a minute); {} scenario(s) went on from where they were{}",
                match source {
                    BrowserSource::Launch { .. } => "relaunched",
                    BrowserSource::Connect(_) => "reconnected",
                },
                deaths.len(),
                pending.len(),
                if in_flight.is_empty() {
                    String::new()
                } else {
                    format!(", retrying {}", in_flight.join(", "))
                }
            ),
        };
        tracing::warn!("{}", note.message);
        if let Some(journal) = sinks.journal {
            journal.write(&Record {
                note: Some(note.clone()),
                ..Record::default()
            });
        }
        outcome.notes.push(note);
    }
    browser.close().await;
    finish(outcome, jobs, runs, ledger)
}

/// Puts the scenarios' pages in report order with their settings applied.
fn finish(
    mut outcome: RunOutcome,
    jobs: Vec<Job<'_>>,
    runs: Vec<Option<ScenarioRun>>,
    ledger: &mut Ledger,
) -> RunOutcome {
    for (job, run) in jobs.iter().zip(runs) {
        let Some(run) = run else { continue };
        let settings = &job.scenario.settings;
        ledger.register(settings);
        for mut page in run.pages {
            page.index = outcome.pages.len();
            page.findings = ledger.apply(
                settings,
                std::mem::take(&mut page.findings),
                &page.capture.url,
                &page.target.scenario,
            );
            outcome.pages.push(page);
        }
        outcome.skipped.extend(run.skipped);
        for link in run.discovered {
            if !outcome.discovered.contains(&link) {
                outcome.discovered.push(link);
            }
        }
        if !run.steps.is_empty() {
            outcome.scenarios.push(ScenarioReport {
                name: run.name,
                steps: run.steps,
            });
        }
    }
    outcome
}
