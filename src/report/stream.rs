//! Pages written to disk as they are judged (`DIR/pages.jsonl`, one JSON page
//! report a line), so a crash or Ctrl-C loses nothing already audited.

use super::PageReport;
use crate::audit::PageResult;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The stream's file name under --out-dir.
pub const FILE_NAME: &str = "pages.jsonl";

/// Appends each judged page as one line; shared by concurrent scenarios.
pub struct PageStream {
    path: PathBuf,
    file: Mutex<Option<std::fs::File>>,
}

impl PageStream {
    /// Starts a fresh stream in `dir` (an earlier run's stream is replaced).
    pub fn create(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(FILE_NAME);
        let file = std::fs::File::create(&path)?;
        Ok(PageStream {
            path,
            file: Mutex::new(Some(file)),
        })
    }

    /// Where the stream is written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one page and flushes it to the file. A write error stops the
    /// stream (logged once); the run goes on.
    pub fn page(&self, result: &PageResult) {
        let mut guard = self.file.lock().expect("stream lock");
        let Some(file) = guard.as_mut() else { return };
        let mut line =
            serde_json::to_vec(&PageReport::from_result(result)).expect("a page report serialises");
        line.push(b'\n');
        if let Err(e) = file.write_all(&line).and_then(|_| file.flush()) {
            tracing::warn!(
                "cannot write {}: {e}; pages are no longer streamed",
                self.path.display()
            );
            *guard = None;
        }
    }
}
