//! The pages behind a trend's links: one run (its findings with their
//! states, what it fixed and did not check, its pages with verdicts), one
//! page over the runs, one finding's history.

use super::charts::strip_row;
use super::{day, link, percent, when, Links};
use crate::history::views::page::SpanView;
use crate::history::views::run::RunGone;
use crate::history::views::{FindingView, PageView, RunView};
use maud::{html, Markup};

/// A run's list heading: its count, or the part shown of its total with
/// links to the parts before and after (a live page's `?offset=`).
fn part_of(v: &RunView, title: &str, shown: usize, total: Option<usize>) -> Markup {
    let Some((cut, total)) = v.cut.zip(total) else {
        return html! { h2 { (title) " (" (shown) ")" } };
    };
    let first = cut.offset.min(total);
    html! {
        h2 { (title) " (" (total) ")" }
        @if shown < total {
            p.note {
                "Showing " (first + 1) "–" (first + shown) " of " (total) ". "
                @if cut.offset > 0 {
                    a href=(format!("?offset={}&limit={}", cut.offset.saturating_sub(cut.limit), cut.limit)) { "Previous " (cut.limit) }
                    " "
                }
                @if first + shown < total {
                    a href=(format!("?offset={}&limit={}", cut.offset + cut.limit, cut.limit)) { "Next " (cut.limit) }
                }
            }
        }
    }
}

/// A list of baseline findings gone from a run.
fn gone_list(title: &str, list: &[RunGone], links: &dyn Links) -> Markup {
    html! {
        @if !list.is_empty() {
            h2 { (title) " (" (list.len()) ")" }
            ul.gone-list {
                @for g in list {
                    li.gone-finding data-fp=(g.fp) {
                        span class={"sev-" (g.finding.severity)} { (g.finding.severity) } " "
                        (link(links.finding(&g.fp), html! { (g.finding.key.rule) " " (g.finding.key.attribute) }))
                        " on " span.path { (g.finding.key.path) } ": " span.msg { (g.finding.message) }
                    }
                }
            }
        }
    }
}

/// One run: counts, findings with states, fixed and not checked, pages.
pub(crate) fn run_page(v: &RunView, links: &dyn Links) -> Markup {
    let r = &v.run;
    html! {
        h1 { "Run " span.id { (r.id) } }
        p {
            (link(links.suite(&r.suite), html! { "Suite " (r.suite) }))
            ", branch " (r.branch.as_deref().unwrap_or("(none)"))
            @if let Some(l) = &r.label { ", label " (l) }
            ", " (when(r.started_at)) " to " (when(r.ended_at)) " UTC, tool " (r.tool) ", rules " (r.rules_version)
            @if !r.complete { " (incomplete)" }
            @if let Some(b) = &r.baseline_run { ", compared with " (link(links.run(b), html! { span.id { (b) } })) }
            "."
        }
        div.cards {
            div.card { small { "compliance" } b { (percent(v.compliance)) } small { (r.passed) " of " (r.pages) " pages" } }
            div.card { small { "errors" } b { (r.errors) } }
            div.card { small { "warnings" } b { (r.warnings) } }
            div.card { small { "accepted" } b { (r.accepted) } }
            div.card { small { "new / reopened" } b { (r.new) " / " (r.reopened) } }
            div.card { small { "fixed" } b { (r.fixed) } small { (r.not_checked) " not checked" } }
        }
        (part_of(v, "Findings", v.findings.len(), v.cut.map(|c| c.findings)))
        div.wrap {
            table.findings {
                thead { tr { th { "state" } th.num { "runs seen" } th { "severity" } th { "rule" } th { "page" } th { "message" } } }
                tbody {
                    @for f in &v.findings {
                        @let h = &f.finding.history;
                        tr.finding-row data-fp=(f.fp) {
                            td { span class={"state-" (h.state.word())} { (h.state.word()) }
                                @if h.state == crate::history::State::Open { " since " (day(h.first_seen_at)) } }
                            td.num { (h.runs_seen) }
                            td class={"sev-" (f.finding.severity)} { (f.finding.severity)
                                @if f.finding.accepted { " (accepted)" } @else if f.finding.accept_expired { " (accept expired)" } }
                            td { (link(links.finding(&f.fp), html! { (f.finding.key.rule) " " (f.finding.key.attribute) })) }
                            td.path { (f.finding.key.path) @if !f.finding.key.view.is_empty() { " → " (f.finding.key.view) } }
                            td.msg { (f.finding.message) }
                        }
                    }
                }
            }
        }
        (gone_list("Fixed", &v.fixed, links))
        (gone_list("Not checked", &v.not_checked, links))
        (part_of(v, "Pages", v.pages.len(), v.cut.map(|c| c.pages)))
        div.wrap {
            table.pages {
                thead { tr { th { "page" } th { "scenario" } th { "verdict" } th.num { "errors" } th.num { "warnings" } th.num { "accepted" } } }
                tbody {
                    @for p in &v.pages {
                        tr.page-row data-page=(p.id) {
                            td.path { (link(links.page(&r.suite, &p.id), html! { (p.page.path) }))
                                @if let Some(f) = p.page.final_path.as_deref().filter(|f| *f != p.page.path) { " → " (f) } }
                            td { (p.page.scenario) }
                            td class=(p.page.verdict) { (p.page.verdict) }
                            td.num { (p.page.errors) } td.num { (p.page.warnings) } td.num { (p.page.accepted) }
                        }
                    }
                }
            }
        }
    }
}

/// A table of finding spans.
fn spans_table(spans: &[SpanView], links: &dyn Links) -> Markup {
    html! {
        div.wrap {
            table.spans {
                thead { tr { th { "from" } th { "to" } th { "branch" } th { "came as" } th { "severity" } th { "message" } } }
                tbody {
                    @for s in spans {
                        tr.span-row {
                            td { @if let Some(r) = &s.first_run { (link(links.run(&r.id), html! { (when(r.started_at)) })) } @else { "(pruned or earlier)" } }
                            td { @if s.open { "still open" } @else if let Some(r) = &s.last_run { (link(links.run(&r.id), html! { (when(r.started_at)) })) } @else { "(outside the runs shown)" } }
                            td { (s.branch.as_deref().unwrap_or("(none)")) }
                            td { span class={"state-" (s.state.word())} { (s.state.word()) } }
                            td class={"sev-" (s.severity)} { (s.severity) @if s.accepted { " (accepted)" } }
                            td.msg { (s.message) }
                        }
                    }
                }
            }
        }
    }
}

/// One page: its verdict per run as a strip row with the numbers in a
/// table, and its findings' spans.
pub(crate) fn page_page(v: &PageView, links: &dyn Links) -> Markup {
    html! {
        h1 { "Page " span.path { (v.path) } }
        p { (link(links.suite(&v.suite), html! { "Suite " (v.suite) })) ", scenario " (v.scenario)
            ", branch " (v.branch.as_deref().unwrap_or("(none)")) ", the last " (v.runs.len()) " runs, oldest left." }
        figure {
            figcaption { "Verdict per run" }
            (strip_row(&v.cells))
            details {
                summary { "Verdict per run, as a table" }
                div.wrap { table.verdicts {
                    thead { tr { th { "run" } th { "started" } th { "verdict" } } }
                    tbody { @for (r, c) in v.runs.iter().zip(&v.cells) {
                        tr.verdict-row { td.id { (link(links.run(&r.id), html! { (r.id) })) } td { (when(r.started_at)) } td class=(c.word()) { (c.word()) } }
                    } }
                } }
            }
        }
        h2 { "Findings (" (v.findings.len()) ")" }
        @for f in &v.findings {
            h3.page-finding data-fp=(f.fp) { (link(links.finding(&f.fp), html! { (f.key.rule) " " (f.key.attribute) }))
                @if !f.key.view.is_empty() { " in view " span.path { (f.key.view) } } }
            (spans_table(&f.spans, links))
        }
    }
}

/// One finding's history: spans and state changes.
pub(crate) fn finding_page(v: &FindingView, links: &dyn Links) -> Markup {
    html! {
        h1 { "Finding " (v.key.rule) " " (v.key.attribute) }
        p {
            (link(links.suite(&v.suite), html! { "Suite " (v.suite) })) ", page "
            (link(links.page(&v.suite, &v.page), html! { span.path { (v.key.path) } }))
            ", scenario " (v.key.scenario) ", group " (v.group) ". "
            @if v.open { "Open" } @else { "Not open" } " in the latest run of its branch; seen in " (v.runs_seen) " runs"
            @if let Some(run) = &v.first_seen { ", first on " (day(run.started_at)) " (" (link(links.run(&run.id), html! { span.id { (run.id) } })) ")" }
            "."
        }
        h2 { "State changes" }
        div.wrap { table.events {
            thead { tr { th { "run" } th { "started" } th { "state" } } }
            tbody { @for e in &v.events {
                tr.event-row { td.id { (link(links.run(&e.run.id), html! { (e.run.id) })) } td { (when(e.run.started_at)) }
                    td { span class={"state-" (e.what)} { (e.what) } } }
            } }
        } }
        h2 { "Spans" }
        (spans_table(&v.spans, links))
    }
}
