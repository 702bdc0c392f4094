//! Torznab, as Jackett and Prowlarr speak it.
//!
//! `GET <endpoint>/api?t=search&q=<text>&apikey=...` for text, and
//! `GET <endpoint>/api?t=movie&imdbid=<digits>&apikey=...` for IMDb ids: the Newznab
//! specification Torznab builds on gives `imdbid` without its `tt` (`0063350`), which
//! Radarr sends and which Jackett and Prowlarr accept alike.
//!
//! The answer is an RSS feed; each `<item>` carries `<title>`, `<size>`, `<link>`,
//! `<enclosure url length>` and `<torznab:attr name value>` (`seeders`, `peers` — which
//! counts seeders and leechers together —, `infohash`, `magneturl`, `size`). An item
//! with neither an info hash nor a magnet link is skipped: `.torrent` files are not
//! downloaded here. An `<error code description>` answer is a failure with its reason.

use std::collections::HashMap;

use cinemahalal_magnet::{InfoHash, Magnet};
use quick_xml::events::Event;
use serde::Deserialize;
use url::Url;

use super::{parse_count, to_u32};
use crate::http::{Http, redact, status_error};
use crate::{SearchQuery, SearchResult, quality};

pub(crate) struct Torznab {
    name: String,
    /// Ends in `/api`.
    endpoint: Url,
    api_key: Option<String>,
}

#[derive(Deserialize)]
struct Rss {
    channel: Channel,
}

#[derive(Deserialize)]
struct Channel {
    #[serde(default)]
    item: Vec<Item>,
}

/// Element names are matched without their namespace prefix, so `torznab:attr` and
/// `newznab:attr` both land in `attr`.
#[derive(Deserialize)]
struct Item {
    title: Option<String>,
    guid: Option<String>,
    link: Option<String>,
    size: Option<String>,
    enclosure: Option<Enclosure>,
    #[serde(default)]
    attr: Vec<Attr>,
}

#[derive(Deserialize)]
struct Enclosure {
    #[serde(rename = "@url")]
    url: Option<String>,
    #[serde(rename = "@length")]
    length: Option<String>,
}

#[derive(Deserialize)]
struct Attr {
    #[serde(rename = "@name")]
    name: Option<String>,
    #[serde(rename = "@value")]
    value: Option<String>,
}

impl Torznab {
    pub(crate) fn new(name: String, mut endpoint: Url, api_key: Option<String>) -> Torznab {
        if !endpoint.path().trim_end_matches('/').ends_with("/api") {
            let path = format!("{}/api", endpoint.path().trim_end_matches('/'));
            endpoint.set_path(&path);
        }
        let api_key = api_key
            .map(|k| k.trim().to_owned())
            .filter(|k| !k.is_empty());
        Torznab {
            name,
            endpoint,
            api_key,
        }
    }

    fn url(&self, query: &SearchQuery) -> Url {
        let mut url = self.endpoint.clone();
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !matches!(k.as_ref(), "t" | "q" | "imdbid" | "apikey"))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        {
            let mut pairs = url.query_pairs_mut();
            pairs.clear();
            pairs.extend_pairs(&kept);
            match query {
                SearchQuery::Text(text) => pairs.append_pair("t", "search").append_pair("q", text),
                SearchQuery::Imdb(id) => pairs
                    .append_pair("t", "movie")
                    .append_pair("imdbid", id.digits()),
            };
            if let Some(key) = &self.api_key {
                pairs.append_pair("apikey", key);
            }
        }
        url
    }

    pub(crate) async fn search(
        &self,
        http: &Http,
        query: &SearchQuery,
    ) -> Result<Vec<SearchResult>, String> {
        let url = self.url(query);
        let (status, body) = http
            .get(
                &url,
                "application/rss+xml, application/xml;q=0.9, text/xml;q=0.8",
            )
            .await?;
        let text = String::from_utf8_lossy(&body);
        if let Some(error) = indexer_error(&text) {
            return Err(error);
        }
        if !status.is_success() {
            return Err(status_error(status, &url));
        }
        parse_feed(&text, &self.name)
            .map_err(|e| format!("malformed Torznab XML from {}: {e}", redact(&url)))
    }
}

/// A Torznab `<error code="100" description="Invalid API Key"/>` answer, as a reason.
pub(crate) fn indexer_error(xml: &str) -> Option<String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => {
                if e.local_name().as_ref() != b"error" {
                    return None;
                }
                let mut code = String::new();
                let mut description = String::new();
                for attr in e.attributes().flatten() {
                    let value = attr
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map(|v| v.into_owned())
                        .unwrap_or_default();
                    match attr.key.local_name().as_ref() {
                        b"code" => code = value,
                        b"description" => description = value,
                        _ => {}
                    }
                }
                return Some(format!("the indexer answered error {code}: {description}"));
            }
            Ok(Event::Eof) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// The feed's items as results of `provider`.
pub(crate) fn parse_feed(xml: &str, provider: &str) -> Result<Vec<SearchResult>, String> {
    let rss: Rss = quick_xml::de::from_str(xml).map_err(|e| e.to_string())?;
    Ok(rss
        .channel
        .item
        .into_iter()
        .filter_map(|item| result(item, provider))
        .collect())
}

fn result(item: Item, provider: &str) -> Option<SearchResult> {
    let name = item
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())?
        .to_owned();
    let mut attrs: HashMap<String, String> = HashMap::new();
    for attr in item.attr {
        if let (Some(key), Some(value)) = (attr.name, attr.value) {
            attrs.entry(key.to_ascii_lowercase()).or_insert(value);
        }
    }
    let is_magnet = |s: &&str| {
        s.trim_start()
            .get(..7)
            .is_some_and(|p| p.eq_ignore_ascii_case("magnet:"))
    };
    let given = [
        attrs.get("magneturl").map(String::as_str),
        item.link.as_deref(),
        item.enclosure.as_ref().and_then(|e| e.url.as_deref()),
        item.guid.as_deref(),
    ]
    .into_iter()
    .flatten()
    .find(is_magnet)
    .map(str::trim)
    .and_then(|link| Some((Magnet::parse(link).ok()?.info_hash(), link.to_owned())));
    // A valid magnet link is kept as given; without one, the info hash makes one.
    let (info_hash, magnet) = match given {
        Some(given) => given,
        None => {
            let hash: InfoHash = attrs.get("infohash")?.trim().parse().ok()?;
            (hash, Magnet::new(hash).with_display_name(&name).to_string())
        }
    };
    let count = |key: &str| attrs.get(key).and_then(|v| parse_count(v));
    let seeders = count("seeders").unwrap_or(0);
    let leechers =
        count("leechers").unwrap_or_else(|| count("peers").unwrap_or(0).saturating_sub(seeders));
    let size = [
        item.size.as_deref(),
        attrs.get("size").map(String::as_str),
        item.enclosure.and_then(|e| e.length).as_deref(),
    ]
    .into_iter()
    .flatten()
    .find_map(parse_count)
    .filter(|s| *s > 0);
    Some(SearchResult {
        quality: quality::parse(&name),
        name,
        info_hash: info_hash.to_string(),
        magnet,
        size,
        seeders: to_u32(seeders),
        leechers: to_u32(leechers),
        provider: provider.to_owned(),
        providers: vec![provider.to_owned()],
        file_index: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_gets_api_and_query() {
        let t = Torznab::new(
            "J".into(),
            Url::parse(
                "http://127.0.0.1:9117/api/v2.0/indexers/all/results/torznab/?cat=2000&apikey=old",
            )
            .unwrap(),
            Some("key".into()),
        );
        let url = t.url(&SearchQuery::imdb("TT0063350").unwrap());
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9117/api/v2.0/indexers/all/results/torznab/api?cat=2000&t=movie&imdbid=0063350&apikey=key"
        );
        let t = Torznab::new(
            "P".into(),
            Url::parse("http://localhost:9696/1/api").unwrap(),
            None,
        );
        let url = t.url(&SearchQuery::text("night & day").unwrap());
        assert_eq!(
            url.as_str(),
            "http://localhost:9696/1/api?t=search&q=night+%26+day"
        );
    }

    #[test]
    fn indexer_errors() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?><error code="100" description="Invalid API Key" />"#;
        assert_eq!(
            indexer_error(xml).unwrap(),
            "the indexer answered error 100: Invalid API Key"
        );
        assert_eq!(indexer_error("<rss><channel/></rss>"), None);
        assert_eq!(indexer_error("not xml at all"), None);
    }
}
