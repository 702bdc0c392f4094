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
            .redirect(redirect_policy())
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

/// Most redirects followed for one request.
const MAX_REDIRECTS: usize = 5;

/// Follows at most [`MAX_REDIRECTS`] redirects, each checked by [`redirect_allowed`]
/// against the URL the owner configured, so that a provider cannot send the server to
/// an address the owner did not point it at.
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let Some(first) = attempt.previous().first().cloned() else {
            return attempt.follow();
        };
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
        }
        match redirect_allowed(&first, attempt.url()) {
            Ok(()) => attempt.follow(),
            Err(why) => {
                let why = format!("redirect to {} refused: {why}", redact(attempt.url()));
                attempt.error(why)
            }
        }
    })
}

/// How near the machine an address is; a redirect may never go nearer than the URL the
/// owner configured (a public indexer cannot send the server to its loopback or LAN).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Reach {
    Loopback,
    LocalNetwork,
    Internet,
}

fn reach(url: &Url) -> Reach {
    use std::net::IpAddr;
    let ip = match url.host() {
        Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            return if name == "localhost" || name.ends_with(".localhost") {
                Reach::Loopback
            } else if name.ends_with(".local") || name.ends_with(".lan") || !name.contains('.') {
                Reach::LocalNetwork
            } else {
                Reach::Internet
            };
        }
        None => return Reach::Loopback,
    };
    let ip = ip.to_canonical();
    match ip {
        _ if ip.is_loopback() || ip.is_unspecified() => Reach::Loopback,
        IpAddr::V4(v4) if v4.is_private() || v4.is_link_local() || v4.is_broadcast() => {
            Reach::LocalNetwork
        }
        IpAddr::V4(v4) if v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64 => {
            Reach::LocalNetwork
        }
        IpAddr::V6(v6) if (v6.segments()[0] & 0xfe00) == 0xfc00 => Reach::LocalNetwork,
        IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80 => Reach::LocalNetwork,
        _ => Reach::Internet,
    }
}

/// Whether a provider configured at `configured` may redirect to `next`: http or https
/// only, never from https down to http, and never nearer the machine than `configured`.
pub(crate) fn redirect_allowed(configured: &Url, next: &Url) -> Result<(), String> {
    if !matches!(next.scheme(), "http" | "https") {
        return Err(format!("{} is not http or https", next.scheme()));
    }
    if configured.scheme() == "https" && next.scheme() == "http" {
        return Err("it leaves https for http".into());
    }
    if reach(next) < reach(configured) {
        return Err("it points nearer this machine than the provider's address".into());
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn a_public_provider_cannot_redirect_into_the_machine_or_the_lan() {
        let public = url("https://indexer.example.org/api?t=search");
        for bad in [
            "http://127.0.0.1:3001/api/providers",
            "https://127.0.0.1/",
            "https://localhost:9117/",
            "https://app.localhost/",
            "https://[::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://0.0.0.0/",
            "https://192.168.1.1/admin",
            "https://10.0.0.5/",
            "https://172.16.3.4/",
            "https://169.254.169.254/latest/meta-data/",
            "https://[fd00::1]/",
            "https://[fe80::1]/",
            "https://nas.local/",
            "https://router/",
            "http://indexer.example.org/downgraded",
            "file:///etc/passwd",
            "ftp://indexer.example.org/",
        ] {
            assert!(
                redirect_allowed(&public, &url(bad)).is_err(),
                "{bad} allowed"
            );
        }
        for ok in [
            "https://cdn.example.net/feed",
            "https://indexer.example.org/v2",
        ] {
            assert_eq!(redirect_allowed(&public, &url(ok)), Ok(()), "{ok}");
        }
    }

    #[test]
    fn a_local_jackett_may_redirect_as_it_likes_within_reason() {
        let jackett = url("http://localhost:9117/api/v2.0/indexers/all/results/torznab");
        for ok in [
            "http://127.0.0.1:9117/x",
            "http://[::1]:9117/x",
            "http://192.168.1.2/x",
            "https://indexer.example.org/x",
        ] {
            assert_eq!(redirect_allowed(&jackett, &url(ok)), Ok(()), "{ok}");
        }
        let lan = url("http://192.168.1.2:9696/");
        assert!(redirect_allowed(&lan, &url("http://127.0.0.1:3001/")).is_err());
        assert_eq!(redirect_allowed(&lan, &url("http://10.1.1.1/")), Ok(()));
    }
}
