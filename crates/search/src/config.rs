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

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ConfigError;

/// Default per-provider timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest per-provider timeout honoured; larger `timeoutSecs` are cut to this.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(120);
/// The Internet Archive's address.
pub const ARCHIVE_URL: &str = "https://archive.org";
/// The name given to the Internet Archive provider by default.
pub const ARCHIVE_NAME: &str = "Internet Archive";

/// `off` (or `0`, `false`, `no`) disables every Internet Archive provider; `on` (or `1`,
/// `true`, `yes`) enables them, adding the default one if the file has none.
pub const ENV_ARCHIVE: &str = "CINEMAHALAL_ARCHIVE";
/// Base URL of the Internet Archive (for a mirror or a test fixture).
pub const ENV_ARCHIVE_URL: &str = "CINEMAHALAL_ARCHIVE_URL";
/// A Torznab endpoint (Jackett or Prowlarr); adds or replaces the provider named
/// [`ENV_TORZNAB_NAME`] (default `Torznab`).
pub const ENV_TORZNAB_URL: &str = "CINEMAHALAL_TORZNAB_URL";
/// The API key for [`ENV_TORZNAB_URL`].
pub const ENV_TORZNAB_APIKEY: &str = "CINEMAHALAL_TORZNAB_APIKEY";
/// The name of the provider [`ENV_TORZNAB_URL`] configures.
pub const ENV_TORZNAB_NAME: &str = "CINEMAHALAL_TORZNAB_NAME";
/// Stremio add-on URLs, comma-separated; each is added (or replaces the provider of the
/// same name), named after its host.
pub const ENV_STREMIO_ADDONS: &str = "CINEMAHALAL_STREMIO_ADDONS";

/// The providers to ask, in order. Serialized as the `search.toml` file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchConfig {
    #[serde(default = "default_providers")]
    pub providers: Vec<ProviderConfig>,
}

/// Which protocol a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// The Internet Archive's advancedsearch and metadata APIs.
    Archive,
    /// A Torznab endpoint: Jackett, Prowlarr.
    Torznab,
    /// A Stremio add-on's stream resource (IMDb ids only).
    Stremio,
}

/// One provider: `{name, kind, url, apiKey?, enabled, timeoutSecs?}`, camelCase in TOML
/// and JSON alike.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderConfig {
    /// Unique; shown in results (`provider`) and failures.
    pub name: String,
    pub kind: ProviderKind,
    /// Archive: base URL, default `https://archive.org` when empty. Torznab: the endpoint,
    /// with or without the final `/api`. Stremio: the add-on's manifest URL or base URL.
    #[serde(default)]
    pub url: String,
    /// Torznab's `apikey`; unused by the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Seconds this provider has to answer, default 10, at most 120.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
}

fn yes() -> bool {
    true
}

fn default_providers() -> Vec<ProviderConfig> {
    vec![ProviderConfig::archive()]
}

impl Default for SearchConfig {
    /// The Internet Archive alone.
    fn default() -> Self {
        SearchConfig {
            providers: default_providers(),
        }
    }
}

impl ProviderConfig {
    /// The Internet Archive at `https://archive.org`.
    pub fn archive() -> ProviderConfig {
        ProviderConfig::new(ARCHIVE_NAME, ProviderKind::Archive, ARCHIVE_URL)
    }

    /// A Torznab endpoint with an optional API key.
    pub fn torznab(name: &str, url: &str, api_key: Option<&str>) -> ProviderConfig {
        ProviderConfig {
            api_key: api_key.map(str::to_owned),
            ..ProviderConfig::new(name, ProviderKind::Torznab, url)
        }
    }

    /// A Stremio add-on.
    pub fn stremio(name: &str, url: &str) -> ProviderConfig {
        ProviderConfig::new(name, ProviderKind::Stremio, url)
    }

    /// An enabled provider with the default timeout and no API key.
    pub fn new(name: &str, kind: ProviderKind, url: &str) -> ProviderConfig {
        ProviderConfig {
            name: name.to_owned(),
            kind,
            url: url.to_owned(),
            api_key: None,
            enabled: true,
            timeout_secs: None,
        }
    }

    /// `timeoutSecs`, or 10 s; at least 1 s and at most [`MAX_TIMEOUT`].
    pub fn timeout(&self) -> Duration {
        match self.timeout_secs {
            None => DEFAULT_TIMEOUT,
            Some(secs) => Duration::from_secs(secs.max(1)).min(MAX_TIMEOUT),
        }
    }

    /// Checks what can be checked without asking the provider: a name, and a URL that
    /// parses as http(s) (or `stremio://` for add-ons; an empty URL for the Archive).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |why: String| Err(ConfigError::InvalidProvider(why));
        let name = self.name.trim();
        if name.is_empty() {
            return invalid("the name is empty".into());
        }
        if name.chars().count() > 100 {
            return invalid("the name is longer than 100 characters".into());
        }
        if self.kind == ProviderKind::Archive && self.url.trim().is_empty() {
            return Ok(());
        }
        match crate::providers::parse_url(self.kind, &self.url) {
            Ok(_) => Ok(()),
            Err(why) => invalid(format!("{name}: {why}")),
        }
    }
}

impl SearchConfig {
    /// `<config dir>/cinemahalal/search.toml` (`~/.config` on Linux, `~/Library/Application
    /// Support` on macOS, `%APPDATA%` on Windows); `None` when the platform has none.
    pub fn default_path() -> Option<PathBuf> {
        dirs::config_dir().map(|dir| dir.join("cinemahalal").join("search.toml"))
    }

    /// Reads a configuration file; a missing file is the default configuration.
    pub fn load(path: &Path) -> Result<SearchConfig, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tracing::debug!(path = %path.display(), "no search configuration; using the Internet Archive");
                return Ok(SearchConfig::default());
            }
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        SearchConfig::from_toml(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source: Box::new(source),
        })
    }

    /// Reads [`SearchConfig::default_path`], or gives the default without one.
    pub fn load_default() -> Result<SearchConfig, ConfigError> {
        match SearchConfig::default_path() {
            Some(path) => SearchConfig::load(&path),
            None => Ok(SearchConfig::default()),
        }
    }

    pub fn from_toml(text: &str) -> Result<SearchConfig, toml::de::Error> {
        toml::from_str(text)
    }

    pub fn to_toml(&self) -> Result<String, ConfigError> {
        Ok(toml::to_string_pretty(self)?)
    }

    /// Writes the file (creating its directory), replacing it at once so a reader never
    /// sees half of it. On Unix the file is readable by its owner only: it holds API keys.
    /// Save what was loaded from the file, not a configuration with environment overrides.
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        let text = self.to_toml()?;
        let write_err = |source| ConfigError::Write {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(write_err)?;
        }
        let mut temp = path.as_os_str().to_owned();
        temp.push(".tmp");
        let temp = PathBuf::from(temp);
        write_private(&temp, text.as_bytes()).map_err(write_err)?;
        std::fs::rename(&temp, path).map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            write_err(e)
        })
    }

    /// Adds a provider after [`ProviderConfig::validate`]; names are unique, compared
    /// without regard to case or surrounding spaces.
    pub fn add_provider(&mut self, mut provider: ProviderConfig) -> Result<(), ConfigError> {
        provider.validate()?;
        provider.name = provider.name.trim().to_owned();
        if self.find(&provider.name).is_some() {
            return Err(ConfigError::DuplicateName(provider.name));
        }
        self.providers.push(provider);
        Ok(())
    }

    /// Removes the provider of that name (case-insensitive), returning it.
    pub fn remove_provider(&mut self, name: &str) -> Option<ProviderConfig> {
        let at = self.find(name)?;
        Some(self.providers.remove(at))
    }

    fn find(&self, name: &str) -> Option<usize> {
        let name = name.trim();
        self.providers
            .iter()
            .position(|p| p.name.trim().eq_ignore_ascii_case(name))
    }

    /// Adds `provider`, or replaces the one with its name.
    fn upsert(&mut self, provider: ProviderConfig) {
        match self.find(&provider.name) {
            Some(at) => self.providers[at] = provider,
            None => self.providers.push(provider),
        }
    }

    /// Applies the `CINEMAHALAL_*` variables (see the `ENV_*` constants) read through
    /// `lookup`; empty values count as unset. Pure, so it is testable:
    /// `config.with_env_overrides(|k| std::env::var(k).ok())`.
    pub fn with_env_overrides(mut self, lookup: impl Fn(&str) -> Option<String>) -> SearchConfig {
        let get = |key: &str| {
            lookup(key)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        if let Some(url) = get(ENV_ARCHIVE_URL) {
            if !self
                .providers
                .iter()
                .any(|p| p.kind == ProviderKind::Archive)
            {
                self.providers.push(ProviderConfig::archive());
            }
            for p in self
                .providers
                .iter_mut()
                .filter(|p| p.kind == ProviderKind::Archive)
            {
                p.url = url.clone();
            }
        }
        if let Some(value) = get(ENV_ARCHIVE) {
            match value.to_ascii_lowercase().as_str() {
                "off" | "0" | "false" | "no" => self
                    .providers
                    .iter_mut()
                    .filter(|p| p.kind == ProviderKind::Archive)
                    .for_each(|p| p.enabled = false),
                "on" | "1" | "true" | "yes" => {
                    if !self
                        .providers
                        .iter()
                        .any(|p| p.kind == ProviderKind::Archive)
                    {
                        self.providers.push(ProviderConfig::archive());
                    }
                    self.providers
                        .iter_mut()
                        .filter(|p| p.kind == ProviderKind::Archive)
                        .for_each(|p| p.enabled = true)
                }
                _ => tracing::warn!(%value, "{ENV_ARCHIVE} must be on or off; ignored"),
            }
        }
        match get(ENV_TORZNAB_URL) {
            Some(url) => {
                let name = get(ENV_TORZNAB_NAME).unwrap_or_else(|| "Torznab".to_owned());
                let api_key = get(ENV_TORZNAB_APIKEY);
                self.upsert(ProviderConfig::torznab(&name, &url, api_key.as_deref()));
            }
            None if get(ENV_TORZNAB_APIKEY).is_some() => {
                tracing::warn!("{ENV_TORZNAB_APIKEY} is set without {ENV_TORZNAB_URL}; ignored")
            }
            None => {}
        }
        if let Some(list) = get(ENV_STREMIO_ADDONS) {
            let mut added: Vec<String> = Vec::new();
            for url in list.split(',').map(str::trim).filter(|u| !u.is_empty()) {
                // Two add-ons on one host (say, two configurations of one add-on) keep
                // both: the second is "host (2)".
                let host = stremio_name(url);
                let mut name = host.clone();
                let mut n = 1;
                while added.iter().any(|a| a.eq_ignore_ascii_case(&name)) {
                    n += 1;
                    name = format!("{host} ({n})");
                }
                self.upsert(ProviderConfig::stremio(&name, url));
                added.push(name);
            }
        }
        self
    }

    /// [`SearchConfig::with_env_overrides`] with this process's environment.
    pub fn with_process_env(self) -> SearchConfig {
        self.with_env_overrides(|key| std::env::var(key).ok())
    }
}

/// An add-on's name from its URL: its host (`torrentio.strem.fun`), or the URL itself
/// when it has none.
fn stremio_name(url: &str) -> String {
    crate::providers::parse_url(ProviderKind::Stremio, url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| url.to_owned())
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}
