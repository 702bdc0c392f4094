//! What is made from a file for players that cannot play it as it is: its probe, its
//! HLS playlist and segments, its subtitles as WebVTT. Each handler is one `Api` call.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::{ApiPath, ApiQuery, AppState, json};
use crate::error::{ApiError, ErrorCode};
use crate::wire::HlsQuery;

/// `GET /api/stream/{hash}/{file}/probe`
pub(super) async fn probe(
    State(s): State<AppState>,
    ApiPath((hash, file)): ApiPath<(String, usize)>,
) -> Response {
    json(s.api.probe_media(&hash, file).await)
}

/// `GET /api/stream/{hash}/{file}/hls/index.m3u8`
pub(super) async fn playlist(
    State(s): State<AppState>,
    ApiPath((hash, file)): ApiPath<(String, usize)>,
    ApiQuery(query): ApiQuery<HlsQuery>,
) -> Response {
    match s.api.hls_playlist(&hash, file, query).await {
        Ok(text) => typed(text, "application/vnd.apple.mpegurl"),
        Err(e) => e.into_response(),
    }
}

/// `GET /api/stream/{hash}/{file}/hls/{n}.ts`
pub(super) async fn segment(
    State(s): State<AppState>,
    ApiPath((hash, file, name)): ApiPath<(String, usize, String)>,
    ApiQuery(query): ApiQuery<HlsQuery>,
) -> Response {
    let Some(n) = name
        .strip_suffix(".ts")
        .and_then(|n| n.parse::<usize>().ok())
    else {
        return ApiError::new(
            ErrorCode::SegmentNotFound,
            format!("no segment {name:?}: segments are N.ts"),
        )
        .into_response();
    };
    match s.api.hls_segment(&hash, file, n, query).await {
        Ok(bytes) => typed(bytes, "video/mp2t"),
        Err(e) => e.into_response(),
    }
}

/// `GET /api/stream/{hash}/{file}/subtitles/{id}.vtt`
pub(super) async fn subtitles(
    State(s): State<AppState>,
    ApiPath((hash, file, name)): ApiPath<(String, usize, String)>,
) -> Response {
    let Some(id) = name.strip_suffix(".vtt") else {
        return ApiError::new(
            ErrorCode::TrackNotFound,
            format!("no subtitle track {name:?}: tracks are ID.vtt"),
        )
        .into_response();
    };
    match s.api.subtitle_vtt(&hash, file, id).await {
        Ok(vtt) => typed(vtt.to_string(), "text/vtt; charset=utf-8"),
        Err(e) => e.into_response(),
    }
}

fn typed(body: impl Into<axum::body::Body>, content_type: &'static str) -> Response {
    let mut response = body.into().into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(super::guard::MEDIA_CSP),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
