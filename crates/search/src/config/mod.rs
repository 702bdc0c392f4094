//! Which providers to ask: `search.toml` in the platform's config directory, and
//! environment variables that override it on the headless server.
//!
//! ```toml
//! [[providers]]
//! name = "Internet Archive"
//! kind = "archive"
//! url = "https://archive.org"
//!
//! [[providers]]
//! name = "Jackett"
//! kind = "torznab"
//! url = "http://127.0.0.1:9117/api/v2.0/indexers/all/results/torznab"
//! apiKey = "abcdef0123456789"
//! timeoutSecs = 20
//!
//! [[providers]]
//! name = "Torrentio"
//! kind = "stremio"
//! url = "https://torrentio.strem.fun/manifest.json"
//! enabled = false
//! ```
//!
//! A missing file, or a file without a `providers` key, means the default: the Internet
//! Archive alone. `providers = []` means no provider at all.
//!
//! One module per concept:
//! - `provider_config`: [`ProviderConfig`] and [`ProviderKind`], one provider's entry in
//!   the file: its defaults, timeout and validation.
//! - `file`: [`SearchConfig`], the file itself: where it lives, reading and writing it,
//!   adding and removing providers.
//! - `env`: the `CINEMAHALAL_*` variables ([`ENV_ARCHIVE`] and the others) and
//!   [`SearchConfig::with_env_overrides`].
//!
//! The API never shows these types: it shows [`crate::Provider`], which has no API key.

mod env;
mod file;
mod provider_config;

pub use env::{
    ENV_ARCHIVE, ENV_ARCHIVE_URL, ENV_STREMIO_ADDONS, ENV_TORZNAB_APIKEY, ENV_TORZNAB_NAME,
    ENV_TORZNAB_URL,
};
pub use file::SearchConfig;
pub use provider_config::{
    ARCHIVE_NAME, ARCHIVE_URL, DEFAULT_TIMEOUT, MAX_TIMEOUT, ProviderConfig, ProviderKind,
};
