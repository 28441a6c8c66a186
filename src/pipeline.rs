//! The run loop every command shares: `check`'s page list and the scenarios of
//! `run` and `demo` go through the same journey and crawl, side by side over one
//! tab budget (`--concurrency` tabs open in the whole run), each page judged as
//! it finishes and written to the journal at once. The loop owns the browser: when
//! it dies, it is relaunched (or reconnected), each unfinished scenario walks its
//! journey again to where it was without auditing what it already audited, and
//! the pages that were in flight are tried once more; a browser that dies three
//! times within a minute ends the run.
//!
//! Pages are not kept: each judged page has its scenario's settings applied
//! (once, through the run's ledger), goes to the journal and the progress
//! line, and is dropped. What the run keeps is what must be global: the
//! ledger, each scenario's steps, counts.

use crate::audit::{AuditOptions, PageResult};
use crate::browser::{self, Browser};
use crate::checks::PageContext;
use crate::crawl::Scope;
use crate::error::Fatal;
use crate::finding::{Note, NoteKind};
use crate::journal::{Journal, Record, ScenarioRecord};
use crate::journey::{self, JourneyEvent, JourneyOptions, PageList, ScenarioRun};
use crate::replay::{Replay, Replays};
use crate::report::{PageReport, ScenarioReport};
use crate::scenario::{CrawlConfig, Plan, Scenario};
use crate::settings::{Ledger, Settings};
use futures::StreamExt;
use std::collections::HashMap;
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
    /// The journal: the run's record, which the reports are written from.
    pub journal: &'a Journal,
    /// Sees each page as judged and as the reports will show it (the
    /// progress bar, the page list of `--discover-only`).
    pub on_page: &'a (dyn Fn(&PageResult, &PageReport) + Sync),
}

/// What a run did; its pages are in the journal.
pub struct RunOutcome {
    /// How many pages were audited (not counting those replayed).
    pub pages: usize,
    /// Pages the tool failed on (its own bug): listed as skipped; exit 3.
    pub internal_errors: usize,
    /// Why the run stopped early, if it did (what was audited before is kept).
    pub error: Option<Fatal>,
}

impl RunOutcome {
    /// A run that audited nothing (a shard with no page of its own).
    pub fn empty() -> Self {
        RunOutcome {
            pages: 0,
            internal_errors: 0,
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

/// Applies a scenario's settings to each judged page once, through the run's
/// ledger, and hands the page on to the journal and the progress line.
struct Recorder<'a> {
    ledger: std::sync::Mutex<&'a mut Ledger>,
    sinks: &'a Sinks<'a>,
    pages: std::sync::atomic::AtomicUsize,
    internal_errors: std::sync::atomic::AtomicUsize,
}

impl Recorder<'_> {
    fn event(&self, event: JourneyEvent, settings: &Settings) {
        match event {
            JourneyEvent::Page(result) => {
                let mut shown = result.report();
                shown.findings = self.ledger.lock().expect("ledger lock").apply(
                    settings,
                    shown.findings,
                    &result.capture.url,
                    &result.target.scenario,
                );
                self.sinks
                    .journal
                    .page(&shown, &result.capture, &result.findings);
                self.pages
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                (self.sinks.on_page)(result, &shown);
            }
            // Journaled by the run it came from; its accept entries are used
            // in this run too.
            JourneyEvent::Replayed(result) => {
                self.ledger.lock().expect("ledger lock").apply(
                    settings,
                    result.findings.clone(),
                    &result.capture.url,
                    &result.target.scenario,
                );
            }
            JourneyEvent::Skipped(skipped) => self.sinks.journal.write(&Record {
                skipped: Some(skipped.clone()),
                ..Record::default()
            }),
            JourneyEvent::InternalError(skipped) => {
                self.internal_errors
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                self.sinks.journal.write(&Record {
                    skipped: Some(skipped.clone()),
                    ..Record::default()
                });
            }
        }
    }

    /// Puts what was recorded into the run's outcome.
    fn count(&self, outcome: &mut RunOutcome) {
        use std::sync::atomic::Ordering::Relaxed;
        outcome.pages = self.pages.load(Relaxed);
        outcome.internal_errors = self.internal_errors.load(Relaxed);
    }

    /// Journals a scenario as it ended: its steps and undiscovered links.
    fn scenario_ended(&self, run: ScenarioRun) {
        self.sinks.journal.write(&Record {
            scenario: Some(ScenarioRecord {
                report: ScenarioReport {
                    name: run.name,
                    steps: run.steps,
                },
                discovered: run.discovered,
            }),
            ..Record::default()
        });
    }
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
        concurrency: options.concurrency.max(1),
        shard: options.shard,
        judge: options.judge,
    };
    // Every scenario's accept entries are listed, also when it audited nothing.
    for job in &jobs {
        ledger.register(&job.scenario.settings);
    }
    let recorder = Recorder {
        ledger: std::sync::Mutex::new(ledger),
        sinks: &sinks,
        pages: Default::default(),
        internal_errors: Default::default(),
    };
    let mut outcome = RunOutcome::empty();
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
    let recorder = &recorder;
    loop {
        let attempt: Vec<_> = pending
            .iter()
            .map(|&i| (i, std::mem::take(&mut job_replays[i])))
            .collect();
        let browser_ref = &browser;
        let jobs_ref = &jobs;
        let results: Vec<(usize, HashMap<String, u32>, _)> = futures::stream::iter(attempt)
            .map(|(i, replay)| async move {
                let job = &jobs_ref[i];
                let settings = &job.scenario.settings;
                let died_on = replay.died_on.clone();
                let mut on_event = |event: JourneyEvent| recorder.event(event, settings);
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
                (i, died_on, run)
            })
            .buffered(options.concurrency.max(1))
            .collect()
            .await;
        let mut died = Vec::new();
        for (i, died_on, run) in results {
            match run.error {
                Some(Fatal::BrowserDied(why)) => died.push((i, died_on, run.done, why)),
                error => {
                    outcome.error = outcome.error.or(error);
                    recorder.scenario_ended(run.done);
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
        // The journal holds what each scenario did so far: it goes on from there.
        let mut journaled = match Replays::index(sinks.journal.path()) {
            Ok(replays) => replays,
            Err(error) => {
                tracing::warn!("{error}; the scenarios start over");
                Replays::default()
            }
        };
        pending = died.iter().map(|(i, ..)| *i).collect();
        let mut unfinished = Vec::new();
        for (i, mut died_on, run, _) in died {
            let mut replay = journaled.take(&jobs[i].scenario.name);
            for url in &run.in_flight {
                *died_on.entry(url.clone()).or_default() += 1;
            }
            replay.died_on = died_on;
            job_replays[i] = replay;
            unfinished.push(run);
        }
        match relaunched {
            Ok(next) => browser = next,
            Err(error) => {
                outcome.error = Some(error);
                for run in unfinished {
                    recorder.scenario_ended(run);
                }
                recorder.count(&mut outcome);
                return outcome;
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
        sinks.journal.write(&Record {
            note: Some(note),
            ..Record::default()
        });
    }
    browser.close().await;
    recorder.count(&mut outcome);
    outcome
}
