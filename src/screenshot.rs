//! Screenshots of audited pages, stored beside the reports
//! (`--screenshots never|failures|always`).

use crate::browser::Tab;
use crate::finding::Finding;
use crate::rules::Severity;
use std::path::PathBuf;

/// Which pages get a screenshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum When {
    /// None.
    Never,
    /// Pages with an error finding (the default).
    #[default]
    Failures,
    /// Every page.
    Always,
}

/// Where and when screenshots are taken.
#[derive(Debug, Clone)]
pub struct Screenshots {
    /// Which pages.
    pub when: When,
    /// The report directory; files go to its `screenshots/`.
    pub out_dir: PathBuf,
}

impl Screenshots {
    /// No screenshots at all.
    pub fn never() -> Self {
        Screenshots {
            when: When::Never,
            out_dir: PathBuf::new(),
        }
    }

    /// Whether a page with these findings gets one.
    pub fn wanted(&self, findings: &[Finding]) -> bool {
        match self.when {
            When::Never => false,
            When::Failures => findings.iter().any(|f| f.severity == Severity::Error),
            When::Always => true,
        }
    }

    /// Saves a screenshot of the tab's page as `screenshots/NAME.png`; returns that
    /// path relative to the report directory, or `None` when it failed.
    pub async fn take(&self, tab: &Tab, name: &str) -> Option<String> {
        let png = tab
            .screenshot()
            .await
            .map_err(|e| tracing::warn!("screenshot {name}: {e}"))
            .ok()?;
        let relative = format!("screenshots/{}.png", slug(name));
        let path = self.out_dir.join(&relative);
        let written = path
            .parent()
            .map(std::fs::create_dir_all)
            .transpose()
            .and_then(|_| std::fs::write(&path, png));
        match written {
            Ok(()) => Some(relative),
            Err(e) => {
                tracing::warn!("cannot save {}: {e}", path.display());
                None
            }
        }
    }
}

/// A file-name-safe form of a name.
pub fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}
