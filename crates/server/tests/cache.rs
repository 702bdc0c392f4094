//! The cache over HTTP (`GET`/`DELETE /api/cache`), the stream cap (`TOO_MANY_STREAMS`),
//! and the real `cinemahalal-server` process killed mid-download and started again on
//! the same data folder.

mod common;

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const MIB: usize = 1 << 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_cache_is_listed_and_cleared_over_http() {
    bounded(the_cache_is_listed_and_cleared_over_http_scenario()).await;
}

async fn the_cache_is_listed_and_cleared_over_http_scenario() {
    let seeder = Seeder::random(&[("kept.mp4", 2 * MIB)], Default::default())
        .await
        .unwrap();
    let server = TestServer::start_with(|c| c.idle_timeout = Duration::from_millis(500)).await;
    let (_, empty) = server.get_json("/api/cache").await;
    assert_eq!(
        empty,
        json!({ "usedBytes": 0, "maxBytes": 10u64 << 30, "torrents": [] })
    );

    let ready = server.prepare(&seeder.magnet()).await;
    let url = ready["streamUrl"].as_str().unwrap();
    let (status, _, body) = server.get_range(url, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body == seeder.read("kept.mp4").unwrap());

    // Playing: in the cache, active.
    let (status, cache) = server.get_json("/api/cache").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        cache["torrents"][0]["infoHash"],
        seeder.info_hash(),
        "{cache}"
    );
    assert_eq!(cache["torrents"][0]["name"], "kept.mp4", "{cache}");
    assert_eq!(cache["torrents"][0]["active"], true, "{cache}");

    // Idle: stopped, still cached; clearing removes it and says how much it freed.
    eventually(Duration::from_secs(10), || async {
        let (_, cache) = server.get_json("/api/cache").await;
        (cache["torrents"][0]["active"] == false).then_some(())
    })
    .await;
    let (_, cache) = server.get_json("/api/cache").await;
    let used = cache["usedBytes"].as_u64().unwrap();
    assert!(used >= 2 * MIB as u64, "{cache}");
    assert_eq!(cache["torrents"][0]["bytes"].as_u64(), Some(used));
    assert!(cache["torrents"][0]["lastUsed"].as_u64().unwrap() > 1_700_000_000);

    let (status, cleared) = server
        .send_json(Method::DELETE, "/api/cache", &Value::Null)
        .await;
    assert_eq!(status, StatusCode::OK, "{cleared}");
    assert_eq!(cleared, json!({ "freedBytes": used }));
    let (_, cache) = server.get_json("/api/cache").await;
    assert_eq!(cache["usedBytes"], 0, "{cache}");
    assert!(
        !server
            .data_dir
            .path()
            .join("downloads")
            .join(seeder.info_hash())
            .exists()
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stream_past_max_streams_is_too_many_streams() {
    bounded(a_stream_past_max_streams_is_too_many_streams_scenario()).await;
}

async fn a_stream_past_max_streams_is_too_many_streams_scenario() {
    let a = Seeder::random(&[("a.mp4", 100_000)], Default::default())
        .await
        .unwrap();
    let b = Seeder::random(&[("b.mp4", 100_000)], Default::default())
        .await
        .unwrap();
    let server = TestServer::start_with(|c| c.max_streams = 1).await;
    server.prepare(&a.magnet()).await;
    let (status, body) = server.post_stream(json!({ "magnet": b.magnet() })).await;
    assert_error(status, &body, 503, "TOO_MANY_STREAMS");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("too many streams"),
        "{body}"
    );
    // The stream playing is untouched, and asking for it again is fine.
    server.prepare(&a.magnet()).await;
    let (_, health) = server.get_json("/api/health").await;
    assert_eq!(health["activeStreams"], 1);
    server.stop().await;
}

/// The `cinemahalal-server` binary on a data folder, its log drained, killed on drop.
struct ServerProcess {
    child: Child,
    base: String,
}

impl ServerProcess {
    fn start(data_dir: &Path) -> ServerProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cinemahalal-server"))
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                "0",
                "--peer-listen",
                "127.0.0.1:0",
            ])
            .args([
                "--no-dht",
                "--no-local-discovery",
                "--no-seeds-timeout",
                "10",
            ])
            .arg("--data-dir")
            .arg(data_dir)
            .env("RUST_LOG", "info")
            .env_remove("PUBLIC_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting cinemahalal-server");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                // `CinemaHalal listening on http://127.0.0.1:<port> data_dir=…`
                let url = line
                    .split_once("CinemaHalal listening on ")
                    .and_then(|(_, rest)| rest.split_whitespace().next());
                if let Some(url) = url {
                    let _ = tx.send(url.to_string());
                }
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server did not say where it listens");
        ServerProcess { child, base }
    }

    /// SIGKILL: no shutdown, nothing flushed or saved on the way out.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn status_of(client: &reqwest::Client, base: &str, hash: &str) -> Value {
    let r = client
        .get(format!("{base}/api/stream/{hash}/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn prepare_at(client: &reqwest::Client, base: &str, magnet: &str) -> Value {
    let r = client
        .post(format!("{base}/api/stream"))
        .json(&json!({ "magnet": magnet }))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_mid_download_and_restarted_the_server_reuses_what_it_had() {
    bounded(killed_mid_download_and_restarted_the_server_reuses_what_it_had_scenario()).await;
}

async fn killed_mid_download_and_restarted_the_server_reuses_what_it_had_scenario() {
    let size = 16 * MIB;
    let seed_dir = tempfile::tempdir().unwrap();
    let path = seed_dir.path().join("killed.mp4");
    let expected: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&path, &expected).unwrap();
    let slow = SeederOptions {
        piece_length: Some(64 * 1024),
        upload_bps: Some(MIB as u32),
    };
    let seeder = Seeder::seed(&path, slow.clone()).await.unwrap();
    let hash = seeder.info_hash().to_string();
    let data_dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();

    // The first run plays the start of the file, then is killed mid-download.
    let server = ServerProcess::start(data_dir.path());
    let ready = prepare_at(&client, &server.base, &seeder.magnet()).await;
    let url = ready["streamUrl"].as_str().unwrap().to_string();
    let r = client
        .get(&url)
        .header("Range", "bytes=0-2097151")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert!(r.bytes().await.unwrap() == expected[..2 * MIB]);
    let before = status_of(&client, &server.base, &hash).await;
    let had = before["downloadedBytes"].as_u64().unwrap();
    assert!(had >= 2 * MIB as u64 && had < size as u64, "{before}");
    server.kill();
    // The seeder goes too: what the second run serves first can only come from disk.
    seeder.stop().await;

    // The second run, on the same data folder, prepares it from the cache with no peer.
    let server = ServerProcess::start(data_dir.path());
    let again = prepare_at(
        &client,
        &server.base,
        &format!("magnet:?xt=urn:btih:{hash}"),
    )
    .await;
    assert_eq!(again["size"], size as u64);
    let after = status_of(&client, &server.base, &hash).await;
    let kept = after["downloadedBytes"].as_u64().unwrap();
    assert!(kept >= 2 * MIB as u64 && kept < size as u64, "{after}");
    assert_eq!(after["peers"]["connected"], 0, "{after}");
    let url = format!("{}/api/stream/{hash}", server.base);
    let r = client
        .get(&url)
        .header("Range", "bytes=0-2097151")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert!(r.bytes().await.unwrap() == expected[..2 * MIB]);

    // A seeder returns (the link names it): the rest downloads and the whole file is exact.
    let seeder = Seeder::seed(
        &path,
        SeederOptions {
            upload_bps: None,
            ..slow
        },
    )
    .await
    .unwrap();
    prepare_at(&client, &server.base, &seeder.magnet()).await;
    let r = client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap() == expected, "the file differs");
    let done = status_of(&client, &server.base, &hash).await;
    assert_eq!(done["downloadedBytes"], size as u64, "{done}");
    server.kill();
}
