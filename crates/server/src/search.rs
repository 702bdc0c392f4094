//! Search as the API offers it: the providers file, the live [`Search`] built from it
//! (with environment overrides), and edits from the settings screen.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use cinemahalal_search::{ProviderConfig, Search, SearchConfig};

use crate::error::{ApiError, ErrorCode};

/// Where the providers come from.
#[derive(Debug, Clone, Default)]
pub struct SearchSetup {
    /// The `search.toml` read at start and written by the settings screen; `None` keeps
    /// everything in memory (the default providers, nothing saved).
    pub file: Option<PathBuf>,
    /// Apply the `CINEMAHALAL_*` provider variables of this process on top of the file.
    pub env_overrides: bool,
}

impl SearchSetup {
    /// The platform config file, with the environment's overrides: what the apps use.
    pub fn platform() -> SearchSetup {
        SearchSetup {
            file: SearchConfig::default_path(),
            env_overrides: true,
        }
    }
}

pub(crate) struct SearchState {
    setup: SearchSetup,
    /// What the file says (what the settings screen edits), and the live search.
    current: RwLock<(SearchConfig, Arc<Search>)>,
}

impl SearchState {
    pub(crate) fn new(setup: SearchSetup) -> SearchState {
        let file_config = match &setup.file {
            Some(path) => SearchConfig::load(path).unwrap_or_else(|e| {
                tracing::warn!("{e}; searching with the default providers");
                SearchConfig::default()
            }),
            None => SearchConfig::default(),
        };
        let search = Arc::new(Search::new(effective(&setup, file_config.clone())));
        SearchState {
            setup,
            current: RwLock::new((file_config, search)),
        }
    }

    pub(crate) fn search(&self) -> Arc<Search> {
        self.current.read().unwrap().1.clone()
    }

    pub(crate) fn providers(&self) -> Vec<ProviderConfig> {
        self.current.read().unwrap().0.providers.clone()
    }

    /// Replaces the providers: validated, written to the file, and searched from now on.
    pub(crate) fn save(
        &self,
        providers: Vec<ProviderConfig>,
    ) -> Result<Vec<ProviderConfig>, ApiError> {
        let invalid = |m: String| ApiError::new(ErrorCode::InvalidRequest, m);
        let mut config = SearchConfig {
            providers: Vec::new(),
        };
        for provider in providers {
            config
                .add_provider(provider)
                .map_err(|e| invalid(e.to_string()))?;
        }
        if let Some(path) = &self.setup.file {
            config.save(path).map_err(|e| {
                ApiError::new(
                    ErrorCode::StreamFailed,
                    format!("saving the providers: {e}"),
                )
            })?;
        }
        let search = Arc::new(Search::new(effective(&self.setup, config.clone())));
        *self.current.write().unwrap() = (config.clone(), search);
        Ok(config.providers)
    }
}

fn effective(setup: &SearchSetup, config: SearchConfig) -> SearchConfig {
    if setup.env_overrides {
        config.with_process_env()
    } else {
        config
    }
}
