//! Script sources, read from the debugger where a judgement needs them: the
//! text around a read of the absent queue (a push, a test, a bare global that
//! throws natively) and the page's tests of the queue's existence.

use crate::capture::{Event, PageCapture};
use chromiumoxide::cdp::js_protocol::debugger::{
    DisableParams as DebuggerDisable, EnableParams as DebuggerEnable, EventScriptParsed,
    GetScriptSourceParams, SetSkipAllPausesParams,
};
use chromiumoxide::Page;
use futures::StreamExt;
use regex::Regex;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::LazyLock;
use std::time::Duration;

/// Fills in what the judgement needs from the page's script sources, on a page
/// that needs them (most do not): the debugger is enabled for this only.
pub(super) async fn read(page: &Page, capture: &mut PageCapture) {
    if !needs_sources(capture) {
        return;
    }
    let scripts = parsed_scripts(page).await;
    fill_sources(page, capture, &scripts).await;
    let _ = tokio::time::timeout(
        Duration::from_secs(2),
        page.execute(DebuggerDisable::default()),
    )
    .await;
}

/// The scripts of the current document. The debugger is enabled only for
/// this, and only on a page that needs sources (most do not): enabling it
/// reports every script the document parsed, and keeping it on would cost
/// every page a hash of every script and V8's debug mode. Pauses are
/// skipped at once, so a `debugger;` statement cannot hang the page.
async fn parsed_scripts(page: &Page) -> Vec<Arc<EventScriptParsed>> {
    let collect = async {
        let mut parsed = page.event_listener::<EventScriptParsed>().await?;
        page.execute(DebuggerEnable::default()).await?;
        page.execute(SetSkipAllPausesParams::new(true)).await?;
        // Chromium reports the existing scripts before it answers enable;
        // they are in the listener's channel now.
        let mut scripts = Vec::new();
        while let Some(Some(script)) = futures::FutureExt::now_or_never(parsed.next()) {
            scripts.push(script);
        }
        Ok::<_, chromiumoxide::error::CdpError>(scripts)
    };
    let scripts = tokio::time::timeout(Duration::from_secs(5), collect)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    scripts
}

/// Reads the page's script sources where the judgement needs them: the text
/// at and before each absent read (a push, a test, or a bare read that throws
/// natively), and, on a page that read the absent queue or never created it,
/// every test of the queue's existence (`'InsiderQueue' in window`), whose
/// outcome under the audit may differ.
async fn fill_sources(page: &Page, capture: &mut PageCapture, scripts: &[Arc<EventScriptParsed>]) {
    let mut sources = Sources {
        page,
        texts: HashMap::new(),
    };
    let mut any_absent = false;
    for event in capture.events.iter_mut() {
        let Event::AbsentRead {
            location: Some(location),
            source,
            before,
            declared,
            ..
        } = event
        else {
            continue;
        };
        any_absent = true;
        let (line, column) = (i64::from(location.line) - 1, i64::from(location.column) - 1);
        let candidates = scripts.iter().filter(|s| {
            s.url == location.script
                && (line, column) >= (s.start_line, s.start_column)
                && (line, column) <= (s.end_line, s.end_column)
        });
        let mut best: Option<(String, String, bool)> = None;
        for script in candidates {
            let Some(text) = sources.text(script).await else {
                continue;
            };
            let rel_line = (line - script.start_line) as usize;
            let col = if rel_line == 0 {
                column - script.start_column
            } else {
                column
            } as usize;
            let found = (
                snippet_at(&text, rel_line, col),
                line_before(&text, rel_line, col),
                declares_queue(&text),
            );
            let points_at_queue = crate::capture::points_at_queue(&found.0);
            if points_at_queue || best.is_none() {
                best = Some(found);
            }
            if points_at_queue {
                break;
            }
        }
        if let Some((at, preceding, declares)) = best {
            *source = Some(at);
            *before = Some(preceding);
            *declared = declares;
        }
    }
    let created = crate::capture::creates_queue(&capture.events);
    if any_absent || !created {
        for script in scripts {
            if script.url.is_empty() || script.url.contains("insider-audit-recorder.js") {
                continue;
            }
            let Some(text) = sources.text(script).await else {
                continue;
            };
            for line in existence_test_lines(&text) {
                let at = format!("{}:{}", script.url, script.start_line + line as i64 + 1);
                if !capture.existence_tests.contains(&at) {
                    capture.existence_tests.push(at);
                }
            }
        }
    }
}

/// Whether judging `capture` needs the page's script sources: it read the
/// absent queue, or never created the queue (an existence test may explain why).
fn needs_sources(capture: &PageCapture) -> bool {
    capture
        .events
        .iter()
        .any(|e| matches!(e, Event::AbsentRead { .. }))
        || !crate::capture::creates_queue(&capture.events)
}

/// Script sources read from the debugger, each once.
struct Sources<'p> {
    page: &'p Page,
    texts: HashMap<String, Option<Arc<str>>>,
}

impl Sources<'_> {
    async fn text(&mut self, script: &EventScriptParsed) -> Option<Arc<str>> {
        let id = script.script_id.inner().clone();
        if let Some(text) = self.texts.get(&id) {
            return text.clone();
        }
        let text = tokio::time::timeout(
            Duration::from_secs(5),
            self.page
                .execute(GetScriptSourceParams::new(script.script_id.clone())),
        )
        .await
        .ok()
        .and_then(Result::ok)
        .map(|r| Arc::from(r.result.script_source.as_str()));
        self.texts.insert(id, text.clone());
        text
    }
}

/// The text of 0-based `line` before 0-based `column`, at most 200 characters.
fn line_before(text: &str, line: usize, column: usize) -> String {
    let Some(line_text) = text.split('\n').nth(line) else {
        return String::new();
    };
    let before: Vec<char> = line_text.chars().take(column).collect();
    before[before.len().saturating_sub(200)..].iter().collect()
}

/// Whether a script declares the queue as a global `var` (so a bare read of it
/// before the assignment is `undefined`, not a ReferenceError).
fn declares_queue(text: &str) -> bool {
    static DECLARED: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\bvar\s+InsiderQueue\b").expect("a valid regex"));
    DECLARED.is_match(text)
}

/// 0-based lines of `text` that test whether the queue exists with `in` or
/// `hasOwnProperty` (true under the audit before the queue exists).
fn existence_test_lines(text: &str) -> Vec<usize> {
    static TEST: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r#"['"`]InsiderQueue['"`]\s+in\b|(?:hasOwnProperty|hasOwn|Reflect\.has)\s*(?:\.\s*call\s*)?\([^)]*['"`]InsiderQueue['"`]"#,
        )
        .expect("a valid regex")
    });
    TEST.find_iter(text)
        .map(|m| text[..m.start()].matches('\n').count())
        .collect()
}

/// Up to 300 characters of `text` from 0-based `line` and `column`.
fn snippet_at(text: &str, line: usize, column: usize) -> String {
    let Some(line_text) = text.split('\n').nth(line) else {
        return String::new();
    };
    let start = line_text
        .char_indices()
        .nth(column)
        .map(|(i, _)| i)
        .unwrap_or(line_text.len());
    let line_start = text
        .split('\n')
        .take(line)
        .map(|l| l.len() + 1)
        .sum::<usize>();
    text[line_start + start..].chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets() {
        let text = "a\n  window.InsiderQueue.push(x);\nnext";
        assert_eq!(&snippet_at(text, 1, 9)[..17], "InsiderQueue.push");
        assert_eq!(snippet_at(text, 7, 0), "");
        assert_eq!(line_before(text, 1, 9), "  window.");
    }

    #[test]
    fn existence_tests_and_declarations() {
        let text =
            "a();\nif (!('InsiderQueue' in window)) {}\nwindow.hasOwnProperty(\"InsiderQueue\");";
        assert_eq!(existence_test_lines(text), vec![1, 2]);
        assert!(declares_queue("var InsiderQueue = InsiderQueue || [];"));
        assert!(!declares_queue(
            "window.InsiderQueue = window.InsiderQueue || [];"
        ));
    }
}
