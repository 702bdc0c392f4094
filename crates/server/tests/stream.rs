//! The stream API against a real local swarm, over real HTTP.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

const MIB: usize = 1 << 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ranges_are_byte_exact() {
    bounded(ranges_are_byte_exact_scenario()).await;
}

async fn ranges_are_byte_exact_scenario() {
    let seeder = Seeder::random(
        &[("Some Movie.mp4", 24 * MIB + 12345)],
        SeederOptions {
            piece_length: Some(256 * 1024),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let original = seeder.read("Some Movie.mp4").unwrap();
    let len = original.len();
    let server = TestServer::start().await;

    let ready = server.prepare(&seeder.magnet()).await;
    assert_eq!(ready["infoHash"], seeder.info_hash());
    assert_eq!(ready["name"], "Some Movie.mp4");
    assert_eq!(ready["videoFile"], "Some Movie.mp4");
    assert_eq!(ready["size"], len as u64);
    assert_eq!(ready["mimeType"], "video/mp4");
    assert_eq!(ready["fileIndex"], 0);
    assert_eq!(
        ready["files"],
        json!([{ "index": 0, "path": "Some Movie.mp4", "size": len, "isVideo": true }])
    );
    let url = ready["streamUrl"].as_str().unwrap().to_string();
    assert_eq!(
        without_token(&url),
        server.url(&format!("/api/stream/{}", seeder.info_hash()))
    );

    // Middle and end first: pieces that are not on disk yet.
    let mid = len / 2;
    for (range, start, end) in [
        (format!("bytes={mid}-{}", mid + 99_999), mid, mid + 100_000),
        (format!("bytes={}-{}", len - 1000, len - 1), len - 1000, len),
        (format!("bytes={}-", len - 70_000), len - 70_000, len),
        ("bytes=-12345".to_string(), len - 12345, len),
        ("bytes=0-0".to_string(), 0, 1),
        ("bytes=0-1048575".to_string(), 0, MIB),
        (format!("bytes={}-{}", len - 10, len + 5000), len - 10, len),
    ] {
        let (status, headers, body) = server.get_range(&url, Some(&range)).await;
        assert_eq!(status, StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            headers["content-range"],
            format!("bytes {start}-{}/{len}", end - 1),
            "{range}"
        );
        assert_eq!(
            headers["content-length"],
            (end - start).to_string(),
            "{range}"
        );
        assert_eq!(headers["accept-ranges"], "bytes");
        assert_eq!(headers["content-type"], "video/mp4");
        assert!(body == original[start..end], "bytes differ for {range}");
    }

    // The whole file, no Range: 200, compared by SHA-256.
    let (status, headers, body) = server.get_range(&url, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-length"], len.to_string());
    assert_eq!(sha256(&body), sha256(&original));

    // HEAD: the headers of a GET, no body.
    let head = server
        .client
        .head(&url)
        .header("Range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(head.headers()["content-length"], "100");
    assert_eq!(
        head.headers()["content-range"],
        format!("bytes 100-199/{len}")
    );
    assert!(head.bytes().await.unwrap().is_empty());
    let head = server.client.head(&url).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()["content-length"], len.to_string());

    // Unsatisfiable: 416 with the length, and a JSON error.
    for range in [
        format!("bytes={len}-"),
        format!("bytes={}-{}", len + 1, len + 10),
        "bytes=-0".into(),
    ] {
        let r = server
            .client
            .get(&url)
            .header("Range", &range)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE, "{range}");
        assert_eq!(r.headers()["content-range"], format!("bytes */{len}"));
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["code"], "RANGE_NOT_SATISFIABLE");
    }
    // A malformed Range is ignored: the whole file.
    let r = server
        .client
        .head(&url)
        .header("Range", "bytes=9-3")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // The hash in any case reaches the same stream, answered in lowercase.
    let upper = server.url(&format!(
        "/api/stream/{}",
        seeder.info_hash().to_uppercase()
    ));
    let (status, _, body) = server.get_range(&upper, Some("bytes=5-9")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(body, &original[5..10]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_concurrent_readers_on_several_streams() {
    bounded(many_concurrent_readers_on_several_streams_scenario()).await;
}

async fn many_concurrent_readers_on_several_streams_scenario() {
    // Capped seeders: readers wait on pieces that are not there yet.
    let opts = SeederOptions {
        piece_length: Some(64 * 1024),
        upload_bps: Some(6 * MIB as u32),
    };
    let a = Seeder::random(&[("a.mkv", 12 * MIB)], opts.clone())
        .await
        .unwrap();
    let b = Seeder::random(&[("b.webm", 8 * MIB)], opts).await.unwrap();
    let server = TestServer::start().await;
    let mut readers = Vec::new();
    for seeder in [&a, &b] {
        let ready = server.prepare(&seeder.magnet()).await;
        let url = ready["streamUrl"].as_str().unwrap().to_string();
        let original = std::sync::Arc::new(
            seeder
                .read(if seeder.info_hash() == a.info_hash() {
                    "a.mkv"
                } else {
                    "b.webm"
                })
                .unwrap(),
        );
        // More readers than librqbit's default 8 blocking permits, all at once.
        for i in 0..10usize {
            let (client, url, original) = (server.client.clone(), url.clone(), original.clone());
            readers.push(tokio::spawn(async move {
                let start = (original.len() / 10) * i + 777 * i;
                let end = (start + 300_000).min(original.len());
                let r = client
                    .get(&url)
                    .header("Range", format!("bytes={start}-{}", end - 1))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
                let body = r.bytes().await.unwrap();
                assert!(
                    body[..] == original[start..end],
                    "reader {i} got wrong bytes"
                );
            }));
        }
    }
    for r in readers {
        r.await.unwrap();
    }
    let (_, health) = server.get_json("/api/health").await;
    assert_eq!(health["activeStreams"], 2);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn multi_file_torrent_by_file_index() {
    bounded(multi_file_torrent_by_file_index_scenario()).await;
}

async fn multi_file_torrent_by_file_index_scenario() {
    let seeder = Seeder::random(
        &[
            ("Show/S01E01.mkv", 3 * MIB),
            ("Show/S01E02.mkv", 5 * MIB),
            ("Show/notes.txt", 1000),
        ],
        SeederOptions {
            piece_length: Some(32 * 1024),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let server = TestServer::start().await;
    let hash = seeder.info_hash().to_string();
    let ready = server.prepare(&seeder.magnet()).await;
    let files = ready["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    // The largest video plays by default.
    let default = ready["fileIndex"].as_u64().unwrap() as usize;
    assert_eq!(
        files[default]["path"].as_str().unwrap().rsplit('/').next(),
        Some("S01E02.mkv")
    );
    assert_eq!(ready["videoFile"], "S01E02.mkv");
    assert_eq!(ready["mimeType"], "video/x-matroska");

    for file in files {
        let index = file["index"].as_u64().unwrap();
        let rel = file["path"]
            .as_str()
            .unwrap()
            .trim_start_matches("swarm-test/")
            .to_string();
        let original = seeder.read(&rel).unwrap();
        let (status, body) = server
            .post_stream(json!({ "magnet": seeder.magnet(), "fileIndex": index }))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["infoHash"], hash);
        assert_eq!(body["fileIndex"], index);
        let url = without_token(body["streamUrl"].as_str().unwrap());
        if index as usize == default {
            assert!(url.ends_with(&format!("/api/stream/{hash}")), "{url}");
        } else {
            assert!(
                url.ends_with(&format!("/api/stream/{hash}/{index}")),
                "{url}"
            );
        }
        let by_index = server.url(&format!("/api/stream/{hash}/{index}"));
        let (status, _, body) = server.get_range(&by_index, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(sha256(&body), sha256(&original), "file {index}");
    }
    let (status, body) = server
        .post_stream(json!({ "magnet": seeder.magnet(), "fileIndex": 3 }))
        .await;
    assert_error(status, &body, 400, "INVALID_REQUEST");
    let (status, _, _) = server
        .get_range(&server.url(&format!("/api/stream/{hash}/7")), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, health) = server.get_json("/api/health").await;
    assert_eq!(health["activeStreams"], 1);
    server.stop().await;
}
