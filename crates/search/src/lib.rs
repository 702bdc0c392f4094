//! Torrent search for CinemaHalal: by title or by IMDb id, across the providers the user
//! configured, merged into one ranked list.
//!
//! A [`Search`] is built from a [`SearchConfig`] (the user's `search.toml`, possibly
//! overridden by environment variables on the headless server). [`Search::search`] asks
//! every enabled provider at once, each within its own timeout, then merges the answers:
//! one [`SearchResult`] per info hash (the entry with the most seeders wins, and every
//! provider that had the torrent is remembered), sorted by seeders, most first.
//!
//! Providers:
//! - **Internet Archive** (on by default): public-domain films, each item's own torrent,
//!   its info hash read from the item's metadata.
//! - **Torznab**: a user's Jackett or Prowlarr (base URL and API key).
//! - **Stremio add-ons**: any add-on URL; these answer IMDb-id searches only.
//!
//! This crate knows nothing of HTTP serving: the server crate maps
//! [`SearchError::InvalidRequest`] to 400 `INVALID_REQUEST` and
//! [`SearchError::AllProvidersFailed`] to 502 `SEARCH_FAILED`. Upstream answers are
//! bounded in size ([`MAX_BODY_BYTES`]) and time (each provider's timeout), and bad
//! upstream data is turned into a provider failure, never a panic.
//!
//! # Layout
//! - [`search`]: [`Search`], running the providers and merging their answers; [`test_provider`].
//! - [`query`]: [`SearchQuery`] and [`ImdbId`], validated from the request's parameters.
//! - [`result`]: [`SearchResult`] and [`SearchResponse`], what the API returns, and the merge.
//! - [`quality`]: [`Quality`], the [`Resolution`] and [`ReleaseSource`] parsed from a torrent's name.
//! - [`config`]: the providers file, one module per concept: `provider_config`
//!   ([`ProviderConfig`] and [`ProviderKind`]: one entry, its defaults and validation),
//!   `file` ([`SearchConfig`]: `search.toml` read, written and edited), `env` (the
//!   `CINEMAHALAL_*` overrides).
//! - [`provider`]: [`Provider`], a provider as the API shows and takes it (no API key
//!   out, the saved key kept in), and its conversions to and from [`ProviderConfig`].
//! - [`error`]: [`SearchError`], [`ProviderFailure`] and [`ConfigError`].
//! - `providers` (private): one module per protocol: `archive`, `torznab`, `stremio`.
//! - `http` (private): size-bounded GET requests that never leak an API key into errors.
//!
//! Info hashes and magnet links are read and built with `cinemahalal-magnet`, the parser
//! the engine uses too.

pub mod config;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
mod http;
pub mod provider;
mod providers;
pub mod quality;
pub mod query;
pub mod result;
pub mod search;

pub use config::{ProviderConfig, ProviderKind, SearchConfig};
pub use error::{ConfigError, ProviderFailure, SearchError};
pub use http::MAX_BODY_BYTES;
pub use provider::Provider;
pub use quality::{Quality, ReleaseSource, Resolution};
pub use query::{ImdbId, SearchQuery};
pub use result::{SearchResponse, SearchResult};
pub use search::{Search, test_provider};
