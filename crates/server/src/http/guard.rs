//! The layer every request passes first: it applies [`crate::security`]'s rules (Host,
//! access token, origin of control requests, stream tokens of cross-site media) and
//! puts the hardening headers on every answer, refusals included.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::api::parse_info_hash;
use crate::error::{ApiError, ErrorCode};
use crate::security::{self, HostRefusal, RequestKind};

/// The web UI's Content-Security-Policy: its own scripts only, nothing framed, no
/// plugins; media from this server (and `blob:` for a file the user drops in).
pub const UI_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data: https:; media-src 'self' blob:; connect-src 'self'; font-src 'self' data:; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Media bytes are data, never a document: a file that a browser opens directly cannot
/// run script or reach anything.
pub const MEDIA_CSP: &str = "default-src 'none'; sandbox";

pub(super) async fn guard(State(s): State<AppState>, request: Request, next: Next) -> Response {
    let kind = RequestKind::of(request.method(), request.uri().path());
    let readable = kind == RequestKind::Media && readable_cross_origin(&s, &request);
    let mut response = match refusal(&s, &request, kind) {
        None => next.run(request).await,
        Some(refusal) => refusal,
    };
    harden(response.headers_mut(), kind);
    if readable {
        response.headers_mut().insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
    response
}

/// The answer that refuses `request`, if the policy refuses it.
fn refusal(s: &AppState, request: &Request, kind: RequestKind) -> Option<Response> {
    let headers = request.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    match s.security.check_host(host) {
        Ok(()) => {}
        Err(HostRefusal::Missing) => {
            return Some(
                ApiError::new(ErrorCode::InvalidRequest, "the request has no Host").into_response(),
            );
        }
        Err(HostRefusal::NotAllowed(host)) => {
            return Some(ApiError::new(
                ErrorCode::HostNotAllowed,
                format!(
                    "this server does not answer for the host {host:?}; add it with --allowed-host, \
                     or set PUBLIC_URL"
                ),
            )
            .into_response());
        }
    }
    if !s.security.has_token(headers) {
        let mut refusal = ApiError::new(
            ErrorCode::Unauthorized,
            "this server needs its access token (Authorization: Bearer, or as the password)",
        )
        .into_response();
        refusal.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"CinemaHalal\", charset=\"UTF-8\""),
        );
        return Some(refusal);
    }
    match kind {
        RequestKind::Control => {
            let own = own_origins(s, request);
            if let Err(why) = security::control_allowed(headers, &own) {
                tracing::info!(path = %request.uri().path(), "refused: {why}");
                return Some(ApiError::new(ErrorCode::OriginNotAllowed, why).into_response());
            }
            // Bodies: `ApiJson` takes only `Content-Type: application/json`, so a
            // simple cross-site POST (text/plain, a form) never reaches a handler.
        }
        RequestKind::Media if security::is_cross_site(headers) => {
            let hash = request.uri().path().split('/').nth(3).unwrap_or("");
            if let Ok(info_hash) = parse_info_hash(hash)
                && !s.api.stream_keys().check(&info_hash, request.uri().query())
            {
                // The same answer as for a stream that does not exist: a page of another
                // site cannot tell what the user watches.
                return Some(
                    ApiError::new(
                        ErrorCode::StreamNotFound,
                        format!("no stream with info hash {hash}"),
                    )
                    .into_response(),
                );
            }
        }
        RequestKind::Media | RequestKind::ReadOnly | RequestKind::Ui => {}
    }
    None
}

/// Whether a page of another origin (the desktop window; hls.js fetches what `<video>`
/// only plays) may read this answer: what is made from a file (probe, playlist,
/// segments, WebVTT), and only with the stream's token, its capability.
fn readable_cross_origin(s: &AppState, request: &Request) -> bool {
    let path = request.uri().path();
    let mut parts = path.split('/').skip(3);
    let (Some(hash), Some(_file), Some(_made)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    parse_info_hash(hash).is_ok_and(|h| s.api.stream_keys().check(&h, request.uri().query()))
}

/// The origins this server's own pages have, as a browser writes them in `Origin`: the
/// one `Host` names, and the one a client reaches through a proxy or the public URL.
fn own_origins(s: &AppState, request: &Request) -> Vec<String> {
    let headers = request.headers();
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let mut origins = Vec::with_capacity(2);
    for base in [
        headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(|h| format!("http://{h}")),
        Some(s.base_url.base_url(client, headers, s.local_addr)),
    ]
    .into_iter()
    .flatten()
    {
        if let Ok(url) = url::Url::parse(&base) {
            origins.push(url.origin().ascii_serialization());
        }
    }
    origins
}

fn harden(headers: &mut HeaderMap, kind: RequestKind) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    match kind {
        RequestKind::Ui => {
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(UI_CSP),
            );
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        }
        // Players and the desktop window (another origin) load media cross-origin.
        RequestKind::Media => {}
        RequestKind::ReadOnly | RequestKind::Control => {
            headers.insert(
                HeaderName::from_static("cross-origin-resource-policy"),
                HeaderValue::from_static("same-origin"),
            );
        }
    }
}

/// A handler that panicked answers `500 INTERNAL_ERROR` in the JSON error shape; the
/// server and every other request go on.
pub(super) fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_string());
    tracing::error!("a request handler panicked: {what}");
    ApiError::new(
        ErrorCode::InternalError,
        "the server failed while answering; the request was dropped",
    )
    .into_response()
}
