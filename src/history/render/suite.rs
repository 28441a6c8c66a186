//! The suites index and one suite's trend page. What a reader sees first is
//! the answer to "did the site get better": the latest compliance and its
//! change, the errors, what came and went this week and how many findings
//! are open; then the charts and the strip; then the open findings, oldest
//! first; then each recent run's new and fixed findings; the numbers behind
//! every chart close the page.

use super::charts::{legend, line_chart, short, stacked_bars, strip_row, version_note, ChartText};
use super::{anchor, day, link, percent, signed, when, Links};
use crate::history::views::trend::{Change, RunPoint, SuiteTrend};
use crate::history::views::{Cell, SuiteSummary};
use maud::{html, Markup};

/// The suites of a store, one row each (`tr.suite-row`).
pub(crate) fn suites_page(suites: &[SuiteSummary], links: &dyn Links) -> Markup {
    html! {
        h1 { "History of scheduled audits" }
        @if suites.is_empty() {
            p { "No runs recorded yet." }
        } @else {
            div.wrap {
                table.suites {
                    thead { tr {
                        th { "suite" } th.num { "runs" } th { "latest run" } th { "started" } th { "branch" }
                        th { "label" } th.num { "compliance" } th.num { "errors" } th.num { "warnings" }
                        th.num { "new" } th.num { "fixed" }
                    } }
                    tbody {
                        @for s in suites {
                            tr.suite-row {
                                td { (link(links.suite(&s.name), html! { (s.name) })) }
                                td.num { (s.runs) }
                                td.id { (link(links.run(&s.latest.id), html! { (s.latest.id) })) }
                                td { (when(s.latest.started_at)) }
                                td { (s.latest.branch.as_deref().unwrap_or("–")) }
                                td { (s.latest.label.as_deref().unwrap_or("")) }
                                td.num { (percent(s.compliance)) }
                                td.num { (s.latest.errors) }
                                td.num { (s.latest.warnings) }
                                td.num { (s.latest.new + s.latest.reopened) }
                                td.num { (s.latest.fixed) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Whether the latest run is `better`, `worse` or the `same` as the one
/// before: compliance first (to a tenth of a point), then errors, then warnings.
fn verdict_of(latest: &RunPoint, previous: &RunPoint) -> &'static str {
    let points = |r: &RunPoint| (r.compliance.unwrap_or(0.0) * 1000.0).round() as i64;
    let key = |r: &RunPoint| (points(r), -r.errors, -r.warnings);
    match key(latest).cmp(&key(previous)) {
        std::cmp::Ordering::Greater => "better",
        std::cmp::Ordering::Less => "worse",
        std::cmp::Ordering::Equal => "same",
    }
}

/// The top of a suite's page: the headline and the cards.
fn summary(t: &SuiteTrend) -> Markup {
    let Some(latest) = t.runs.last() else {
        return html! { p { "No runs on this branch." } };
    };
    let previous = t.runs.len().checked_sub(2).map(|i| &t.runs[i]);
    let week: Vec<&RunPoint> = t
        .runs
        .iter()
        .filter(|r| r.started_at > latest.started_at - chrono::Duration::days(7))
        .collect();
    let came: i64 = week.iter().map(|r| r.new + r.reopened).sum();
    let fixed: i64 = week.iter().map(|r| r.fixed).sum();
    let change = previous.and_then(|p| Some((latest.compliance? - p.compliance?) * 100.0));
    html! {
        p.headline {
            @match previous.map(|p| verdict_of(latest, p)) {
                Some("better") => { span.better { "Better" } " than the run before: " }
                Some("worse") => { span.worse { "Worse" } " than the run before: " }
                Some(_) => { span.same { "No change" } " from the run before: " }
                None => { "First run: " }
            }
            (percent(latest.compliance)) " of " (latest.pages) " audited pages without an error"
            @if let Some(c) = change { " (" (format!("{c:+.1}")) " points)" }
            "; " (came) " new or reopened and " (fixed) " fixed in the last 7 days."
        }
        div.cards {
            div.card { small { "compliance" } b { (percent(latest.compliance)) }
                small { @if let Some(c) = change { (format!("{c:+.1}")) " pts since previous" } @else { "–" } } }
            div.card { small { "errors" } b { (latest.errors) }
                small { @if let Some(p) = previous { (signed(latest.errors - p.errors)) " since previous" } } }
            div.card { small { "warnings" } b { (latest.warnings) }
                small { @if let Some(p) = previous { (signed(latest.warnings - p.warnings)) " since previous" } } }
            div.card { small { "new or reopened, 7 days" } b { (came) } small { (week.len()) " runs" } }
            div.card { small { "fixed, 7 days" } b { (fixed) } small { (week.len()) " runs" } }
            div.card { small { "open findings" } b { (t.open.total) }
                small { @if let Some(o) = t.open.oldest.first() { "oldest since " (day(o.first_seen_at)) } } }
            div.card { small { "accepted" } b { (latest.accepted) } small { "not counted as fixed" } }
        }
    }
}

/// One suite's trend (its section of a `trend` file, or a `serve` page).
pub(crate) fn suite_page(t: &SuiteTrend, links: &dyn Links) -> Markup {
    let id = anchor("suite", &t.suite);
    let runs = &t.runs;
    let n = runs.len();
    let compliance: Vec<Option<f64>> = runs
        .iter()
        .map(|r| r.compliance.map(|c| c * 100.0))
        .collect();
    let accepted: Vec<Option<f64>> = runs.iter().map(|r| Some(r.accepted as f64)).collect();
    let range = match (runs.first(), runs.last()) {
        (Some(a), Some(b)) => format!(
            "{} runs from {} to {}",
            n,
            day(a.started_at),
            day(b.started_at)
        ),
        _ => "no runs".to_string(),
    };
    let latest = runs.last();
    let text = |name: &str, title: &str, what: &str, latest: Option<String>| ChartText {
        id: format!("{id}-{name}"),
        title: title.to_string(),
        desc: format!(
            "{what} over {range}; latest {}.",
            latest.unwrap_or_else(|| "–".into())
        ),
    };
    html! {
        section.suite id=(id) {
            h1 { "Suite " (t.suite) }
            p.note {
                "Branch " (t.branch.as_deref().unwrap_or("(none)"))
                @if t.branches.len() > 1 { " of " (t.branches.len()) " branches" }
                "; " (range) " shown of " (t.runs_total) " recorded. All times UTC."
            }
            (summary(t))
            h2 { "Over time" }
            div.charts {
            figure {
                figcaption { "Compliance: share of audited pages with no error" }
                (line_chart(&text("compliance", "Compliance over time", "Share of audited pages with no error", latest.map(|r| percent(r.compliance))),
                    runs, &compliance, Some(100.0), "compliance", &|v| format!("{v:.0}%")))
                p.note { "Dashed purple lines: labelled runs. Orange marks at the foot: a tool or rules version change." }
            }
            figure {
                figcaption { "Errors per run by rule group" }
                (stacked_bars(&text("errors", "Errors per run by rule group", "Errors that count, stacked by rule group,", latest.map(|r| r.errors.to_string())),
                    runs, &|r| r.groups.iter().map(|g| g.errors).collect()))
                (legend(&t.groups))
            }
            figure {
                figcaption { "Warnings per run by rule group" }
                (stacked_bars(&text("warnings", "Warnings per run by rule group", "Warnings that count, stacked by rule group,", latest.map(|r| r.warnings.to_string())),
                    runs, &|r| r.groups.iter().map(|g| g.warnings).collect()))
            }
            figure {
                figcaption { "Accepted findings per run (accepting is not fixing)" }
                (line_chart(&text("accepted", "Accepted findings over time", "Accepted findings", latest.map(|r| r.accepted.to_string())),
                    runs, &accepted, None, "accepted", &|v| format!("{v:.0}")))
            }
            }
            (strip(t, links))
            (open_findings(t, links))
            (changes(t, links))
            h2 { "The numbers" }
            (runs_table(t, links))
            (groups_table(t))
        }
    }
}

/// The pages × runs strip with each row's counts.
fn strip(t: &SuiteTrend, links: &dyn Links) -> Markup {
    let s = &t.strip;
    let (from, to) = (s.offset + 1, s.offset + s.rows.len());
    html! {
        h2 { "Pages × runs" }
        p.note {
            "Each page's verdict in the last " (s.runs.len()) " runs"
            @if let (Some(a), Some(b)) = (s.runs.first(), s.runs.last()) { " (" (day(a.started_at)) " to " (day(b.started_at)) ")" }
            ", oldest left; pages " (from) "–" (to) " of " (s.pages_total) " audited in them, worst first (most failing runs, then most warning runs). Pages no longer crawled are kept."
        }
        ul.legend { @for c in [Cell::Pass, Cell::Warn, Cell::Fail, Cell::NotAudited] { li { span class={"swatch " (c.word())} {} (c.word()) } } }
        div.wrap {
            table.strip {
                thead { tr { th { "page" } th { "runs" } th.num { "fail" } th.num { "warn" } th.num { "pass" } th.num { "not audited" } } }
                tbody {
                    @for row in &s.rows {
                        @let count = |v: Cell| row.cells.iter().filter(|&&c| c == v).count();
                        tr.strip-row id=(anchor("page", &row.page)) data-page=(row.page) {
                            td.path {
                                (link(links.page(&t.suite, &row.page), html! { (row.path) }))
                                " " small.note { (row.scenario) }
                                @if !row.crawled { " " span.gone { "no longer crawled" } }
                            }
                            td.strip-cells { (strip_row(&row.cells)) }
                            td.num { (count(Cell::Fail)) } td.num { (count(Cell::Warn)) }
                            td.num { (count(Cell::Pass)) } td.num { (count(Cell::NotAudited)) }
                        }
                    }
                }
            }
        }
    }
}

/// The open findings, oldest first.
fn open_findings(t: &SuiteTrend, links: &dyn Links) -> Markup {
    let o = &t.open;
    html! {
        h2 { "Open findings, oldest first" }
        p.note { (o.total) " open in the latest run" @if (o.oldest.len() as i64) < o.total { "; the oldest " (o.oldest.len()) " shown" } "." }
        div.wrap {
            table.open {
                thead { tr { th { "open since" } th.num { "runs seen" } th { "severity" } th { "rule" } th { "page" } th { "message" } } }
                tbody {
                    @for f in &o.oldest {
                        tr.open-finding data-fp=(f.fp) {
                            td { (day(f.first_seen_at)) }
                            td.num { (f.runs_seen) }
                            td class={"sev-" (f.severity)} { (f.severity) @if f.accepted { " (accepted)" } }
                            td { (link(links.finding(&f.fp), html! { (f.key.rule) @if !f.key.attribute.is_empty() { " " (f.key.attribute) } })) }
                            td.path { (link(links.page(&t.suite, &f.page), html! { (f.key.path) })) " " small.note { (f.key.scenario) } }
                            td.msg { (f.message) }
                        }
                    }
                }
            }
        }
    }
}

/// A list item of a finding that came or went.
fn change(c: &Change, links: &dyn Links) -> Markup {
    html! {
        li.change data-fp=(c.fp) {
            @if let Some(s) = c.state { span class={"state-" (s.word())} { (s.word()) } " " }
            span class={"sev-" (c.severity)} { (c.severity) } " "
            (link(links.finding(&c.fp), html! { (c.key.rule) @if !c.key.attribute.is_empty() { " " (c.key.attribute) } }))
            " on " span.path { (c.key.path) } ": " span.msg { (short(&c.message, 200)) }
        }
    }
}

/// What each of the latest runs found new and fixed.
fn changes(t: &SuiteTrend, links: &dyn Links) -> Markup {
    html! {
        h2 { "What each run changed" }
        @for c in &t.changes {
            div.run-changes data-run=(c.run.id) {
                h3 { (link(links.run(&c.run.id), html! { (when(c.run.started_at)) })) " " span.id { (c.run.id) }
                    @if let Some(l) = &c.run.label { " — " (l) } }
                p { (c.new_total) " new or reopened, " (c.fixed_total) " fixed." }
                @if !c.new.is_empty() {
                    ul.came { @for x in &c.new { (change(x, links)) } }
                    @if (c.new.len() as i64) < c.new_total { p.note { "and " (c.new_total - c.new.len() as i64) " more" } }
                }
                @if !c.fixed.is_empty() {
                    ul.went { @for x in &c.fixed { (change(x, links)) } }
                    @if (c.fixed.len() as i64) < c.fixed_total { p.note { "and " (c.fixed_total - c.fixed.len() as i64) " more fixed" } }
                }
            }
        }
    }
}

/// The numbers of the compliance and accepted charts, one row per run
/// (`tr.run-row`, the target of a file's run links).
fn runs_table(t: &SuiteTrend, links: &dyn Links) -> Markup {
    html! {
        details open[t.runs.len() <= 20] {
            summary { "Runs: compliance, counts and versions (" (t.runs.len()) ")" }
            div.wrap {
                table.runs {
                    thead { tr {
                        th { "run" } th { "started" } th { "label" } th { "versions" } th.num { "pages" } th.num { "passed" }
                        th.num { "compliance" } th.num { "errors" } th.num { "warnings" } th.num { "accepted" }
                        th.num { "new" } th.num { "reopened" } th.num { "fixed" } th.num { "not checked" }
                    } }
                    tbody {
                        @for r in &t.runs {
                            tr.run-row id=(anchor("run", &r.id)) data-run=(r.id) {
                                td.id { (link(links.run(&r.id), html! { (r.id) })) @if !r.complete { " (incomplete)" } }
                                td { (when(r.started_at)) }
                                td { (r.label.as_deref().unwrap_or("")) }
                                td.id { @if r.tool_changed || r.rules_changed { strong { (version_note(r)) } } @else { (r.tool) } }
                                td.num { (r.pages) } td.num { (r.passed) } td.num { (percent(r.compliance)) }
                                td.num { (r.errors) } td.num { (r.warnings) } td.num { (r.accepted) }
                                td.num { (r.new) } td.num { (r.reopened) } td.num { (r.fixed) } td.num { (r.not_checked) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The numbers of the per-group charts: errors / warnings / accepted.
fn groups_table(t: &SuiteTrend) -> Markup {
    html! {
        details {
            summary { "Errors / warnings / accepted per rule group" }
            div.wrap {
                table.groups {
                    thead { tr { th { "run" } @for g in &t.groups { th.num { (g) } } } }
                    tbody {
                        @for r in &t.runs {
                            tr.group-row { td.id { (r.id) }
                                @for g in &r.groups { td.num { (g.errors) " / " (g.warnings) " / " (g.accepted) } } }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(compliance: f64, errors: i64, warnings: i64) -> RunPoint {
        RunPoint {
            id: "r".into(),
            started_at: chrono::DateTime::default(),
            label: None,
            tool: "t".into(),
            rules_version: "v".into(),
            tool_changed: false,
            rules_changed: false,
            complete: true,
            pages: 10,
            passed: 0,
            compliance: Some(compliance),
            errors,
            warnings,
            accepted: 0,
            groups: Vec::new(),
            new: 0,
            reopened: 0,
            fixed: 0,
            not_checked: 0,
        }
    }

    #[test]
    fn better_is_compliance_first_then_fewer_errors_then_fewer_warnings() {
        assert_eq!(verdict_of(&run(0.6, 9, 9), &run(0.5, 1, 1)), "better");
        assert_eq!(verdict_of(&run(0.5, 9, 0), &run(0.6, 1, 1)), "worse");
        assert_eq!(verdict_of(&run(0.5, 2, 9), &run(0.5, 3, 0)), "better");
        assert_eq!(verdict_of(&run(0.5, 2, 4), &run(0.5, 2, 3)), "worse");
        assert_eq!(verdict_of(&run(0.5, 2, 3), &run(0.5, 2, 3)), "same");
    }
}
