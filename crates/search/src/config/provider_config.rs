//! One provider's entry in `search.toml`: its protocol, address, key and timeout, the
//! defaults of each, and the checks that need no request.

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

/// Which protocol a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// The Internet Archive's advancedsearch and metadata APIs.
    Archive,
    /// A Torznab endpoint: Jackett, Prowlarr.
    Torznab,
    /// A Stremio add-on's stream resource (IMDb ids only).
    Stremio,
}

/// One provider as the file holds it: `{name, kind, url, apiKey?, enabled, timeoutSecs?}`,
/// camelCase. It holds the API key, so the API shows [`crate::Provider`] instead.
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
