//! The in-process backend: the same engine and loopback HTTP server the headless
//! `cinemahalal-server` runs, started before the window opens and stopped on exit.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use cinemahalal_engine::Engine;
use cinemahalal_server::Api;
use cinemahalal_server::config::Config;
use cinemahalal_server::http::AppState;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Longest the engine may take to stop its streams when the app quits.
pub const ENGINE_STOP_LIMIT: Duration = Duration::from_secs(5);

/// The desktop's settings: the headless server's, from the environment only (the app
/// takes no flags), e.g. `CINEMAHALAL_DATA_DIR`, `CINEMAHALAL_NO_DHT`, `PORT`.
pub fn config_from_env() -> Result<Config, clap::Error> {
    config_from_args(["cinemahalal-desktop"])
}

/// [`config_from_env`] with arguments too; tests pass flags instead of setting variables.
pub fn config_from_args<I, T>(args: I) -> Result<Config, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::Parser;
    Config::try_parse_from(args)
}

/// Binds the API on the loopback interface: on `preferred_port` when it is free, on a
/// port the system picks otherwise. The desktop never listens beyond 127.0.0.1, whatever
/// `CINEMAHALAL_BIND` says: the page's CSP allows media from 127.0.0.1 only.
pub async fn bind_loopback(preferred_port: u16) -> std::io::Result<TcpListener> {
    let preferred = SocketAddr::from((Ipv4Addr::LOCALHOST, preferred_port));
    match TcpListener::bind(preferred).await {
        Ok(listener) => Ok(listener),
        Err(e) => {
            tracing::info!("port {preferred_port} is not available ({e}); using a free port");
            TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
        }
    }
}

/// The engine and the server running in-process.
pub struct Backend {
    pub api: Arc<Api>,
    /// `http://127.0.0.1:<port>`, the prefix of every stream URL.
    pub base_url: String,
    pub local_addr: SocketAddr,
    engine: Arc<Engine>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

impl Backend {
    /// Starts the engine and serves the API on the loopback interface. Must run inside a
    /// Tokio runtime, which keeps the server's task.
    pub async fn start(config: &Config) -> anyhow::Result<Backend> {
        let engine = Engine::start(config.engine_config())
            .await
            .context("starting the torrent engine")?;
        let listener = match bind_loopback(config.port).await {
            Ok(l) => l,
            Err(e) => {
                engine.shutdown().await;
                return Err(e).context("binding the loopback HTTP API");
            }
        };
        let local_addr = listener.local_addr()?;
        // Search providers as the headless server keeps them: the platform's search.toml
        // (or CINEMAHALAL_SEARCH_CONFIG), with the environment's overrides.
        let api = Arc::new(Api::new(engine.clone()).with_search(config.search_setup()));
        // The page talks to the engine through commands; the server is there for the
        // <video> element and external players. It also serves the built UI, like the
        // headless server, for a browser pointed at it.
        let state = AppState::new(api.clone(), local_addr).with_ui_dir(config.ui_dir());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(cinemahalal_server::server::run(listener, state, async {
            let _ = stopped.await;
        }));
        tracing::info!(
            data_dir = %config.data_dir().display(),
            "CinemaHalal engine started; streams served on http://{local_addr}"
        );
        Ok(Backend {
            api,
            base_url: format!("http://{local_addr}"),
            local_addr,
            engine,
            stop: Some(stop),
            server: Some(server),
        })
    }

    /// Stops the server (open responses get [`cinemahalal_server::server::SHUTDOWN_GRACE`])
    /// and then every stream, each step bounded so quitting never hangs.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let limit = cinemahalal_server::server::SHUTDOWN_GRACE + Duration::from_secs(1);
            bounded("the HTTP server", limit, async {
                if let Ok(Err(e)) = server.await {
                    tracing::warn!("the HTTP server stopped with an error: {e}");
                }
            })
            .await;
        }
        tracing::info!("shutting down: stopping streams");
        bounded("the engine", ENGINE_STOP_LIMIT, self.engine.shutdown()).await;
    }
}

async fn bounded(what: &str, limit: Duration, f: impl Future<Output = ()>) {
    if tokio::time::timeout(limit, f).await.is_err() {
        tracing::warn!("{what} did not stop within {limit:?}; quitting anyway");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn binds_the_preferred_port_when_free() {
        // Find a free port, release it, then ask for it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let listener = bind_loopback(port).await.unwrap();
        let addr = listener.local_addr().unwrap();
        assert_eq!(addr.port(), port);
        assert!(addr.ip().is_loopback());
    }

    #[tokio::test]
    async fn falls_back_to_a_free_port_when_the_preferred_one_is_taken() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let listener = bind_loopback(port).await.unwrap();
        let addr = listener.local_addr().unwrap();
        assert_ne!(addr.port(), port);
        assert_ne!(addr.port(), 0);
        assert!(addr.ip().is_loopback());
    }

    #[test]
    fn config_comes_from_the_environment_variables_of_the_headless_server() {
        // The defaults themselves are the server crate's test (config.rs).
        let config = config_from_args(["x", "--no-dht", "--port", "0"]).unwrap();
        assert!(config.no_dht);
        assert_eq!(config.port, 0);
    }

    /// The whole backend: started from a config, answering on loopback, stopped.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn starts_serves_health_and_stops() {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().to_str().unwrap();
        let config = config_from_args([
            "x",
            "--port",
            "0",
            "--data-dir",
            data_dir,
            "--no-dht",
            "--no-local-discovery",
            "--peer-listen",
            "127.0.0.1:0",
            "--search-config",
            dir.path().join("search.toml").to_str().unwrap(),
        ])
        .unwrap();
        let backend = tokio::time::timeout(Duration::from_secs(30), Backend::start(&config))
            .await
            .unwrap()
            .unwrap();
        assert!(backend.local_addr.ip().is_loopback());
        assert_eq!(backend.base_url, format!("http://{}", backend.local_addr));
        assert_eq!(backend.api.health().status, "OK");

        let mut socket = tokio::net::TcpStream::connect(backend.local_addr)
            .await
            .unwrap();
        socket
            .write_all(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        tokio::time::timeout(Duration::from_secs(10), socket.read_to_string(&mut answer))
            .await
            .unwrap()
            .unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains("\"status\":\"OK\""), "{answer}");

        let addr = backend.local_addr;
        tokio::time::timeout(Duration::from_secs(15), backend.shutdown())
            .await
            .unwrap();
        assert!(
            tokio::net::TcpStream::connect(addr).await.is_err(),
            "the server still accepts after shutdown"
        );
    }
}
