//! search.toml, environment overrides, and request validation.

use std::collections::HashMap;
use std::time::Duration;

use cinemahalal_search::config::{
    ENV_ARCHIVE, ENV_ARCHIVE_URL, ENV_STREMIO_ADDONS, ENV_TORZNAB_APIKEY, ENV_TORZNAB_URL,
};
use cinemahalal_search::{
    ConfigError, ImdbId, ProviderConfig, ProviderKind, SearchConfig, SearchError, SearchQuery,
};

const EXAMPLE: &str = r#"
[[providers]]
name = "Internet Archive"
kind = "archive"
url = "https://archive.org"

[[providers]]
name = "Jackett"
kind = "torznab"
url = "http://127.0.0.1:9117/api/v2.0/indexers/all/results/torznab"
apiKey = "abcdef0123456789"
timeoutSecs = 20

[[providers]]
name = "Torrentio"
kind = "stremio"
url = "https://torrentio.strem.fun/manifest.json"
enabled = false
"#;

fn example() -> SearchConfig {
    SearchConfig::from_toml(EXAMPLE).unwrap()
}

#[test]
fn toml_reads_every_field() {
    let config = example();
    assert_eq!(config.providers.len(), 3);
    assert_eq!(config.providers[0], ProviderConfig::archive());
    let jackett = &config.providers[1];
    assert_eq!(jackett.kind, ProviderKind::Torznab);
    assert_eq!(jackett.api_key.as_deref(), Some("abcdef0123456789"));
    assert_eq!(jackett.timeout(), Duration::from_secs(20));
    assert!(jackett.enabled, "enabled defaults to true");
    let torrentio = &config.providers[2];
    assert_eq!(
        (torrentio.kind, torrentio.enabled, torrentio.timeout()),
        (ProviderKind::Stremio, false, Duration::from_secs(10))
    );
}

#[test]
fn toml_round_trips_through_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join("nested")
        .join("cinemahalal")
        .join("search.toml");
    let config = example();
    config.save(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("[[providers]]")
            && text.contains("apiKey = \"abcdef0123456789\"")
            && text.contains("timeoutSecs = 20"),
        "{text}"
    );
    assert!(
        !text.contains("timeoutSecs = 10"),
        "unset options stay unset:\n{text}"
    );
    assert_eq!(SearchConfig::load(&path).unwrap(), config);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // Saving again replaces the file.
    let mut smaller = config.clone();
    smaller.remove_provider("jackett").unwrap();
    smaller.save(&path).unwrap();
    assert_eq!(SearchConfig::load(&path).unwrap(), smaller);
    assert_eq!(
        std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
        1,
        "no temporary file left"
    );
}

#[test]
fn missing_file_and_missing_key_mean_the_archive_alone() {
    let dir = tempfile::tempdir().unwrap();
    let default = SearchConfig::load(&dir.path().join("absent.toml")).unwrap();
    assert_eq!(
        default,
        SearchConfig {
            providers: vec![ProviderConfig::archive()]
        }
    );
    assert_eq!(SearchConfig::from_toml("").unwrap(), default);
    assert!(
        SearchConfig::from_toml("providers = []")
            .unwrap()
            .providers
            .is_empty()
    );
    assert_eq!(
        SearchConfig::from_toml(&SearchConfig { providers: vec![] }.to_toml().unwrap())
            .unwrap()
            .providers,
        []
    );
}

#[test]
fn malformed_file_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("search.toml");
    std::fs::write(
        &path,
        "[[providers]]\nname = \"x\"\nkind = \"carrier-pigeon\"\n",
    )
    .unwrap();
    let error = SearchConfig::load(&path).unwrap_err();
    assert!(matches!(error, ConfigError::Parse { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("search.toml") && message.contains("carrier-pigeon"),
        "{message}"
    );
}

#[test]
fn default_path_is_in_the_config_dir() {
    if let Some(path) = SearchConfig::default_path() {
        assert!(
            path.ends_with("cinemahalal/search.toml"),
            "{}",
            path.display()
        );
    }
}

#[test]
fn add_and_remove_providers() {
    let mut config = SearchConfig::default();
    config
        .add_provider(ProviderConfig::torznab(
            " Prowlarr ",
            "http://localhost:9696/1/api",
            Some("k"),
        ))
        .unwrap();
    assert_eq!(config.providers[1].name, "Prowlarr");
    let duplicate = config.add_provider(ProviderConfig::stremio(
        "prowlarr",
        "https://x.example/manifest.json",
    ));
    assert!(
        matches!(duplicate, Err(ConfigError::DuplicateName(ref n)) if n == "prowlarr"),
        "{duplicate:?}"
    );
    for bad in [
        ProviderConfig::stremio("", "https://x.example"),
        ProviderConfig::stremio("Bad", "ftp://x.example"),
        ProviderConfig::torznab("Bad", "", None),
        ProviderConfig::torznab("Bad", "jackett:9117", None),
    ] {
        assert!(
            matches!(
                config.add_provider(bad.clone()),
                Err(ConfigError::InvalidProvider(_))
            ),
            "{bad:?}"
        );
    }
    config
        .add_provider(ProviderConfig::stremio(
            "Torrentio",
            "stremio://torrentio.strem.fun/manifest.json",
        ))
        .unwrap();
    assert_eq!(config.providers.len(), 3);
    assert_eq!(
        config.remove_provider("PROWLARR").unwrap().kind,
        ProviderKind::Torznab
    );
    assert_eq!(config.remove_provider("Prowlarr"), None);
    let names: Vec<&str> = config.providers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Internet Archive", "Torrentio"]);
}

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |key| map.get(key).cloned()
}

#[test]
fn env_overrides_add_and_replace_providers() {
    let config = example().with_env_overrides(env(&[
        (ENV_TORZNAB_URL, "http://jackett:9117/api/v2.0/indexers/all/results/torznab"),
        (ENV_TORZNAB_APIKEY, "from-env"),
        (ENV_STREMIO_ADDONS, " https://torrentio.strem.fun/manifest.json, https://torrentio.strem.fun/sort=seeders/manifest.json ,,https://mediafusion.example/manifest.json"),
        (ENV_ARCHIVE, "off"),
    ]));
    let names: Vec<&str> = config.providers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Internet Archive",
            "Jackett",
            "Torrentio",
            "Torznab",
            "torrentio.strem.fun",
            "torrentio.strem.fun (2)",
            "mediafusion.example"
        ]
    );
    assert!(!config.providers[0].enabled, "CINEMAHALAL_ARCHIVE=off");
    let torznab = &config.providers[3];
    assert_eq!(
        (torznab.kind, torznab.api_key.as_deref(), torznab.enabled),
        (ProviderKind::Torznab, Some("from-env"), true)
    );
    assert_eq!(
        config.providers[5].url,
        "https://torrentio.strem.fun/sort=seeders/manifest.json"
    );
    assert!(
        config.providers[4..]
            .iter()
            .all(|p| p.kind == ProviderKind::Stremio && p.enabled)
    );

    // A provider of the same name is replaced, not doubled.
    let twice = config
        .clone()
        .with_env_overrides(env(&[(ENV_TORZNAB_URL, "http://other:9696/1/api")]));
    assert_eq!(twice.providers.len(), config.providers.len());
    assert_eq!(twice.providers[3].url, "http://other:9696/1/api");
    assert_eq!(twice.providers[3].api_key, None);
}

#[test]
fn env_overrides_for_the_archive() {
    let none = SearchConfig { providers: vec![] };
    let on = none.clone().with_env_overrides(env(&[(ENV_ARCHIVE, "ON")]));
    assert_eq!(on, SearchConfig::default());
    let moved = SearchConfig::default()
        .with_env_overrides(env(&[(ENV_ARCHIVE_URL, "http://127.0.0.1:8080/ia")]));
    assert_eq!(moved.providers[0].url, "http://127.0.0.1:8080/ia");
    assert!(moved.providers[0].enabled);
    // Unknown or empty values change nothing.
    let same = example().with_env_overrides(env(&[
        (ENV_ARCHIVE, "maybe"),
        (ENV_TORZNAB_URL, " "),
        (ENV_STREMIO_ADDONS, ""),
    ]));
    assert_eq!(same, example());
    assert_eq!(example().with_env_overrides(|_| None), example());
}

#[test]
fn timeouts_are_clamped() {
    let with = |secs| {
        ProviderConfig {
            timeout_secs: Some(secs),
            ..ProviderConfig::archive()
        }
        .timeout()
    };
    assert_eq!(with(0), Duration::from_secs(1));
    assert_eq!(with(3), Duration::from_secs(3));
    assert_eq!(with(100_000), Duration::from_secs(120));
}

fn invalid(result: Result<SearchQuery, SearchError>) -> String {
    match result {
        Err(SearchError::InvalidRequest(why)) => why,
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

#[test]
fn queries_are_validated() {
    assert_eq!(
        SearchQuery::new(Some("  Night of the Living Dead "), None).unwrap(),
        SearchQuery::Text("Night of the Living Dead".into())
    );
    assert_eq!(
        SearchQuery::new(None, Some("TT0063350")).unwrap(),
        SearchQuery::Imdb(ImdbId::parse("tt0063350").unwrap())
    );
    assert_eq!(
        SearchQuery::new(None, Some("tt12345678"))
            .unwrap()
            .to_string(),
        "tt12345678"
    );
    assert_eq!(
        SearchQuery::new(Some(&"é".repeat(200)), None).unwrap(),
        SearchQuery::Text("é".repeat(200))
    );

    assert!(invalid(SearchQuery::new(Some("x"), Some("tt0063350"))).contains("not both"));
    assert!(invalid(SearchQuery::new(None, None)).contains("give a query"));
    assert_eq!(
        invalid(SearchQuery::new(Some("   "), None)),
        "the query is empty"
    );
    assert_eq!(
        invalid(SearchQuery::new(Some(""), None)),
        "the query is empty"
    );
    assert!(invalid(SearchQuery::new(Some(&"a".repeat(201)), None)).contains("201 characters"));
    assert!(invalid(SearchQuery::text("a\u{0}b")).contains("control"));
    for bad in [
        "",
        "0063350",
        "tt006335",
        "tt123456789",
        "nm0000123",
        "tt00633a0",
        "tt 0063350",
        "ττ0063350",
        "t",
    ] {
        let why = invalid(SearchQuery::new(None, Some(bad)));
        assert!(why.contains("not an IMDb id"), "{bad:?}: {why}");
    }
    let id = ImdbId::parse("Tt0063350").unwrap();
    assert_eq!((id.as_str(), id.digits()), ("tt0063350", "0063350"));
}
