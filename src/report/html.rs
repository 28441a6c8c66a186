//! One self-contained HTML file (no external requests): the summary, a table of
//! pages × rule groups that filters by scenario, rule, verdict and accepted
//! findings, and per page
//! the pushes in order with their evidence, the final `InsiderQueue.user`, and a
//! screenshot of a failing page. Built with maud, which escapes every string: what
//! the audited page pushed is shown as text, never run. Written page by page
//! (the table rows in one pass, the details in a second), each screenshot read
//! and inlined as its page is written.

use super::{unreadable, Format, Head, PageReport, Pages};
use crate::finding::Finding;
use crate::rules::{Group, Rule};
use crate::settings::AcceptEntry;
use crate::verdict::Verdict;
use base64::Engine as _;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use std::path::PathBuf;

/// The HTML report; screenshots are read from `base_dir` and embedded.
pub struct Html {
    /// Where the report's relative screenshot paths start.
    pub base_dir: PathBuf,
}

const STYLE: &str = r#"
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 1em 1.5em; color: #1d1d1f; }
h1 { font-size: 1.5em; margin: .2em 0 .6em; }
.cards { display: flex; gap: .8em; flex-wrap: wrap; margin-bottom: 1em; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: .5em 1em; min-width: 6em; }
.card b { display: block; font-size: 1.6em; }
.filters { display: flex; gap: 1em; margin: 1em 0; flex-wrap: wrap; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #eee; padding: .3em .5em; text-align: left; vertical-align: top; }
th { background: #f6f6f6; position: sticky; top: 0; }
td.pass { color: #137333; } td.warn { color: #a05a00; font-weight: 600; } td.fail { color: #b3261e; font-weight: 600; } td.na { color: #999; }
.fail-v { color: #b3261e; font-weight: 700; } .warn-v { color: #a05a00; font-weight: 700; } .pass-v { color: #137333; }
details { border: 1px solid #ddd; border-radius: 6px; margin: .6em 0; padding: .4em .8em; }
summary { cursor: pointer; }
.finding { margin: .3em 0; }
.sev-error { color: #b3261e; font-weight: 600; } .sev-warning { color: #a05a00; font-weight: 600; }
.finding.accepted, .finding.accepted span { color: #8a8a8a; } .finding.accepted .why { font-style: italic; }
pre { background: #f6f8fa; padding: .5em; overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
code { background: #f6f8fa; padding: 0 .2em; }
img.shot { max-width: 100%; border: 1px solid #ccc; }
.hidden { display: none; }
.age { font-size: .85em; padding: 0 .35em; border-radius: 3px; background: #eee; }
.age-new, .age-reopened { background: #fde7e4; color: #8c1d13; font-weight: 600; }
"#;

/// Filters rows and page details by the selects (the accepted one exists only
/// when a finding is accepted). Only reads the DOM.
const SCRIPT: &str = r#"
(function () {
  var scenario = document.getElementById('f-scenario');
  var rule = document.getElementById('f-rule');
  var verdict = document.getElementById('f-verdict');
  var accepted = document.getElementById('f-accepted');
  function apply() {
    var items = document.querySelectorAll('[data-scenario]');
    for (var i = 0; i < items.length; i++) {
      var el = items[i];
      var show = (!scenario.value || el.getAttribute('data-scenario') === scenario.value)
        && (!verdict.value || el.getAttribute('data-verdict') === verdict.value)
        && (!rule.value || (' ' + el.getAttribute('data-rules') + ' ').indexOf(' ' + rule.value + ' ') >= 0)
        && (!accepted || !accepted.value || el.getAttribute('data-accepted') === accepted.value);
      el.classList.toggle('hidden', !show);
    }
  }
  [scenario, rule, verdict, accepted].forEach(function (s) { if (s) s.addEventListener('change', apply); });
})();
"#;

fn rules_of(page: &PageReport) -> String {
    let mut ids = crate::finding::distinct_rules(&page.findings);
    ids.sort_unstable();
    ids.join(" ")
}

/// `yes`/`no`: whether the page has accepted findings, for the filter; `None`
/// when no page of the report has any (no filter is shown).
fn accepted_of(head: &Head, page: &PageReport) -> Option<&'static str> {
    (head.summary.accepted > 0).then(|| {
        if page.accepted().next().is_some() {
            "yes"
        } else {
            "no"
        }
    })
}

fn finding(f: &Finding) -> Markup {
    html! {
        div class=(if f.counts() { "finding" } else { "finding accepted" }) {
            @if !f.counts() { "accepted " }
            span class={ "sev-" (f.severity) } { (f.severity) } " "
            code { (f.rule) }
            @if let Some(attr) = &f.attribute { " " code { (attr) } }
            ": " (f.message)
            @if let Some(e) = &f.evidence { " — " code { (e.script) ":" (e.line) } }
            @if let Some(view) = &f.view { " (page view " code { (view) } ")" }
            @if let Some(why) = &f.accepted { " — " span class="why" { (why.to_string()) } }
            @if let Some(h) = &f.history { " " span class={ "age age-" (h.state.word()) } { (h.age()) } }
        }
    }
}

fn entry(e: &AcceptEntry) -> Markup {
    html! {
        li {
            code { (e.rule) }
            @if let Some(a) = &e.attribute { " " code { (a) } }
            @for g in &e.pages { " " code { (g.as_str()) } }
            @if let Some(s) = &e.scenario { " [" (s) "]" }
            ": " (e.reason)
            @if let Some(until) = e.until { " (until " (until.to_string()) ")" }
            " — " code { (e.source) }
        }
    }
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

impl Html {
    fn screenshot(&self, page: &PageReport) -> Option<String> {
        let bytes = std::fs::read(self.base_dir.join(page.screenshot.as_ref()?)).ok()?;
        Some(format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        ))
    }

    fn page_details(&self, index: usize, page: &PageReport, accepted: Option<&str>) -> Markup {
        html! {
            details id={ "page-" (index) } data-scenario=(page.scenario) data-verdict=(page.verdict().key()) data-rules=(rules_of(page)) data-accepted=[accepted] open[page.verdict() == Verdict::Fail] {
                summary {
                    span class={ (page.verdict().key()) "-v" } { (page.verdict().word()) } " " code { (page.url) } " — " (page.scenario)
                    @if page.logged_in { " (logged in)" }
                }
                p {
                    @if let Some(final_url) = &page.final_url { @if *final_url != page.url { "Ended on " code { (final_url) } ". " } }
                    @if let Some(status) = page.status { "HTTP " (status) ". " }
                    @if let Some(ms) = page.load_ms { "Load event after " (ms) " ms." }
                }
                @if !page.findings.is_empty() {
                    h4 { "Findings" }
                    @for f in page.counted() { (finding(f)) }
                    @for f in page.accepted() { (finding(f)) }
                }
                @if !page.notes.is_empty() {
                    h4 { "Notes" }
                    ul {
                        @for note in &page.notes {
                            li { (note.message) }
                        }
                    }
                }
                h4 { "Pushes, in execution order" }
                @if page.pushes.is_empty() { p { "None." } }
                @else {
                    ol {
                        @for push in &page.pushes {
                            li {
                                @if let Some(e) = &push.evidence { code { (e.script) ":" (e.line) } " at " (format!("{:.0}", push.t)) " ms" }
                                pre { (pretty(&push.value)) }
                            }
                        }
                    }
                }
                h4 { "window.InsiderQueue.user after settling" }
                pre { (pretty(&page.user)) }
                @if let Some(src) = self.screenshot(page) {
                    h4 { "Screenshot" }
                    img class="shot" alt={ "Screenshot of " (page.url) } src=(src);
                }
            }
        }
    }
}

impl Format for Html {
    fn write(
        &self,
        head: &Head,
        pages: &dyn Pages,
        out: &mut dyn std::io::Write,
    ) -> std::io::Result<()> {
        let s = &head.summary;
        let fired: Vec<Rule> = head.fired.iter().copied().collect();
        let top = html! {
            (DOCTYPE)
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "insider-audit report" }
                style { (PreEscaped(STYLE)) }
            }
        };
        let intro = html! {
            h1 { "insider-audit report" }
            p {
                "Started " (head.started_at) ", took " (head.duration_ms) " ms. " (head.tool.name) " " (head.tool.version) "."
                @if let Some(run) = &head.run {
                    " Run " code { (run.id) } " of suite " b { (run.suite) }
                    @if let Some(shard) = &run.shard { ", shard " (shard) }
                    "."
                }
            }
            div class="cards" {
                div class="card" { b { (s.pages) } "pages" }
                div class="card" { b { (s.passed) } "passed" }
                div class="card" { b { (s.failed) } "failed" }
                div class="card" { b { (s.errors) } "errors" }
                div class="card" { b { (s.warnings) } "warnings" }
                @if s.accepted > 0 { div class="card" { b { (s.accepted) } "accepted" } }
            }
            div class="filters" {
                label { "Scenario " select id="f-scenario" { option value="" { "all" } @for sc in &head.scenario_names { option value=(sc) { (sc) } } } }
                label { "Rule " select id="f-rule" { option value="" { "all" } @for r in &fired { option value=(r.id()) { (r.id()) } } } }
                label { "Verdict " select id="f-verdict" { option value="" { "all" } option value="fail" { "fail" } option value="warn" { "warn" } option value="pass" { "pass" } } }
                @if s.accepted > 0 {
                    label { "Accepted findings " select id="f-accepted" { option value="" { "all pages" } option value="yes" { "pages with accepted findings" } option value="no" { "pages without" } } }
                }
            }
        };
        let (doctype, head_markup) = top.0.split_at("<!DOCTYPE html>".len());
        write!(
            out,
            "{doctype}<html lang=\"en\">{head_markup}<body>{}",
            intro.0
        )?;
        let columns = html! { thead { tr { th { "page" } th { "scenario" } @for g in Group::ALL { th { (g.title()) } } th { "verdict" } } } };
        write!(out, "<table>{}<tbody>", columns.0)?;
        for (i, page) in pages.pass().enumerate() {
            let page = page.map_err(unreadable)?;
            let row = html! {
                tr data-scenario=(page.scenario) data-verdict=(page.verdict().key()) data-rules=(rules_of(&page)) data-accepted=[accepted_of(head, &page)] {
                    td { a href={ "#page-" (i) } { (page.label()) } }
                    td { (page.scenario) }
                    @for g in Group::ALL {
                        @let cell = page.cell(g);
                        td class=(cell.key()) { (cell.word()) }
                    }
                    td class={ (page.verdict().key()) "-v" } { (page.verdict().word()) }
                }
            };
            out.write_all(row.0.as_bytes())?;
        }
        out.write_all(b"</tbody></table><h2>Pages</h2>")?;
        for (i, page) in pages.pass().enumerate() {
            let page = page.map_err(unreadable)?;
            let details = self.page_details(i, &page, accepted_of(head, &page));
            out.write_all(details.0.as_bytes())?;
        }
        let end = html! {
            @if !head.settings.expired.is_empty() {
                h2 { "Expired accept entries" }
                p { "Their findings count again: fix them, or renew the entry with a new date." }
                ul { @for e in &head.settings.expired { (entry(e)) } }
            }
            @if !head.settings.unused.is_empty() {
                h2 { "Unused accept entries" }
                p { "They matched no finding in this run: remove them." }
                ul { @for e in &head.settings.unused { (entry(e)) } }
            }
            script { (PreEscaped(SCRIPT)) }
        };
        write!(out, "{}</body></html>", end.0)
    }
}
