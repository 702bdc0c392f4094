//! How the engine is set up: where data lives, how peers are found, the time limits.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// How long a magnet may take to yield metadata, unless configured.
pub const DEFAULT_METADATA_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a new stream may wait for its first peer, unless configured.
pub const DEFAULT_NO_SEEDS_TIMEOUT: Duration = Duration::from_secs(30);
/// How long an unused stream lives, unless configured.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(600);
/// Readers open at once, unless configured: more than players and browsers open.
pub const DEFAULT_MAX_READERS: usize = 256;
/// Streams (prepared or being prepared) at once, unless configured.
pub const DEFAULT_MAX_STREAMS: usize = 16;
/// The most the cache of downloaded torrents may hold, unless configured: 10 GiB.
pub const DEFAULT_CACHE_MAX_BYTES: u64 = 10 << 30;
/// What the cache always leaves free on its disk, unless configured: 1 GiB.
pub const DEFAULT_CACHE_MIN_FREE_BYTES: u64 = 1 << 30;
/// Incoming peers on every address, IPv6 and IPv4, on a port the system picks.
pub const DEFAULT_PEER_LISTEN: SocketAddr = SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0);

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Holds `dht.json`, and the cache: `downloads/<info hash>/` (each torrent's data),
    /// `torrents/<info hash>.torrent` (its metadata) and `cache.json` (the index).
    pub data_dir: PathBuf,
    /// Find peers through the mainline DHT (its routing table kept in `data_dir`).
    pub dht: bool,
    /// Local service discovery (BEP 14) by multicast on the LAN.
    pub local_peer_discovery: bool,
    /// Where to accept incoming TCP and uTP peers; `None` accepts none.
    pub peer_listen: Option<SocketAddr>,
    /// How long a magnet may take to yield metadata before `METADATA_TIMEOUT`.
    pub metadata_timeout: Duration,
    /// How long a stream may wait for its first peer before `NO_SEEDS`.
    pub no_seeds_timeout: Duration,
    /// A stream no request has touched for this long, and with no reader open, is removed.
    pub idle_timeout: Duration,
    /// Readers (HTTP bodies) open at once across all streams.
    pub max_readers: usize,
    /// How long a new reader may queue for a free slot before `TOO_MANY_READERS`.
    pub reader_wait: Duration,
    /// Streams at once, counting those being prepared; one more is `TOO_MANY_STREAMS`.
    pub max_streams: usize,
    /// The cache's cap in bytes (data of active streams included); least recently used
    /// inactive torrents are evicted above it.
    pub cache_max_bytes: u64,
    /// The cache also shrinks (inactive torrents only) to leave this much free on its disk.
    pub cache_min_free_bytes: u64,
    /// Talk to WebSocket trackers (`ws://`, `wss://`) and exchange pieces with WebRTC
    /// peers (browsers running WebTorrent) next to TCP and uTP ones.
    pub webrtc: bool,
    /// `host:port` of STUN servers, for a server-reflexive WebRTC candidate; none needed
    /// on a LAN or loopback.
    pub stun_servers: Vec<String>,
}

impl EngineConfig {
    pub fn new(data_dir: impl Into<PathBuf>) -> EngineConfig {
        EngineConfig {
            data_dir: data_dir.into(),
            dht: true,
            local_peer_discovery: true,
            peer_listen: Some(DEFAULT_PEER_LISTEN),
            metadata_timeout: DEFAULT_METADATA_TIMEOUT,
            no_seeds_timeout: DEFAULT_NO_SEEDS_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_readers: DEFAULT_MAX_READERS,
            reader_wait: Duration::from_secs(30),
            max_streams: DEFAULT_MAX_STREAMS,
            cache_max_bytes: DEFAULT_CACHE_MAX_BYTES,
            cache_min_free_bytes: DEFAULT_CACHE_MIN_FREE_BYTES,
            webrtc: true,
            stun_servers: Vec::new(),
        }
    }

    /// Everything on 127.0.0.1 and nothing that reaches the network by itself (no DHT,
    /// no multicast): what tests and a private swarm use. Peers come from `x.pe`.
    pub fn loopback_only(data_dir: impl Into<PathBuf>) -> EngineConfig {
        EngineConfig {
            dht: false,
            local_peer_discovery: false,
            peer_listen: Some(([127, 0, 0, 1], 0).into()),
            ..EngineConfig::new(data_dir)
        }
    }

    pub(crate) fn downloads_dir(&self) -> PathBuf {
        self.data_dir.join("downloads")
    }

    /// Where each cached torrent's .torrent file is kept.
    pub(crate) fn torrents_dir(&self) -> PathBuf {
        self.data_dir.join("torrents")
    }

    /// Files being deleted; emptied at start.
    pub(crate) fn trash_dir(&self) -> PathBuf {
        self.data_dir.join("trash")
    }

    /// The cache's index.
    pub(crate) fn cache_index_path(&self) -> PathBuf {
        self.data_dir.join("cache.json")
    }
}
