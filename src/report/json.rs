//! The JSON report (README, "JSON report"), written page by page: the pages
//! array is serialised from a pass over [`Pages`], never held whole.

use super::{Format, Head, PageReport, Pages, RunInfo, ScenarioReport, Skipped, Summary, Tool};
use crate::settings::SettingsReport;
use serde::ser::{Error as _, SerializeSeq};
use serde::{Serialize, Serializer};
use std::cell::RefCell;

/// Pretty-printed JSON, schema_version 1.
pub struct Json;

/// The report in the field order of schema_version 1.
#[derive(Serialize)]
struct Streamed<'a> {
    schema_version: u32,
    tool: &'a Tool,
    #[serde(skip_serializing_if = "Option::is_none")]
    run: &'a Option<RunInfo>,
    started_at: &'a str,
    duration_ms: u64,
    summary: &'a Summary,
    pages: PageArray<'a>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    scenarios: &'a [ScenarioReport],
    settings: &'a SettingsReport,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    skipped: &'a [Skipped],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    notes: &'a [crate::finding::Note],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    discovered: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    history: &'a Option<super::RunHistory>,
}

/// The pages, serialised as they are read.
struct PageArray<'a>(RefCell<Box<dyn Iterator<Item = Result<PageReport, String>> + 'a>>);

impl Serialize for PageArray<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        for page in self.0.borrow_mut().by_ref() {
            seq.serialize_element(&page.map_err(S::Error::custom)?)?;
        }
        seq.end()
    }
}

impl Format for Json {
    fn write(
        &self,
        head: &Head,
        pages: &dyn Pages,
        out: &mut dyn std::io::Write,
    ) -> std::io::Result<()> {
        let report = Streamed {
            schema_version: 1,
            tool: &head.tool,
            run: &head.run,
            started_at: &head.started_at,
            duration_ms: head.duration_ms,
            summary: &head.summary,
            pages: PageArray(RefCell::new(pages.pass())),
            scenarios: &head.scenarios,
            settings: &head.settings,
            skipped: &head.skipped,
            notes: &head.notes,
            discovered: &head.discovered,
            history: &head.history,
        };
        serde_json::to_writer_pretty(&mut *out, &report).map_err(std::io::Error::other)?;
        out.write_all(b"\n")
    }
}
