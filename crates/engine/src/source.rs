//! What a stream is prepared from: a magnet link, a bare info hash or a .torrent file.

use std::net::SocketAddr;

use bytes::Bytes;

use crate::InfoHash;
use crate::error::EngineError;

/// Longest magnet link accepted; real ones with dozens of trackers stay far below.
pub const MAX_MAGNET_LEN: usize = 64 * 1024;

/// A magnet link, parsed (BEP 9): the info hash plus the hints that help find peers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Magnet {
    pub info_hash: InfoHash,
    /// `dn`: the name to show until metadata arrives.
    pub display_name: Option<String>,
    /// `tr`: tracker URLs (http, https, udp), in the order given.
    pub trackers: Vec<String>,
    /// `x.pe`: peer addresses to try first. Only literal IP addresses are kept, so that
    /// parsing a link never resolves names.
    pub peers: Vec<SocketAddr>,
}

impl Magnet {
    /// Parses a `magnet:?xt=urn:btih:...` link.
    pub fn parse(link: &str) -> Result<Magnet, EngineError> {
        let invalid =
            |why: &str| EngineError::InvalidRequest(format!("invalid magnet link: {why}"));
        if link.len() > MAX_MAGNET_LEN {
            return Err(invalid("longer than 64 KiB"));
        }
        let url = url::Url::parse(link.trim()).map_err(|e| invalid(&e.to_string()))?;
        if url.scheme() != "magnet" {
            return Err(invalid("it must start with magnet:?"));
        }
        let mut info_hash = None;
        let mut v2_only = false;
        let mut display_name = None;
        let mut trackers = Vec::new();
        let mut peers = Vec::new();
        for (key, value) in url.query_pairs() {
            match key.as_ref() {
                "xt" => {
                    let value = value.as_ref();
                    if let Some(hash) = strip_prefix_ignore_case(value, "urn:btih:") {
                        let parsed = hash
                            .parse()
                            .map_err(|e: crate::InvalidInfoHash| invalid(&e.to_string()))?;
                        if info_hash.is_some_and(|h| h != parsed) {
                            return Err(invalid("it names two different btih info hashes"));
                        }
                        info_hash = Some(parsed);
                    } else if strip_prefix_ignore_case(value, "urn:btmh:").is_some() {
                        v2_only = true;
                    }
                }
                "dn" if !value.is_empty() => display_name = Some(value.into_owned()),
                "tr" => {
                    let tracker = value.into_owned();
                    match url::Url::parse(&tracker) {
                        Ok(t) if matches!(t.scheme(), "http" | "https" | "udp") => {
                            trackers.push(tracker)
                        }
                        _ => tracing::debug!(%tracker, "ignoring tracker with unsupported URL"),
                    }
                }
                "x.pe" => match value.parse::<SocketAddr>() {
                    Ok(addr) if addr.port() != 0 => peers.push(addr),
                    _ => tracing::debug!(peer = %value, "ignoring x.pe that is not ip:port"),
                },
                _ => {}
            }
        }
        let info_hash = info_hash.ok_or_else(|| {
            if v2_only {
                invalid("BitTorrent v2-only links (btmh) are not supported; a btih hash is needed")
            } else {
                invalid("it has no xt=urn:btih: info hash")
            }
        })?;
        Ok(Magnet {
            info_hash,
            display_name,
            trackers,
            peers,
        })
    }

    /// The link librqbit is given: hash, name and trackers (peers go separately, as
    /// librqbit's own parser ignores `x.pe`).
    pub(crate) fn to_librqbit_link(&self) -> String {
        let mut link = url::Url::parse("magnet:").expect("static URL");
        {
            let mut q = link.query_pairs_mut();
            q.append_pair("xt", &format!("urn:btih:{}", self.info_hash));
            if let Some(name) = &self.display_name {
                q.append_pair("dn", name);
            }
            for tracker in &self.trackers {
                q.append_pair("tr", tracker);
            }
        }
        // The url crate percent-encodes ':' in values; librqbit decodes them back.
        link.to_string()
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Where a stream comes from.
#[derive(Debug, Clone)]
pub enum Source {
    Magnet(Magnet),
    /// A bare info hash: peers come from DHT alone.
    InfoHash(InfoHash),
    /// The bytes of a .torrent file: metadata is known at once.
    TorrentFile(Bytes),
}

impl Source {
    /// Parses the text a person pastes: a magnet link or a bare info hash.
    pub fn parse_link(text: &str) -> Result<Source, EngineError> {
        let text = text.trim();
        if let Ok(hash) = text.parse::<InfoHash>() {
            return Ok(Source::InfoHash(hash));
        }
        Magnet::parse(text).map(Source::Magnet)
    }

    /// The info hash, reading it out of a .torrent file when need be.
    pub fn info_hash(&self) -> Result<InfoHash, EngineError> {
        match self {
            Source::Magnet(m) => Ok(m.info_hash),
            Source::InfoHash(h) => Ok(*h),
            Source::TorrentFile(bytes) => librqbit::torrent_from_bytes(bytes)
                .map(|t| InfoHash::from(t.info_hash))
                .map_err(|e| EngineError::InvalidRequest(format!("invalid .torrent file: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HASH: &str = "c9e15763f722f23e98a29decdfae341b98d53056";

    #[test]
    fn parses_hash_name_trackers_and_peers() {
        let link = format!(
            "magnet:?xt=urn:btih:{}&dn=Big+Buck%20Bunny&tr=udp%3A%2F%2Ftracker.example%3A1337\
             &tr=wss%3A%2F%2Fsocket.example&x.pe=127.0.0.1:6881&x.pe=[::1]:51413&x.pe=host.example:1",
            HASH.to_uppercase()
        );
        let m = Magnet::parse(&link).unwrap();
        assert_eq!(m.info_hash.to_string(), HASH);
        assert_eq!(m.display_name.as_deref(), Some("Big Buck Bunny"));
        assert_eq!(m.trackers, vec!["udp://tracker.example:1337".to_string()]);
        assert_eq!(
            m.peers,
            vec![
                "127.0.0.1:6881".parse().unwrap(),
                "[::1]:51413".parse().unwrap()
            ]
        );
    }

    #[test]
    fn rejects_what_is_not_a_v1_magnet() {
        for bad in [
            "",
            "magnet:?dn=nothing",
            "http://example.com/?xt=urn:btih:c9e15763f722f23e98a29decdfae341b98d53056",
            "magnet:?xt=urn:btih:1234",
            "magnet:?xt=urn:btmh:1220c9e15763f722f23e98a29decdfae341b98d53056c9e15763f722f23e98a2",
            "magnet:?xt=urn:btih:c9e15763f722f23e98a29decdfae341b98d53056&xt=urn:btih:0000000000000000000000000000000000000000",
            "not a link at all",
        ] {
            let err = Magnet::parse(bad).unwrap_err();
            assert!(
                matches!(err, EngineError::InvalidRequest(_)),
                "{bad:?}: {err:?}"
            );
        }
    }

    #[test]
    fn librqbit_link_round_trips_through_our_parser() {
        let m = Magnet {
            info_hash: HASH.parse().unwrap(),
            display_name: Some("a & b = c".into()),
            trackers: vec!["http://127.0.0.1:1/announce?x=1&y=2".into()],
            peers: vec![],
        };
        assert_eq!(Magnet::parse(&m.to_librqbit_link()).unwrap(), m);
        let theirs = librqbit::Magnet::parse(&m.to_librqbit_link()).unwrap();
        assert_eq!(theirs.as_id20().unwrap().0, m.info_hash.0);
        assert_eq!(theirs.trackers, m.trackers);
        assert_eq!(theirs.name, m.display_name);
    }

    #[test]
    fn bare_hash_is_a_source() {
        assert!(matches!(Source::parse_link(HASH), Ok(Source::InfoHash(_))));
        assert!(matches!(
            Source::parse_link(" magnet:?xt=urn:btih:c9e15763f722f23e98a29decdfae341b98d53056 "),
            Ok(Source::Magnet(_))
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        // Fuzz: any text, and any query built from magnet-like pieces, parses or fails
        // with InvalidRequest; never panics. What parses round-trips.
        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,300}") {
            let _ = Source::parse_link(&s);
        }

        #[test]
        fn magnet_like_queries(parts in proptest::collection::vec(
            prop_oneof![
                Just("xt=urn:btih:".to_string()),
                "[0-9a-fA-F]{0,41}",
                "[A-Z2-7]{32}",
                Just("&".to_string()), Just("=".to_string()), Just("%".to_string()),
                Just("dn=".to_string()), Just("tr=".to_string()), Just("x.pe=".to_string()),
                "[0-9.:\\[\\]]{0,24}",
                "\\PC{0,8}",
            ], 0..12)) {
            let link = format!("magnet:?{}", parts.concat());
            if let Ok(m) = Magnet::parse(&link) {
                prop_assert_eq!(Magnet::parse(&m.to_librqbit_link()).unwrap().info_hash, m.info_hash);
            }
        }
    }
}
