//! `run --discover-only`: crawls, settling each page without judging it, and
//! writes the page list (one URL a line).

use super::audit::run_record;
use super::options::Common;
use super::output::{write_file, write_stdout};
use super::plans::{select_scenarios, Work};
use crate::audit::PageResult;
use crate::error::{ExitCode, Fatal};
use crate::journal::Journal;
use crate::pipeline::{self, BrowserSource, Sinks};
use crate::progress::Progress;
use crate::replay::Replays;
use crate::report::PageReport;
use crate::scenario::Plan;
use crate::settings::Ledger;
use std::sync::Mutex;

pub(super) async fn discover(
    plans: Vec<Plan>,
    common: &Common,
    quiet: bool,
) -> Result<ExitCode, Fatal> {
    let mut options = common.audit_options()?;
    options.judge = false;
    let plans = select_scenarios(plans, &common.scenarios)?;
    let source = BrowserSource::from_flags(
        common.browser_ws.as_deref(),
        common.browser.as_deref(),
        &common.browser_args,
    )?;
    // The crawl's journal (what a scenario goes on from after a browser
    // restart) is kept only while it runs.
    let scratch = tempfile::tempdir().map_err(|source| Fatal::Write {
        path: std::env::temp_dir(),
        source,
    })?;
    let work = Work::Plans(plans);
    let record = run_record(&work, common, None, chrono::Utc::now())?;
    let Work::Plans(plans) = work else {
        unreachable!("built as plans above")
    };
    let journal = Journal::create(scratch.path(), &record).map_err(|source| Fatal::Write {
        path: scratch.path().to_path_buf(),
        source,
    })?;
    let progress = Progress::new(None, quiet);
    // The URL asked for: auditing it again gives the same page.
    let found: Mutex<(std::collections::HashSet<String>, String)> = Mutex::default();
    let on_page = |result: &PageResult, page: &PageReport| {
        progress.page(page);
        if result.capture.unreachable.is_none() {
            let mut found = found.lock().expect("page list lock");
            let (seen, list) = &mut *found;
            if seen.insert(page.url.clone()) {
                list.push_str(&page.url);
                list.push('\n');
            }
        }
    };
    let sinks = Sinks {
        journal: &journal,
        on_page: &on_page,
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
    let (_, list) = found.into_inner().expect("page list lock");
    match &common.output {
        Some(path) => write_file(path, list.as_bytes())?,
        None => write_stdout(list.as_bytes()),
    }
    match outcome.error {
        Some(error) => Err(error),
        None => Ok(ExitCode::Clean),
    }
}
