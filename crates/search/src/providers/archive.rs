//! The Internet Archive: public-domain films, each item with its own torrent.
//!
//! 1. `GET <base>/advancedsearch.php?q=...&fl[]=identifier&fl[]=title&fl[]=downloads&fl[]=item_size&sort[]=downloads desc&rows=10&output=json`,
//!    restricted to `mediatype:(movies)`; by title words, or by IMDb id through the item's
//!    `external-identifier:"urn:imdb:tt..."`.
//! 2. For each of the (at most [`MAX_ITEMS`]) items, at once: `GET <base>/metadata/<id>`,
//!    whose `files` list has the item's `<id>_archive.torrent` with its `btih`: the info
//!    hash comes from there, never made up. Items without one are left out.
//!
//! Seeders are unknown on the Archive: every result reports [`ARCHIVE_SEEDERS`] (1),
//! meaning "archive.org seeds it" (its servers seed every item's torrent and serve as its
//! web seed), so that Archive results sort below torrents with known, larger swarms.

use cinemahalal_magnet::{InfoHash, Magnet};
use futures::future::join_all;
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::{join, parse_count};
use crate::http::{Http, redact};
use crate::{SearchQuery, SearchResult, quality};

/// Items looked at per search; each costs one metadata request.
pub const MAX_ITEMS: usize = 10;
/// The seeders every Archive result reports: archive.org itself.
pub const ARCHIVE_SEEDERS: u32 = 1;
/// The Archive's own trackers, put in every magnet link.
pub const TRACKERS: [&str; 2] = [
    "http://bt1.archive.org:6969/announce",
    "http://bt2.archive.org:6969/announce",
];

pub(crate) struct Archive {
    name: String,
    base: Url,
}

#[derive(Deserialize)]
struct AdvancedSearch {
    response: Docs,
}

#[derive(Deserialize)]
struct Docs {
    docs: Vec<Value>,
}

/// One search hit, read leniently: the Archive gives some fields as a string or a list.
struct Item {
    identifier: String,
    title: Option<String>,
    size: Option<u64>,
}

impl Archive {
    pub(crate) fn new(name: String, base: Url) -> Archive {
        Archive { name, base }
    }

    pub(crate) async fn search(
        &self,
        http: &Http,
        query: &SearchQuery,
    ) -> Result<Vec<SearchResult>, String> {
        let q = match query {
            SearchQuery::Text(text) => {
                let words = title_words(text);
                if words.is_empty() {
                    return Ok(Vec::new());
                }
                format!("title:({}) AND mediatype:(movies)", words.join(" AND "))
            }
            SearchQuery::Imdb(id) => {
                format!("external-identifier:\"urn:imdb:{id}\" AND mediatype:(movies)")
            }
        };
        let mut url = join(&self.base, "advancedsearch.php")?;
        url.query_pairs_mut()
            .append_pair("q", &q)
            .append_pair("fl[]", "identifier")
            .append_pair("fl[]", "title")
            .append_pair("fl[]", "downloads")
            .append_pair("fl[]", "item_size")
            .append_pair("sort[]", "downloads desc")
            .append_pair("rows", &MAX_ITEMS.to_string())
            .append_pair("page", "1")
            .append_pair("output", "json");
        let answer: AdvancedSearch = http.get_json(&url).await?;
        let items: Vec<Item> = answer
            .response
            .docs
            .iter()
            .filter_map(item)
            .take(MAX_ITEMS)
            .collect();
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let fetched = join_all(items.iter().map(|item| self.torrent_of(http, item))).await;
        let mut results = Vec::new();
        let mut errors = Vec::new();
        for (item, outcome) in items.iter().zip(fetched) {
            match outcome {
                Ok(Some(result)) => results.push(result),
                Ok(None) => {
                    tracing::debug!(item = %item.identifier, "Archive item without a torrent")
                }
                Err(reason) => {
                    tracing::debug!(item = %item.identifier, %reason, "Archive metadata failed");
                    errors.push(reason);
                }
            }
        }
        if results.is_empty() && !errors.is_empty() {
            return Err(format!(
                "could not read the metadata of any of {} item(s): {}",
                items.len(),
                errors[0]
            ));
        }
        Ok(results)
    }

    /// The item's own torrent from its metadata, or `None` when it has none.
    async fn torrent_of(&self, http: &Http, item: &Item) -> Result<Option<SearchResult>, String> {
        let url = join(&self.base, &format!("metadata/{}", item.identifier))?;
        let metadata: Value = http.get_json(&url).await?;
        let torrent_name = format!("{}_archive.torrent", item.identifier);
        let files = metadata
            .get("files")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let btih = files
            .iter()
            .filter(|f| f.get("name").and_then(Value::as_str) == Some(torrent_name.as_str()))
            .find_map(|f| f.get("btih").and_then(Value::as_str));
        let Some(raw) = btih else { return Ok(None) };
        let Ok(info_hash) = raw.trim().parse::<InfoHash>() else {
            return Err(format!(
                "item {} has a malformed btih in {}",
                item.identifier,
                redact(&url)
            ));
        };
        let title = item
            .title
            .clone()
            .or_else(|| {
                metadata
                    .get("metadata")
                    .and_then(|m| m.get("title"))
                    .and_then(first_string)
            })
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| item.identifier.clone());
        let size = item
            .size
            .or_else(|| metadata.get("item_size").and_then(number));
        Ok(Some(SearchResult {
            magnet: Magnet::new(info_hash)
                .with_display_name(&title)
                .with_trackers(TRACKERS)
                .to_string(),
            quality: quality::parse(&title),
            name: title,
            info_hash: info_hash.to_string(),
            size,
            seeders: ARCHIVE_SEEDERS,
            leechers: 0,
            provider: self.name.clone(),
            providers: vec![self.name.clone()],
            file_index: None,
        }))
    }
}

fn item(doc: &Value) -> Option<Item> {
    let identifier = doc.get("identifier").and_then(first_string)?;
    if !valid_identifier(&identifier) {
        tracing::debug!(%identifier, "skipping an Archive identifier with unexpected characters");
        return None;
    }
    Some(Item {
        identifier,
        title: doc.get("title").and_then(first_string),
        size: doc.get("item_size").and_then(number).filter(|s| *s > 0),
    })
}

/// Archive identifiers are letters, digits, `.`, `-` and `_`; anything else would change
/// the metadata URL's path.
fn valid_identifier(id: &str) -> bool {
    id.len() <= 200
        && id.starts_with(|c: char| c.is_ascii_alphanumeric())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// A string, or the first string of a list.
fn first_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Array(list) => list.iter().find_map(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

/// A number given as a number or a string.
fn number(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().and_then(|f| parse_count(&f.to_string()))),
        Value::String(s) => parse_count(s),
        _ => None,
    }
}

/// The query's words for a Lucene `title:(...)` clause: letters and digits only (so no
/// user text is read as query syntax), lowercased (so `and`/`or` stay words, not
/// operators); apostrophes dropped (`Charlotte's` → `charlottes`).
fn title_words(text: &str) -> Vec<String> {
    let cleaned: String = text
        .chars()
        .filter(|c| !matches!(c, '\'' | '’'))
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    cleaned
        .to_lowercase()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_words_are_plain() {
        assert_eq!(
            title_words("Night of the Living-Dead (1968)"),
            ["night", "of", "the", "living", "dead", "1968"]
        );
        assert_eq!(
            title_words("Charlotte's Web AND title:x*"),
            ["charlottes", "web", "and", "title", "x"]
        );
        assert!(title_words("\"*:()").is_empty());
    }

    #[test]
    fn identifiers() {
        assert!(valid_identifier("night_of_the_living_dead"));
        assert!(valid_identifier("Plan9FromOuterSpace.1959"));
        assert!(!valid_identifier("../etc"));
        assert!(!valid_identifier("a/b"));
        assert!(!valid_identifier(""));
    }
}
