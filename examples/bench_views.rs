//! The trend views' read times on a store (scripts/bench-trend.sh): each
//! view `history serve` will answer with, read 5 times with its serve
//! window, the median and the first (cold) in milliseconds, one JSON line.
//!
//! `bench_views STORE`: the store bench_history filled (suite `synthetic`).

use insider_audit::history::views::{
    finding_view, page_view, run_view, suite_trend, suites, Window,
};
use insider_audit::history::Store;
use std::future::Future;
use std::time::Instant;

/// The first and the median of 5 timings of `read`, in milliseconds.
async fn time<F, Fut, T>(read: F) -> (f64, f64)
where
    F: Fn() -> Fut,
    Fut: Future<Output = T>,
{
    let mut ms = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        read().await;
        ms.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let first = ms[0];
    ms.sort_by(f64::total_cmp);
    (first, ms[2])
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let path = std::env::args().nth(1).expect("usage: bench_views STORE");
    let store = Store::parse(&path);
    let trend = suite_trend(&store, "synthetic", None, Window::SERVE)
        .await
        .expect("a store")
        .expect("the synthetic suite");
    let run = trend.runs.last().expect("runs").id.clone();
    let page = trend.strip.rows.first().expect("pages").page.clone();
    let fp = trend.open.oldest.first().expect("findings").fp.clone();
    let mut line = Vec::new();
    for (name, (first, median)) in [
        ("suites", time(|| suites(&store)).await),
        (
            "suite",
            time(|| suite_trend(&store, "synthetic", None, Window::SERVE)).await,
        ),
        ("run", time(|| run_view(&store, &run)).await),
        (
            "page",
            time(|| page_view(&store, "synthetic", &page, Window::SERVE)).await,
        ),
        ("finding", time(|| finding_view(&store, &fp)).await),
    ] {
        line.push(format!(
            "\"{name}_ms\": {{\"first\": {first:.1}, \"median\": {median:.1}}}"
        ));
    }
    println!("{{\"views\": true, {}}}", line.join(", "));
}
