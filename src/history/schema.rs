//! The store's tables, as embedded migrations applied in order.
//!
//! What is kept is what the history needs, not reports: a page's audit state
//! and a finding's presence are *spans* over the runs of one branch (`first_bseq`
//! to `last_bseq`, NULL while still true in the branch's latest run), so a
//! night where nothing changed writes its run row and nothing else, and a
//! finding open for a year is one row.
//!
//! - `suites`, `scenarios`, `branches`: names, so renaming keeps every id.
//!   `branches.last_bseq` numbers the runs of a branch 1, 2, 3…: spans count in it.
//! - `runs`: one row per run with its identity, times, versions, CI facts,
//!   exit code, completeness, baseline and summary counts (compliance per run
//!   and `history list` read only this table); `run_groups`: errors, warnings
//!   and accepted per rule group per run (the trend's series).
//! - `pages` (id: a stable hash of scenario id and path) and `page_spans`:
//!   final path, unreachable or not, and the rule set that judged it, while
//!   unchanged ("did the last run audit this page and judge this rule"). A
//!   page's verdict and counts in a run follow from its findings in that run,
//!   so they are not stored again (the pages × runs strip derives them).
//! - `fingerprints` (id: a stable hash of page id, rule, view, attribute and
//!   ordinal) and `finding_spans`: severity, accepted, message while unchanged,
//!   with the state, first seen and runs seen computed at the span's first run
//!   (first seen NULL: the span's own first run, filled in before `prune`
//!   removes that run).
//! - `finding_marks`: a finding's state in a run where it is not what its span
//!   implies (open, runs seen counting on): a gate compared with another branch.
//! - `finding_gone`: per run, the baseline's findings it fixed or did not check
//!   (their severity and message are those of the baseline's span, which
//!   `prune` keeps while a kept run refers to it).
//! - `rule_sets`: the distinct sets of judging rules, shared by page spans.
//! - `history_meta`: the schema version, and the generation: how many
//!   changes the data has had (migration 2).
//!
//! How the trend views (issue #20) read it, each from one branch's rows:
//! - compliance per run: `runs.passed / runs.pages`, with `label`, `tool`,
//!   `rules_version` to mark changes (no join);
//! - errors and warnings per run per rule group, accepted as its own series:
//!   `run_groups` joined to `runs` (8 rows a run);
//! - pages × runs strip: `page_spans` say audited (or unreachable) from
//!   `first_bseq` to `last_bseq`; the verdict in each run follows from the
//!   `finding_spans` of the page's fingerprints (error or warning, not
//!   accepted) over the same numbers; a page no longer crawled is a span that ended;
//! - open findings, oldest first: `finding_spans WHERE last_bseq IS NULL`,
//!   ordered by first seen (`COALESCE(first_seen_at, started_at of the run at
//!   first_bseq)`), runs seen `runs_seen + last_bseq of the branch - first_bseq`;
//! - a run's new and fixed: spans beginning at its number with a `start_state`
//!   new or reopened, plus its `finding_marks` of those states; its
//!   `finding_gone` rows with `fixed = 1`.

use super::db::Engine;

/// The migrations, in order; the store's schema version is how many it has applied.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE history_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE suites (id {serial}, name TEXT NOT NULL UNIQUE);
CREATE TABLE scenarios (id {serial}, suite_id BIGINT NOT NULL, name TEXT NOT NULL, UNIQUE (suite_id, name));
CREATE TABLE branches (id {serial}, suite_id BIGINT NOT NULL, name TEXT NOT NULL,
    last_bseq BIGINT NOT NULL, UNIQUE (suite_id, name));
CREATE TABLE runs (
    seq {serial_monotonic}, id TEXT NOT NULL UNIQUE, suite_id BIGINT NOT NULL,
    branch_id BIGINT NOT NULL, bseq BIGINT NOT NULL, shard TEXT, label TEXT,
    started_at BIGINT NOT NULL, ended_at BIGINT NOT NULL, recorded_at BIGINT NOT NULL,
    tool TEXT NOT NULL, rules_version TEXT NOT NULL, commit_sha TEXT, ci_url TEXT,
    exit_code BIGINT, complete BIGINT NOT NULL, baseline TEXT, baseline_run TEXT,
    baseline_branch BIGINT, baseline_bseq BIGINT,
    pages BIGINT NOT NULL, passed BIGINT NOT NULL, failed BIGINT NOT NULL,
    errors BIGINT NOT NULL, warnings BIGINT NOT NULL, accepted BIGINT NOT NULL,
    new_count BIGINT NOT NULL, reopened BIGINT NOT NULL, fixed BIGINT NOT NULL,
    not_checked BIGINT NOT NULL, UNIQUE (branch_id, bseq));
CREATE INDEX runs_suite ON runs (suite_id, seq);
CREATE TABLE run_groups (run_seq BIGINT NOT NULL, grp TEXT NOT NULL, errors BIGINT NOT NULL,
    warnings BIGINT NOT NULL, accepted BIGINT NOT NULL, PRIMARY KEY (run_seq, grp)){without_rowid};
CREATE TABLE rule_sets (id {serial}, rules TEXT NOT NULL UNIQUE);
CREATE TABLE pages (id {hash_key}, scenario_id BIGINT NOT NULL, path TEXT NOT NULL);
CREATE INDEX pages_scenario ON pages (scenario_id);
CREATE TABLE page_spans (id {serial}, page_id BIGINT NOT NULL, branch_id BIGINT NOT NULL,
    first_bseq BIGINT NOT NULL, last_bseq BIGINT, final_path TEXT, unreachable BIGINT NOT NULL,
    rule_set BIGINT NOT NULL);
CREATE INDEX page_spans_branch ON page_spans (branch_id, last_bseq);
CREATE TABLE fingerprints (id {hash_key}, page_id BIGINT NOT NULL, rule TEXT NOT NULL,
    grp TEXT NOT NULL, view TEXT NOT NULL, attribute TEXT NOT NULL, ordinal BIGINT NOT NULL);
CREATE INDEX fingerprints_page ON fingerprints (page_id);
CREATE TABLE finding_spans (id {serial}, fp_id BIGINT NOT NULL, branch_id BIGINT NOT NULL,
    first_bseq BIGINT NOT NULL, last_bseq BIGINT, severity BIGINT NOT NULL,
    accepted BIGINT NOT NULL, message TEXT NOT NULL, start_state BIGINT NOT NULL,
    first_seen_run TEXT, first_seen_at BIGINT, runs_seen BIGINT NOT NULL);
CREATE INDEX finding_spans_branch ON finding_spans (branch_id, last_bseq);
CREATE INDEX finding_spans_fp ON finding_spans (fp_id, branch_id);
CREATE TABLE finding_marks (run_seq BIGINT NOT NULL, fp_id BIGINT NOT NULL, state BIGINT NOT NULL,
    first_seen_run TEXT NOT NULL, first_seen_at BIGINT NOT NULL, runs_seen BIGINT NOT NULL,
    PRIMARY KEY (run_seq, fp_id)){without_rowid};
CREATE TABLE finding_gone (run_seq BIGINT NOT NULL, fp_id BIGINT NOT NULL, fixed BIGINT NOT NULL,
    PRIMARY KEY (run_seq, fp_id)){without_rowid};
INSERT INTO history_meta (key, value) VALUES ('schema_version', '0');
"#,
    // 2: the store counts the changes of its data (`Conn::commit_change`), which
    // `history serve` compares to keep its views; a build that would write
    // without counting refuses a store at this version.
    r#"
INSERT INTO history_meta (key, value) SELECT 'generation', '0'
    WHERE NOT EXISTS (SELECT 1 FROM history_meta WHERE key = 'generation');
"#,
];

/// The schema version this build writes and reads.
pub(crate) const VERSION: i64 = MIGRATIONS.len() as i64;

/// Migration `n` (1-based) in the dialect of `engine`.
pub(crate) fn migration(n: i64, engine: Engine) -> String {
    let sql = MIGRATIONS[(n - 1) as usize];
    let (serial, monotonic, hash_key, without_rowid) = match engine {
        // INTEGER PRIMARY KEY is SQLite's rowid; AUTOINCREMENT keeps run
        // numbers from being reused after `forget`.
        Engine::Sqlite => (
            "INTEGER PRIMARY KEY",
            "INTEGER PRIMARY KEY AUTOINCREMENT",
            "INTEGER PRIMARY KEY",
            " WITHOUT ROWID",
        ),
        Engine::Postgres => (
            "BIGSERIAL PRIMARY KEY",
            "BIGSERIAL PRIMARY KEY",
            "BIGINT PRIMARY KEY",
            "",
        ),
    };
    sql.replace("{serial_monotonic}", monotonic)
        .replace("{serial}", serial)
        .replace("{hash_key}", hash_key)
        .replace("{without_rowid}", without_rowid)
}
