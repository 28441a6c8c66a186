//! The memory of scheduled audits (interface.md, "History of scheduled
//! audits"): a store of runs, their pages and findings, each finding's state
//! (new, open, reopened) against a baseline, and what each run fixed.
//!
//! One code path serves both engines: an embedded SQLite file and a
//! PostgreSQL server ([`Store`]). What a run hands in is plain data
//! ([`RunInput`], built from a JSON report by [`run_from_report`]);
//! [`record`] computes the states and inserts the run in one transaction and
//! returns them ([`Recorded`]) for the reports. The `history` subcommands are
//! library functions ([`query`]) behind one clap enum ([`cli::HistoryCommand`]).
//! What `trend` and `serve` show is plain data read by [`views`] and drawn
//! as HTML by `render` (one function per view, links through a trait);
//! [`trend_file`] puts them in one self-contained page.

pub(crate) mod backfill;
pub mod cli;
pub(crate) mod db;
pub mod export;
pub mod from_journal;
pub mod maintain;
pub mod model;
pub(crate) mod pg_tls;
pub mod query;
pub mod record;
pub(crate) mod render;
pub(crate) mod schema;
pub(crate) mod serve;
pub mod states;
pub mod store;
pub mod trend_file;
pub(crate) mod view;
pub mod views;
pub(crate) mod write;

pub use db::{LOCK_WAIT, PG_WRITER_LOCK};
pub use model::{
    fingerprints, relative_path, run_from_report, FindingInput, FindingKey, PageInput, PageVerdict,
    RunInput, RunMeta, RunSummary,
};
pub use record::{has_baseline, record, Baseline, Recorded};
pub use states::{fails_new, FindingHistory, GoneFinding, State};
pub use store::Store;

/// Why a history command could not do its job.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    /// The store could not be opened, read, written or locked in time; it is
    /// named with its password redacted (exit 3 for a run, which still writes
    /// its reports).
    #[error("history store {store}: {cause}")]
    Store {
        /// The store, as [`Store::shown`] names it.
        store: String,
        /// What went wrong.
        cause: String,
    },
    /// The input is wrong: a report that is not one, a run id already
    /// recorded, an unknown run or suite (exit 2).
    #[error("{0}")]
    Usage(String),
}

impl HistoryError {
    /// The process exit code of this failure.
    pub fn exit_code(&self) -> crate::error::ExitCode {
        match self {
            HistoryError::Store { .. } => crate::error::ExitCode::CouldNotRun,
            HistoryError::Usage(_) => crate::error::ExitCode::Usage,
        }
    }
}

impl From<HistoryError> for crate::error::Fatal {
    fn from(e: HistoryError) -> Self {
        match e {
            HistoryError::Usage(m) => crate::error::Fatal::Usage(m),
            other => crate::error::Fatal::Internal(other.to_string()),
        }
    }
}

/// A database call's error, said as the store's.
pub(crate) trait DbResult<T> {
    /// The error naming `store`.
    fn db(self, store: &Store) -> Result<T, HistoryError>;
}

impl<T> DbResult<T> for Result<T, String> {
    fn db(self, store: &Store) -> Result<T, HistoryError> {
        self.map_err(|cause| HistoryError::Store {
            store: store.shown(),
            cause: store::redact_url(&cause),
        })
    }
}
