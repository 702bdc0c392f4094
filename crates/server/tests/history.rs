//! The watch history over HTTP: saved positions survive a restart, a damaged file is
//! moved aside, the list is bounded, bad input gets INVALID_REQUEST, a failed write
//! HISTORY_FAILED, and history requests are control requests (no foreign origin).

mod common;

use std::path::Path;

use cinemahalal_server::history::{HISTORY_FILE, MAX_ENTRIES};
use cinemahalal_server::{Running, Settings};
use common::{assert_error, bounded};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const HASH: &str = "c9e15763f722f23e98a29decdfae341b98d53056";
const OTHER: &str = "0123456789abcdef0123456789abcdef01234567";

struct Server {
    running: Running,
    base: String,
    client: reqwest::Client,
}

impl Server {
    async fn start(dir: &Path) -> Server {
        let mut settings = Settings::loopback(dir);
        settings.engine.cache_min_free_bytes = 0;
        let running = cinemahalal_server::start(settings).await.unwrap();
        Server {
            base: running.base_url(),
            running,
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
        }
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap())
    }

    async fn list(&self) -> Vec<Value> {
        let (status, body) = self.send(Method::GET, "/api/history", None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["entries"].as_array().unwrap().clone()
    }

    async fn save(&self, hash: &str, file: usize, body: Value) -> (StatusCode, Value) {
        self.send(
            Method::PUT,
            &format!("/api/history/{hash}/{file}"),
            Some(body),
        )
        .await
    }

    async fn stop(self) {
        self.running.shutdown().await;
    }
}

#[tokio::test]
async fn positions_are_saved_listed_and_kept_across_a_restart() {
    bounded(saved_and_kept()).await;
}

async fn saved_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    assert!(server.list().await.is_empty());

    let magnet = format!("magnet:?xt=urn:btih:{HASH}&dn=Film&x.pe=127.0.0.1:6881");
    let (status, entry) = server
        .save(
            &HASH.to_uppercase(),
            2,
            json!({"positionSeconds": 12.5, "durationSeconds": 40.0, "name": "Episode 2", "magnet": magnet}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{entry}");
    assert_eq!(entry["infoHash"], HASH, "answered in lowercase hex");
    assert_eq!(entry["fileIndex"], 2);
    assert_eq!(entry["positionSeconds"], 12.5);
    assert_eq!(entry["durationSeconds"], 40.0);
    assert_eq!(entry["name"], "Episode 2");
    assert_eq!(entry["watched"], false);
    assert!(entry["magnet"].as_str().unwrap().contains("x.pe=127.0.0.1"));
    assert!(entry["updatedAt"].as_u64().unwrap() > 1_600_000_000_000);

    // A later save of the same file replaces it and comes first; the name stays when
    // a save leaves it out; the end of the file means watched.
    server
        .save(OTHER, 0, json!({"positionSeconds": 3.0, "name": "Other"}))
        .await;
    let (status, entry) = server
        .save(
            HASH,
            2,
            json!({"positionSeconds": 39.5, "durationSeconds": 40.0}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{entry}");
    assert_eq!(entry["watched"], true, "{entry}");
    assert_eq!(entry["name"], "Episode 2");
    let list = server.list().await;
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["infoHash"], HASH);
    assert_eq!(list[1]["infoHash"], OTHER);
    assert_eq!(
        list[1]["durationSeconds"], 0.0,
        "unknown duration is 0, never watched"
    );
    assert_eq!(list[1]["watched"], false);

    // A position past the known end is the end.
    let (_, entry) = server
        .save(
            HASH,
            5,
            json!({"positionSeconds": 99.0, "durationSeconds": 40.0}),
        )
        .await;
    assert_eq!(entry["positionSeconds"], 40.0);

    server.stop().await;
    assert!(dir.path().join(HISTORY_FILE).is_file());
    let server = Server::start(dir.path()).await;
    let after = server.list().await;
    assert_eq!(after.len(), 3, "{after:?}");
    assert_eq!(after[0]["fileIndex"], 5);
    assert_eq!(after[1]["positionSeconds"], 39.5);
    assert_eq!(after[1]["name"], "Episode 2");

    // Forget one (twice: the second removes nothing), then clear all.
    let (status, body) = server
        .send(Method::DELETE, &format!("/api/history/{HASH}/5"), None)
        .await;
    assert_eq!((status, &body["removed"]), (StatusCode::OK, &json!(1)));
    let (_, body) = server
        .send(Method::DELETE, &format!("/api/history/{HASH}/5"), None)
        .await;
    assert_eq!(body["removed"], 0);
    assert_eq!(server.list().await.len(), 2);
    let (status, body) = server.send(Method::DELETE, "/api/history", None).await;
    assert_eq!((status, &body["removed"]), (StatusCode::OK, &json!(2)));
    assert!(server.list().await.is_empty());
    server.stop().await;
    let server = Server::start(dir.path()).await;
    assert!(server.list().await.is_empty(), "clearing is kept too");
    server.stop().await;
}

#[tokio::test]
async fn a_damaged_history_is_moved_aside_and_the_app_goes_on() {
    bounded(damaged()).await;
}

async fn damaged() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(HISTORY_FILE);
    std::fs::write(&file, b"{\"entries\": [ {\"infoHash\": tru").unwrap();
    let server = Server::start(dir.path()).await;
    assert!(server.list().await.is_empty());
    let aside = dir.path().join("history.json.damaged");
    assert_eq!(
        std::fs::read(&aside).unwrap(),
        b"{\"entries\": [ {\"infoHash\": tru"
    );
    let (status, body) = server.save(HASH, 0, json!({"positionSeconds": 1.0})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let on_disk: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(on_disk["entries"][0]["infoHash"], HASH);
    assert!(!dir.path().join("history.json.tmp").exists());
    server.stop().await;
}

#[tokio::test]
async fn the_history_keeps_the_most_recent_entries_only() {
    bounded(bounded_list()).await;
}

async fn bounded_list() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    for i in 0..MAX_ENTRIES + 5 {
        let (status, body) = server
            .save(HASH, i, json!({"positionSeconds": i as f64}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let list = server.list().await;
    assert_eq!(list.len(), MAX_ENTRIES);
    assert_eq!(list[0]["fileIndex"], MAX_ENTRIES + 4, "newest first");
    assert_eq!(
        list[MAX_ENTRIES - 1]["fileIndex"],
        5,
        "the oldest five dropped"
    );
    server.stop().await;
}

#[tokio::test]
async fn bad_input_is_refused_and_a_failed_write_says_history_failed() {
    bounded(errors()).await;
}

async fn errors() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let cases = [
        ("/api/history/nothex/0", json!({"positionSeconds": 1.0})),
        (
            &*format!("/api/history/{HASH}/-1"),
            json!({"positionSeconds": 1.0}),
        ),
        (
            &*format!("/api/history/{HASH}/x"),
            json!({"positionSeconds": 1.0}),
        ),
        (
            &*format!("/api/history/{HASH}/0"),
            json!({"positionSeconds": -1.0}),
        ),
        (
            &*format!("/api/history/{HASH}/0"),
            json!({"positionSeconds": "NaN"}),
        ),
        (
            &*format!("/api/history/{HASH}/0"),
            json!({"positionSeconds": 1.0, "durationSeconds": -5.0}),
        ),
        (&*format!("/api/history/{HASH}/0"), json!({})),
        (
            &*format!("/api/history/{HASH}/0"),
            json!({"positionSeconds": 1.0, "extra": true}),
        ),
        (
            &*format!("/api/history/{HASH}/0"),
            json!({"positionSeconds": 1.0, "magnet": "http://x"}),
        ),
        (
            &*format!("/api/history/{HASH}/0"),
            json!({"positionSeconds": 1.0, "magnet": format!("magnet:?xt=urn:btih:{OTHER}")}),
        ),
    ];
    for (path, body) in cases {
        let (status, answer) = server.send(Method::PUT, path, Some(body.clone())).await;
        assert_error(status, &answer, 400, "INVALID_REQUEST");
        assert!(server.list().await.is_empty(), "{path} {body}");
    }
    // A number JSON cannot hold: serde_json refuses 1e999 as a float.
    let r = server
        .client
        .put(format!("{}/api/history/{HASH}/0", server.base))
        .header("content-type", "application/json")
        .body(r#"{"positionSeconds": 1e999}"#)
        .send()
        .await
        .unwrap();
    let status = r.status();
    assert_error(status, &r.json().await.unwrap(), 400, "INVALID_REQUEST");

    // History requests are control requests: a page of another origin is refused.
    let r = server
        .client
        .get(format!("{}/api/history", server.base))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    let status = r.status();
    assert_error(status, &r.json().await.unwrap(), 403, "ORIGIN_NOT_ALLOWED");

    // The history cannot be written: its path is a folder. The server says so and goes on.
    std::fs::create_dir(dir.path().join(HISTORY_FILE)).unwrap();
    let (status, answer) = server.save(HASH, 0, json!({"positionSeconds": 1.0})).await;
    assert_error(status, &answer, 500, "HISTORY_FAILED");
    assert!(
        server.list().await.is_empty(),
        "a failed save changes nothing"
    );
    let (status, _) = server.send(Method::GET, "/api/health", None).await;
    assert_eq!(status, StatusCode::OK);
    server.stop().await;
}
