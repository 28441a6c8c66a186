//! The command line: parse, validate into a ready-to-run plan, run, and map the
//! outcome to an exit code (README, "Usage").

use crate::audit::{AuditOptions, PageResult};
use crate::checks::{PageContext, Session};
use crate::error::{ExitCode, Fatal};
use crate::expect::{Expectations, UserPushExpectation};

use crate::browser::{SettleMode, VisitOptions, DEFAULT_USER_EXPR};
use crate::journal::{self, Journal, Replays};
use crate::pipeline::{self, BrowserSource, RunOutcome, Sinks};
use crate::progress::Progress;
use crate::report::{self, Report};
use crate::rules::{Rule, Severity};
use crate::scenario::{self, Plan};
use crate::screenshot::{Screenshots, When};
use crate::settings::{self, Ledger, Level, Settings};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Audits a website's Insider One WhatsApp user push (window.InsiderQueue) in
/// real headless Chromium.
#[derive(Debug, Parser)]
#[command(name = "insider-audit", version, about, long_about = None)]
pub struct Cli {
    /// What to do: run, check, demo, diff, merge, init, schema.
    #[command(subcommand)]
    pub command: Command,
    /// More log output on stderr (-v debug, -vv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr; no progress lines.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// The subcommands of `insider-audit`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit the built-in demo shop (embedded, served on 127.0.0.1, no network needed).
    Demo(Common),
    /// Crawl and audit every scenario of the scenario files.
    Run {
        /// Scenario files (JSON; `insider-audit init` writes a starter, README "Scenario files" explains).
        #[arg(required = true, value_name = "SCENARIO.json")]
        files: Vec<PathBuf>,
        /// Crawl as usual, settling each page, and write the list of pages
        /// (one URL a line, to --output or stdout) without judging them: the
        /// page list of later sharded runs (--urls).
        #[arg(long)]
        discover_only: bool,
        /// Options shared by the auditing commands.
        #[command(flatten)]
        common: Common,
    },
    /// One report from the reports or journals of several shards (or runs).
    Merge {
        /// JSON reports, journals (pages.jsonl) or directories holding either.
        #[arg(required = true, value_name = "SHARD.json|DIR")]
        inputs: Vec<PathBuf>,
        /// Options shared by the auditing commands (formats, outputs, --fail-on).
        #[command(flatten)]
        common: Common,
    },
    /// Check scenario files without starting a browser.
    Validate {
        /// Scenario files to check.
        #[arg(required = true, value_name = "SCENARIO.json")]
        files: Vec<PathBuf>,
    },
    /// What got fixed and what is new between two JSON reports.
    Diff {
        /// The earlier run's JSON report (the baseline).
        old: PathBuf,
        /// The later run's JSON report.
        new: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: DiffFormat,
        /// Exit 1 when a new finding at or above this severity exists.
        #[arg(long, value_enum, default_value = "error")]
        fail_on: FailOn,
    },
    /// Write a commented starter scenario file for a site.
    Init {
        /// The site's base URL (http or https).
        base_url: String,
        /// Where to write it.
        #[arg(long, default_value = "insider-audit.json", value_name = "PATH")]
        output: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Print a JSON Schema of the scenario format (for editors).
    Schema,
    /// Audit pages logged out, with no scenario file.
    Check {
        /// Pages to audit (http or https).
        #[arg(required = true, value_name = "URL")]
        urls: Vec<String>,
        /// Expect a user push on every page, logged out too.
        #[arg(long)]
        expect_user_push: bool,
        /// Set a rule's level: off, warning or error (repeatable; wins over --settings).
        #[arg(long = "rule", value_name = "ID=LEVEL", value_parser = settings::parse_rule_flag)]
        rules: Vec<(Rule, Level)>,
        /// A settings file: `rules` and `accept` as in a scenario file.
        #[arg(long, value_name = "FILE")]
        settings: Option<PathBuf>,
        /// Options shared by the auditing commands.
        #[command(flatten)]
        common: Common,
    },
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatKind {
    /// The compliance table (stdout).
    Table,
    /// The JSON report (schema_version 1): report.json.
    Json,
    /// JUnit XML for CI test reporters: report.xml.
    Junit,
    /// One self-contained HTML file: report.html.
    Html,
    /// A Markdown summary for CI job summaries and pull requests: report.md.
    Markdown,
}

impl FormatKind {
    /// The stable file name under --out-dir.
    pub fn file_name(self) -> &'static str {
        match self {
            FormatKind::Table => "report.txt",
            FormatKind::Json => "report.json",
            FormatKind::Junit => "report.xml",
            FormatKind::Html => "report.html",
            FormatKind::Markdown => "report.md",
        }
    }
}

/// Output formats of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Counts and the new and fixed findings.
    Table,
    /// new, fixed and unchanged findings as JSON.
    Json,
    /// A Markdown summary for a channel or pull request.
    Markdown,
}

/// `--settle`: how a page is settled after its load event (README, "How a page
/// is audited"); the browser's [`SettleMode`], spelt for the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Settle {
    /// Until nothing can still push: no request in flight, no timer due within
    /// the settle window, and silence while recurring work runs.
    Auto,
    /// 500 ms without a request, then the whole settle window (0.1's behaviour).
    Fixed,
}

impl From<Settle> for SettleMode {
    fn from(settle: Settle) -> Self {
        match settle {
            Settle::Auto => SettleMode::Auto,
            Settle::Fixed => SettleMode::Fixed,
        }
    }
}

/// When the exit code says "failed".
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Any error finding (the default).
    Error,
    /// Any finding.
    Warning,
    /// Never (exit 0 whenever the audit ran).
    Never,
}

impl FailOn {
    /// The lowest severity that fails, if any.
    fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Never => None,
        }
    }
}

/// Options every auditing command takes.
#[derive(Debug, Args, Clone)]
pub struct Common {
    /// Output format; repeat for several (default: table).
    #[arg(long = "format", value_enum)]
    pub formats: Vec<FormatKind>,
    /// Write the one non-table format here (default: stdout when it is the only
    /// format, else a file under --out-dir).
    #[arg(long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Exit 1 when a finding at or above this severity exists.
    #[arg(long, value_enum, default_value = "error")]
    pub fail_on: FailOn,
    /// Per-page time limit in seconds (load, settle and read-back).
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub timeout: u64,
    /// The settle window in milliseconds: how far ahead `--settle auto` looks for
    /// timers that could still push, or how long `--settle fixed` waits after
    /// network quiet.
    #[arg(long, default_value_t = 500, value_name = "MS")]
    pub settle_ms: u64,
    /// auto: a page is judged as soon as nothing can still push (no request in
    /// flight, no timer due within the settle window, silence while recurring
    /// timers run); fixed: always 500 ms without a request, then the settle window.
    #[arg(long, value_enum, default_value = "auto")]
    pub settle: Settle,
    /// A page waits at most this many seconds after load; a page still busy then
    /// is judged on what it did, with a `still-busy` note.
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub max_settle: u64,
    /// Pages audited at once (one tab each).
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub concurrency: usize,
    /// Slow every page's renderer down RATE times (CDP CPU throttling): how a
    /// busy CI runner looks to a page. For checking that verdicts hold under
    /// load (scripts/bench-pipeline.sh); the findings must not change.
    #[arg(long, value_name = "RATE", hide = true)]
    pub cpu_throttle: Option<f64>,
    /// The browser executable (else $CHROME, $CHROMIUM, then chromium on PATH).
    #[arg(long, value_name = "PATH")]
    pub browser: Option<PathBuf>,
    /// Use an already running Chrome/Chromium over the DevTools protocol
    /// (ws://host:port/devtools/browser/...) instead of launching one; it is left running.
    #[arg(long, value_name = "WS_URL", conflicts_with = "browser")]
    pub browser_ws: Option<String>,
    /// One more Chromium command-line argument for the browser the tool
    /// launches, after its own flags (repeatable), e.g.
    /// `--browser-arg=--js-flags=--max-old-space-size=512` to cap each page's
    /// JavaScript heap.
    #[arg(
        long = "browser-arg",
        value_name = "ARG",
        allow_hyphen_values = true,
        conflicts_with = "browser_ws"
    )]
    pub browser_args: Vec<String>,
    /// The expression that reads the user back for user-not-returned.
    #[arg(long, default_value = DEFAULT_USER_EXPR, value_name = "JS")]
    pub user_expr: String,
    /// Directory for reports (report.json, report.xml, report.html, report.md)
    /// and screenshots.
    #[arg(long, default_value = "reports", value_name = "DIR")]
    pub out_dir: PathBuf,
    /// Audit only shard K of N of the page list known before the run (crawl
    /// start pages, the sitemap, --urls); links are listed as discovered, not
    /// followed. N jobs with K = 1..N audit every page once; `merge` joins them.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<crate::shard::Shard>,
    /// The page list to audit: one URL (or path) a line, or a JSON report or
    /// journal of an earlier run whose pages are taken. Links are not followed.
    #[arg(long = "urls", id = "url_list", value_name = "FILE")]
    pub url_list: Option<PathBuf>,
    /// Continue an interrupted run from DIR/pages.jsonl: pages it already
    /// audited are not audited again; the journal and reports go to DIR.
    #[arg(long, value_name = "DIR")]
    pub resume: Option<PathBuf>,
    /// (run, demo) Only the scenarios with this name; repeatable.
    #[arg(long = "scenario", value_name = "NAME")]
    pub scenarios: Vec<String>,
    /// Which pages get a screenshot (stored in DIR/screenshots, referenced from the reports).
    #[arg(long, value_enum, default_value = "failures")]
    pub screenshots: When,
}

impl Common {
    fn audit_options(&self) -> Result<AuditOptions, Fatal> {
        if self.timeout == 0 {
            return Err(Fatal::Usage("--timeout must be at least 1 second".into()));
        }
        if self.concurrency == 0 {
            return Err(Fatal::Usage("--concurrency must be at least 1".into()));
        }
        Ok(AuditOptions {
            visit: VisitOptions {
                timeout: Duration::from_secs(self.timeout),
                settle: Duration::from_millis(self.settle_ms),
                mode: self.settle.into(),
                max_settle: Duration::from_secs(self.max_settle),
                user_expr: self.user_expr.clone(),
                cpu_throttle: self.cpu_throttle.filter(|rate| *rate > 1.0),
                ..VisitOptions::default()
            },
            concurrency: self.concurrency,
            screenshots: Screenshots {
                when: self.screenshots,
                out_dir: self.out_dir.clone(),
            },
            shard: match (self.shard, &self.url_list) {
                (None, Some(_)) => Some(crate::shard::Shard::WHOLE),
                (shard, _) => shard,
            },
            judge: true,
        })
    }

    fn threshold(&self) -> Option<Severity> {
        self.fail_on.threshold()
    }
}

/// Entry point of the binary; returns the process exit code.
pub fn main() -> u8 {
    let cli = Cli::parse();
    init_logging(cli.verbose, cli.quiet);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::CouldNotRun.code();
        }
    };
    // The browser is spawned from this thread (block_on runs here), so its
    // parent-death signal is tied to the process's main thread.
    let code = runtime.block_on(async {
        tokio::select! {
            code = run(cli) => code,
            code = interrupted() => code,
        }
    });
    // Dropping the run future above killed the browser if a signal came.
    runtime.shutdown_timeout(Duration::from_secs(2));
    code.code()
}

/// Resolves on SIGINT or SIGTERM with the conventional exit code.
async fn interrupted() -> ExitCode {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return std::future::pending().await;
    };
    let code = tokio::select! {
        _ = int.recv() => ExitCode::Interrupted,
        _ = term.recv() => ExitCode::Terminated,
    };
    eprintln!("insider-audit: interrupted, closing the browser");
    code
}

fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        // chromiumoxide warns about every CDP message it cannot decode (harmless,
        // ≈2 a page with Chromium 156): shown from -vv on.
        (false, 0) => "warn,chromiumoxide::handler=error,chromiumoxide::conn=error",
        (false, 1) => {
            "insider_audit=debug,warn,chromiumoxide::handler=error,chromiumoxide::conn=error"
        }
        _ => "insider_audit=trace,chromium=trace,info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("INSIDER_AUDIT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| crate::redact::RedactingWriter(std::io::stderr()))
        .with_target(false)
        .try_init();
}

async fn run(cli: Cli) -> ExitCode {
    let quiet = cli.quiet;
    let result = match cli.command {
        Command::Check {
            urls,
            expect_user_push,
            rules,
            settings,
            common,
        } => {
            let expect = Expectations {
                user_push: if expect_user_push {
                    UserPushExpectation::EveryPage
                } else {
                    UserPushExpectation::LoggedIn
                },
                ..Expectations::default()
            };
            let context = PageContext {
                session: Session::LoggedOut,
                expect,
            };
            match check_targets(&urls)
                .and_then(|pages| Ok((pages, check_settings(settings.as_deref(), rules)?)))
            {
                Ok((pages, settings)) => {
                    execute(Work::Pages(pages, context, settings), &common, quiet).await
                }
                Err(e) => Err(e),
            }
        }
        Command::Run {
            files,
            discover_only,
            common,
        } => match load_plans(&files).and_then(|plans| with_url_list(plans, &common)) {
            Ok(plans) if discover_only => discover(plans, &common, quiet).await,
            Ok(plans) => execute(Work::Plans(plans), &common, quiet).await,
            Err(e) => Err(e),
        },
        Command::Merge { inputs, common } => merge_reports(&inputs, &common, quiet),
        Command::Diff {
            old,
            new,
            format,
            fail_on,
        } => diff_reports(&old, &new, format, fail_on),
        Command::Init {
            base_url,
            output,
            force,
        } => init(&base_url, &output, force),
        Command::Schema => {
            let text = serde_json::to_string_pretty(&scenario::schema())
                .expect("a schema serialises")
                + "\n";
            write_stdout(text.as_bytes());
            Ok(ExitCode::Clean)
        }
        Command::Validate { files } => load_plans(&files).map(|plans| {
            let mut ledger = Ledger::new(chrono::Utc::now().date_naive());
            for (_, scenario) in pipeline::runs_of(&plans) {
                ledger.register(&scenario.settings);
            }
            for entry in ledger.report().expired {
                eprintln!(
                    "note: this accept entry has expired, its findings count again: {}",
                    entry.one_line()
                );
            }
            for plan in &plans {
                let steps: usize = plan
                    .scenarios
                    .iter()
                    .map(|s| s.login.len() + s.steps.len())
                    .sum();
                println!(
                    "{}: ok ({} scenarios, {steps} steps, base_url {})",
                    plan.file.display(),
                    plan.scenarios.len(),
                    plan.base_url
                );
            }
            ExitCode::Clean
        }),
        Command::Demo(common) => match crate::demo::serve().await {
            Ok(site) => {
                let result = match site.plan() {
                    Ok(plan) => {
                        plan.register_secrets();
                        execute(Work::Plans(vec![plan]), &common, quiet).await
                    }
                    Err(e) => Err(e),
                };
                site.stop();
                result
            }
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", crate::redact::redact(&e.to_string()));
            e.exit_code()
        }
    }
}

/// Writes the starter scenario file.
fn init(base_url: &str, output: &std::path::Path, force: bool) -> Result<ExitCode, Fatal> {
    let url = url::Url::parse(base_url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| Fatal::Usage(format!("{base_url:?} is not an http(s) URL: give the site's address, e.g. https://shop.example/")))?;
    if output.exists() && !force {
        return Err(Fatal::Usage(format!(
            "{} exists: pass --force to overwrite it, or --output another path",
            output.display()
        )));
    }
    write_file(output, scenario::starter(&url).as_bytes())?;
    eprintln!(
        "wrote {}: adjust the login selectors and paths, then `insider-audit validate {}` (with AUDIT_USER and AUDIT_PASSWORD set)",
        output.display(),
        output.display()
    );
    Ok(ExitCode::Clean)
}

/// Reads a JSON report; a bad one is a usage error naming the file and position.
fn read_report(path: &std::path::Path) -> Result<Report, Fatal> {
    report::read_json_report(path).map_err(Fatal::Usage)
}

fn diff_reports(
    old: &std::path::Path,
    new: &std::path::Path,
    format: DiffFormat,
    fail_on: FailOn,
) -> Result<ExitCode, Fatal> {
    let diff = crate::diff::diff(&read_report(old)?, &read_report(new)?);
    let text = match format {
        DiffFormat::Table => diff.table(),
        DiffFormat::Markdown => diff.markdown(),
        DiffFormat::Json => serde_json::to_string_pretty(&diff).expect("a diff serialises") + "\n",
    };
    write_stdout(text.as_bytes());
    Ok(ExitCode::of_findings(diff.fails_at(fail_on.threshold())))
}

/// Loads and validates every scenario file; all errors are reported, none is
/// run. Every secret value of the plans is registered for redaction.
fn load_plans(files: &[PathBuf]) -> Result<Vec<Plan>, Fatal> {
    let mut plans = Vec::new();
    let mut errors = Vec::new();
    for file in files {
        match scenario::load(file) {
            Ok(plan) => {
                plan.register_secrets();
                plans.push(plan)
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() {
        Ok(plans)
    } else {
        Err(Fatal::Usage(errors.join("\nerror: ")))
    }
}

/// Adds the pages of `--urls` to every crawl's known page list.
fn with_url_list(mut plans: Vec<Plan>, common: &Common) -> Result<Vec<Plan>, Fatal> {
    let Some(file) = &common.url_list else {
        return Ok(plans);
    };
    for plan in &mut plans {
        let urls = crate::shard::read_url_list(file, &plan.base_url)
            .map_err(|e| Fatal::Usage(format!("--urls {e}")))?;
        for scenario in &mut plan.scenarios {
            if let Some(crawl) = &mut scenario.crawl {
                crawl.start.extend(urls.iter().map(url::Url::to_string));
            }
        }
    }
    Ok(plans)
}

/// `run --discover-only`: crawls, settling each page without judging it, and
/// writes the page list (one URL a line).
async fn discover(plans: Vec<Plan>, common: &Common, quiet: bool) -> Result<ExitCode, Fatal> {
    let mut options = common.audit_options()?;
    options.judge = false;
    let plans = select_scenarios(plans, &common.scenarios)?;
    let source = BrowserSource::from_flags(
        common.browser_ws.as_deref(),
        common.browser.as_deref(),
        &common.browser_args,
    )?;
    let progress = Progress::new(None, quiet);
    let sinks = Sinks {
        journal: None,
        on_page: &|result: &PageResult| progress.page(result),
    };
    let mut ledger = Ledger::new(chrono::Utc::now().date_naive());
    let outcome = pipeline::run_plans(
        &source,
        &plans,
        &options,
        &mut ledger,
        Replays::default(),
        sinks,
    )
    .await;
    progress.finish();
    let mut seen = std::collections::HashSet::new();
    let mut list = String::new();
    for page in &outcome.pages {
        // The URL asked for: auditing it again gives the same page.
        let url = &page.capture.url;
        if page.capture.unreachable.is_none() && seen.insert(url.to_string()) {
            list.push_str(url);
            list.push('\n');
        }
    }
    match &common.output {
        Some(path) => write_file(path, list.as_bytes())?,
        None => write_stdout(list.as_bytes()),
    }
    match outcome.error {
        Some(error) => Err(error),
        None => Ok(ExitCode::Clean),
    }
}

/// `merge`: one report from shard reports or journals, in every format asked for.
fn merge_reports(inputs: &[PathBuf], common: &Common, quiet: bool) -> Result<ExitCode, Fatal> {
    let formats = if common.formats.is_empty() {
        vec![FormatKind::Table]
    } else {
        common.formats.clone()
    };
    let targets = output_targets(&formats, common)?;
    let shards = inputs
        .iter()
        .map(|path| crate::merge::load(path).map_err(Fatal::Usage))
        .collect::<Result<Vec<_>, _>>()?;
    let report = crate::merge::merge(shards);
    write_reports(&report, &targets, common, quiet)?;
    Ok(ExitCode::of_findings(report.fails_at(common.threshold())))
}

/// Keeps the scenarios named by --scenario (all when none is named).
fn select_scenarios(mut plans: Vec<Plan>, names: &[String]) -> Result<Vec<Plan>, Fatal> {
    if names.is_empty() {
        return Ok(plans);
    }
    for plan in &mut plans {
        plan.scenarios.retain(|s| names.contains(&s.name));
    }
    if plans.iter().all(|p| p.scenarios.is_empty()) {
        return Err(Fatal::Usage(format!(
            "no scenario is named {}: check --scenario against the files' names",
            names.join(" or ")
        )));
    }
    Ok(plans)
}

/// What to audit.
enum Work {
    /// Single pages (`check`), judged with one context and one set of settings.
    Pages(Vec<url::Url>, PageContext, Settings),
    /// Scenario journeys (`run`, `demo`).
    Plans(Vec<Plan>),
}

/// The settings of `check`: the --settings file, then --rule levels over it.
fn check_settings(
    file: Option<&std::path::Path>,
    rules: Vec<(Rule, Level)>,
) -> Result<Settings, Fatal> {
    let settings = match file {
        Some(file) => {
            scenario::load_settings(file).map_err(|e| Fatal::Usage(format!("--settings {e}")))?
        }
        None => Settings::default(),
    };
    Ok(settings.with_levels(rules))
}

/// Validates the URLs of `check` into targets.
fn check_targets(urls: &[String]) -> Result<Vec<url::Url>, Fatal> {
    urls.iter()
        .enumerate()
        .map(|(i, raw)| {
            let parsed = url::Url::parse(raw).map_err(|e| {
                Fatal::Usage(format!("URL #{} {raw:?} is not a URL ({e}): give a full address such as https://shop.example/", i + 1))
            })?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(Fatal::Usage(format!(
                    "URL #{} {raw:?} is not http(s): insider-audit audits web pages",
                    i + 1
                )));
            }
            Ok(parsed)
        })
        .collect()
}

/// Launches the browser, audits, writes the reports, returns the exit code.
async fn execute(work: Work, common: &Common, quiet: bool) -> Result<ExitCode, Fatal> {
    let options = common.audit_options()?;
    let formats = if common.formats.is_empty() {
        vec![FormatKind::Table]
    } else {
        common.formats.clone()
    };
    let targets = output_targets(&formats, common)?;
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
    // --resume goes on with the journal of the run it continues.
    let out_dir = common.resume.as_ref().unwrap_or(&common.out_dir);
    let replays = match &common.resume {
        Some(dir) => Replays::from_records(
            journal::read(&dir.join(journal::FILE_NAME))
                .map_err(|e| Fatal::Usage(format!("--resume {}: {e}", dir.display())))?,
        ),
        None => Replays::default(),
    };
    let opened = match &common.resume {
        Some(_) => Journal::append(out_dir),
        None => Journal::create(out_dir),
    };
    let journal = opened.map_err(|source| Fatal::Write {
        path: out_dir.join(journal::FILE_NAME),
        source,
    })?;
    if !quiet && replays.pages() > 0 {
        eprintln!(
            "resuming: {} pages already audited in {}",
            replays.pages(),
            journal.path().display()
        );
    }
    let outcome = match work {
        Work::Pages(mut pages, context, settings) => {
            if let Some(file) = &common.url_list {
                let base = pages.first().cloned().ok_or_else(|| {
                    Fatal::Usage("check --urls needs one URL too, to resolve paths against".into())
                })?;
                pages.extend(
                    crate::shard::read_url_list(file, &base)
                        .map_err(|e| Fatal::Usage(format!("--urls {e}")))?,
                );
            }
            if let Some(shard) = options.shard {
                pages.retain(|page| shard.owns(page));
            }
            let progress = Progress::new(Some(pages.len()), quiet);
            let sinks = Sinks {
                journal: Some(&journal),
                on_page: &|result: &PageResult| progress.page(result),
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
                journal: Some(&journal),
                on_page: &|result: &PageResult| progress.page(result),
            };
            let outcome =
                pipeline::run_plans(&source, &plans, &options, &mut ledger, replays, sinks).await;
            progress.finish();
            outcome
        }
    };
    let RunOutcome {
        pages: results,
        scenarios,
        skipped,
        discovered,
        notes,
        error,
    } = outcome;
    // What was audited before a failure is still reported; the failure decides the exit code.
    let error = match error {
        Some(error) if results.is_empty() => return Err(error),
        error => error,
    };
    let report = Report::new(&results, started_at, clock.elapsed().as_millis() as u64)
        .with_scenarios(scenarios)
        .with_run_facts(skipped, notes, discovered)
        .with_settings(ledger.report());
    write_reports(&report, &targets, common, quiet)?;
    if let Some(error) = error {
        eprintln!(
            "error: the audit stopped early; the reports hold the {} pages audited before",
            results.len()
        );
        return Err(error);
    }
    Ok(ExitCode::of_findings(report.fails_at(common.threshold())))
}

/// Where each requested format goes.
enum Destination {
    Stdout,
    File(PathBuf),
}

/// Table to stdout; a single other format to --output or, alone, to stdout;
/// several to stable file names under --out-dir.
fn output_targets(
    formats: &[FormatKind],
    common: &Common,
) -> Result<Vec<(FormatKind, Destination)>, Fatal> {
    let others: Vec<FormatKind> = formats
        .iter()
        .copied()
        .filter(|f| *f != FormatKind::Table)
        .collect();
    if common.output.is_some() && others.len() != 1 {
        return Err(Fatal::Usage(
            "--output takes exactly one non-table --format (e.g. --format json --output report.json); for several, use --out-dir".into(),
        ));
    }
    let alone = others.len() == 1 && !formats.contains(&FormatKind::Table);
    let mut seen = Vec::new();
    let mut targets = Vec::new();
    for format in formats {
        if seen.contains(format) {
            continue;
        }
        seen.push(*format);
        let target = match (format, &common.output) {
            (FormatKind::Table, _) => Destination::Stdout,
            (_, Some(path)) => Destination::File(path.clone()),
            _ if alone => Destination::Stdout,
            _ => Destination::File(common.out_dir.join(format.file_name())),
        };
        targets.push((*format, target));
    }
    Ok(targets)
}

/// The renderer of a format.
fn renderer(format: FormatKind, common: &Common) -> Box<dyn report::Format> {
    match format {
        // The table goes to stdout: short marks when a terminal is too narrow.
        FormatKind::Table => Box::new(report::table::Table {
            width: console::Term::stdout()
                .size_checked()
                .map(|(_rows, columns)| columns as usize),
        }),
        FormatKind::Json => Box::new(report::json::Json),
        FormatKind::Junit => Box::new(report::junit::Junit),
        FormatKind::Markdown => Box::new(report::markdown::Markdown),
        FormatKind::Html => Box::new(report::html::Html {
            base_dir: common.out_dir.clone(),
        }),
    }
}

fn write_reports(
    report: &Report,
    targets: &[(FormatKind, Destination)],
    common: &Common,
    quiet: bool,
) -> Result<(), Fatal> {
    for (format, target) in targets {
        let bytes = renderer(*format, common).render(report);
        match target {
            Destination::Stdout => write_stdout(&bytes),
            Destination::File(path) => {
                write_file(path, &bytes)?;
                if !quiet {
                    eprintln!("wrote {}", path.display());
                }
            }
        }
    }
    Ok(())
}

/// Writes a file, creating its directory.
pub(crate) fn write_file(path: &std::path::Path, bytes: &[u8]) -> Result<(), Fatal> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Fatal::Write {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    std::fs::write(path, crate::redact::redact_bytes(bytes)).map_err(|source| Fatal::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes to stdout; a closed pipe (`| head`) is no error.
fn write_stdout(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    let bytes = crate::redact::redact_bytes(bytes);
    let _ = out.write_all(&bytes).and_then(|_| out.flush());
}

#[cfg(test)]
mod tests {
    /// clap checks the whole command line (unique names, valid defaults) here,
    /// without starting anything.
    #[test]
    fn command_line_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
