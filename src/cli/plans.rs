//! What a command audits: scenario files loaded and validated, `--urls`
//! added, `--scenario` selected, or `check`'s page list and settings.

use super::options::Common;
use crate::checks::PageContext;
use crate::error::Fatal;
use crate::rules::Rule;
use crate::scenario::{self, Plan};
use crate::settings::{Level, Settings};
use std::path::PathBuf;
use url::Url;

/// Loads and validates every scenario file; all errors are reported, none is
/// run. Every secret value of the plans is registered for redaction.
pub(super) fn load_plans(files: &[PathBuf]) -> Result<Vec<Plan>, Fatal> {
    let mut plans = Vec::new();
    let mut errors = Vec::new();
    for file in files {
        match scenario::load(file) {
            Ok(plan) => {
                plan.register_secrets();
                plans.push(plan)
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() {
        Ok(plans)
    } else {
        Err(Fatal::Usage(errors.join("\nerror: ")))
    }
}

/// Adds the pages of `--urls` to every crawl's known page list.
pub(super) fn with_url_list(mut plans: Vec<Plan>, common: &Common) -> Result<Vec<Plan>, Fatal> {
    let Some(file) = &common.url_list else {
        return Ok(plans);
    };
    for plan in &mut plans {
        let urls =
            read_url_list(file, &plan.base_url).map_err(|e| Fatal::Usage(format!("--urls {e}")))?;
        for scenario in &mut plan.scenarios {
            if let Some(crawl) = &mut scenario.crawl {
                crawl.start.extend(urls.iter().map(url::Url::to_string));
            }
        }
    }
    Ok(plans)
}

/// Keeps the scenarios named by --scenario (all when none is named).
pub(super) fn select_scenarios(mut plans: Vec<Plan>, names: &[String]) -> Result<Vec<Plan>, Fatal> {
    if names.is_empty() {
        return Ok(plans);
    }
    for plan in &mut plans {
        plan.scenarios.retain(|s| names.contains(&s.name));
    }
    if plans.iter().all(|p| p.scenarios.is_empty()) {
        return Err(Fatal::Usage(format!(
            "no scenario is named {}: check --scenario against the files' names",
            names.join(" or ")
        )));
    }
    Ok(plans)
}

/// What to audit.
pub(super) enum Work {
    /// Single pages (`check`), judged with one context and one set of settings.
    Pages(Vec<url::Url>, PageContext, Settings),
    /// Scenario journeys (`run`, `demo`).
    Plans(Vec<Plan>),
}

/// The settings of `check`: the --settings file, then --rule levels over it.
pub(super) fn check_settings(
    file: Option<&std::path::Path>,
    rules: Vec<(Rule, Level)>,
) -> Result<Settings, Fatal> {
    let settings = match file {
        Some(file) => {
            scenario::load_settings(file).map_err(|e| Fatal::Usage(format!("--settings {e}")))?
        }
        None => Settings::default(),
    };
    Ok(settings.with_levels(rules))
}

/// Validates the URLs of `check` into targets.
pub(super) fn check_targets(urls: &[String]) -> Result<Vec<url::Url>, Fatal> {
    urls.iter()
        .enumerate()
        .map(|(i, raw)| {
            let parsed = url::Url::parse(raw).map_err(|e| {
                Fatal::Usage(format!("URL #{} {raw:?} is not a URL ({e}): give a full address such as https://shop.example/", i + 1))
            })?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(Fatal::Usage(format!(
                    "URL #{} {raw:?} is not http(s): insider-audit audits web pages",
                    i + 1
                )));
            }
            Ok(parsed)
        })
        .collect()
}

/// The URLs of `--urls FILE`: one per line (blank lines and `#` comments
/// skipped, paths resolved against `base`), or the pages of a JSON report or a
/// journal (`pages.jsonl`) of an earlier run.
pub(super) fn read_url_list(path: &std::path::Path, base: &Url) -> Result<Vec<Url>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let trimmed = text.trim_start();
    let raw: Vec<(usize, String)> = if ["{\"run\"", "{\"page\"", "{\"skipped\"", "{\"note\""]
        .iter()
        .any(|start| trimmed.starts_with(start))
    {
        let mut urls = Vec::new();
        for entry in crate::journal::Reader::open(path)? {
            if let Some(page) = entry?.1.page {
                urls.push(page.url);
            }
        }
        urls.into_iter().enumerate().collect()
    } else if trimmed.starts_with('{') {
        let report = crate::report::read_json_report(path)?;
        report
            .pages
            .into_iter()
            .map(|p| p.url)
            .enumerate()
            .collect()
    } else {
        text.lines()
            .enumerate()
            .map(|(i, l)| (i, l.trim().to_string()))
            .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
            .collect()
    };
    raw.into_iter()
        .map(|(i, line)| {
            base.join(&line).map_err(|e| {
                format!(
                    "{}:{}: {line:?} is not a URL or a path ({e}): one URL per line",
                    path.display(),
                    i + 1
                )
            })
        })
        .collect()
}
