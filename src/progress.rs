//! Progress on stderr: a bar when stderr is a terminal (pages done and queued,
//! the current URL, elapsed time, findings so far), one plain line per page
//! when it is not (CI logs), nothing with `-q`.

use crate::report::PageReport;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Reports pages as they are judged; cheap to clone across concurrent scenarios.
#[derive(Clone)]
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    quiet: bool,
    findings: Arc<AtomicUsize>,
}

impl Progress {
    /// Progress over `total` pages (`None`: unknown, as in a crawl).
    pub(crate) fn new(total: Option<usize>, quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = match total {
                Some(n) => ProgressBar::new(n as u64),
                None => ProgressBar::new_spinner(),
            };
            bar.set_draw_target(ProgressDrawTarget::stderr());
            let template = match total {
                Some(_) => {
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} pages ({prefix}) {wide_msg}"
                }
                None => "{spinner} [{elapsed_precise}] {pos} pages ({prefix}) {wide_msg}",
            };
            bar.set_style(ProgressStyle::with_template(template).expect("a valid template"));
            bar.set_prefix("0 findings");
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        Progress {
            bar,
            quiet,
            findings: Arc::default(),
        }
    }

    /// One page was judged.
    pub(crate) fn page(&self, page: &PageReport) {
        let counts = page.counts();
        let (errors, warnings) = (counts.errors, counts.warnings);
        let total = self.findings.fetch_add(counts.total(), Ordering::Relaxed) + counts.total();
        match &self.bar {
            Some(bar) => {
                bar.inc(1);
                bar.set_prefix(format!("{total} findings"));
                bar.set_message(crate::redact::redact(&page.url).into_owned());
            }
            None if !self.quiet => {
                eprintln!(
                    "[{}] {:<4} {} ({errors} errors, {warnings} warnings)",
                    page.scenario,
                    counts.verdict().word(),
                    crate::redact::redact(&page.url)
                );
            }
            None => {}
        }
    }

    /// Removes the bar.
    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
