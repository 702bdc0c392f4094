//! A stream's life: status while it is prepared and read, stop, idle cleanup, readers.

mod common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

const MIB: usize = 1 << 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn status_moves_from_metadata_to_ready_and_delete_removes_data() {
    bounded(status_moves_from_metadata_to_ready_and_delete_removes_data_scenario()).await;
}

async fn status_moves_from_metadata_to_ready_and_delete_removes_data_scenario() {
    let seeder = Seeder::random(
        &[("clip.mp4", 6 * MIB)],
        SeederOptions {
            piece_length: Some(64 * 1024),
            upload_bps: Some(3 * MIB as u32),
        },
    )
    .await
    .unwrap();
    let server = TestServer::start().await;
    let hash = seeder.info_hash().to_string();

    // Before anything: unknown.
    let (status, body) = server.get_json(&format!("/api/stream/{hash}/status")).await;
    assert_error(status, &body, 404, "STREAM_NOT_FOUND");

    // Hold the seeder's address back (no x.pe) so that metadata cannot arrive yet,
    // then watch status report fetching_metadata while POST waits.
    let silent = SilentPeer::start().await.unwrap();
    let blind = format!("magnet:?xt=urn:btih:{hash}&dn=clip&x.pe={}", silent.addr);
    let pending = {
        let (client, url) = (server.client.clone(), server.url("/api/stream"));
        tokio::spawn(async move {
            client
                .post(url)
                .json(&json!({ "magnet": blind }))
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    let state = eventually(Duration::from_secs(5), || async {
        let (status, body) = server.get_json(&format!("/api/stream/{hash}/status")).await;
        (status == StatusCode::OK).then_some(body)
    })
    .await;
    assert_eq!(state["state"], "fetching_metadata", "{state}");
    assert_eq!(state["infoHash"], hash);
    pending.abort();

    let ready = server.prepare(&seeder.magnet()).await;
    let url = ready["streamUrl"].as_str().unwrap().to_string();
    let (status, first) = server.get_json(&format!("/api/stream/{hash}/status")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        matches!(first["state"].as_str(), Some("ready" | "connecting")),
        "{first}"
    );
    assert_eq!(first["size"], 6 * MIB);
    assert_eq!(first["fileIndex"], 0);
    assert!(first["peers"]["known"].as_u64().unwrap() >= 1, "{first}");

    // Read it all; progress grows to 1 and the ranges cover the file.
    let (_, _, body) = server.get_range(&url, None).await;
    assert_eq!(sha256(&body), sha256(&seeder.read("clip.mp4").unwrap()));
    let done = eventually(Duration::from_secs(10), || async {
        let (_, s) = server.get_json(&format!("/api/stream/{hash}/status")).await;
        (s["progress"].as_f64() == Some(1.0)).then_some(s)
    })
    .await;
    assert_eq!(done["state"], "ready");
    assert_eq!(done["downloadedBytes"], 6 * MIB);
    assert_eq!(
        done["availableRanges"],
        json!([{ "start": 0, "end": 6 * MIB }])
    );
    assert!(first["downloadedBytes"].as_u64() <= done["downloadedBytes"].as_u64());

    let data = server.data_dir.path().join("downloads").join(&hash);
    assert!(
        data.join("clip.mp4").is_file(),
        "data should be on disk at {}",
        data.display()
    );
    let r = server
        .client
        .delete(server.url(&format!("/api/stream/{}", hash.to_uppercase())))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body, json!({ "status": "STOPPED", "infoHash": hash }));
    assert!(!data.exists(), "DELETE must remove {}", data.display());
    let (status, body) = server.get_json(&format!("/api/stream/{hash}/status")).await;
    assert_error(status, &body, 404, "STREAM_NOT_FOUND");
    let r = server
        .client
        .delete(server.url(&format!("/api/stream/{hash}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let (status, _, _) = server.get_range(&url, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idle_streams_are_stopped_but_not_while_read() {
    bounded(idle_streams_are_stopped_but_not_while_read_scenario()).await;
}

async fn idle_streams_are_stopped_but_not_while_read_scenario() {
    let slow = Seeder::random(
        &[("slow.mp4", 8 * MIB)],
        SeederOptions {
            piece_length: Some(64 * 1024),
            upload_bps: Some(512 * 1024),
        },
    )
    .await
    .unwrap();
    let quick = Seeder::random(&[("quick.mp4", MIB)], Default::default())
        .await
        .unwrap();
    let idle = Duration::from_millis(800);
    let server = TestServer::start_with(|c| c.idle_timeout = idle).await;

    let slow_ready = server.prepare(&slow.magnet()).await;
    server.prepare(&quick.magnet()).await;
    // A reader that stays open for longer than the idle timeout.
    let mut reading = server
        .client
        .get(slow_ready["streamUrl"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(reading.status(), StatusCode::OK);
    assert!(reading.chunk().await.unwrap().is_some());

    let quick_dir = server
        .data_dir
        .path()
        .join("downloads")
        .join(quick.info_hash());
    // /api/streams does not count as touching a stream.
    let listed = eventually(Duration::from_secs(10), || async {
        let (_, list) = server.get_json("/api/streams").await;
        let hashes: Vec<String> = list["streams"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["infoHash"].as_str().unwrap().to_string())
            .collect();
        (!hashes.contains(&quick.info_hash().to_string())).then_some(hashes)
    })
    .await;
    assert_eq!(
        listed,
        vec![slow.info_hash().to_string()],
        "the read stream must stay"
    );
    // Stopped, its data stays in the cache, no longer active.
    assert!(
        quick_dir.join("quick.mp4").is_file(),
        "idle cleanup keeps the data in the cache"
    );
    let (_, cache) = server.get_json("/api/cache").await;
    let quick_entry = cache["torrents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["infoHash"] == quick.info_hash())
        .cloned()
        .unwrap_or_else(|| panic!("{cache}"));
    assert_eq!(quick_entry["active"], false, "{cache}");
    tokio::time::sleep(idle * 2).await;
    let (_, list) = server.get_json("/api/streams").await;
    assert_eq!(
        list["streams"].as_array().unwrap().len(),
        1,
        "the reader keeps its stream alive"
    );

    drop(reading);
    eventually(Duration::from_secs(10), || async {
        let (_, list) = server.get_json("/api/streams").await;
        list["streams"].as_array().unwrap().is_empty().then_some(())
    })
    .await;
    let (_, health) = server.get_json("/api/health").await;
    assert_eq!(health["activeStreams"], 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn same_torrent_twice_is_one_stream() {
    bounded(same_torrent_twice_is_one_stream_scenario()).await;
}

async fn same_torrent_twice_is_one_stream_scenario() {
    let seeder = Seeder::random(&[("film.mkv", 2 * MIB)], Default::default())
        .await
        .unwrap();
    let server = TestServer::start().await;
    let magnet = seeder.magnet();
    let by_hash = json!({ "infoHash": seeder.info_hash().to_uppercase() });
    let (a, b) = tokio::join!(
        server.post_stream(json!({ "magnet": magnet })),
        server.post_stream(json!({ "magnet": magnet }))
    );
    assert_eq!(a.0, StatusCode::OK, "{}", a.1);
    assert_eq!(b.0, StatusCode::OK, "{}", b.1);
    assert_eq!(a.1, b.1);
    // Once prepared, a bare hash (in capitals) answers from the same stream.
    let (status, c) = server.post_stream(by_hash).await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert_eq!(c["streamUrl"], a.1["streamUrl"]);
    assert_eq!(c["infoHash"], seeder.info_hash());
    let (_, health) = server.get_json("/api/health").await;
    assert_eq!(health["activeStreams"], 1);
    assert_eq!(health["status"], "OK");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_that_leaves_frees_its_reader() {
    bounded(a_client_that_leaves_frees_its_reader_scenario()).await;
}

async fn a_client_that_leaves_frees_its_reader_scenario() {
    let seeder = Seeder::random(
        &[("long.mp4", 8 * MIB)],
        SeederOptions {
            piece_length: Some(64 * 1024),
            upload_bps: Some(256 * 1024),
        },
    )
    .await
    .unwrap();
    let server = TestServer::start_with(|c| {
        c.max_readers = 2;
        c.reader_wait = Duration::from_millis(1500);
    })
    .await;
    let url = server.prepare(&seeder.magnet()).await["streamUrl"]
        .as_str()
        .unwrap()
        .to_string();
    // Two readers take both slots; a third waits, then is refused.
    let mut a = server.client.get(&url).send().await.unwrap();
    let b = server
        .client
        .get(&url)
        .header("Range", "bytes=4000000-")
        .send()
        .await
        .unwrap();
    assert!(a.chunk().await.unwrap().is_some());
    let r = server
        .client
        .get(&url)
        .header("Range", "bytes=0-9")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "TOO_MANY_READERS");
    // Both clients hang up mid-body; their slots come back.
    drop(a);
    drop(b);
    let (status, _, body) = server.get_range(&url, Some("bytes=0-9")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(body, seeder.read("long.mp4").unwrap()[..10]);
    let (status, _, _) = server.get_range(&url, Some("bytes=10-19")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_that_leaves_mid_preparation_leaves_nothing_half_added() {
    bounded(a_client_that_leaves_mid_preparation_leaves_nothing_half_added_scenario()).await;
}

async fn a_client_that_leaves_mid_preparation_leaves_nothing_half_added_scenario() {
    let server = TestServer::start_with(|c| c.metadata_timeout = Duration::from_millis(1500)).await;
    // A preparation that fails after its client left: nothing stays "fetching metadata".
    let silent = SilentPeer::start().await.unwrap();
    let hash = "cd".repeat(20);
    let magnet = format!("magnet:?xt=urn:btih:{hash}&x.pe={}", silent.addr);
    post_and_leave(&server, &magnet, &hash).await;
    let status_path = format!("/api/stream/{hash}/status");
    eventually(Duration::from_secs(10), || async {
        let (status, body) = server.get_json(&status_path).await;
        (status == StatusCode::NOT_FOUND).then_some(body)
    })
    .await;

    // A preparation that succeeds after its client left: the stream is there, whole.
    // The seeder is reached through a gate, so the client surely leaves before the
    // metadata can arrive.
    let seeder = Seeder::random(&[("Left.mp4", 3 << 20)], Default::default())
        .await
        .unwrap();
    let (gate, open) = gated_proxy(seeder.addr()).await;
    let magnet = format!("magnet:?xt=urn:btih:{}&x.pe={gate}", seeder.info_hash());
    post_and_leave(&server, &magnet, seeder.info_hash()).await;
    open.send_replace(true);
    let listed = eventually(Duration::from_secs(20), || async {
        let (_, list) = server.get_json("/api/streams").await;
        let streams = list["streams"].as_array().cloned().unwrap_or_default();
        (!streams.is_empty()).then_some(streams)
    })
    .await;
    assert_eq!(listed[0]["infoHash"], seeder.info_hash());
    let (status, _, body) = server
        .get_range(
            listed[0]["streamUrl"].as_str().unwrap(),
            Some("bytes=0-1023"),
        )
        .await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(body, seeder.read("Left.mp4").unwrap()[..1024]);
    let r = server
        .client
        .delete(server.url(&format!("/api/stream/{}", seeder.info_hash())))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    server.stop().await;
}

/// POSTs `magnet` on a connection of its own, waits until the server reports the
/// preparation fetching metadata, then closes the connection without reading the answer.
/// (A client-side timeout instead could fire before the request is even sent.)
async fn post_and_leave(server: &TestServer, magnet: &str, hash: &str) {
    use tokio::io::AsyncWriteExt;
    let body = json!({ "magnet": magnet }).to_string();
    let host = server.base.trim_start_matches("http://");
    let mut tcp = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!(
        "POST /api/stream HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let state = eventually(Duration::from_secs(10), || async {
        let (status, body) = server.get_json(&format!("/api/stream/{hash}/status")).await;
        (status == StatusCode::OK).then_some(body)
    })
    .await;
    assert_eq!(state["state"], "fetching_metadata", "{state}");
    drop(tcp);
}

/// A TCP proxy to `target` that holds every connection until `true` is sent on the
/// returned channel.
async fn gated_proxy(
    target: std::net::SocketAddr,
) -> (std::net::SocketAddr, tokio::sync::watch::Sender<bool>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (open, _) = tokio::sync::watch::channel(false);
    let gate = open.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let mut opened = gate.subscribe();
            tokio::spawn(async move {
                if opened.wait_for(|open| *open).await.is_err() {
                    return;
                }
                if let Ok(mut upstream) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                }
            });
        }
    });
    (addr, open)
}
