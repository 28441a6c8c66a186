//! Settling: a page is judged once nothing can still push (`--settle auto`), or
//! after the fixed windows (`--settle fixed`); both find the late pushes of
//! timers, fetch callbacks, route changes and pollers, and neither waits for a
//! carousel or an animation loop. A page whose network never goes quiet is
//! judged on what it did, with a `still-busy` note.

mod common;

use common::*;
use insider_audit::browser::SettleMode;
use insider_audit::checks::{notes, Session};
use insider_audit::expect::Expectations;
use insider_audit::finding::NoteKind;
use std::time::Duration;

const PAGES: &[&str] = &[
    "/settle/timer-push.html",
    "/settle/fetch-push.html",
    "/settle/route-push.html",
    "/settle/poll-sdk.html",
    "/settle/carousel.html",
    "/settle/raf-loop.html",
    "/settle/busy-network.html",
];

async fn settle_with(mode: SettleMode) {
    let mut options = test_options(15);
    options.visit.mode = mode;
    options.visit.max_settle = Duration::from_secs(3);
    let results = audit_fixtures(PAGES, Session::LoggedOut, Expectations::default(), options).await;
    for (path, result) in PAGES.iter().zip(&results) {
        // Every late push was seen: without the init a page is init-missing.
        assert_eq!(
            rule_ids(result),
            expected(&[]),
            "{path} ({mode:?}): {:#?}",
            result.findings
        );
        let busy = notes(&result.capture)
            .iter()
            .any(|n| n.kind == NoteKind::StillBusy);
        let never_quiet = path.ends_with("busy-network.html");
        assert_eq!(
            busy, never_quiet,
            "{path} ({mode:?}): still-busy note {:?}",
            result.capture.still_busy
        );
    }
}

#[tokio::test]
async fn auto_settle_sees_late_pushes_and_ignores_recurring_work() {
    settle_with(SettleMode::Auto).await;
}

#[tokio::test]
async fn fixed_settle_gives_the_same_findings() {
    settle_with(SettleMode::Fixed).await;
}
