//! The layers of the source, read from the source itself: the modules depend
//! one way (no cycle among the top-level modules of `src/`, counting every
//! `crate::` path outside tests), the browser layer knows nothing of the
//! command line or the rule checks, and no source file, Rust or the
//! recorder's JavaScript, is longer than 600 lines.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`browser` for
/// `src/browser/tab.rs`); `None` for the crate roots.
fn module_of(path: &Path) -> Option<String> {
    let relative = path.strip_prefix(src()).unwrap();
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.trim_end_matches(".rs");
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

/// The code of a file without comments and without its test module.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules a text names through `crate::` paths, including
/// `use crate::{a::x, b}` groups.
fn modules_named(text: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> Option<String> {
        let name: String = s
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        (!name.is_empty()).then_some(name)
    };
    let mut named = BTreeSet::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 || (depth == 1 && c == ',') {
                    named.extend(ident(&item));
                    item.clear();
                    if depth == 0 {
                        break;
                    }
                } else if depth == 1 {
                    item.push(c);
                }
            }
        } else {
            named.extend(ident(rest));
        }
    }
    named
}

/// Who depends on whom among the top-level modules (test files left out).
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut all = Vec::new();
    files(&src(), &mut all);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in all {
        if path.extension().is_none_or(|e| e != "rs") || path.ends_with("tests.rs") {
            continue;
        }
        let Some(module) = module_of(&path) else {
            continue;
        };
        let text = std::fs::read_to_string(&path).unwrap();
        let edges = graph.entry(module.clone()).or_default();
        for named in modules_named(&code(&text)) {
            if named != module {
                edges.insert(named);
            }
        }
    }
    graph
}

/// A cycle through `start`, if there is one.
fn cycle_through(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    fn walk(
        graph: &BTreeMap<String, BTreeSet<String>>,
        start: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        let here = path.last().unwrap().clone();
        for next in graph.get(&here).into_iter().flatten() {
            if next == start {
                path.push(next.clone());
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(graph, start, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_string()];
    walk(graph, start, &mut path, &mut BTreeSet::new()).then_some(path)
}

#[test]
fn the_parser_reads_use_groups_and_paths() {
    let named = modules_named(
        "use crate::{audit::PageResult, report::{self, Head}};\nlet x = crate::redact::redact(y);",
    );
    assert_eq!(
        named.into_iter().collect::<Vec<_>>(),
        ["audit", "redact", "report"]
    );
}

#[test]
fn a_planted_cycle_is_found() {
    let mut graph = graph();
    graph
        .entry("capture".into())
        .or_default()
        .insert("cli".into());
    assert!(cycle_through(&graph, "cli").is_some());
}

#[test]
fn modules_depend_one_way() {
    let graph = graph();
    let cycles: Vec<String> = graph
        .keys()
        .filter_map(|module| cycle_through(&graph, module))
        .map(|cycle| cycle.join(" → "))
        .collect();
    assert!(cycles.is_empty(), "module cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_browser_knows_nothing_of_the_command_line_or_the_checks() {
    let graph = graph();
    let browser = &graph["browser"];
    for above in [
        "cli", "checks", "crawl", "journey", "pipeline", "report", "scenario",
    ] {
        assert!(
            !browser.contains(above),
            "browser depends on {above}: {browser:?}"
        );
    }
    let mut all = Vec::new();
    files(&src().join("browser"), &mut all);
    for path in all {
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("clap"), "{} names clap", path.display());
    }
}

#[test]
fn no_source_file_is_longer_than_600_lines() {
    let mut all = Vec::new();
    files(&src(), &mut all);
    let long: Vec<String> = all
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs" || e == "js"))
        .filter_map(|p| {
            let lines = std::fs::read_to_string(p).unwrap().lines().count();
            (lines > 600).then(|| format!("{} ({lines} lines)", p.display()))
        })
        .collect();
    assert!(long.is_empty(), "files past 600 lines: {long:?}");
}
