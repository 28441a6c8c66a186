//! `insider-audit history serve`: the trend views live from the store,
//! read-only, as plain HTML that works without JavaScript (and as JSON at
//! the same paths). Loopback unless `--addr` says otherwise; it answers only
//! its own `Host` ([`guard`]), serves nothing but the store's data and the
//! styles inlined in each page (no path from a request reaches the file
//! system), opens a read for each request and holds none between them, lets
//! at most [`STORE_PERMITS`] requests read at once, and stops cleanly on
//! SIGINT or SIGTERM.

mod answer;
mod guard;
mod routes;

use super::{HistoryError, Store};
use crate::error::ExitCode;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How many requests read the store at once; the others wait their turn.
pub(crate) const STORE_PERMITS: usize = 8;

/// How long a view may take before the request is answered 503.
pub(crate) const VIEW_TIMEOUT: Duration = Duration::from_secs(20);

/// What every request shares.
pub(crate) struct App {
    store: Store,
    permits: tokio::sync::Semaphore,
}

/// Serves `store` at `addr` until SIGINT or SIGTERM; prints where to
/// `stdout` first (with the port chosen when `addr` asks for port 0).
pub(crate) async fn serve(
    store: Store,
    addr: SocketAddr,
    stdout: &mut dyn Write,
) -> Result<ExitCode, HistoryError> {
    // A store that cannot be read is said now, not on the first request.
    drop(store.open_read().await?);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| HistoryError::Usage(format!("could not listen on {addr}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| HistoryError::Usage(format!("could not listen on {addr}: {e}")))?;
    let hosts = Arc::new(guard::Hosts::of(bound));
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
    });
    let router = routes::router(app).layer(axum::middleware::from_fn_with_state(
        hosts,
        guard::guard,
    ));
    let stopped = Arc::new(std::sync::atomic::AtomicI32::new(0));
    let signal = {
        let stopped = stopped.clone();
        async move {
            let code = shutdown_signal().await;
            stopped.store(code as i32, std::sync::atomic::Ordering::SeqCst);
        }
    };
    axum::serve(listener, router)
        .with_graceful_shutdown(signal)
        .await
        .map_err(|e| HistoryError::Usage(format!("serving {bound}: {e}")))?;
    tracing::info!("stopped serving");
    // Stopping on request is how a server ends: a clean exit.
    Ok(ExitCode::Clean)
}

/// Waits for SIGINT or SIGTERM; which one.
async fn shutdown_signal() -> ExitCode {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return ExitCode::Interrupted;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => ExitCode::Interrupted,
        _ = term.recv() => ExitCode::Terminated,
    }
}
