//! Stremio add-ons' stream resource: `GET <base>/stream/movie/<imdbId>.json` answers
//! `{"streams":[{"infoHash","fileIdx","title","name","sources","behaviorHints"}]}`.
//!
//! Only IMDb-id searches go to add-ons; a text query skips them. Streams without an
//! `infoHash` (plain URLs, YouTube ids) are left out. Add-ons like Torrentio put the
//! release name on the first line of `title` (or `description`) and the swarm on another:
//! `👤 123 💾 1.4 GB ⚙️ ThePirateBay`; seeders and size are read from there when present,
//! the size falling back to `behaviorHints.videoSize`. `fileIdx` becomes the result's
//! `fileIndex`, and `sources` entries `tracker:<url>` become the magnet's trackers.

use cinemahalal_magnet::{InfoHash, Magnet};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::{Outcome, parse_count, to_u32};
use crate::http::{Http, redact};
use crate::{SearchQuery, SearchResult, quality};

pub(crate) struct Stremio {
    name: String,
    /// The add-on's base URL, without `/manifest.json`.
    base: Url,
}

#[derive(Deserialize)]
struct Streams {
    streams: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stream {
    info_hash: Option<String>,
    file_idx: Option<u32>,
    name: Option<String>,
    title: Option<String>,
    description: Option<String>,
    #[serde(default)]
    sources: Vec<String>,
    behavior_hints: Option<BehaviorHints>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BehaviorHints {
    filename: Option<String>,
    video_size: Option<u64>,
}

impl Stremio {
    pub(crate) fn new(name: String, base: Url) -> Stremio {
        Stremio { name, base }
    }

    pub(crate) async fn search(&self, http: &Http, query: &SearchQuery) -> Result<Outcome, String> {
        let SearchQuery::Imdb(id) = query else {
            return Ok(Outcome::Skipped("Stremio add-ons search by IMDb id only"));
        };
        let url = super::join(&self.base, &format!("stream/movie/{id}.json"))?;
        let answer: Streams = http.get_json(&url).await.map_err(|e| {
            if e.starts_with("malformed JSON") {
                format!("{e} (expected {{\"streams\":[...]}})")
            } else {
                e
            }
        })?;
        Ok(Outcome::Found(results(answer, &self.name, &redact(&url))))
    }
}

/// An add-on's answer as results of `provider`; a malformed stream is skipped.
fn results(answer: Streams, provider: &str, url: &str) -> Vec<SearchResult> {
    answer
        .streams
        .into_iter()
        .filter_map(|value| match serde_json::from_value::<Stream>(value) {
            Ok(stream) => result(stream, provider),
            Err(e) => {
                tracing::debug!(%url, error = %e, "skipping a malformed stream");
                None
            }
        })
        .collect()
}

/// An add-on's answer, as bytes, as results of `provider` (what `search` does once the
/// body is read; the fuzz target's entry).
pub(crate) fn parse_streams(body: &[u8], provider: &str) -> Result<Vec<SearchResult>, String> {
    let answer: Streams = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    Ok(results(answer, provider, "fuzz"))
}

fn result(stream: Stream, provider: &str) -> Option<SearchResult> {
    let info_hash: InfoHash = stream.info_hash.as_deref()?.trim().parse().ok()?;
    let text = stream
        .title
        .as_deref()
        .or(stream.description.as_deref())
        .unwrap_or_default();
    let hints = stream.behavior_hints.as_ref();
    let name = text
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.contains('👤') && !line.contains('💾'))
        .map(str::to_owned)
        .or_else(|| hints.and_then(|h| h.filename.clone()))
        .or_else(|| stream.name.as_deref().map(|n| n.replace('\n', " ")))
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| info_hash.to_string());
    let mut quality = quality::parse(&name);
    let label = stream.name.as_deref().unwrap_or_default();
    if quality.resolution.is_none() {
        quality.resolution = quality::parse(label)
            .resolution
            .or_else(|| quality::parse(text).resolution);
    }
    if quality.source.is_none() {
        quality.source = quality::parse(text).source;
    }
    // The magnet keeps the http, https and udp ones.
    let trackers = stream
        .sources
        .iter()
        .filter_map(|s| s.strip_prefix("tracker:"));
    let seeders = after_marker(text, '👤')
        .and_then(|n| parse_count(&n))
        .unwrap_or(0);
    let size = after_marker(text, '💾')
        .and_then(|s| parse_size(&s))
        .or_else(|| hints.and_then(|h| h.video_size))
        .filter(|s| *s > 0);
    Some(SearchResult {
        magnet: Magnet::new(info_hash)
            .with_display_name(&name)
            .with_trackers(trackers)
            .to_string(),
        name,
        info_hash: info_hash.to_string(),
        size,
        seeders: to_u32(seeders),
        leechers: 0,
        quality,
        provider: provider.to_owned(),
        providers: vec![provider.to_owned()],
        file_index: stream.file_idx,
    })
}

/// The text after `marker` up to the next marker-ish emoji or line end: `👤 123 💾 1.4 GB`
/// gives `123` for 👤 and `1.4 GB` for 💾.
fn after_marker(text: &str, marker: char) -> Option<String> {
    let start = text.find(marker)? + marker.len_utf8();
    let rest = &text[start..];
    let end = rest
        .find(|c: char| c == '\n' || (!c.is_ascii() && !c.is_whitespace() && !c.is_alphanumeric()))
        .unwrap_or(rest.len());
    let value = rest[..end].trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// `1.4 GB`, `700MB`, `2,1 GiB` in bytes; units are taken as powers of 1024, as add-ons
/// compute them.
fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
        .unwrap_or(text.len());
    let number: f64 = text[..split].replace(',', ".").parse().ok()?;
    let unit = text[split..]
        .split_whitespace()
        .next()
        .unwrap_or("B")
        .to_ascii_uppercase();
    let power = match unit.trim_end_matches("IB").trim_end_matches('B') {
        "" => 0,
        "K" => 1,
        "M" => 2,
        "G" => 3,
        "T" => 4,
        _ => return None,
    };
    let bytes = number * 1024f64.powi(power);
    (bytes.is_finite() && bytes >= 0.0).then(|| bytes.min(u64::MAX as f64).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeders_and_sizes_from_titles() {
        let title = "Night.of.the.Living.Dead.1968.1080p.BluRay\n👤 123 💾 1.4 GB ⚙️ ThePirateBay";
        assert_eq!(after_marker(title, '👤').as_deref(), Some("123"));
        assert_eq!(after_marker(title, '💾').as_deref(), Some("1.4 GB"));
        assert_eq!(after_marker("no markers", '👤'), None);
        assert_eq!(parse_size("1.4 GB"), Some(1_503_238_554));
        assert_eq!(parse_size("700MB"), Some(700 * 1024 * 1024));
        assert_eq!(parse_size("2,5 GiB"), Some(2_684_354_560));
        assert_eq!(parse_size("12 parsecs"), None);
        assert_eq!(parse_size(""), None);
    }
}
