//! What `history serve` answers at all, before any view runs: only its own
//! `Host` (a page on another site cannot reach it through DNS rebinding),
//! only GET and HEAD (it changes nothing), and every answer with headers that
//! keep a page from loading anything or being framed.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::sync::Arc;

/// The `Host` values a request may carry: the address served, and
/// `localhost` on its port when that address is loopback.
#[derive(Debug, Clone)]
pub(crate) struct Hosts {
    allowed: Vec<String>,
    /// How the server is reached (for the message to a misdirected request).
    pub(crate) origin: String,
}

impl Hosts {
    /// The hosts of a server bound to `addr` and reached by `names`
    /// (`--host`; a name without a port means the port served).
    pub(crate) fn of(addr: SocketAddr, names: &[String]) -> Hosts {
        let port = addr.port();
        let ip = match addr.ip() {
            std::net::IpAddr::V6(v6) => format!("[{v6}]"),
            v4 => v4.to_string(),
        };
        let served = format!("{ip}:{port}");
        let named: Vec<String> = names.iter().map(|n| with_port(n, port)).collect();
        let mut allowed = vec![served.clone()];
        if addr.ip().is_loopback() {
            allowed.push(format!("localhost:{port}"));
        }
        allowed.extend(named.iter().cloned());
        if port == 80 {
            // A client may leave the default port out.
            let bare: Vec<String> = allowed
                .iter()
                .filter_map(|h| h.strip_suffix(":80").map(str::to_string))
                .collect();
            allowed.extend(bare);
        }
        Hosts {
            origin: format!("http://{}", named.first().unwrap_or(&served)),
            allowed,
        }
    }

    /// Whether a request's `Host` header names this server (case-insensitive,
    /// as host names are).
    pub(crate) fn allows(&self, host: Option<&str>) -> bool {
        host.is_some_and(|h| self.allowed.iter().any(|a| a.eq_ignore_ascii_case(h)))
    }
}

/// `name` with `port` unless it names one (`shop.internal:8080`, `[::1]:80`).
fn with_port(name: &str, port: u16) -> String {
    let has_port = name.rsplit_once(':').is_some_and(|(head, tail)| {
        tail.parse::<u16>().is_ok() && (!head.contains(':') || head.ends_with(']'))
    });
    if has_port {
        name.to_string()
    } else {
        format!("{name}:{port}")
    }
}

/// The headers every answer carries: nothing loads from anywhere (styles
/// are inline, images data: URLs), the page is never framed, no referrer
/// leaves it, and nothing is cached (the store changes between requests).
pub(crate) const SECURITY_HEADERS: &[(&str, &str)] = &[
    (
        "content-security-policy",
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cache-control", "no-store"),
];

/// The middleware: a request for another host gets 421, a method other than
/// GET or HEAD 405; every answer gets [`SECURITY_HEADERS`].
pub(crate) async fn guard(
    State(hosts): State<Arc<Hosts>>,
    request: Request,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        // HTTP/2 and absolute-form requests name the host in the URI.
        .or_else(|| request.uri().authority().map(|a| a.to_string()));
    let mut response = if !hosts.allows(host.as_deref()) {
        (
            StatusCode::MISDIRECTED_REQUEST,
            format!("this server answers only for {}\n", hosts.origin),
        )
            .into_response()
    } else if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut r = (
            StatusCode::METHOD_NOT_ALLOWED,
            "read-only: GET and HEAD only\n",
        )
            .into_response();
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        r
    } else {
        next.run(request).await
    };
    for (name, value) in SECURITY_HEADERS {
        response
            .headers_mut()
            .insert(*name, HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_served_address_and_loopback_names() {
        let hosts = Hosts::of("127.0.0.1:8750".parse().unwrap(), &[]);
        assert!(hosts.allows(Some("127.0.0.1:8750")));
        assert!(hosts.allows(Some("LOCALHOST:8750")));
        assert!(!hosts.allows(Some("evil.example:8750")));
        assert!(!hosts.allows(Some("127.0.0.1:8751")));
        assert!(!hosts.allows(Some("127.0.0.1")));
        assert!(!hosts.allows(None));
        let public = Hosts::of("10.1.2.3:80".parse().unwrap(), &[]);
        assert!(public.allows(Some("10.1.2.3")));
        assert!(!public.allows(Some("localhost:80")));
        let v6 = Hosts::of("[::1]:80".parse().unwrap(), &[]);
        assert!(v6.allows(Some("[::1]:80")) && v6.allows(Some("[::1]")));
        assert!(v6.allows(Some("localhost")));
        // Any address, reached by the names given.
        let named = Hosts::of(
            "0.0.0.0:8750".parse().unwrap(),
            &[
                "audit.internal".into(),
                "10.0.0.5:9000".into(),
                "[fd00::5]".into(),
            ],
        );
        assert!(named.allows(Some("audit.internal:8750")));
        assert!(named.allows(Some("10.0.0.5:9000")));
        assert!(named.allows(Some("[fd00::5]:8750")));
        assert!(!named.allows(Some("evil.example:8750")));
        assert_eq!(named.origin, "http://audit.internal:8750");
    }
}
