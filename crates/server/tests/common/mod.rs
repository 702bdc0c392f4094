//! A real server over loopback, fed by a real local swarm.
#![allow(dead_code, unused_imports)]

use std::sync::Arc;
use std::time::Duration;

use cinemahalal_engine::{Engine, EngineConfig};
use cinemahalal_server::base_url::BaseUrlPolicy;
use cinemahalal_server::config::{LogFormat, init_logging};
use cinemahalal_server::search::SearchSetup;
use cinemahalal_server::{Running, Settings};
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub use cinemahalal_testkit::{MetadataPeer, Seeder, SeederOptions, SilentPeer};

/// Every test scenario runs under this limit, so a hang fails instead of stalling CI.
pub const TEST_LIMIT: Duration = Duration::from_secs(120);

/// Runs a test's scenario under [`TEST_LIMIT`]. Scenarios are `async fn`s of their own
/// rather than blocks inside this call, so that rustfmt formats them.
pub async fn bounded(scenario: impl Future<Output = ()>) {
    if tokio::time::timeout(TEST_LIMIT, scenario).await.is_err() {
        panic!("the test did not finish within {TEST_LIMIT:?}");
    }
}

/// What a test server takes besides the engine's settings.
#[derive(Default)]
pub struct Options {
    pub search: SearchSetup,
    pub base_url: BaseUrlPolicy,
    pub security: cinemahalal_server::security::SecuritySettings,
    pub ui_dir: Option<std::path::PathBuf>,
    pub media: cinemahalal_server::media::MediaSettings,
}

pub struct TestServer {
    pub base: String,
    pub client: reqwest::Client,
    pub engine: Arc<Engine>,
    pub data_dir: tempfile::TempDir,
    running: Running,
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(|_| {}).await
    }

    /// A server with DHT and multicast off, listening on 127.0.0.1, config adjusted by `f`.
    pub async fn start_with(f: impl FnOnce(&mut EngineConfig)) -> TestServer {
        TestServer::start_full(f, Options::default()).await
    }

    pub async fn start_full(f: impl FnOnce(&mut EngineConfig), options: Options) -> TestServer {
        init_logging(LogFormat::Human, "warn");
        let data_dir = tempfile::Builder::new()
            .prefix("cinemahalal-test")
            .tempdir()
            .unwrap();
        let mut settings = Settings::loopback(data_dir.path());
        settings.engine.metadata_timeout = Duration::from_secs(20);
        settings.engine.no_seeds_timeout = Duration::from_secs(10);
        // How full the machine's disk is must not evict a test's streams.
        settings.engine.cache_min_free_bytes = 0;
        f(&mut settings.engine);
        settings.search = options.search;
        settings.base_url = options.base_url;
        settings.security = options.security;
        settings.ui_dir = options.ui_dir;
        settings.media = options.media;
        let running = cinemahalal_server::start(settings).await.unwrap();
        TestServer {
            base: running.base_url(),
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
            engine: running.engine().clone(),
            data_dir,
            running,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post_stream(&self, body: Value) -> (StatusCode, Value) {
        self.send_json(reqwest::Method::POST, "/api/stream", &body)
            .await
    }

    /// Sends `body` as JSON to `path` with `method`: the status and the answer's JSON.
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
    ) -> (StatusCode, Value) {
        let r = self
            .client
            .request(method, self.url(path))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap())
    }

    /// POSTs a magnet and asserts STREAM_READY.
    pub async fn prepare(&self, magnet: &str) -> Value {
        self.prepare_via(&self.base, magnet).await
    }

    /// POSTs a magnet to `base` (this server, or a proxy in front of it) and asserts
    /// STREAM_READY.
    pub async fn prepare_via(&self, base: &str, magnet: &str) -> Value {
        let r = self
            .client
            .post(format!("{base}/api/stream"))
            .json(&serde_json::json!({ "magnet": magnet }))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "STREAM_READY", "{body}");
        body
    }

    pub async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        let r = self.client.get(self.url(path)).send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap())
    }

    /// GET with an optional Range header; status, headers and the whole body.
    pub async fn get_range(
        &self,
        url: &str,
        range: Option<&str>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        let mut req = self.client.get(url);
        if let Some(r) = range {
            req = req.header("Range", r);
        }
        let r = req.send().await.unwrap();
        let (status, headers) = (r.status(), r.headers().clone());
        (status, headers, r.bytes().await.unwrap().to_vec())
    }

    pub async fn stop(self) {
        self.running.shutdown().await;
    }
}

pub fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// A `streamUrl` without its stream token, which it must carry (32 hex digits).
pub fn without_token(stream_url: &str) -> &str {
    let (url, token) = stream_url
        .split_once("?token=")
        .unwrap_or_else(|| panic!("{stream_url} carries no stream token"));
    assert!(
        token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()),
        "{stream_url}"
    );
    url
}

pub fn assert_error(status: StatusCode, body: &Value, want_status: u16, code: &str) {
    assert_eq!(status.as_u16(), want_status, "{body}");
    assert_eq!(body["status"], "ERROR", "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

/// Polls `f` every 50 ms until it returns `Some`, for at most `limit`.
pub async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    limit: Duration,
    mut f: impl FnMut() -> F,
) -> T {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not reached within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
