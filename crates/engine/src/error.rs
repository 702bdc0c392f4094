//! The engine's failures. Each variant is one error code of the HTTP API.

use crate::{InfoHash, InvalidInfoHash, InvalidMagnet};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The request itself is wrong: a malformed link, hash or file index.
    #[error("{0}")]
    InvalidRequest(String),
    /// The torrent's metadata is unusable (a .torrent file from the request, or what peers
    /// sent for a magnet): see [`crate::metainfo_check`].
    #[error("{0}")]
    InvalidTorrent(String),
    /// Metadata could not be fetched: not in time, or every peer known was asked.
    #[error("could not fetch the torrent's metadata: {0}")]
    MetadataTimeout(String),
    #[error("the torrent has no video file among its {files} file(s)")]
    NoVideoFile { files: usize },
    #[error("{0}")]
    NoSeeds(String),
    #[error("no stream with info hash {0}")]
    NotFound(InfoHash),
    #[error("too many open readers ({0}); close a player or try again shortly")]
    TooManyReaders(usize),
    /// As many streams as `max_streams` are prepared or being prepared.
    #[error("too many streams at once ({0}); stop one and try again")]
    TooManyStreams(usize),
    #[error("{0:#}")]
    Failed(#[from] anyhow::Error),
}

/// A link that is not a usable magnet is a bad request.
impl From<InvalidMagnet> for EngineError {
    fn from(e: InvalidMagnet) -> EngineError {
        EngineError::InvalidRequest(e.to_string())
    }
}

/// A string that is not an info hash is a bad request.
impl From<InvalidInfoHash> for EngineError {
    fn from(e: InvalidInfoHash) -> EngineError {
        EngineError::InvalidRequest(e.to_string())
    }
}
