//! Inline SVG charts, drawn here: a line over runs (compliance, accepted
//! findings) with labels and tool or rules version changes marked, stacked
//! bars per run by rule group (errors, warnings), and one row of the pages ×
//! runs strip. Every chart scales to its container (`viewBox`, width 100%),
//! has a `<title>` and a `<desc>`, and marks each run's point with a class
//! (`point`, `bar`, `cell`) a test can count; the numbers are in tables the
//! caller puts next to it.

use crate::history::views::trend::RunPoint;
use crate::history::views::Cell;
use maud::{html, Markup};
use std::fmt::Write;

/// The drawing's width and height in user units, and its margins.
const W: f64 = 640.0;
const H: f64 = 200.0;
const LEFT: f64 = 40.0;
const RIGHT: f64 = 10.0;
const TOP: f64 = 24.0;
const BOTTOM: f64 = 22.0;

/// The colours of the rule groups, in [`crate::rules::Group::ALL`] order.
pub(crate) const GROUP_COLOURS: [&str; 8] = [
    "#1565c0", "#6a1b9a", "#c62828", "#ef6c00", "#2e7d32", "#00838f", "#5d4037", "#757575",
];

/// The x of run `i` of `n`: the middle of its band, so the runs of every
/// chart line up.
fn x_of(i: usize, n: usize) -> f64 {
    let plot = W - LEFT - RIGHT;
    LEFT + plot * (i as f64 + 0.5) / n.max(1) as f64
}

/// The y of `v` on a scale from 0 to `max`.
fn y_of(v: f64, max: f64) -> f64 {
    let plot = H - TOP - BOTTOM;
    TOP + plot * (1.0 - if max > 0.0 { v / max } else { 0.0 })
}

/// A round top for a count axis at or above `max`: 1, 1.5, 2, 3, 4, 5, 6 or
/// 8 times a power of ten.
fn nice_max(max: f64) -> f64 {
    let mut step = 1.0;
    loop {
        for m in [1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0] {
            if m * step >= max {
                return m * step;
            }
        }
        step *= 10.0;
    }
}

/// A count on an axis, short: `850`, `1.5k`, `20k`.
pub(crate) fn count_label(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if v >= 1000.0 {
        format!("{:.1}k", v / 1000.0).replace(".0k", "k")
    } else if v.fract() != 0.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

/// The axes, grid lines at 0, half and top (`fmt` says them), and the first
/// and last run's dates under the axis.
fn frame(runs: &[RunPoint], max: f64, fmt: &dyn Fn(f64) -> String) -> Markup {
    html! {
        @for v in [0.0, max / 2.0, max] {
            line.grid x1=(LEFT) x2=(W - RIGHT) y1=(y_of(v, max)) y2=(y_of(v, max)) {}
            text x=(LEFT - 4.0) y=(y_of(v, max) + 4.0) text-anchor="end" { (fmt(v)) }
        }
        line.axis x1=(LEFT) x2=(LEFT) y1=(TOP) y2=(H - BOTTOM) {}
        @if let (Some(first), Some(last)) = (runs.first(), runs.last()) {
            text x=(LEFT) y=(H - 6.0) { (super::day(first.started_at)) }
            text x=(W - RIGHT) y=(H - 6.0) text-anchor="end" { (super::day(last.started_at)) }
        }
    }
}

/// The marks of labelled runs (a dashed line, the label on top) and of tool
/// or rules version changes (a solid line at the foot), each with a title.
fn marks(runs: &[RunPoint]) -> Markup {
    let n = runs.len();
    html! {
        @for (i, run) in runs.iter().enumerate() {
            @if let Some(label) = &run.label {
                g.label-run {
                    title { "Label: " (label) " (" (run.id) ")" }
                    line.label-mark x1=(x_of(i, n)) x2=(x_of(i, n)) y1=(TOP - 4.0) y2=(H - BOTTOM) {}
                    text x=(x_of(i, n)) y=(TOP - 8.0) text-anchor="middle" { (short(label, 18)) }
                }
            }
            @if run.tool_changed || run.rules_changed {
                g.version-change {
                    title { (version_note(run)) }
                    line.version-mark x1=(x_of(i, n)) x2=(x_of(i, n)) y1=(H - BOTTOM - 14.0) y2=(H - BOTTOM) {}
                }
            }
        }
    }
}

/// What changed in a run's versions, in words.
pub(crate) fn version_note(run: &RunPoint) -> String {
    let mut note = String::new();
    if run.tool_changed {
        let _ = write!(note, "tool {}", run.tool);
    }
    if run.rules_changed {
        if !note.is_empty() {
            note.push_str(", ");
        }
        let _ = write!(note, "rules {}", run.rules_version);
    }
    format!("{note} from {}", super::when(run.started_at))
}

/// At most `n` characters of `text`, an ellipsis when cut.
pub(crate) fn short(text: &str, n: usize) -> String {
    if text.chars().count() <= n {
        text.to_string()
    } else {
        text.chars().take(n - 1).chain(['…']).collect()
    }
}

/// What a chart is called: an id unique in the page (its title's and
/// description's ids derive from it), its title and its description.
pub(crate) struct ChartText {
    /// The id.
    pub(crate) id: String,
    /// The title (`<title>`).
    pub(crate) title: String,
    /// The description (`<desc>`): what it shows and the latest value.
    pub(crate) desc: String,
}

/// A line over the runs: `values` (one per run; `None` leaves a gap and no
/// point), from 0 to `max` (`None`: from the values), said by `fmt`. Each
/// point is a `circle.point` with `class_extra` and its run's title.
pub(crate) fn line_chart(
    text: &ChartText,
    runs: &[RunPoint],
    values: &[Option<f64>],
    max: Option<f64>,
    class_extra: &str,
    fmt: &dyn Fn(f64) -> String,
) -> Markup {
    let n = runs.len();
    // Points of a year of nightly runs would overlap into a bar.
    let radius = if n > 90 { "1.5" } else { "3" };
    // A count axis reaches 4 at least, so its half-way line is a whole number.
    let max = max.unwrap_or_else(|| nice_max(values.iter().flatten().fold(4.0, |a, &b| a.max(b))));
    let mut segments: Vec<String> = vec![String::new()];
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => {
                let _ = write!(
                    segments.last_mut().expect("one segment at least"),
                    "{:.1},{:.1} ",
                    x_of(i, n),
                    y_of(*v, max)
                );
            }
            None => segments.push(String::new()),
        }
    }
    html! { div.wrap {
        svg.chart viewBox={"0 0 " (W) " " (H)} role="img" aria-labelledby={(text.id) "-t " (text.id) "-d"} {
            title id={(text.id) "-t"} { (text.title) }
            desc id={(text.id) "-d"} { (text.desc) }
            (frame(runs, max, fmt))
            (marks(runs))
            @for points in segments.iter().filter(|s| !s.is_empty()) {
                polyline class={"line " (class_extra)} points=(points) {}
            }
            @for (i, (run, v)) in runs.iter().zip(values).enumerate() {
                @if let Some(v) = v {
                    circle class={"point " (class_extra)} data-run=(run.id) cx=(format!("{:.1}", x_of(i, n))) cy=(format!("{:.1}", y_of(*v, max))) r=(radius) {
                        title { (run.id) " " (super::when(run.started_at)) ": " (fmt(*v)) }
                    }
                }
            }
        }
    } }
}

/// Stacked bars, one per run, of `per_group(run)` counts in the rule
/// groups' colours; each bar a `g.bar` holding one rect per non-zero group.
pub(crate) fn stacked_bars(
    text: &ChartText,
    runs: &[RunPoint],
    per_group: &dyn Fn(&RunPoint) -> Vec<i64>,
) -> Markup {
    let n = runs.len();
    let totals: Vec<Vec<i64>> = runs.iter().map(per_group).collect();
    let top = totals
        .iter()
        .map(|t| t.iter().sum::<i64>())
        .max()
        .unwrap_or(0);
    let max = nice_max(top.max(4) as f64);
    let plot = W - LEFT - RIGHT;
    let width = (plot / n.max(1) as f64 * 0.8).clamp(1.0, 24.0);
    html! { div.wrap {
        svg.chart viewBox={"0 0 " (W) " " (H)} role="img" aria-labelledby={(text.id) "-t " (text.id) "-d"} {
            title id={(text.id) "-t"} { (text.title) }
            desc id={(text.id) "-d"} { (text.desc) }
            (frame(runs, max, &count_label))
            (marks(runs))
            @for (i, (run, counts)) in runs.iter().zip(&totals).enumerate() {
                g.bar data-run=(run.id) {
                    title { (run.id) " " (super::when(run.started_at)) ": " (counts.iter().sum::<i64>()) }
                    @for (rect_y, rect_h, colour) in stack(counts, max) {
                        rect x=(format!("{:.1}", x_of(i, n) - width / 2.0)) y=(format!("{rect_y:.1}")) width=(format!("{width:.1}")) height=(format!("{rect_h:.1}")) fill=(colour) {}
                    }
                }
            }
        }
    } }
}

/// The rectangles (y, height, colour) of one stacked bar, bottom up.
fn stack(counts: &[i64], max: f64) -> Vec<(f64, f64, &'static str)> {
    let mut base = 0.0;
    let mut out = Vec::new();
    for (c, colour) in counts.iter().zip(GROUP_COLOURS) {
        if *c <= 0 {
            continue;
        }
        let top = base + *c as f64;
        out.push((y_of(top, max), y_of(base, max) - y_of(top, max), colour));
        base = top;
    }
    out
}

/// The legend of the rule groups' colours.
pub(crate) fn legend(groups: &[&str]) -> Markup {
    html! {
        ul.legend {
            @for (g, colour) in groups.iter().zip(GROUP_COLOURS) {
                li { span.swatch style={"background:" (colour)} {} (g) }
            }
        }
    }
}

/// One page's row of the strip: a `rect.cell` per run, classed by verdict,
/// with the counts said in its label.
pub(crate) fn strip_row(cells: &[Cell]) -> Markup {
    let count = |v: Cell| cells.iter().filter(|&&c| c == v).count();
    let label = format!(
        "{} fail, {} warn, {} pass, {} not audited",
        count(Cell::Fail),
        count(Cell::Warn),
        count(Cell::Pass),
        count(Cell::NotAudited)
    );
    html! {
        svg.strip viewBox={"0 0 " (cells.len().max(1) * 10) " 10"} preserveAspectRatio="none" role="img" aria-label=(label) {
            @for (i, c) in cells.iter().enumerate() {
                rect class={"cell " (c.word())} x=(i * 10) y="0" width="9" height="10" {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_and_stacks() {
        assert_eq!(nice_max(0.3), 1.0);
        assert_eq!(nice_max(7.0), 8.0);
        assert_eq!(nice_max(10_831.0), 15_000.0);
        assert_eq!(count_label(15_000.0), "15k");
        assert_eq!(count_label(1_500.0), "1.5k");
        assert_eq!(count_label(7.5), "7.5");
        let bars = stack(&[2, 0, 3, 0, 0, 0, 0, 0], 10.0);
        assert_eq!(bars.len(), 2);
        let plot = H - TOP - BOTTOM;
        assert!((bars[0].1 - plot * 0.2).abs() < 1e-9);
        assert!((bars[1].0 + bars[1].1 - bars[0].0).abs() < 1e-9, "stacked");
        assert_eq!(short("abcdef", 4), "abc…");
    }
}
