//! A site that misbehaves the way real ones do, served by a deliberately
//! minimal HTTP/1.1 server on loopback: it must be able to hang up without an
//! answer, stream a body that never ends and answer with 20 MB, which a
//! well-behaved server library is built not to do. Every answer closes the
//! connection (`Connection: close`), so the server needs no keep-alive logic.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server does for one path.
#[derive(Debug, Clone)]
pub enum Answer {
    /// A complete response.
    Page {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Reads the request, then closes the connection without a byte.
    HangUp,
    /// `200 text/html`, then a paragraph every 100 ms for as long as the
    /// client listens.
    Endless,
}

impl Answer {
    /// A `200 text/html` page.
    pub fn html(body: impl Into<Vec<u8>>) -> Self {
        Answer::Page {
            status: 200,
            headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
            body: body.into(),
        }
    }

    /// A `302` to `to`.
    pub fn redirect(to: &str) -> Self {
        Answer::Page {
            status: 302,
            headers: vec![("location".into(), to.into())],
            body: Vec::new(),
        }
    }

    /// A response with its own status, content type and extra headers.
    pub fn with(status: u16, content_type: &str, extra: &[(&str, &str)], body: &str) -> Self {
        let mut headers = vec![("content-type".to_string(), content_type.to_string())];
        headers.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Answer::Page {
            status,
            headers,
            body: body.as_bytes().to_vec(),
        }
    }
}

/// A running misbehaving server; stops when dropped.
pub struct HostileServer {
    base: String,
    answers: Arc<Mutex<HashMap<String, Answer>>>,
    log: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl HostileServer {
    /// Starts an empty server on a free loopback port (404 for every path).
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let answers: Arc<Mutex<HashMap<String, Answer>>> = Arc::default();
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let (a, l) = (answers.clone(), log.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, a.clone(), l.clone()));
            }
        });
        HostileServer {
            base,
            answers,
            log,
            task,
        }
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Answers `path` (without query) with `answer`.
    pub fn insert(&self, path: &str, answer: Answer) {
        self.answers.lock().unwrap().insert(path.into(), answer);
    }

    /// Every request line's path, in order.
    pub fn access_log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

async fn serve(
    mut stream: TcpStream,
    answers: Arc<Mutex<HashMap<String, Answer>>>,
    log: Arc<Mutex<Vec<String>>>,
) {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
        if request.len() > 64 * 1024 {
            return;
        }
    }
    let head = String::from_utf8_lossy(&request);
    let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    log.lock().unwrap().push(target.clone());
    let path = target.split('?').next().unwrap_or("/");
    let answer = answers.lock().unwrap().get(path).cloned();
    match answer {
        None => {
            let _ = write_page(&mut stream, 404, &[], b"not found").await;
        }
        Some(Answer::Page {
            status,
            headers,
            body,
        }) => {
            let _ = write_page(&mut stream, status, &headers, &body).await;
        }
        Some(Answer::HangUp) => {}
        Some(Answer::Endless) => {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\nconnection: close\r\n\r\n<!doctype html><title>Endless</title><body>";
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if stream.write_all(b"<p>more</p>\n").await.is_err() {
                    return;
                }
            }
        }
    }
}

async fn write_page(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.shutdown().await
}

/// The guide's snippet: creates the queue, loads the SDK, pushes a logged-out
/// user and `init`.
pub const SNIPPET: &str = r#"<script>window.InsiderQueue = window.InsiderQueue || [];</script>
<script async src="/ins.js"></script>
<script>
  window.InsiderQueue.push({ type: 'user', value: { language: 'en_US', gdpr_optin: true } });
  window.InsiderQueue.push({ type: 'init' });
</script>"#;

/// What a hostile page must come to in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Audited on what it did; its notes include one of this kind when given.
    Judged(Option<&'static str>),
    /// Audited on what it did before it tried to leave for the other origin.
    Left,
    /// `page-unreachable` whose message contains this.
    Unreachable(&'static str),
    /// Listed under `skipped` with a reason containing this.
    Skipped(&'static str),
}

/// One misbehaving page of the hostile site.
pub struct HostilePage {
    /// Path on the site.
    pub path: &'static str,
    /// What it does, in words (for assertion messages).
    pub does: &'static str,
    /// What the report must say about it.
    pub outcome: Outcome,
}

/// A `200 text/html` page with this head and body.
pub fn page(head: &str, body: &str) -> Answer {
    Answer::html(format!(
        "<!doctype html><html><head><meta charset=utf-8>{head}</head><body>{body}</body></html>"
    ))
}

/// Serves `pages` misbehaving pages plus the stand-in SDK on `site`; `away` is
/// a URL on another origin that nothing may request.
pub fn add_hostile_pages(site: &HostileServer, away: &str) -> Vec<HostilePage> {
    use Outcome::*;
    site.insert(
        "/ins.js",
        Answer::with(
            200,
            "text/javascript",
            &[],
            insider_audit::demo::STAND_IN_SDK,
        ),
    );
    let mut pages = Vec::new();
    let mut add = |path: &'static str, does: &'static str, outcome: Outcome, answer: Answer| {
        site.insert(path, answer);
        pages.push(HostilePage {
            path,
            does,
            outcome,
        });
    };
    add(
        "/h/loop-before-load.html",
        "a script that never yields before load",
        Unreachable("never yields"),
        page("<script>while (true) {}</script>", "never"),
    );
    add(
        "/h/loop-after-load.html",
        "a script that never yields after load",
        Unreachable("never yields"),
        page(
            &format!("{SNIPPET}<script>addEventListener('load', function () {{ for (;;) {{}} }});</script>"),
            "later",
        ),
    );
    add(
        "/h/loop-in-timer.html",
        "a timer that never yields",
        Unreachable("never yields"),
        page(
            &format!("{SNIPPET}<script>setTimeout(function () {{ for (;;) {{}} }}, 150);</script>"),
            "timer",
        ),
    );
    add(
        "/h/out-of-memory.html",
        "allocates until the renderer dies",
        Unreachable("crash"),
        page(
            &format!("{SNIPPET}<script>var hoard = []; setTimeout(function grow() {{ for (var i = 0; i < 2000; i++) hoard.push(new Array(10000).fill(i)); setTimeout(grow, 0); }}, 50);</script>"),
            "hungry",
        ),
    );
    add(
        "/h/dialogs.html",
        "alert, confirm and prompt while loading",
        Judged(None),
        page(
            &format!("{SNIPPET}<script>alert('Welcome'); confirm('Stay?'); prompt('Your name?');</script>"),
            "dialogs",
        ),
    );
    add(
        "/h/beforeunload.html",
        "asks the visitor to stay when the tab moves on",
        Judged(None),
        page(
            &format!("{SNIPPET}<script>addEventListener('beforeunload', function (e) {{ e.preventDefault(); e.returnValue = 'Unsaved'; return 'Unsaved'; }});</script>"),
            "<input value=typed autofocus>",
        ),
    );
    add(
        "/h/popup.html",
        "opens a window on this origin",
        Judged(None),
        page(
            &format!("{SNIPPET}<script>window.open('/h/popup-target.html', 'promo', 'width=400,height=300');</script>"),
            "popup",
        ),
    );
    add(
        "/h/popup-away.html",
        "opens a window on another origin",
        Judged(None),
        page(
            &format!("{SNIPPET}<script>setTimeout(function () {{ window.open({away:?}); }}, 20);</script>"),
            "popup away",
        ),
    );
    add(
        "/h/redirect-loop-a.html",
        "redirects to a page that redirects back",
        Unreachable("redirect"),
        Answer::redirect("/h/redirect-loop-b.html"),
    );
    site.insert(
        "/h/redirect-loop-b.html",
        Answer::redirect("/h/redirect-loop-a.html"),
    );
    add(
        "/h/hang-up.html",
        "closes the connection without an answer",
        Unreachable("EMPTY_RESPONSE"),
        Answer::HangUp,
    );
    add(
        "/h/endless.html",
        "a response that never ends",
        Unreachable("load"),
        Answer::Endless,
    );
    add(
        "/h/twenty-megabytes.html",
        "a 20 MB page",
        Judged(None),
        // As a server-rendered shop sends it: 16 MB of inline state, 4 MB of rows.
        page(
            &format!(
                "{SNIPPET}<script id=state type=application/json>{{\"products\":[{}0]}}</script>",
                "{\"sku\":\"A-1000\",\"name\":\"Burr grinder\",\"price\":129.5,\"stock\":12},"
                    .repeat(16 * 1024 * 1024 / 70)
            ),
            &"<p class=row>Burr grinder, stainless steel, 40 mm burrs, in stock</p>\n"
                .repeat(4 * 1024 * 1024 / 70),
        ),
    );
    add(
        "/h/fifty-thousand-links.html",
        "50,000 links",
        Judged(Some("truncated")),
        page(
            SNIPPET,
            &(0..50_000)
                .map(|i| format!("<a href=\"/h/many/{i}.html\">{i}</a>\n"))
                .collect::<String>(),
        ),
    );
    add(
        "/h/hundred-thousand-pushes.html",
        "100,000 pushes",
        Judged(Some("truncated")),
        page(
            &format!("{SNIPPET}<script>for (var i = 0; i < 100000; i++) window.InsiderQueue.push({{ type: 'user', value: {{ language: 'en_US', gdpr_optin: true }} }});</script>"),
            "pushes",
        ),
    );
    add(
        "/h/strange-values.html",
        "cyclic, deeply nested and throwing values",
        Judged(None),
        page(
            r#"<script>window.InsiderQueue = window.InsiderQueue || [];</script>
<script async src="/ins.js"></script>
<script>
  var cyclic = { tier: 'gold' }; cyclic.self = cyclic;
  var deep = {}; var at = deep; for (var i = 0; i < 100000; i++) { at.next = {}; at = at.next; }
  var value = { language: 'en_US', gdpr_optin: true, custom: { cyclic: cyclic, deep: deep } };
  Object.defineProperty(value.custom, 'boom', { enumerable: true, get: function () { throw new Error('getter'); } });
  window.InsiderQueue.push({ type: 'user', value: value });
  window.InsiderQueue.push({ type: 'init' });
</script>"#,
            "values",
        ),
    );
    add(
        "/h/no-json.html",
        "replaces JSON",
        Judged(None),
        page(
            &format!("<script>JSON = {{ stringify: function () {{ throw new Error('no'); }}, parse: null }};</script>{SNIPPET}"),
            "no json",
        ),
    );
    add(
        "/h/no-array-push.html",
        "replaces Array.prototype.push",
        Judged(None),
        page(
            &format!(
                "{SNIPPET}<script>Array.prototype.push = function () {{ return 0; }};</script>"
            ),
            "no push",
        ),
    );
    add(
        "/h/no-apply.html",
        "replaces Function.prototype.apply and call",
        Judged(None),
        page(
            &format!("<script>Function.prototype.apply = function () {{ throw new Error('no apply'); }}; Function.prototype.call = function () {{ throw new Error('no call'); }};</script>{SNIPPET}"),
            "no apply",
        ),
    );
    add(
        "/h/meta-refresh-away.html",
        "a meta refresh to another origin",
        Left,
        page(
            &format!("<meta http-equiv=refresh content=\"0;url={away}\">{SNIPPET}"),
            "moving",
        ),
    );
    add(
        "/h/script-away.html",
        "a script that sends the visitor to another origin",
        Left,
        page(
            &format!("{SNIPPET}<script>addEventListener('load', function () {{ setTimeout(function () {{ location.href = {away:?}; }}, 30); }});</script>"),
            "bye",
        ),
    );
    add(
        "/h/price-list.pdf",
        "a download",
        Skipped("download"),
        Answer::with(
            200,
            "application/pdf",
            &[("content-disposition", "attachment; filename=price-list.pdf")],
            "%PDF-1.4 not really",
        ),
    );
    add(
        "/h/no-content",
        "a 204",
        Skipped("204"),
        Answer::with(204, "text/html", &[], ""),
    );
    add(
        "/h/cart.json",
        "a JSON answer",
        Skipped("application/json"),
        Answer::with(200, "application/json", &[], "{\"items\":[]}"),
    );
    add(
        "/h/redirect-away.html",
        "a redirect to another origin",
        Skipped("out of scope"),
        Answer::redirect(away),
    );
    add(
        "/h/busy-network.html",
        "a tracking pixel every 50 ms",
        // Usually still busy at --max-settle (the note is asserted in
        // settle.rs); on a starved machine a renderer can stall for a whole
        // settle window, and a window without requests ends the settle.
        Judged(None),
        page(
            &format!("{SNIPPET}<script>var n = 0; setInterval(function () {{ new Image().src = '/h/pixel.gif?n=' + (n++); }}, 50);</script>"),
            "busy",
        ),
    );
    site.insert(
        "/h/pixel.gif",
        Answer::with(200, "image/gif", &[], "GIF89a"),
    );
    add(
        "/h/missing.html",
        "a 404",
        Unreachable("404"),
        Answer::with(404, "text/html", &[], "<h1>Not found</h1>"),
    );
    add(
        "/h/server-error.html",
        "a 500",
        Unreachable("500"),
        Answer::with(500, "text/html", &[], "<h1>Oops</h1>"),
    );
    add(
        "/h/reloads-itself.html",
        "reloads itself every 100 ms",
        Judged(None),
        page(
            &format!(
                "{SNIPPET}<script>setTimeout(function () {{ location.reload(); }}, 100);</script>"
            ),
            "again",
        ),
    );
    add(
        "/h/route-flood.html",
        "changes its route every 10 ms (views without pushes: nothing to judge)",
        Judged(None),
        page(
            &format!("{SNIPPET}<script>var v = 0; setInterval(function () {{ history.replaceState(null, '', '?v=' + (v++)); }}, 10);</script>"),
            "routes",
        ),
    );
    add(
        "/h/wipes-itself.html",
        "rewrites its whole document after load",
        Judged(None),
        page(
            &format!("{SNIPPET}<script>addEventListener('load', function () {{ document.open(); document.write('<p>gone</p>'); document.close(); }});</script>"),
            "wipe",
        ),
    );
    pages
}

/// The 30th hostile page: one that closes its own window after it pushed.
pub fn add_self_closing_page(site: &HostileServer) -> HostilePage {
    site.insert(
        "/h/closes-itself.html",
        page(
            &format!("{SNIPPET}<script>addEventListener('load', function () {{ window.close(); }});</script>"),
            "closing",
        ),
    );
    HostilePage {
        path: "/h/closes-itself.html",
        does: "closes its own window",
        outcome: Outcome::Judged(None),
    }
}
