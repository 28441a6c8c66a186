//! The message's body: a `text` paragraph chat webhooks show as it is, and
//! the same facts as structured fields for anything that reads JSON.

use super::{Item, RunDigest};
use serde_json::{json, Value};

/// How many findings the text names; the rest are counted.
const NAMED_IN_TEXT: usize = 3;
/// How many findings each of `new`, `reopened` and `fixed` lists: a first run
/// of a big suite has thousands, and chat webhooks refuse big bodies. `counts`
/// holds the totals.
const LISTED: usize = 50;
/// A finding's message is cut to this many characters in the text.
const MESSAGE_CHARS: usize = 160;

/// The JSON body posted for the run `digest`; `report` is where its HTML
/// report is published (`--report-url`).
pub(crate) fn message(digest: &RunDigest, report: Option<&str>) -> Value {
    let empty = Default::default();
    let changes = digest.changes.as_ref().unwrap_or(&empty);
    let list =
        |items: &[Item]| -> Vec<Value> { items.iter().take(LISTED).map(item_json).collect() };
    json!({
        "text": text(digest, report),
        "suite": digest.suite,
        "run": digest.run,
        "label": digest.label,
        "exit_code": digest.exit_code,
        "error": digest.error,
        "summary": digest.summary,
        "recorded": digest.changes.is_some(),
        "counts": {
            "new": changes.new.len(),
            "reopened": changes.reopened.len(),
            "fixed": changes.fixed.len(),
        },
        "new": list(&changes.new),
        "reopened": list(&changes.reopened),
        "fixed": list(&changes.fixed),
        "report": report,
    })
}

fn item_json(item: &Item) -> Value {
    json!({
        "severity": item.severity.to_string(),
        "rule": item.rule,
        "scenario": item.scenario,
        "page": item.page,
        "attribute": item.attribute,
        "message": item.message,
    })
}

/// One paragraph for a person in a chat channel: what ran, what it found,
/// what is new, where the report is.
fn text(digest: &RunDigest, report: Option<&str>) -> String {
    let mut out = format!("insider-audit: suite {}", digest.suite);
    if let Some(label) = &digest.label {
        out += &format!(" ({label})");
    }
    match &digest.summary {
        Some(s) => {
            out += &format!(
                ": {} pages audited, {} failed; {} errors, {} warnings",
                s.pages, s.failed, s.errors, s.warnings
            );
            if s.accepted > 0 {
                out += &format!(", {} accepted", s.accepted);
            }
        }
        None => out += ": nothing was audited",
    }
    out += &format!(" (exit {})", digest.exit_code);
    if let Some(error) = &digest.error {
        out += &format!(". The audit could not run: {error}");
    }
    if let Some(changes) = &digest.changes {
        out += &format!(
            ". Since the baseline: {} new, {} reopened, {} fixed",
            changes.new.len(),
            changes.reopened.len(),
            changes.fixed.len()
        );
        let mut shown: Vec<(&str, &Item)> = changes
            .new
            .iter()
            .map(|item| ("new", item))
            .chain(changes.reopened.iter().map(|item| ("reopened", item)))
            .collect();
        // The most severe first; the run's order among equals.
        shown.sort_by_key(|(_, item)| std::cmp::Reverse(item.severity));
        let named: Vec<String> = shown
            .iter()
            .take(NAMED_IN_TEXT)
            .map(|(state, item)| describe(state, item))
            .collect();
        if !named.is_empty() {
            out += &format!(". {}", named.join("; "));
            if shown.len() > NAMED_IN_TEXT {
                out += &format!("; and {} more", shown.len() - NAMED_IN_TEXT);
            }
        }
    }
    if let Some(report) = report {
        out += &format!(". Report: {report}");
    }
    escape(&out)
}

/// `new error attr-format on /checkout (logged-in, phone_number): message`.
fn describe(state: &str, item: &Item) -> String {
    let mut place = item.scenario.clone();
    if !item.attribute.is_empty() {
        place += &format!(", {}", item.attribute);
    }
    let mut message: String = item.message.chars().take(MESSAGE_CHARS).collect();
    if message.len() < item.message.len() {
        message.push('…');
    }
    format!(
        "{state} {} {} on {} ({place}): {message}",
        item.severity, item.rule, item.page
    )
}

/// `&`, `<` and `>` as Slack's (and Mattermost's) markup wants them: a
/// page-controlled string never becomes a link, a mention or markup.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::super::tests::item;
    use super::super::Changes;
    use super::*;
    use crate::report::Summary;
    use crate::rules::Severity;

    fn recorded_run() -> RunDigest {
        RunDigest {
            suite: "shop & co".into(),
            run: "run-7".into(),
            label: Some("release <2.1>".into()),
            summary: Some(Summary {
                pages: 12,
                passed: 9,
                failed: 3,
                errors: 5,
                warnings: 2,
                accepted: 1,
            }),
            exit_code: 1,
            error: None,
            changes: Some(Changes {
                new: vec![
                    item(Severity::Warning, "a warning"),
                    item(Severity::Error, "<script>alert(1)</script> & more"),
                ],
                reopened: vec![item(Severity::Error, "back again")],
                fixed: vec![item(Severity::Error, "gone")],
            }),
        }
    }

    #[test]
    fn the_fields() {
        let body = message(&recorded_run(), Some("https://ci.example/r?a=1&b=2"));
        assert_eq!(body["suite"], "shop & co", "fields are data, not markup");
        assert_eq!(body["run"], "run-7");
        assert_eq!(body["label"], "release <2.1>");
        assert_eq!(body["summary"]["errors"], 5);
        assert_eq!(body["summary"]["pages"], 12);
        assert_eq!(body["new"].as_array().unwrap().len(), 2);
        assert_eq!(
            body["new"][1]["message"],
            "<script>alert(1)</script> & more"
        );
        assert_eq!(body["new"][1]["severity"], "error");
        assert_eq!(body["reopened"][0]["page"], "/checkout");
        assert_eq!(body["fixed"][0]["message"], "gone");
        assert_eq!(body["counts"]["fixed"], 1);
        assert_eq!(body["report"], "https://ci.example/r?a=1&b=2");
        assert_eq!(body["recorded"], true);
    }

    #[test]
    fn the_text_names_counts_and_the_worst_new_findings_escaped() {
        let body = message(&recorded_run(), Some("https://ci.example/r?a=1&b=2"));
        let text = body["text"].as_str().unwrap();
        assert_eq!(
            text,
            "insider-audit: suite shop &amp; co (release &lt;2.1&gt;): 12 pages audited, 3 failed; \
             5 errors, 2 warnings, 1 accepted (exit 1). Since the baseline: 2 new, 1 reopened, 1 fixed. \
             new error attr-format on /checkout (logged-in, phone_number): &lt;script&gt;alert(1)&lt;/script&gt; &amp; more; \
             reopened error attr-format on /checkout (logged-in, phone_number): back again; \
             new warning attr-format on /checkout (logged-in, phone_number): a warning. \
             Report: https://ci.example/r?a=1&amp;b=2"
        );
        assert!(!text.contains('<') && !text.contains('>'));
    }

    #[test]
    fn a_run_that_could_not_run_says_why() {
        let digest = RunDigest {
            suite: "shop".into(),
            exit_code: 3,
            error: Some("no Chromium browser found".into()),
            ..RunDigest::default()
        };
        let body = message(&digest, None);
        assert_eq!(
            body["text"],
            "insider-audit: suite shop: nothing was audited (exit 3). The audit could not run: no Chromium browser found"
        );
        assert_eq!(body["recorded"], false);
        assert_eq!(body["new"], json!([]));
        assert_eq!(body["summary"], Value::Null);
        assert_eq!(body["report"], Value::Null);
    }

    #[test]
    fn long_lists_are_cut_and_counted() {
        let mut digest = recorded_run();
        let changes = digest.changes.as_mut().unwrap();
        changes.new = (0..120)
            .map(|n| item(Severity::Error, &format!("finding {n} {}", "x".repeat(300))))
            .collect();
        let body = message(&digest, None);
        assert_eq!(body["new"].as_array().unwrap().len(), LISTED);
        assert_eq!(body["counts"]["new"], 120);
        let text = body["text"].as_str().unwrap();
        assert!(text.contains("; and 118 more"), "{text}");
        assert!(
            text.contains("x…; "),
            "messages are cut in the text: {text}"
        );
        assert!(text.len() < 1500, "one paragraph: {} bytes", text.len());
    }
}
