//! The torrent engine behind CinemaHalal.
//!
//! One librqbit [`librqbit::Session`] per process, with DHT, trackers, TCP and uTP peers.
//! A *stream* is one torrent added for playing one of its files: only that file is
//! downloaded, and each open [`StreamReader`] pulls the pieces ahead of its position
//! first, so a player can start and seek before the download ends.
//!
//! This crate knows nothing of HTTP: the server crate turns [`EngineError`]s into error
//! codes and [`StreamReader`]s into response bodies. librqbit stays behind this API so
//! that how pieces are requested can change without touching the transports. Info
//! hashes and magnet links come from `cinemahalal-magnet`, re-exported here.
//!
//! # Layout
//! - [`engine`]: [`Engine`], the public API: start, prepare, info, list, open, status,
//!   stop, shutdown. Behind it, one private module per concept:
//!   - `engine/prepare.rs`: preparing a stream (metadata, file choice, first peer) and
//!     what librqbit's failures mean as [`EngineError`]s;
//!   - `engine/stream.rs`: a prepared stream, what it answers ([`StreamInfo`]) and its
//!     activity (last use, open readers);
//!   - `engine/cache.rs`: the cache of played torrents (data, metadata, `cache.json`),
//!     its cap and eviction, clearing it ([`CacheInfo`]);
//!   - `engine/cleanup.rs`: the reaper, which parks idle streams in the cache, records
//!     failed torrents and holds the cache to its cap.
//! - [`reader`]: [`StreamReader`], one reader on one file, holding a reader slot.
//! - [`source`]: what a stream comes from: [`Magnet`] links, bare [`InfoHash`]es, .torrent files.
//! - [`metainfo_check`]: the check every torrent's metadata passes before librqbit
//!   uses it (piece length, piece hashes, file names, sizes, nesting).
//! - [`media`]: [`TorrentFile`], which files are video, which one plays by default, MIME types.
//! - [`status`]: [`StreamStatus`], what is on disk and how the download goes.
//! - [`config`]: the [`EngineConfig`].
//! - [`error`]: the [`EngineError`] kinds.
//!
//! The wire types ([`StreamInfo`], [`TorrentFile`], [`StreamStatus`], [`StreamState`],
//! [`Peers`], [`ByteRange`], [`CacheInfo`], [`CachedTorrent`]) derive `ts_rs::TS` for the UI's generated TypeScript;
//! [`InfoHash`] is a `string` there.

pub mod config;
pub mod engine;
pub mod error;
pub mod media;
pub mod metainfo_check;
pub mod reader;
pub mod source;
pub mod status;

pub use cinemahalal_magnet::{InfoHash, InvalidInfoHash, InvalidMagnet, Magnet};
pub use config::EngineConfig;
pub use engine::{CacheInfo, CachedTorrent, Engine, StreamInfo};
pub use error::EngineError;
pub use media::TorrentFile;
pub use reader::StreamReader;
pub use source::Source;
pub use status::{ByteRange, PeerKind, Peers, StreamState, StreamStatus};

#[cfg(test)]
mod tests {
    use ts_rs::TS;

    use super::*;

    /// A declaration without its doc comments, on one line.
    fn shape<T: TS>() -> String {
        let cfg = ts_rs::Config::new().with_large_int("number");
        let mut decl = T::decl(&cfg);
        while let Some(start) = decl.find("/**") {
            let end = start + decl[start..].find("*/").unwrap() + 2;
            decl.replace_range(start..end, "");
        }
        decl.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn wire_types_in_typescript() {
        assert_eq!(
            shape::<StreamInfo>(),
            "type StreamInfo = { infoHash: string, name: string, fileIndex: number, \
             videoFile: string, size: number, mimeType: string, isDefaultFile: boolean, \
             files: Array<TorrentFile>, };"
        );
        assert_eq!(
            shape::<TorrentFile>(),
            "type TorrentFile = { index: number, path: string, size: number, isVideo: boolean, };"
        );
        assert_eq!(
            shape::<StreamStatus>(),
            "type StreamStatus = { infoHash: string, state: StreamState, message?: string, \
             fileIndex: number | null, size: number, progress: number, downloadedBytes: number, \
             downloadSpeed: number, uploadSpeed: number, peers: Peers, \
             availableRanges: Array<ByteRange>, readAheadBytes: number, };"
        );
        assert_eq!(
            shape::<StreamState>(),
            "type StreamState = \"fetching_metadata\" | \"connecting\" | \"ready\" | \"stalled\" | \"error\";"
        );
        assert_eq!(
            shape::<Peers>(),
            "type Peers = { connected: number, known: number, tcp: PeerKind, utp: PeerKind, webrtc: PeerKind, };"
        );
        assert_eq!(
            shape::<PeerKind>(),
            "type PeerKind = { connected: number, downloadedBytes: number, uploadedBytes: number, };"
        );
        assert_eq!(
            shape::<CacheInfo>(),
            "type CacheInfo = { usedBytes: number, maxBytes: number, torrents: Array<CachedTorrent>, };"
        );
        assert_eq!(
            shape::<CachedTorrent>(),
            "type CachedTorrent = { infoHash: string, name: string, bytes: number, active: boolean, \
             lastUsed: number, };"
        );
        assert_eq!(
            shape::<ByteRange>(),
            "type ByteRange = { start: number, end: number, };"
        );
    }
}
