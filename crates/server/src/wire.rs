//! What the API takes and answers: the request and answer types of every operation, as
//! JSON over HTTP and as Tauri command arguments and results. The UI's TypeScript types
//! are generated from these (see [`crate::contract`]); nothing else defines them.

use cinemahalal_engine::{EngineError, InfoHash, Source, StreamInfo};
use cinemahalal_media::PlaybackMode;
use cinemahalal_search::Provider;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::api::parse_info_hash;
use crate::error::{ApiError, ErrorCode};

/// Longest .torrent file accepted in a request, decoded.
pub const MAX_TORRENT_FILE: usize = 8 << 20;

/// Body of `POST /api/stream`: exactly one of `magnet`, `infoHash` or `torrent`.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StreamRequest {
    #[ts(optional)]
    pub magnet: Option<String>,
    /// 40 hex digits or 32 base32 characters, any letter case.
    #[ts(optional)]
    pub info_hash: Option<String>,
    /// A .torrent file, base64-encoded.
    #[ts(optional)]
    pub torrent: Option<String>,
    /// Which file to play; the largest video when absent.
    #[ts(optional)]
    pub file_index: Option<usize>,
}

/// Answer of `POST /api/stream`, and one entry of `GET /api/streams`.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StreamReady {
    pub status: &'static str,
    pub stream_url: String,
    /// `GET` it for the file's [`cinemahalal_media::MediaProbe`] (with the stream token).
    pub probe_url: String,
    #[serde(flatten)]
    pub info: StreamInfo,
}

/// Query of `GET /api/stream/{infoHash}/{fileIndex}/hls/index.m3u8` and of its segments.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HlsQuery {
    /// Which audio track (its `index` in the probe); the first when absent.
    #[ts(optional)]
    pub audio: Option<usize>,
    /// `remux` (the default) or `transcode`.
    #[ts(optional)]
    pub mode: Option<PlaybackMode>,
    /// Who plays: one ffmpeg job per viewer and file. The playlist gives one when absent.
    #[ts(optional)]
    pub viewer: Option<String>,
    /// The stream token, as in `streamUrl`.
    #[ts(optional)]
    pub token: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StreamList {
    pub streams: Vec<StreamReady>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
    /// Seconds since start.
    pub uptime: u64,
    pub active_streams: usize,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Stopped {
    pub status: &'static str,
    pub info_hash: InfoHash,
}

/// Answer of `DELETE /api/cache`: what clearing the cache freed.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CacheCleared {
    /// Bytes deleted from disk.
    pub freed_bytes: u64,
}

/// Query of `GET /api/search`: one of `query` (a title) or `imdbId`.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SearchRequest {
    #[ts(optional)]
    pub query: Option<String>,
    #[ts(optional)]
    pub imdb_id: Option<String>,
}

/// The search providers, as the settings screen shows and saves them: never with their
/// API keys (see [`Provider`]).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProviderList {
    pub providers: Vec<Provider>,
}

/// Body of `POST /api/providers/test`. Without `apiKey`, the saved provider's key is used.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProviderTest {
    pub provider: Provider,
}

/// How many results a provider's test search found.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProviderTestResult {
    pub results: usize,
}

impl StreamRequest {
    /// Where the stream comes from; exactly one of the three must be given.
    pub(crate) fn source(&self) -> Result<Source, ApiError> {
        let invalid = |m: &str| ApiError::new(ErrorCode::InvalidRequest, m);
        match (&self.magnet, &self.info_hash, &self.torrent) {
            (Some(magnet), None, None) => Ok(Source::Magnet(
                cinemahalal_engine::Magnet::parse(magnet).map_err(EngineError::from)?,
            )),
            (None, Some(hash), None) => Ok(Source::InfoHash(parse_info_hash(hash.trim())?)),
            (None, None, Some(torrent)) => {
                if torrent.len() > MAX_TORRENT_FILE / 3 * 4 + 4 {
                    return Err(invalid("the .torrent file is larger than 8 MiB"));
                }
                let bytes = data_encoding::BASE64
                    .decode(torrent.trim().as_bytes())
                    .map_err(|e| invalid(&format!("torrent is not valid base64: {e}")))?;
                Ok(Source::Torrent(bytes.into()))
            }
            (None, None, None) => Err(invalid("give one of magnet, infoHash or torrent")),
            _ => Err(invalid("give only one of magnet, infoHash or torrent")),
        }
    }
}

/// Where one file of a torrent was left: an entry of the watch history
/// (`GET /api/history`), kept in the data dir's `history.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub info_hash: InfoHash,
    pub file_index: usize,
    /// What the UI calls it (the file's or the torrent's name).
    pub name: String,
    /// The link it was opened with, when it was a magnet link: it names the peers and
    /// trackers that opening it again needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub magnet: Option<String>,
    pub position_seconds: f64,
    /// 0 when the player did not know it.
    pub duration_seconds: f64,
    /// Milliseconds since the Unix epoch.
    pub updated_at: u64,
    /// Left within its last minute or 5 % (whichever is less): opening it again starts
    /// from the beginning.
    pub watched: bool,
}

/// Answer of `GET /api/history`: most recently watched first, at most 200.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HistoryList {
    pub entries: Vec<HistoryEntry>,
}

/// Body of `PUT /api/history/{infoHash}/{fileIndex}`: where the player is.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SavePosition {
    /// Seconds from the start; finite, 0 or more.
    pub position_seconds: f64,
    /// The file's duration in seconds, when the player knows it.
    #[ts(optional)]
    pub duration_seconds: Option<f64>,
    #[ts(optional)]
    pub name: Option<String>,
    /// The magnet link it was opened with (same info hash), kept to reopen it.
    #[ts(optional)]
    pub magnet: Option<String>,
}

/// Answer of `DELETE /api/history[/{infoHash}/{fileIndex}]`.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HistoryForgotten {
    /// How many entries went.
    pub removed: usize,
}
