//! The server's security policy over real HTTP (README "Security", ARCHITECTURE.md):
//! the Host allow-list, control requests from the server's own origin only, stream
//! tokens for cross-site media, the access token, and the headers on every answer.

mod common;

use cinemahalal_server::security::SecuritySettings;
use common::*;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MIB: usize = 1 << 20;

async fn json_of(r: reqwest::Response) -> (StatusCode, HeaderMap, Value) {
    let (status, headers) = (r.status(), r.headers().clone());
    (status, headers, r.json().await.unwrap())
}

fn assert_hardened(headers: &HeaderMap) {
    assert_eq!(headers["x-content-type-options"], "nosniff", "{headers:?}");
    assert_eq!(headers["referrer-policy"], "no-referrer", "{headers:?}");
    assert!(
        !headers
            .keys()
            .any(|k| k.as_str().starts_with("access-control-")),
        "a CORS header: {headers:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_foreign_host_is_refused_everywhere() {
    bounded(a_foreign_host_is_refused_everywhere_scenario()).await;
}

async fn a_foreign_host_is_refused_everywhere_scenario() {
    let seeder = Seeder::random(&[("Rebind.mp4", MIB)], Default::default())
        .await
        .unwrap();
    let server = TestServer::start().await;
    let ready = server.prepare(&seeder.magnet()).await;
    let media = ready["streamUrl"].as_str().unwrap();
    let port = server.base.rsplit(':').next().unwrap().to_string();
    // What a page of rebind.attacker.example reaches once its name points at 127.0.0.1.
    for (method, url) in [
        (reqwest::Method::GET, server.url("/api/health")),
        (reqwest::Method::GET, server.url("/api/streams")),
        (reqwest::Method::GET, media.to_string()),
        (
            reqwest::Method::DELETE,
            server.url(&format!("/api/stream/{}", seeder.info_hash())),
        ),
        (reqwest::Method::GET, server.url("/")),
    ] {
        let r = server
            .client
            .request(method.clone(), &url)
            .header("Host", format!("rebind.attacker.example:{port}"))
            .send()
            .await
            .unwrap();
        let (status, headers, body) = json_of(r).await;
        assert_error(status, &body, 421, "HOST_NOT_ALLOWED");
        assert_hardened(&headers);
    }
    // A loopback name on another port is another server's, not ours.
    let r = server
        .client
        .get(server.url("/api/health"))
        .header("Host", "localhost:1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 421);
    // HTTP/1.0 without any Host.
    let mut tcp = tokio::net::TcpStream::connect(server.base.trim_start_matches("http://"))
        .await
        .unwrap();
    tcp.write_all(b"GET /api/health HTTP/1.0\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.0 400"), "{answer}");
    assert!(answer.contains("\"INVALID_REQUEST\""), "{answer}");
    // The stream survived it all, and every allowed name works.
    for host in [format!("localhost:{port}"), format!("[::1]:{port}")] {
        let r = server
            .client
            .get(media)
            .header("Host", host)
            .header("Range", "bytes=0-9")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(
            r.bytes().await.unwrap().as_ref(),
            &seeder.read("Rebind.mp4").unwrap()[..10]
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn control_requests_come_only_from_the_servers_own_pages() {
    bounded(control_requests_come_only_from_the_servers_own_pages_scenario()).await;
}

async fn control_requests_come_only_from_the_servers_own_pages_scenario() {
    let seeder = Seeder::random(&[("Control.mp4", MIB)], Default::default())
        .await
        .unwrap();
    let server = TestServer::start().await;
    let body = json!({ "magnet": seeder.magnet() });
    // A page elsewhere posts to the predictable port: as JSON (its browser would have
    // to preflight), as a form-like simple request, and from an opaque origin.
    // (Content-Type, extra headers, the code expected)
    type Attempt<'a> = (&'a str, Vec<(&'a str, String)>, &'a str);
    let attempts: Vec<Attempt> = vec![
        (
            "application/json",
            vec![("Origin", "http://evil.example".into())],
            "ORIGIN_NOT_ALLOWED",
        ),
        (
            "application/json",
            vec![("Origin", "null".into())],
            "ORIGIN_NOT_ALLOWED",
        ),
        (
            "application/json",
            vec![("Sec-Fetch-Site", "cross-site".into())],
            "ORIGIN_NOT_ALLOWED",
        ),
        (
            "application/json",
            vec![("Origin", server.base.replace("127.0.0.1", "localhost"))],
            "ORIGIN_NOT_ALLOWED",
        ),
        ("text/plain", vec![], "INVALID_REQUEST"),
        (
            "application/x-www-form-urlencoded",
            vec![],
            "INVALID_REQUEST",
        ),
    ];
    for (content_type, headers, code) in attempts {
        let mut request = server
            .client
            .post(server.url("/api/stream"))
            .header("Content-Type", content_type)
            .body(body.to_string());
        for (k, v) in &headers {
            request = request.header(*k, v);
        }
        let (status, answer_headers, answer) = json_of(request.send().await.unwrap()).await;
        let want = if code == "ORIGIN_NOT_ALLOWED" {
            403
        } else {
            400
        };
        assert_error(status, &answer, want, code);
        assert_hardened(&answer_headers);
    }
    let (_, list) = server.get_json("/api/streams").await;
    assert_eq!(
        list["streams"],
        json!([]),
        "a refused request added a stream"
    );
    assert_eq!(server.engine.active_streams(), 0);

    // Search is a simple GET any page could fire: control too.
    let r = server
        .client
        .get(server.url("/api/search?query=x"))
        .header("Sec-Fetch-Site", "cross-site")
        .header("Sec-Fetch-Mode", "no-cors")
        .send()
        .await
        .unwrap();
    let (status, _, answer) = json_of(r).await;
    assert_error(status, &answer, 403, "ORIGIN_NOT_ALLOWED");

    // A preflight gets no CORS grant.
    let r = server
        .client
        .request(reqwest::Method::OPTIONS, server.url("/api/stream"))
        .header("Origin", "http://evil.example")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(!r.status().is_success(), "{}", r.status());
    assert_hardened(r.headers());

    // The server's own page, a same-origin fetch, and a plain client all may.
    let r = server
        .client
        .post(server.url("/api/stream"))
        .header("Origin", &server.base)
        .header("Sec-Fetch-Site", "same-origin")
        .json(&body)
        .send()
        .await
        .unwrap();
    let (status, headers, ready) = json_of(r).await;
    assert_eq!(status, StatusCode::OK, "{ready}");
    assert_eq!(headers["cross-origin-resource-policy"], "same-origin");
    assert_hardened(&headers);
    let r = server
        .client
        .delete(server.url(&format!("/api/stream/{}", seeder.info_hash())))
        .header("Sec-Fetch-Site", "none")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cross_site_media_needs_the_stream_token_and_players_need_none() {
    bounded(cross_site_media_needs_the_stream_token_and_players_need_none_scenario()).await;
}

async fn cross_site_media_needs_the_stream_token_and_players_need_none_scenario() {
    let seeder = Seeder::random(&[("Token.mp4", MIB)], Default::default())
        .await
        .unwrap();
    let original = seeder.read("Token.mp4").unwrap();
    let server = TestServer::start().await;
    let ready = server.prepare(&seeder.magnet()).await;
    let tokened = ready["streamUrl"].as_str().unwrap().to_string();
    let plain = without_token(&tokened).to_string();
    let get = |url: String, site: Option<&'static str>| {
        let mut r = server.client.get(url).header("Range", "bytes=100-199");
        if let Some(site) = site {
            r = r
                .header("Sec-Fetch-Site", site)
                .header("Sec-Fetch-Dest", "video");
        }
        r.send()
    };
    // A page of another site probing what the user watches learns nothing: the answer
    // is the one for a stream that does not exist.
    for site in ["cross-site", "same-site"] {
        for url in [plain.clone(), format!("{plain}?token={}", "0".repeat(32))] {
            let (status, headers, body) = json_of(get(url, Some(site)).await.unwrap()).await;
            assert_error(status, &body, 404, "STREAM_NOT_FOUND");
            assert_hardened(&headers);
        }
    }
    let unknown = format!("{}/api/stream/{}", server.base, "ab".repeat(20));
    let (status, _, body) = json_of(get(unknown, Some("cross-site")).await.unwrap()).await;
    assert_error(status, &body, 404, "STREAM_NOT_FOUND");
    // With the token it plays (the desktop window is such a page); players and the
    // server's own page play the plain spec URL.
    for (url, site) in [
        (tokened.clone(), Some("cross-site")),
        (plain.clone(), None),
        (plain.clone(), Some("same-origin")),
        (plain.clone(), Some("none")),
    ] {
        let r = get(url.clone(), site).await.unwrap();
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT, "{url} {site:?}");
        assert_hardened(r.headers());
        assert_eq!(r.headers()["content-type"], "video/mp4");
        assert_eq!(r.bytes().await.unwrap().as_ref(), &original[100..200]);
    }
    // Another stream's token does not open this one.
    let other = Seeder::random(&[("Other.mp4", MIB)], Default::default())
        .await
        .unwrap();
    let other_ready = server.prepare(&other.magnet()).await;
    let other_token = other_ready["streamUrl"]
        .as_str()
        .unwrap()
        .split_once("?token=")
        .unwrap()
        .1
        .to_string();
    let (status, _, body) = json_of(
        get(format!("{plain}?token={other_token}"), Some("cross-site"))
            .await
            .unwrap(),
    )
    .await;
    assert_error(status, &body, 404, "STREAM_NOT_FOUND");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn files_that_are_not_media_are_downloads_never_pages() {
    bounded(files_that_are_not_media_are_downloads_never_pages_scenario()).await;
}

async fn files_that_are_not_media_are_downloads_never_pages_scenario() {
    let seeder = Seeder::random(
        &[
            ("Pack/Movie.mp4", MIB),
            ("Pack/index.html", 4096),
            ("Pack/cover.svg", 4096),
            ("Pack/Movie.vtt", 4096),
        ],
        Default::default(),
    )
    .await
    .unwrap();
    let server = TestServer::start().await;
    let ready = server.prepare(&seeder.magnet()).await;
    let files = ready["files"].as_array().unwrap().clone();
    let index_of = |name: &str| {
        files
            .iter()
            .find(|f| f["path"].as_str().unwrap_or_default().ends_with(name))
            .unwrap_or_else(|| panic!("no {name} in {files:?}"))["index"]
            .as_u64()
            .unwrap()
    };
    for (name, content_type, disposition) in [
        ("index.html", "application/octet-stream", "attachment"),
        ("cover.svg", "application/octet-stream", "attachment"),
        ("Movie.vtt", "text/vtt", "inline"),
        ("Movie.mp4", "video/mp4", "inline"),
    ] {
        let (status, body) = server
            .post_stream(json!({ "magnet": seeder.magnet(), "fileIndex": index_of(name) }))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let url = body["streamUrl"].as_str().unwrap();
        let (status, headers, bytes) = server.get_range(url, None).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        assert_eq!(headers["content-type"], content_type, "{name}");
        let cd = headers["content-disposition"].to_str().unwrap();
        assert!(cd.starts_with(disposition), "{name}: {cd}");
        assert_eq!(
            headers["content-security-policy"],
            "default-src 'none'; sandbox"
        );
        assert_hardened(&headers);
        assert_eq!(
            bytes,
            seeder.read(&format!("Pack/{name}")).unwrap(),
            "{name}"
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn if_range_is_honoured_against_the_strong_etag() {
    bounded(if_range_is_honoured_against_the_strong_etag_scenario()).await;
}

async fn if_range_is_honoured_against_the_strong_etag_scenario() {
    let seeder = Seeder::random(&[("IfRange.mp4", MIB)], Default::default())
        .await
        .unwrap();
    let original = seeder.read("IfRange.mp4").unwrap();
    let server = TestServer::start().await;
    let url = server.prepare(&seeder.magnet()).await["streamUrl"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, headers, _) = server.get_range(&url, Some("bytes=0-0")).await;
    let etag = headers["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with('"'), "{etag}");
    let with_if_range = |validator: String| {
        server
            .client
            .get(&url)
            .header("Range", "bytes=10-19")
            .header("If-Range", validator)
            .send()
    };
    let r = with_if_range(etag.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.bytes().await.unwrap().as_ref(), &original[10..20]);
    for stale in [
        "\"another\"".to_string(),
        format!("W/{etag}"),
        "Wed, 21 Oct 2015 07:28:00 GMT".to_string(),
    ] {
        let r = with_if_range(stale.clone()).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "If-Range: {stale}");
        assert!(r.headers().get("content-range").is_none());
        assert_eq!(r.bytes().await.unwrap().as_ref(), &original[..], "{stale}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_an_access_token_every_request_needs_it() {
    bounded(with_an_access_token_every_request_needs_it_scenario()).await;
}

async fn with_an_access_token_every_request_needs_it_scenario() {
    const TOKEN: &str = "s3cret-enough-for-a-test";
    let seeder = Seeder::random(&[("Locked.mp4", MIB)], Default::default())
        .await
        .unwrap();
    let ui = tempfile::tempdir().unwrap();
    std::fs::write(
        ui.path().join("index.html"),
        "<!doctype html><title>UI</title>",
    )
    .unwrap();
    let server = TestServer::start_full(
        |_| {},
        Options {
            security: SecuritySettings {
                access_token: Some(TOKEN.into()),
                ..Default::default()
            },
            ui_dir: Some(ui.path().to_path_buf()),
            ..Default::default()
        },
    )
    .await;
    for path in ["/api/health", "/api/streams", "/"] {
        for auth in [
            None,
            Some("Bearer wrong-token-of-some-length"),
            Some("Basic Og=="),
        ] {
            let mut r = server.client.get(server.url(path));
            if let Some(auth) = auth {
                r = r.header("Authorization", auth);
            }
            let (status, headers, body) = json_of(r.send().await.unwrap()).await;
            assert_error(status, &body, 401, "UNAUTHORIZED");
            assert!(
                headers["www-authenticate"]
                    .to_str()
                    .unwrap()
                    .starts_with("Basic "),
                "{headers:?}"
            );
            assert_hardened(&headers);
        }
    }
    let r = server
        .client
        .post(server.url("/api/stream"))
        .json(&json!({ "magnet": seeder.magnet() }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(server.engine.active_streams(), 0);

    // Bearer for programs; Basic's password for browsers and players.
    let r = server
        .client
        .post(server.url("/api/stream"))
        .bearer_auth(TOKEN)
        .json(&json!({ "magnet": seeder.magnet() }))
        .send()
        .await
        .unwrap();
    let (status, _, ready) = json_of(r).await;
    assert_eq!(status, StatusCode::OK, "{ready}");
    let r = server
        .client
        .get(ready["streamUrl"].as_str().unwrap())
        .basic_auth("vlc", Some(TOKEN))
        .header("Range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        r.bytes().await.unwrap().as_ref(),
        &seeder.read("Locked.mp4").unwrap()[..100]
    );
    let r = server
        .client
        .get(server.url("/"))
        .basic_auth("me", Some(TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_hardened(r.headers());
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    for directive in [
        "script-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    server.stop().await;
}
