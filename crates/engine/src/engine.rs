//! The engine's public API: [`Engine`], one librqbit session and the streams it serves.
//!
//! - here: starting and stopping the session, and each operation on a stream (prepare,
//!   info, list, open, status, add a peer, stop);
//! - `prepare`: adding a torrent until it can be read (from the cache when it was
//!   played before), and what librqbit's failures mean;
//! - `stream`: a prepared stream, what it answers ([`StreamInfo`]), its activity and
//!   its failure;
//! - `cache`: what is kept of streams that ended, its index, its cap, clearing it;
//! - `cleanup`: the reaper, which parks idle streams in the cache;
//! - `runtime`: the Tokio runtime of its own that the session's tasks run on.

mod cache;
mod cleanup;
mod prepare;
mod runtime;
pub(crate) mod stream;
mod webrtc;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use librqbit::dht::DhtPersistenceConfig;
use librqbit::{
    ConnectionOptions, DhtSessionConfig, ListenerMode, ListenerOptions, Session, SessionOptions,
};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::reader::{ReaderGuard, StreamReader};
use crate::status::{self, StreamStatus};
use crate::{EngineConfig, EngineError, InfoHash, Source};
use cache::CacheIndex;
pub use cache::{CacheInfo, CachedTorrent};
use prepare::Preparation;
use runtime::EngineRuntime;
use stream::Stream;
pub use stream::StreamInfo;

/// The torrent engine. Cheap to share (`Arc<Engine>`); every method takes `&self`.
///
/// Locks: the two maps and the cache index are behind std mutexes that are never held
/// across an `.await` or a piece wait; waiting for pieces happens inside
/// [`StreamReader`] with no lock held. When more than one is taken, it is in the order
/// `preparing`, `streams`, `cache`.
pub struct Engine {
    session: Arc<Session>,
    rqbit: librqbit::Api,
    config: EngineConfig,
    /// Streams ready to be read.
    streams: Mutex<HashMap<InfoHash, Arc<Stream>>>,
    /// Streams being prepared.
    preparing: Mutex<HashMap<InfoHash, Arc<Preparation>>>,
    /// One permit per open reader: `max_readers` of them. A reader that waits for a piece
    /// holds nothing librqbit's piece writes need (patch 2 in
    /// `third_party/librqbit/PATCHES.md`), so this only bounds the open readers.
    readers: Arc<Semaphore>,
    /// `cache.json`: the torrents whose data and metadata are kept.
    cache: Mutex<CacheIndex>,
    /// Names files moved to `trash/` uniquely.
    trashed: AtomicU64,
    reaper: Mutex<Option<JoinHandle<()>>>,
    /// Where the session's tasks run: every operation that reaches the session goes
    /// through [`EngineRuntime::enter`].
    runtime: EngineRuntime,
}

impl Engine {
    /// Starts the session (DHT, listeners) and the reaper on a runtime of the engine's
    /// own, after loading the cache's index (and removing data it does not name) and
    /// holding the cache to its cap. The caller's runtime serves what reads the streams.
    pub async fn start(config: EngineConfig) -> anyhow::Result<Arc<Engine>> {
        let downloads = config.downloads_dir();
        for dir in [&downloads, &config.torrents_dir()] {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        cache::remove_path(&config.trash_dir());
        let mut index = CacheIndex::load(&config.cache_index_path());
        index.reconcile(&downloads, &config.torrents_dir());
        if let Err(e) = index.save(&config.cache_index_path()) {
            tracing::warn!("saving the cache index: {e}");
        }
        tracing::info!(torrents = index.torrents.len(), "cache loaded");

        let dht = config.dht.then(|| DhtSessionConfig {
            persistence: Some(DhtPersistenceConfig {
                config_filename: Some(config.data_dir.join("dht.json")),
                ..Default::default()
            }),
            ..Default::default()
        });
        let listen = config.peer_listen.map(|listen_addr| ListenerOptions {
            mode: ListenerMode::TcpAndUtp,
            listen_addr,
            ipv4_only: listen_addr.is_ipv4(),
            ..Default::default()
        });
        let runtime = EngineRuntime::new().context("starting the engine's runtime")?;
        let session = runtime
            .enter(Session::new_with_opts(
                downloads,
                SessionOptions {
                    dht,
                    listen,
                    connect: Some(ConnectionOptions::default()),
                    persistence: None,
                    fastresume: false,
                    disable_local_service_discovery: !config.local_peer_discovery,
                    ipv4_only: config.peer_listen.is_some_and(|a| a.is_ipv4()),
                    client_name_and_version: Some(format!(
                        "CinemaHalal {}",
                        env!("CARGO_PKG_VERSION")
                    )),
                    ..Default::default()
                },
            ))
            .await
            .context("starting the torrent session")?;

        let engine = Arc::new(Engine {
            rqbit: librqbit::Api::new(session.clone(), None),
            session,
            readers: Arc::new(Semaphore::new(config.max_readers.max(1))),
            config,
            streams: Mutex::default(),
            preparing: Mutex::default(),
            cache: Mutex::new(index),
            trashed: AtomicU64::new(0),
            reaper: Mutex::default(),
            runtime,
        });
        engine.enforce_cache_cap().await;
        let reaper = engine
            .runtime
            .handle()
            .spawn(cleanup::reap_idle(Arc::downgrade(&engine)));
        *engine.reaper.lock().unwrap() = Some(reaper);
        Ok(engine)
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The address peers can reach this engine at, when it listens.
    pub fn peer_listen_addr(&self) -> Option<SocketAddr> {
        self.session.listen_addr()
    }

    pub fn active_streams(&self) -> usize {
        self.streams.lock().unwrap().len()
    }

    /// The stream, marked as used. The mark is made under the map's lock, so idle
    /// cleanup (which takes streams out under the same lock) never removes a stream that
    /// a request has just reached.
    fn get_touched(&self, info_hash: InfoHash) -> Result<Arc<Stream>, EngineError> {
        let streams = self.streams.lock().unwrap();
        let stream = streams
            .get(&info_hash)
            .ok_or(EngineError::NotFound(info_hash))?;
        stream.activity.touch();
        Ok(stream.clone())
    }

    /// Prepares a stream: fetches metadata, picks the file (the largest video unless
    /// `file_index` says otherwise), starts downloading it and waits for a first peer.
    /// Idempotent: a torrent already streaming is answered at once.
    pub async fn prepare(
        &self,
        source: Source,
        file_index: Option<usize>,
    ) -> Result<StreamInfo, EngineError> {
        let info_hash = source.info_hash()?;
        self.runtime
            .enter(async {
                if let Ok(stream) = self.get_touched(info_hash) {
                    // A link naming peers the stream does not know yet hands them to it.
                    if let Source::Magnet(m) = &source {
                        for peer in m.peers() {
                            let _ = stream.handle.add_peer(*peer);
                        }
                    }
                    return self.select_file(info_hash, &stream, file_index).await;
                }
                self.prepare_new(info_hash, source, file_index).await
            })
            .await
    }

    /// The answer for a stream already prepared, for one of its files.
    pub fn info(
        &self,
        info_hash: InfoHash,
        file_index: Option<usize>,
    ) -> Result<StreamInfo, EngineError> {
        let stream = self.get_touched(info_hash)?;
        let index = stream.file(file_index)?.index;
        Ok(stream.describe(info_hash, index))
    }

    /// Every stream, each described by its default file.
    pub fn list(&self) -> Vec<StreamInfo> {
        let streams = self.streams.lock().unwrap();
        let mut list: Vec<StreamInfo> = streams
            .iter()
            .map(|(h, s)| s.describe(*h, s.default_file))
            .collect();
        list.sort_by(|a, b| a.name.cmp(&b.name));
        list
    }

    /// Opens a reader on one file of a stream, waiting up to `reader_wait` for a free slot.
    pub async fn open(
        &self,
        info_hash: InfoHash,
        file_index: Option<usize>,
    ) -> Result<StreamReader, EngineError> {
        let stream = self.get_touched(info_hash)?;
        let index = stream.file(file_index)?.index;
        if let Some(failure) = stream.check_failure() {
            return Err(anyhow::anyhow!(failure).into());
        }
        let permit = tokio::time::timeout(
            self.config.reader_wait,
            self.readers.clone().acquire_owned(),
        )
        .await
        .map_err(|_| EngineError::TooManyReaders(self.config.max_readers))?
        .context("the engine is shutting down")?;
        let guard = ReaderGuard::new(stream.clone());
        let opened = self
            .runtime
            .enter(stream.handle.clone().stream(index))
            .await;
        let inner = match opened {
            Ok(inner) => inner,
            // The torrent failed since the check above (its disk filled, say): the reader
            // is refused with the words its failure has, as a later one would be.
            Err(e) => match stream.check_failure() {
                Some(failure) => return Err(anyhow::anyhow!(failure).into()),
                None => return Err(e.context("opening the file for streaming").into()),
            },
        };
        Ok(StreamReader::new(Box::pin(inner), permit, guard))
    }

    /// State, speeds, peers and what is on disk, for one file of a stream; for a stream
    /// still being prepared, its phase.
    pub fn status(
        &self,
        info_hash: InfoHash,
        file_index: Option<usize>,
    ) -> Result<StreamStatus, EngineError> {
        if let Ok(stream) = self.get_touched(info_hash) {
            let file = stream.file(file_index)?;
            let haves = self.rqbit.api_dump_haves(torrent_id(info_hash)).ok();
            let layout = stream
                .handle
                .with_metadata(|m| status::FileLayout {
                    offset: m.file_infos[file.index].offset_in_torrent,
                    piece_length: u64::from(m.lengths().default_piece_length()),
                })
                .context("metadata")?;
            let have_piece = haves
                .as_ref()
                .map(|(bits, _)| move |piece: u64| bits.get(piece as usize).is_some_and(|b| *b));
            let mut status = status::of_stream(
                info_hash,
                &stream.handle.stats(),
                file,
                layout,
                have_piece.as_ref().map(|f| f as &dyn Fn(u64) -> bool),
            );
            (status.peers.tcp, status.peers.utp) = stream.peers_by_transport();
            status.read_ahead_bytes = stream.read_ahead(file.index);
            if let Some(web) = &stream.webrtc {
                status.peers.webrtc = web.counters.snapshot();
                if stream.handle.stats().finished {
                    web.completed_once();
                }
            }
            if let Some(failure) = stream.check_failure() {
                status.state = status::StreamState::Error;
                status.message = Some(failure);
            }
            return Ok(status);
        }
        match self.preparation_phase(info_hash) {
            Some(state) => Ok(StreamStatus::pending(info_hash, state)),
            None => Err(EngineError::NotFound(info_hash)),
        }
    }

    /// Tells the engine how long file `file_index` of a stream plays (a probe found out),
    /// so that its read-ahead holds a minute of it at its bit rate (between 32 and
    /// 512 MiB); a duration that says nothing (0, not a number) changes nothing. The
    /// read-ahead the file has, in bytes.
    pub fn set_duration(
        &self,
        info_hash: InfoHash,
        file_index: usize,
        duration_seconds: f64,
    ) -> Result<u64, EngineError> {
        self.get_touched(info_hash)?
            .set_duration(file_index, duration_seconds)
    }

    /// Hands a stream a peer address to connect to; `true` when it is new to it.
    pub fn add_peer(&self, info_hash: InfoHash, peer: SocketAddr) -> Result<bool, EngineError> {
        let stream = self.get_touched(info_hash)?;
        let _context = self.runtime.handle().enter();
        Ok(stream
            .handle
            .add_peer(peer)
            .context("adding a peer to the stream")?)
    }

    /// Stops a stream and deletes its data and metadata at once (it leaves the cache).
    pub async fn stop(&self, info_hash: InfoHash) -> Result<(), EngineError> {
        self.streams
            .lock()
            .unwrap()
            .remove(&info_hash)
            .ok_or(EngineError::NotFound(info_hash))?;
        self.runtime.enter(self.forget(info_hash)).await;
        tracing::info!(%info_hash, "stream stopped, data removed");
        Ok(())
    }

    /// Stops every stream, keeping its data in the cache, then the session and its
    /// runtime.
    pub async fn shutdown(&self) {
        if let Some(reaper) = self.reaper.lock().unwrap().take() {
            reaper.abort();
        }
        self.readers.close();
        let streams: Vec<(InfoHash, Arc<Stream>)> = self.streams.lock().unwrap().drain().collect();
        self.runtime
            .enter(async {
                for (h, stream) in streams {
                    self.park(h, &stream).await;
                }
                self.session.stop().await;
            })
            .await;
        self.runtime.stop();
    }
}

fn torrent_id(info_hash: InfoHash) -> librqbit::api::TorrentIdOrHash {
    librqbit::api::TorrentIdOrHash::Hash(crate::source::to_id20(info_hash))
}
