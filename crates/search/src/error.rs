//! What can go wrong: a bad request, every provider failing, or a bad configuration file.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Why a search produced no answer. Each variant is one error code of the HTTP API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    /// The request itself is wrong (HTTP 400 `INVALID_REQUEST`): an empty or too long
    /// query, a malformed IMDb id, both or neither of `query` and `imdbId`.
    #[error("{0}")]
    InvalidRequest(String),
    /// No provider answered (HTTP 502 `SEARCH_FAILED`), one [`ProviderFailure`] per
    /// provider that was asked. Also returned when no enabled provider can answer the
    /// query at all (none enabled, or only Stremio add-ons for a text query), with one
    /// entry that explains it: that is the server's configuration, not the request.
    #[error("every search provider failed: {}", describe(.0))]
    AllProvidersFailed(Vec<ProviderFailure>),
}

fn describe(failures: &[ProviderFailure]) -> String {
    let parts: Vec<String> = failures
        .iter()
        .map(|f| format!("{}: {}", f.provider, f.reason))
        .collect();
    parts.join("; ")
}

/// One provider that did not answer, and why. Serialized as `{"provider","reason"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ProviderFailure {
    /// The provider's configured name.
    pub provider: String,
    /// A sentence for people: "timed out after 10 s", "HTTP 500 Internal Server Error from ...".
    pub reason: String,
}

impl ProviderFailure {
    pub fn new(provider: impl Into<String>, reason: impl Into<String>) -> Self {
        ProviderFailure {
            provider: provider.into(),
            reason: reason.into(),
        }
    }
}

/// Reading, writing or editing `search.toml` failed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("could not read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a valid search configuration: {source}", path.display())]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("could not write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("could not encode the search configuration as TOML: {0}")]
    Encode(#[from] toml::ser::Error),
    /// A provider's settings are unusable (empty name, bad URL...).
    #[error("invalid provider: {0}")]
    InvalidProvider(String),
    /// Provider names identify providers in results and in the UI, so they are unique.
    #[error("a provider named {0:?} already exists")]
    DuplicateName(String),
}
