//! JUnit XML (quick-junit): a test suite per scenario, a test case per page, a
//! failure for the page's error findings (each listed), warnings and accepted
//! findings (which never fail a test case) as system-out.
//! GitLab, Jenkins and GitHub test reporters read it.

use super::{Format, PageReport, Report};
use crate::rules::Severity;
use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
use std::time::Duration;

/// The JUnit XML report.
pub struct Junit;

fn finding_line(f: &crate::finding::Finding) -> String {
    match &f.accepted {
        Some(why) => format!("accepted {} {} — {why}", f.severity, f.one_line()),
        None => format!("{} {}", f.severity, f.one_line()),
    }
}

fn test_case(page: &PageReport) -> TestCase {
    let errors: Vec<_> = page
        .counted()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    let warnings: Vec<_> = page
        .counted()
        .filter(|f| f.severity == Severity::Warning)
        .chain(page.accepted())
        .collect();
    let status = if errors.is_empty() {
        TestCaseStatus::success()
    } else {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        let rules = crate::finding::distinct_rules(errors.iter().copied());
        status.set_message(format!(
            "{} error finding(s): {}",
            errors.len(),
            rules.join(", ")
        ));
        status.set_type(rules.join(","));
        status.set_description(
            errors
                .iter()
                .map(|f| finding_line(f))
                .collect::<Vec<_>>()
                .join("\n"),
        );
        status
    };
    let mut case = TestCase::new(page.url.clone(), status);
    case.set_classname(format!("insider-audit.{}", page.scenario));
    if let Some(ms) = page.load_ms {
        case.set_time(Duration::from_millis(ms));
    }
    if !warnings.is_empty() {
        case.set_system_out(
            warnings
                .iter()
                .map(|f| finding_line(f))
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
    case
}

impl Format for Junit {
    fn render(&self, report: &Report) -> Vec<u8> {
        let mut junit = quick_junit::Report::new("insider-audit");
        junit.set_time(Duration::from_millis(report.duration_ms));
        for scenario in report.scenario_names() {
            let mut suite = TestSuite::new(scenario);
            suite.add_test_cases(
                report
                    .pages
                    .iter()
                    .filter(|p| p.scenario == scenario)
                    .map(test_case),
            );
            junit.add_test_suite(suite);
        }
        junit
            .to_string()
            .expect("a JUnit report always serialises")
            .into_bytes()
    }
}
