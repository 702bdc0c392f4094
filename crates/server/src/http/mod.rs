//! The HTTP transport: axum routes over [`Api`]. Each handler translates its request into
//! one `Api` call and the answer into JSON; media bodies are in [`media`], extractors that
//! turn malformed input into `INVALID_REQUEST` in [`extract`].

mod extract;
mod media;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

pub use extract::{ApiJson, ApiPath, ApiQuery};

use crate::api::Api;
use crate::base_url::BaseUrlPolicy;
use crate::error::{ApiError, ErrorCode};
use crate::wire::{ProviderList, ProviderTest, SearchRequest, StreamRequest};

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    api: Arc<Api>,
    /// Where this server listens: the fallback for `streamUrl` when a request has no `Host`.
    local_addr: SocketAddr,
    base_url: BaseUrlPolicy,
    /// The built web UI, served at `/` when set.
    ui_dir: Option<PathBuf>,
}

impl AppState {
    pub fn new(api: Arc<Api>, local_addr: SocketAddr) -> AppState {
        AppState {
            api,
            local_addr,
            base_url: BaseUrlPolicy::default(),
            ui_dir: None,
        }
    }

    pub fn with_ui_dir(self, ui_dir: Option<PathBuf>) -> AppState {
        AppState { ui_dir, ..self }
    }

    pub fn with_base_url(self, base_url: BaseUrlPolicy) -> AppState {
        AppState { base_url, ..self }
    }

    pub fn api(&self) -> &Arc<Api> {
        &self.api
    }

    pub fn ui_dir(&self) -> Option<&std::path::Path> {
        self.ui_dir.as_deref()
    }

    /// Where this client reaches the server (see [`BaseUrlPolicy`]).
    fn base_url(&self, client: &ConnectInfo<SocketAddr>, headers: &HeaderMap) -> String {
        self.base_url
            .base_url(Some(client.0.ip()), headers, self.local_addr)
    }
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/health", get(health))
        .route("/search", get(search))
        .route("/providers", get(list_providers).put(save_providers))
        .route("/providers/test", post(test_provider))
        .route(
            "/stream",
            post(prepare_stream).layer(DefaultBodyLimit::max(16 << 20)),
        )
        .route("/streams", get(list_streams))
        .route("/cache", get(cache_info).delete(clear_cache))
        .route(
            "/stream/{hash}",
            get(media::default_file).delete(stop_stream),
        )
        .route("/stream/{hash}/status", get(stream_status))
        .route("/stream/{hash}/{file}", get(media::file))
        .fallback(|| async { ApiError::new(ErrorCode::NotFound, "no such API path") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                ErrorCode::MethodNotAllowed,
                "this path does not take that method",
            )
        });
    let router = Router::new().nest("/api", api);
    let router = match &state.ui_dir {
        Some(dir) => router.fallback_service(
            tower_http::services::ServeDir::new(dir)
                .fallback(tower_http::services::ServeFile::new(dir.join("index.html"))),
        ),
        None => router,
    };
    router
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

fn json<T: Serialize>(result: Result<T, ApiError>) -> Response {
    match result {
        Ok(body) => Json(body).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn health(State(s): State<AppState>) -> Response {
    Json(s.api.health()).into_response()
}

async fn search(State(s): State<AppState>, ApiQuery(request): ApiQuery<SearchRequest>) -> Response {
    json(s.api.search(request).await)
}

async fn list_providers(State(s): State<AppState>) -> Response {
    Json(s.api.list_providers()).into_response()
}

async fn save_providers(
    State(s): State<AppState>,
    ApiJson(list): ApiJson<ProviderList>,
) -> Response {
    json(s.api.save_providers(list))
}

async fn test_provider(
    State(s): State<AppState>,
    ApiJson(test): ApiJson<ProviderTest>,
) -> Response {
    json(s.api.test_provider(test).await)
}

async fn prepare_stream(
    State(s): State<AppState>,
    client: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<StreamRequest>,
) -> Response {
    let base = s.base_url(&client, &headers);
    json(s.api.prepare_stream(request, &base).await)
}

async fn list_streams(
    State(s): State<AppState>,
    client: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    Json(s.api.list_streams(&s.base_url(&client, &headers))).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileQuery {
    file_index: Option<usize>,
}

async fn stream_status(
    State(s): State<AppState>,
    ApiPath(hash): ApiPath<String>,
    ApiQuery(query): ApiQuery<FileQuery>,
) -> Response {
    json(s.api.stream_status(&hash, query.file_index))
}

async fn stop_stream(State(s): State<AppState>, ApiPath(hash): ApiPath<String>) -> Response {
    json(s.api.stop_stream(&hash).await)
}

async fn cache_info(State(s): State<AppState>) -> Response {
    Json(s.api.cache_info().await).into_response()
}

async fn clear_cache(State(s): State<AppState>) -> Response {
    Json(s.api.clear_cache().await).into_response()
}
