//! The trend views as HTML (maud, the house style of `report::html`): one
//! function per view returning [`Markup`], a [`document`] wrapper with the
//! inline style, and [`Links`], which says where a suite, run, page or
//! finding lives, so the same renderers make the one-file `history trend`
//! (in-page anchors, [`FileLinks`]) and the live `history serve` pages
//! ([`ServeLinks`]).
//!
//! Nothing is loaded from the network and no script is needed: charts are
//! inline SVG drawn here ([`charts`]), each with a `<title>`, a `<desc>` and
//! its numbers in a table. maud escapes every string; page-controlled text
//! (paths, messages, labels, suite names) only ever goes through it.

pub(crate) mod charts;
pub(crate) mod detail;
pub(crate) mod suite;
#[cfg(test)]
mod tests;

#[allow(unused_imports)] // for `history serve`, as `detail` above
pub(crate) use detail::{finding_page, page_page, run_page};
pub(crate) use suite::{suite_page, suites_page};

use chrono::{DateTime, Utc};
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// Where the pages link a suite, a run, a page or a finding; `None` when
/// the output has no place for it (the text is shown without a link).
pub(crate) trait Links {
    /// A suite's trend.
    fn suite(&self, suite: &str) -> Option<String>;
    /// A run.
    fn run(&self, run: &str) -> Option<String>;
    /// A page of a suite (its hex id).
    fn page(&self, suite: &str, page: &str) -> Option<String>;
    /// A finding's history (its hex id).
    fn finding(&self, fp: &str) -> Option<String>;
}

/// A text as one URL path segment or fragment (`/`, `#`, `?`, spaces and
/// everything else outside the unreserved set percent-encoded).
pub(crate) fn segment(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// Links within one `history trend` file: a suite to its section, a run to
/// its row in its suite's runs table, each only when the file has it (a
/// suite without runs on the branch shown, a run outside the window, have
/// none). A page or a finding has no place of its own in the file (a page's
/// strip row exists only for the worst pages), so they are not links there.
#[derive(Debug, Clone, Default)]
pub(crate) struct FileLinks {
    /// The suites with a section.
    suites: std::collections::HashSet<String>,
    /// The runs with a row.
    runs: std::collections::HashSet<String>,
}

impl FileLinks {
    /// The links of a file holding the sections of `trends`.
    pub(crate) fn of(trends: &[crate::history::views::SuiteTrend]) -> FileLinks {
        FileLinks {
            suites: trends.iter().map(|t| t.suite.clone()).collect(),
            runs: trends
                .iter()
                .flat_map(|t| t.runs.iter().map(|r| r.id.clone()))
                .collect(),
        }
    }
}

impl Links for FileLinks {
    fn suite(&self, suite: &str) -> Option<String> {
        self.suites
            .contains(suite)
            .then(|| format!("#{}", anchor("suite", suite)))
    }
    fn run(&self, run: &str) -> Option<String> {
        self.runs
            .contains(run)
            .then(|| format!("#{}", anchor("run", run)))
    }
    fn page(&self, _suite: &str, _page: &str) -> Option<String> {
        None
    }
    fn finding(&self, _fp: &str) -> Option<String> {
        None
    }
}

/// Links of the live server: `/suites/{suite}`, `/runs/{id}`,
/// `/suites/{suite}/pages/{id}`, `/findings/{id}`, each name percent-encoded.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ServeLinks;

impl Links for ServeLinks {
    fn suite(&self, suite: &str) -> Option<String> {
        Some(format!("/suites/{}", segment(suite)))
    }
    fn run(&self, run: &str) -> Option<String> {
        Some(format!("/runs/{}", segment(run)))
    }
    fn page(&self, suite: &str, page: &str) -> Option<String> {
        Some(format!(
            "/suites/{}/pages/{}",
            segment(suite),
            segment(page)
        ))
    }
    fn finding(&self, fp: &str) -> Option<String> {
        Some(format!("/findings/{}", segment(fp)))
    }
}

/// The `id` of an element a [`FileLinks`] href points at.
pub(crate) fn anchor(kind: &str, name: &str) -> String {
    format!("{kind}-{}", segment(name))
}

/// `content` as a link to `href`, or as it is without one.
pub(crate) fn link(href: Option<String>, content: Markup) -> Markup {
    html! {
        @if let Some(href) = href { a href=(href) { (content) } } @else { (content) }
    }
}

/// A share as a percentage with one decimal; a dash for none.
pub(crate) fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "–".to_string(), |s| format!("{:.1}%", s * 100.0))
}

/// A time as the pages show it (UTC).
pub(crate) fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

/// A date as the pages show it (UTC).
pub(crate) fn day(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

/// `n` with a sign (`+3`, `-1`, `0`).
pub(crate) fn signed(n: i64) -> String {
    if n > 0 {
        format!("+{n}")
    } else {
        n.to_string()
    }
}

const STYLE: &str = r#"
*, *::before, *::after { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 1em; color: #1d1d1f; overflow-wrap: break-word; }
h1, h2, h3, .headline, .note { overflow-wrap: anywhere; }
h1 { font-size: 1.5em; margin: .2em 0 .4em; } h2 { font-size: 1.2em; margin: 1.4em 0 .4em; border-bottom: 1px solid #ddd; }
h3 { font-size: 1em; margin: 1em 0 .3em; }
a { color: #0b57d0; }
.headline { font-size: 1.15em; margin: .2em 0 .8em; }
.better { color: #137333; font-weight: 600; } .worse { color: #b3261e; font-weight: 600; } .same { color: #555; font-weight: 600; }
.cards { display: flex; gap: .6em; flex-wrap: wrap; margin-bottom: 1em; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: .4em .8em; min-width: 8em; flex: 1 1 8em; }
.card b { display: block; font-size: 1.5em; } .card small { color: #555; }
.wrap { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #eee; padding: .25em .45em; text-align: left; vertical-align: top; }
th { background: #f6f6f6; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.path, .msg, .id { overflow-wrap: anywhere; word-break: break-word; }
.path { min-width: 10em; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 460px), 1fr)); gap: .5em 1.5em; }
figure { margin: .6em 0 1em; min-width: 0; }
figcaption { font-weight: 600; margin-bottom: .2em; }
svg.chart { width: 100%; min-width: 400px; height: auto; display: block; }
svg.chart text { font: 12px system-ui, sans-serif; fill: #444; }
.axis { stroke: #bbb; stroke-width: 1; } .grid { stroke: #eee; stroke-width: 1; }
.line { fill: none; stroke: #0b57d0; stroke-width: 2; } .line.accepted { stroke: #777; stroke-dasharray: 4 3; }
.point { fill: #0b57d0; } .point.accepted { fill: #777; }
.label-mark { stroke: #8e24aa; stroke-dasharray: 3 3; } .version-mark { stroke: #ef6c00; stroke-width: 2; }
.legend { display: flex; flex-wrap: wrap; gap: .3em 1em; font-size: .9em; margin: .3em 0; padding: 0; list-style: none; }
.swatch { display: inline-block; width: .9em; height: .9em; margin-right: .3em; vertical-align: -.1em; border-radius: 2px; }
.pass { fill: #2e7d32; background: #2e7d32; } .warn { fill: #f9a825; background: #f9a825; }
.fail { fill: #c62828; background: #c62828; } .not-audited { fill: #e3e3e3; background: #e3e3e3; }
td.strip-cells { min-width: 9em; width: 55%; }
svg.strip { width: 100%; height: 1em; display: block; }
.gone { color: #777; font-style: italic; }
.sev-error { color: #b3261e; font-weight: 600; } .sev-warning { color: #a05a00; font-weight: 600; }
.state-new, .state-reopened { background: #fde7e4; color: #8c1d13; padding: 0 .3em; border-radius: 3px; }
details { margin: .4em 0; } summary { cursor: pointer; color: #0b57d0; }
.note { color: #555; font-size: .9em; }
nav.suites { margin: .5em 0 1em; }
"#;

/// A whole page: `title`, the inline style, `body`. The Content-Security-Policy
/// allows nothing but the inline style: no script, font, image or request.
pub(crate) fn document(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'";
                title { (title) }
                // The project's own constant style: the one unescaped text.
                style { (PreEscaped(STYLE)) }
            }
            body { (body) }
        }
    }
}
