//! `merge`: one run's journal from the reports or journals of several shards
//! (or of runs split any other way), from which the merged reports are written
//! as from any run's. Pages, skipped URLs and notes are joined in the order the
//! shards are given, journal lines copied one at a time; an accept entry is
//! unused only when it matched nothing in every shard that reports its
//! settings; `discovered` keeps the links no shard audited.

use crate::journal::{self, Journal, Record, RunEnd, RunRecord, ScenarioRecord};
use crate::report::{Report, RunInfo, ScenarioReport, Tool};
use crate::settings::SettingsReport;
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

/// One shard to merge: a JSON report, or a journal read as a stream.
enum Shard {
    Report(Box<Report>),
    Journal(PathBuf),
}

/// Finds one shard: a JSON report, a journal (`pages.jsonl`), or a directory
/// holding either (`report.json` first).
fn find(path: &Path) -> Result<Shard, String> {
    if path.is_dir() {
        let report = path.join("report.json");
        let journal = path.join(journal::FILE_NAME);
        return match (report.exists(), journal.exists()) {
            (true, _) => find(&report),
            (false, true) => find(&journal),
            _ => Err(format!(
                "{}: no report.json or {} in this directory",
                path.display(),
                journal::FILE_NAME
            )),
        };
    }
    if path.extension().is_some_and(|e| e == "jsonl") {
        return Ok(Shard::Journal(path.to_path_buf()));
    }
    crate::report::read_json_report(path)
        .map(|r| Shard::Report(Box::new(r)))
        .map_err(|e| format!("{e}, journals (pages.jsonl) or their directories"))
}

/// What the merged run says about itself, gathered shard by shard.
#[derive(Default)]
struct Merged {
    run: Option<RunRecord>,
    scenarios: Vec<ScenarioReport>,
    discovered: Vec<String>,
    audited: HashSet<String>,
    expired: SettingsReport,
    unused_everywhere: Option<BTreeSet<String>>,
    duration_ms: u64,
}

impl Merged {
    fn run(&mut self, run: RunRecord) {
        match &mut self.run {
            None => self.run = Some(run),
            Some(first) => {
                first.started_at = first.started_at.clone().min(run.started_at);
                for name in run.scenarios {
                    if !first.scenarios.contains(&name) {
                        first.scenarios.push(name);
                    }
                }
                for (scenario, base) in run.base_urls {
                    first.base_urls.entry(scenario).or_insert(base);
                }
                for (scenario, off) in run.rules_off {
                    first.rules_off.entry(scenario).or_insert(off);
                }
            }
        }
    }

    fn scenario(&mut self, scenario: ScenarioReport) {
        if !scenario.steps.is_empty() && !self.scenarios.iter().any(|s| s.name == scenario.name) {
            self.scenarios.push(scenario);
        }
    }

    /// A shard's settings; `None` when it does not say (a journal of a run
    /// that did not finish).
    fn settings(&mut self, settings: Option<SettingsReport>) {
        let Some(settings) = settings else { return };
        for entry in settings.expired {
            if !self
                .expired
                .expired
                .iter()
                .any(|e| e.source == entry.source)
            {
                self.expired.expired.push(entry);
            }
        }
        let here: BTreeSet<String> = settings.unused.iter().map(|e| e.source.clone()).collect();
        self.unused_everywhere = Some(match self.unused_everywhere.take() {
            Some(before) => before.intersection(&here).cloned().collect(),
            None => {
                self.expired.unused = settings.unused;
                here
            }
        });
    }
}

/// A merged run's journal, and what its shards said of themselves.
pub(crate) struct MergedRun {
    /// The merged journal.
    pub journal: PathBuf,
    /// The run ids of the shards, once each.
    pub run_ids: BTreeSet<String>,
    /// The shards of a `K/N` split that no input holds (`K/N` each).
    pub missing: Vec<String>,
}

impl MergedRun {
    /// A sharded run is recorded once: every shard of one run id, none
    /// missing unless `partial`.
    pub(crate) fn check_shards(&self, partial: bool) -> Result<(), String> {
        if self.run_ids.len() > 1 {
            return Err(format!(
                "the shards are of different runs ({}): give each shard of one run the same --run-id",
                self.run_ids.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        if !self.missing.is_empty() && !partial {
            return Err(format!(
                "shard {} missing: merge every shard, or pass --partial to record the run as incomplete",
                self.missing.join(", ")
            ));
        }
        Ok(())
    }
}

/// Merges `inputs` into a journal in `dir` (written beside, then moved into
/// place, so an input in `dir` is read whole first).
pub(crate) fn merge(inputs: &[PathBuf], dir: &Path) -> Result<MergedRun, String> {
    let shards = inputs
        .iter()
        .map(|path| find(path))
        .collect::<Result<Vec<_>, _>>()?;
    let scratch =
        tempfile::tempdir_in(ensure(dir)?).map_err(|e| format!("{}: {e}", dir.display()))?;
    let journal = Journal::append(scratch.path()).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut merged = Merged::default();
    // The run record goes first: shards are read once for it.
    let mut run_ids = BTreeSet::new();
    let mut splits: Vec<(u64, u64)> = Vec::new();
    for shard in &shards {
        let run = match shard {
            Shard::Report(report) => Some(run_of_report(report)),
            Shard::Journal(path) => match journal::Reader::open(path)?.next() {
                Some(Ok((_, record))) => record.run,
                _ => None,
            },
        };
        let Some(run) = run else { continue };
        run_ids.insert(run.info.id.clone());
        if let Some(split) = run
            .info
            .shard
            .as_deref()
            .and_then(|s| s.parse::<crate::shard::Shard>().ok())
        {
            splits.push((split.index, split.count));
        }
        merged.run(run);
    }
    let missing: Vec<String> = match splits.iter().map(|(_, n)| *n).max() {
        Some(count) => (1..=count)
            .filter(|k| !splits.iter().any(|(i, _)| i == k))
            .map(|k| format!("{k}/{count}"))
            .collect(),
        None => Vec::new(),
    };
    let mut run = merged.run.clone().unwrap_or_else(|| RunRecord {
        info: RunInfo {
            id: uuid::Uuid::new_v4().to_string(),
            suite: "merged".into(),
            shard: None,
        },
        started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        tool: Tool::this(),
        rules_version: crate::rules::rules_version(),
        scenarios: Vec::new(),
        base_urls: Default::default(),
        rules_off: Default::default(),
    });
    run.info.shard = None;
    journal.write(&Record {
        run: Some(run),
        ..Record::default()
    });
    for shard in shards {
        match shard {
            Shard::Report(report) => {
                let report = *report;
                merged.duration_ms = merged.duration_ms.max(report.duration_ms);
                for page in report.pages {
                    merged.audited.insert(page.url.clone());
                    journal.write(&Record {
                        page: Some(Box::new(page)),
                        ..Record::default()
                    });
                }
                for skipped in report.skipped {
                    journal.write(&Record {
                        skipped: Some(skipped),
                        ..Record::default()
                    });
                }
                for note in report.notes {
                    journal.write(&Record {
                        note: Some(note),
                        ..Record::default()
                    });
                }
                for scenario in report.scenarios {
                    merged.scenario(scenario);
                }
                merged.discovered.extend(report.discovered);
                merged.settings(Some(report.settings));
            }
            Shard::Journal(path) => {
                let mut end = None;
                for entry in journal::Reader::open(&path)? {
                    let (_, record) = entry?;
                    if let Some(page) = &record.page {
                        merged.audited.insert(page.url.clone());
                    }
                    if let Some(scenario) = record.scenario {
                        merged.discovered.extend(scenario.discovered);
                        merged.scenario(scenario.report);
                    } else if let Some(ended) = record.end {
                        end = Some(ended);
                    } else if record.run.is_none() {
                        journal.write(&record);
                    }
                }
                merged.duration_ms = merged
                    .duration_ms
                    .max(end.as_ref().map_or(0, |e| e.duration_ms));
                merged.settings(end.map(|e| e.settings));
            }
        }
    }
    let Merged {
        scenarios,
        discovered,
        audited,
        mut expired,
        unused_everywhere,
        duration_ms,
        ..
    } = merged;
    match unused_everywhere {
        Some(sources) => expired.unused.retain(|e| sources.contains(&e.source)),
        None => expired.unused.clear(),
    }
    let discovered: BTreeSet<String> = discovered
        .into_iter()
        .filter(|u| !audited.contains(u))
        .collect();
    for scenario in scenarios {
        journal.write(&Record {
            scenario: Some(ScenarioRecord {
                report: scenario,
                discovered: Vec::new(),
            }),
            ..Record::default()
        });
    }
    if !discovered.is_empty() {
        journal.write(&Record {
            scenario: Some(ScenarioRecord {
                report: ScenarioReport {
                    name: String::new(),
                    steps: Vec::new(),
                },
                discovered: discovered.into_iter().collect(),
            }),
            ..Record::default()
        });
    }
    journal.write(&Record {
        end: Some(RunEnd {
            duration_ms,
            settings: expired,
            stopped: None,
        }),
        ..Record::default()
    });
    drop(journal);
    let target = dir.join(journal::FILE_NAME);
    std::fs::rename(scratch.path().join(journal::FILE_NAME), &target)
        .map_err(|e| format!("{}: {e}", target.display()))?;
    Ok(MergedRun {
        journal: target,
        run_ids,
        missing,
    })
}

fn ensure(dir: &Path) -> Result<&Path, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// The run record a JSON report implies.
fn run_of_report(report: &Report) -> RunRecord {
    let mut scenarios: Vec<String> = Vec::new();
    for page in &report.pages {
        if !scenarios.contains(&page.scenario) {
            scenarios.push(page.scenario.clone());
        }
    }
    RunRecord {
        info: report.run.clone().unwrap_or(RunInfo {
            id: uuid::Uuid::new_v4().to_string(),
            suite: "merged".into(),
            shard: None,
        }),
        started_at: report.started_at.clone(),
        tool: report.tool.clone(),
        rules_version: crate::rules::rules_version(),
        scenarios,
        base_urls: Default::default(),
        rules_off: Default::default(),
    }
}
