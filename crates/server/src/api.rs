//! The one facade both transports call: the HTTP handlers in [`crate::http`] and the
//! desktop app's Tauri commands. Each operation is a method here, so that the two
//! transports cannot drift apart; they only add what is theirs (headers, bodies, events).

use std::sync::Arc;
use std::time::Instant;

use cinemahalal_engine::{
    Engine, EngineError, InfoHash, Source, StreamInfo, StreamReader, StreamStatus,
};
use cinemahalal_search::{ProviderConfig, SearchError, SearchQuery, SearchResponse};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ErrorCode};
use crate::search::{SearchSetup, SearchState};

/// Longest .torrent file accepted in a request, decoded.
pub const MAX_TORRENT_FILE: usize = 8 << 20;

/// Body of `POST /api/stream`: exactly one of `magnet`, `infoHash` or `torrent`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StreamRequest {
    pub magnet: Option<String>,
    pub info_hash: Option<String>,
    /// A .torrent file, base64-encoded.
    pub torrent: Option<String>,
    pub file_index: Option<usize>,
}

/// Answer of `POST /api/stream`, and one entry of `GET /api/streams`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamReady {
    pub status: &'static str,
    pub stream_url: String,
    #[serde(flatten)]
    pub info: StreamInfo,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamList {
    pub streams: Vec<StreamReady>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
    /// Seconds since start.
    pub uptime: u64,
    pub active_streams: usize,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stopped {
    pub status: &'static str,
    pub info_hash: InfoHash,
}

/// Query of `GET /api/search`: one of `query` (a title) or `imdbId`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SearchRequest {
    pub query: Option<String>,
    pub imdb_id: Option<String>,
}

/// The search providers, as the settings screen shows and saves them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProviderList {
    pub providers: Vec<ProviderConfig>,
}

/// Body of `POST /api/providers/test`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProviderTest {
    pub provider: ProviderConfig,
}

/// How many results a provider's test search found.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderTestResult {
    pub results: usize,
}

pub struct Api {
    engine: Arc<Engine>,
    search: SearchState,
    started: Instant,
}

impl Api {
    /// An API whose search keeps the default providers in memory; see [`Api::with_search`].
    pub fn new(engine: Arc<Engine>) -> Api {
        Api {
            engine,
            search: SearchState::new(SearchSetup::default()),
            started: Instant::now(),
        }
    }

    /// Takes search providers from `setup` (the apps use [`SearchSetup::platform`]).
    pub fn with_search(self, setup: SearchSetup) -> Api {
        Api {
            search: SearchState::new(setup),
            ..self
        }
    }

    pub fn health(&self) -> Health {
        Health {
            status: "OK",
            version: env!("CARGO_PKG_VERSION"),
            uptime: self.started.elapsed().as_secs(),
            active_streams: self.engine.active_streams(),
        }
    }

    /// Prepares a stream; `base_url` (`http://host:port`, no trailing slash) is where the
    /// caller reaches this server, and prefixes `streamUrl`.
    pub async fn prepare_stream(
        &self,
        request: StreamRequest,
        base_url: &str,
    ) -> Result<StreamReady, ApiError> {
        let source = request.source()?;
        let info = self.engine.prepare(source, request.file_index).await?;
        Ok(ready(info, base_url))
    }

    pub fn list_streams(&self, base_url: &str) -> StreamList {
        StreamList {
            streams: self
                .engine
                .list()
                .into_iter()
                .map(|i| ready(i, base_url))
                .collect(),
        }
    }

    /// A prepared stream's answer for one of its files, without opening a reader.
    pub fn stream_info(
        &self,
        info_hash: &str,
        file_index: Option<usize>,
    ) -> Result<StreamInfo, ApiError> {
        Ok(self.engine.info(parse_info_hash(info_hash)?, file_index)?)
    }

    /// The URL that plays one file of a prepared stream.
    pub fn stream_url(
        &self,
        info_hash: &str,
        file_index: Option<usize>,
        base_url: &str,
    ) -> Result<String, ApiError> {
        Ok(ready(self.stream_info(info_hash, file_index)?, base_url).stream_url)
    }

    pub async fn open_reader(
        &self,
        info_hash: &str,
        file_index: Option<usize>,
    ) -> Result<StreamReader, ApiError> {
        Ok(self
            .engine
            .open(parse_info_hash(info_hash)?, file_index)
            .await?)
    }

    pub fn stream_status(
        &self,
        info_hash: &str,
        file_index: Option<usize>,
    ) -> Result<StreamStatus, ApiError> {
        Ok(self
            .engine
            .status(parse_info_hash(info_hash)?, file_index)?)
    }

    pub async fn search(&self, request: SearchRequest) -> Result<SearchResponse, ApiError> {
        let query = SearchQuery::new(request.query.as_deref(), request.imdb_id.as_deref())?;
        Ok(self.search.search().search(&query).await?)
    }

    pub fn list_providers(&self) -> ProviderList {
        ProviderList {
            providers: self.search.providers(),
        }
    }

    pub fn save_providers(&self, list: ProviderList) -> Result<ProviderList, ApiError> {
        Ok(ProviderList {
            providers: self.search.save(list.providers)?,
        })
    }

    /// Runs a small search against one provider, enabled or not.
    pub async fn test_provider(&self, test: ProviderTest) -> Result<ProviderTestResult, ApiError> {
        test.provider
            .validate()
            .map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.to_string()))?;
        match cinemahalal_search::test_provider(&test.provider).await {
            Ok(results) => Ok(ProviderTestResult { results }),
            Err(reason) => Err(SearchError::AllProvidersFailed(vec![
                cinemahalal_search::ProviderFailure::new(test.provider.name.clone(), reason),
            ])
            .into()),
        }
    }

    pub async fn stop_stream(&self, info_hash: &str) -> Result<Stopped, ApiError> {
        let info_hash = parse_info_hash(info_hash)?;
        self.engine.stop(info_hash).await?;
        Ok(Stopped {
            status: "STOPPED",
            info_hash,
        })
    }
}

fn ready(info: StreamInfo, base_url: &str) -> StreamReady {
    let stream_url = if info.is_default_file {
        format!("{base_url}/api/stream/{}", info.info_hash)
    } else {
        format!(
            "{base_url}/api/stream/{}/{}",
            info.info_hash, info.file_index
        )
    };
    StreamReady {
        status: "STREAM_READY",
        stream_url,
        info,
    }
}

pub fn parse_info_hash(text: &str) -> Result<InfoHash, ApiError> {
    text.parse()
        .map_err(|e: cinemahalal_engine::InvalidInfoHash| {
            ApiError::new(ErrorCode::InvalidRequest, e.to_string())
        })
}

impl StreamRequest {
    fn source(&self) -> Result<Source, ApiError> {
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

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        let code = match &e {
            EngineError::InvalidRequest(_) => ErrorCode::InvalidRequest,
            EngineError::MetadataTimeout(_) => ErrorCode::MetadataTimeout,
            EngineError::NoVideoFile { .. } => ErrorCode::NoVideoFile,
            EngineError::NoSeeds(_) => ErrorCode::NoSeeds,
            EngineError::NotFound(_) => ErrorCode::StreamNotFound,
            EngineError::TooManyReaders(_) => ErrorCode::TooManyReaders,
            EngineError::Failed(_) => ErrorCode::StreamFailed,
        };
        if code == ErrorCode::StreamFailed {
            tracing::warn!("stream failed: {e}");
        }
        ApiError::new(code, e.to_string())
    }
}

impl From<SearchError> for ApiError {
    fn from(e: SearchError) -> ApiError {
        match e {
            SearchError::InvalidRequest(m) => ApiError::new(ErrorCode::InvalidRequest, m),
            SearchError::AllProvidersFailed(failures) => {
                let message = SearchError::AllProvidersFailed(failures.clone()).to_string();
                ApiError {
                    providers: failures,
                    ..ApiError::new(ErrorCode::SearchFailed, message)
                }
            }
        }
    }
}
