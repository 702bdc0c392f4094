//! The search upstreams on 127.0.0.1: one axum server speaking every protocol under its
//! own prefix, with realistic answers, plus broken variants (500, malformed, slow, huge).
//! Every request is recorded, so a test can check what a provider asked for.
//!
//! | prefix | speaks |
//! | --- | --- |
//! | `/ia` | Internet Archive advancedsearch + metadata ([`archive`]) |
//! | `/ia-broken` | advancedsearch answering truncated JSON |
//! | `/ia-huge` | advancedsearch answering 5 MiB with a Content-Length |
//! | `/jackett/api/v2.0/indexers/all/results/torznab` | Jackett's aggregate Torznab feed ([`torznab`], needs [`JACKETT_KEY`]) |
//! | `/jackett/api/v2.0/indexers/<id>/results/torznab` | an indexer serving the releases a test gave [`Upstream::add_indexer`] |
//! | `/torznab-500`, `/torznab-bad`, `/torznab-slow` | Torznab failing with 500, truncated XML, after 30 s |
//! | `/torrentio` | a Torrentio-like Stremio add-on ([`stremio`]) |
//! | `/stremio-html` | an add-on answering an HTML page with 200 |
//! | `/stremio-chunked` | an add-on answering 5 MiB, chunked, without a Content-Length |
//! | `/stremio-slow` | an add-on answering after 30 s |
//!
//! The canned answers describe one film, Night of the Living Dead (1968), known to the
//! three protocols under the info hashes below.

pub mod archive;
pub mod stremio;
pub mod torznab;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

pub use torznab::Release;

/// Night of the Living Dead (1968), public domain.
pub const IMDB_ID: &str = "tt0063350";
/// The API key every Torznab endpoint of the fixture wants.
pub const JACKETT_KEY: &str = "jackett-secret-key-0123456789";

/// The Archive item `night_of_the_living_dead`'s own torrent; Jackett (7 seeders) and
/// Torrentio (12 seeders) have it too.
pub const HASH_IA: &str = "6f9e0f6d1c0b7a8e4e5d3c2b1a09f8e7d6c5b4a3";
/// The Archive item `NightOfTheLivingDead1968_201507`.
pub const HASH_IA2: &str = "2b7a1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b";
/// 1080p BluRay: Jackett 120 seeders, Torrentio 98.
pub const HASH_A: &str = "c9e15763f722f23e98a29decdfae341b98d53056";
/// 720p YTS: Jackett only, known through a base32 magnet link.
pub const HASH_B: &str = "08ada5a7a6183aae1e09d831df6748d566095a10";
pub const HASH_B_BASE32: &str = "BCW2LJ5GDA5K4HQJ3AY56Z2I2VTASWQQ";
/// 2160p: Torrentio only, 300 seeders.
pub const HASH_C: &str = "dd8255ecdc7ca55fb0bbf81323d87062db1f6d1c";

/// A running fixture server; it stops with the test's runtime.
pub struct Upstream {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Every request's path and query, in arrival order.
    pub requests: Arc<Mutex<Vec<String>>>,
    indexers: torznab::Indexers,
}

impl Upstream {
    pub async fn start() -> Upstream {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let indexers = torznab::Indexers::default();
        let app = Router::new()
            .merge(archive::routes())
            .merge(torznab::routes(indexers.clone()))
            .merge(stremio::routes())
            .layer(middleware::from_fn({
                let requests = requests.clone();
                move |request: Request, next: Next| {
                    requests.lock().unwrap().push(request.uri().to_string());
                    next.run(request)
                }
            }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.expect("fixture server") });
        Upstream {
            base,
            requests,
            indexers,
        }
    }

    /// `<base><prefix>`: where the broken variants live (`/torznab-500`, …).
    pub fn url(&self, prefix: &str) -> String {
        format!("{}{prefix}", self.base)
    }

    /// The Internet Archive's base URL (what `https://archive.org` is in production).
    pub fn archive_url(&self) -> String {
        self.url("/ia")
    }

    /// Jackett's aggregate Torznab endpoint (without the trailing `/api`).
    pub fn jackett_url(&self) -> String {
        self.url("/jackett/api/v2.0/indexers/all/results/torznab")
    }

    /// The Torrentio-like add-on's manifest URL.
    pub fn torrentio_url(&self) -> String {
        self.url("/torrentio/manifest.json")
    }

    /// Adds (or replaces) a Jackett indexer `id` that answers `releases` to every search
    /// with the right key; returns its Torznab URL (without the trailing `/api`).
    pub fn add_indexer(&self, id: &str, releases: Vec<Release>) -> String {
        self.indexers
            .lock()
            .unwrap()
            .insert(id.to_owned(), releases);
        self.url(&format!("/jackett/api/v2.0/indexers/{id}/results/torznab"))
    }

    /// The recorded requests whose path or query contains `needle`.
    pub fn requests_matching(&self, needle: &str) -> Vec<String> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.contains(needle))
            .cloned()
            .collect()
    }
}

fn json_response(body: &str) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_owned(),
    )
        .into_response()
}

fn query_pairs(raw: &Option<String>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.as_deref().unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

fn param(pairs: &[(String, String)], key: &str) -> Option<String> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

/// A deliberately slow upstream: far longer than the 1 s timeout tests give providers.
async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(30)).await;
    "{}"
}
