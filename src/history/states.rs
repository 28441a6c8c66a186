//! Finding states (interface.md, "Finding states"): what a run's findings are
//! against the baseline runs, decided from the spans of the baseline's branch.
//! Pure: the spans come in, the states go out.

use super::model::{FindingInput, FindingKey, PageInput};
use crate::rules::{Rule, Severity};
use chrono::{DateTime, Utc};
use std::collections::{BTreeSet, HashMap};

/// A finding's state in a run: the one type the reports show.
pub use crate::finding::FindingState as State;

impl State {
    /// The stored code.
    pub(crate) fn code(self) -> i64 {
        match self {
            State::New => 0,
            State::Open => 1,
            State::Reopened => 2,
        }
    }

    /// The state of a stored code.
    pub(crate) fn of_code(code: i64) -> Self {
        match code {
            0 => State::New,
            2 => State::Reopened,
            _ => State::Open,
        }
    }
}

/// What the history says of one finding of a run (the report's `history`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FindingHistory {
    /// Its state.
    pub state: State,
    /// The run that first had it.
    pub first_seen_run: String,
    /// When that run started.
    pub first_seen_at: DateTime<Utc>,
    /// How many runs had it, this one included.
    pub runs_seen: u64,
}

/// Whether a finding fails `--fail-on new` (threshold error) or `new:warning`
/// (threshold warning): new or reopened at or above the threshold, a finding
/// whose accept entry expired counting as new; an accepted finding never fails.
pub fn fails_new(finding: &FindingInput, history: &FindingHistory, threshold: Severity) -> bool {
    if finding.accepted || finding.severity < threshold {
        return false;
    }
    finding.accept_expired || matches!(history.state, State::New | State::Reopened)
}

/// A page's audit state over consecutive runs of a branch.
#[derive(Debug, Clone)]
pub(crate) struct PageSpan {
    /// First run (branch number).
    pub(crate) first: i64,
    /// Last run, clipped to the baseline.
    pub(crate) last: i64,
    /// Where the page ended.
    pub(crate) final_path: Option<String>,
    /// Whether it could not be audited.
    pub(crate) unreachable: bool,
    /// The rules that judged it.
    pub(crate) judged: std::sync::Arc<BTreeSet<Rule>>,
}

/// A finding's presence over consecutive runs of a branch.
#[derive(Debug, Clone)]
pub(crate) struct FindingSpan {
    /// First run (branch number).
    pub(crate) first: i64,
    /// Last run, clipped to the baseline.
    pub(crate) last: i64,
    /// First seen, as recorded when the span began.
    pub(crate) first_seen_run: String,
    /// Its time (ms since the epoch).
    pub(crate) first_seen_at: i64,
}

/// A finding of the baseline run, with what is needed to say fixed or not checked.
#[derive(Debug, Clone)]
pub(crate) struct BaseFinding {
    /// Its fingerprint id.
    pub(crate) fp: i64,
    /// Its page id.
    pub(crate) page: i64,
    /// Its key.
    pub(crate) key: FindingKey,
    /// Its severity in the baseline.
    pub(crate) severity: Severity,
    /// Its message in the baseline.
    pub(crate) message: String,
}

/// A baseline finding gone from this run, with its fingerprint id.
pub(crate) type Gone = (i64, GoneFinding);

/// A baseline finding this run does not have.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GoneFinding {
    /// Its fingerprint.
    pub key: FindingKey,
    /// Its severity in the baseline.
    pub severity: Severity,
    /// Its message in the baseline.
    pub message: String,
}

/// The baseline branch's history as far as the baseline run.
#[derive(Debug, Default)]
pub(crate) struct Past {
    /// The baseline's number on its branch (0: no baseline).
    pub(crate) base_bseq: i64,
    /// Page spans per page id.
    pub(crate) pages: HashMap<i64, Vec<PageSpan>>,
    /// Finding spans per fingerprint id (those of this run's findings).
    pub(crate) findings: HashMap<i64, Vec<FindingSpan>>,
    /// The baseline run's findings.
    pub(crate) base: Vec<BaseFinding>,
}

/// The last baseline run that audited the page on `final_path` and judged
/// `rule`. `page-unreachable` is judged on every attempt, wherever it ended.
fn last_judging(spans: &[PageSpan], rule: Rule, final_path: Option<&str>) -> Option<i64> {
    spans
        .iter()
        .filter(|s| {
            rule == Rule::PageUnreachable
                || (!s.unreachable
                    && s.final_path.as_deref() == final_path
                    && s.judged.contains(&rule))
        })
        .map(|s| s.last)
        .max()
}

impl Past {
    /// The state of `finding` (fingerprint `fp`, on the page `page` of this
    /// run), this run being `run_id` started at `at`.
    pub(crate) fn state_of(
        &self,
        fp: i64,
        page_id: i64,
        page: &PageInput,
        rule: Rule,
        run_id: &str,
        at: DateTime<Utc>,
    ) -> FindingHistory {
        let spans = self.findings.get(&fp).map(Vec::as_slice).unwrap_or(&[]);
        let Some(first) = spans.iter().min_by_key(|s| (s.first_seen_at, s.first)) else {
            return FindingHistory {
                state: State::New,
                first_seen_run: run_id.to_string(),
                first_seen_at: at,
                runs_seen: 1,
            };
        };
        let page_spans = self.pages.get(&page_id).map(Vec::as_slice).unwrap_or(&[]);
        let last = last_judging(page_spans, rule, page.final_path.as_deref());
        let had = last.is_some_and(|l| spans.iter().any(|s| s.first <= l && l <= s.last));
        FindingHistory {
            state: if had { State::Open } else { State::Reopened },
            first_seen_run: first.first_seen_run.clone(),
            first_seen_at: millis(first.first_seen_at),
            runs_seen: 1 + spans
                .iter()
                .map(|s| (s.last - s.first + 1) as u64)
                .sum::<u64>(),
        }
    }

    /// The baseline's findings absent from this run, split into fixed (this
    /// run audited the page on the baseline's final path and judged the rule)
    /// and not checked.
    pub(crate) fn gone(
        &self,
        present: &std::collections::HashSet<i64>,
        pages: &HashMap<i64, &PageInput>,
    ) -> (Vec<Gone>, Vec<Gone>) {
        let mut fixed = Vec::new();
        let mut not_checked = Vec::new();
        for f in self.base.iter().filter(|f| !present.contains(&f.fp)) {
            let base_final = self.pages.get(&f.page).and_then(|spans| {
                spans
                    .iter()
                    .find(|s| s.first <= self.base_bseq && self.base_bseq <= s.last)
                    .map(|s| s.final_path.clone())
            });
            let checked = match pages.get(&f.page) {
                Some(p) if !p.unreachable() => {
                    f.key.rule == Rule::PageUnreachable
                        || (base_final.as_ref().is_some_and(|b| *b == p.final_path)
                            && p.judged.contains(&f.key.rule))
                }
                _ => false,
            };
            let gone = GoneFinding {
                key: f.key.clone(),
                severity: f.severity,
                message: f.message.clone(),
            };
            if checked {
                fixed.push((f.fp, gone));
            } else {
                not_checked.push((f.fp, gone));
            }
        }
        (fixed, not_checked)
    }
}

/// A time stored as milliseconds since the epoch.
pub(crate) fn millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// The stored code of a finding's acceptance: 0 counts, 1 accepted, 2 an accept expired.
pub(crate) fn accept_code(f: &FindingInput) -> i64 {
    if f.accepted {
        1
    } else if f.accept_expired {
        2
    } else {
        0
    }
}

/// A stable 64-bit id (FNV-1a over length-prefixed parts): the same page or
/// fingerprint gets the same id in every store and every version.
pub(crate) fn stable_id(parts: &[&str]) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in (part.len() as u64)
            .to_le_bytes()
            .iter()
            .chain(part.as_bytes())
        {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_accepts_fail_as_new_and_accepted_findings_never() {
        let mut f = FindingInput {
            key: super::super::model::fingerprints([("s", "/", "", Rule::AttrFormat, "")])
                .remove(0),
            severity: Severity::Error,
            group: Rule::AttrFormat.group(),
            message: "m".into(),
            accepted: false,
            accept_expired: false,
        };
        let mut h = FindingHistory {
            state: State::Open,
            first_seen_run: "r".into(),
            first_seen_at: millis(0),
            runs_seen: 3,
        };
        assert!(!fails_new(&f, &h, Severity::Error));
        f.accept_expired = true;
        assert!(fails_new(&f, &h, Severity::Error));
        f.accept_expired = false;
        h.state = State::Reopened;
        assert!(fails_new(&f, &h, Severity::Warning));
        f.severity = Severity::Warning;
        assert!(!fails_new(&f, &h, Severity::Error));
        f.accepted = true;
        assert!(!fails_new(&f, &h, Severity::Warning));
    }

    #[test]
    fn ids_are_stable() {
        assert_eq!(stable_id(&["a", "bc"]), stable_id(&["a", "bc"]));
        assert_ne!(stable_id(&["ab", "c"]), stable_id(&["a", "bc"]));
    }
}
