//! Hostile input over real HTTP: every case gets a clear 4xx (or the answer the spec
//! gives it), and the server goes on serving another stream byte-exact afterwards.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const MOVIE: &str = "movie.mp4";
const MOVIE_LEN: usize = 100_000;

/// A server with one stream ready: after each hostile case, [`Fixture::still_serves`]
/// checks that stream still plays byte-exact and the server is healthy.
struct Fixture {
    server: TestServer,
    seeder: Seeder,
    stream_url: String,
}

impl Fixture {
    async fn start() -> Fixture {
        let seeder = Seeder::random(&[(MOVIE, MOVIE_LEN)], Default::default())
            .await
            .unwrap();
        let server = TestServer::start().await;
        let ready = server.prepare(&seeder.magnet()).await;
        let stream_url = ready["streamUrl"].as_str().unwrap().to_string();
        Fixture {
            server,
            seeder,
            stream_url,
        }
    }

    async fn still_serves(&self, case: &str) {
        let (status, _, body) = self
            .server
            .get_range(&self.stream_url, Some("bytes=1000-1999"))
            .await;
        assert_eq!(status, StatusCode::PARTIAL_CONTENT, "after {case}");
        assert_eq!(
            body,
            self.seeder.read(MOVIE).unwrap()[1000..2000],
            "after {case}"
        );
        let (status, health) = self.server.get_json("/api/health").await;
        assert_eq!(status, StatusCode::OK, "after {case}");
        assert_eq!(health["status"], "OK", "after {case}");
    }

    /// POSTs a raw body to `path` as JSON; the status and the answer's JSON.
    async fn post_raw(&self, path: &str, body: impl Into<reqwest::Body>) -> (StatusCode, Value) {
        let r = self
            .server
            .client
            .post(self.server.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        let json = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{status}: not JSON ({e}): {text:.200}"));
        (status, json)
    }
}

fn assert_message(body: &Value, part: &str) {
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains(part), "{part:?} not in {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_magnets_are_refused_or_bounded() {
    bounded(hostile_magnets_are_refused_or_bounded_scenario()).await;
}

async fn hostile_magnets_are_refused_or_bounded_scenario() {
    let f = Fixture::start().await;
    let hash = f.seeder.info_hash().to_string();
    let peer = format!("x.pe={}", f.seeder.addr());

    // Refused: 400 INVALID_REQUEST, with what is wrong in the message.
    let refused = [
        (
            "missing xt",
            format!("magnet:?dn=movie&{peer}"),
            "no xt=urn:btih:",
        ),
        (
            "hash too short",
            format!("magnet:?xt=urn:btih:{}&{peer}", &hash[..39]),
            "invalid magnet link",
        ),
        (
            "hash too long",
            format!("magnet:?xt=urn:btih:{hash}0&{peer}"),
            "invalid magnet link",
        ),
        (
            "non-hex hash",
            format!("magnet:?xt=urn:btih:{}zz&{peer}", &hash[..38]),
            "invalid magnet link",
        ),
        (
            "base32 with a digit outside its alphabet",
            format!("magnet:?xt=urn:btih:{}&{peer}", "A1".repeat(16)),
            "invalid magnet link",
        ),
        (
            "a dn over the 64 KiB link limit",
            format!(
                "magnet:?xt=urn:btih:{hash}&dn={}&{peer}",
                "a".repeat(70_000)
            ),
            "longer than 64 KiB",
        ),
        (
            "thousands of tr over the link limit",
            format!(
                "magnet:?xt=urn:btih:{hash}&{peer}{}",
                "&tr=http%3A%2F%2F127.0.0.1%3A1%2Fannounce".repeat(3000)
            ),
            "longer than 64 KiB",
        ),
        (
            "two different hashes",
            format!(
                "magnet:?xt=urn:btih:{hash}&xt=urn:btih:{}&{peer}",
                "ab".repeat(20)
            ),
            "two different",
        ),
        (
            "not a magnet",
            format!("https://example.org/?xt=urn:btih:{hash}"),
            "magnet:?",
        ),
    ];
    for (case, magnet, why) in refused {
        let (status, body) = f.server.post_stream(json!({ "magnet": magnet })).await;
        assert_error(status, &body, 400, "INVALID_REQUEST");
        assert_message(&body, why);
        f.still_serves(case).await;
    }

    // Accepted, as the magnet crate documents: base32 hashes in either case, a long name
    // cut, trackers past 50 dropped, `so` ignored (the default file plays).
    let base32 = data_encoding::BASE32_NOPAD
        .encode(&data_encoding::HEXLOWER.decode(hash.as_bytes()).unwrap());
    let accepted = [
        (
            "base32 upper case",
            format!("magnet:?xt=urn:btih:{base32}&{peer}"),
        ),
        (
            "base32 lower case",
            format!("magnet:?xt=urn:btih:{}&{peer}", base32.to_lowercase()),
        ),
        (
            "hex upper case",
            format!("magnet:?xt=urn:btih:{}&{peer}", hash.to_uppercase()),
        ),
        (
            "a 20 KiB dn",
            format!(
                "magnet:?xt=urn:btih:{hash}&dn={}&{peer}",
                "n".repeat(20_000)
            ),
        ),
        (
            "thousands of tr within the link limit",
            format!(
                "magnet:?xt=urn:btih:{hash}&{peer}{}",
                "&tr=udp%3A%2F%2F127.0.0.1%3A1".repeat(2000)
            ),
        ),
        (
            "so over the whole u64 range",
            format!("magnet:?xt=urn:btih:{hash}&so=0-18446744073709551615&{peer}"),
        ),
        (
            "so reversed",
            format!("magnet:?xt=urn:btih:{hash}&so=5-1&{peer}"),
        ),
        (
            "so past u64",
            format!("magnet:?xt=urn:btih:{hash}&so=99999999999999999999999&{peer}"),
        ),
    ];
    for (case, magnet) in accepted {
        let (status, body) = f.server.post_stream(json!({ "magnet": magnet })).await;
        assert_eq!(status, StatusCode::OK, "{case}: {body}");
        assert_eq!(body["infoHash"], hash, "{case}");
        assert_eq!(body["fileIndex"], 0, "{case}");
        assert_eq!(body["streamUrl"], f.stream_url, "{case}");
        f.still_serves(case).await;
    }
    let (_, health) = f.server.get_json("/api/health").await;
    assert_eq!(health["activeStreams"], 1);
    f.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_json_and_indexes_are_refused() {
    bounded(hostile_json_and_indexes_are_refused_scenario()).await;
}

async fn hostile_json_and_indexes_are_refused_scenario() {
    let f = Fixture::start().await;
    let hash = f.seeder.info_hash().to_string();
    // Nesting: the request types hold no nested value, so serde refuses at the first
    // bracket where a string or number belongs, before any recursion.
    let deep_array = "[".repeat(100_000);
    let deep_object = format!(
        "{{\"magnet\": {}\"x\"{}}}",
        "[".repeat(200),
        "]".repeat(200)
    );
    let deep_object_unclosed = "{\"a\":".repeat(100_000);
    let cases: Vec<(&str, String, &str)> = vec![
        ("not JSON", "magnet:?xt=urn:btih:".into(), "bad JSON body"),
        ("truncated", "{\"magnet\": \"mag".into(), "bad JSON body"),
        ("NUL bytes", "\0\0\0\0".into(), "bad JSON body"),
        ("a string", "\"magnet\"".into(), "bad JSON body"),
        ("null", "null".into(), "bad JSON body"),
        (
            "magnet a number",
            r#"{"magnet": 1}"#.into(),
            "bad JSON body",
        ),
        (
            "magnet a list",
            r#"{"magnet": ["magnet:?"]}"#.into(),
            "bad JSON body",
        ),
        (
            "fileIndex a string",
            format!(r#"{{"infoHash": "{hash}", "fileIndex": "0"}}"#),
            "bad JSON body",
        ),
        (
            "fileIndex a fraction",
            format!(r#"{{"infoHash": "{hash}", "fileIndex": 0.5}}"#),
            "bad JSON body",
        ),
        (
            "fileIndex past u64",
            format!(r#"{{"infoHash": "{hash}", "fileIndex": 18446744073709551616}}"#),
            "bad JSON body",
        ),
        (
            "an unknown field (the spec's request types take only their own)",
            format!(r#"{{"infoHash": "{hash}", "magnetUri": "x"}}"#),
            "unknown field",
        ),
        (
            "a field twice",
            format!(r#"{{"infoHash": "{hash}", "infoHash": "{hash}"}}"#),
            "duplicate field",
        ),
        ("100k nested arrays", deep_array, "bad JSON body"),
        ("nesting inside a field", deep_object, "bad JSON body"),
        ("100k nested objects", deep_object_unclosed, "bad JSON body"),
        (
            "fileIndex out of range",
            format!(r#"{{"infoHash": "{hash}", "fileIndex": 1}}"#),
            "fileIndex 1 is out of range",
        ),
        (
            "fileIndex u64::MAX",
            format!(r#"{{"infoHash": "{hash}", "fileIndex": 18446744073709551615}}"#),
            "fileIndex 18446744073709551615 is out of range",
        ),
        (
            "truncated after a non-ASCII character",
            "{\"magnet\": \"\u{fffd}".into(),
            "bad JSON body",
        ),
    ];
    for (case, body, why) in cases {
        let (status, answer) = f.post_raw("/api/stream", body).await;
        assert_error(status, &answer, 400, "INVALID_REQUEST");
        assert_message(&answer, why);
        f.still_serves(case).await;
    }
    let (status, answer) = f
        .post_raw("/api/stream", b"{\"magnet\": \"\xff\xfe\"}".to_vec())
        .await;
    assert_error(status, &answer, 400, "INVALID_REQUEST");

    // Over the body limit: 413 in the JSON error shape, for the stream request (16 MiB)
    // and the other JSON endpoints (axum's 2 MiB).
    let huge = format!(r#"{{"torrent": "{}"}}"#, "A".repeat(17 << 20));
    let (status, answer) = f.post_raw("/api/stream", huge).await;
    assert_error(status, &answer, 413, "PAYLOAD_TOO_LARGE");
    f.still_serves("a 17 MiB stream request").await;
    let big = format!(
        r#"{{"name": "x", "kind": "torznab", "url": "http://127.0.0.1:1/{}"}}"#,
        "a".repeat(3 << 20)
    );
    let (status, answer) = f.post_raw("/api/providers/test", big.clone()).await;
    assert_error(status, &answer, 413, "PAYLOAD_TOO_LARGE");
    f.still_serves("a 3 MiB provider test").await;
    // The unread rest of the body ends the connection, and the answer says so: a client
    // that reused it would see its next request fail.
    let r = f
        .server
        .client
        .post(f.server.url("/api/providers/test"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        r.headers().get("connection").map(|v| v.as_bytes()),
        Some(&b"close"[..])
    );
    f.still_serves("a 3 MiB provider test, again").await;
    // Just under the limit is read, and refused for what it says.
    let under = format!(r#"{{"torrent": "{}"}}"#, "A".repeat(12 << 20));
    let (status, answer) = f.post_raw("/api/stream", under).await;
    assert_error(status, &answer, 400, "INVALID_REQUEST");
    assert_message(&answer, "larger than 8 MiB");

    // File indexes in paths and queries.
    let paths = [
        (format!("/api/stream/{hash}/1"), 400, "INVALID_REQUEST"),
        (format!("/api/stream/{hash}/99999"), 400, "INVALID_REQUEST"),
        (
            format!("/api/stream/{hash}/18446744073709551616"),
            400,
            "INVALID_REQUEST",
        ),
        (format!("/api/stream/{hash}/-1"), 400, "INVALID_REQUEST"),
        (
            format!("/api/stream/{hash}/status?fileIndex=7"),
            400,
            "INVALID_REQUEST",
        ),
        (
            format!("/api/stream/{hash}/status?fileIndex=-1"),
            400,
            "INVALID_REQUEST",
        ),
        (
            format!("/api/stream/{}/0", "A1".repeat(16)),
            400,
            "INVALID_REQUEST",
        ),
    ];
    for (path, want, code) in paths {
        let (status, answer) = f.server.get_json(&path).await;
        assert_error(status, &answer, want, code);
        f.still_serves(&path).await;
    }
    f.server.stop().await;
}

/// A bencoded byte string.
fn bstr(b: &[u8]) -> Vec<u8> {
    let mut v = format!("{}:", b.len()).into_bytes();
    v.extend_from_slice(b);
    v
}

/// An info dictionary with the given files (`path` components, length), pieces of
/// `piece_length` and `hashes` piece hashes.
fn info_dict(files: &[(&[&str], u64)], piece_length: u64, hashes: usize) -> Vec<u8> {
    let mut v = b"d5:filesl".to_vec();
    for (path, len) in files {
        v.extend(format!("d6:lengthi{len}e4:pathl").bytes());
        for c in *path {
            v.extend(bstr(c.as_bytes()));
        }
        v.extend(b"ee");
    }
    v.extend(b"e4:name");
    v.extend(bstr(b"hostile"));
    v.extend(format!("12:piece lengthi{piece_length}e6:pieces").bytes());
    v.extend(bstr(&vec![0x5a; 20 * hashes]));
    v.push(b'e');
    v
}

fn torrent_file(info: &[u8]) -> String {
    let mut v = b"d4:info".to_vec();
    v.extend_from_slice(info);
    v.push(b'e');
    data_encoding::BASE64.encode(&v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_metadata_is_refused_before_librqbit_uses_it() {
    bounded(hostile_metadata_is_refused_before_librqbit_uses_it_scenario()).await;
}

async fn hostile_metadata_is_refused_before_librqbit_uses_it_scenario() {
    let f = Fixture::start().await;
    let outside = tempfile::tempdir().unwrap();
    let absolute = format!("{}/escaped.mp4", outside.path().display());
    let downloads = f.server.data_dir.path().join("downloads");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "piece length 0",
            info_dict(&[(&["a.mp4"], 100_000)], 0, 1),
            "piece length is 0",
        ),
        (
            "too few piece hashes",
            info_dict(&[(&["a.mp4"], 100_000)], 16384, 6),
            "6 piece hashes for 7 pieces",
        ),
        (
            "too many piece hashes",
            info_dict(&[(&["a.mp4"], 100_000)], 16384, 8),
            "8 piece hashes for 7 pieces",
        ),
        (
            "a .. path",
            info_dict(&[(&["..", "..", "..", "escaped.mp4"], 100)], 16384, 1),
            "\"..\" component",
        ),
        (
            "an absolute path",
            info_dict(&[(&[absolute.as_str()], 100)], 16384, 1),
            "path separator",
        ),
        (
            "an absolute path in components",
            info_dict(&[(&["/", "tmp", "escaped.mp4"], 100)], 16384, 1),
            "path separator",
        ),
        (
            "an empty component",
            info_dict(&[(&["a", "", "b.mp4"], 100)], 16384, 1),
            "empty component",
        ),
    ];
    for (case, info, why) in &cases {
        let (status, body) = f
            .server
            .post_stream(json!({ "torrent": torrent_file(info) }))
            .await;
        assert_error(status, &body, 400, "INVALID_REQUEST");
        assert_message(&body, "invalid .torrent file");
        assert_message(&body, why);
        f.still_serves(case).await;
    }
    // Too many files.
    let names: Vec<String> = (0..100_001).map(|i| format!("{i}.mp4")).collect();
    let paths: Vec<[&str; 1]> = names.iter().map(|n| [n.as_str()]).collect();
    let files: Vec<(&[&str], u64)> = paths.iter().map(|p| (&p[..], 1)).collect();
    let (status, body) = f
        .server
        .post_stream(json!({ "torrent": torrent_file(&info_dict(&files, 1 << 20, 1)) }))
        .await;
    assert_error(status, &body, 400, "INVALID_REQUEST");
    assert_message(&body, "more than the 100000 accepted");
    f.still_serves("100,001 files").await;

    // The same metadata from a peer, for a magnet whose info hash is its SHA-1: refused
    // as well (piece length 0 by librqbit patch 5, the rest by the engine's check).
    for (case, info, why) in &cases {
        let peer = MetadataPeer::start(info.clone()).await.unwrap();
        let (status, body) = f
            .server
            .post_stream(json!({ "magnet": peer.magnet() }))
            .await;
        assert_error(status, &body, 400, "INVALID_REQUEST");
        assert_message(&body, "invalid torrent metadata from peers");
        if !why.contains("component") && !why.contains("separator") {
            assert_message(&body, why);
        }
        let (status, _) = f
            .server
            .get_json(&format!("/api/stream/{}/status", peer.info_hash()))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{case}: nothing left behind");
        f.still_serves(case).await;
    }

    // Nothing was written outside the data dir, and nothing for the refused torrents in it.
    assert!(!outside.path().join("escaped.mp4").exists());
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    for dir in [
        f.server
            .data_dir
            .path()
            .parent()
            .unwrap()
            .join("escaped.mp4"),
        downloads.join("escaped.mp4"),
    ] {
        assert!(!dir.exists(), "{}", dir.display());
    }
    let in_downloads: Vec<_> = std::fs::read_dir(&downloads)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(in_downloads, [f.seeder.info_hash().to_string()]);
    let (_, health) = f.server.get_json("/api/health").await;
    assert_eq!(health["activeStreams"], 1);
    f.server.stop().await;
}

/// A `Range` header, the status it gets and the bytes `start..end` it gets (none: 416).
type RangeCase = (String, u16, Option<(u64, u64)>);

/// The `Range` cases of Go's `net/http` `ServeFileRangeTests`, and RFC 9110 §14's, on a
/// file of `len` bytes: the header, then the status and the bytes (`start..end`) to get.
/// Where Go answers several ranges with `multipart/byteranges`, this server sends the
/// whole file (RFC 9110 §14.2 lets a server ignore `Range`); where Go answers 416 for a
/// malformed header, this server ignores it (RFC 9110 §14.2: an invalid `Range` is
/// ignored).
fn range_cases(len: u64) -> Vec<RangeCase> {
    let whole = Some((0, len));
    let l = len;
    vec![
        (String::new(), 200, whole),
        ("bytes=0-4".into(), 206, Some((0, 5))),
        ("bytes=2-".into(), 206, Some((2, l))),
        ("bytes=-5".into(), 206, Some((l - 5, l))),
        ("bytes=3-7".into(), 206, Some((3, 8))),
        ("bytes=0-0".into(), 206, Some((0, 1))),
        (format!("bytes={}-{}", l - 1, l - 1), 206, Some((l - 1, l))),
        (format!("bytes=0-{}", l - 1), 206, whole),
        (format!("bytes=0-{l}"), 206, whole),
        (format!("bytes=0-{}", l + 1), 206, whole),
        ("bytes=5-18446744073709551615".into(), 206, Some((5, l))),
        (format!("bytes={}-{}", l - 2, l + 1), 206, Some((l - 2, l))),
        (format!("bytes={}-", l - 2), 206, Some((l - 2, l))),
        (format!("bytes=-{l}"), 206, whole),
        (format!("bytes=-{}", l + 1), 206, whole),
        ("bytes=-18446744073709551615".into(), 206, whole),
        ("Bytes = 3-7".into(), 206, Some((3, 8))),
        ("bytes= 3 - 7 ".into(), 206, Some((3, 8))),
        // Unsatisfiable: the first byte is past the end.
        (format!("bytes={l}-"), 416, None),
        (format!("bytes={l}-{}", l + 1), 416, None),
        (format!("bytes={}-{}", l + 1, l + 1), 416, None),
        (format!("bytes={}-", l + 100), 416, None),
        ("bytes=18446744073709551615-".into(), 416, None),
        ("bytes=-0".into(), 416, None),
        // Several ranges: the whole file.
        ("bytes=0-0,-2".into(), 200, whole),
        ("bytes=0-1,5-8".into(), 200, whole),
        ("bytes=0-1,5-".into(), 200, whole),
        ("bytes=0-,1-,2-,3-,4-".into(), 200, whole),
        (format!("bytes=0-1,{l}-"), 200, whole),
        // Malformed: ignored.
        ("bytes=".into(), 200, whole),
        ("bytes=-".into(), 200, whole),
        ("bytes=7-3".into(), 200, whole),
        ("bytes=--6".into(), 200, whole),
        ("bytes=1--6".into(), 200, whole),
        ("bytes=-6-".into(), 200, whole),
        ("bytes=a-".into(), 200, whole),
        ("bytes=0x10-".into(), 200, whole),
        ("bytes=+1-2".into(), 200, whole),
        ("bytes=1-2-3".into(), 200, whole),
        ("bytes=18446744073709551616-".into(), 200, whole),
        ("bytes=0-18446744073709551616".into(), 200, whole),
        ("bytes=-18446744073709551616".into(), 200, whole),
        ("bits=0-4".into(), 200, whole),
        ("bytes 0-4".into(), 200, whole),
        ("bytes=\u{663}-4".into(), 200, whole),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_range_case_gets_the_rfc_9110_answer() {
    bounded(every_range_case_gets_the_rfc_9110_answer_scenario()).await;
}

async fn every_range_case_gets_the_rfc_9110_answer_scenario() {
    let f = Fixture::start().await;
    let data = f.seeder.read(MOVIE).unwrap();
    let len = data.len() as u64;
    for (header, want, bytes) in range_cases(len) {
        let case = format!("Range: {header:?}");
        let range = (!header.is_empty()).then_some(header.as_str());
        let (status, headers, body) = f.server.get_range(&f.stream_url, range).await;
        assert_eq!(status.as_u16(), want, "{case}");
        assert_eq!(headers["accept-ranges"], "bytes", "{case}");
        match bytes {
            Some((start, end)) => {
                assert_eq!(body, data[start as usize..end as usize], "{case}");
                assert_eq!(
                    headers["content-length"],
                    (end - start).to_string().as_str(),
                    "{case}"
                );
                if want == 206 {
                    assert_eq!(
                        headers["content-range"],
                        format!("bytes {start}-{}/{len}", end - 1).as_str(),
                        "{case}"
                    );
                } else {
                    assert!(headers.get("content-range").is_none(), "{case}");
                }
            }
            None => {
                let answer: Value = serde_json::from_slice(&body).unwrap();
                assert_error(status, &answer, 416, "RANGE_NOT_SATISFIABLE");
                assert_eq!(
                    headers["content-range"],
                    format!("bytes */{len}").as_str(),
                    "{case}"
                );
            }
        }
        // HEAD answers the same status and length, with no body.
        let mut head = f.server.client.head(&f.stream_url);
        if let Some(r) = range {
            head = head.header("Range", r);
        }
        let r = head.send().await.unwrap();
        assert_eq!(r.status().as_u16(), want, "HEAD {case}");
        f.still_serves(&case).await;
    }
    f.server.stop().await;
}
