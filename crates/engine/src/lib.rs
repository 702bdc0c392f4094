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
//!   - `engine/cleanup.rs`: idle cleanup, and what an earlier run left on disk.
//! - [`reader`]: [`StreamReader`], one reader on one file, holding a reader slot.
//! - [`source`]: what a stream comes from: [`Magnet`] links, bare [`InfoHash`]es, .torrent files.
//! - [`media`]: [`TorrentFile`], which files are video, which one plays by default, MIME types.
//! - [`status`]: [`StreamStatus`], what is on disk and how the download goes.
//! - [`config`]: the [`EngineConfig`].
//! - [`error`]: the [`EngineError`] kinds.

pub mod config;
pub mod engine;
pub mod error;
pub mod media;
pub mod reader;
pub mod source;
pub mod status;

pub use cinemahalal_magnet::{InfoHash, InvalidInfoHash, InvalidMagnet, Magnet};
pub use config::EngineConfig;
pub use engine::{Engine, StreamInfo};
pub use error::EngineError;
pub use media::TorrentFile;
pub use reader::StreamReader;
pub use source::Source;
pub use status::{ByteRange, Peers, StreamState, StreamStatus};
