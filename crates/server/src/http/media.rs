//! Media: one file of a stream, whole or a byte range, read as pieces arrive.

use std::io::SeekFrom;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use super::{ApiPath, AppState};
use crate::error::{ApiError, ErrorCode};
use crate::range::RangeRequest;

/// Bytes sent per chunk of a media body.
const CHUNK: usize = 64 * 1024;

/// `GET /api/stream/{hash}`: the stream's default file.
pub(super) async fn default_file(
    State(s): State<AppState>,
    ApiPath(hash): ApiPath<String>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    serve(s, &hash, None, method, headers)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// `GET /api/stream/{hash}/{file}`: one file by index.
pub(super) async fn file(
    State(s): State<AppState>,
    ApiPath((hash, index)): ApiPath<(String, usize)>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    serve(s, &hash, Some(index), method, headers)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn serve(
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
        RangeRequest::Unsatisfiable => return Ok(unsatisfiable(len)),
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

/// 416 with the file's length, so a player can ask again within it.
fn unsatisfiable(len: u64) -> Response {
    let mut response = ApiError::new(
        ErrorCode::RangeNotSatisfiable,
        format!("the requested range is outside the file's {len} bytes"),
    )
    .into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::try_from(format!("bytes */{len}")) {
        headers.insert(header::CONTENT_RANGE, value);
    }
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    response
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
