//! The provider protocols. One enum rather than a trait object: the set of protocols is
//! closed (a new one needs code here anyway), and `match` keeps the async code free of
//! boxed futures.

pub(crate) mod archive;
pub(crate) mod stremio;
pub(crate) mod torznab;

use url::Url;

use crate::http::Http;
use crate::{ProviderConfig, ProviderKind, SearchQuery, SearchResult};

/// What a provider made of a query.
pub(crate) enum Outcome {
    Found(Vec<SearchResult>),
    /// The provider cannot answer this kind of query (Stremio add-ons and text): neither
    /// a result nor a failure.
    Skipped(&'static str),
}

/// A provider ready to ask: its protocol's client, built from its [`ProviderConfig`].
/// (Not [`crate::Provider`], which is a provider's settings as the API shows them.)
pub(crate) enum Client {
    Archive(archive::Archive),
    Torznab(torznab::Torznab),
    Stremio(stremio::Stremio),
}

impl Client {
    /// A client from its configuration, or why the configuration is unusable.
    pub(crate) fn from_config(config: &ProviderConfig) -> Result<Client, String> {
        let name = config.name.trim().to_owned();
        let url = if config.kind == ProviderKind::Archive && config.url.trim().is_empty() {
            Url::parse(crate::config::ARCHIVE_URL).map_err(|e| e.to_string())?
        } else {
            parse_url(config.kind, &config.url)?
        };
        Ok(match config.kind {
            ProviderKind::Archive => Client::Archive(archive::Archive::new(name, url)),
            ProviderKind::Torznab => {
                Client::Torznab(torznab::Torznab::new(name, url, config.api_key.clone()))
            }
            ProviderKind::Stremio => Client::Stremio(stremio::Stremio::new(name, url)),
        })
    }

    pub(crate) async fn search(&self, http: &Http, query: &SearchQuery) -> Result<Outcome, String> {
        match self {
            Client::Archive(p) => p.search(http, query).await.map(Outcome::Found),
            Client::Torznab(p) => p.search(http, query).await.map(Outcome::Found),
            Client::Stremio(p) => p.search(http, query).await,
        }
    }
}

/// A provider's URL: absolute http(s) with a host. For Stremio add-ons `stremio://` means
/// `https://`, and a final `/manifest.json` is dropped, leaving the add-on's base URL.
pub(crate) fn parse_url(kind: ProviderKind, raw: &str) -> Result<Url, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("the URL is empty".into());
    }
    let mut text = raw.to_owned();
    if kind == ProviderKind::Stremio {
        if let Some(rest) = strip_prefix_ignore_case(&text, "stremio://") {
            text = format!("https://{rest}");
        }
        let trimmed = text.trim_end_matches('/');
        let trimmed = match trimmed.len().checked_sub("/manifest.json".len()) {
            Some(at)
                if trimmed.is_char_boundary(at)
                    && trimmed[at..].eq_ignore_ascii_case("/manifest.json") =>
            {
                &trimmed[..at]
            }
            _ => trimmed,
        };
        text = trimmed.to_owned();
    }
    let url = Url::parse(&text).map_err(|e| format!("{raw:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{raw:?} is not an http or https URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{raw:?} has no host"));
    }
    Ok(url)
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// `base` + `/` + `path`, keeping any path the base already has (a reverse proxy's prefix).
pub(crate) fn join(base: &Url, path: &str) -> Result<Url, String> {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    let joined = format!(
        "{}/{}",
        url.as_str().trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    Url::parse(&joined).map_err(|e| format!("could not build a URL from {base}: {e}"))
}

/// A number as providers write it: `"123"`, `"1.4e9"`, `123`, negative meaning unknown.
pub(crate) fn parse_count(text: &str) -> Option<u64> {
    let text = text.trim();
    if let Ok(n) = text.parse::<u64>() {
        return Some(n);
    }
    let f = text.parse::<f64>().ok()?;
    (f.is_finite() && f >= 0.0).then(|| f.min(u64::MAX as f64) as u64)
}

/// Saturates a count into the `u32` of seeders and leechers.
pub(crate) fn to_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stremio_urls() {
        let base = |raw| parse_url(ProviderKind::Stremio, raw).map(|u| u.to_string());
        assert_eq!(
            base("https://torrentio.strem.fun/manifest.json").unwrap(),
            "https://torrentio.strem.fun/"
        );
        assert_eq!(
            base("stremio://torrentio.strem.fun/sort=seeders|qualityfilter=480p/manifest.json")
                .unwrap(),
            "https://torrentio.strem.fun/sort=seeders|qualityfilter=480p"
        );
        assert_eq!(
            base("http://127.0.0.1:7000/").unwrap(),
            "http://127.0.0.1:7000/"
        );
        assert!(base("ftp://host/manifest.json").is_err());
        assert!(base("").is_err());
        assert!(base("not a url").is_err());
    }

    #[test]
    fn joins_keep_prefixes() {
        let base = Url::parse("https://example.com/ia/?x=1").unwrap();
        assert_eq!(
            join(&base, "metadata/item").unwrap().as_str(),
            "https://example.com/ia/metadata/item"
        );
    }

    #[test]
    fn counts() {
        assert_eq!(parse_count(" 42 "), Some(42));
        assert_eq!(parse_count("1.5e3"), Some(1500));
        assert_eq!(parse_count("-1"), None);
        assert_eq!(parse_count("NaN"), None);
        assert_eq!(parse_count("abc"), None);
        assert_eq!(to_u32(u64::MAX), u32::MAX);
    }
}
