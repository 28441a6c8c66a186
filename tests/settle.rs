//! Settling: a page is judged once nothing can still push (`--settle auto`), or
//! after the fixed windows (`--settle fixed`); both find the late pushes of
//! timers, fetch callbacks, route changes and pollers, and neither waits for a
//! carousel or an animation loop. A page whose network never goes quiet is
//! judged on what it did, with a `still-busy` note.
//!
//! Each pending kind the page counts has a fixture (a push after `r.json()`,
//! an XHR's onload, an inserted script's and image's onload, message hops,
//! chained fetches, a timer a fetch callback starts), and every page is
//! audited again with the renderer slowed 4× and 8× (CDP CPU throttling, as a
//! busy CI runner): the findings and notes asserted are the same, in full.

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
    "/settle/json-then.html",
    "/settle/xhr-onload.html",
    "/settle/script-onload.html",
    "/settle/image-onload.html",
    "/settle/message-hop.html",
    "/settle/chained-fetches.html",
    "/settle/timer-after-fetch.html",
];

async fn settle_with(mode: SettleMode, throttle: Option<f64>) {
    let mut options = test_options(20);
    options.visit.mode = mode;
    // A renderer slowed 8× hydrates and renders for seconds: judged within
    // the default cap then, 3 s otherwise (the never-quiet page waits it out).
    options.visit.max_settle = Duration::from_secs(if throttle.is_some() { 10 } else { 3 });
    options.visit.cpu_throttle = throttle;
    let results = audit_fixtures(PAGES, Session::LoggedOut, Expectations::default(), options).await;
    for (path, result) in PAGES.iter().zip(&results) {
        // Every late push was seen: without the init a page is init-missing.
        assert_eq!(
            rule_ids(result),
            expected(&[]),
            "{path} ({mode:?}, throttled {throttle:?}; still busy: {:?}): {:#?}",
            result.capture.still_busy,
            result.findings
        );
        let busy = notes(&result.capture)
            .iter()
            .any(|n| n.kind == NoteKind::StillBusy);
        let never_quiet = path.ends_with("busy-network.html");
        assert_eq!(
            busy, never_quiet,
            "{path} ({mode:?}, throttled {throttle:?}): still-busy note {:?}",
            result.capture.still_busy
        );
    }
}

#[tokio::test]
async fn auto_settle_sees_late_pushes_and_ignores_recurring_work() {
    settle_with(SettleMode::Auto, None).await;
}

#[tokio::test]
async fn fixed_settle_gives_the_same_findings() {
    settle_with(SettleMode::Fixed, None).await;
}

#[tokio::test]
async fn auto_settle_holds_with_the_renderer_slowed_4x() {
    settle_with(SettleMode::Auto, Some(4.0)).await;
}

#[tokio::test]
async fn auto_settle_holds_with_the_renderer_slowed_8x() {
    settle_with(SettleMode::Auto, Some(8.0)).await;
}

#[tokio::test]
async fn fixed_settle_holds_with_the_renderer_slowed_4x() {
    settle_with(SettleMode::Fixed, Some(4.0)).await;
}

#[tokio::test]
async fn fixed_settle_holds_with_the_renderer_slowed_8x() {
    settle_with(SettleMode::Fixed, Some(8.0)).await;
}

/// A page whose main thread is blocked for 6 s (a long hydration on a slow
/// phone or a loaded runner) after it started a fetch or a timer: the work
/// waits for the page, not for the clock, so it is not taken for a long poll
/// and the late init is seen, in both settle modes; a long poll on a page
/// that is free stops counting after 5 s, so it is judged before the cap.
#[tokio::test]
async fn work_delayed_by_a_blocked_main_thread_is_waited_for_and_a_long_poll_is_not() {
    // Two pages blocked for 6 s, and a chat widget's long poll.
    const STALLED_AND_POLL: &[&str] = &[
        "/settle/stall-fetch.html",
        "/settle/stall-timer.html",
        "/settle/long-poll.html",
    ];
    for mode in [SettleMode::Auto, SettleMode::Fixed] {
        let mut options = test_options(20);
        options.visit.mode = mode;
        options.visit.max_settle = Duration::from_secs(15);
        let results = audit_fixtures(
            STALLED_AND_POLL,
            Session::LoggedOut,
            Expectations::default(),
            options,
        )
        .await;
        for (path, result) in STALLED_AND_POLL.iter().zip(&results) {
            assert_eq!(
                rule_ids(result),
                expected(&[]),
                "{path} ({mode:?}; still busy: {:?}): {:#?}",
                result.capture.still_busy,
                result.findings
            );
            assert!(
                result.capture.still_busy.is_none(),
                "{path} ({mode:?}): {:?}",
                result.capture.still_busy
            );
        }
    }
}
