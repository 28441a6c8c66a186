//! `insider-audit history …`: the clap arguments of each subcommand and
//! [`execute`], which runs one and says its exit code. The binary's command
//! line adds one variant holding a [`HistoryCommand`].

use super::export::{export, ExportFormat, Table};
use super::query::{self, Keep};
use super::{record, Baseline, HistoryError, Store};
use crate::error::ExitCode;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The history subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum HistoryCommand {
    /// Runs, newest first: id, time, branch, label, pages, errors, warnings, new, fixed.
    List(ListArgs),
    /// One run: its pages and findings with their states.
    Show(ShowArgs),
    /// One self-contained HTML page of charts over time, for one suite or all.
    Trend(TrendArgs),
    /// Record JSON reports of earlier runs (backfill), oldest first.
    Record(RecordArgs),
    /// Remove old runs; the states of the runs kept never change.
    Prune(PruneArgs),
    /// Rename a suite or a scenario, keeping its history.
    Rename(RenameArgs),
    /// Delete everything a store holds of a suite.
    Forget(ForgetArgs),
    /// Runs, pages and findings as CSV or JSON Lines.
    Export(ExportArgs),
    /// The trend views live from the store, read-only, until Ctrl-C.
    Serve(ServeArgs),
}

/// `history serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    store: StoreArg,
    /// Where to listen; loopback by default (port 0: any free port, printed).
    #[arg(long, default_value = "127.0.0.1:8750")]
    addr: std::net::SocketAddr,
    /// A name the server is reached by (repeatable; with or without a port):
    /// requests for any other `Host` are refused. Needed with --addr 0.0.0.0.
    #[arg(long = "host", value_name = "NAME")]
    hosts: Vec<String>,
}

/// The store option every subcommand takes.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArg {
    /// The store: a SQLite file, or a postgres:// URL (default: $INSIDER_AUDIT_HISTORY).
    #[arg(long = "history", value_name = "STORE")]
    pub history: Option<String>,
}

impl StoreArg {
    /// The store named by `--history`, else by `INSIDER_AUDIT_HISTORY`.
    pub fn store(&self) -> Result<Store, HistoryError> {
        self.history
            .clone()
            .or_else(|| {
                std::env::var("INSIDER_AUDIT_HISTORY")
                    .ok()
                    .filter(|s| !s.is_empty())
            })
            .map(|s| Store::parse(&s))
            .ok_or_else(|| {
                HistoryError::Usage(
                    "no history store: give --history STORE or set INSIDER_AUDIT_HISTORY".into(),
                )
            })
    }
}

/// How `list` and `show` print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ViewFormat {
    /// A table for people.
    Table,
    /// JSON.
    Json,
    /// CSV (formula-safe).
    Csv,
}

/// `history list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    store: StoreArg,
    /// Only this suite's runs.
    #[arg(long)]
    suite: Option<String>,
    /// At most this many runs.
    #[arg(long)]
    limit: Option<u64>,
    /// The output format.
    #[arg(long, value_enum, default_value = "table")]
    format: ViewFormat,
    /// Write to this file instead of stdout.
    #[arg(long)]
    output: Option<PathBuf>,
}

/// `history show RUN`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    #[command(flatten)]
    store: StoreArg,
    /// The run id.
    run: String,
    /// The output format (table or json).
    #[arg(long, value_enum, default_value = "table")]
    format: ViewFormat,
    /// Write to this file instead of stdout.
    #[arg(long)]
    output: Option<PathBuf>,
}

/// `history trend --output trend.html`.
#[derive(Debug, clap::Args)]
pub struct TrendArgs {
    #[command(flatten)]
    store: StoreArg,
    /// Only this suite (default: every suite, one section each).
    #[arg(long)]
    suite: Option<String>,
    /// The branch shown (default: the branch of each suite's latest run).
    #[arg(long)]
    branch: Option<String>,
    /// The latest N runs in the charts (default: 366, a year of nightly runs).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    runs: Option<u32>,
    /// html (one self-contained page) or json (the views' data).
    #[arg(long, value_enum, default_value = "html")]
    format: super::trend_file::TrendFormat,
    /// Write to this file instead of stdout.
    #[arg(long)]
    output: Option<PathBuf>,
}

/// `history record REPORT.json|DIR...`.
#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    #[command(flatten)]
    store: StoreArg,
    /// JSON reports, or directories of them.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// The suite (else the report's run.suite, else its first page's origin).
    #[arg(long)]
    suite: Option<String>,
    /// The branch the runs audited.
    #[arg(long)]
    branch: Option<String>,
    /// A label for the runs.
    #[arg(long)]
    label: Option<String>,
    /// What to compare each run with: last, run:ID, label:TEXT, branch:NAME.
    #[arg(long, default_value = "last")]
    baseline: String,
    /// The runs were incomplete (never a baseline).
    #[arg(long)]
    incomplete: bool,
}

/// `history prune`.
#[derive(Debug, clap::Args)]
#[group(id = "keep", required = true, multiple = false, args = ["keep_days", "keep_runs"])]
pub struct PruneArgs {
    #[command(flatten)]
    store: StoreArg,
    /// Only this suite.
    #[arg(long)]
    suite: Option<String>,
    /// Keep the runs of the last N days.
    #[arg(long)]
    keep_days: Option<u32>,
    /// Keep the newest N runs of each suite.
    #[arg(long)]
    keep_runs: Option<u32>,
}

/// `history rename --suite OLD NEW | --scenario SUITE OLD NEW`.
#[derive(Debug, clap::Args)]
#[group(id = "what", required = true, multiple = false, args = ["suite", "scenario"])]
pub struct RenameArgs {
    #[command(flatten)]
    store: StoreArg,
    /// OLD NEW: rename a suite.
    #[arg(long, num_args = 2, value_names = ["OLD", "NEW"])]
    suite: Option<Vec<String>>,
    /// SUITE OLD NEW: rename a scenario of a suite.
    #[arg(long, num_args = 3, value_names = ["SUITE", "OLD", "NEW"])]
    scenario: Option<Vec<String>>,
}

/// `history forget --suite NAME`.
#[derive(Debug, clap::Args)]
pub struct ForgetArgs {
    #[command(flatten)]
    store: StoreArg,
    /// The suite whose data goes.
    #[arg(long, required = true)]
    suite: String,
}

/// `history export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    store: StoreArg,
    /// Only this suite.
    #[arg(long)]
    suite: Option<String>,
    /// csv or jsonl.
    #[arg(long, value_enum)]
    format: ExportFormat,
    /// Which table (CSV: findings unless named; JSON Lines: all three unless named).
    #[arg(long, value_enum)]
    table: Option<Table>,
    /// Write to this file instead of stdout.
    #[arg(long)]
    output: Option<PathBuf>,
}

/// Runs `command`, printing to `stdout` (or its `--output`); the exit code.
pub async fn execute(
    command: HistoryCommand,
    stdout: &mut dyn Write,
) -> Result<ExitCode, HistoryError> {
    match command {
        HistoryCommand::List(a) => {
            let runs = query::list(&a.store.store()?, a.suite.as_deref(), a.limit).await?;
            let text = super::view::runs(&runs, a.format);
            emit(a.output.as_deref(), stdout, text.as_bytes())?;
        }
        HistoryCommand::Show(a) => {
            let detail = query::show(&a.store.store()?, &a.run).await?;
            let text = super::view::detail(&detail, a.format);
            emit(a.output.as_deref(), stdout, text.as_bytes())?;
        }
        HistoryCommand::Trend(a) => {
            let mut window = super::views::Window::FILE;
            if let Some(n) = a.runs {
                window.runs = n as usize;
                window.strip_runs = window.strip_runs.min(window.runs);
            }
            let html = super::trend_file::trend_file(
                &a.store.store()?,
                a.suite.as_deref(),
                a.branch.as_deref(),
                window,
                a.format,
            )
            .await?;
            emit(a.output.as_deref(), stdout, html.as_bytes())?;
        }
        HistoryCommand::Record(a) => {
            let store = a.store.store()?;
            let baseline: Baseline = a.baseline.parse().map_err(HistoryError::Usage)?;
            let runs = super::backfill::runs_of(&a.inputs, &a)?;
            for run in runs {
                let recorded = record(&store, &run, &baseline).await?;
                let count = |s| recorded.findings.iter().filter(|h| h.state == s).count();
                let _ = writeln!(
                    stdout,
                    "recorded {} ({}, {} pages): {} new, {} reopened, {} fixed, {} not checked; baseline {}",
                    run.id,
                    run.suite,
                    run.pages.len(),
                    count(super::State::New),
                    count(super::State::Reopened),
                    recorded.fixed.len(),
                    recorded.not_checked.len(),
                    recorded.baseline.as_deref().unwrap_or("none")
                );
            }
        }
        HistoryCommand::Prune(a) => {
            let keep = match (a.keep_days, a.keep_runs) {
                (Some(d), _) => Keep::Days(d),
                (None, Some(n)) => Keep::Runs(n),
                (None, None) => {
                    return Err(HistoryError::Usage(
                        "give --keep-days N or --keep-runs N".into(),
                    ))
                }
            };
            let removed = query::prune(&a.store.store()?, a.suite.as_deref(), keep).await?;
            let _ = writeln!(stdout, "removed {removed} runs");
        }
        HistoryCommand::Rename(a) => {
            let store = a.store.store()?;
            match (a.suite, a.scenario) {
                (Some(s), _) => query::rename_suite(&store, &s[0], &s[1]).await?,
                (None, Some(s)) => query::rename_scenario(&store, &s[0], &s[1], &s[2]).await?,
                (None, None) => {
                    return Err(HistoryError::Usage(
                        "give --suite OLD NEW or --scenario SUITE OLD NEW".into(),
                    ))
                }
            }
        }
        HistoryCommand::Forget(a) => {
            query::forget_suite(&a.store.store()?, &a.suite).await?;
            let _ = writeln!(stdout, "forgot suite {}", a.suite);
        }
        HistoryCommand::Export(a) => {
            let store = a.store.store()?;
            let tables = match (a.table, a.format) {
                (Some(t), _) => vec![t],
                (None, ExportFormat::Csv) => vec![Table::Findings],
                (None, ExportFormat::Jsonl) => vec![Table::Runs, Table::Pages, Table::Findings],
            };
            let mut bytes = Vec::new();
            export(&store, a.suite.as_deref(), a.format, &tables, &mut bytes).await?;
            emit(a.output.as_deref(), stdout, &bytes)?;
        }
        HistoryCommand::Serve(a) => {
            return super::serve::serve(a.store.store()?, a.addr, &a.hosts, stdout).await;
        }
    }
    Ok(ExitCode::Clean)
}

/// Writes `bytes` to `output`, or to `stdout` when there is none.
fn emit(output: Option<&Path>, stdout: &mut dyn Write, bytes: &[u8]) -> Result<(), HistoryError> {
    match output {
        Some(path) => std::fs::write(path, bytes)
            .map_err(|e| HistoryError::Usage(format!("could not write {}: {e}", path.display()))),
        None => {
            // A closed pipe (`| head`) is no failure of the command.
            let _ = stdout.write_all(bytes);
            Ok(())
        }
    }
}

impl RecordArgs {
    /// The suite, branch, label and completeness `record` was given.
    pub(crate) fn meta(&self) -> (Option<&str>, Option<&str>, Option<&str>, bool) {
        (
            self.suite.as_deref(),
            self.branch.as_deref(),
            self.label.as_deref(),
            !self.incomplete,
        )
    }
}
