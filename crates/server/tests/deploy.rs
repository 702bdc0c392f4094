//! The deployment the README describes: behind a real nginx (Debian's package, run
//! unprivileged on a free loopback port), with the spec's proxy block as it is and with
//! the example in deploy/nginx.conf; trusted-proxy rules; the systemd unit.

mod common;

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use cinemahalal_server::base_url::{BaseUrlPolicy, default_trusted_proxies};
use common::*;
use reqwest::StatusCode;
use serde_json::json;

const MIB: usize = 1 << 20;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// nginx in the foreground, every path inside a temp dir; killed on drop.
struct Nginx {
    port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl Nginx {
    /// Starts nginx with `server_block` (a `server { … }`) inside a minimal http block.
    async fn start(server_block: &str) -> Nginx {
        let dir = tempfile::Builder::new()
            .prefix("cinemahalal-nginx")
            .tempdir()
            .unwrap();
        let d = dir.path().display();
        let conf = format!(
            "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log info;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n{server_block}\n}}\n"
        );
        std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
        let port = server_block
            .split("listen 127.0.0.1:")
            .nth(1)
            .and_then(|r| r.split(';').next())
            .and_then(|p| p.trim().parse().ok())
            .expect("the server block listens on 127.0.0.1:PORT");
        let child = Command::new("nginx")
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .stdin(Stdio::null())
            .spawn()
            .expect("nginx must be installed (Debian package nginx-light; scripts/setup-debian.sh installs it)");
        let nginx = Nginx { port, dir, child };
        eventually(Duration::from_secs(10), || async {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .ok()
                .map(|_| ())
        })
        .await;
        nginx
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }

    fn temp_files(&self) -> usize {
        walk(&self.dir.path().join("proxy"))
    }
}

fn walk(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        walk(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The spec's block, verbatim but for the upstream port.
fn spec_block(nginx_port: u16, upstream_port: u16) -> String {
    format!(
        "server {{\n listen 127.0.0.1:{nginx_port};\n\
         location /api/ {{\n    proxy_pass http://localhost:{upstream_port};\n    proxy_http_version 1.1;\n\
         proxy_set_header Connection '';\n    proxy_buffering off;\n}}\n}}"
    )
}

fn port_of(server: &TestServer) -> u16 {
    server.base.rsplit(':').next().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn behind_nginx_with_the_spec_block() {
    bounded(behind_nginx_with_the_spec_block_scenario()).await;
}

async fn behind_nginx_with_the_spec_block_scenario() {
    let seeder = Seeder::random(
        &[("Proxied.mp4", 8 * MIB)],
        SeederOptions {
            piece_length: Some(64 * 1024),
            upload_bps: Some(2 * MIB as u32),
        },
    )
    .await
    .unwrap();
    let original = seeder.read("Proxied.mp4").unwrap();
    let len = original.len();
    let nginx_port = free_port();
    // The spec's block passes no forwarding header: PUBLIC_URL says where clients are.
    let server = TestServer::start_full(
        |_| {},
        Options {
            base_url: BaseUrlPolicy::new(
                Some(format!("http://127.0.0.1:{nginx_port}")),
                default_trusted_proxies(),
            ),
            ..Default::default()
        },
    )
    .await;
    let nginx = Nginx::start(&spec_block(nginx_port, port_of(&server))).await;

    let ready = server.prepare_via(&nginx.base(), &seeder.magnet()).await;
    let url = ready["streamUrl"].as_str().unwrap().to_string();
    assert_eq!(
        without_token(&url),
        format!("{}/api/stream/{}", nginx.base(), seeder.info_hash())
    );

    // A full read through nginx streams: the first bytes come long before the last
    // piece is downloaded, and nginx writes nothing to its buffer files.
    let mut full = server.client.get(&url).send().await.unwrap();
    assert_eq!(full.status(), StatusCode::OK);
    assert_eq!(full.headers()["content-length"], len.to_string());
    let mut body = full.chunk().await.unwrap().unwrap().to_vec();
    let (_, status) = server
        .get_json(&format!("/api/stream/{}/status", seeder.info_hash()))
        .await;
    assert!(
        status["progress"].as_f64().unwrap() < 0.75,
        "nginx held the body back: {status}"
    );
    while let Some(chunk) = full.chunk().await.unwrap() {
        body.extend_from_slice(&chunk);
    }
    assert!(body == original, "the full body through nginx differs");
    assert_eq!(nginx.temp_files(), 0, "nginx buffered the body to disk");

    // Ranges through the proxy, byte-exact.
    let mid = len / 2;
    for (range, start, end) in [
        ("bytes=0-99999".to_string(), 0, 100_000),
        (format!("bytes={mid}-{}", mid + 65535), mid, mid + 65536),
        ("bytes=-4096".to_string(), len - 4096, len),
    ] {
        let (status, headers, bytes) = server.get_range(&url, Some(&range)).await;
        assert_eq!(status, StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            headers["content-range"],
            format!("bytes {start}-{}/{len}", end - 1)
        );
        assert!(bytes == original[start..end], "{range}");
    }
    let r = server
        .client
        .get(&url)
        .header("Range", format!("bytes={len}-"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(r.headers()["content-range"], format!("bytes */{len}"));
    let head = server
        .client
        .head(&url)
        .header("Range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(head.headers()["content-length"], "10");

    // A client that leaves mid-body through nginx frees its reader upstream.
    let mut leaving = server
        .client
        .get(&url)
        .header("Range", "bytes=1000-")
        .send()
        .await
        .unwrap();
    leaving.chunk().await.unwrap();
    drop(leaving);
    let (status, _) = server.get_json("/api/health").await;
    assert_eq!(status, StatusCode::OK);

    // `localhost` may be ::1 first: the server listens there too, so nginx never
    // logs a refused upstream connection.
    let log = nginx.error_log();
    assert!(!log.contains("Connection refused"), "{log}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn behind_nginx_with_the_example_config() {
    bounded(behind_nginx_with_the_example_config_scenario()).await;
}

async fn behind_nginx_with_the_example_config_scenario() {
    let seeder = Seeder::random(&[("Example.mkv", MIB)], Default::default())
        .await
        .unwrap();
    // No PUBLIC_URL: streamUrl comes from nginx's X-Forwarded-* headers.
    let server = TestServer::start().await;
    let nginx_port = free_port();
    let example = std::fs::read_to_string(repo().join("deploy/nginx.conf")).unwrap();
    assert!(example.contains("proxy_pass http://localhost:3001;"));
    assert!(example.contains("auth_basic_user_file /etc/nginx/cinemahalal.htpasswd;"));
    let passwords = tempfile::tempdir().unwrap();
    let htpasswd = passwords.path().join("htpasswd");
    std::fs::write(&htpasswd, "me:{PLAIN}open sesame\n").unwrap();
    let block = example
        .replace("listen 80;", &format!("listen 127.0.0.1:{nginx_port};"))
        .replace("localhost:3001", &format!("localhost:{}", port_of(&server)))
        .replace(
            "/etc/nginx/cinemahalal.htpasswd",
            htpasswd.to_str().unwrap(),
        );
    let nginx = Nginx::start(&block).await;
    // Without the password nginx lets nothing through, the UI and media included.
    for path in [
        "/api/health",
        "/api/streams",
        "/",
        &format!("/api/stream/{}", seeder.info_hash()),
    ] {
        let r = server
            .client
            .get(format!("{}{path}", nginx.base()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    assert_eq!(server.engine.active_streams(), 0);
    let r = server
        .client
        .post(format!("{}/api/stream", nginx.base()))
        .basic_auth("me", Some("open sesame"))
        .json(&serde_json::json!({ "magnet": seeder.magnet() }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let ready: serde_json::Value = r.json().await.unwrap();
    let url = ready["streamUrl"].as_str().unwrap();
    assert_eq!(
        without_token(url),
        format!("{}/api/stream/{}", nginx.base(), seeder.info_hash())
    );
    let r = server
        .client
        .get(url)
        .basic_auth("me", Some("open sesame"))
        .header("Range", "bytes=-1000")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        r.bytes().await.unwrap().as_ref(),
        &seeder.read("Example.mkv").unwrap()[MIB - 1000..]
    );
    // Errors come through as the server's JSON.
    let r = server
        .client
        .get(format!("{}/api/stream/{}", nginx.base(), "ab".repeat(20)))
        .basic_auth("me", Some("open sesame"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["code"],
        "STREAM_NOT_FOUND"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forged_forwarding_headers_from_untrusted_clients_are_ignored() {
    bounded(forged_forwarding_headers_from_untrusted_clients_are_ignored_scenario()).await;
}

async fn forged_forwarding_headers_from_untrusted_clients_are_ignored_scenario() {
    let seeder = Seeder::random(&[("Forged.mp4", 100_000)], Default::default())
        .await
        .unwrap();
    // Trust a LAN proxy only: this test's client, on loopback, is not it.
    let server = TestServer::start_full(
        |_| {},
        Options {
            base_url: BaseUrlPolicy::new(None, vec!["10.0.0.0/8".parse().unwrap()]),
            ..Default::default()
        },
    )
    .await;
    let r = server
        .client
        .post(server.url("/api/stream"))
        .header("X-Forwarded-Host", "evil.example")
        .header("X-Forwarded-Proto", "https")
        .header("Forwarded", "host=evil.example;proto=https")
        .json(&json!({ "magnet": seeder.magnet() }))
        .send()
        .await
        .unwrap();
    let ready: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        without_token(ready["streamUrl"].as_str().unwrap()),
        server.url(&format!("/api/stream/{}", seeder.info_hash()))
    );
    let r = server
        .client
        .get(server.url("/api/streams"))
        .header("X-Forwarded-Host", "evil.example")
        .send()
        .await
        .unwrap();
    let list: serde_json::Value = r.json().await.unwrap();
    assert!(!list.to_string().contains("evil"), "{list}");
    server.stop().await;
}

fn unit() -> String {
    std::fs::read_to_string(repo().join("deploy/cinemahalal-server.service")).unwrap()
}

#[test]
fn systemd_unit_is_hardened_and_restarts_on_failure() {
    let unit = unit();
    for needed in [
        "DynamicUser=yes",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "CacheDirectory=",
        "Restart=on-failure",
        "ExecStart=/usr/local/bin/cinemahalal-server",
    ] {
        assert!(unit.contains(needed), "the unit lacks {needed}");
    }
}

#[test]
fn systemd_unit_verifies() {
    let version = Command::new("systemd-analyze").arg("--version").output();
    assert!(
        version.is_ok_and(|out| out.status.success()),
        "systemd-analyze must be installed to verify the unit (Debian package systemd; \
         scripts/setup-debian.sh installs it)"
    );
    // verify wants ExecStart to exist: point it at the binary this test built.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cinemahalal-server.service");
    std::fs::write(
        &path,
        unit().replace(
            "/usr/local/bin/cinemahalal-server",
            env!("CARGO_BIN_EXE_cinemahalal-server"),
        ),
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // systemd-analyze exits 0 on some ignored settings: any message is a failure here.
    let problems: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("cinemahalal-server.service"))
        .collect();
    assert!(
        out.status.success() && problems.is_empty(),
        "systemd-analyze verify: {stderr}"
    );
}
