//! The one way to run CinemaHalal's backend: the engine, the [`Api`] over it, the HTTP
//! server on its listener, and a bounded shutdown. The headless binary, the desktop app,
//! the tests and the benchmarks all call [`start`]; none wires these parts itself.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::serve::Listener;
use cinemahalal_engine::{Engine, EngineConfig};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::Api;
use crate::base_url::BaseUrlPolicy;
use crate::http::AppState;
use crate::media::{Loopback, MediaSettings};
use crate::search::SearchSetup;
use crate::security::{SecurityPolicy, SecuritySettings};
use crate::server::{self, HttpListener, SHUTDOWN_GRACE};

/// Longest the engine may take to stop its streams at shutdown.
pub const ENGINE_STOP_LIMIT: Duration = Duration::from_secs(5);

/// Everything [`start`] needs. [`crate::config::Config::settings`] makes one from flags
/// and environment variables; tests and benchmarks use [`Settings::loopback`].
#[derive(Debug, Clone)]
pub struct Settings {
    pub engine: EngineConfig,
    /// The address the HTTP API binds. A loopback address binds both families (see
    /// [`HttpListener`]).
    pub bind: IpAddr,
    pub port: Port,
    pub search: SearchSetup,
    pub base_url: BaseUrlPolicy,
    /// The built web UI, served at `/` when set.
    pub ui_dir: Option<PathBuf>,
    /// The access token and the extra host names (see [`crate::security`]).
    pub security: SecuritySettings,
    /// ffmpeg, ffprobe and the bounds of their jobs (see [`crate::media`]).
    pub media: MediaSettings,
}

/// Which port the HTTP API listens on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    /// This port or fail (the headless server: a proxy points at it). 0 picks a free one.
    Exactly(u16),
    /// This port when it is free, a free one otherwise (the desktop app, which tells its
    /// window the URL it got).
    Preferred(u16),
}

impl Settings {
    /// Everything on 127.0.0.1, on a free port, nothing that reaches the network by
    /// itself (see [`EngineConfig::loopback_only`]), search kept in memory.
    pub fn loopback(data_dir: impl Into<PathBuf>) -> Settings {
        Settings {
            engine: EngineConfig::loopback_only(data_dir),
            bind: Ipv4Addr::LOCALHOST.into(),
            port: Port::Exactly(0),
            search: SearchSetup::default(),
            base_url: BaseUrlPolicy::default(),
            ui_dir: None,
            security: SecuritySettings::default(),
            media: MediaSettings::default(),
        }
    }
}

/// The backend, running: the server answers on [`Running::local_addr`] until
/// [`Running::shutdown`].
pub struct Running {
    api: Arc<Api>,
    engine: Arc<Engine>,
    local_addr: SocketAddr,
    addrs: Vec<SocketAddr>,
    stop: oneshot::Sender<()>,
    server: JoinHandle<std::io::Result<()>>,
}

/// The Tokio runtime the backend serves HTTP on, in the headless binary and the desktop
/// app (whose Tauri commands share it).
///
/// One worker thread: serving is short steps between sockets and the page cache (a
/// chunk of a response read and sent), and what takes longer (a read that waits for the
/// disk) leaves the worker for a blocking thread. The torrent engine's tasks do not run
/// here: the engine keeps a runtime of its own, also of one worker (`Engine::start`), so
/// the download and the serving of it each have a core.
/// With a worker per core, tokio wakes an idle worker each time another one finds work:
/// about one thread wake-up per block received when the engine's tasks ran here. On the
/// unshaped benchmark's sequential read (1 GiB, seven alternating pairs) one worker used
/// less CPU in every pair: medians 2.45 -> 2.20 CPU-s per GiB, 432 -> 451 MB/s.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
}

/// Starts the engine, binds the HTTP API and serves it. Must run inside a Tokio runtime,
/// which keeps the server's task. On failure nothing is left running. Refuses settings
/// that would expose the API without an access token.
pub async fn start(settings: Settings) -> anyhow::Result<Running> {
    if let Some(why) = settings.security.refusal(settings.bind) {
        anyhow::bail!("refusing to start: {why}");
    }
    let engine = Engine::start(settings.engine)
        .await
        .context("starting the torrent engine")?;
    let listener = match bind(settings.bind, settings.port).await {
        Ok(listener) => listener,
        Err(e) => {
            engine.shutdown().await;
            return Err(e);
        }
    };
    let local_addr = listener.local_addr()?;
    let addrs = listener.local_addrs();
    // ffmpeg reads streams through this server, on loopback when it listens on every address.
    let mut loopback_addr = local_addr;
    if loopback_addr.ip().is_unspecified() {
        loopback_addr.set_ip(match loopback_addr.ip() {
            IpAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
            IpAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    let loopback = Loopback {
        base_url: format!("http://{loopback_addr}"),
        access_token: settings.security.access_token.clone(),
    };
    let api = Arc::new(
        Api::new(engine.clone())
            .with_search(settings.search)
            .with_media(settings.media, loopback),
    );
    let security = SecurityPolicy::new(
        &settings.security,
        settings.bind,
        local_addr.port(),
        settings.base_url.public_url(),
    );
    let state = AppState::new(api.clone(), local_addr)
        .with_ui_dir(settings.ui_dir)
        .with_base_url(settings.base_url)
        .with_security(security);
    tracing::info!(
        data_dir = %engine.config().data_dir.display(),
        ui = ?state.ui_dir(),
        access_token = settings.security.access_token.is_some(),
        also = ?addrs,
        "CinemaHalal listening on http://{local_addr}"
    );
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(server::run(listener, state, async {
        let _ = stopped.await;
    }));
    Ok(Running {
        api,
        engine,
        local_addr,
        addrs,
        stop,
        server,
    })
}

async fn bind(ip: IpAddr, port: Port) -> anyhow::Result<HttpListener> {
    let wanted = match port {
        Port::Exactly(p) | Port::Preferred(p) => p,
    };
    match (HttpListener::bind(ip, wanted).await, port) {
        (Ok(listener), _) => Ok(listener),
        (Err(e), Port::Preferred(p)) if p != 0 => {
            tracing::info!("port {p} is not available ({e}); using a free port");
            HttpListener::bind(ip, 0)
                .await
                .with_context(|| format!("binding the HTTP API to {ip}"))
        }
        (Err(e), _) => Err(e)
            .with_context(|| format!("binding the HTTP API to {}", SocketAddr::new(ip, wanted))),
    }
}

impl Running {
    pub fn api(&self) -> &Arc<Api> {
        &self.api
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// The address the API answers on (the first one bound).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Every address listened on (both loopback families when bound to loopback).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// `http://<local_addr>`: where a client on this machine reaches the API.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// Serves until `signal` completes, then shuts down.
    pub async fn serve_until(self, signal: impl Future<Output = ()>) {
        signal.await;
        self.shutdown().await;
    }

    /// Stops accepting, gives open responses [`SHUTDOWN_GRACE`], then stops every stream
    /// (deleting its data), each step bounded so shutting down never hangs.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        bounded(
            "the HTTP server",
            SHUTDOWN_GRACE + Duration::from_secs(1),
            async {
                match self.server.await {
                    Ok(Err(e)) => tracing::warn!("the HTTP server stopped with an error: {e}"),
                    Err(e) => tracing::warn!("the HTTP server task failed: {e}"),
                    Ok(Ok(())) => {}
                }
            },
        )
        .await;
        tracing::info!("shutting down: stopping streams");
        bounded("the engine", ENGINE_STOP_LIMIT, self.engine.shutdown()).await;
    }
}

async fn bounded(what: &str, limit: Duration, f: impl Future<Output = ()>) {
    if tokio::time::timeout(limit, f).await.is_err() {
        tracing::warn!("{what} did not stop within {limit:?}; going on");
    }
}

/// Resolves on SIGTERM or Ctrl-C (SIGINT). The handlers are installed when this is
/// called, not when the future is first polled, so a signal that comes early is kept.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {},
                        _ = int.recv() => {},
                    }
                }
                _ => std::future::pending().await,
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(dir: &std::path::Path, port: Port) -> Settings {
        Settings {
            port,
            ..Settings::loopback(dir)
        }
    }

    #[tokio::test]
    async fn a_preferred_port_that_is_taken_falls_back_to_a_free_one() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        let running = start(settings(dir.path(), Port::Preferred(port)))
            .await
            .unwrap();
        assert_ne!(running.local_addr().port(), port);
        assert!(running.local_addr().ip().is_loopback());
        running.shutdown().await;
    }

    #[tokio::test]
    async fn an_exact_port_that_is_taken_fails_and_leaves_nothing_running() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        let err = start(settings(dir.path(), Port::Exactly(port)))
            .await
            .err()
            .expect("the port is taken");
        assert!(format!("{err:#}").contains(&port.to_string()), "{err:#}");
    }

    #[tokio::test]
    async fn a_public_bind_without_a_token_is_refused_before_anything_starts() {
        let dir = tempfile::tempdir().unwrap();
        let err = start(Settings {
            bind: Ipv4Addr::UNSPECIFIED.into(),
            ..Settings::loopback(dir.path())
        })
        .await
        .err()
        .expect("no token");
        assert!(format!("{err:#}").contains("--access-token"), "{err:#}");
        assert!(
            std::fs::read_dir(dir.path()).unwrap().next().is_none(),
            "the engine started"
        );
    }

    #[tokio::test]
    async fn serves_until_shut_down_then_refuses_connections() {
        let dir = tempfile::tempdir().unwrap();
        let running = start(Settings::loopback(dir.path())).await.unwrap();
        let addr = running.local_addr();
        assert_eq!(running.base_url(), format!("http://{addr}"));
        assert_eq!(running.api().health().status, "OK");
        tokio::net::TcpStream::connect(addr).await.unwrap();
        running.shutdown().await;
        assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    }
}
