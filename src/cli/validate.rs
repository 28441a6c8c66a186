//! `validate`: scenario files checked without starting a browser.

use super::plans::load_plans;
use crate::error::{ExitCode, Fatal};
use crate::settings::Ledger;
use std::path::PathBuf;

pub(super) fn validate(files: &[PathBuf]) -> Result<ExitCode, Fatal> {
    load_plans(files).map(|plans| {
        let mut ledger = Ledger::new(chrono::Utc::now().date_naive());
        for (_, scenario) in crate::pipeline::runs_of(&plans) {
            ledger.register(&scenario.settings);
        }
        for entry in ledger.report().expired {
            eprintln!(
                "note: this accept entry has expired, its findings count again: {}",
                entry.one_line()
            );
        }
        for plan in &plans {
            let steps: usize = plan
                .scenarios
                .iter()
                .map(|s| s.login.len() + s.steps.len())
                .sum();
            println!(
                "{}: ok ({} scenarios, {steps} steps, base_url {})",
                plan.file.display(),
                plan.scenarios.len(),
                plan.base_url
            );
        }
        ExitCode::Clean
    })
}
