//! JUnit XML: a test suite per scenario, a test case per page, a failure for
//! the page's error findings (each listed), warnings and accepted findings
//! (which never fail a test case) as system-out. GitLab, Jenkins and GitHub
//! test reporters read it.
//!
//! Written by hand, one test case at a time (a pass over the pages per
//! scenario), in the layout quick-junit writes: quick-junit builds the whole
//! document in memory before it writes, which a 20,000-page run must not.

use super::{unreadable, Format, Head, PageReport, Pages};
use crate::rules::Severity;
use std::io::Write;

/// The JUnit XML report.
pub struct Junit;

fn finding_line(f: &crate::finding::Finding) -> String {
    match &f.accepted {
        Some(why) => format!("accepted {} {} — {why}", f.severity, f.one_line()),
        None => format!("{} {}", f.severity, f.one_line()),
    }
}

/// XML text or attribute value.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Seconds as JUnit writes them.
fn seconds(ms: u64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}

fn test_case(page: &PageReport, out: &mut dyn Write) -> std::io::Result<()> {
    let errors: Vec<_> = page
        .counted()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    let warnings: Vec<_> = page
        .counted()
        .filter(|f| f.severity == Severity::Warning)
        .chain(page.accepted())
        .collect();
    write!(
        out,
        "        <testcase name=\"{}\" classname=\"insider-audit.{}\"",
        escape(&page.url),
        escape(&page.scenario)
    )?;
    if let Some(ms) = page.load_ms {
        write!(out, " time=\"{}\"", seconds(ms))?;
    }
    writeln!(out, ">")?;
    if !errors.is_empty() {
        let rules = crate::finding::distinct_rules(errors.iter().copied());
        let description: Vec<String> = errors.iter().map(|f| finding_line(f)).collect();
        writeln!(
            out,
            "            <failure message=\"{}\" type=\"{}\">{}</failure>",
            escape(&format!(
                "{} error finding(s): {}",
                errors.len(),
                rules.join(", ")
            )),
            escape(&rules.join(",")),
            escape(&description.join("\n"))
        )?;
    }
    if !warnings.is_empty() {
        let lines: Vec<String> = warnings.iter().map(|f| finding_line(f)).collect();
        writeln!(
            out,
            "            <system-out>{}</system-out>",
            escape(&lines.join("\n"))
        )?;
    }
    writeln!(out, "        </testcase>")
}

impl Format for Junit {
    fn write(&self, head: &Head, pages: &dyn Pages, out: &mut dyn Write) -> std::io::Result<()> {
        let s = &head.summary;
        writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
        writeln!(
            out,
            "<testsuites name=\"insider-audit\" tests=\"{}\" failures=\"{}\" errors=\"0\" time=\"{}\">",
            s.pages,
            s.failed,
            seconds(head.duration_ms)
        )?;
        for scenario in &head.scenario_names {
            let counts = head.by_scenario.get(scenario).cloned().unwrap_or_default();
            writeln!(
                out,
                "    <testsuite name=\"{}\" tests=\"{}\" disabled=\"0\" errors=\"0\" failures=\"{}\">",
                escape(scenario),
                counts.pages,
                counts.failed
            )?;
            if let Some(run) = &head.run {
                writeln!(out, "        <properties>")?;
                let shard = run.shard.as_deref().unwrap_or("");
                for (name, value) in [
                    ("run", &run.id[..]),
                    ("suite", &run.suite[..]),
                    ("shard", shard),
                ] {
                    if !value.is_empty() {
                        writeln!(
                            out,
                            "            <property name=\"insider-audit.{name}\" value=\"{}\"/>",
                            escape(value)
                        )?;
                    }
                }
                writeln!(out, "        </properties>")?;
            }
            for page in pages.pass() {
                let page = page.map_err(unreadable)?;
                if &page.scenario == scenario {
                    test_case(&page, out)?;
                }
            }
            writeln!(out, "    </testsuite>")?;
        }
        writeln!(out, "</testsuites>")
    }
}
