//! Errors as every transport shows them: `{"status":"ERROR","code":…,"message":…}`, and
//! how the engine's and the search's errors become them. The way an error travels, from
//! its source to the sentence the UI shows, is drawn in ARCHITECTURE.md.

use cinemahalal_engine::EngineError;
use cinemahalal_search::{ProviderFailure, SearchError};
use serde::Serialize;
use ts_rs::TS;

/// The stable error codes of the API. The first six come from the original spec. Each
/// names what failed, so the UI can say so: a code is never reused for another failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// Metadata was not fetched in time: no one seeds it. 504.
    MetadataTimeout,
    /// The torrent has no playable video. 422.
    NoVideoFile,
    /// No peer to download from. 503.
    NoSeeds,
    /// Anything else that went wrong on our side. 500.
    StreamFailed,
    /// Every search provider failed. 502.
    SearchFailed,
    /// Bad JSON, link, hash, index or query. 400.
    InvalidRequest,
    /// No stream with that info hash. 404.
    StreamNotFound,
    /// All reader slots busy for too long. 503.
    TooManyReaders,
    /// A byte range past the end of the file. 416.
    RangeNotSatisfiable,
    /// No such API path. 404.
    NotFound,
    /// A path that exists, with another method. 405.
    MethodNotAllowed,
    /// The search settings could not be saved (the providers file). 500.
    SettingsFailed,
    /// The external player could not be started (desktop app). 500.
    PlayerFailed,
    /// The clipboard could not be written (desktop app). 500.
    ClipboardFailed,
    /// `Host` names no host this server answers for (DNS rebinding). 421.
    HostNotAllowed,
    /// The server has an access token and the request did not carry it. 401.
    Unauthorized,
    /// A control request from a page of another origin. 403.
    OriginNotAllowed,
    /// A bug: the server failed while answering. The server goes on. 500.
    InternalError,
    /// As many streams as `--max-streams` are playing or being prepared. 503.
    TooManyStreams,
    /// A request body larger than the endpoint accepts. 413.
    PayloadTooLarge,
    /// The watch history could not be saved (history.json in the data dir). 500.
    HistoryFailed,
    /// ffmpeg or ffprobe could not be started: not installed, or `--ffmpeg` is wrong. 503.
    FfmpegMissing,
    /// ffprobe could not read the file as media. 422.
    ProbeFailed,
    /// ffmpeg failed or stalled making a segment or subtitles. 500.
    TranscodeFailed,
    /// No audio or subtitle track of that index or id. 404.
    TrackNotFound,
    /// No HLS segment of that number. 404.
    SegmentNotFound,
    /// As many ffmpeg processes as `--max-transcodes` are running. 503.
    TooManyTranscodes,
}

impl ErrorCode {
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::MetadataTimeout => 504,
            ErrorCode::NoVideoFile => 422,
            ErrorCode::NoSeeds => 503,
            ErrorCode::StreamFailed => 500,
            ErrorCode::SearchFailed => 502,
            ErrorCode::InvalidRequest => 400,
            ErrorCode::StreamNotFound => 404,
            ErrorCode::TooManyReaders => 503,
            ErrorCode::RangeNotSatisfiable => 416,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::SettingsFailed => 500,
            ErrorCode::PlayerFailed => 500,
            ErrorCode::ClipboardFailed => 500,
            ErrorCode::HostNotAllowed => 421,
            ErrorCode::Unauthorized => 401,
            ErrorCode::OriginNotAllowed => 403,
            ErrorCode::InternalError => 500,
            ErrorCode::TooManyStreams => 503,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::HistoryFailed => 500,
            ErrorCode::FfmpegMissing => 503,
            ErrorCode::ProbeFailed => 422,
            ErrorCode::TranscodeFailed => 500,
            ErrorCode::TrackNotFound => 404,
            ErrorCode::SegmentNotFound => 404,
            ErrorCode::TooManyTranscodes => 503,
        }
    }
}

/// Every failed operation's answer, over HTTP (with [`ErrorCode::http_status`]) and from
/// a Tauri command alike.
#[derive(Debug, Clone, Serialize, TS, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct ApiError {
    /// Always `"ERROR"`.
    pub status: &'static str,
    pub code: ErrorCode,
    /// What failed, in words, for the curious (the UI's sentence comes from `code`).
    pub message: String,
    /// With `SEARCH_FAILED`: each provider and why it failed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[ts(as = "Option<Vec<ProviderFailure>>", optional)]
    pub providers: Vec<ProviderFailure>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status: "ERROR",
            code,
            message: message.into(),
            providers: Vec::new(),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        let code = match &e {
            EngineError::InvalidRequest(_) | EngineError::InvalidTorrent(_) => {
                ErrorCode::InvalidRequest
            }
            EngineError::MetadataTimeout(_) => ErrorCode::MetadataTimeout,
            EngineError::NoVideoFile { .. } => ErrorCode::NoVideoFile,
            EngineError::NoSeeds(_) => ErrorCode::NoSeeds,
            EngineError::NotFound(_) => ErrorCode::StreamNotFound,
            EngineError::TooManyReaders(_) => ErrorCode::TooManyReaders,
            EngineError::TooManyStreams(_) => ErrorCode::TooManyStreams,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_failures_keep_their_words_under_their_code() {
        let too_many = ApiError::from(EngineError::TooManyStreams(16));
        assert_eq!(too_many.code, ErrorCode::TooManyStreams);
        assert_eq!(too_many.code.http_status(), 503);
        assert_eq!(
            too_many.message,
            "too many streams at once (16); stop one and try again"
        );
        // A stream whose disk filled up: STREAM_FAILED, and the message says why.
        let full = ApiError::from(EngineError::Failed(anyhow::anyhow!(
            "disk full: no space left in the data folder to write the download"
        )));
        assert_eq!(
            (full.code, full.code.http_status()),
            (ErrorCode::StreamFailed, 500)
        );
        assert!(full.message.starts_with("disk full: "), "{}", full.message);
        let json = serde_json::to_value(&full).unwrap();
        assert_eq!(json["code"], "STREAM_FAILED");
    }
}
