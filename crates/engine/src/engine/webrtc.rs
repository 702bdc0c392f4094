//! WebRTC peers of a torrent, from its WebSocket trackers (`cinemahalal-webtorrent`),
//! handed to librqbit as ordinary peers.
//!
//! Each data channel that opens gets a loopback relay: a TCP listener on 127.0.0.1
//! whose address librqbit is given as a peer (in `initial_peers` before the torrent is
//! added, through `ManagedTorrent::add_peer` once it is live). librqbit connects to it
//! and speaks BitTorrent; the relay copies bytes between that connection and the data
//! channel, counting them. Piece picking, hash checks and uploads are librqbit's, as for
//! any peer. A relay serves one connection: when it ends, so does the channel.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cinemahalal_webtorrent::{PeerConnection, Progress, Swarm, SwarmConfig};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use super::stream::Handle;
use crate::status::PeerKind;
use crate::{EngineConfig, InfoHash, Magnet};

/// Whether `tracker` is a WebSocket (WebTorrent) tracker.
pub(crate) fn is_websocket_tracker(tracker: &str) -> bool {
    cinemahalal_webtorrent::is_websocket_tracker(tracker)
}

/// The link librqbit is given: without WebSocket trackers, which it does not speak.
pub(crate) fn without_websocket_trackers(m: &Magnet) -> Magnet {
    let mut out = Magnet::new(m.info_hash())
        .with_trackers(m.trackers().iter().filter(|t| !is_websocket_tracker(t)))
        .with_peers(m.peers().iter().copied());
    if let Some(name) = m.display_name() {
        out = out.with_display_name(name);
    }
    out
}

/// Where new relays go: collected for the next `add_torrent`, or to the live torrent.
enum Target {
    Collect(Vec<SocketAddr>),
    Live(Handle),
}

/// Bytes and connections through the relays, and the relays' addresses.
#[derive(Default)]
pub(crate) struct Counters {
    connected: AtomicU32,
    downloaded: AtomicU64,
    uploaded: AtomicU64,
    /// Every relay handed to the torrent: to librqbit each is a TCP peer at this
    /// address, which status must not count as one.
    relays: Mutex<HashSet<SocketAddr>>,
}

impl Counters {
    /// Whether librqbit's peer at `addr` is one of these relays.
    pub(crate) fn is_relay(&self, addr: &SocketAddr) -> bool {
        self.relays.lock().unwrap().contains(addr)
    }

    pub(crate) fn snapshot(&self) -> PeerKind {
        PeerKind {
            connected: self.connected.load(Ordering::Relaxed),
            downloaded_bytes: self.downloaded.load(Ordering::Relaxed),
            uploaded_bytes: self.uploaded.load(Ordering::Relaxed),
        }
    }
}

/// The WebRTC side of one torrent. Dropping it stops its trackers and its relays'
/// listeners (connections already relayed end with their channel).
pub(crate) struct WebPeers {
    swarm: Swarm,
    target: Arc<Mutex<Target>>,
    arrived: Arc<Notify>,
    pub(crate) counters: Arc<Counters>,
    progress: Arc<Mutex<Option<Handle>>>,
    completed: AtomicBool,
    task: JoinHandle<()>,
}

impl Drop for WebPeers {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl WebPeers {
    /// Starts the tracker clients of the WebSocket trackers in `trackers`; `None` when
    /// there are none or WebRTC is off.
    pub(crate) fn start(
        config: &EngineConfig,
        info_hash: InfoHash,
        trackers: &[String],
    ) -> Option<WebPeers> {
        let ws: Vec<String> = trackers
            .iter()
            .filter(|t| is_websocket_tracker(t))
            .cloned()
            .collect();
        if !config.webrtc || ws.is_empty() {
            return None;
        }
        let mut swarm_config = SwarmConfig::new(info_hash.0, ws);
        swarm_config.stun_servers = config.stun_servers.clone();
        let progress: Arc<Mutex<Option<Handle>>> = Arc::default();
        let read = progress.clone();
        let (swarm, peers) = Swarm::start(
            swarm_config,
            Arc::new(move || {
                let handle = read.lock().unwrap().clone();
                match handle {
                    Some(h) => {
                        let s = h.stats();
                        Progress {
                            downloaded: s.progress_bytes,
                            uploaded: s.uploaded_bytes,
                            left: Some(s.total_bytes.saturating_sub(s.progress_bytes)),
                        }
                    }
                    None => Progress::default(),
                }
            }),
        );
        let target = Arc::new(Mutex::new(Target::Collect(Vec::new())));
        let arrived = Arc::new(Notify::new());
        let counters = Arc::new(Counters::default());
        let task = tokio::spawn(relay_all(
            info_hash,
            peers,
            target.clone(),
            arrived.clone(),
            counters.clone(),
        ));
        tracing::info!(%info_hash, trackers = swarm.trackers(), "webrtc: announcing to websocket trackers");
        Some(WebPeers {
            swarm,
            target,
            arrived,
            counters,
            progress,
            completed: AtomicBool::new(false),
            task,
        })
    }

    /// The relays collected so far (and not handed out), waiting up to `wait` for a first
    /// one when there is none yet.
    pub(crate) async fn take_collected(&self, wait: Duration) -> Vec<SocketAddr> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.arrived.notified();
            {
                let mut target = self.target.lock().unwrap();
                if let Target::Collect(addrs) = &mut *target
                    && !addrs.is_empty()
                {
                    return std::mem::take(addrs);
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Vec::new();
            }
        }
    }

    /// The WebSocket trackers that cannot be used now, each as `url: why`.
    pub(crate) fn tracker_problems(&self) -> Vec<String> {
        self.swarm.problems()
    }

    /// Joins the trackers' swarms again with fresh offers: the connections used for
    /// metadata are gone.
    pub(crate) fn renew(&self) {
        self.swarm.renew();
    }

    /// Once `handle` is live (its data checked), relays go to it, and so do those
    /// collected meanwhile.
    pub(crate) async fn go_live(&self, handle: &Handle) {
        *self.progress.lock().unwrap() = Some(handle.clone());
        if let Err(e) = handle.wait_until_initialized().await {
            tracing::debug!("webrtc: the torrent did not start: {e:#}");
            return;
        }
        let previous = std::mem::replace(
            &mut *self.target.lock().unwrap(),
            Target::Live(handle.clone()),
        );
        if let Target::Collect(addrs) = previous {
            for addr in addrs {
                let _ = handle.add_peer(addr);
            }
        }
    }

    /// Tells the trackers the download is complete, the first time it is called.
    pub(crate) fn completed_once(&self) {
        if !self.completed.swap(true, Ordering::Relaxed) {
            self.swarm.completed();
        }
    }
}

async fn relay_all(
    info_hash: InfoHash,
    mut peers: mpsc::Receiver<PeerConnection>,
    target: Arc<Mutex<Target>>,
    arrived: Arc<Notify>,
    counters: Arc<Counters>,
) {
    while let Some(peer) = peers.recv().await {
        let listener = match TcpListener::bind(("127.0.0.1", 0)).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(%info_hash, "webrtc relay: {e}");
                continue;
            }
        };
        let Ok(addr) = listener.local_addr() else {
            continue;
        };
        tracing::info!(%info_hash, peer = ?peer, %addr, "webrtc peer connected");
        counters.relays.lock().unwrap().insert(addr);
        {
            let mut t = target.lock().unwrap();
            match &mut *t {
                Target::Collect(addrs) => addrs.push(addr),
                Target::Live(handle) => {
                    if let Err(e) = handle.add_peer(addr) {
                        tracing::debug!(%info_hash, "webrtc relay not taken: {e}");
                        continue;
                    }
                }
            }
        }
        arrived.notify_waiters();
        tokio::spawn(relay(listener, peer.pipe, counters.clone()));
    }
}

/// Waits for librqbit's one connection to the relay and copies both ways until either
/// side closes.
async fn relay(
    listener: TcpListener,
    pipe: cinemahalal_webtorrent::PeerPipe,
    counters: Arc<Counters>,
) {
    let accepted = tokio::time::timeout(Duration::from_secs(60), listener.accept()).await;
    drop(listener);
    let Ok(Ok((tcp, _))) = accepted else {
        return;
    };
    let _ = tcp.set_nodelay(true);
    counters.connected.fetch_add(1, Ordering::Relaxed);
    let (mut tcp_r, mut tcp_w) = tcp.into_split();
    let (mut pipe_r, mut pipe_w) = tokio::io::split(pipe);
    let down = copy_counting(&mut pipe_r, &mut tcp_w, &counters.downloaded);
    let up = copy_counting(&mut tcp_r, &mut pipe_w, &counters.uploaded);
    // Either direction ending ends the peer.
    tokio::select! {
        _ = down => {}
        _ = up => {}
    }
    counters.connected.fetch_sub(1, Ordering::Relaxed);
}

async fn copy_counting<R, W>(r: &mut R, w: &mut W, count: &AtomicU64)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let n = match r.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if w.write_all(&buf[..n]).await.is_err() {
            break;
        }
        count.fetch_add(n as u64, Ordering::Relaxed);
    }
    let _ = w.shutdown().await;
}
