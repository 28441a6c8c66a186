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
        /// The Chromium executable that was started.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The browser stopped answering and could not be brought back.
    #[error("the browser died: {0}")]
    BrowserDied(String),
    /// Something the tool itself needs failed (the embedded demo shop could
    /// not be served or read): the audit could not run.
    #[error("{0}")]
    Internal(String),
    /// The command line or an input file is wrong (nothing was audited).
    #[error("{0}")]
    Usage(String),
    /// Writing a report failed.
    #[error("could not write {path}: {source}")]
    Write {
        /// The file or directory that could not be written.
        path: PathBuf,
        /// Why, as the operating system said it.
        source: std::io::Error,
    },
}

impl Fatal {
    /// The exit code of this failure.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Fatal::Usage(_) => ExitCode::Usage,
            _ => ExitCode::CouldNotRun,
        }
    }
}

/// The process exit codes (README, "Usage"), each meaning one thing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// The audit ran; no finding at or above `--fail-on`.
    Clean = 0,
    /// The audit ran; findings at or above `--fail-on` (an unreachable page is one).
    Findings = 1,
    /// Bad invocation or bad scenario file: nothing was audited.
    Usage = 2,
    /// The audit could not run (no browser, a browser that died beyond recovery,
    /// the embedded demo broken).
    CouldNotRun = 3,
    /// Interrupted by SIGINT (Ctrl-C).
    Interrupted = 130,
    /// Terminated by SIGTERM.
    Terminated = 143,
}

impl ExitCode {
    /// `Findings` when a run found something at or above the threshold, else `Clean`.
    pub fn of_findings(fails: bool) -> Self {
        if fails {
            ExitCode::Findings
        } else {
            ExitCode::Clean
        }
    }

    /// The number the process exits with.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// serde_json's message without its trailing " at line L column C" (callers
/// put the position first, as `file:line:column:`).
pub(crate) fn serde_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rsplit_once(" at line ") {
        Some((message, _)) => message.to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interface_table() {
        assert_eq!(ExitCode::of_findings(false).code(), 0);
        assert_eq!(ExitCode::of_findings(true).code(), 1);
        assert_eq!(Fatal::Usage("bad flag".into()).exit_code().code(), 2);
        // A demo that cannot be served is no mistyped command: the audit could not run.
        assert_eq!(Fatal::Internal("demo".into()).exit_code().code(), 3);
        assert_eq!(Fatal::BrowserDied("gone".into()).exit_code().code(), 3);
    }
}
