//! The media side of the API's state: probes and WebVTT cached per stream, the ffmpeg
//! jobs that make HLS segments (at most one per viewer per file, all of them under a
//! global cap), and where ffmpeg reads a stream: this server's own loopback URL.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cinemahalal_engine::InfoHash;
use cinemahalal_media::{Input, MediaError, MediaProbe, Tools, VideoEncoder};
use futures::future::AbortHandle;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{ApiError, ErrorCode};

/// Seconds an ffmpeg job may write nothing before it is stopped.
pub const DEFAULT_TRANSCODE_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// ffmpeg and ffprobe processes at once, across all viewers.
pub const DEFAULT_MAX_TRANSCODES: usize = 8;
/// How long a request waits for a free transcode slot before TOO_MANY_TRANSCODES.
const PERMIT_WAIT: Duration = Duration::from_secs(3);

/// What the owner configures (`--ffmpeg`, `--ffprobe`, `--transcode-idle-timeout`,
/// `--max-transcodes`).
#[derive(Debug, Clone)]
pub struct MediaSettings {
    pub tools: Tools,
    pub idle_timeout: Duration,
    pub max_transcodes: usize,
}

impl Default for MediaSettings {
    fn default() -> MediaSettings {
        MediaSettings {
            tools: Tools::default(),
            idle_timeout: DEFAULT_TRANSCODE_IDLE_TIMEOUT,
            max_transcodes: DEFAULT_MAX_TRANSCODES,
        }
    }
}

/// Where ffmpeg reaches this server: `http://127.0.0.1:port`, with the access token.
#[derive(Debug, Clone)]
pub struct Loopback {
    pub base_url: String,
    pub access_token: Option<String>,
}

/// One viewer's job on one file.
type JobKey = (String, InfoHash, usize);

pub struct MediaState {
    pub(crate) settings: MediaSettings,
    pub(crate) loopback: Option<Loopback>,
    probes: Mutex<HashMap<(InfoHash, usize), MediaProbe>>,
    subtitles: Mutex<HashMap<(InfoHash, usize, String), Arc<str>>>,
    jobs: Mutex<HashMap<JobKey, (u64, AbortHandle)>>,
    next_job: AtomicU64,
    permits: Arc<Semaphore>,
    encoder: tokio::sync::OnceCell<VideoEncoder>,
}

impl MediaState {
    pub fn new(settings: MediaSettings, loopback: Option<Loopback>) -> MediaState {
        MediaState {
            permits: Arc::new(Semaphore::new(settings.max_transcodes.max(1))),
            settings,
            loopback,
            probes: Mutex::default(),
            subtitles: Mutex::default(),
            jobs: Mutex::default(),
            next_job: AtomicU64::new(0),
            encoder: tokio::sync::OnceCell::new(),
        }
    }

    pub fn tools(&self) -> &Tools {
        &self.settings.tools
    }

    pub fn idle(&self) -> Duration {
        self.settings.idle_timeout
    }

    /// The input ffmpeg reads for one file of a stream, through this server.
    pub fn input(
        &self,
        info_hash: &InfoHash,
        file_index: usize,
        token: &str,
    ) -> Result<Input, ApiError> {
        let loopback = self.loopback.as_ref().ok_or_else(|| {
            ApiError::new(
                ErrorCode::InternalError,
                "this API has no HTTP server for ffmpeg to read from",
            )
        })?;
        Ok(Input {
            url: format!(
                "{}/api/stream/{info_hash}/{file_index}?{}={token}",
                loopback.base_url,
                crate::security::STREAM_TOKEN_PARAM
            ),
            headers: loopback
                .access_token
                .iter()
                .map(|t| format!("Authorization: Bearer {t}"))
                .collect(),
        })
    }

    pub fn cached_probe(&self, info_hash: InfoHash, file_index: usize) -> Option<MediaProbe> {
        self.probes
            .lock()
            .unwrap()
            .get(&(info_hash, file_index))
            .cloned()
    }

    pub fn keep_probe(&self, info_hash: InfoHash, file_index: usize, probe: &MediaProbe) {
        self.probes
            .lock()
            .unwrap()
            .insert((info_hash, file_index), probe.clone());
    }

    pub fn cached_subtitles(
        &self,
        info_hash: InfoHash,
        file_index: usize,
        id: &str,
    ) -> Option<Arc<str>> {
        self.subtitles
            .lock()
            .unwrap()
            .get(&(info_hash, file_index, id.to_string()))
            .cloned()
    }

    pub fn keep_subtitles(&self, info_hash: InfoHash, file_index: usize, id: &str, vtt: Arc<str>) {
        self.subtitles
            .lock()
            .unwrap()
            .insert((info_hash, file_index, id.to_string()), vtt);
    }

    /// The H.264 encoder of transcodes, found once.
    pub async fn encoder(&self) -> VideoEncoder {
        *self
            .encoder
            .get_or_init(|| cinemahalal_media::decision::detect_encoder(&self.settings.tools))
            .await
    }

    /// A slot for one ffmpeg or ffprobe process, or TOO_MANY_TRANSCODES.
    pub async fn permit(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        tokio::time::timeout(PERMIT_WAIT, self.permits.clone().acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::TooManyTranscodes,
                    format!(
                        "{} conversions are running; try again when one ends",
                        self.settings.max_transcodes
                    ),
                )
            })
    }

    /// Registers a viewer's new job on a file, stopping the one it had (a player asks
    /// for one segment at a time: an older one still running was left behind by a seek).
    /// The job is unregistered when the returned guard drops.
    pub fn start_job(&self, key: JobKey, abort: AbortHandle) -> JobGuard<'_> {
        let id = self.next_job.fetch_add(1, Ordering::Relaxed);
        if let Some((_, old)) = self.jobs.lock().unwrap().insert(key.clone(), (id, abort)) {
            old.abort();
        }
        JobGuard {
            state: self,
            key,
            id,
        }
    }

    /// Jobs running now (for tests and logs).
    pub fn running_jobs(&self) -> usize {
        self.jobs.lock().unwrap().len()
    }

    /// Forgets a stream: its jobs are stopped (their ffmpeg killed), its caches dropped.
    pub fn forget(&self, info_hash: InfoHash) {
        self.jobs.lock().unwrap().retain(|(_, h, _), (_, abort)| {
            let keep = *h != info_hash;
            if !keep {
                abort.abort();
            }
            keep
        });
        self.probes
            .lock()
            .unwrap()
            .retain(|(h, _), _| *h != info_hash);
        self.subtitles
            .lock()
            .unwrap()
            .retain(|(h, _, _), _| *h != info_hash);
    }
}

pub struct JobGuard<'a> {
    state: &'a MediaState,
    key: JobKey,
    id: u64,
}

impl Drop for JobGuard<'_> {
    fn drop(&mut self) {
        let mut jobs = self.state.jobs.lock().unwrap();
        if jobs.get(&self.key).is_some_and(|(id, _)| *id == self.id) {
            jobs.remove(&self.key);
        }
    }
}

impl From<MediaError> for ApiError {
    fn from(e: MediaError) -> ApiError {
        let code = match &e {
            MediaError::Missing { .. } => ErrorCode::FfmpegMissing,
            MediaError::ProbeFailed(_) => ErrorCode::ProbeFailed,
            MediaError::TranscodeFailed(_) => ErrorCode::TranscodeFailed,
        };
        tracing::info!("media: {e}");
        ApiError::new(code, e.to_string())
    }
}
