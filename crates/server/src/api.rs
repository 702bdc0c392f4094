//! The one facade both transports call: the HTTP handlers in [`crate::http`] and the
//! desktop app's Tauri commands. Each operation is a method here, so that the two
//! transports cannot drift apart; they only add what is theirs (headers, bodies, events).
//! What the methods take and answer is in [`crate::wire`].

use std::sync::Arc;
use std::time::Instant;

use cinemahalal_engine::{
    CacheInfo, Engine, InfoHash, Source, StreamInfo, StreamReader, StreamStatus,
};
use cinemahalal_media::hls::{self, SegmentSpec};
use cinemahalal_media::subtitles::{self, SubtitleSource};
use cinemahalal_media::{MediaProbe, PlaybackMode, SubtitleKind, SubtitleTrack};
use cinemahalal_search::{SearchError, SearchQuery, SearchResponse};

use crate::error::{ApiError, ErrorCode};
use crate::history::History;
use crate::media::{Loopback, MediaSettings, MediaState};
use crate::search::{SearchSetup, SearchState};
use crate::security::{STREAM_TOKEN_PARAM, StreamKeys};
use crate::wire::{
    CacheCleared, Health, HistoryEntry, HistoryForgotten, HistoryList, HlsQuery, ProviderList,
    ProviderTest, ProviderTestResult, SavePosition, SearchRequest, Stopped, StreamList,
    StreamReady, StreamRequest,
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
    media: MediaState,
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
            media: MediaState::new(MediaSettings::default(), None),
        }
    }

    /// Runs ffmpeg with `settings`, reading streams from this server at `loopback`.
    pub fn with_media(self, settings: MediaSettings, loopback: Loopback) -> Api {
        Api {
            media: MediaState::new(settings, Some(loopback)),
            ..self
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
        self.media.forget(info_hash);
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
            probe_url: format!(
                "{base_url}/api/stream/{}/{}/probe?{STREAM_TOKEN_PARAM}={token}",
                info.info_hash, info.file_index
            ),
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

/// Media: what a file holds and the forms a browser can play, made by ffmpeg reading
/// the file through this server (see [`crate::media`]).
impl Api {
    /// What one file of a stream holds: container, duration, video, audio and subtitle
    /// tracks (embedded, and files beside it in the torrent). Cached per file. Its
    /// duration sizes the file's read-ahead (`Engine::set_duration`).
    pub async fn probe_media(
        &self,
        info_hash: &str,
        file_index: usize,
    ) -> Result<MediaProbe, ApiError> {
        let info = self.stream_info(info_hash, Some(file_index))?;
        let probe = match self.media.cached_probe(info.info_hash, info.file_index) {
            Some(probe) => probe,
            None => self.probe_fresh(&info).await?,
        };
        // The cached probe may outlive the torrent it was made on (a stream parked in the
        // cache and played again): each answer tells the stream of now.
        if let Err(e) =
            self.engine
                .set_duration(info.info_hash, info.file_index, probe.duration_seconds)
        {
            tracing::warn!(info_hash = %info.info_hash, "sizing the read-ahead: {e}");
        }
        Ok(probe)
    }

    async fn probe_fresh(&self, info: &StreamInfo) -> Result<MediaProbe, ApiError> {
        let input = self.media_input(info)?;
        let mut probe = {
            let _permit = self.media.permit().await?;
            cinemahalal_media::probe::probe(self.media.tools(), &input, self.media.idle()).await?
        };
        let video_path = &info.files[info.file_index].path;
        probe
            .subtitle_tracks
            .extend(cinemahalal_media::probe::external_subtitles(
                video_path,
                info.files.iter().map(|f| (f.index, f.path.as_str())),
            ));
        self.media
            .keep_probe(info.info_hash, info.file_index, &probe);
        Ok(probe)
    }

    /// The VOD HLS playlist of a file in `query.mode` (remux unless transcode), with the
    /// audio track `query.audio`; its segment URIs are relative and carry the query,
    /// with a viewer id of their own when the query had none.
    pub async fn hls_playlist(
        &self,
        info_hash: &str,
        file_index: usize,
        query: HlsQuery,
    ) -> Result<String, ApiError> {
        let (probe, mode, audio) = self.hls_checked(info_hash, file_index, &query).await?;
        let viewer = match query.viewer {
            Some(v) => v,
            None => data_encoding::HEXLOWER.encode(&rand::random::<[u8; 8]>()),
        };
        let info = self.stream_info(info_hash, Some(file_index))?;
        let token = self.stream_keys.token(&info.info_hash);
        let mode = match mode {
            PlaybackMode::Transcode => "transcode",
            _ => "remux",
        };
        Ok(hls::playlist(probe.duration_seconds, |n| {
            format!("{n}.ts?audio={audio}&mode={mode}&viewer={viewer}&{STREAM_TOKEN_PARAM}={token}")
        }))
    }

    /// Segment `n` of the playlist, as MPEG-TS. A viewer's previous job on this file is
    /// stopped; the ffmpeg process ends with this future.
    pub async fn hls_segment(
        &self,
        info_hash: &str,
        file_index: usize,
        n: usize,
        query: HlsQuery,
    ) -> Result<Vec<u8>, ApiError> {
        let (probe, mode, audio) = self.hls_checked(info_hash, file_index, &query).await?;
        if hls::segment_span(probe.duration_seconds, n).is_none() {
            return Err(ApiError::new(
                ErrorCode::SegmentNotFound,
                format!(
                    "no segment {n}: the playlist has {}",
                    hls::segment_count(probe.duration_seconds)
                ),
            ));
        }
        let info = self.stream_info(info_hash, Some(file_index))?;
        let input = self.media_input(&info)?;
        let encoder = match mode {
            PlaybackMode::Transcode => self.media.encoder().await,
            _ => cinemahalal_media::VideoEncoder::Libx264,
        };
        let spec = SegmentSpec {
            mode,
            audio,
            encoder,
            duration: probe.duration_seconds,
            n,
        };
        let work = async {
            let _permit = self.media.permit().await?;
            Ok::<_, ApiError>(
                hls::segment(self.media.tools(), &input, &spec, self.media.idle()).await?,
            )
        };
        let Some(viewer) = query.viewer else {
            return work.await;
        };
        let (abort, registration) = futures::future::AbortHandle::new_pair();
        let _job = self
            .media
            .start_job((viewer, info.info_hash, info.file_index), abort);
        futures::future::Abortable::new(work, registration)
            .await
            .unwrap_or_else(|_| {
                Err(ApiError::new(
                    ErrorCode::TranscodeFailed,
                    "stopped: the same viewer asked for another segment, or the stream was stopped",
                ))
            })
    }

    /// A subtitle track of the probe (`embedded-N` or `file-N`) as WebVTT. Cached per
    /// stream; an embedded track is read from the whole file.
    pub async fn subtitle_vtt(
        &self,
        info_hash: &str,
        file_index: usize,
        id: &str,
    ) -> Result<std::sync::Arc<str>, ApiError> {
        let probe = self.probe_media(info_hash, file_index).await?;
        let info = self.stream_info(info_hash, Some(file_index))?;
        let not_found = || {
            ApiError::new(
                ErrorCode::TrackNotFound,
                format!("the file has no subtitle track {id:?}"),
            )
        };
        let track: &SubtitleTrack = probe
            .subtitle_tracks
            .iter()
            .find(|t| t.id == id)
            .ok_or_else(not_found)?;
        if let Some(vtt) = self.media.cached_subtitles(info.info_hash, file_index, id) {
            return Ok(vtt);
        }
        let (kind, n) = SubtitleTrack::parse_id(id).ok_or_else(not_found)?;
        let (input, source) = match kind {
            SubtitleKind::Embedded => (self.media_input(&info)?, SubtitleSource::Embedded(n)),
            SubtitleKind::External => {
                // The file beside the video is downloaded too from now on.
                let file = self
                    .engine
                    .prepare(Source::InfoHash(info.info_hash), Some(n))
                    .await?;
                (
                    self.media_input(&file)?,
                    SubtitleSource::File(track.codec.clone()),
                )
            }
        };
        let vtt: std::sync::Arc<str> = {
            let _permit = self.media.permit().await?;
            subtitles::to_webvtt(self.media.tools(), &input, &source, self.media.idle())
                .await?
                .into()
        };
        self.media
            .keep_subtitles(info.info_hash, file_index, id, vtt.clone());
        Ok(vtt)
    }

    /// ffmpeg jobs making segments now.
    pub fn running_transcodes(&self) -> usize {
        self.media.running_jobs()
    }

    /// The probe, the mode (remux or transcode) and the audio track a query asks for.
    async fn hls_checked(
        &self,
        info_hash: &str,
        file_index: usize,
        query: &HlsQuery,
    ) -> Result<(MediaProbe, PlaybackMode, usize), ApiError> {
        let mode = match query.mode.unwrap_or(PlaybackMode::Remux) {
            PlaybackMode::Direct => {
                return Err(ApiError::new(
                    ErrorCode::InvalidRequest,
                    "mode is remux or transcode; direct play is the stream URL",
                ));
            }
            m => m,
        };
        if let Some(v) = &query.viewer
            && (v.is_empty()
                || v.len() > 64
                || !v
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                "viewer is 1 to 64 letters, digits, - or _",
            ));
        }
        let probe = self.probe_media(info_hash, file_index).await?;
        let audio = query.audio.unwrap_or(0);
        if !probe.audio_tracks.is_empty() && audio >= probe.audio_tracks.len()
            || probe.audio_tracks.is_empty() && audio > 0
        {
            return Err(ApiError::new(
                ErrorCode::TrackNotFound,
                format!(
                    "no audio track {audio}: the file has {}",
                    probe.audio_tracks.len()
                ),
            ));
        }
        Ok((probe, mode, audio))
    }

    fn media_input(&self, info: &StreamInfo) -> Result<cinemahalal_media::Input, ApiError> {
        let token = self.stream_keys.token(&info.info_hash);
        self.media.input(&info.info_hash, info.file_index, &token)
    }
}
