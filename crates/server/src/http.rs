//! The HTTP transport: axum routes over [`Api`], Range handling for media.

use std::io::SeekFrom;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use crate::api::{Api, ProviderList, ProviderTest, SearchRequest, StreamRequest};
use crate::base_url::BaseUrlPolicy;
use crate::error::{ApiError, ErrorCode};
use crate::range::RangeRequest;

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
}

/// Bytes sent per chunk of a media body.
const CHUNK: usize = 64 * 1024;

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
        .route("/stream/{hash}", get(media_default).delete(stop_stream))
        .route("/stream/{hash}/status", get(stream_status))
        .route("/stream/{hash}/{file}", get(media_file))
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self)).into_response()
    }
}

fn json<T: Serialize>(result: Result<T, ApiError>) -> Response {
    match result {
        Ok(body) => Json(body).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Where this client reaches the server (see [`BaseUrlPolicy`]).
fn base_url(state: &AppState, client: &ConnectInfo<SocketAddr>, headers: &HeaderMap) -> String {
    state
        .base_url
        .base_url(Some(client.0.ip()), headers, state.local_addr)
}

async fn health(State(s): State<AppState>) -> Response {
    Json(s.api.health()).into_response()
}

async fn search(
    State(s): State<AppState>,
    query: Result<Query<SearchRequest>, QueryRejection>,
) -> Response {
    match query {
        Ok(Query(request)) => json(s.api.search(request).await),
        Err(e) => ApiError::new(ErrorCode::InvalidRequest, e.body_text()).into_response(),
    }
}

async fn list_providers(State(s): State<AppState>) -> Response {
    Json(s.api.list_providers()).into_response()
}

async fn save_providers(
    State(s): State<AppState>,
    body: Result<Json<ProviderList>, JsonRejection>,
) -> Response {
    match body {
        Ok(Json(list)) => json(s.api.save_providers(list)),
        Err(e) => bad_json(e),
    }
}

async fn test_provider(
    State(s): State<AppState>,
    body: Result<Json<ProviderTest>, JsonRejection>,
) -> Response {
    match body {
        Ok(Json(test)) => json(s.api.test_provider(test).await),
        Err(e) => bad_json(e),
    }
}

fn bad_json(e: JsonRejection) -> Response {
    ApiError::new(
        ErrorCode::InvalidRequest,
        format!("bad JSON body: {}", e.body_text()),
    )
    .into_response()
}

async fn prepare_stream(
    State(s): State<AppState>,
    client: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<StreamRequest>, JsonRejection>,
) -> Response {
    let request = match body {
        Ok(Json(r)) => r,
        Err(e) => {
            return ApiError::new(
                ErrorCode::InvalidRequest,
                format!("bad JSON body: {}", e.body_text()),
            )
            .into_response();
        }
    };
    let base = base_url(&s, &client, &headers);
    json(s.api.prepare_stream(request, &base).await)
}

async fn list_streams(
    State(s): State<AppState>,
    client: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    Json(s.api.list_streams(&base_url(&s, &client, &headers))).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileQuery {
    file_index: Option<usize>,
}

async fn stream_status(
    State(s): State<AppState>,
    Path(hash): Path<String>,
    query: Result<Query<FileQuery>, QueryRejection>,
) -> Response {
    let file_index = match query {
        Ok(Query(q)) => q.file_index,
        Err(e) => return ApiError::new(ErrorCode::InvalidRequest, e.body_text()).into_response(),
    };
    json(s.api.stream_status(&hash, file_index))
}

async fn stop_stream(State(s): State<AppState>, Path(hash): Path<String>) -> Response {
    json(s.api.stop_stream(&hash).await)
}

async fn media_default(
    State(s): State<AppState>,
    Path(hash): Path<String>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    media(s, &hash, None, method, headers)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn media_file(
    State(s): State<AppState>,
    Path((hash, file)): Path<(String, String)>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let Ok(index) = file.parse::<usize>() else {
        return ApiError::new(
            ErrorCode::InvalidRequest,
            format!("file index must be a number, not {file:?}"),
        )
        .into_response();
    };
    media(s, &hash, Some(index), method, headers)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// One file of a stream, whole or a byte range, read as pieces arrive.
async fn media(
    s: AppState,
    hash: &str,
    file_index: Option<usize>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let info = s.api.stream_info(hash, file_index)?;
    let len = info.size;
    let range = RangeRequest::parse(
        headers.get(header::RANGE).and_then(|v| v.to_str().ok()),
        len,
    );
    let (status, start, end) = match range {
        RangeRequest::Unsatisfiable => {
            let mut response = ApiError::new(
                ErrorCode::RangeNotSatisfiable,
                format!("the requested range is outside the file's {len} bytes"),
            )
            .into_response();
            response.headers_mut().insert(
                header::CONTENT_RANGE,
                header_value(format!("bytes */{len}")),
            );
            response
                .headers_mut()
                .insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
            return Ok(response);
        }
        RangeRequest::Full => (StatusCode::OK, 0, len),
        RangeRequest::Partial { start, end } => (StatusCode::PARTIAL_CONTENT, start, end + 1),
    };
    let count = end - start;

    let mut response = Response::builder()
        .status(status)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CONTENT_TYPE, &info.mime_type)
        .header(header::CONTENT_LENGTH, count)
        .header(
            header::CONTENT_DISPOSITION,
            content_disposition(&info.video_file),
        )
        // The bytes of a torrent never change: the info hash and file index name them.
        .header(
            header::ETAG,
            format!("\"{}-{}\"", info.info_hash, info.file_index),
        );
    if status == StatusCode::PARTIAL_CONTENT {
        response = response.header(
            header::CONTENT_RANGE,
            format!("bytes {start}-{}/{len}", end - 1),
        );
    }
    let body = if method == Method::HEAD || count == 0 {
        Body::empty()
    } else {
        let mut reader = s.api.open_reader(hash, file_index).await?;
        if start > 0 {
            reader
                .seek(SeekFrom::Start(start))
                .await
                .map_err(|e| ApiError::new(ErrorCode::StreamFailed, format!("seeking: {e}")))?;
        }
        Body::from_stream(ReaderStream::with_capacity(reader.take(count), CHUNK))
    };
    response
        .body(body)
        .map_err(|e| ApiError::new(ErrorCode::StreamFailed, e.to_string()))
}

fn header_value(s: String) -> HeaderValue {
    HeaderValue::try_from(s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `inline` with the file name, ASCII-safe, with the UTF-8 name per RFC 6266.
fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("inline; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}
