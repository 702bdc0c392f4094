//! What `GET /api/stream/<hash>/status` reports: state, progress, speeds, peers and the
//! byte ranges of the file already on disk.

use serde::Serialize;

use crate::{InfoHash, TorrentFile};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum StreamState {
    /// Asking peers for the torrent's metadata (a magnet link).
    FetchingMetadata,
    /// Metadata known; connecting to the first peer or checking data.
    Connecting,
    /// Peers connected, or the file complete: reads are served as pieces arrive.
    Ready,
    /// No peer connected and the file incomplete: reads past what is on disk wait.
    Stalled,
    /// The torrent failed; `message` says why.
    Error,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Peers {
    /// Every connected peer, WebRTC ones included.
    pub connected: u32,
    /// Peers heard of (DHT, trackers, links), connected or not.
    pub known: u32,
    /// The peers reached over TCP among them (WebRTC ones, which reach the torrent
    /// through loopback relays, not counted), and the bytes exchanged with them.
    pub tcp: PeerKind,
    /// The peers reached over uTP among them.
    pub utp: PeerKind,
    /// The WebRTC peers (browsers running WebTorrent) among them, and the bytes
    /// exchanged with them.
    pub webrtc: PeerKind,
}

/// Peers of one kind: how many are connected, and the bytes exchanged with them (wire
/// protocol included) since the stream was prepared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct PeerKind {
    pub connected: u32,
    pub downloaded_bytes: u64,
    pub uploaded_bytes: u64,
}

/// A byte range of the file on disk: `start` inclusive, `end` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct StreamStatus {
    pub info_hash: InfoHash,
    pub state: StreamState,
    /// Why the torrent failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub message: Option<String>,
    /// The file reported on; `null` while metadata is fetched.
    pub file_index: Option<usize>,
    /// Its size in bytes (0 while unknown).
    pub size: u64,
    /// Share of the file on disk, 0 to 1.
    pub progress: f64,
    pub downloaded_bytes: u64,
    /// Bytes per second, averaged over the last seconds.
    pub download_speed: u64,
    pub upload_speed: u64,
    pub peers: Peers,
    pub available_ranges: Vec<ByteRange>,
    /// How far ahead of each reader the file is downloaded before the rest, in bytes:
    /// 32 MiB, or a minute of playback once a probe has told the file's duration
    /// (at most 512 MiB); 0 while metadata is fetched.
    pub read_ahead_bytes: u64,
}

impl StreamStatus {
    pub(crate) fn pending(info_hash: InfoHash, state: StreamState) -> StreamStatus {
        StreamStatus {
            info_hash,
            state,
            message: None,
            file_index: None,
            size: 0,
            progress: 0.0,
            downloaded_bytes: 0,
            download_speed: 0,
            upload_speed: 0,
            peers: Peers::default(),
            available_ranges: Vec::new(),
            read_ahead_bytes: 0,
        }
    }
}

/// Where a file sits in its torrent's pieces.
pub(crate) struct FileLayout {
    pub offset: u64,
    pub piece_length: u64,
}

pub(crate) fn of_stream(
    info_hash: InfoHash,
    stats: &librqbit::TorrentStats,
    file: &TorrentFile,
    layout: FileLayout,
    have_piece: Option<&dyn Fn(u64) -> bool>,
) -> StreamStatus {
    let downloaded = stats.file_progress.get(file.index).copied().unwrap_or(0);
    let complete = downloaded >= file.size;
    let (connected, known, down, up) = match &stats.live {
        Some(live) => {
            let p = &live.snapshot.peer_stats;
            (
                p.live,
                p.seen,
                mib_to_bytes(live.download_speed.mbps),
                mib_to_bytes(live.upload_speed.mbps),
            )
        }
        None => (0, 0, 0, 0),
    };
    let state = match stats.state {
        librqbit::TorrentStatsState::Error => StreamState::Error,
        librqbit::TorrentStatsState::Initializing { .. } => StreamState::Connecting,
        _ if complete || connected > 0 => StreamState::Ready,
        _ => StreamState::Stalled,
    };
    StreamStatus {
        info_hash,
        state,
        message: stats.error.clone(),
        file_index: Some(file.index),
        size: file.size,
        progress: if file.size == 0 {
            1.0
        } else {
            downloaded as f64 / file.size as f64
        },
        downloaded_bytes: downloaded,
        download_speed: down,
        upload_speed: up,
        peers: Peers {
            connected,
            known,
            ..Peers::default()
        },
        available_ranges: have_piece
            .map(|have| ranges_on_disk(layout, file.size, have))
            .unwrap_or_default(),
        // The stream's, which the engine fills in.
        read_ahead_bytes: 0,
    }
}

fn mib_to_bytes(mib_per_sec: f64) -> u64 {
    (mib_per_sec * 1024.0 * 1024.0).round() as u64
}

/// The parts of a file covered by pieces on disk, merged, in file offsets.
pub(crate) fn ranges_on_disk(
    layout: FileLayout,
    size: u64,
    have_piece: &dyn Fn(u64) -> bool,
) -> Vec<ByteRange> {
    let mut out: Vec<ByteRange> = Vec::new();
    if size == 0 || layout.piece_length == 0 {
        return out;
    }
    let (start, end) = (layout.offset, layout.offset + size);
    let first = start / layout.piece_length;
    let last = (end - 1) / layout.piece_length;
    for piece in first..=last {
        if !have_piece(piece) {
            continue;
        }
        let lo = (piece * layout.piece_length).max(start) - start;
        let hi = ((piece + 1) * layout.piece_length).min(end) - start;
        match out.last_mut() {
            Some(prev) if prev.end == lo => prev.end = hi,
            _ => out.push(ByteRange { start: lo, end: hi }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_pieces_clipped_to_the_file() {
        // File at torrent offset 150, 500 bytes, pieces of 100: pieces 1..=6.
        let have = |p: u64| matches!(p, 1 | 2 | 4 | 6);
        let r = ranges_on_disk(
            FileLayout {
                offset: 150,
                piece_length: 100,
            },
            500,
            &have,
        );
        assert_eq!(
            r,
            vec![
                ByteRange { start: 0, end: 150 },
                ByteRange {
                    start: 250,
                    end: 350
                },
                ByteRange {
                    start: 450,
                    end: 500
                },
            ]
        );
    }

    #[test]
    fn whole_file_is_one_range() {
        let r = ranges_on_disk(
            FileLayout {
                offset: 0,
                piece_length: 64,
            },
            1000,
            &|_| true,
        );
        assert_eq!(
            r,
            vec![ByteRange {
                start: 0,
                end: 1000
            }]
        );
        assert!(
            ranges_on_disk(
                FileLayout {
                    offset: 0,
                    piece_length: 64
                },
                1000,
                &|_| false
            )
            .is_empty()
        );
    }
}
