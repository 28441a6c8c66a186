//! The run's journal, `DIR/pages.jsonl`: one record a line (`{"page": ...}`,
//! `{"skipped": ...}`, `{"note": ...}`), each written and flushed as it happens,
//! so a crash or Ctrl-C loses nothing already audited. A page record also holds
//! what the page recorded and how the rules judged it before settings
//! (`judged`): enough for `--resume` to go on where a run stopped and replay the
//! session rules as they were.

use crate::audit::PageResult;
use crate::capture::PageCapture;
use crate::finding::{Finding, Note};
use crate::report::{PageReport, Skipped};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The journal's file name under --out-dir.
pub const FILE_NAME: &str = "pages.jsonl";

/// One line of the journal: exactly one of its fields is set.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Record {
    /// An audited page, as the reports show it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<Box<PageReport>>,
    /// Beside `page`: what it recorded and the rules' findings before settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judged: Option<Box<Judged>>,
    /// A crawled URL that was not a page to audit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<Skipped>,
    /// Something about the run (a browser restart).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Note>,
}

/// A page as the rules judged it, before settings: what a resumed run replays.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Judged {
    /// What the visit recorded.
    pub capture: PageCapture,
    /// Page and session findings, before the scenario's settings.
    pub findings: Vec<Finding>,
}

/// Appends records to `DIR/pages.jsonl`; shared by concurrent scenarios.
pub struct Journal {
    path: PathBuf,
    file: Mutex<Option<std::fs::File>>,
}

impl Journal {
    /// Starts a fresh journal in `dir` (an earlier run's journal is replaced).
    pub fn create(dir: &Path) -> std::io::Result<Self> {
        Self::open(dir, false)
    }

    /// Goes on with the journal in `dir` (`--resume`): new records are appended.
    pub fn append(dir: &Path) -> std::io::Result<Self> {
        Self::open(dir, true)
    }

    fn open(dir: &Path, append: bool) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(FILE_NAME);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(&path)?;
        Ok(Journal {
            path,
            file: Mutex::new(Some(file)),
        })
    }

    /// Where the journal is written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one record and flushes it. A write error stops the journal
    /// (logged once); the run goes on.
    pub fn write(&self, record: &Record) {
        let mut guard = self.file.lock().expect("journal lock");
        let Some(file) = guard.as_mut() else { return };
        let line = serde_json::to_vec(record).expect("a journal record serialises");
        let mut line = crate::redact::redact_bytes(&line).into_owned();
        line.push(b'\n');
        if let Err(e) = file.write_all(&line).and_then(|_| file.flush()) {
            tracing::warn!(
                "cannot write {}: {e}; pages are no longer journaled",
                self.path.display()
            );
            *guard = None;
        }
    }

    /// Writes an audited page: `shown` as the reports show it (settings
    /// applied), `judged` as the rules judged it.
    pub fn page(&self, judged: &PageResult, shown: &PageResult) {
        self.write(&Record {
            page: Some(Box::new(PageReport::from_result(shown))),
            judged: Some(Box::new(Judged {
                capture: judged.capture.clone(),
                findings: judged.findings.clone(),
            })),
            ..Record::default()
        });
    }
}

/// Reads a journal. A last line cut short (the run was killed while writing
/// it) is left out; any other unreadable line is an error naming its number.
pub fn read(path: &Path) -> Result<Vec<Record>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let lines: Vec<String> = std::io::BufReader::new(file)
        .lines()
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut records = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(line) {
            Ok(record) => records.push(record),
            Err(_) if i + 1 == lines.len() => break,
            Err(e) => {
                return Err(format!(
                    "{}:{}: not a journal record ({e}): was it written by insider-audit?",
                    path.display(),
                    i + 1
                ))
            }
        }
    }
    Ok(records)
}

/// What a journal says each scenario already did, for `--resume`: its judged
/// pages (by the URL asked for) and skipped URLs, in order.
#[derive(Debug, Default, Clone)]
pub struct Replays {
    by_scenario: HashMap<String, Replay>,
}

impl Replays {
    /// The replays of a journal's records.
    pub fn from_records(records: Vec<Record>) -> Self {
        let mut replays = Replays::default();
        for record in records {
            if let (Some(page), Some(judged)) = (record.page, record.judged) {
                let judged = *judged;
                replays
                    .by_scenario
                    .entry(page.scenario.clone())
                    .or_default()
                    .add_page(ReplayedPage {
                        capture: judged.capture,
                        findings: judged.findings,
                        screenshot: page.screenshot.clone(),
                    });
            } else if let Some(skipped) = record.skipped {
                replays
                    .by_scenario
                    .entry(skipped.scenario.clone())
                    .or_default()
                    .add_skipped(skipped);
            }
        }
        replays
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
    pages: HashMap<String, std::collections::VecDeque<ReplayedPage>>,
    skipped: HashMap<String, Skipped>,
    /// URLs that were being audited when the browser died, with how often.
    pub died_on: HashMap<String, u32>,
}

impl Replay {
    /// Adds a judged page.
    pub fn add_page(&mut self, page: ReplayedPage) {
        self.pages
            .entry(page.capture.url.clone())
            .or_default()
            .push_back(page);
    }

    /// Adds a skipped URL.
    pub fn add_skipped(&mut self, skipped: Skipped) {
        self.skipped.insert(skipped.url.clone(), skipped);
    }

    /// The judged page for `url`, if the earlier run audited it.
    pub fn take_page(&mut self, url: &str) -> Option<ReplayedPage> {
        let queue = self.pages.get_mut(url)?;
        let page = queue.pop_front();
        if queue.is_empty() {
            self.pages.remove(url);
        }
        page
    }

    /// The skip of `url`, if the earlier run skipped it.
    pub fn skipped(&self, url: &str) -> Option<&Skipped> {
        self.skipped.get(url)
    }

    /// How many judged pages are left to replay.
    pub fn len(&self) -> usize {
        self.pages.values().map(|q| q.len()).sum()
    }

    /// Adds what `earlier` still held for URLs this replay does not have (an
    /// earlier run's pages the restarted journey had not reached yet).
    pub fn keep_unreached(&mut self, earlier: Replay) {
        for (url, pages) in earlier.pages {
            self.pages.entry(url).or_insert(pages);
        }
        for (url, skipped) in earlier.skipped {
            self.skipped.entry(url).or_insert(skipped);
        }
    }

    /// Whether nothing is left to replay.
    pub fn is_empty(&self) -> bool {
        self.pages.is_empty() && self.skipped.is_empty()
    }
}
