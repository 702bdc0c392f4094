//! What a search returns, and how the providers' answers are merged.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::{ProviderFailure, Quality};

/// One torrent found. Serialized in camelCase:
/// `{"name","infoHash","magnet","size","seeders","leechers","quality","provider","providers","fileIndex"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct SearchResult {
    /// The torrent's (release) name.
    pub name: String,
    /// 40 lowercase hex digits.
    pub info_hash: String,
    /// A magnet link for the engine, `magnet:?xt=urn:btih:<infoHash>&dn=...&tr=...`.
    pub magnet: String,
    /// Total size in bytes; `null` when the provider did not say.
    pub size: Option<u64>,
    /// Peers with the whole torrent, as the provider reported them; 0 when unknown.
    /// Internet Archive items report 1: archive.org itself always seeds its torrents.
    pub seeders: u32,
    /// Peers still downloading; 0 when unknown.
    pub leechers: u32,
    /// Resolution and release source, parsed from the name.
    pub quality: Quality,
    /// The configured name of the provider whose entry this is (the one with most seeders).
    pub provider: String,
    /// Every provider that returned this info hash, `provider` first.
    pub providers: Vec<String>,
    /// The file to play inside the torrent, when the provider said (Stremio's `fileIdx`);
    /// `null` otherwise.
    pub file_index: Option<u32>,
}

/// The answer to a search: `{"results":[...],"failedProviders":[{"provider","reason"}]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct SearchResponse {
    /// Merged results, most seeders first.
    pub results: Vec<SearchResult>,
    /// Providers that failed while others answered.
    pub failed_providers: Vec<ProviderFailure>,
}

/// One entry per info hash, sorted by seeders (most first), then leechers, then name.
///
/// Of entries with the same info hash the one with most seeders is kept (the first one
/// on a tie); it takes the size and file index of the others when it lacks them, and
/// `providers` lists every provider that had it.
pub fn merge(results: impl IntoIterator<Item = SearchResult>) -> Vec<SearchResult> {
    let mut merged: Vec<SearchResult> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for mut result in results {
        if result.providers.is_empty() {
            result.providers.push(result.provider.clone());
        }
        let Some(&at) = index.get(&result.info_hash) else {
            index.insert(result.info_hash.clone(), merged.len());
            merged.push(result);
            continue;
        };
        let kept = &mut merged[at];
        let (mut best, other) = if result.seeders > kept.seeders {
            let previous = std::mem::replace(kept, result);
            (std::mem::take(kept), previous)
        } else {
            (std::mem::take(kept), result)
        };
        best.size = best.size.or(other.size);
        best.file_index = best.file_index.or(other.file_index);
        let mut providers = std::mem::take(&mut best.providers);
        providers.retain(|p| *p != best.provider);
        providers.insert(0, best.provider.clone());
        for p in other.providers {
            if !providers.contains(&p) {
                providers.push(p);
            }
        }
        best.providers = providers;
        *kept = best;
    }
    merged.sort_by(|a, b| {
        b.seeders
            .cmp(&a.seeders)
            .then(b.leechers.cmp(&a.leechers))
            .then_with(|| a.name.cmp(&b.name))
    });
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(hash: char, provider: &str, seeders: u32) -> SearchResult {
        SearchResult {
            name: format!("{hash} from {provider}"),
            info_hash: hash.to_string().repeat(40),
            provider: provider.into(),
            seeders,
            ..SearchResult::default()
        }
    }

    #[test]
    fn merge_keeps_most_seeded_and_all_providers() {
        let mut a_stremio = result('a', "stremio", 50);
        a_stremio.file_index = Some(3);
        let mut a_torznab = result('a', "torznab", 80);
        a_torznab.size = Some(1_000);
        let merged = merge([
            a_stremio,
            result('b', "torznab", 10),
            a_torznab,
            result('a', "archive", 1),
        ]);
        assert_eq!(merged.len(), 2);
        let a = &merged[0];
        assert_eq!(
            (a.provider.as_str(), a.seeders, a.size, a.file_index),
            ("torznab", 80, Some(1_000), Some(3))
        );
        assert_eq!(a.providers, ["torznab", "stremio", "archive"]);
        assert_eq!(merged[1].info_hash, "b".repeat(40));
        assert_eq!(merged[1].providers, ["torznab"]);
    }

    #[test]
    fn sorted_by_seeders_then_leechers_then_name() {
        let mut x = result('1', "p", 5);
        x.leechers = 1;
        let mut y = result('2', "p", 5);
        y.leechers = 9;
        let merged = merge([result('0', "p", 0), x, y, result('3', "p", 7)]);
        let hashes: Vec<char> = merged
            .iter()
            .map(|r| r.info_hash.chars().next().unwrap())
            .collect();
        assert_eq!(hashes, ['3', '2', '1', '0']);
    }
}
