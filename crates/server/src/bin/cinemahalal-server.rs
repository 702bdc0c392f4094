//! The headless server: the HTTP API and the torrent engine, without a window.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::serve::Listener;
use cinemahalal_engine::Engine;
use cinemahalal_server::config::{Config, init_logging};
use cinemahalal_server::http::AppState;
use cinemahalal_server::server::HttpListener;
use cinemahalal_server::{Api, server};
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    init_logging(config.log_format);

    let engine = Engine::start(config.engine_config()).await?;
    let addr = SocketAddr::new(config.bind, config.port);
    let listener = HttpListener::bind(config.bind, config.port)
        .await
        .with_context(|| format!("binding the HTTP API to {addr}"))?;
    let local_addr = listener.local_addr()?;
    let state = AppState::new(
        Arc::new(Api::new(engine.clone()).with_search(config.search_setup())),
        local_addr,
    )
    .with_ui_dir(config.ui_dir())
    .with_base_url(config.base_url_policy());
    tracing::info!(
        data_dir = %config.data_dir().display(),
        ui = ?state.ui_dir(),
        also = ?listener.local_addrs(),
        "CinemaHalal server listening on http://{local_addr}"
    );
    server::run(listener, state, shutdown_signal()).await?;
    tracing::info!("shutting down: stopping streams");
    engine.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
