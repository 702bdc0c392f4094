//! Preparing a stream: fetching metadata, choosing the file, adding the torrent and
//! waiting for a first peer; and what librqbit's failures mean as [`EngineError`]s.
//!
//! Requests for the same torrent take turns (a [`Preparation`] per info hash), so a
//! torrent is added once however many requests ask for it at the same time.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use librqbit::{AddTorrent, AddTorrentOptions, AddTorrentResponse, ListOnlyResponse};

use super::Engine;
use super::stream::{Activity, Handle, Stream, StreamInfo, describe_failure, out_of_range};
use super::webrtc::{WebPeers, is_websocket_tracker, without_websocket_trackers};
use crate::metainfo_check::{check_torrent, torrent_trackers};
use crate::status::StreamState;
use crate::{EngineError, InfoHash, Source, TorrentFile, media};

/// How long metadata waits for WebRTC peers when other sources exist too.
const WEBRTC_HEAD_START: Duration = Duration::from_secs(3);

/// A stream being added: requests for the same torrent wait their turn on `turn`, and
/// status reports `phase` meanwhile.
#[derive(Default)]
pub(super) struct Preparation {
    turn: tokio::sync::Mutex<()>,
    phase: Mutex<Option<StreamState>>,
}

impl Engine {
    /// Adds a torrent not streaming yet, or waits for the request already adding it.
    /// A new one is refused when `max_streams` are prepared or being prepared.
    pub(super) async fn prepare_new(
        &self,
        info_hash: InfoHash,
        source: Source,
        file_index: Option<usize>,
    ) -> Result<StreamInfo, EngineError> {
        let prep = {
            let mut preparing = self.preparing.lock().unwrap();
            match preparing.get(&info_hash) {
                Some(prep) => prep.clone(),
                None => {
                    let streams = self.streams.lock().unwrap().len();
                    if streams + preparing.len() >= self.config.max_streams {
                        return Err(EngineError::TooManyStreams(self.config.max_streams));
                    }
                    preparing.entry(info_hash).or_default().clone()
                }
            }
        };
        let result = async {
            let _turn = prep.turn.lock().await;
            // Someone else may have finished adding it while this request waited.
            if let Ok(stream) = self.get_touched(info_hash) {
                return self.select_file(info_hash, &stream, file_index).await;
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

    /// What status reports for a torrent being prepared, if it is.
    pub(super) fn preparation_phase(&self, info_hash: InfoHash) -> Option<StreamState> {
        self.preparing
            .lock()
            .unwrap()
            .get(&info_hash)
            .and_then(|p| *p.phase.lock().unwrap())
    }

    /// The answer for a stream already prepared, downloading `file_index` too from now on.
    pub(super) async fn select_file(
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

    /// Fetches metadata (from the cache when it was played before), chooses the file,
    /// adds the torrent for that file alone and waits for a first peer; registers the
    /// stream only then. On failure nothing is left of a torrent new to the cache, and a
    /// cached one stays cached.
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
        // WebRTC peers from WebSocket trackers, when the link or the .torrent names any.
        let web = match &source {
            Source::Magnet(m) => WebPeers::start(&self.config, info_hash, m.trackers()),
            Source::Torrent(bytes) => {
                WebPeers::start(&self.config, info_hash, &torrent_trackers(bytes))
            }
            Source::InfoHash(_) => None,
        };
        // Whether peers can come from anywhere but WebRTC.
        let other_sources = self.config.dht
            || match &source {
                Source::Magnet(m) => {
                    !m.peers().is_empty() || m.trackers().iter().any(|t| !is_websocket_tracker(t))
                }
                _ => true,
            };
        let cached = match self.cached_metadata(info_hash) {
            Some(torrent) => match self
                .fetch_metadata(
                    &Source::Torrent(torrent),
                    Vec::new(),
                    self.config.metadata_timeout,
                )
                .await
            {
                Ok(listed) if crate::source::from_id20(listed.info_hash) == info_hash => {
                    Some(listed)
                }
                Ok(_) => {
                    tracing::warn!(%info_hash, "cached metadata is another torrent's; fetching it again");
                    None
                }
                Err(e) => {
                    tracing::warn!(%info_hash, "cached metadata unusable, fetching it again: {e}");
                    None
                }
            },
            None => None,
        };
        let from_cache = cached.is_some();
        let listed = match cached {
            Some(listed) => listed,
            None => {
                // A .torrent holds its metadata: its WebRTC peers wait for the download.
                let needs_peers = !matches!(source, Source::Torrent(_));
                let deadline = Instant::now() + self.config.metadata_timeout;
                let listed = loop {
                    let mut extra_peers = Vec::new();
                    if let Some(web) = web.as_ref().filter(|_| needs_peers) {
                        // With no other source, metadata can only come from a WebRTC peer.
                        let wait = if other_sources {
                            WEBRTC_HEAD_START
                        } else {
                            deadline.saturating_duration_since(Instant::now())
                        };
                        extra_peers = web.take_collected(wait).await;
                        if !other_sources && extra_peers.is_empty() {
                            let problems = web.tracker_problems();
                            return Err(EngineError::NoSeeds(format!(
                                "no browser (WebRTC) peer answered on the link's WebSocket \
                                 trackers within {} s, and the link names no other tracker or peer{}",
                                self.config.metadata_timeout.as_secs(),
                                if problems.is_empty() {
                                    String::new()
                                } else {
                                    format!(" ({})", problems.join("; "))
                                }
                            )));
                        }
                    }
                    let timeout = deadline.saturating_duration_since(Instant::now());
                    let listed = self.fetch_metadata(&source, extra_peers, timeout).await;
                    let Some(web) = web.as_ref().filter(|_| needs_peers) else {
                        break listed;
                    };
                    // The connections used for the metadata closed with it (or failed):
                    // peers accept new ones only under a new peer id.
                    web.renew();
                    match listed {
                        // Browser peers come and go: when those found so far could not
                        // give the metadata, look for others until the time is up.
                        Err(EngineError::MetadataTimeout(why))
                            if !other_sources && Instant::now() < deadline =>
                        {
                            tracing::info!(%info_hash, "webrtc peers did not give the metadata ({why}); looking for others");
                            // Not in a tight loop against peers that fail at once.
                            tokio::time::sleep(Duration::from_millis(500)).await;
                        }
                        listed => break listed,
                    }
                };
                let listed = listed?;
                if !matches!(source, Source::Torrent(_)) {
                    // A .torrent file was checked before librqbit saw it; peers' metadata
                    // is checked now, before the torrent is added for download.
                    check_torrent(&listed.torrent_bytes).map_err(|e| {
                        EngineError::InvalidTorrent(format!(
                            "invalid torrent metadata from peers: {e}"
                        ))
                    })?;
                }
                listed
            }
        };
        tracing::info!(%info_hash, elapsed = ?started.elapsed(), from_cache, "metadata ready");

        let files: Vec<TorrentFile> = listed
            .info
            .iter_file_details()
            .enumerate()
            .map(|(i, fd)| TorrentFile::new(i, fd.filename.to_vec().join("/"), fd.len))
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
        self.remember(info_hash, &name, &listed.torrent_bytes);
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
            .context("starting the torrent");
        let handle = added.and_then(|a| a.into_handle().context("the torrent was not started"));
        let ready = match handle {
            Ok(handle) => {
                if let Some(web) = &web {
                    web.go_live(&handle).await;
                }
                self.wait_for_first_peer(&handle, chosen, from_cache)
                    .await
                    .map(|()| handle)
            }
            Err(e) => Err(e.into()),
        };
        let handle = match ready {
            Ok(handle) => handle,
            Err(e) => {
                if from_cache {
                    self.leave_cached(info_hash).await;
                } else {
                    self.forget(info_hash).await;
                }
                return Err(e);
            }
        };
        tracing::info!(%info_hash, elapsed = ?started.elapsed(), file = %files[chosen].path, "stream ready");
        let stream = Arc::new(Stream {
            handle,
            name,
            files,
            default_file: chosen,
            output_dir,
            activity: Activity::new(),
            failure: Default::default(),
            webrtc: web,
        });
        let info = stream.describe(info_hash, chosen);
        self.streams.lock().unwrap().insert(info_hash, stream);
        Ok(info)
    }

    /// Metadata and the peers seen while fetching it, within `metadata_timeout`.
    /// The torrent's metadata from peers (or from the .torrent), waiting at most `timeout`.
    async fn fetch_metadata(
        &self,
        source: &Source,
        extra_peers: Vec<SocketAddr>,
        timeout: Duration,
    ) -> Result<ListOnlyResponse, EngineError> {
        let (add, initial_peers) = match source {
            // librqbit ignores the link's `x.pe`: its peers are given separately. It
            // speaks no WebSocket tracker: those are ours (`extra_peers` come from them).
            Source::Magnet(m) => (
                AddTorrent::from_url(without_websocket_trackers(m).to_string()),
                Some(m.peers().iter().copied().chain(extra_peers).collect()),
            ),
            Source::InfoHash(h) => (AddTorrent::from_url(h.to_string()), None),
            Source::Torrent(bytes) => (AddTorrent::from_bytes(bytes.clone()), None),
        };
        let opts = AddTorrentOptions {
            list_only: true,
            initial_peers,
            ..Default::default()
        };
        match tokio::time::timeout(timeout, self.session.add_torrent(add, Some(opts))).await {
            Err(_) => Err(EngineError::MetadataTimeout(format!(
                "no peer sent it within {} s",
                self.config.metadata_timeout.as_secs_f32()
            ))),
            Ok(Ok(AddTorrentResponse::ListOnly(listed))) => Ok(listed),
            Ok(Ok(_)) => Err(anyhow::anyhow!("the torrent is being removed; try again").into()),
            Ok(Err(e)) => Err(metadata_error(e, source)),
        }
    }

    /// A cached torrent whose preparation failed leaves the session; its data and
    /// metadata stay in the cache.
    async fn leave_cached(&self, info_hash: InfoHash) {
        if let Err(e) = self
            .session
            .delete(super::torrent_id(info_hash), false)
            .await
        {
            tracing::debug!(%info_hash, "removing torrent from the session: {e:#}");
        }
    }

    /// Waits for librqbit's check of what is on disk (only verified pieces count), then
    /// until a peer is connected or the file is complete (or, for a torrent from the
    /// cache, holds verified bytes of the file), for `no_seeds_timeout`.
    async fn wait_for_first_peer(
        &self,
        handle: &Handle,
        file: usize,
        from_cache: bool,
    ) -> Result<(), EngineError> {
        handle
            .wait_until_initialized()
            .await
            .context("checking the data on disk")?;
        let deadline = Instant::now() + self.config.no_seeds_timeout;
        loop {
            let stats = handle.stats();
            if let Some(error) = stats.error {
                // Said as a stream's failure is said later (a full disk says so).
                let message = describe_failure(&anyhow::anyhow!(error));
                return Err(EngineError::Failed(anyhow::anyhow!(message)));
            }
            let have = stats.file_progress.get(file).copied().unwrap_or(0);
            let file_done = handle
                .with_metadata(|m| m.file_infos[file].len == have)
                .unwrap_or(false);
            let live = stats
                .live
                .as_ref()
                .map_or(0, |l| l.snapshot.peer_stats.live);
            // From the cache, what is verified on disk plays with no peer at all.
            if live > 0 || file_done || (from_cache && have > 0) {
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
}

/// How librqbit says that metadata (from peers, or a .torrent) cannot be used: patch 5's
/// refusal of a zero piece length, and `librqbit-core`'s `validate` errors.
const INVALID_METADATA: [&str; 10] = [
    "invalid torrent metadata",
    "path traversal detected",
    "suspicious separator in filename",
    "torrent has a file with no name",
    "empty filename in torrent",
    "duplicate filenames in torrent",
    "no files in torrent",
    "torrent with 0 length is useless",
    "both in single and multi-file mode",
    "multi-file torrent to have at least one file",
];

/// What librqbit's refusal to fetch metadata means. librqbit says it only in words, so
/// its messages are matched; the engine's tests on a real swarm check they still are.
fn metadata_error(e: anyhow::Error, source: &Source) -> EngineError {
    let message = format!("{e:#}");
    if message.contains("no known way to resolve peers") {
        // librqbit refuses at once when it has no DHT, no tracker and no peer to ask.
        // With WebRTC on, a link with WebSocket trackers was answered before librqbit.
        let websocket_only = match source {
            Source::Magnet(m) => m.trackers().iter().any(|t| is_websocket_tracker(t)),
            _ => false,
        };
        EngineError::NoSeeds(if websocket_only {
            "no way to find peers: the link names only WebSocket trackers, and WebRTC is off".into()
        } else {
            "no way to find peers: the DHT is off and the link names no tracker or peer".into()
        })
    } else if message.contains("no way to discover torrent metainfo") {
        // Every peer known was asked and none had it (with the DHT on, this is rare).
        EngineError::MetadataTimeout("none of the peers found has it".into())
    } else if matches!(source, Source::Torrent(_)) {
        EngineError::InvalidTorrent(format!("invalid .torrent file: {message}"))
    } else if INVALID_METADATA.iter().any(|m| message.contains(m)) {
        // librqbit refused metadata whose hash matched: every peer would send the same
        // bytes, so the torrent itself is unusable.
        EngineError::InvalidTorrent(format!("invalid torrent metadata from peers: {message}"))
    } else {
        e.context("fetching metadata").into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn librqbit_failures_are_classified_by_their_message() {
        let magnet = Source::InfoHash(InfoHash([7; 20]));
        let torrent = Source::Torrent(bytes::Bytes::from_static(b"d4:infoe"));
        let err = |m: &str| anyhow::anyhow!("{m}").context("adding the torrent");
        for source in [&magnet, &torrent] {
            assert!(matches!(
                metadata_error(err("no known way to resolve peers"), source),
                EngineError::NoSeeds(_)
            ));
            assert!(matches!(
                metadata_error(err("no way to discover torrent metainfo"), source),
                EngineError::MetadataTimeout(_)
            ));
        }
        let websocket_only = Source::parse_link(&format!(
            "magnet:?xt=urn:btih:{}&tr=wss%3A%2F%2Ftracker.example%2F",
            "07".repeat(20)
        ))
        .unwrap();
        assert!(matches!(
            metadata_error(err("no known way to resolve peers"), &websocket_only),
            EngineError::NoSeeds(m) if m.contains("WebRTC is off")
        ));
        assert!(matches!(
            metadata_error(err("bencode: unexpected end"), &torrent),
            EngineError::InvalidTorrent(m) if m.contains("unexpected end")
        ));
        assert!(matches!(
            metadata_error(err("invalid torrent metadata: piece length is 0"), &magnet),
            EngineError::InvalidTorrent(m) if m.contains("piece length is 0")
        ));
        assert!(matches!(
            metadata_error(err("path traversal detected, \"..\" in filename"), &magnet),
            EngineError::InvalidTorrent(m) if m.starts_with("invalid torrent metadata from peers")
        ));
        assert!(matches!(
            metadata_error(err("disk full"), &magnet),
            EngineError::Failed(e) if format!("{e:#}").starts_with("fetching metadata: ")
        ));
    }
}
