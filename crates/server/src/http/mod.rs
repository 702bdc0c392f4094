//! The HTTP transport: axum routes over [`Api`]. Each handler translates its request into
//! one `Api` call and the answer into JSON; media bodies are in [`media`], extractors that
//! turn malformed input into `INVALID_REQUEST` in [`extract`].

mod extract;
mod guard;
mod hls;
mod media;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::{Deserialize, Serialize};

pub use extract::{ApiJson, ApiPath, ApiQuery};

use crate::api::Api;
use crate::base_url::BaseUrlPolicy;
use crate::error::{ApiError, ErrorCode};
use crate::security::{SecurityPolicy, SecuritySettings};
use crate::wire::{ProviderList, ProviderTest, SavePosition, SearchRequest, StreamRequest};

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    api: Arc<Api>,
    /// Where this server listens: the fallback for `streamUrl` when a request has no `Host`.
    local_addr: SocketAddr,
    base_url: BaseUrlPolicy,
    /// The built web UI, served at `/` when set.
    ui_dir: Option<PathBuf>,
    security: Arc<SecurityPolicy>,
}

impl AppState {
    /// A server on `local_addr` with the default policy (loopback, no token); see
    /// [`AppState::with_security`].
    pub fn new(api: Arc<Api>, local_addr: SocketAddr) -> AppState {
        let security = SecurityPolicy::new(
            &SecuritySettings::default(),
            local_addr.ip(),
            local_addr.port(),
            None,
        );
        AppState {
            api,
            local_addr,
            base_url: BaseUrlPolicy::default(),
            ui_dir: None,
            security: Arc::new(security),
        }
    }

    pub fn with_security(self, security: SecurityPolicy) -> AppState {
        AppState {
            security: Arc::new(security),
            ..self
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
        .route("/history", get(history).delete(clear_history))
        .route(
            "/history/{hash}/{file}",
            delete(forget_position).put(save_position),
        )
        .route("/stream/{hash}/{file}/probe", get(hls::probe))
        .route("/stream/{hash}/{file}/hls/index.m3u8", get(hls::playlist))
        .route("/stream/{hash}/{file}/hls/{segment}", get(hls::segment))
        .route(
            "/stream/{hash}/{file}/subtitles/{track}",
            get(hls::subtitles),
        )
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
    secured(router, state)
}

/// The layers every route sits behind: the security guard outermost (after tracing),
/// then the panic catcher inside it, so that even a panic's answer is hardened.
fn secured(router: Router<AppState>, state: AppState) -> Router {
    router
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            guard::panic_response,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::guard,
        ))
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

async fn history(State(s): State<AppState>) -> Response {
    Json(s.api.history()).into_response()
}

async fn save_position(
    State(s): State<AppState>,
    ApiPath((hash, file)): ApiPath<(String, usize)>,
    ApiJson(save): ApiJson<SavePosition>,
) -> Response {
    json(s.api.save_position(&hash, file, save))
}

async fn forget_position(
    State(s): State<AppState>,
    ApiPath((hash, file)): ApiPath<(String, usize)>,
) -> Response {
    json(s.api.forget_position(&hash, file))
}

async fn clear_history(State(s): State<AppState>) -> Response {
    json(s.api.clear_history())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use cinemahalal_engine::{Engine, EngineConfig};
    use tower::ServiceExt;

    async fn boom() -> &'static str {
        panic!("a bug")
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_500_in_the_error_shape_and_the_server_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::start(EngineConfig::loopback_only(dir.path()))
            .await
            .unwrap();
        let local: SocketAddr = "127.0.0.1:3001".parse().unwrap();
        let state = AppState::new(Arc::new(Api::new(engine.clone())), local);
        let routes = Router::new()
            .route("/api/boom", get(boom))
            .route("/api/health", get(health));
        let app = secured(routes, state);
        let request = |path: &str| {
            Request::get(path)
                .header("host", "127.0.0.1:3001")
                .body(Body::empty())
                .unwrap()
        };
        let response = app.clone().oneshot(request("/api/boom")).await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["code"], "INTERNAL_ERROR", "{body}");
        assert_eq!(body["status"], "ERROR", "{body}");
        let response = app.oneshot(request("/api/health")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        engine.shutdown().await;
    }
}
