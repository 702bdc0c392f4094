//! Serving the router on a bound listener, with a bounded graceful shutdown.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use axum::serve::{Listener, ListenerExt};
use tokio::net::{TcpListener, TcpStream};

use crate::http::{AppState, router};

/// How long open responses (media bodies can be endless) may take to finish once
/// shutdown starts.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Serves the API on `listener` until `shutdown` completes. Taking a bound listener lets
/// tests bind port 0 and the desktop app pick a free port.
pub async fn run<L>(
    listener: L,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: Listener<Io = TcpStream, Addr = SocketAddr>,
{
    let listener = listener.tap_io(|tcp| {
        // Media chunks should leave at once, not wait for Nagle.
        let _ = tcp.set_nodelay(true);
    });
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

/// The HTTP listening sockets. Bound to a loopback address, the server listens on both
/// 127.0.0.1 and ::1 at the same port: `localhost` resolves to `::1` first on many
/// systems, and a client (nginx's `proxy_pass http://localhost:3001` among them) that
/// tries it must not meet a refused connection.
pub struct HttpListener {
    primary: TcpListener,
    second: Option<TcpListener>,
}

impl HttpListener {
    /// Binds `ip:port` (`port` 0 picks a free one), and the other loopback family too
    /// when `ip` is loopback; the second bind is best effort (a host without IPv6).
    pub async fn bind(ip: IpAddr, port: u16) -> std::io::Result<HttpListener> {
        let primary = TcpListener::bind((ip, port)).await?;
        let port = primary.local_addr()?.port();
        let other: Option<IpAddr> = match ip {
            IpAddr::V4(v4) if v4.is_loopback() => Some(Ipv6Addr::LOCALHOST.into()),
            IpAddr::V6(v6) if v6.is_loopback() => Some(Ipv4Addr::LOCALHOST.into()),
            _ => None,
        };
        let second = match other {
            Some(other) => match TcpListener::bind((other, port)).await {
                Ok(l) => Some(l),
                Err(e) => {
                    tracing::warn!("not listening on {other} port {port}: {e}");
                    None
                }
            },
            None => None,
        };
        Ok(HttpListener { primary, second })
    }

    /// Every address listened on.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        [Some(&self.primary), self.second.as_ref()]
            .into_iter()
            .flatten()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }
}

impl Listener for HttpListener {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        match &mut self.second {
            None => Listener::accept(&mut self.primary).await,
            Some(second) => tokio::select! {
                conn = Listener::accept(&mut self.primary) => conn,
                conn = Listener::accept(second) => conn,
            },
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.primary.local_addr()
    }
}
