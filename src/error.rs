//! Operational failures: the audit could not run. A broken rule is a finding, never one of these.

use std::path::PathBuf;

/// Why insider-audit could not do its job.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Fatal {
    /// No Chromium executable was found.
    #[error(
        "no Chromium browser found (looked for {tried}).\n  Install it with: sudo apt-get install -y chromium\n  or pass --browser /path/to/chromium (or set $CHROME)"
    )]
    BrowserNotFound {
        /// What was looked for, for the message.
        tried: String,
    },
    /// The browser was found but did not start.
    #[error("could not start the browser {path}: {reason}")]
    BrowserLaunch {
        /// The executable.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The browser stopped answering and could not be brought back.
    #[error("the browser died: {0}")]
    BrowserDied(String),
    /// The command line or an input file is wrong (nothing was audited).
    #[error("{0}")]
    Usage(String),
    /// Writing a report failed.
    #[error("could not write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

impl Fatal {
    /// The process exit code of interface.md for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Fatal::Usage(_) => 2,
            _ => 3,
        }
    }
}
