//! Search as the API offers it: the providers file, the live [`Search`] built from it
//! (with environment overrides), and edits from the settings screen.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use cinemahalal_search::{Provider, ProviderConfig, Search, SearchConfig};

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

    /// The providers the file holds, as the API shows them: without their keys.
    pub(crate) fn providers(&self) -> Vec<Provider> {
        self.current.read().unwrap().0.to_wire()
    }

    /// Replaces the providers: validated, written to the file, and searched from now on.
    /// A provider sent without `apiKey` keeps the key the file holds for it (see
    /// [`Provider::into_config`]). A failed write changes nothing and is `SETTINGS_FAILED`.
    pub(crate) fn save(&self, providers: Vec<Provider>) -> Result<Vec<Provider>, ApiError> {
        let config = SearchConfig::from_wire(providers, &self.current.read().unwrap().0)
            .map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.to_string()))?;
        if let Some(path) = &self.setup.file {
            config.save(path).map_err(|e| {
                ApiError::new(
                    ErrorCode::SettingsFailed,
                    format!("saving the providers: {e}"),
                )
            })?;
        }
        let search = Arc::new(Search::new(effective(&self.setup, config.clone())));
        let shown = config.to_wire();
        *self.current.write().unwrap() = (config, search);
        Ok(shown)
    }

    /// `provider` as the file would hold it: without an `apiKey`, with the key saved for
    /// the provider of that name, kind and URL (see [`Provider::into_config`]); what the
    /// settings screen's test button needs.
    pub(crate) fn with_saved_key(&self, provider: Provider) -> ProviderConfig {
        let current = self.current.read().unwrap();
        let saved = current.0.provider(&provider.name);
        provider.into_config(saved)
    }
}

fn effective(setup: &SearchSetup, config: SearchConfig) -> SearchConfig {
    if setup.env_overrides {
        config.with_process_env()
    } else {
        config
    }
}

#[cfg(test)]
mod tests {
    use cinemahalal_search::ProviderKind;

    use super::*;

    const KEY: &str = "s3cret-key";

    fn state_with_jackett(dir: &std::path::Path) -> (SearchState, PathBuf) {
        let path = dir.join("search.toml");
        SearchConfig {
            providers: vec![ProviderConfig::torznab(
                "Jackett",
                "http://127.0.0.1:9117/api",
                Some(KEY),
            )],
        }
        .save(&path)
        .unwrap();
        let state = SearchState::new(SearchSetup {
            file: Some(path.clone()),
            env_overrides: false,
        });
        (state, path)
    }

    fn saved_key(path: &std::path::Path) -> Option<String> {
        SearchConfig::load(path).unwrap().providers[0]
            .api_key
            .clone()
    }

    #[test]
    fn keys_never_leave_and_survive_a_save() {
        let dir = tempfile::tempdir().unwrap();
        let (state, path) = state_with_jackett(dir.path());

        let shown = state.providers();
        assert_eq!(shown.len(), 1);
        assert!(shown[0].has_api_key);
        assert_eq!(shown[0].api_key, None);
        assert!(!serde_json::to_string(&shown).unwrap().contains(KEY));

        // The list saved back as shown keeps the key, in the file and in the search.
        let answer = state.save(shown.clone()).unwrap();
        assert_eq!(answer, shown);
        assert_eq!(saved_key(&path).as_deref(), Some(KEY));
        let live = state.search();
        assert_eq!(live.config().providers[0].api_key.as_deref(), Some(KEY));

        // A test without a key uses the saved one; with one, that one.
        assert_eq!(
            state.with_saved_key(shown[0].clone()).api_key.as_deref(),
            Some(KEY)
        );
        let typed = Provider {
            api_key: Some("typed".into()),
            ..shown[0].clone()
        };
        assert_eq!(
            state.with_saved_key(typed).api_key.as_deref(),
            Some("typed")
        );

        // A value replaces the key, "" clears it.
        let replaced = Provider {
            api_key: Some("n3w".into()),
            ..shown[0].clone()
        };
        assert!(state.save(vec![replaced]).unwrap()[0].has_api_key);
        assert_eq!(saved_key(&path).as_deref(), Some("n3w"));
        let cleared = Provider {
            api_key: Some(String::new()),
            ..shown[0].clone()
        };
        assert!(!state.save(vec![cleared]).unwrap()[0].has_api_key);
        assert_eq!(saved_key(&path), None);
    }

    #[test]
    fn a_failed_write_is_settings_failed_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        // The file's directory is a regular file: the write cannot succeed.
        let blocker = dir.path().join("not-a-directory");
        std::fs::write(&blocker, "").unwrap();
        let path = blocker.join("search.toml");
        let state = SearchState::new(SearchSetup {
            file: Some(path.clone()),
            env_overrides: false,
        });
        let before = state.providers();

        let stremio = Provider::from(&ProviderConfig::new(
            "Torrentio",
            ProviderKind::Stremio,
            "https://torrentio.strem.fun/manifest.json",
        ));
        let error = state.save(vec![stremio]).unwrap_err();
        assert_eq!(error.code, ErrorCode::SettingsFailed);
        assert_eq!(error.code.http_status(), 500);
        assert!(
            error.message.contains("not-a-directory"),
            "{}",
            error.message
        );
        assert_eq!(
            serde_json::to_value(&error).unwrap()["code"],
            "SETTINGS_FAILED"
        );
        assert_eq!(state.providers(), before);
        assert_eq!(
            state.search().config().providers,
            SearchConfig::default().providers
        );
    }

    #[test]
    fn invalid_providers_are_invalid_request() {
        let state = SearchState::new(SearchSetup::default());
        let nameless = Provider::from(&ProviderConfig::stremio("", "https://x.example"));
        let error = state.save(vec![nameless]).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidRequest);
        assert_eq!(state.providers(), SearchConfig::default().to_wire());
    }
}
