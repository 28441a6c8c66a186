//! Posting the message: one HTTP/1 POST per webhook over hyper's own client
//! connection (plain TCP, or TLS by rustls with the webpki roots), a time
//! limit per attempt, one retry when the webhook timed out, could not be
//! reached or answered 5xx. A webhook's URL carries its token, so it is
//! only ever shown as scheme, host and port.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use url::Url;

/// The time limit of one attempt (interface.md: 10 s).
const ATTEMPT_LIMIT: Duration = Duration::from_secs(10);

/// The time limit of one attempt: 10 s. Debug builds (the tests) may shorten
/// it with `INSIDER_AUDIT_NOTIFY_TIMEOUT_MS`, so a test of a webhook that
/// never answers does not wait 20 s; a release build ignores the variable.
pub(crate) fn attempt_limit() -> Duration {
    #[cfg(debug_assertions)]
    if let Some(ms) = std::env::var("INSIDER_AUDIT_NOTIFY_TIMEOUT_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
    {
        return Duration::from_millis(ms);
    }
    ATTEMPT_LIMIT
}

/// A webhook to post to: an http or https URL with a host.
#[derive(Clone)]
pub(crate) struct Webhook {
    url: Url,
}

// Never the URL: a Debug print must not leak the token.
impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Webhook").field(&self.redacted()).finish()
    }
}

impl Webhook {
    /// The webhook at `text`; the error never repeats `text`. Its secret
    /// parts are registered for redaction, so no log line or report can show them.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        crate::redact::register(text);
        let url = Url::parse(text).map_err(|e| format!("not a URL ({e})"))?;
        let shown = Webhook { url: url.clone() }.redacted();
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!("{shown} is not an http or https URL with a host"));
        }
        crate::redact::register(&url[url::Position::BeforePath..]);
        crate::redact::register(url.as_str());
        if let Some(password) = url.password() {
            crate::redact::register(password);
        }
        Ok(Webhook { url })
    }

    /// `https://hooks.slack.com/…`: enough to tell webhooks apart, not
    /// enough to post to one.
    pub(crate) fn redacted(&self) -> String {
        let host = self.url.host_str().unwrap_or("");
        match self.url.port() {
            Some(port) => format!("{}://{host}:{port}/…", self.url.scheme()),
            None => format!("{}://{host}/…", self.url.scheme()),
        }
    }
}

/// Why an attempt failed, and whether another is worth it.
enum Failure {
    /// Timed out, unreachable or a 5xx: tried once more.
    Passing(String),
    /// Refused for good (a 4xx, a bad TLS name): not retried.
    Final(String),
}

/// Posts `body` to every webhook at once; the failures, one sentence each
/// naming the webhook redacted, after a retry where one is worth it.
pub(crate) async fn deliver(
    webhooks: &[Webhook],
    body: &serde_json::Value,
    limit: Duration,
) -> Vec<String> {
    let body = Bytes::from(serde_json::to_vec(body).expect("a JSON value serialises"));
    let tls = tls_connector();
    let posts = webhooks.iter().map(|webhook| {
        let (body, tls) = (body.clone(), tls.clone());
        async move {
            let mut outcome = attempt(webhook, &body, &tls, limit).await;
            if let Err(Failure::Passing(why)) = &outcome {
                tracing::debug!(
                    "notification to {} failed ({why}); retrying",
                    webhook.redacted()
                );
                outcome = attempt(webhook, &body, &tls, limit).await;
            }
            match outcome {
                Ok(()) => None,
                Err(Failure::Passing(why) | Failure::Final(why)) => Some(format!(
                    "the notification to {} was not delivered: {why}",
                    webhook.redacted()
                )),
            }
        }
    });
    futures::future::join_all(posts)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// One POST within `limit`.
async fn attempt(
    webhook: &Webhook,
    body: &Bytes,
    tls: &tokio_rustls::TlsConnector,
    limit: Duration,
) -> Result<(), Failure> {
    tracing::trace!(
        "posting the run's message ({} bytes) to {}",
        body.len(),
        webhook.redacted()
    );
    let status = match tokio::time::timeout(limit, post(webhook, body, tls)).await {
        Err(_) => {
            return Err(Failure::Passing(format!(
                "no answer within {} ms",
                limit.as_millis()
            )))
        }
        Ok(result) => result?,
    };
    if status.is_success() {
        Ok(())
    } else if status.is_server_error() {
        Err(Failure::Passing(format!("it answered {status}")))
    } else {
        Err(Failure::Final(format!("it answered {status}")))
    }
}

/// Connects (TLS for https) and posts; the answer's status.
async fn post(
    webhook: &Webhook,
    body: &Bytes,
    tls: &tokio_rustls::TlsConnector,
) -> Result<StatusCode, Failure> {
    let url = &webhook.url;
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(80);
    let tcp = TcpStream::connect((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|e| Failure::Passing(format!("cannot connect: {e}")))?;
    let authority = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    };
    let request = Request::post(&url[url::Position::BeforePath..url::Position::AfterQuery])
        .header(hyper::header::HOST, authority)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(
            hyper::header::USER_AGENT,
            concat!("insider-audit/", env!("CARGO_PKG_VERSION")),
        )
        .body(Full::new(body.clone()))
        .map_err(|e| Failure::Final(format!("cannot build the request: {e}")))?;
    if url.scheme() == "https" {
        let name =
            rustls::pki_types::ServerName::try_from(host.trim_matches(['[', ']']).to_string())
                .map_err(|e| Failure::Final(format!("not a TLS server name: {e}")))?;
        let stream = tls
            .connect(name, tcp)
            .await
            .map_err(|e| Failure::Passing(format!("TLS: {e}")))?;
        exchange(stream, request).await
    } else {
        exchange(tcp, request).await
    }
}

/// Sends `request` on one HTTP/1 connection over `stream`.
async fn exchange<S>(stream: S, request: Request<Full<Bytes>>) -> Result<StatusCode, Failure>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| Failure::Passing(format!("HTTP: {e}")))?;
    // The connection is driven beside the request; it ends when both sides are done.
    let driver = tokio::spawn(connection);
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| Failure::Passing(format!("HTTP: {e}")));
    drop(sender);
    driver.abort();
    Ok(response?.status())
}

/// TLS with the webpki roots (the same trust the PostgreSQL store uses):
/// no dependence on the runner's certificate store.
fn tls_connector() -> tokio_rustls::TlsConnector {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports the default TLS versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_webhook_is_shown_without_its_path() {
        let hook = Webhook::parse("https://hooks.example/services/T0/B0/tok3n").unwrap();
        assert_eq!(hook.redacted(), "https://hooks.example/…");
        assert_eq!(format!("{hook:?}"), "Webhook(\"https://hooks.example/…\")");
        let local = Webhook::parse("http://127.0.0.1:8080/hook/s3cr3t?k=v").unwrap();
        assert_eq!(local.redacted(), "http://127.0.0.1:8080/…");
        assert_eq!(
            crate::redact::redact("posting to /hook/s3cr3t?k=v"),
            "posting to ***"
        );
    }

    #[test]
    fn a_bad_webhook_is_refused_without_repeating_it() {
        let error = Webhook::parse("ftp://files.example/t0ken-ftp").unwrap_err();
        assert!(!error.contains("t0ken-ftp"), "{error}");
        assert!(error.contains("ftp://files.example/…"), "{error}");
        let error = Webhook::parse("not a url t0ken-x").unwrap_err();
        assert!(!error.contains("t0ken-x"), "{error}");
    }
}
