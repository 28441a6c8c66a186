//! The floor of `scripts/bench-pipeline.sh`: the least a crawl in Chromium can do.
//!
//! Usage: `floor BASE_URL [--concurrency N] [--max-pages N] [--browser PATH]`
//!
//! Launches Chromium with the flags of the other contenders and a temporary
//! profile, opens one browser context with N reused tabs, and crawls breadth first
//! from BASE_URL within its origin: each page is navigated to its load event, then
//! one evaluate reads its links. No recorder, no network-quiet wait, no settle, no
//! judging. Prints one JSON line: `{"pages":..,"errors":..,"seconds":..}`.

use chromiumoxide::cdp::browser_protocol::target::{
    CreateBrowserContextParams, CreateTargetParams,
};
use chromiumoxide::handler::HandlerConfig;
use chromiumoxide::{Browser, Page};
use futures::stream::{FuturesUnordered, StreamExt};
use std::collections::{HashSet, VecDeque};
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use url::Url;

const FLAGS: &[&str] = &[
    "headless=new",
    "no-sandbox",
    "disable-gpu",
    "disable-dev-shm-usage",
    "no-first-run",
    "disable-background-networking",
    "disable-component-update",
    "disable-sync",
    "disable-quic",
    "window-size=1280,720",
    "remote-debugging-port=0",
];

const LINKS: &str = "Array.from(document.querySelectorAll('a[href]'), a => a.href)";

struct Options {
    base: Url,
    concurrency: usize,
    max_pages: usize,
    browser: String,
}

fn options() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let (mut base, mut concurrency, mut max_pages) = (None, 4, 500);
    let mut browser = "/usr/bin/chromium".to_string();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--concurrency" => {
                concurrency = value("--concurrency")?
                    .parse()
                    .map_err(|e| format!("{e}"))?
            }
            "--max-pages" => {
                max_pages = value("--max-pages")?.parse().map_err(|e| format!("{e}"))?
            }
            "--browser" => browser = value("--browser")?,
            _ if base.is_none() => {
                base = Some(Url::parse(&arg).map_err(|e| format!("{arg}: {e}"))?)
            }
            _ => return Err(format!("unexpected argument {arg}")),
        }
    }
    let base =
        base.ok_or("usage: floor BASE_URL [--concurrency N] [--max-pages N] [--browser PATH]")?;
    Ok(Options {
        base,
        concurrency: concurrency.max(1),
        max_pages,
        browser,
    })
}

/// Chromium in its own process group, killed with us, with a temporary profile.
struct Chromium {
    child: std::process::Child,
    _profile: tempfile::TempDir,
}

impl Chromium {
    // Blocks once, before the measured crawl starts: outside what is measured.
    #[allow(clippy::disallowed_methods)]
    fn spawn(path: &str) -> Result<(Chromium, String), String> {
        let profile = tempfile::Builder::new()
            .prefix("insider-audit-floor-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let mut command = Command::new(path);
        command
            .args(FLAGS.iter().map(|f| format!("--{f}")))
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            command.pre_exec(|| {
                libc::setpgid(0, 0);
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let mut child = command.spawn().map_err(|e| format!("{path}: {e}"))?;
        let stderr = child.stderr.take().expect("piped");
        let (tx, rx) = std::sync::mpsc::channel();
        // Read until the DevTools URL, then keep draining so Chromium never blocks.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(url.trim().to_string());
                    }
                }
            }
        });
        let chromium = Chromium {
            child,
            _profile: profile,
        };
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(ws) => Ok((chromium, ws)),
            Err(_) => Err("Chromium printed no DevTools URL within 30 s".into()),
        }
    }
}

impl Drop for Chromium {
    // Blocks once, after the measured crawl ended: outside what is measured.
    #[allow(clippy::disallowed_methods)]
    fn drop(&mut self) {
        // The whole group: the browser, its zygotes and renderers.
        // SAFETY: plain kill(2) of our child's process group.
        unsafe {
            libc::kill(-(self.child.id() as i32), libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

fn same_site(href: &str, base: &Url) -> Option<String> {
    let mut url = Url::parse(href).ok()?;
    if url.origin() != base.origin() {
        return None;
    }
    url.set_fragment(None);
    Some(url.to_string())
}

async fn visit(page: &Page, url: &str) -> Result<Vec<String>, String> {
    let work = async {
        page.goto(url).await.map_err(|e| e.to_string())?;
        page.evaluate(LINKS)
            .await
            .map_err(|e| e.to_string())?
            .into_value::<Vec<String>>()
            .map_err(|e| e.to_string())
    };
    tokio::time::timeout(Duration::from_secs(30), work)
        .await
        .map_err(|_| "timed out".to_string())?
}

#[tokio::main]
async fn main() {
    let options = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("floor: {e}");
            std::process::exit(2);
        }
    };
    let started = Instant::now();
    let (chromium, ws) = match Chromium::spawn(&options.browser) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("floor: {e}");
            std::process::exit(3);
        }
    };
    let config = HandlerConfig {
        viewport: None,
        request_timeout: Duration::from_secs(30),
        ..HandlerConfig::default()
    };
    let (mut browser, mut handler) = match Browser::connect_with_config(&ws, config).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("floor: cannot connect to {ws}: {e}");
            std::process::exit(3);
        }
    };
    // Chromium sends messages this crate cannot decode: keep polling regardless.
    let handler = tokio::spawn(async move { while handler.next().await.is_some() {} });
    let (pages, errors) = crawl(&browser, &options).await.unwrap_or_else(|e| {
        eprintln!("floor: {e}");
        (0, 1)
    });
    let _ = tokio::time::timeout(Duration::from_secs(3), browser.close()).await;
    handler.abort();
    drop(chromium);
    println!(
        "{}",
        serde_json::json!({
            "pages": pages,
            "errors": errors,
            "seconds": started.elapsed().as_secs_f64(),
        })
    );
}

async fn crawl(browser: &Browser, options: &Options) -> Result<(usize, usize), String> {
    let context = browser
        .create_browser_context(CreateBrowserContextParams::default())
        .await
        .map_err(|e| format!("cannot create a context: {e}"))?;
    let new_tab = || async {
        let params = CreateTargetParams::builder()
            .url("about:blank")
            .browser_context_id(context.clone())
            .build()?;
        browser.new_page(params).await.map_err(|e| e.to_string())
    };
    let mut idle = Vec::new();
    for _ in 0..options.concurrency {
        idle.push(new_tab().await?);
    }
    let start = same_site(options.base.as_str(), &options.base).ok_or("bad base URL")?;
    let mut seen = HashSet::from([start.clone()]);
    let mut frontier = VecDeque::from([start]);
    let mut in_flight = FuturesUnordered::new();
    let (mut pages, mut errors) = (0, 0);
    loop {
        while !idle.is_empty() && !frontier.is_empty() {
            let page: Page = idle.pop().expect("a tab");
            let url = frontier.pop_front().expect("a URL");
            in_flight.push(async move {
                let result = visit(&page, &url).await;
                (page, url, result)
            });
        }
        let Some((page, url, result)) = in_flight.next().await else {
            break;
        };
        pages += 1;
        match result {
            Ok(links) => {
                for href in links {
                    if seen.len() >= options.max_pages {
                        break;
                    }
                    if let Some(next) = same_site(&href, &options.base) {
                        if seen.insert(next.clone()) {
                            frontier.push_back(next);
                        }
                    }
                }
                idle.push(page);
            }
            Err(e) => {
                errors += 1;
                eprintln!("{url}: {e}");
                // A tab whose navigation timed out is not reusable: replace it.
                let _ = page.close().await;
                idle.push(new_tab().await?);
            }
        }
    }
    Ok((pages, errors))
}
