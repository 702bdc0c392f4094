//! A prepared stream: the torrent's handle and files, what it answers ([`StreamInfo`]),
//! its [`Activity`], which idle cleanup reads, and its [`Failure`], which readers watch.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use librqbit::{
    ConnectionKind, ManagedTorrent, ManagedTorrentState, PeerStatsFilter, PeerStatsFilterState,
};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::status::PeerKind;
use crate::{EngineError, InfoHash, TorrentFile};

pub(super) type Handle = std::sync::Arc<ManagedTorrent>;

/// What a prepared stream is: the answer to "play this torrent".
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
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
    /// Whether this is the stream's default file (served at `/api/stream/<hash>`).
    pub is_default_file: bool,
    pub files: Vec<TorrentFile>,
}

/// One torrent being streamed. Registered in the engine only once ready.
pub(crate) struct Stream {
    pub(super) handle: Handle,
    pub(super) name: String,
    pub(super) files: Vec<TorrentFile>,
    /// The file played when no index is given: the one chosen when it was prepared.
    pub(super) default_file: usize,
    /// `downloads/<info hash>/`: kept in the cache when the stream goes idle, deleted
    /// when it is stopped.
    pub(super) output_dir: PathBuf,
    pub(crate) activity: Activity,
    pub(crate) failure: Failure,
    /// Its WebRTC peers, when it has WebSocket trackers and WebRTC is on.
    pub(super) webrtc: Option<super::webrtc::WebPeers>,
}

/// How far ahead of each reader librqbit downloads a file first unless told otherwise.
pub const DEFAULT_READ_AHEAD: u64 = 32 << 20;

/// How much playback the read-ahead holds once the file's bit rate is known: enough for
/// a player to ride out a slow minute of the swarm.
pub const READ_AHEAD_PLAYBACK: Duration = Duration::from_secs(60);

/// The most read-ahead a file gets, whatever its bit rate: 51 s of an 80 Mbit/s remux.
pub const MAX_READ_AHEAD: u64 = 512 << 20;

/// The read-ahead for a file of `size` bytes that plays for `duration_seconds`:
/// [`READ_AHEAD_PLAYBACK`] of it at its mean bit rate, between [`DEFAULT_READ_AHEAD`]
/// (low bit rates keep what they had) and [`MAX_READ_AHEAD`]. `None` when the duration
/// says nothing (0, negative, not a number).
pub fn read_ahead_for(size: u64, duration_seconds: f64) -> Option<u64> {
    if !(duration_seconds.is_finite() && duration_seconds > 0.0) {
        return None;
    }
    let bytes = size as f64 / duration_seconds * READ_AHEAD_PLAYBACK.as_secs_f64();
    // `as` saturates: a rate too large for u64 is the maximum, clamped below.
    Some((bytes.round() as u64).clamp(DEFAULT_READ_AHEAD, MAX_READ_AHEAD))
}

impl Stream {
    /// The torrent's TCP and uTP peers, told apart by how librqbit connected them:
    /// `connected` counts the live ones, the bytes include peers already gone. The
    /// loopback relays of WebRTC peers are TCP peers to librqbit and are left out.
    pub(super) fn peers_by_transport(&self) -> (PeerKind, PeerKind) {
        let (mut tcp, mut utp) = (PeerKind::default(), PeerKind::default());
        let Some(live) = self.handle.live() else {
            return (tcp, utp);
        };
        let filter = PeerStatsFilter {
            state: PeerStatsFilterState::All,
        };
        for (addr, peer) in live.per_peer_stats_snapshot(filter).peers {
            let relayed = self
                .webrtc
                .as_ref()
                .is_some_and(|web| addr.parse().is_ok_and(|addr| web.counters.is_relay(&addr)));
            let kind = match peer.conn_kind {
                _ if relayed => continue,
                Some(ConnectionKind::Tcp) => &mut tcp,
                Some(ConnectionKind::Utp) => &mut utp,
                Some(ConnectionKind::Socks) | None => continue,
            };
            if peer.state == "live" {
                kind.connected += 1;
            }
            kind.downloaded_bytes += peer.counters.fetched_bytes;
            kind.uploaded_bytes += peer.counters.uploaded_bytes;
        }
        (tcp, utp)
    }

    pub(super) fn describe(&self, info_hash: InfoHash, index: usize) -> StreamInfo {
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

    /// Why the torrent failed, if it did: librqbit stops a torrent whose data cannot be
    /// written (a full disk) and wakes none of its readers, so whoever looks (status,
    /// a reader, the reaper) records it here, and waiting readers are woken with it.
    pub(crate) fn check_failure(&self) -> Option<String> {
        if let Some(m) = self.failure.message() {
            return Some(m.to_owned());
        }
        let failed = self.handle.with_state(|s| match s {
            ManagedTorrentState::Error(e) => Some(describe_failure(e)),
            _ => None,
        })?;
        tracing::warn!(name = %self.name, "stream failed: {failed}");
        self.failure.set(failed);
        self.failure.message().map(str::to_owned)
    }

    /// How far ahead of each reader file `index` is downloaded first (librqbit keeps it).
    pub(super) fn read_ahead(&self, index: usize) -> u64 {
        self.handle
            .file_read_ahead(index)
            .unwrap_or(DEFAULT_READ_AHEAD)
    }

    /// Sizes file `index`'s read-ahead from how long it plays; the read-ahead it has.
    pub(super) fn set_duration(
        &self,
        index: usize,
        duration_seconds: f64,
    ) -> Result<u64, EngineError> {
        let file = self.file(Some(index))?;
        let Some(bytes) = read_ahead_for(file.size, duration_seconds) else {
            return Ok(self.read_ahead(index));
        };
        self.handle
            .set_file_read_ahead(index, bytes)
            .context("setting the read-ahead")?;
        Ok(bytes)
    }

    /// The file at `index`, or the default file.
    pub(super) fn file(&self, index: Option<usize>) -> Result<&TorrentFile, EngineError> {
        let index = index.unwrap_or(self.default_file);
        self.files
            .get(index)
            .ok_or_else(|| out_of_range(index, self.files.len()))
    }
}

pub(super) fn out_of_range(index: usize, len: usize) -> EngineError {
    EngineError::InvalidRequest(format!(
        "fileIndex {index} is out of range: the torrent has {len} file(s)"
    ))
}

/// When a stream was last used, and by how many readers now: what idle cleanup reads.
pub(crate) struct Activity {
    last: Mutex<Instant>,
    readers: AtomicUsize,
}

impl Activity {
    pub(super) fn new() -> Activity {
        Activity {
            last: Mutex::new(Instant::now()),
            readers: 0.into(),
        }
    }

    pub(crate) fn touch(&self) {
        *self.last.lock().unwrap() = Instant::now();
    }

    pub(crate) fn reader_opened(&self) {
        self.readers.fetch_add(1, Ordering::SeqCst);
        self.touch();
    }

    pub(crate) fn reader_closed(&self) {
        self.touch();
        self.readers.fetch_sub(1, Ordering::SeqCst);
    }

    /// How long the stream has been unused; `None` while a reader is open.
    pub(super) fn idle_for(&self) -> Option<Duration> {
        let readers = self.readers.load(Ordering::SeqCst);
        (readers == 0).then(|| self.last.lock().unwrap().elapsed())
    }
}

/// What a failed torrent's error means, in words a person reads: a full disk says so.
pub(crate) fn describe_failure(e: &anyhow::Error) -> String {
    let disk_full = e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::StorageFull)
    }) || format!("{e:#}").contains("No space left on device");
    if disk_full {
        format!("disk full: no space left in the data folder to write the download ({e:#})")
    } else {
        format!("the download failed: {e:#}")
    }
}

/// A stream's failure, set once; readers wait on `token` alongside their piece.
#[derive(Default)]
pub(crate) struct Failure {
    message: OnceLock<String>,
    token: CancellationToken,
}

impl Failure {
    pub(crate) fn set(&self, message: String) {
        if self.message.set(message).is_ok() {
            self.token.cancel();
        }
    }

    pub(crate) fn message(&self) -> Option<&str> {
        self.message.get().map(String::as_str)
    }

    pub(crate) fn token(&self) -> CancellationToken {
        self.token.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_read_ahead_holds_a_minute_of_playback_within_its_bounds() {
        let two_hours = 2.0 * 3600.0;
        // A 60 GB remux plays at 8.3 MB/s: a minute is 500 MB.
        assert_eq!(read_ahead_for(60_000_000_000, two_hours), Some(500_000_000));
        // A 1 GB film (1.1 Mbit/s) keeps the 32 MiB it had.
        assert_eq!(
            read_ahead_for(1_000_000_000, two_hours),
            Some(DEFAULT_READ_AHEAD)
        );
        // An 80 GB one would need 667 MB.
        assert_eq!(
            read_ahead_for(80_000_000_000, two_hours),
            Some(MAX_READ_AHEAD)
        );
        assert_eq!(read_ahead_for(u64::MAX, 1e-300), Some(MAX_READ_AHEAD));
    }

    #[test]
    fn a_duration_that_says_nothing_sizes_nothing() {
        for d in [0.0, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(read_ahead_for(1 << 30, d), None, "{d}");
        }
    }

    #[test]
    fn a_full_disk_is_named() {
        let io = std::io::Error::from(std::io::ErrorKind::StorageFull);
        let e = anyhow::Error::from(io).context("writing chunk");
        let m = describe_failure(&e);
        assert!(m.starts_with("disk full: "), "{m}");
        let m = describe_failure(&anyhow::anyhow!("peer sent garbage"));
        assert_eq!(m, "the download failed: peer sent garbage");
    }

    #[test]
    fn a_failure_is_set_once_and_wakes_waiters() {
        let f = Failure::default();
        let token = f.token();
        assert!(f.message().is_none() && !token.is_cancelled());
        f.set("disk full: first".into());
        f.set("second".into());
        assert_eq!(f.message(), Some("disk full: first"));
        assert!(token.is_cancelled());
    }
}
