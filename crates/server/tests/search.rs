//! `GET /api/search` and the provider settings, against the test kit's Torznab indexers,
//! and one path from a search result to the first byte of the stream.

mod common;

use cinemahalal_server::search::SearchSetup;
use cinemahalal_testkit::search::{JACKETT_KEY, Release, Upstream};
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

fn providers_file(dir: &std::path::Path, providers: serde_json::Value) -> std::path::PathBuf {
    let path = dir.join("search.toml");
    let list: Vec<cinemahalal_search::ProviderConfig> = serde_json::from_value(providers).unwrap();
    cinemahalal_search::SearchConfig { providers: list }
        .save(&path)
        .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn search_result_plays_to_the_first_byte() {
    bounded(search_result_plays_to_the_first_byte_scenario()).await;
}

async fn search_result_plays_to_the_first_byte_scenario() {
    let seeder = Seeder::random(
        &[("Night Film 1080p WEB-DL.mp4", 3 << 20)],
        Default::default(),
    )
    .await
    .unwrap();
    let upstream = Upstream::start().await;
    let good = upstream.add_indexer(
        "good",
        vec![
            Release::new("Night Film 1080p WEB-DL", &seeder.magnet(), 42),
            Release::new(
                "Night Film 720p BluRay",
                &format!("magnet:?xt=urn:btih:{}", "12".repeat(20)),
                7,
            ),
        ],
    );
    let broken = upstream.url("/torznab-500");
    let dir = tempfile::tempdir().unwrap();
    let file = providers_file(
        dir.path(),
        json!([
            { "name": "Jackett", "kind": "torznab", "url": good, "apiKey": JACKETT_KEY },
            { "name": "Broken", "kind": "torznab", "url": broken, "apiKey": JACKETT_KEY },
        ]),
    );
    let server = TestServer::start_full(
        |_| {},
        Options {
            search: SearchSetup {
                file: Some(file),
                env_overrides: false,
            },
            ..Default::default()
        },
    )
    .await;

    let (status, body) = server.get_json("/api/search?query=night%20film").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{body}");
    assert_eq!(results[0]["infoHash"], seeder.info_hash());
    assert_eq!(results[0]["seeders"], 42);
    assert_eq!(results[0]["provider"], "Jackett");
    assert_eq!(
        results[0]["quality"],
        json!({ "resolution": "1080p", "source": "WEB-DL" })
    );
    assert_eq!(results[1]["quality"]["source"], "BluRay");
    assert_eq!(body["failedProviders"][0]["provider"], "Broken", "{body}");

    // The result's magnet, as the UI would send it.
    let ready = server.prepare(results[0]["magnet"].as_str().unwrap()).await;
    let url = ready["streamUrl"].as_str().unwrap();
    let (status, _, bytes) = server.get_range(url, Some("bytes=0-65535")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        bytes,
        seeder.read("Night Film 1080p WEB-DL.mp4").unwrap()[..65536]
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn search_errors_and_provider_settings() {
    bounded(search_errors_and_provider_settings_scenario()).await;
}

async fn search_errors_and_provider_settings_scenario() {
    let upstream = Upstream::start().await;
    let broken = upstream.url("/torznab-500");
    let dir = tempfile::tempdir().unwrap();
    let file = providers_file(
        dir.path(),
        json!([
            { "name": "Broken", "kind": "torznab", "url": broken, "apiKey": JACKETT_KEY },
        ]),
    );
    let server = TestServer::start_full(
        |_| {},
        Options {
            search: SearchSetup {
                file: Some(file.clone()),
                env_overrides: false,
            },
            ..Default::default()
        },
    )
    .await;

    for path in [
        "/api/search",
        "/api/search?query=",
        "/api/search?query=%20%20",
        "/api/search?imdbId=tt12",
        "/api/search?imdbId=nm1234567",
        "/api/search?query=a&imdbId=tt1234567",
        "/api/search?q=x",
    ] {
        let (status, body) = server.get_json(path).await;
        assert_error(status, &body, 400, "INVALID_REQUEST");
    }
    let (status, body) = server.get_json("/api/search?query=anything").await;
    assert_error(status, &body, 502, "SEARCH_FAILED");
    assert_eq!(body["providers"][0]["provider"], "Broken", "{body}");
    assert!(
        body["providers"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("500"),
        "{body}"
    );

    // Settings: list, replace (saved to the file), test.
    let (_, list) = server.get_json("/api/providers").await;
    assert_eq!(list["providers"][0]["name"], "Broken");
    let good = upstream.add_indexer(
        "good",
        vec![Release::new(
            "Some Film 2160p",
            &format!("magnet:?xt=urn:btih:{}", "34".repeat(20)),
            3,
        )],
    );
    let replacement = json!({ "providers": [
        { "name": "Good", "kind": "torznab", "url": good, "apiKey": JACKETT_KEY, "enabled": true },
    ]});
    let (status, answer) = server
        .send_json(Method::PUT, "/api/providers", &replacement)
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(std::fs::read_to_string(&file).unwrap().contains("Good"));
    let (status, body) = server.get_json("/api/search?query=some%20film").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["results"][0]["quality"]["resolution"], "2160p");
    assert_eq!(body["failedProviders"], json!([]));

    let test = json!({ "provider": replacement["providers"][0] });
    let (status, answer) = server
        .send_json(Method::POST, "/api/providers/test", &test)
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer, json!({ "results": 1 }));
    let failing = json!({
        "provider": { "name": "B", "kind": "torznab", "url": broken, "apiKey": JACKETT_KEY }
    });
    let (status, answer) = server
        .send_json(Method::POST, "/api/providers/test", &failing)
        .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{answer}");
    // A failing provider and a closed port fail alike: the test is no port scanner.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let scan = json!({
        "provider": { "name": "B", "kind": "torznab", "url": format!("http://{closed}/api"), "apiKey": JACKETT_KEY }
    });
    let (scan_status, scanned) = server
        .send_json(Method::POST, "/api/providers/test", &scan)
        .await;
    assert_eq!(scan_status, status);
    assert_eq!(scanned, answer);
    assert_eq!(
        answer["providers"][0]["reason"],
        cinemahalal_server::api::PROVIDER_TEST_FAILED
    );
    // Bad settings are refused and change nothing.
    for bad in [
        json!({ "providers": [{ "name": "", "kind": "torznab", "url": "x" }] }),
        json!({ "providers": [{ "name": "A", "kind": "nope", "url": "http://x" }] }),
        json!({ "providers": [{ "name": "A", "kind": "stremio", "url": "http://x" }, { "name": "a", "kind": "stremio", "url": "http://y" }] }),
        json!([]),
    ] {
        let (status, answer) = server.send_json(Method::PUT, "/api/providers", &bad).await;
        assert_error(status, &answer, 400, "INVALID_REQUEST");
    }
    let (_, list) = server.get_json("/api/providers").await;
    assert_eq!(list["providers"][0]["name"], "Good");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn provider_keys_stay_on_the_server() {
    bounded(keys_stay_on_the_server()).await;
}

/// `GET /api/providers` never shows a saved key, only `hasApiKey`; a provider sent back
/// without `apiKey` keeps it, for saving and for testing. The indexer refuses any key
/// but [`JACKETT_KEY`], so a search or test that answers used the saved key.
async fn keys_stay_on_the_server() {
    let magnet = format!("magnet:?xt=urn:btih:{}", "56".repeat(20));
    let upstream = Upstream::start().await;
    let indexer = upstream.add_indexer("keys", vec![Release::new("Key Film 1080p", &magnet, 5)]);
    let dir = tempfile::tempdir().unwrap();
    let file = providers_file(
        dir.path(),
        json!([{ "name": "Jackett", "kind": "torznab", "url": indexer, "apiKey": JACKETT_KEY }]),
    );
    let options = Options {
        search: SearchSetup {
            file: Some(file.clone()),
            env_overrides: false,
        },
        ..Default::default()
    };
    let server = TestServer::start_full(|_| {}, options).await;

    let r = server
        .client
        .get(server.url("/api/providers"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert!(
        !text.contains(JACKETT_KEY),
        "the key left the server: {text}"
    );
    let list: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(list["providers"][0]["hasApiKey"], true, "{text}");
    assert_eq!(list["providers"][0].get("apiKey"), None, "{text}");

    // Saved back as shown: the file keeps the key, and searches still send it.
    let (status, answer) = server.send_json(Method::PUT, "/api/providers", &list).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(!answer.to_string().contains(JACKETT_KEY), "{answer}");
    assert_eq!(answer, list);
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains(&format!("apiKey = \"{JACKETT_KEY}\""))
    );
    let (status, body) = server.get_json("/api/search?query=key%20film").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["results"].as_array().unwrap().len(), 1, "{body}");

    // A test without apiKey uses the saved key.
    let test = json!({ "provider": list["providers"][0] });
    let (status, answer) = server
        .send_json(Method::POST, "/api/providers/test", &test)
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer, json!({ "results": 1 }));

    // "" clears the key.
    let mut cleared = list.clone();
    cleared["providers"][0]["apiKey"] = json!("");
    let (status, answer) = server
        .send_json(Method::PUT, "/api/providers", &cleared)
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["providers"][0]["hasApiKey"], false, "{answer}");
    assert!(
        !std::fs::read_to_string(&file)
            .unwrap()
            .contains(JACKETT_KEY)
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_settings_write_is_settings_failed() {
    bounded(failed_settings_write()).await;
}

/// The providers file cannot be written (its directory is a regular file): 500
/// `SETTINGS_FAILED`, not a stream failure, and the providers stay as they were.
async fn failed_settings_write() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-directory");
    std::fs::write(&blocker, "").unwrap();
    let options = Options {
        search: SearchSetup {
            file: Some(blocker.join("search.toml")),
            env_overrides: false,
        },
        ..Default::default()
    };
    let server = TestServer::start_full(|_| {}, options).await;
    let (_, before) = server.get_json("/api/providers").await;

    let list = json!({ "providers": [
        { "name": "Torrentio", "kind": "stremio", "url": "https://torrentio.strem.fun/manifest.json" },
    ]});
    let (status, body) = server.send_json(Method::PUT, "/api/providers", &list).await;
    assert_error(status, &body, 500, "SETTINGS_FAILED");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("not-a-directory"),
        "{body}"
    );
    let (status, after) = server.get_json("/api/providers").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(after, before);
    server.stop().await;
}
