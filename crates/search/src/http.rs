//! GET requests to providers, bounded in size, with errors fit to show to users: a URL
//! is shown without its query string, so an API key never reaches a reason or a log.

use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use url::Url;

/// Largest upstream body read, 4 MiB. A provider whose answer is larger fails.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The HTTP client shared by all providers of one [`crate::Search`].
#[derive(Clone)]
pub(crate) struct Http {
    client: Result<reqwest::Client, String>,
}

impl Http {
    pub(crate) fn new() -> Http {
        let client = reqwest::Client::builder()
            .user_agent(concat!("CinemaHalal/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|e| {
                format!(
                    "could not start the HTTP client: {}",
                    error_chain(&e.without_url())
                )
            });
        if let Err(reason) = &client {
            tracing::error!(%reason, "search providers are unusable");
        }
        Http { client }
    }

    /// GETs `url` and reads at most [`MAX_BODY_BYTES`] of its body, whatever the status.
    pub(crate) async fn get(
        &self,
        url: &Url,
        accept: &str,
    ) -> Result<(StatusCode, Vec<u8>), String> {
        let client = self.client.as_ref().map_err(Clone::clone)?;
        let shown = redact(url);
        tracing::debug!(url = %shown, "search request");
        let mut response = client
            .get(url.clone())
            .header(reqwest::header::ACCEPT, accept)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "request to {shown} failed: {}",
                    error_chain(&e.without_url())
                )
            })?;
        let status = response.status();
        let too_large = || {
            format!(
                "the answer from {shown} is larger than {} MiB",
                MAX_BODY_BYTES >> 20
            )
        };
        if response
            .content_length()
            .is_some_and(|len| len > MAX_BODY_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| {
            format!(
                "reading the answer from {shown} failed: {}",
                error_chain(&e.without_url())
            )
        })? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, body))
    }

    /// GETs `url` and fails on any status other than 2xx.
    pub(crate) async fn get_ok(&self, url: &Url, accept: &str) -> Result<Vec<u8>, String> {
        let (status, body) = self.get(url, accept).await?;
        if !status.is_success() {
            return Err(status_error(status, url));
        }
        Ok(body)
    }

    /// GETs `url` and decodes its 2xx JSON body.
    pub(crate) async fn get_json<T: DeserializeOwned>(&self, url: &Url) -> Result<T, String> {
        let body = self.get_ok(url, "application/json").await?;
        serde_json::from_slice(&body)
            .map_err(|e| format!("malformed JSON from {}: {e}", redact(url)))
    }
}

/// "HTTP 500 Internal Server Error from http://host/path".
pub(crate) fn status_error(status: StatusCode, url: &Url) -> String {
    format!("HTTP {status} from {}", redact(url))
}

/// The URL without query, fragment or credentials: where API keys travel.
pub(crate) fn redact(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

/// An error and its causes, "a: b: c", without repeating a cause already in the message.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
