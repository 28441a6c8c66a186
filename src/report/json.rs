//! The JSON report (README, "JSON report").

use super::{Format, Report};

/// Pretty-printed JSON, schema_version 1.
pub struct Json;

impl Format for Json {
    fn render(&self, report: &Report) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(report).expect("a report always serialises");
        bytes.push(b'\n');
        bytes
    }
}
