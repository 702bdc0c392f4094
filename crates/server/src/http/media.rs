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

/// Bytes read and sent per chunk of a media body. Each read of the engine's file stream
/// is a system call handed to a blocking thread and back: at 64 KiB those cost 12 % of the
/// server's CPU on a sequential read (1 GiB, unshaped benchmark, six alternating pairs:
/// 2.64 -> 2.32 CPU-s per GiB, 416 -> 459 MB/s). 1 MiB measured the same as 256 KiB, for
/// four times the memory a slow reader's response can hold.
const CHUNK: usize = 256 * 1024;

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
    let etag = format!("\"{}-{}\"", info.info_hash, info.file_index);
    let range = if if_range_holds(&headers, &etag) {
        RangeRequest::parse(
            headers.get(header::RANGE).and_then(|v| v.to_str().ok()),
            len,
        )
    } else {
        RangeRequest::Full
    };
    let (status, start, end) = match range {
        RangeRequest::Unsatisfiable => return Ok(unsatisfiable(len)),
        RangeRequest::Full => (StatusCode::OK, 0, len),
        RangeRequest::Partial { start, end } => (StatusCode::PARTIAL_CONTENT, start, end + 1),
    };
    let count = end - start;

    let (content_type, disposition) = match playable_type(&info.mime_type) {
        Some(media) => (media, "inline"),
        // Anything else a torrent holds (a page, a script, an image with script in it) is
        // a download, never a document of this server's origin.
        None => ("application/octet-stream", "attachment"),
    };
    let mut response = Response::builder()
        .status(status)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CONTENT_LENGTH, count)
        .header(
            header::CONTENT_DISPOSITION,
            content_disposition(disposition, &info.video_file),
        )
        .header(header::CONTENT_SECURITY_POLICY, super::guard::MEDIA_CSP)
        // The bytes of a torrent never change: the info hash and file index name them.
        .header(header::ETAG, &etag);
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

/// RFC 9110 §13.1.5: a Range applies only while `If-Range`, when sent, is our strong
/// ETag. A date, a weak tag or another tag means the client's copy may differ: the whole
/// file is sent. (Media answers carry no Last-Modified, so no date ever matches.)
fn if_range_holds(headers: &HeaderMap, etag: &str) -> bool {
    match headers.get(header::IF_RANGE) {
        None => true,
        Some(value) => value.to_str().is_ok_and(|v| v.trim() == etag),
    }
}

/// The media types served as themselves: video, audio and WebVTT subtitles. The value
/// is the engine's guess from the file name, normalised; anything else is `None`.
fn playable_type(mime: &str) -> Option<&str> {
    let essence = mime.split(';').next().unwrap_or("").trim();
    let (top, sub) = essence.split_once('/')?;
    let token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    let allowed = match top {
        "video" | "audio" => token(sub),
        "text" => sub == "vtt",
        _ => false,
    };
    allowed.then_some(essence)
}

/// `inline` or `attachment` with the file name, ASCII-safe, with the UTF-8 name per
/// RFC 6266.
fn content_disposition(disposition: &str, name: &str) -> String {
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
    format!("{disposition}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_video_audio_and_vtt_are_served_as_themselves() {
        for ok in [
            "video/mp4",
            "video/x-matroska",
            "audio/mpeg",
            "text/vtt",
            "video/webm; codecs=vp9",
        ] {
            assert!(playable_type(ok).is_some(), "{ok}");
        }
        for bad in [
            "text/html",
            "image/svg+xml",
            "application/javascript",
            "text/plain",
            "application/xhtml+xml",
            "video/",
            "video/mp4\r\nx: y",
            "",
        ] {
            assert_eq!(playable_type(bad), None, "{bad}");
        }
    }

    #[test]
    fn if_range_holds_only_for_the_exact_strong_tag() {
        let etag = "\"abc-0\"";
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::IF_RANGE, HeaderValue::from_str(v).unwrap());
            h
        };
        assert!(if_range_holds(&HeaderMap::new(), etag));
        assert!(if_range_holds(&with(etag), etag));
        for bad in [
            "W/\"abc-0\"",
            "\"abc-1\"",
            "Wed, 21 Oct 2015 07:28:00 GMT",
            "abc-0",
        ] {
            assert!(!if_range_holds(&with(bad), etag), "{bad}");
        }
    }
}
