//! `merge`: one report from the reports or journals of several shards (or of
//! runs split any other way). Pages, skipped URLs and notes are joined in the
//! order the shards are given; an accept entry is unused only when it matched
//! nothing in every shard that reports its settings; `discovered` keeps the
//! links no shard audited.

use crate::journal;
use crate::report::{Report, Summary};
use std::collections::BTreeSet;
use std::path::Path;

/// Reads one shard: a JSON report, a journal (`pages.jsonl`), or a directory
/// holding either (`report.json` first).
pub(crate) fn load(path: &Path) -> Result<Report, String> {
    if path.is_dir() {
        let report = path.join("report.json");
        let journal = path.join(journal::FILE_NAME);
        return match (report.exists(), journal.exists()) {
            (true, _) => load(&report),
            (false, true) => load(&journal),
            _ => Err(format!(
                "{}: no report.json or {} in this directory",
                path.display(),
                journal::FILE_NAME
            )),
        };
    }
    if path.extension().is_some_and(|e| e == "jsonl") {
        return Ok(from_journal(journal::read(path)?));
    }
    crate::report::read_json_report(path)
        .map_err(|e| format!("{e}, journals (pages.jsonl) or their directories"))
}

/// A report rebuilt from a journal's records (no timing, no settings).
fn from_journal(records: Vec<journal::Record>) -> Report {
    let mut report = Report::new(&[], chrono::Utc::now(), 0);
    report.settings_known = false;
    for record in records {
        if let Some(page) = record.page {
            report.pages.push(*page);
        }
        report.skipped.extend(record.skipped);
        report.notes.extend(record.note);
    }
    report.summary = Summary::of(&report.pages);
    report
}

/// Joins shard reports into one.
pub(crate) fn merge(shards: Vec<Report>) -> Report {
    let mut shards = shards.into_iter();
    let Some(mut merged) = shards.next() else {
        return Report::new(&[], chrono::Utc::now(), 0);
    };
    let mut unused_everywhere: Option<BTreeSet<String>> = merged.settings_known.then(|| {
        merged
            .settings
            .unused
            .iter()
            .map(|e| e.source.clone())
            .collect()
    });
    for shard in shards {
        merged.started_at = merged.started_at.min(shard.started_at);
        merged.duration_ms = merged.duration_ms.max(shard.duration_ms);
        merged.pages.extend(shard.pages);
        merged.skipped.extend(shard.skipped);
        merged.notes.extend(shard.notes);
        merged.discovered.extend(shard.discovered);
        if merged.scenarios.is_empty() {
            merged.scenarios = shard.scenarios;
        }
        for entry in shard.settings.expired {
            if !merged
                .settings
                .expired
                .iter()
                .any(|e| e.source == entry.source)
            {
                merged.settings.expired.push(entry);
            }
        }
        if shard.settings_known {
            let here: BTreeSet<String> = shard
                .settings
                .unused
                .iter()
                .map(|e| e.source.clone())
                .collect();
            unused_everywhere = Some(match unused_everywhere {
                Some(before) => before.intersection(&here).cloned().collect(),
                None => {
                    merged.settings.unused = shard.settings.unused.clone();
                    here
                }
            });
        }
    }
    match unused_everywhere {
        Some(sources) => merged
            .settings
            .unused
            .retain(|e| sources.contains(&e.source)),
        None => merged.settings.unused.clear(),
    }
    merged.settings_known = true;
    let audited: BTreeSet<&str> = merged.pages.iter().map(|p| p.url.as_str()).collect();
    let discovered: BTreeSet<String> = merged
        .discovered
        .iter()
        .filter(|u| !audited.contains(u.as_str()))
        .cloned()
        .collect();
    merged.discovered = discovered.into_iter().collect();
    merged.summary = Summary::of(&merged.pages);
    merged
}
