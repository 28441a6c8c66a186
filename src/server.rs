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
    /// A `Location` header (for redirects).
    pub location: Option<String>,
    /// Other headers (e.g. `Content-Disposition: attachment` for a download).
    pub headers: Vec<(&'static str, String)>,
    /// How long the server takes before it answers (a slow backend).
    pub delay: std::time::Duration,
}

impl Resource {
    /// A 200 response whose type follows from the path's extension.
    pub fn file(path: &str, body: impl Into<Vec<u8>>) -> Self {
        Resource {
            status: 200,
            content_type: content_type(path),
            body: body.into(),
            location: None,
            headers: Vec::new(),
            delay: std::time::Duration::ZERO,
        }
    }

    /// A `302 Found` redirect to `to`.
    pub fn redirect(to: impl Into<String>) -> Self {
        Resource {
            status: 302,
            content_type: "text/html; charset=utf-8",
            body: Vec::new(),
            location: Some(to.into()),
            headers: Vec::new(),
            delay: std::time::Duration::ZERO,
        }
    }

    /// The same response with one more header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The same response, answered `delay` late.
    pub fn with_delay(mut self, delay: std::time::Duration) -> Self {
        self.delay = delay;
        self
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
        Some("svg") => "image/svg+xml",
        _ => "text/html; charset=utf-8",
    }
}

/// A shop account for sign-in (form POST to `/login`, cookie session).
#[derive(Debug, Clone)]
pub struct Account {
    /// The e-mail typed into the login form.
    pub email: String,
    /// The password typed into the login form.
    pub password: String,
    /// What `/api/me.js` tells the pages about this user.
    pub profile: serde_json::Value,
}

struct Site {
    files: Mutex<HashMap<String, Resource>>,
    accounts: Vec<Account>,
    sessions: Mutex<HashMap<String, usize>>,
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
        Self::start_shop(files, Vec::new()).await
    }

    /// Like [`StaticServer::start`], plus sign-in: `POST /login` (form fields
    /// `email`, `password`, `next`) sets a session cookie; a path whose last
    /// segment starts with `logout` ends it; `/api/me.js` sets `window.shopUser`
    /// to the signed-in account's profile (or `null`); `/account/` pages need a
    /// session (any path with an `account` segment) and redirect to
    /// `/login.html?next=...` without one.
    pub async fn start_shop(
        files: HashMap<String, Resource>,
        accounts: Vec<Account>,
    ) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let site = Arc::new(Site {
            files: Mutex::new(files),
            accounts,
            sessions: Mutex::new(HashMap::new()),
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

    /// Adds or replaces a file while serving (content that names the server's own URL).
    pub fn insert(&self, path: &str, resource: Resource) {
        self.site
            .files
            .lock()
            .expect("files lock")
            .insert(path.to_string(), resource);
    }

    /// Every request so far (`METHOD /path?query`), in order.
    pub fn access_log(&self) -> Vec<String> {
        self.site.log.lock().expect("log lock").clone()
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn redirect(to: &str, cookie: Option<String>) -> Response {
    let mut response = Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, to);
    if let Some(cookie) = cookie {
        response = response.header(header::SET_COOKIE, cookie);
    }
    response.body(Body::empty()).expect("a valid redirect")
}

fn session_of(site: &Site, request: &Request) -> Option<usize> {
    let cookies = request.headers().get(header::COOKIE)?.to_str().ok()?;
    let sid = cookies
        .split(';')
        .find_map(|c| c.trim().strip_prefix("sid="))?;
    site.sessions
        .lock()
        .expect("sessions lock")
        .get(sid)
        .copied()
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

async fn answer(State(site): State<Arc<Site>>, request: Request) -> Response {
    let uri = request.uri().clone();
    let method = request.method().clone();
    let path_and_query = uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
        .to_string();
    site.log
        .lock()
        .expect("log lock")
        .push(format!("{method} {path_and_query}"));
    let session = session_of(&site, &request);
    let path = uri.path().to_string();
    if !site.accounts.is_empty() {
        if method == axum::http::Method::POST && path == "/login" {
            let body = axum::body::to_bytes(request.into_body(), 64 * 1024)
                .await
                .unwrap_or_default();
            let (email, password) = (
                form_field(&body, "email").unwrap_or_default(),
                form_field(&body, "password").unwrap_or_default(),
            );
            let next = form_field(&body, "next")
                .filter(|n| n.starts_with('/'))
                .unwrap_or_else(|| "/account/".into());
            return match site
                .accounts
                .iter()
                .position(|a| a.email == email && a.password == password)
            {
                Some(index) => {
                    let sid = format!("s{}-{}", index, site.log.lock().expect("log lock").len());
                    site.sessions
                        .lock()
                        .expect("sessions lock")
                        .insert(sid.clone(), index);
                    redirect(&next, Some(format!("sid={sid}; Path=/; HttpOnly")))
                }
                None => redirect("/login.html?error=1", None),
            };
        }
        // A site may live under a prefix (`/shop/`): logout and login redirects stay in it.
        let dir_of = |p: &str| {
            p.rfind('/')
                .map(|i| p[..=i].to_string())
                .unwrap_or_else(|| "/".into())
        };
        if path
            .rsplit('/')
            .find(|s| !s.is_empty())
            .is_some_and(|last| last.starts_with("logout"))
        {
            return redirect(&dir_of(&path), Some("sid=; Path=/; Max-Age=0".into()));
        }
        if path == "/api/me.js" {
            let profile = session
                .and_then(|i| site.accounts.get(i))
                .map(|a| a.profile.to_string())
                .unwrap_or_else(|| "null".into());
            let body = format!("window.shopUser = {profile};\n");
            return Response::builder()
                .header(header::CONTENT_TYPE, "text/javascript; charset=utf-8")
                .header(header::CACHE_CONTROL, "no-store")
                .body(Body::from(body))
                .expect("a valid response");
        }
        if path.split('/').any(|segment| segment == "account") && session.is_none() {
            let site_root = path
                .find("/account/")
                .map(|i| path[..=i].to_string())
                .unwrap_or_else(|| "/".into());
            return redirect(&format!("{site_root}login.html?next={path}"), None);
        }
    }
    let mut path = path;
    if path.ends_with('/') {
        path.push_str("index.html");
    }
    let Some(resource) = site.files.lock().expect("files lock").get(&path).cloned() else {
        return Response::builder()
            .status(StatusCode::NOT_FOUND)
            .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
            .body(Body::from(
                "<!doctype html><title>Not found</title><h1>Not found</h1>",
            ))
            .expect("a valid response");
    };
    if !resource.delay.is_zero() {
        tokio::time::sleep(resource.delay).await;
    }
    let mut response = Response::builder()
        .status(StatusCode::from_u16(resource.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, resource.content_type)
        .header(header::CACHE_CONTROL, "no-store");
    for (name, value) in &resource.headers {
        response = response.header(*name, value);
    }
    if let Some(location) = &resource.location {
        response = response.header(header::LOCATION, location);
    }
    response
        .body(Body::from(resource.body.clone()))
        .expect("a valid response")
}
