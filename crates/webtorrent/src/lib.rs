//! WebTorrent for CinemaHalal: the WebSocket tracker protocol (`ws://`, `wss://`) and
//! WebRTC data channels that carry the plain BitTorrent wire protocol.
//!
//! - `tracker`: one WebSocket connection per tracker and torrent: announces with
//!   WebRTC offers, answers the offers other peers send through it, re-announces and
//!   reconnects;
//! - `rtc`: one task per WebRTC peer (str0m, sans-IO, over its own UDP sockets),
//!   exposing the data channel as an [`tokio::io::AsyncRead`] + [`tokio::io::AsyncWrite`]
//!   pipe;
//! - `stun`: the server-reflexive address from a STUN server, when one is configured.
//!
//! [`Swarm`] ties them together for one torrent: it yields a [`PeerConnection`] for
//! every data channel that opens. The crate knows nothing of librqbit: what it yields is
//! a byte pipe speaking BitTorrent.

mod rtc;
mod stun;
pub mod tracker;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

pub use rtc::{PeerPipe, RtcSettings};
pub use tracker::{Progress, TrackerEvent};

/// Whether `url` names a WebSocket tracker (what this crate speaks to).
pub fn is_websocket_tracker(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    lower.starts_with("ws://") || lower.starts_with("wss://")
}

/// What a swarm needs to know.
#[derive(Debug, Clone)]
pub struct SwarmConfig {
    pub info_hash: [u8; 20],
    /// The peer id announced to the trackers.
    pub peer_id: [u8; 20],
    /// `ws://` and `wss://` tracker URLs; others are ignored.
    pub trackers: Vec<String>,
    /// `host:port` of STUN servers, for a server-reflexive candidate. None on a LAN.
    pub stun_servers: Vec<String>,
    /// Offers sent with each announce (and peers asked for).
    pub offers_per_announce: usize,
    /// At most this many WebRTC peers at once.
    pub max_peers: usize,
}

impl SwarmConfig {
    pub fn new(info_hash: [u8; 20], trackers: Vec<String>) -> SwarmConfig {
        SwarmConfig {
            info_hash,
            peer_id: random_peer_id(),
            trackers,
            stun_servers: Vec::new(),
            offers_per_announce: 5,
            max_peers: 20,
        }
    }
}

/// A peer id in the Azureus style, `-CH0001-` and twelve random characters.
pub fn random_peer_id() -> [u8; 20] {
    use rand::Rng;
    let mut id = *b"-CH0001-000000000000";
    let mut rng = rand::rng();
    for b in &mut id[8..] {
        *b = rng.random_range(b'a'..=b'z');
    }
    id
}

/// A WebRTC peer whose data channel is open.
pub struct PeerConnection {
    /// The peer id the tracker named it by.
    pub peer_id: [u8; 20],
    /// The data channel: BitTorrent's wire protocol flows through it.
    pub pipe: PeerPipe,
}

impl std::fmt::Debug for PeerConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerConnection")
            .field("peer_id", &String::from_utf8_lossy(&self.peer_id))
            .finish()
    }
}

/// The WebTorrent side of one torrent: a tracker client per WebSocket tracker. Dropping
/// it announces `stopped` and ends every task (open pipes stay usable until closed).
pub struct Swarm {
    trackers: Vec<tracker::TrackerHandle>,
}

impl Swarm {
    /// Starts a tracker client per WebSocket tracker of `config`; data channels that
    /// open are sent to the receiver. `progress` is read at each announce.
    pub fn start(
        config: SwarmConfig,
        progress: Arc<dyn Fn() -> Progress + Send + Sync>,
    ) -> (Swarm, mpsc::Receiver<PeerConnection>) {
        let (tx, rx) = mpsc::channel(32);
        let settings = Arc::new(RtcSettings {
            stun_servers: config.stun_servers.clone(),
            connect_timeout: Duration::from_secs(30),
        });
        let slots = Arc::new(tokio::sync::Semaphore::new(config.max_peers.max(1)));
        let trackers = config
            .trackers
            .iter()
            .filter(|t| is_websocket_tracker(t))
            .map(|url| {
                tracker::TrackerHandle::spawn(
                    url.clone(),
                    config.clone(),
                    settings.clone(),
                    progress.clone(),
                    slots.clone(),
                    tx.clone(),
                )
            })
            .collect();
        (Swarm { trackers }, rx)
    }

    /// Announces again now, with fresh offers.
    pub fn announce_now(&self) {
        for t in &self.trackers {
            t.send(TrackerEvent::Update);
        }
    }

    /// Joins the swarm again under a new peer id, with fresh offers: after connections
    /// were closed on purpose (the metadata fetch's), peers accept new ones at once.
    pub fn renew(&self) {
        for t in &self.trackers {
            t.send(TrackerEvent::Renew);
        }
    }

    /// Announces `completed` (the download finished).
    pub fn completed(&self) {
        for t in &self.trackers {
            t.send(TrackerEvent::Completed);
        }
    }

    /// How many trackers it talks to.
    pub fn trackers(&self) -> usize {
        self.trackers.len()
    }

    /// The trackers that cannot be used now, each as `url: why` (a connection refused,
    /// a certificate not trusted, a failure the tracker answered).
    pub fn problems(&self) -> Vec<String> {
        self.trackers
            .iter()
            .filter_map(|t| t.problem().map(|p| format!("{}: {p}", t.url())))
            .collect()
    }
}

impl Drop for Swarm {
    fn drop(&mut self) {
        for t in &self.trackers {
            t.send(TrackerEvent::Stopped);
        }
    }
}
