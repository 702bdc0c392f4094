//! The one facade both transports call: the HTTP handlers in [`crate::http`] and the
//! desktop app's Tauri commands. Each operation is a method here, so that the two
//! transports cannot drift apart; they only add what is theirs (headers, bodies, events).
//! What the methods take and answer is in [`crate::wire`].

use std::sync::Arc;
use std::time::Instant;

use cinemahalal_engine::{CacheInfo, Engine, InfoHash, StreamInfo, StreamReader, StreamStatus};
use cinemahalal_search::{SearchError, SearchQuery, SearchResponse};

use crate::error::{ApiError, ErrorCode};
use crate::history::History;
use crate::search::{SearchSetup, SearchState};
use crate::security::{STREAM_TOKEN_PARAM, StreamKeys};
use crate::wire::{
    CacheCleared, Health, HistoryEntry, HistoryForgotten, HistoryList, ProviderList, ProviderTest,
    ProviderTestResult, SavePosition, SearchRequest, Stopped, StreamList, StreamReady,
    StreamRequest,
};

/// The one reason a failed provider test gives (see [`Api::test_provider`]).
pub const PROVIDER_TEST_FAILED: &str =
    "the provider did not answer with search results; the server's log says why";

pub struct Api {
    engine: Arc<Engine>,
    search: SearchState,
    started: Instant,
    stream_keys: StreamKeys,
    history: History,
}

impl Api {
    /// An API whose search keeps the default providers in memory; see [`Api::with_search`].
    pub fn new(engine: Arc<Engine>) -> Api {
        Api {
            history: History::load(&engine.config().data_dir),
            engine,
            search: SearchState::new(SearchSetup::default()),
            started: Instant::now(),
            stream_keys: StreamKeys::random(),
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
        // In a task of its own: a client that goes away (its request future dropped)
        // must not stop a preparation half-way, with the torrent added but no stream
        // registered. The preparation finishes or fails and cleans up by itself.
        let engine = self.engine.clone();
        let file_index = request.file_index;
        let info = tokio::spawn(async move { engine.prepare(source, file_index).await })
            .await
            .map_err(|e| ApiError::new(ErrorCode::InternalError, format!("preparing: {e}")))??;
        Ok(self.ready(info, base_url))
    }

    pub fn list_streams(&self, base_url: &str) -> StreamList {
        StreamList {
            streams: self
                .engine
                .list()
                .into_iter()
                .map(|i| self.ready(i, base_url))
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
        Ok(self
            .ready(self.stream_info(info_hash, file_index)?, base_url)
            .stream_url)
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

    /// Runs a small search against one provider, enabled or not; without an `apiKey`, with
    /// the key saved for the provider of that name.
    pub async fn test_provider(&self, test: ProviderTest) -> Result<ProviderTestResult, ApiError> {
        let provider = self.search.with_saved_key(test.provider);
        provider
            .validate()
            .map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.to_string()))?;
        match cinemahalal_search::test_provider(&provider).await {
            Ok(results) => Ok(ProviderTestResult { results }),
            // Works or does not, nothing more: which error (refused, timed out, which
            // HTTP status) would tell a caller what listens at an address. The log,
            // which only the owner reads, says why.
            Err(reason) => {
                tracing::info!(provider = %provider.name, %reason, "provider test failed");
                Err(SearchError::AllProvidersFailed(vec![
                    cinemahalal_search::ProviderFailure::new(
                        provider.name.clone(),
                        PROVIDER_TEST_FAILED,
                    ),
                ])
                .into())
            }
        }
    }

    /// What the cache of played torrents holds, and its cap.
    pub async fn cache_info(&self) -> CacheInfo {
        self.engine.cache_info().await
    }

    /// Deletes every cached torrent that is not streaming now.
    pub async fn clear_cache(&self) -> CacheCleared {
        CacheCleared {
            freed_bytes: self.engine.clear_cache().await,
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

/// The watch history (see [`crate::history`]).
impl Api {
    /// Where every file was left, most recently watched first.
    pub fn history(&self) -> HistoryList {
        HistoryList {
            entries: self.history.list(),
        }
    }

    /// Records where the player is in one file.
    pub fn save_position(
        &self,
        info_hash: &str,
        file_index: usize,
        save: SavePosition,
    ) -> Result<HistoryEntry, ApiError> {
        self.history
            .save(parse_info_hash(info_hash)?, file_index, save)
    }

    /// Forgets where one file was left.
    pub fn forget_position(
        &self,
        info_hash: &str,
        file_index: usize,
    ) -> Result<HistoryForgotten, ApiError> {
        Ok(HistoryForgotten {
            removed: self
                .history
                .forget(parse_info_hash(info_hash)?, file_index)?,
        })
    }

    /// Forgets the whole history.
    pub fn clear_history(&self) -> Result<HistoryForgotten, ApiError> {
        Ok(HistoryForgotten {
            removed: self.history.clear()?,
        })
    }
}

impl Api {
    /// The tokens `streamUrl`s carry (see [`crate::security::StreamKeys`]).
    pub fn stream_keys(&self) -> &StreamKeys {
        &self.stream_keys
    }

    /// `streamUrl`: the spec's path, with the stream's token, which a page of another
    /// origin (the desktop window among them) needs to play it.
    fn ready(&self, info: StreamInfo, base_url: &str) -> StreamReady {
        let path = if info.is_default_file {
            format!("{base_url}/api/stream/{}", info.info_hash)
        } else {
            format!(
                "{base_url}/api/stream/{}/{}",
                info.info_hash, info.file_index
            )
        };
        let token = self.stream_keys.token(&info.info_hash);
        StreamReady {
            status: "STREAM_READY",
            stream_url: format!("{path}?{STREAM_TOKEN_PARAM}={token}"),
            info,
        }
    }
}

pub fn parse_info_hash(text: &str) -> Result<InfoHash, ApiError> {
    text.parse()
        .map_err(|e: cinemahalal_engine::InvalidInfoHash| {
            ApiError::new(ErrorCode::InvalidRequest, e.to_string())
        })
}
