//! Environment variables that override the file on the headless server: the Internet
//! Archive on or off (or elsewhere), a Torznab endpoint, Stremio add-ons.

use super::{ProviderConfig, ProviderKind, SearchConfig};

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

impl SearchConfig {
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
