//! The engine: one librqbit session and the streams it serves.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use anyhow::Context;
use librqbit::dht::DhtPersistenceConfig;
use librqbit::{
    AddTorrent, AddTorrentOptions, AddTorrentResponse, ConnectionOptions, DhtSessionConfig,
    ListOnlyResponse, ListenerMode, ListenerOptions, ManagedTorrent, Session, SessionOptions,
};
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::reader::{ReaderGuard, StreamReader};
use crate::status::{self, StreamState, StreamStatus};
use crate::{EngineConfig, EngineError, FileEntry, InfoHash, Source, media};

type Handle = Arc<ManagedTorrent>;

/// What a prepared stream is: the answer to "play this torrent".
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamInfo {
    pub info_hash: InfoHash,
    pub name: String,
    /// The file this answer is about (the one played when no index is given, unless one was asked for).
    pub file_index: usize,
    /// That file's name.
    pub video_file: String,
    /// That file's size in bytes.
    pub size: u64,
    pub mime_type: String,
    /// Whether `file_index` is the stream's default file (served at `/api/stream/<hash>`).
    pub is_default_file: bool,
    pub files: Vec<FileEntry>,
}

/// One torrent being streamed.
pub(crate) struct Stream {
    handle: Handle,
    name: String,
    files: Vec<FileEntry>,
    default_file: usize,
    output_dir: PathBuf,
    pub(crate) activity: Activity,
}

/// When a stream was last used, and by how many readers now: what idle cleanup reads.
pub(crate) struct Activity {
    last: Mutex<Instant>,
    readers: std::sync::atomic::AtomicUsize,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            last: Mutex::new(Instant::now()),
            readers: 0.into(),
        }
    }

    pub(crate) fn touch(&self) {
        *self.last.lock().unwrap() = Instant::now();
    }

    pub(crate) fn reader_opened(&self) {
        self.readers
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.touch();
    }

    pub(crate) fn reader_closed(&self) {
        self.touch();
        self.readers
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }

    fn idle_for(&self) -> Option<Duration> {
        let readers = self.readers.load(std::sync::atomic::Ordering::SeqCst);
        (readers == 0).then(|| self.last.lock().unwrap().elapsed())
    }
}

impl Stream {
    fn describe(&self, info_hash: InfoHash, index: usize) -> StreamInfo {
        let file = &self.files[index];
        StreamInfo {
            info_hash,
            name: self.name.clone(),
            file_index: index,
            video_file: file.file_name().to_string(),
            size: file.size,
            mime_type: file.mime_type(),
            is_default_file: index == self.default_file,
            files: self.files.clone(),
        }
    }

    fn file(&self, index: Option<usize>) -> Result<&FileEntry, EngineError> {
        let index = index.unwrap_or(self.default_file);
        self.files
            .get(index)
            .ok_or_else(|| out_of_range(index, self.files.len()))
    }
}

fn out_of_range(index: usize, len: usize) -> EngineError {
    EngineError::InvalidRequest(format!(
        "fileIndex {index} is out of range: the torrent has {len} file(s)"
    ))
}

/// A stream being added: requests for the same torrent wait their turn on `turn`, and
/// status reports `phase` meanwhile.
#[derive(Default)]
struct Preparation {
    turn: tokio::sync::Mutex<()>,
    phase: Mutex<Option<StreamState>>,
}

/// The torrent engine. Cheap to share (`Arc<Engine>`); every method takes `&self`.
///
/// Locks: the two maps are behind std mutexes that are never held across an `.await`
/// or a disk read; waiting for pieces happens inside [`StreamReader`] with no lock held.
pub struct Engine {
    session: Arc<Session>,
    rqbit: librqbit::Api,
    config: EngineConfig,
    streams: Mutex<HashMap<InfoHash, Arc<Stream>>>,
    preparing: Mutex<HashMap<InfoHash, Arc<Preparation>>>,
    readers: Arc<Semaphore>,
    reaper: Mutex<Option<JoinHandle<()>>>,
}

/// librqbit's blocking-work permits beyond our own reader cap: each open reader holds one
/// for its whole life, and piece writes need free ones, or every read stalls for good.
const WRITE_PERMITS: usize = 16;

impl Engine {
    /// Starts the session (DHT, listeners) and the idle reaper.
    pub async fn start(config: EngineConfig) -> anyhow::Result<Arc<Engine>> {
        let downloads = config.downloads_dir();
        std::fs::create_dir_all(&downloads)
            .with_context(|| format!("creating {}", downloads.display()))?;
        remove_stale_downloads(&downloads);

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
        let session = Session::new_with_opts(
            downloads,
            SessionOptions {
                dht,
                listen,
                connect: Some(ConnectionOptions::default()),
                persistence: None,
                fastresume: false,
                runtime_worker_threads: Some(config.max_readers + WRITE_PERMITS),
                disable_local_service_discovery: !config.local_peer_discovery,
                ipv4_only: config.peer_listen.is_some_and(|a| a.is_ipv4()),
                client_name_and_version: Some(format!("CinemaHalal {}", env!("CARGO_PKG_VERSION"))),
                ..Default::default()
            },
        )
        .await
        .context("starting the torrent session")?;

        let engine = Arc::new(Engine {
            rqbit: librqbit::Api::new(session.clone(), None),
            session,
            readers: Arc::new(Semaphore::new(config.max_readers.max(1))),
            config,
            streams: Mutex::default(),
            preparing: Mutex::default(),
            reaper: Mutex::default(),
        });
        let reaper = tokio::spawn(reap_idle(Arc::downgrade(&engine)));
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
        if let Ok(stream) = self.get_touched(info_hash) {
            return self.describe_existing(info_hash, &stream, file_index).await;
        }
        let prep = self
            .preparing
            .lock()
            .unwrap()
            .entry(info_hash)
            .or_default()
            .clone();
        let result = async {
            let _turn = prep.turn.lock().await;
            // Someone else may have finished adding it while this request waited.
            if let Ok(stream) = self.get_touched(info_hash) {
                return self.describe_existing(info_hash, &stream, file_index).await;
            }
            self.add(info_hash, source, file_index, &prep).await
        }
        .await;
        let mut preparing = self.preparing.lock().unwrap();
        // The last request of a preparation removes it; the map holds one reference.
        if preparing
            .get(&info_hash)
            .is_some_and(|p| Arc::ptr_eq(p, &prep))
            && Arc::strong_count(&prep) == 2
        {
            preparing.remove(&info_hash);
        }
        result
    }

    async fn describe_existing(
        &self,
        info_hash: InfoHash,
        stream: &Stream,
        file_index: Option<usize>,
    ) -> Result<StreamInfo, EngineError> {
        let index = stream.file(file_index)?.index;
        let mut only = stream
            .handle
            .only_files()
            .unwrap_or_default()
            .into_iter()
            .collect::<HashSet<_>>();
        if only.insert(index) {
            self.session
                .update_only_files(&stream.handle, &only)
                .await
                .context("selecting another file of the torrent")?;
        }
        Ok(stream.describe(info_hash, index))
    }

    async fn add(
        &self,
        info_hash: InfoHash,
        source: Source,
        file_index: Option<usize>,
        prep: &Preparation,
    ) -> Result<StreamInfo, EngineError> {
        let set_phase = |s| *prep.phase.lock().unwrap() = Some(s);
        set_phase(StreamState::FetchingMetadata);
        let started = Instant::now();
        let listed = self.fetch_metadata(&source).await?;
        tracing::info!(%info_hash, elapsed = ?started.elapsed(), "metadata ready");

        let files: Vec<FileEntry> = listed
            .info
            .iter_file_details()
            .enumerate()
            .map(|(i, fd)| FileEntry::new(i, fd.filename.to_vec().join("/"), fd.len))
            .collect();
        let chosen = match file_index {
            Some(i) => files.get(i).ok_or_else(|| out_of_range(i, files.len()))?,
            None => media::default_file(&files)
                .ok_or(EngineError::NoVideoFile { files: files.len() })?,
        }
        .index;
        let name = listed
            .info
            .name()
            .map(|n| n.into_owned())
            .or(match &source {
                Source::Magnet(m) => m.display_name().map(str::to_owned),
                _ => None,
            })
            .unwrap_or_else(|| files[chosen].file_name().to_string());

        set_phase(StreamState::Connecting);
        let output_dir = self.config.downloads_dir().join(info_hash.to_string());
        let mut peers = listed.seen_peers.clone();
        if let Source::Magnet(m) = &source {
            for peer in m.peers() {
                if !peers.contains(peer) {
                    peers.push(*peer);
                }
            }
        }
        let added = self
            .session
            .add_torrent(
                AddTorrent::from_bytes(listed.torrent_bytes.clone()),
                Some(AddTorrentOptions {
                    only_files: Some(vec![chosen]),
                    output_folder: Some(output_dir.to_string_lossy().into_owned()),
                    overwrite: true,
                    initial_peers: Some(peers),
                    ..Default::default()
                }),
            )
            .await
            .context("starting the torrent")?;
        let handle = added.into_handle().context("the torrent was not started")?;

        if let Err(e) = self.wait_for_first_peer(&handle, chosen).await {
            self.remove_torrent(info_hash, &output_dir).await;
            return Err(e);
        }
        tracing::info!(%info_hash, elapsed = ?started.elapsed(), file = %files[chosen].path, "stream ready");
        let stream = Arc::new(Stream {
            handle,
            name,
            files,
            default_file: chosen,
            output_dir,
            activity: Activity::new(),
        });
        let info = stream.describe(info_hash, chosen);
        self.streams.lock().unwrap().insert(info_hash, stream);
        Ok(info)
    }

    /// Metadata and the peers seen while fetching it, within `metadata_timeout`.
    async fn fetch_metadata(&self, source: &Source) -> Result<ListOnlyResponse, EngineError> {
        let (add, initial_peers) = match source {
            // librqbit ignores the link's `x.pe`: its peers are given separately.
            Source::Magnet(m) => (
                AddTorrent::from_url(m.to_string()),
                Some(m.peers().to_vec()),
            ),
            Source::InfoHash(h) => (AddTorrent::from_url(h.to_string()), None),
            Source::TorrentFile(bytes) => (AddTorrent::from_bytes(bytes.clone()), None),
        };
        let opts = AddTorrentOptions {
            list_only: true,
            initial_peers,
            ..Default::default()
        };
        let timeout = self.config.metadata_timeout;
        match tokio::time::timeout(timeout, self.session.add_torrent(add, Some(opts))).await {
            Err(_) => Err(EngineError::MetadataTimeout(format!(
                "no peer sent it within {} s",
                timeout.as_secs_f32()
            ))),
            Ok(Ok(AddTorrentResponse::ListOnly(listed))) => Ok(listed),
            Ok(Ok(_)) => Err(anyhow::anyhow!("the torrent is being removed; try again").into()),
            // librqbit refuses at once when it has no DHT, no tracker and no peer to ask.
            Ok(Err(e)) if format!("{e:#}").contains("no known way to resolve peers") => {
                Err(EngineError::NoSeeds(
                    "no way to find peers: the DHT is off and the link names no tracker or peer"
                        .into(),
                ))
            }
            // Every peer known was asked and none had it (with the DHT on, this is rare).
            Ok(Err(e)) if format!("{e:#}").contains("no way to discover torrent metainfo") => Err(
                EngineError::MetadataTimeout("none of the peers found has it".into()),
            ),
            Ok(Err(e)) if matches!(source, Source::TorrentFile(_)) => Err(
                EngineError::InvalidRequest(format!("invalid .torrent file: {e:#}")),
            ),
            Ok(Err(e)) => Err(e.context("fetching metadata").into()),
        }
    }

    async fn wait_for_first_peer(&self, handle: &Handle, file: usize) -> Result<(), EngineError> {
        let deadline = Instant::now() + self.config.no_seeds_timeout;
        loop {
            let stats = handle.stats();
            if let Some(error) = stats.error {
                return Err(anyhow::anyhow!(error).context("the torrent failed").into());
            }
            let file_done = stats.file_progress.get(file).is_some_and(|&have| {
                handle
                    .with_metadata(|m| m.file_infos[file].len == have)
                    .unwrap_or(false)
            });
            let live = stats
                .live
                .as_ref()
                .map_or(0, |l| l.snapshot.peer_stats.live);
            if live > 0 || file_done {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(EngineError::NoSeeds(format!(
                    "no peer could be reached within {} s",
                    self.config.no_seeds_timeout.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
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
        let permit = tokio::time::timeout(
            self.config.reader_wait,
            self.readers.clone().acquire_owned(),
        )
        .await
        .map_err(|_| EngineError::TooManyReaders(self.config.max_readers))?
        .context("the engine is shutting down")?;
        let guard = ReaderGuard::new(stream.clone());
        let inner = stream
            .handle
            .clone()
            .stream(index)
            .await
            .context("opening the file for streaming")?;
        Ok(StreamReader::new(Box::pin(inner), permit, guard))
    }

    /// State, speeds, peers and what is on disk, for one file of a stream.
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
            return Ok(status::of_stream(
                info_hash,
                &stream.handle.stats(),
                file,
                layout,
                have_piece.as_ref().map(|f| f as &dyn Fn(u64) -> bool),
            ));
        }
        let phase = self
            .preparing
            .lock()
            .unwrap()
            .get(&info_hash)
            .and_then(|p| *p.phase.lock().unwrap());
        match phase {
            Some(state) => Ok(StreamStatus::pending(info_hash, state)),
            None => Err(EngineError::NotFound(info_hash)),
        }
    }

    /// Stops a stream and deletes its downloaded data.
    pub async fn stop(&self, info_hash: InfoHash) -> Result<(), EngineError> {
        let stream = self
            .streams
            .lock()
            .unwrap()
            .remove(&info_hash)
            .ok_or(EngineError::NotFound(info_hash))?;
        self.remove_torrent(info_hash, &stream.output_dir).await;
        tracing::info!(%info_hash, "stream stopped, data removed");
        Ok(())
    }

    async fn remove_torrent(&self, info_hash: InfoHash, output_dir: &Path) {
        if let Err(e) = self.session.delete(torrent_id(info_hash), true).await {
            tracing::warn!(%info_hash, "removing torrent from the session: {e:#}");
        }
        match tokio::fs::remove_dir_all(output_dir).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(dir = %output_dir.display(), "removing stream data: {e}"),
        }
    }

    /// Stops every stream (deleting its data) and the session.
    pub async fn shutdown(&self) {
        if let Some(reaper) = self.reaper.lock().unwrap().take() {
            reaper.abort();
        }
        self.readers.close();
        let hashes: Vec<InfoHash> = self.streams.lock().unwrap().keys().copied().collect();
        for h in hashes {
            let _ = self.stop(h).await;
        }
        self.session.stop().await;
    }

    /// Takes out of the map every stream idle for `idle_timeout` with no reader open.
    fn take_idle_streams(&self) -> Vec<(InfoHash, Arc<Stream>)> {
        let idle = self.config.idle_timeout;
        let mut streams = self.streams.lock().unwrap();
        let expired: Vec<InfoHash> = streams
            .iter()
            .filter(|(_, s)| s.activity.idle_for().is_some_and(|d| d >= idle))
            .map(|(h, _)| *h)
            .collect();
        expired
            .into_iter()
            .filter_map(|h| streams.remove(&h).map(|s| (h, s)))
            .collect()
    }
}

fn torrent_id(info_hash: InfoHash) -> librqbit::api::TorrentIdOrHash {
    librqbit::api::TorrentIdOrHash::Hash(crate::source::to_id20(info_hash))
}

/// Removes what an earlier run left in `downloads/`: streams do not outlive the process.
/// Only folders named like an info hash are touched.
fn remove_stale_downloads(downloads: &Path) {
    let Ok(entries) = std::fs::read_dir(downloads) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let is_stream_dir = name
            .to_str()
            .is_some_and(|n| n.len() == 40 && n.parse::<InfoHash>().is_ok());
        if is_stream_dir && let Err(e) = std::fs::remove_dir_all(entry.path()) {
            tracing::warn!(dir = %entry.path().display(), "removing stale stream data: {e}");
        }
    }
}

async fn reap_idle(engine: Weak<Engine>) {
    let period = match engine.upgrade() {
        Some(e) => {
            (e.config.idle_timeout / 4).clamp(Duration::from_millis(50), Duration::from_secs(30))
        }
        None => return,
    };
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(engine) = engine.upgrade() else {
            return;
        };
        for (info_hash, stream) in engine.take_idle_streams() {
            tracing::info!(%info_hash, "stream idle, removing it and its data");
            engine.remove_torrent(info_hash, &stream.output_dir).await;
        }
    }
}
