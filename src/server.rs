//! A small static HTTP server on 127.0.0.1 (axum): serves the embedded demo shop
//! and the test fixtures, and keeps an access log.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::Response;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// One file the server answers with.
#[derive(Debug, Clone)]
pub struct Resource {
    /// HTTP status.
    pub status: u16,
    /// Content-Type.
    pub content_type: &'static str,
    /// Body.
    pub body: Vec<u8>,
}

impl Resource {
    /// A 200 response whose type follows from the path's extension.
    pub fn file(path: &str, body: impl Into<Vec<u8>>) -> Self {
        Resource {
            status: 200,
            content_type: content_type(path),
            body: body.into(),
        }
    }

    /// The same body with another status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }
}

/// The Content-Type for a path's extension.
pub fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") | Some("htm") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("xml") => "application/xml",
        _ => "text/html; charset=utf-8",
    }
}

struct Site {
    files: HashMap<String, Resource>,
    log: Mutex<Vec<String>>,
}

/// A running server; stops when dropped.
pub struct StaticServer {
    addr: SocketAddr,
    site: Arc<Site>,
    task: tokio::task::JoinHandle<()>,
}

impl StaticServer {
    /// Serves `files` (keyed by path, e.g. `/index.html`; `/` serves `/index.html`,
    /// `/dir/` serves `/dir/index.html`) on a free loopback port.
    pub async fn start(files: HashMap<String, Resource>) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let site = Arc::new(Site {
            files,
            log: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(site.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(StaticServer { addr, site, task })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    /// Every path and query requested so far, in order.
    pub fn access_log(&self) -> Vec<String> {
        self.site.log.lock().expect("log lock").clone()
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(State(site): State<Arc<Site>>, request: Request) -> Response {
    let uri = request.uri();
    site.log.lock().expect("log lock").push(
        uri.path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
            .to_string(),
    );
    let mut path = uri.path().to_string();
    if path.ends_with('/') {
        path.push_str("index.html");
    }
    let (status, content_type, body) = match site.files.get(&path) {
        Some(r) => (r.status, r.content_type, r.body.clone()),
        None => (
            404,
            "text/html; charset=utf-8",
            b"<!doctype html><title>Not found</title><h1>Not found</h1>".to_vec(),
        ),
    };
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from(body))
        .expect("a valid response")
}
