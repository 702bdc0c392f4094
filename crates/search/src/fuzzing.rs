//! The bodies of the fuzz targets in `fuzz/` (cargo-fuzz, nightly) for the parsers of
//! providers' answers; the tests below run them on stable over the checked-in corpus
//! (`fuzz/corpus/<target>/`) and random inputs.
//!
//! Whatever a provider sends, parsing never panics, and every result it yields is one
//! the engine can use: a 40-hex info hash and a magnet naming it that parses back to
//! itself within the magnet crate's bounds.

use cinemahalal_magnet::{MAX_LINK_LEN, Magnet};

use crate::SearchResult;
use crate::providers::{stremio, torznab};

/// A Torznab (Jackett, Prowlarr) feed: `fuzz/fuzz_targets/torznab.rs`.
pub fn fuzz_torznab(data: &[u8]) {
    let xml = String::from_utf8_lossy(data);
    let _ = torznab::indexer_error(&xml);
    if let Ok(results) = torznab::parse_feed(&xml, "fuzz") {
        results.iter().for_each(check_result);
    }
}

/// A Stremio add-on's streams answer: `fuzz/fuzz_targets/stremio.rs`.
pub fn fuzz_stremio(data: &[u8]) {
    if let Ok(results) = stremio::parse_streams(data, "fuzz") {
        results.iter().for_each(check_result);
    }
}

fn check_result(r: &SearchResult) {
    assert_eq!(r.info_hash.len(), 40, "{r:?}");
    assert!(
        r.info_hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{r:?}"
    );
    assert!(r.magnet.len() <= MAX_LINK_LEN, "{r:?}");
    let magnet = Magnet::parse(&r.magnet).expect("a result's magnet parses");
    assert_eq!(magnet.info_hash().to_string(), r.info_hash);
    // What the engine will hand librqbit: the printed form, which parses back to itself.
    assert_eq!(Magnet::parse(&magnet.to_string()).as_ref(), Ok(&magnet));
    assert!(!r.name.trim().is_empty(), "{r:?}");
    assert_eq!(r.providers.first(), Some(&r.provider));
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use proptest::prelude::*;

    use super::*;

    fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/corpus")
            .join(target);
        let files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .map(|p| {
                let bytes = std::fs::read(&p).unwrap();
                (p, bytes)
            })
            .collect();
        assert!(!files.is_empty(), "no corpus in {}", dir.display());
        files
    }

    #[test]
    fn torznab_corpus() {
        let mut found = 0;
        for (path, bytes) in corpus("torznab") {
            eprintln!("{}", path.display());
            fuzz_torznab(&bytes);
            found +=
                torznab::parse_feed(&String::from_utf8_lossy(&bytes), "x").map_or(0, |r| r.len());
        }
        assert!(found > 0, "the corpus holds no feed with a result");
    }

    #[test]
    fn stremio_corpus() {
        let mut found = 0;
        for (path, bytes) in corpus("stremio") {
            eprintln!("{}", path.display());
            fuzz_stremio(&bytes);
            found += stremio::parse_streams(&bytes, "x").map_or(0, |r| r.len());
        }
        assert!(found > 0, "the corpus holds no answer with a result");
    }

    /// Corpus files cut and flipped: the mutations a fuzzer starts with.
    #[test]
    fn mutated_corpus() {
        for target in ["torznab", "stremio"] {
            for (_, bytes) in corpus(target) {
                for cut in (0..bytes.len()).step_by(7) {
                    let mut b = bytes[..cut].to_vec();
                    fuzz_torznab(&b);
                    fuzz_stremio(&b);
                    if let Some(x) = b.get_mut(cut / 2) {
                        *x ^= 0x20;
                    }
                    fuzz_torznab(&b);
                    fuzz_stremio(&b);
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        #[test]
        fn random_bytes(data in proptest::collection::vec(any::<u8>(), 0..400)) {
            fuzz_torznab(&data);
            fuzz_stremio(&data);
        }

        #[test]
        fn random_items(title in "\\PC{0,60}", hash in "[0-9a-fA-F]{38,42}", size in "\\PC{0,12}") {
            let xml = format!(
                "<rss><channel><item><title>{title}</title><size>{size}</size>\
                 <torznab:attr name=\"infohash\" value=\"{hash}\"/></item></channel></rss>"
            );
            fuzz_torznab(xml.as_bytes());
            let json = serde_json::json!({"streams": [{"infoHash": hash, "title": title, "name": size}]});
            fuzz_stremio(json.to_string().as_bytes());
        }
    }
}
