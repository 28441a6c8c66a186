//! The run's journal, `DIR/pages.jsonl`: the record of a run, one JSON object
//! a line, each written and flushed as it happens, so a crash or Ctrl-C loses
//! nothing already audited. It starts with `{"run": ...}` (who ran what, when),
//! then holds every judged page once (`{"page": ..., "judged": ...}`, settings
//! applied), skipped URLs, notes, each scenario's steps as it ends
//! (`{"scenario": ...}`), and `{"end": ...}` when the run finished. Every
//! report, `merge`, `--resume` and the history read it as a stream
//! ([`Reader`]); nothing holds the run's pages in memory.

use crate::capture::PageCapture;
use crate::finding::{Finding, Note};
use crate::report::{Head, PageReport, Pages, RunInfo, ScenarioReport, Skipped, Tool};
use crate::settings::SettingsReport;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The journal's file name under --out-dir.
pub const FILE_NAME: &str = "pages.jsonl";

/// One line of the journal: exactly one of its fields is set.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Record {
    /// The first record: the run's identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<RunRecord>,
    /// An audited page, as the reports show it (settings applied).
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
    /// A scenario that ended: its steps and the links it did not follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<ScenarioRecord>,
    /// The last record of a run that finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<RunEnd>,
}

/// Who ran what, and when: the journal's first record (interface.md,
/// "History of scheduled audits").
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    /// Id, suite and shard, as every report carries them.
    #[serde(flatten)]
    pub info: RunInfo,
    /// RFC 3339 start time (UTC).
    pub started_at: String,
    /// The tool that ran.
    pub tool: Tool,
    /// The tool version and a hash of the rule catalogue.
    pub rules_version: String,
    /// The scenarios in report order (file, then scenario).
    #[serde(default)]
    pub scenarios: Vec<String>,
    /// Each scenario's base URL: the history keys its pages relative to it
    /// (a page list of `check`: none, each page's own origin).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub base_urls: std::collections::BTreeMap<String, String>,
    /// The rules `off` in each scenario (they judged none of its pages).
    #[serde(default, skip_serializing_if = "std::collections::HashMap::is_empty")]
    pub rules_off:
        std::collections::HashMap<String, std::collections::BTreeSet<crate::rules::Rule>>,
}

/// A scenario as it ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioRecord {
    /// Its name and steps (empty for a crawl without steps).
    #[serde(flatten)]
    pub report: ScenarioReport,
    /// Links of a sharded crawl's pages that it did not follow.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discovered: Vec<String>,
}

/// How a run ended.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunEnd {
    /// Wall time of the run (of its last attempt, when resumed).
    pub duration_ms: u64,
    /// Accept entries that expired or matched nothing in the run.
    #[serde(default)]
    pub settings: SettingsReport,
    /// Why the run stopped early, if it did (its pages are still reported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
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
    file: Mutex<Option<std::io::BufWriter<std::fs::File>>>,
}

impl Journal {
    /// Starts a fresh journal in `dir` (an earlier run's journal is replaced)
    /// with its run record.
    pub fn create(dir: &Path, run: &RunRecord) -> std::io::Result<Self> {
        let journal = Self::open(dir, false)?;
        journal.write(&Record {
            run: Some(run.clone()),
            ..Record::default()
        });
        Ok(journal)
    }

    /// Goes on with the journal in `dir` (`--resume`): new records are
    /// appended (the run record stays the one the run started with).
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
            file: Mutex::new(Some(std::io::BufWriter::new(file))),
        })
    }

    /// Where the journal is written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one record and flushes it. A write error stops the journal
    /// (logged once); the run goes on.
    pub fn write(&self, record: &Record) {
        self.write_line(record);
    }

    fn write_line(&self, record: &impl Serialize) {
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
    /// applied) beside `judged`, as the rules judged it.
    pub fn page(&self, shown: &PageReport, capture: &PageCapture, findings: &[Finding]) {
        /// A page record, borrowed: nothing is copied to write it.
        #[derive(Serialize)]
        struct PageLine<'a> {
            page: &'a PageReport,
            judged: JudgedLine<'a>,
        }
        #[derive(Serialize)]
        struct JudgedLine<'a> {
            capture: &'a PageCapture,
            findings: &'a [Finding],
        }
        self.write_line(&PageLine {
            page: shown,
            judged: JudgedLine { capture, findings },
        });
    }
}

/// A journal read as a stream of records, each with its line's byte offset.
/// A last line cut short (the run was killed while writing it) is left out;
/// any other unreadable line is an error naming the file and line.
pub struct Reader {
    path: PathBuf,
    lines: std::io::BufReader<std::fs::File>,
    offset: u64,
    number: usize,
    buffer: String,
}

impl Reader {
    /// Opens `path` for reading.
    pub fn open(path: &Path) -> Result<Self, String> {
        let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Reader {
            path: path.to_path_buf(),
            lines: std::io::BufReader::new(file),
            offset: 0,
            number: 0,
            buffer: String::new(),
        })
    }

    /// The next record and the byte offset of its line.
    fn next_record(&mut self) -> Option<Result<(u64, Record), String>> {
        loop {
            self.buffer.clear();
            let at = self.offset;
            let read = match self.lines.read_line(&mut self.buffer) {
                Ok(read) => read,
                Err(e) => return Some(Err(format!("{}: {e}", self.path.display()))),
            };
            if read == 0 {
                return None;
            }
            self.offset += read as u64;
            self.number += 1;
            if self.buffer.trim().is_empty() {
                continue;
            }
            let complete = self.buffer.ends_with('\n');
            return match serde_json::from_str::<Record>(&self.buffer) {
                Ok(record) => Some(Ok((at, record))),
                // The run was killed while writing its last line.
                Err(_) if !complete => None,
                Err(e) => Some(Err(format!(
                    "{}:{}: not a journal record ({e}): was it written by insider-audit?",
                    self.path.display(),
                    self.number
                ))),
            };
        }
    }
}

impl Iterator for Reader {
    type Item = Result<(u64, Record), String>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record()
    }
}

/// Reads the record of the line at `offset` (from [`Reader`]).
pub fn record_at(path: &Path, offset: u64) -> Result<Record, String> {
    use std::io::{Seek, SeekFrom};
    let mut file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut line = String::new();
    std::io::BufReader::new(file)
        .read_line(&mut line)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&line).map_err(|e| {
        format!(
            "{} at byte {offset}: not a journal record ({e})",
            path.display()
        )
    })
}

/// A record with only its page read (the rest skipped unparsed): what the
/// report passes need.
#[derive(Deserialize)]
struct PageOnly {
    #[serde(default)]
    page: Option<Box<PageReport>>,
}

/// The pages of a journal in report order: the run record's scenarios in
/// order (any other after them), each scenario's pages in the order written.
/// Each pass reads the file again, one line at a time.
pub struct JournalPages {
    path: PathBuf,
    scenarios: Vec<String>,
}

impl Pages for JournalPages {
    fn pass(&self) -> Box<dyn Iterator<Item = Result<PageReport, String>> + '_> {
        let one = self.scenarios.len() <= 1;
        Box::new(self.scenarios.iter().flat_map(move |scenario| {
            let lines: Box<dyn Iterator<Item = Result<PageReport, String>>> =
                match page_lines(&self.path) {
                    Ok(lines) => Box::new(lines),
                    Err(error) => Box::new(std::iter::once(Err(error))),
                };
            lines.filter(move |page| match page {
                Ok(page) => one || &page.scenario == scenario,
                Err(_) => true,
            })
        }))
    }
}

/// Every page record of the journal at `path`, in the order written.
fn page_lines(path: &Path) -> Result<impl Iterator<Item = Result<PageReport, String>>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let path = path.to_path_buf();
    let mut lines = std::io::BufReader::new(file).lines().enumerate().peekable();
    Ok(std::iter::from_fn(move || loop {
        let (i, line) = lines.next()?;
        let line = match line {
            Ok(line) => line,
            Err(e) => return Some(Err(format!("{}: {e}", path.display()))),
        };
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<PageOnly>(&line) {
            Ok(PageOnly { page: Some(page) }) => return Some(Ok(*page)),
            Ok(_) => continue,
            Err(_) if lines.peek().is_none() => return None,
            Err(e) => {
                return Some(Err(format!(
                    "{}:{}: not a journal record ({e})",
                    path.display(),
                    i + 1
                )))
            }
        }
    }))
}

/// What the reports of a journal say besides their pages (one pass), and the
/// pages themselves to be read in report order.
pub fn report_of(path: &Path) -> Result<(Head, JournalPages, Option<RunEnd>), String> {
    let mut run: Option<RunRecord> = None;
    let mut head = Head::new(None, String::new());
    let mut steps: Vec<ScenarioReport> = Vec::new();
    let mut end: Option<RunEnd> = None;
    for entry in Reader::open(path)? {
        let (_, record) = entry?;
        if let Some(record) = record.run {
            run.get_or_insert(record);
        }
        if let Some(page) = &record.page {
            head.count(page);
        }
        head.skipped.extend(record.skipped);
        head.notes.extend(record.note);
        if let Some(scenario) = record.scenario {
            for link in scenario.discovered {
                if !head.discovered.contains(&link) {
                    head.discovered.push(link);
                }
            }
            steps.retain(|s| s.name != scenario.report.name);
            if !scenario.report.steps.is_empty() {
                steps.push(scenario.report);
            }
        }
        if record.end.is_some() {
            end = record.end;
        }
    }
    let order: Vec<String> = run
        .as_ref()
        .map(|r| r.scenarios.clone())
        .unwrap_or_default();
    let rank = |name: &str| order.iter().position(|o| o == name).unwrap_or(usize::MAX);
    head.scenario_names.sort_by_key(|name| rank(name));
    steps.sort_by_key(|s| rank(&s.name));
    head.scenarios = steps;
    if let Some(run) = run {
        head.run = Some(run.info);
        head.started_at = run.started_at;
        head.tool = run.tool;
    }
    if let Some(end) = &end {
        head.duration_ms = end.duration_ms;
        head.settings = end.settings.clone();
    }
    let pages = JournalPages {
        path: path.to_path_buf(),
        scenarios: head.scenario_names.clone(),
    };
    Ok((head, pages, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(message: &str) -> Record {
        Record {
            note: Some(Note {
                kind: crate::finding::NoteKind::BrowserRestart,
                message: message.into(),
            }),
            ..Record::default()
        }
    }

    #[test]
    fn a_last_line_cut_short_is_left_out_and_offsets_find_each_line() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::append(dir.path()).unwrap();
        journal.write(&note("one"));
        journal.write(&note("two"));
        drop(journal);
        let path = dir.path().join(FILE_NAME);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"note\": {\"kind\"");
        std::fs::write(&path, text).unwrap();
        let read: Vec<_> = Reader::open(&path).unwrap().map(Result::unwrap).collect();
        assert_eq!(read.len(), 2);
        let second = record_at(&path, read[1].0).unwrap();
        assert_eq!(second.note.unwrap().message, "two");
    }

    #[test]
    fn a_foreign_line_is_named_by_its_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, "{\"note\": 3}\n{}\n").unwrap();
        let error = Reader::open(&path).unwrap().find_map(Result::err).unwrap();
        assert!(error.contains("pages.jsonl:1:"), "{error}");
    }
}
