//! Serving the router on a bound listener, with a bounded graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::http::{AppState, router};

/// How long open responses (media bodies can be endless) may take to finish once
/// shutdown starts.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Serves the API on `listener` until `shutdown` completes. Taking a bound listener lets
/// tests bind port 0 and the desktop app pick a free port.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut stopping = stop_rx.clone();
    let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = stopping.wait_for(|s| *s).await;
    });
    let mut serve = tokio::spawn(async move { serve.await });
    shutdown.await;
    let _ = stop_tx.send(true);
    match tokio::time::timeout(SHUTDOWN_GRACE, &mut serve).await {
        Ok(joined) => joined.map_err(std::io::Error::other)?,
        Err(_) => {
            tracing::info!("responses still open after {SHUTDOWN_GRACE:?}; closing them");
            serve.abort();
            Ok(())
        }
    }
}
