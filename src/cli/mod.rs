//! The command line: parse, validate into a ready-to-run plan, run, and map the
//! outcome to an exit code (README, "Usage"). One module per command; the
//! options they share in [`options`], where reports go in [`output`].

mod audit;
mod diff;
mod discover;
mod history;
mod init;
mod merge;
mod notify;
mod options;
mod output;
mod plans;
mod validate;

pub use options::{Common, DiffFormat, FailOn, FormatKind};

use crate::checks::{PageContext, Session};
use crate::error::ExitCode;
use crate::expect::{Expectations, UserPushExpectation};
use crate::rules::Rule;
use crate::scenario;
use crate::settings::{self, Level};
use clap::{Parser, Subcommand};
use plans::Work;
use std::path::PathBuf;
use std::time::Duration;

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
        /// With --history: record the run even when shards are missing (it is
        /// recorded as incomplete, never a baseline).
        #[arg(long)]
        partial: bool,
        /// Options shared by the auditing commands (formats, outputs, --fail-on).
        #[command(flatten)]
        common: Common,
    },
    /// The history of scheduled audits: runs, states, backfill, pruning, export.
    History {
        /// What to do with the store.
        #[command(subcommand)]
        command: crate::history::cli::HistoryCommand,
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
    // A server stops itself on a signal, after the requests in flight; every
    // other command is dropped where it stands (closing its browser).
    let stops_itself = matches!(
        &cli.command,
        Command::History {
            command: crate::history::cli::HistoryCommand::Serve(_)
        }
    );
    let code = runtime.block_on(async {
        if stops_itself {
            return run(cli).await;
        }
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
            match plans::check_targets(&urls)
                .and_then(|pages| Ok((pages, plans::check_settings(settings.as_deref(), rules)?)))
            {
                Ok((pages, settings)) => {
                    audit::execute(Work::Pages(pages, context, settings), &common, quiet, None)
                        .await
                }
                Err(e) => Err(e),
            }
        }
        Command::Run {
            files,
            discover_only,
            common,
        } => match plans::load_plans(&files).and_then(|plans| plans::with_url_list(plans, &common))
        {
            Ok(plans) if discover_only => discover::discover(plans, &common, quiet).await,
            Ok(plans) => audit::execute(Work::Plans(plans), &common, quiet, None).await,
            Err(e) => Err(e),
        },
        Command::Merge {
            inputs,
            partial,
            common,
        } => merge::merge_reports(&inputs, partial, &common, quiet).await,
        Command::History { command } => {
            let mut out = std::io::stdout().lock();
            match crate::history::cli::execute(command, &mut out).await {
                Ok(code) => Ok(code),
                Err(error) => {
                    eprintln!("error: {error}");
                    return error.exit_code();
                }
            }
        }
        Command::Diff {
            old,
            new,
            format,
            fail_on,
        } => diff::diff_reports(&old, &new, format, fail_on),
        Command::Init {
            base_url,
            output,
            force,
        } => init::init(&base_url, &output, force),
        Command::Schema => {
            let text = serde_json::to_string_pretty(&scenario::schema())
                .expect("a schema serialises")
                + "\n";
            output::write_stdout(text.as_bytes());
            Ok(ExitCode::Clean)
        }
        Command::Validate { files } => validate::validate(&files),
        Command::Demo(common) => match crate::demo::serve().await {
            Ok(site) => {
                let result = match site.plan() {
                    Ok(plan) => {
                        plan.register_secrets();
                        audit::execute(Work::Plans(vec![plan]), &common, quiet, Some("demo")).await
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
