//! A search provider as the API shows it and takes it back: [`Provider`], and its
//! conversions to and from the file's [`ProviderConfig`].
//!
//! The file holds API keys; the API never returns one. It says whether a key is saved
//! (`hasApiKey`), and a provider sent back without `apiKey` keeps the saved one, so the
//! settings screen can save a list it was shown without knowing the keys in it.

use serde::{Deserialize, Serialize};

use crate::{ConfigError, ProviderConfig, ProviderKind, SearchConfig};

/// One provider as the API shows and takes it, camelCase:
/// `{name, kind, url, enabled, timeoutSecs?, hasApiKey, apiKey?}`.
///
/// In answers `apiKey` is always absent and `hasApiKey` says whether a key is saved. In
/// requests `hasApiKey` is ignored, and `apiKey` absent keeps the saved key (see
/// [`Provider::into_config`]), `""` clears it, any other value replaces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Provider {
    /// Unique, compared without regard to case or surrounding spaces; shown in results
    /// (`provider`) and failures.
    pub name: String,
    pub kind: ProviderKind,
    /// Archive: base URL (`https://archive.org` when empty). Torznab: the endpoint, with
    /// or without the final `/api`. Stremio: the add-on's manifest URL or base URL. A
    /// request may omit it (empty).
    #[serde(default)]
    pub url: String,
    /// Whether searches ask it. A request may omit it (enabled).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Seconds this provider has to answer, default 10, at most 120.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub timeout_secs: Option<u64>,
    /// Whether the file holds an API key for this provider. Ignored in requests.
    #[serde(default)]
    pub has_api_key: bool,
    /// Only in requests: the key to save (`""` for none); absent keeps the saved one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub api_key: Option<String>,
}

fn yes() -> bool {
    true
}

impl From<&ProviderConfig> for Provider {
    /// The provider as the API shows it: the key replaced by whether there is one.
    fn from(config: &ProviderConfig) -> Provider {
        Provider {
            name: config.name.clone(),
            kind: config.kind,
            url: config.url.clone(),
            enabled: config.enabled,
            timeout_secs: config.timeout_secs,
            has_api_key: config.api_key.as_deref().is_some_and(|k| !k.is_empty()),
            api_key: None,
        }
    }
}

impl Provider {
    /// The file's entry for this provider. `saved` is the entry of the same name the file
    /// holds, if any (see [`SearchConfig::provider`]).
    ///
    /// `apiKey` given: `""` means no key, anything else is the key. `apiKey` absent: the
    /// saved key, provided the saved entry still has the same kind and URL. A provider
    /// pointed elsewhere needs its key again: otherwise anyone who may edit providers
    /// could have the saved key sent to a server of theirs.
    pub fn into_config(self, saved: Option<&ProviderConfig>) -> ProviderConfig {
        let api_key = match self.api_key {
            Some(key) if key.is_empty() => None,
            Some(key) => Some(key),
            None => saved
                .filter(|s| s.kind == self.kind && s.url.trim() == self.url.trim())
                .and_then(|s| s.api_key.clone()),
        };
        ProviderConfig {
            name: self.name,
            kind: self.kind,
            url: self.url,
            api_key,
            enabled: self.enabled,
            timeout_secs: self.timeout_secs,
        }
    }
}

impl SearchConfig {
    /// The providers as the API shows them, without their keys.
    pub fn to_wire(&self) -> Vec<Provider> {
        self.providers.iter().map(Provider::from).collect()
    }

    /// The file a list from the API describes: each provider's key resolved against
    /// `saved` (the file as it is; see [`Provider::into_config`]), then added with
    /// [`SearchConfig::add_provider`], so each is validated and names stay unique.
    pub fn from_wire(
        providers: Vec<Provider>,
        saved: &SearchConfig,
    ) -> Result<SearchConfig, ConfigError> {
        let mut config = SearchConfig {
            providers: Vec::with_capacity(providers.len()),
        };
        for provider in providers {
            let previous = saved.provider(&provider.name);
            config.add_provider(provider.into_config(previous))?;
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jackett(key: Option<&str>) -> ProviderConfig {
        ProviderConfig {
            timeout_secs: Some(20),
            ..ProviderConfig::torznab("Jackett", "http://127.0.0.1:9117/api", key)
        }
    }

    fn saved() -> SearchConfig {
        SearchConfig {
            providers: vec![ProviderConfig::archive(), jackett(Some("s3cret"))],
        }
    }

    /// What a client sends back after a `GET`: the shown providers, unchanged.
    fn shown(config: &SearchConfig) -> Vec<Provider> {
        let json = serde_json::to_string(&config.to_wire()).unwrap();
        serde_json::from_str(&json).unwrap()
    }

    #[test]
    fn shown_without_the_key() {
        let wire = saved().to_wire();
        assert_eq!(
            wire[1],
            Provider {
                name: "Jackett".into(),
                kind: ProviderKind::Torznab,
                url: "http://127.0.0.1:9117/api".into(),
                enabled: true,
                timeout_secs: Some(20),
                has_api_key: true,
                api_key: None,
            }
        );
        assert!(!wire[0].has_api_key);
        let json = serde_json::to_value(&wire).unwrap();
        assert!(!json.to_string().contains("s3cret"), "{json}");
        assert!(!json.to_string().contains("apiKey"), "{json}");
        assert_eq!(
            json[1],
            serde_json::json!({
                "name": "Jackett", "kind": "torznab", "url": "http://127.0.0.1:9117/api",
                "enabled": true, "timeoutSecs": 20, "hasApiKey": true,
            })
        );
        assert_eq!(
            json[0],
            serde_json::json!({
                "name": "Internet Archive", "kind": "archive", "url": "https://archive.org",
                "enabled": true, "hasApiKey": false,
            })
        );
        // An empty key in the file is no key.
        assert!(!Provider::from(&jackett(Some(""))).has_api_key);
    }

    #[test]
    fn round_trip_keeps_every_field_and_the_key() {
        let saved = saved();
        let mut other = ProviderConfig::stremio("Torrentio", "https://torrentio.strem.fun");
        other.enabled = false;
        let saved = SearchConfig {
            providers: [saved.providers, vec![other]].concat(),
        };
        assert_eq!(
            SearchConfig::from_wire(shown(&saved), &saved).unwrap(),
            saved
        );
        // And the file's configuration survives a second round.
        let again = SearchConfig::from_wire(shown(&saved), &saved).unwrap();
        assert_eq!(again.to_wire(), saved.to_wire());
    }

    #[test]
    fn key_kept_cleared_or_replaced() {
        let saved = saved();
        let with_key = |key: Option<&str>| Provider {
            api_key: key.map(str::to_owned),
            ..Provider::from(&jackett(None))
        };
        let key_of = |p: Provider| p.into_config(saved.provider("Jackett")).api_key;
        assert_eq!(key_of(with_key(None)).as_deref(), Some("s3cret"));
        assert_eq!(key_of(with_key(Some(""))), None);
        assert_eq!(key_of(with_key(Some("n3w"))).as_deref(), Some("n3w"));
        // hasApiKey is not an instruction: false with no apiKey still keeps the key.
        let claims_none = Provider {
            has_api_key: false,
            ..with_key(None)
        };
        assert_eq!(key_of(claims_none).as_deref(), Some("s3cret"));
        // Names match as they do for uniqueness: case and spaces aside.
        let renamed_case = Provider {
            name: " JACKETT ".into(),
            ..with_key(None)
        };
        assert_eq!(key_of(renamed_case).as_deref(), Some("s3cret"));
        // No saved provider of that name: no key.
        let new = Provider {
            name: "Prowlarr".into(),
            ..with_key(None)
        };
        assert_eq!(new.into_config(saved.provider("Prowlarr")).api_key, None);
    }

    #[test]
    fn key_not_kept_for_another_url_or_kind() {
        let saved = saved();
        let elsewhere = Provider {
            url: "http://attacker.example/api".into(),
            ..Provider::from(&jackett(None))
        };
        assert_eq!(
            elsewhere
                .clone()
                .into_config(saved.provider("Jackett"))
                .api_key,
            None
        );
        let given = Provider {
            api_key: Some("typed again".into()),
            ..elsewhere
        };
        assert_eq!(
            given
                .into_config(saved.provider("Jackett"))
                .api_key
                .as_deref(),
            Some("typed again")
        );
        let other_kind = Provider {
            kind: ProviderKind::Stremio,
            ..Provider::from(&jackett(None))
        };
        assert_eq!(
            other_kind.into_config(saved.provider("Jackett")).api_key,
            None
        );
        // Spaces around the URL do not count as another place.
        let spaced = Provider {
            url: " http://127.0.0.1:9117/api ".into(),
            ..Provider::from(&jackett(None))
        };
        assert_eq!(
            spaced
                .into_config(saved.provider("Jackett"))
                .api_key
                .as_deref(),
            Some("s3cret")
        );
    }

    #[test]
    fn requests_may_omit_what_has_a_default() {
        let p: Provider = serde_json::from_str(
            r#"{"name":"J","kind":"torznab","url":"http://x","hasApiKey":true}"#,
        )
        .unwrap();
        assert_eq!(
            (p.enabled, p.timeout_secs, p.api_key, p.has_api_key),
            (true, None, None, true)
        );
        let p: Provider = serde_json::from_str(r#"{"name":"A","kind":"archive"}"#).unwrap();
        assert_eq!(
            (p.url.as_str(), p.enabled, p.has_api_key),
            ("", true, false)
        );
        let p: Provider =
            serde_json::from_str(r#"{"name":"J","kind":"torznab","url":"http://x","apiKey":""}"#)
                .unwrap();
        assert_eq!(p.api_key.as_deref(), Some(""));
        assert!(serde_json::from_str::<Provider>(r#"{"name":"J","kind":"nope"}"#).is_err());
    }

    #[test]
    fn from_wire_validates_and_keeps_names_unique() {
        let saved = saved();
        let mut list = shown(&saved);
        list.push(Provider {
            name: "jackett".into(),
            ..list[1].clone()
        });
        assert!(matches!(
            SearchConfig::from_wire(list, &saved),
            Err(ConfigError::DuplicateName(_))
        ));
        let bad = vec![Provider {
            url: "ftp://x".into(),
            ..Provider::from(&jackett(None))
        }];
        assert!(matches!(
            SearchConfig::from_wire(bad, &saved),
            Err(ConfigError::InvalidProvider(_))
        ));
    }
}
