//! Searches against fixture upstreams on 127.0.0.1 speaking each real protocol (the test
//! kit's `search` module).

use std::time::{Duration, Instant};

use cinemahalal_search::{
    ProviderConfig, ProviderFailure, ProviderKind, Quality, ReleaseSource, Resolution, Search,
    SearchConfig, SearchError, SearchQuery, SearchResponse, SearchResult, test_provider,
};
use cinemahalal_testkit::search::*;

/// The fixture's upstreams as providers.
trait Providers {
    fn archive(&self) -> ProviderConfig;
    fn jackett(&self) -> ProviderConfig;
    fn torrentio(&self) -> ProviderConfig;
    /// A provider at `<base><prefix>` (one of the broken variants), with a 1 s timeout.
    fn broken(&self, name: &str, kind: ProviderKind, prefix: &str) -> ProviderConfig;
}

impl Providers for Upstream {
    fn archive(&self) -> ProviderConfig {
        ProviderConfig {
            url: self.archive_url(),
            ..ProviderConfig::archive()
        }
    }

    fn jackett(&self) -> ProviderConfig {
        ProviderConfig::torznab("Jackett", &self.jackett_url(), Some(JACKETT_KEY))
    }

    fn torrentio(&self) -> ProviderConfig {
        ProviderConfig::stremio("Torrentio", &self.torrentio_url())
    }

    fn broken(&self, name: &str, kind: ProviderKind, prefix: &str) -> ProviderConfig {
        ProviderConfig {
            timeout_secs: Some(1),
            ..ProviderConfig::new(name, kind, &self.url(prefix))
        }
    }
}

fn search_with(providers: Vec<ProviderConfig>) -> Search {
    Search::new(SearchConfig { providers })
}

fn imdb() -> SearchQuery {
    SearchQuery::imdb(IMDB_ID).unwrap()
}

fn text(q: &str) -> SearchQuery {
    SearchQuery::text(q).unwrap()
}

fn hashes(response: &SearchResponse) -> Vec<&str> {
    response
        .results
        .iter()
        .map(|r| r.info_hash.as_str())
        .collect()
}

fn by_hash<'a>(response: &'a SearchResponse, hash: &str) -> &'a SearchResult {
    response
        .results
        .iter()
        .find(|r| r.info_hash == hash)
        .unwrap_or_else(|| panic!("no result {hash}"))
}

fn all_failed(error: SearchError) -> Vec<ProviderFailure> {
    match error {
        SearchError::AllProvidersFailed(failures) => failures,
        other => panic!("expected AllProvidersFailed, got {other:?}"),
    }
}

fn ia_magnet(hash: &str, dn: &str) -> String {
    format!(
        "magnet:?xt=urn:btih:{hash}&dn={dn}&tr=http%3A%2F%2Fbt1.archive.org%3A6969%2Fannounce&tr=http%3A%2F%2Fbt2.archive.org%3A6969%2Fannounce"
    )
}

#[tokio::test]
async fn archive_text_search_reads_torrents_from_metadata() {
    let up = Upstream::start().await;
    let response = search_with(vec![up.archive()])
        .search(&text("Night of the Living Dead"))
        .await
        .unwrap();
    assert!(response.failed_providers.is_empty());
    // The dark item has no metadata and is left out; equal seeders sort by name.
    assert_eq!(hashes(&response), [HASH_IA2, HASH_IA]);

    let item = by_hash(&response, HASH_IA);
    assert_eq!(item.name, "Night of the Living Dead");
    assert_eq!(
        item.magnet,
        ia_magnet(HASH_IA, "Night%20of%20the%20Living%20Dead")
    );
    assert_eq!(item.size, Some(4_353_214_567));
    assert_eq!((item.seeders, item.leechers), (1, 0));
    assert_eq!(item.provider, "Internet Archive");
    assert_eq!(item.file_index, None);

    let second = by_hash(&response, HASH_IA2);
    assert_eq!(second.name, "Night Of The Living Dead (1968) 480p");
    assert_eq!(
        second.size,
        Some(735_000_000),
        "item_size from the metadata when the search has none"
    );
    assert_eq!(
        second.quality,
        Quality {
            resolution: Some(Resolution::P480),
            source: None
        }
    );

    let searches = up.requests_matching("/ia/advancedsearch.php");
    assert_eq!(searches.len(), 1);
    assert!(
        searches[0].contains("mediatype%3A%28movies%29"),
        "{}",
        searches[0]
    );
    assert_eq!(up.requests_matching("/ia/metadata/").len(), 3);
}

#[tokio::test]
async fn archive_imdb_search_uses_external_identifier() {
    let up = Upstream::start().await;
    let response = search_with(vec![up.archive()])
        .search(&imdb())
        .await
        .unwrap();
    assert_eq!(hashes(&response), [HASH_IA]);
    let searches = up.requests_matching("/ia/advancedsearch.php");
    assert!(
        searches[0].contains("external-identifier%3A%22urn%3Aimdb%3Att0063350%22"),
        "{}",
        searches[0]
    );
}

#[tokio::test]
async fn archive_fetches_at_most_ten_metadata() {
    let up = Upstream::start().await;
    let response = search_with(vec![up.archive()])
        .search(&text("plan 9"))
        .await
        .unwrap();
    assert_eq!(response.results.len(), 10);
    assert_eq!(up.requests_matching("/ia/metadata/").len(), 10);
    // The ten most downloaded come first in the answer: parts 1 to 10.
    assert!(
        response
            .results
            .iter()
            .all(|r| r.info_hash.ends_with(|c: char| c.is_ascii_hexdigit()))
    );
    assert!(
        response
            .results
            .iter()
            .any(|r| r.info_hash == format!("{:040x}", 10))
    );
    assert!(
        !response
            .results
            .iter()
            .any(|r| r.info_hash == format!("{:040x}", 11))
    );
}

#[tokio::test]
async fn torznab_text_search_parses_jackett_feed() {
    let up = Upstream::start().await;
    let response = search_with(vec![up.jackett()])
        .search(&text("night of the living dead"))
        .await
        .unwrap();
    // The private item with only a .torrent link is skipped.
    assert_eq!(hashes(&response), [HASH_A, HASH_B, HASH_IA]);

    let a = by_hash(&response, HASH_A);
    assert_eq!(
        a.name,
        "Night.of.the.Living.Dead.1968.1080p.BluRay.x264-GRP"
    );
    assert_eq!(
        (a.seeders, a.leechers),
        (120, 15),
        "peers counts seeders and leechers"
    );
    assert_eq!(a.size, Some(1_717_986_918));
    assert!(
        a.magnet
            .starts_with("magnet:?xt=urn:btih:C9E15763F722F23E98A29DECDFAE341B98D53056&dn="),
        "{}",
        a.magnet
    );
    assert!(a.magnet.contains("tracker.opentrackr.org"));
    assert_eq!(
        a.quality,
        Quality {
            resolution: Some(Resolution::P1080),
            source: Some(ReleaseSource::BluRay)
        }
    );
    assert_eq!(a.provider, "Jackett");

    let b = by_hash(&response, HASH_B);
    assert_eq!((b.seeders, b.leechers, b.size), (45, 5, Some(784_316_416)));
    assert!(
        b.magnet.contains(HASH_B_BASE32),
        "the magnet link is kept as given"
    );
    assert_eq!(b.quality.resolution, Some(Resolution::P720));

    let ia = by_hash(&response, HASH_IA);
    assert_eq!(
        ia.size,
        Some(4_353_214_567),
        "size from the enclosure's length"
    );
    assert_eq!(
        ia.magnet,
        format!(
            "magnet:?xt=urn:btih:{HASH_IA}&dn=Night%20of%20the%20Living%20Dead%20%281968%29%20Internet%20Archive%20copy"
        )
    );

    let requests = up.requests_matching("/torznab/api?");
    assert_eq!(requests.len(), 1);
    assert!(
        requests[0].contains("t=search&q=night+of+the+living+dead&apikey=jackett-secret-key"),
        "{}",
        requests[0]
    );
}

#[tokio::test]
async fn torznab_imdb_search_sends_imdbid_digits() {
    let up = Upstream::start().await;
    let response = search_with(vec![up.jackett()])
        .search(&imdb())
        .await
        .unwrap();
    assert_eq!(hashes(&response), [HASH_A, HASH_B, HASH_IA]);
    let requests = up.requests_matching("/torznab/api?");
    assert!(
        requests[0].contains("t=movie&imdbid=0063350&"),
        "{}",
        requests[0]
    );
}

#[tokio::test]
async fn torznab_error_element_is_the_reason_and_hides_the_key() {
    let up = Upstream::start().await;
    let wrong = ProviderConfig {
        api_key: Some("wrong-key-42".into()),
        ..up.jackett()
    };
    let failures = all_failed(search_with(vec![wrong]).search(&imdb()).await.unwrap_err());
    assert_eq!(
        failures,
        [ProviderFailure::new(
            "Jackett",
            "the indexer answered error 100: Invalid API Key"
        )]
    );
}

#[tokio::test]
async fn stremio_imdb_search_reads_torrentio_streams() {
    let up = Upstream::start().await;
    let response = search_with(vec![up.torrentio()])
        .search(&imdb())
        .await
        .unwrap();
    // URL, YouTube and malformed streams are skipped.
    assert_eq!(hashes(&response), [HASH_C, HASH_A, HASH_IA]);

    let c = by_hash(&response, HASH_C);
    assert_eq!(
        c.name,
        "Night of the Living Dead 1968 REMASTERED 2160p UHD BluRay x265"
    );
    assert_eq!(c.seeders, 300);
    assert_eq!(c.size, Some((30.5 * 1024.0 * 1024.0 * 1024.0) as u64));
    assert_eq!(c.file_index, Some(2));
    assert_eq!(
        c.quality,
        Quality {
            resolution: Some(Resolution::P2160),
            source: Some(ReleaseSource::BluRay)
        }
    );
    assert!(c.magnet.contains("&tr=udp%3A%2F%2Ftracker.opentrackr.org%3A1337%2Fannounce&tr=http%3A%2F%2Ftracker.example.org%2Fannounce"), "{}", c.magnet);
    assert!(
        !c.magnet.contains("dht"),
        "only tracker: sources become trackers"
    );

    let ia = by_hash(&response, HASH_IA);
    assert_eq!((ia.seeders, ia.size, ia.file_index), (12, None, Some(5)));
    assert_eq!(
        ia.quality.resolution,
        Some(Resolution::P480),
        "resolution from the stream's name"
    );

    assert_eq!(
        up.requests_matching("/torrentio/stream/movie/tt0063350.json")
            .len(),
        1
    );
}

#[tokio::test]
async fn stremio_is_skipped_for_text_without_failing() {
    let up = Upstream::start().await;
    let response = search_with(vec![up.archive(), up.torrentio()])
        .search(&text("Night of the Living Dead"))
        .await
        .unwrap();
    assert_eq!(hashes(&response), [HASH_IA2, HASH_IA]);
    assert!(response.failed_providers.is_empty());
    assert!(up.requests_matching("/torrentio/").is_empty());

    let failures = all_failed(
        search_with(vec![up.torrentio()])
            .search(&text("night"))
            .await
            .unwrap_err(),
    );
    assert_eq!(failures.len(), 1);
    assert!(failures[0].reason.contains("IMDb id"), "{failures:?}");
}

#[tokio::test]
async fn providers_merge_by_info_hash_and_sort_by_seeders() {
    let up = Upstream::start().await;
    let search = search_with(vec![up.archive(), up.jackett(), up.torrentio()]);
    let response = search.search(&imdb()).await.unwrap();
    assert!(response.failed_providers.is_empty());
    assert_eq!(hashes(&response), [HASH_C, HASH_A, HASH_B, HASH_IA]);
    let seeders: Vec<u32> = response.results.iter().map(|r| r.seeders).collect();
    assert_eq!(seeders, [300, 120, 45, 12]);

    let a = by_hash(&response, HASH_A);
    assert_eq!(
        a.provider, "Jackett",
        "Jackett's 120 seeders beat Torrentio's 98"
    );
    assert_eq!(a.providers, ["Jackett", "Torrentio"]);
    assert_eq!(
        a.file_index,
        Some(0),
        "the file index comes along from Torrentio"
    );
    assert_eq!(a.size, Some(1_717_986_918));

    let ia = by_hash(&response, HASH_IA);
    assert_eq!(ia.provider, "Torrentio");
    assert_eq!(ia.providers, ["Torrentio", "Jackett", "Internet Archive"]);
    assert_eq!((ia.size, ia.file_index), (Some(4_353_214_567), Some(5)));

    // The wire format.
    let json = serde_json::to_value(&response).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["failedProviders", "results"]);
    let first = &json["results"][1];
    let mut keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "fileIndex",
            "infoHash",
            "leechers",
            "magnet",
            "name",
            "provider",
            "providers",
            "quality",
            "seeders",
            "size"
        ]
    );
    assert_eq!(first["infoHash"], HASH_A);
    assert_eq!(
        first["quality"],
        serde_json::json!({"resolution": "1080p", "source": "BluRay"})
    );
    assert_eq!(first["fileIndex"], 0);
    assert_eq!(
        serde_json::from_value::<SearchResponse>(json).unwrap(),
        response
    );
}

#[tokio::test]
async fn slow_provider_times_out_while_others_answer() {
    let up = Upstream::start().await;
    let started = Instant::now();
    let response = search_with(vec![
        up.archive(),
        up.broken("Slow indexer", ProviderKind::Torznab, "/torznab-slow"),
        up.broken("Slow add-on", ProviderKind::Stremio, "/stremio-slow"),
    ])
    .search(&imdb())
    .await
    .unwrap();
    // The timeouts were waited for. No upper bound: that would measure the machine's load.
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
    assert_eq!(hashes(&response), [HASH_IA]);
    assert_eq!(
        response.failed_providers,
        [
            ProviderFailure::new("Slow indexer", "timed out after 1 s"),
            ProviderFailure::new("Slow add-on", "timed out after 1 s"),
        ]
    );
}

#[tokio::test]
async fn partial_failure_returns_results_and_failed_providers() {
    let up = Upstream::start().await;
    let response = search_with(vec![
        up.broken("Broken indexer", ProviderKind::Torznab, "/torznab-500"),
        up.jackett(),
        up.broken("Bad XML", ProviderKind::Torznab, "/torznab-bad"),
    ])
    .search(&text("night of the living dead"))
    .await
    .unwrap();
    assert_eq!(hashes(&response), [HASH_A, HASH_B, HASH_IA]);
    let failed: Vec<&str> = response
        .failed_providers
        .iter()
        .map(|f| f.provider.as_str())
        .collect();
    assert_eq!(failed, ["Broken indexer", "Bad XML"]);
    let reasons: Vec<&str> = response
        .failed_providers
        .iter()
        .map(|f| f.reason.as_str())
        .collect();
    assert_eq!(
        reasons[0],
        format!(
            "HTTP 500 Internal Server Error from {}/torznab-500/api",
            up.base
        )
    );
    assert!(
        reasons[1].starts_with(&format!(
            "malformed Torznab XML from {}/torznab-bad/api",
            up.base
        )),
        "{}",
        reasons[1]
    );
}

#[tokio::test]
async fn all_failing_gives_each_reason() {
    let up = Upstream::start().await;
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut unreachable = ProviderConfig::torznab(
        "Offline",
        &format!("http://127.0.0.1:{closed_port}"),
        Some("k"),
    );
    unreachable.timeout_secs = Some(2);
    let search = search_with(vec![
        up.broken("IA broken", ProviderKind::Archive, "/ia-broken"),
        up.broken("Torznab 500", ProviderKind::Torznab, "/torznab-500"),
        up.broken("HTML add-on", ProviderKind::Stremio, "/stremio-html"),
        up.broken("Slow add-on", ProviderKind::Stremio, "/stremio-slow"),
        unreachable,
        ProviderConfig::stremio("No URL", "not a url"),
        ProviderConfig {
            enabled: false,
            ..up.jackett()
        },
    ]);
    let failures = all_failed(search.search(&imdb()).await.unwrap_err());
    let names: Vec<&str> = failures.iter().map(|f| f.provider.as_str()).collect();
    assert_eq!(
        names,
        [
            "IA broken",
            "Torznab 500",
            "HTML add-on",
            "Slow add-on",
            "Offline",
            "No URL"
        ]
    );
    let reason = |i: usize| failures[i].reason.as_str();
    assert!(
        reason(0).starts_with(&format!(
            "malformed JSON from {}/ia-broken/advancedsearch.php",
            up.base
        )),
        "{}",
        reason(0)
    );
    assert!(reason(1).starts_with("HTTP 500"), "{}", reason(1));
    assert!(
        reason(2).starts_with("malformed JSON from") && reason(2).contains("expected {\"streams\""),
        "{}",
        reason(2)
    );
    assert_eq!(reason(3), "timed out after 1 s");
    assert!(
        reason(4).starts_with(&format!(
            "request to http://127.0.0.1:{closed_port}/api failed"
        )),
        "{}",
        reason(4)
    );
    assert!(!reason(4).contains("apikey"), "{}", reason(4));
    assert!(
        reason(5).starts_with("invalid configuration: \"not a url\" is not a URL"),
        "{}",
        reason(5)
    );

    let error = SearchError::AllProvidersFailed(failures);
    assert!(
        error
            .to_string()
            .starts_with("every search provider failed: IA broken: malformed JSON"),
        "{error}"
    );
}

#[tokio::test]
async fn oversized_bodies_are_rejected() {
    let up = Upstream::start().await;
    let failures = all_failed(
        search_with(vec![
            up.broken("Huge IA", ProviderKind::Archive, "/ia-huge"),
            up.broken("Chunked add-on", ProviderKind::Stremio, "/stremio-chunked"),
        ])
        .search(&imdb())
        .await
        .unwrap_err(),
    );
    assert_eq!(failures.len(), 2);
    assert_eq!(
        failures[0].reason,
        format!(
            "the answer from {}/ia-huge/advancedsearch.php is larger than 4 MiB",
            up.base
        )
    );
    assert_eq!(
        failures[1].reason,
        format!(
            "the answer from {}/stremio-chunked/stream/movie/tt0063350.json is larger than 4 MiB",
            up.base
        )
    );
}

#[tokio::test]
async fn no_enabled_provider_is_a_failure_that_says_so() {
    let failures = all_failed(
        search_with(vec![ProviderConfig {
            enabled: false,
            ..ProviderConfig::archive()
        }])
        .search(&imdb())
        .await
        .unwrap_err(),
    );
    assert_eq!(failures.len(), 1);
    assert!(
        failures[0]
            .reason
            .starts_with("no search provider is enabled"),
        "{failures:?}"
    );
    let failures = all_failed(search_with(vec![]).search(&text("x")).await.unwrap_err());
    assert!(
        failures[0]
            .reason
            .starts_with("no search provider is enabled")
    );
}

#[tokio::test]
async fn test_provider_counts_results_or_gives_the_reason() {
    let up = Upstream::start().await;
    assert_eq!(test_provider(&up.archive()).await, Ok(2));
    assert_eq!(test_provider(&up.jackett()).await, Ok(3));
    assert_eq!(
        test_provider(&ProviderConfig {
            enabled: false,
            ..up.torrentio()
        })
        .await,
        Ok(3)
    );
    let reason = test_provider(&up.broken("x", ProviderKind::Torznab, "/torznab-500"))
        .await
        .unwrap_err();
    assert!(reason.starts_with("HTTP 500"), "{reason}");
    let reason = test_provider(&ProviderConfig::torznab("y", "", None))
        .await
        .unwrap_err();
    assert_eq!(reason, "invalid configuration: the URL is empty");
}

#[test]
fn search_is_shareable_across_tasks() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: T) {}
    let search = search_with(vec![ProviderConfig::archive()]);
    send_sync(&search);
    let query = imdb();
    send(search.search(&query));
    send(test_provider(&search.config().providers[0]));
}
