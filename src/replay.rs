//! What a journal says each scenario already did, for `--resume` and for the
//! scenarios that go on after a browser restart: the judged pages (by the URL
//! asked for) and the skipped URLs. Pages are indexed by their line's offset in
//! the journal and read back one at a time when the journey reaches them, so a
//! resumed run of 5,000 pages holds offsets, not captures.

use crate::capture::PageCapture;
use crate::finding::Finding;
use crate::journal::{self, Record};
use crate::report::Skipped;
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The replays of every scenario of a journal.
#[derive(Debug, Default, Clone)]
pub struct Replays {
    by_scenario: HashMap<String, Replay>,
}

impl Replays {
    /// Indexes the journal at `path`.
    pub fn index(path: &Path) -> Result<Self, String> {
        let source = Arc::new(path.to_path_buf());
        let mut replays = Replays::default();
        for entry in journal::Reader::open(path)? {
            let (offset, record) = entry?;
            if let (Some(page), Some(_)) = (&record.page, &record.judged) {
                replays
                    .by_scenario
                    .entry(page.scenario.clone())
                    .or_insert_with(|| Replay::from(&source))
                    .pages
                    .entry(page.url.clone())
                    .or_default()
                    .push_back(offset);
            } else if let Some(skipped) = record.skipped.filter(|s| !s.is_internal_error()) {
                replays
                    .by_scenario
                    .entry(skipped.scenario.clone())
                    .or_insert_with(|| Replay::from(&source))
                    .skipped
                    .insert(skipped.url.clone(), skipped);
            }
        }
        Ok(replays)
    }

    /// The replay of one scenario (empty when the journal has none of it).
    pub fn take(&mut self, scenario: &str) -> Replay {
        self.by_scenario.remove(scenario).unwrap_or_default()
    }

    /// How many pages the replays hold.
    pub fn pages(&self) -> usize {
        self.by_scenario.values().map(|r| r.len()).sum()
    }
}

/// A page judged by an earlier run (or before a browser restart).
#[derive(Debug, Clone)]
pub struct ReplayedPage {
    /// What it recorded.
    pub capture: PageCapture,
    /// How the rules judged it (before settings).
    pub findings: Vec<Finding>,
    /// Its screenshot, if one was taken.
    pub screenshot: Option<String>,
}

/// What one scenario already did: pages judged (taken by the URL asked for, in
/// order) and URLs skipped.
#[derive(Debug, Default, Clone)]
pub struct Replay {
    source: Option<Arc<PathBuf>>,
    pages: HashMap<String, VecDeque<u64>>,
    skipped: HashMap<String, Skipped>,
    /// URLs that were being audited when the browser died, with how often.
    pub died_on: HashMap<String, u32>,
}

impl Replay {
    fn from(source: &Arc<PathBuf>) -> Self {
        Replay {
            source: Some(source.clone()),
            ..Replay::default()
        }
    }

    /// The judged page for `url`, if the earlier run audited it (read from the
    /// journal now; a line that cannot be read back is audited again).
    pub fn take_page(&mut self, url: &str) -> Option<ReplayedPage> {
        let queue = self.pages.get_mut(url)?;
        let offset = queue.pop_front();
        if queue.is_empty() {
            self.pages.remove(url);
        }
        let source = self.source.as_ref()?;
        match journal::record_at(source, offset?) {
            Ok(Record {
                page: Some(page),
                judged: Some(judged),
                ..
            }) => Some(ReplayedPage {
                capture: judged.capture,
                findings: judged.findings,
                screenshot: page.screenshot,
            }),
            Ok(_) => None,
            Err(error) => {
                tracing::warn!("{error}; the page is audited again");
                None
            }
        }
    }

    /// The skip of `url`, if the earlier run skipped it.
    pub fn skipped(&self, url: &str) -> Option<&Skipped> {
        self.skipped.get(url)
    }

    /// How many judged pages are left to replay.
    pub fn len(&self) -> usize {
        self.pages.values().map(|q| q.len()).sum()
    }

    /// Whether nothing is left to replay.
    pub fn is_empty(&self) -> bool {
        self.pages.is_empty() && self.skipped.is_empty()
    }
}
