//! The providers file, `search.toml`: where it lives, reading and writing it, and the
//! edits the settings screen makes to it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ProviderConfig;
use crate::ConfigError;

/// The providers to ask, in order. Serialized as the `search.toml` file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchConfig {
    #[serde(default = "default_providers")]
    pub providers: Vec<ProviderConfig>,
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

    /// The provider of that name (case-insensitive, surrounding spaces aside).
    pub fn provider(&self, name: &str) -> Option<&ProviderConfig> {
        self.find(name).map(|at| &self.providers[at])
    }

    fn find(&self, name: &str) -> Option<usize> {
        let name = name.trim();
        self.providers
            .iter()
            .position(|p| p.name.trim().eq_ignore_ascii_case(name))
    }

    /// Adds `provider`, or replaces the one with its name.
    pub(super) fn upsert(&mut self, provider: ProviderConfig) {
        match self.find(&provider.name) {
            Some(at) => self.providers[at] = provider,
            None => self.providers.push(provider),
        }
    }
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
