//! Errors as every transport shows them: `{"status":"ERROR","code":…,"message":…}`.

use serde::Serialize;

/// The stable error codes of the API. The first six come from the original spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
    /// The settings could not be saved (the search providers file). 500.
    SettingsFailed,
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
        }
    }
}

#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct ApiError {
    pub status: &'static str,
    pub code: ErrorCode,
    pub message: String,
    /// With `SEARCH_FAILED`: each provider and why it failed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub providers: Vec<cinemahalal_search::ProviderFailure>,
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
