//! Every bad input answers a JSON error with a stable code, and breaks nothing else.

mod common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metadata_timeout_for_a_hash_nobody_seeds() {
    bounded(metadata_timeout_for_a_hash_nobody_seeds_scenario()).await;
}

async fn metadata_timeout_for_a_hash_nobody_seeds_scenario() {
    let server = TestServer::start_with(|c| c.metadata_timeout = Duration::from_millis(1500)).await;
    // A peer that never answers: the time limit ends the wait.
    let silent = SilentPeer::start().await.unwrap();
    let magnet = format!(
        "magnet:?xt=urn:btih:{}&x.pe={}",
        "ab".repeat(20),
        silent.addr
    );
    let started = std::time::Instant::now();
    let (status, body) = server.post_stream(json!({ "magnet": magnet })).await;
    assert_error(status, &body, 504, "METADATA_TIMEOUT");
    assert!(
        started.elapsed() >= Duration::from_millis(1400),
        "answered before the timeout"
    );
    // A peer that answers but does not have the torrent: the same code, sooner.
    let other = Seeder::random(&[("other.mp4", 65536)], Default::default())
        .await
        .unwrap();
    let magnet = format!(
        "magnet:?xt=urn:btih:{}&x.pe={}",
        "ab".repeat(20),
        other.addr()
    );
    let (status, body) = server.post_stream(json!({ "magnet": magnet })).await;
    assert_error(status, &body, 504, "METADATA_TIMEOUT");
    // Nothing is left behind, and the server still serves.
    let (status, _) = server
        .get_json(&format!("/api/stream/{}/status", "ab".repeat(20)))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = server.get_json("/api/health").await;
    assert_eq!(status, StatusCode::OK);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_seeds_when_nobody_can_be_reached() {
    bounded(no_seeds_when_nobody_can_be_reached_scenario()).await;
}

async fn no_seeds_when_nobody_can_be_reached_scenario() {
    let server = TestServer::start_with(|c| c.no_seeds_timeout = Duration::from_millis(1500)).await;
    // No DHT, no tracker, no peer: nowhere to look.
    let (status, body) = server
        .post_stream(json!({ "infoHash": "cd".repeat(20) }))
        .await;
    assert_error(status, &body, 503, "NO_SEEDS");
    // A .torrent whose only seeder is gone: metadata known, nobody to download from.
    let seeder = Seeder::random(&[("gone.mp4", 200_000)], Default::default())
        .await
        .unwrap();
    let torrent = data_encoding::BASE64.encode(seeder.torrent());
    seeder.stop().await;
    let (status, body) = server.post_stream(json!({ "torrent": torrent })).await;
    assert_error(status, &body, 503, "NO_SEEDS");
    let (_, health) = server.get_json("/api/health").await;
    assert_eq!(health["activeStreams"], 0);
    assert!(
        std::fs::read_dir(server.data_dir.path().join("downloads"))
            .unwrap()
            .next()
            .is_none(),
        "a failed stream leaves no data"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_video_file_in_a_torrent_of_text() {
    bounded(no_video_file_in_a_torrent_of_text_scenario()).await;
}

async fn no_video_file_in_a_torrent_of_text_scenario() {
    let seeder = Seeder::random(
        &[("docs/a.txt", 30_000), ("docs/b.srt", 20_000)],
        Default::default(),
    )
    .await
    .unwrap();
    let server = TestServer::start().await;
    let (status, body) = server
        .post_stream(json!({ "magnet": seeder.magnet() }))
        .await;
    assert_error(status, &body, 422, "NO_VIDEO_FILE");
    // Asked for by index, any file streams.
    let (status, body) = server
        .post_stream(json!({ "magnet": seeder.magnet(), "fileIndex": 0 }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["files"][0]["isVideo"], false);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_torrent_file_plays_like_a_magnet() {
    bounded(a_torrent_file_plays_like_a_magnet_scenario()).await;
}

async fn a_torrent_file_plays_like_a_magnet_scenario() {
    let seeder = Seeder::random(&[("t.mp4", 500_000)], Default::default())
        .await
        .unwrap();
    let server = TestServer::start().await;
    // The .torrent of a torrent already streaming answers with that stream.
    let magnet_ready = server.prepare(&seeder.magnet()).await;
    let (status, body) = server
        .post_stream(json!({ "torrent": data_encoding::BASE64.encode(seeder.torrent()) }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, magnet_ready);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn malformed_requests_are_invalid_request() {
    bounded(malformed_requests_are_invalid_request_scenario()).await;
}

async fn malformed_requests_are_invalid_request_scenario() {
    let seeder = Seeder::random(&[("ok.mp4", 100_000)], Default::default())
        .await
        .unwrap();
    let server = TestServer::start().await;
    let ready = server.prepare(&seeder.magnet()).await;
    let post = |body: String| {
        let (client, url) = (server.client.clone(), server.url("/api/stream"));
        async move {
            let r = client
                .post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status();
            (status, r.json::<serde_json::Value>().await.unwrap())
        }
    };
    for bad in [
        "",
        "{",
        "[]",
        "{}",
        r#"{"magnet": 42}"#,
        r#"{"magnet": "http://example.com"}"#,
        r#"{"magnet": "magnet:?xt=urn:btih:123"}"#,
        r#"{"magnet": "magnet:?dn=nohash"}"#,
        r#"{"infoHash": "xyz"}"#,
        r#"{"infoHash": "0123456789abcdef0123456789abcdef0123456"}"#,
        r#"{"torrent": "not base64!"}"#,
        r#"{"torrent": "aGVsbG8="}"#,
        r#"{"magnet": "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567", "infoHash": "0123456789abcdef0123456789abcdef01234567"}"#,
        r#"{"infoHash": "0123456789abcdef0123456789abcdef01234567", "fileIndex": -1}"#,
        r#"{"infoHash": "0123456789abcdef0123456789abcdef01234567", "unknown": 1}"#,
    ] {
        let (status, body) = post(bad.to_string()).await;
        assert_error(status, &body, 400, "INVALID_REQUEST");
    }
    // Not JSON at all.
    let r = server
        .client
        .post(server.url("/api/stream"))
        .body("magnet")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["code"],
        "INVALID_REQUEST"
    );

    for (path, status, code) in [
        ("/api/stream/nothex/status", 400, "INVALID_REQUEST"),
        ("/api/stream/nothex", 400, "INVALID_REQUEST"),
        (
            &format!("/api/stream/{}/abc", seeder.info_hash()),
            400,
            "INVALID_REQUEST",
        ),
        (
            &format!("/api/stream/{}/status?fileIndex=x", seeder.info_hash()),
            400,
            "INVALID_REQUEST",
        ),
        (
            &format!("/api/stream/{}", "ef".repeat(20)),
            404,
            "STREAM_NOT_FOUND",
        ),
        (
            &format!("/api/stream/{}/status", "ef".repeat(20)),
            404,
            "STREAM_NOT_FOUND",
        ),
        ("/api/nothing", 404, "NOT_FOUND"),
    ] {
        let (got, body) = server.get_json(path).await;
        assert_error(got, &body, status, code);
    }
    let r = server
        .client
        .put(server.url("/api/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["code"],
        "METHOD_NOT_ALLOWED"
    );
    let r = server
        .client
        .delete(server.url("/api/stream/zz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // After all that, the stream still plays and the server is healthy.
    let (status, _, body) = server
        .get_range(ready["streamUrl"].as_str().unwrap(), Some("bytes=0-99"))
        .await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(body, seeder.read("ok.mp4").unwrap()[..100]);
    let (_, health) = server.get_json("/api/health").await;
    assert_eq!(health["activeStreams"], 1);
    server.stop().await;
}
