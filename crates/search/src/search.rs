//! Running the providers of a configuration and merging their answers.

use std::time::Instant;

use futures::future::join_all;

use crate::http::Http;
use crate::providers::{Client, Outcome};
use crate::result::merge;
use crate::{
    ProviderConfig, ProviderFailure, ProviderKind, SearchConfig, SearchError, SearchQuery,
    SearchResponse,
};

/// The query [`test_provider`] sends to the Internet Archive and Torznab providers.
pub const TEST_TITLE: &str = "night of the living dead";
/// The IMDb id [`test_provider`] sends to Stremio add-ons (Night of the Living Dead, 1968,
/// in the public domain).
pub const TEST_IMDB_ID: &str = "tt0063350";

/// The providers of one [`SearchConfig`], ready to search. Cheap to share behind an `Arc`;
/// build a new one when the configuration changes.
pub struct Search {
    config: SearchConfig,
    providers: Vec<Configured>,
    http: Http,
}

struct Configured {
    config: ProviderConfig,
    /// Or why its configuration is unusable: reported as its failure on every search.
    client: Result<Client, String>,
}

impl Configured {
    fn new(config: &ProviderConfig) -> Configured {
        let client = Client::from_config(config);
        if let Err(reason) = &client {
            tracing::warn!(provider = %config.name, %reason, "search provider is misconfigured");
        }
        Configured {
            config: config.clone(),
            client,
        }
    }

    /// Asks the provider within its timeout; `Err` is the reason shown to users.
    async fn run(&self, http: &Http, query: &SearchQuery) -> Result<Outcome, String> {
        let client = self
            .client
            .as_ref()
            .map_err(|e| format!("invalid configuration: {e}"))?;
        let timeout = self.config.timeout();
        let started = Instant::now();
        let outcome = match tokio::time::timeout(timeout, client.search(http, query)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(format!("timed out after {} s", timeout.as_secs())),
        };
        match &outcome {
            Ok(Outcome::Found(results)) => tracing::debug!(
                provider = %self.config.name, results = results.len(), elapsed_ms = started.elapsed().as_millis() as u64,
                "provider answered"
            ),
            Ok(Outcome::Skipped(why)) => {
                tracing::debug!(provider = %self.config.name, why, "provider skipped")
            }
            Err(reason) => tracing::warn!(provider = %self.config.name, %reason, "provider failed"),
        }
        outcome
    }
}

impl Search {
    /// Prepares the configuration's providers. A provider whose settings are unusable (a
    /// malformed URL) is kept, and fails every search with the reason.
    pub fn new(config: SearchConfig) -> Search {
        let providers = config.providers.iter().map(Configured::new).collect();
        Search {
            config,
            providers,
            http: Http::new(),
        }
    }

    /// The configuration this search was built from.
    pub fn config(&self) -> &SearchConfig {
        &self.config
    }

    /// Asks every enabled provider at once and merges the answers (see [`crate::result::merge`]).
    ///
    /// - Some providers answer: `Ok`, with the others in `failedProviders`.
    /// - All providers asked failed: [`SearchError::AllProvidersFailed`], one reason each.
    /// - No enabled provider can take the query (none enabled, or only Stremio add-ons
    ///   for a text query): also `AllProvidersFailed`, with one entry saying so, since
    ///   the request is fine and the configuration is what stands in the way.
    pub async fn search(&self, query: &SearchQuery) -> Result<SearchResponse, SearchError> {
        let enabled: Vec<&Configured> =
            self.providers.iter().filter(|p| p.config.enabled).collect();
        if enabled.is_empty() {
            return Err(SearchError::AllProvidersFailed(vec![ProviderFailure::new(
                "search",
                "no search provider is enabled: enable one in search.toml, or set CINEMAHALAL_ARCHIVE=on",
            )]));
        }
        let started = Instant::now();
        let outcomes = join_all(enabled.iter().map(|p| p.run(&self.http, query))).await;

        let mut results = Vec::new();
        let mut failures = Vec::new();
        let mut skipped = Vec::new();
        let mut answered = 0;
        for (provider, outcome) in enabled.iter().zip(outcomes) {
            match outcome {
                Ok(Outcome::Found(found)) => {
                    answered += 1;
                    results.extend(found);
                }
                Ok(Outcome::Skipped(why)) => {
                    skipped.push(ProviderFailure::new(&provider.config.name, why))
                }
                Err(reason) => failures.push(ProviderFailure::new(&provider.config.name, reason)),
            }
        }
        if answered == 0 {
            if failures.is_empty() {
                // Every enabled provider skipped this kind of query.
                return Err(SearchError::AllProvidersFailed(vec![ProviderFailure::new(
                    "search",
                    format!(
                        "no enabled provider searches by title ({}); search by IMDb id instead",
                        skipped
                            .iter()
                            .map(|s| format!("{}: {}", s.provider, s.reason))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                )]));
            }
            tracing::warn!(%query, failed = failures.len(), "every search provider failed");
            return Err(SearchError::AllProvidersFailed(failures));
        }
        let results = merge(results);
        tracing::info!(
            %query, results = results.len(), answered, failed = failures.len(),
            elapsed_ms = started.elapsed().as_millis() as u64, "search done"
        );
        Ok(SearchResponse {
            results,
            failed_providers: failures,
        })
    }
}

/// The settings screen's "test" button: runs one small search against one provider,
/// enabled or not, within its timeout, and tells how many results came back (0 is a
/// working provider that found nothing) or why it failed. Internet Archive and Torznab
/// providers are asked for [`TEST_TITLE`], Stremio add-ons for [`TEST_IMDB_ID`].
pub async fn test_provider(config: &ProviderConfig) -> Result<usize, String> {
    let query = match config.kind {
        ProviderKind::Stremio => SearchQuery::imdb(TEST_IMDB_ID),
        ProviderKind::Archive | ProviderKind::Torznab => SearchQuery::text(TEST_TITLE),
    }
    .map_err(|e| e.to_string())?;
    match Configured::new(config).run(&Http::new(), &query).await? {
        Outcome::Found(results) => Ok(merge(results).len()),
        Outcome::Skipped(why) => Err(why.to_owned()),
    }
}
