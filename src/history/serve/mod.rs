//! `insider-audit history serve`: the trend views live from the store,
//! read-only, as plain HTML that works without JavaScript (and as JSON at
//! the same paths). Loopback unless `--addr` says otherwise; it answers only
//! its own `Host` ([`guard`]), serves nothing but the store's data and the
//! styles inlined in each page (no path from a request reaches the file
//! system), opens a read for each request and holds none between them, keeps
//! rendered views while the store does not change ([`cache`]), lets
//! at most [`STORE_PERMITS`] requests read at once, and stops cleanly on
//! SIGINT or SIGTERM.

mod answer;
mod cache;
mod guard;
mod routes;

use super::{HistoryError, Store};
use crate::error::ExitCode;
use std::future::IntoFuture;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How many requests read the store at once; the others wait their turn.
pub(crate) const STORE_PERMITS: usize = 8;

/// How long the requests in flight get after SIGINT or SIGTERM (a second
/// signal stops at once).
pub(crate) const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How long a request may take (its turn, the store's generation and the
/// view) before it is answered 503.
pub(crate) const VIEW_TIMEOUT: Duration = Duration::from_secs(20);

/// What every request shares.
pub(crate) struct App {
    store: Store,
    permits: tokio::sync::Semaphore,
    views: cache::Views,
}

/// Serves `store` at `addr` until SIGINT or SIGTERM; prints where to
/// `stdout` first (with the port chosen when `addr` asks for port 0).
pub(crate) async fn serve(
    store: Store,
    addr: SocketAddr,
    names: &[String],
    stdout: &mut dyn Write,
) -> Result<ExitCode, HistoryError> {
    if addr.ip().is_unspecified() && names.is_empty() {
        return Err(HistoryError::Usage(format!(
            "--addr {addr} listens on every interface, but a browser names the server by a host \
             name or address: say which with --host NAME (repeatable), e.g. --host audit.internal"
        )));
    }
    // A store that cannot be read is said now, not on the first request.
    drop(store.open_read().await?);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| HistoryError::Usage(format!("could not listen on {addr}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| HistoryError::Usage(format!("could not listen on {addr}: {e}")))?;
    let hosts = Arc::new(guard::Hosts::of(bound, names));
    // Listening for the signals before saying where: a stop asked for as soon
    // as the address is known is a clean stop too.
    let mut signals = Signals::listen()
        .map_err(|e| HistoryError::Usage(format!("could not listen for signals: {e}")))?;
    let _ = writeln!(
        stdout,
        "serving {} at {}/ (read-only; Ctrl-C stops)",
        store.shown(),
        hosts.origin
    );
    let _ = stdout.flush();
    if !bound.ip().is_loopback() {
        tracing::warn!(%bound, "serving beyond this machine: anyone who reaches the address reads the history");
    }
    let app = Arc::new(App {
        store,
        permits: tokio::sync::Semaphore::new(STORE_PERMITS),
        views: cache::Views::default(),
    });
    let router =
        routes::router(app).layer(axum::middleware::from_fn_with_state(hosts, guard::guard));
    let stopping = Arc::new(tokio::sync::Notify::new());
    let graceful = {
        let stopping = stopping.clone();
        async move { stopping.notified().await }
    };
    let server = axum::serve(listener, router)
        .with_graceful_shutdown(graceful)
        .into_future();
    tokio::pin!(server);
    let served = tokio::select! {
        served = &mut server => served,
        which = signals.next() => {
            tracing::info!(?which, "stopping: answering the requests in flight");
            stopping.notify_one();
            tokio::select! {
                served = &mut server => served,
                _ = tokio::time::sleep(SHUTDOWN_GRACE) => {
                    tracing::warn!("requests still in flight {} s after the signal: stopped", SHUTDOWN_GRACE.as_secs());
                    Ok(())
                }
                _ = signals.next() => {
                    tracing::warn!("a second signal: stopped without waiting");
                    Ok(())
                }
            }
        }
    };
    served.map_err(|e| HistoryError::Usage(format!("serving {bound}: {e}")))?;
    // Stopping on request is how a server ends: a clean exit (0).
    Ok(ExitCode::Clean)
}

/// SIGINT and SIGTERM, listened for.
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn listen() -> std::io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    /// The next of them to come, as the exit code it would be.
    async fn next(&mut self) -> ExitCode {
        tokio::select! {
            _ = self.interrupt.recv() => ExitCode::Interrupted,
            _ = self.terminate.recv() => ExitCode::Terminated,
        }
    }
}
