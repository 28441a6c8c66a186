//! How a page, and each requirement group of it, came out: counted once from
//! the findings that count (accepted ones do not), shown by every format in
//! its own words.

use crate::finding::Finding;
use crate::rules::Severity;

/// Error and warning findings that count (accepted ones excluded).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Error findings.
    pub errors: usize,
    /// Warning findings.
    pub warnings: usize,
}

impl Counts {
    /// The counts of `findings`, skipping accepted ones.
    pub fn of<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Self {
        let mut counts = Counts::default();
        for finding in findings.into_iter().filter(|f| f.counts()) {
            match finding.severity {
                Severity::Error => counts.errors += 1,
                Severity::Warning => counts.warnings += 1,
            }
        }
        counts
    }

    /// Every counted finding.
    pub fn total(&self) -> usize {
        self.errors + self.warnings
    }

    /// `Fail` with an error, `Warn` with warnings only, else `Pass`.
    pub fn verdict(&self) -> Verdict {
        if self.errors > 0 {
            Verdict::Fail
        } else if self.warnings > 0 {
            Verdict::Warn
        } else {
            Verdict::Pass
        }
    }
}

/// A page's verdict (the compliance table's last column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// No finding that counts.
    Pass,
    /// Warnings only: the page passes, with something to look at.
    Warn,
    /// At least one error.
    Fail,
}

impl Verdict {
    /// The table's word: `pass`, `warn`, `FAIL` (capitals: the one to see).
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Fail => "FAIL",
        }
    }

    /// The same verdict as one mark, for a narrow terminal.
    pub fn mark(self) -> &'static str {
        match self {
            Verdict::Pass => "✓",
            Verdict::Warn => "!",
            Verdict::Fail => "✗",
        }
    }

    /// A lower-case key for filters and CSS classes: `pass`, `warn`, `fail`.
    pub fn key(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Fail => "fail",
        }
    }

    /// Whether the page counts as passed in the summary (warnings pass).
    pub fn passed(self) -> bool {
        self != Verdict::Fail
    }
}

/// One compliance-table cell: a group's verdict with its finding count, or
/// `n/a` when none of the group's rules could apply to the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// The group's rules applied.
    Judged(Verdict, usize),
    /// None of the group's rules could apply.
    NotApplicable,
}

impl Cell {
    /// The group's cell from its counted findings; `applies` says whether the
    /// group could apply at all when it found nothing.
    pub fn of(counts: Counts, applies: bool) -> Self {
        match counts.verdict() {
            Verdict::Pass if !applies => Cell::NotApplicable,
            verdict => Cell::Judged(verdict, counts.total()),
        }
    }

    /// The table's words: `pass`, `warn (n)`, `fail (n)`, `n/a`.
    pub fn word(self) -> String {
        match self {
            Cell::Judged(Verdict::Pass, _) => "pass".into(),
            Cell::Judged(Verdict::Warn, n) => format!("warn ({n})"),
            Cell::Judged(Verdict::Fail, n) => format!("fail ({n})"),
            Cell::NotApplicable => "n/a".into(),
        }
    }

    /// The same cell as a short mark, for a terminal too narrow for the words:
    /// `✓`, `!n`, `✗n`, `–`.
    pub fn mark(self) -> String {
        match self {
            Cell::Judged(Verdict::Pass, _) => "✓".into(),
            Cell::Judged(verdict, n) => format!("{}{n}", verdict.mark()),
            Cell::NotApplicable => "–".into(),
        }
    }

    /// A key for CSS classes: `pass`, `warn`, `fail`, `na`.
    pub fn key(self) -> &'static str {
        match self {
            Cell::Judged(verdict, _) => verdict.key(),
            Cell::NotApplicable => "na",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Rule;

    fn finding(rule: Rule, severity: Severity) -> Finding {
        Finding::new(rule, "m").severity(severity)
    }

    #[test]
    fn counts_skip_accepted_findings_and_decide_the_verdict() {
        let mut accepted = finding(Rule::QueueMissing, Severity::Error);
        accepted.accepted = Some(crate::finding::Accepted {
            reason: "r".into(),
            until: None,
        });
        let warning = finding(Rule::AttrUnknown, Severity::Warning);
        let counts = Counts::of([&accepted, &warning]);
        assert_eq!(
            counts,
            Counts {
                errors: 0,
                warnings: 1
            }
        );
        assert_eq!(counts.verdict(), Verdict::Warn);
        assert!(counts.verdict().passed());
        let error = finding(Rule::QueueMissing, Severity::Error);
        assert_eq!(Counts::of([&warning, &error]).verdict(), Verdict::Fail);
        assert_eq!(Counts::of([]).verdict(), Verdict::Pass);
    }

    #[test]
    fn cells_in_words_and_marks() {
        let two_warnings = Counts {
            errors: 0,
            warnings: 2,
        };
        let cases = [
            (Cell::of(Counts::default(), true), "pass", "✓", "pass"),
            (Cell::of(Counts::default(), false), "n/a", "–", "na"),
            (Cell::of(two_warnings, false), "warn (2)", "!2", "warn"),
            (
                Cell::of(
                    Counts {
                        errors: 1,
                        warnings: 2,
                    },
                    true,
                ),
                "fail (3)",
                "✗3",
                "fail",
            ),
        ];
        for (cell, word, mark, key) in cases {
            assert_eq!(
                (cell.word().as_str(), cell.mark().as_str(), cell.key()),
                (word, mark, key)
            );
        }
    }
}
