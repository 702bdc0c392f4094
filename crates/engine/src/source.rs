//! What a stream is prepared from: a magnet link, a bare info hash or a .torrent file.
//!
//! Links and hashes are parsed by `cinemahalal-magnet`, shared with the search crate;
//! here they meet librqbit.

use bytes::Bytes;

use crate::error::EngineError;
use crate::metainfo_check::check_torrent;
use crate::{InfoHash, Magnet};

/// Where a stream comes from.
#[derive(Debug, Clone)]
pub enum Source {
    Magnet(Magnet),
    /// A bare info hash: peers come from DHT alone.
    InfoHash(InfoHash),
    /// The bytes of a .torrent file (the API's `torrent`): metadata is known at once.
    Torrent(Bytes),
}

impl Source {
    /// Parses the text a person pastes: a magnet link or a bare info hash.
    pub fn parse_link(text: &str) -> Result<Source, EngineError> {
        let text = text.trim();
        if let Ok(hash) = text.parse::<InfoHash>() {
            return Ok(Source::InfoHash(hash));
        }
        Ok(Source::Magnet(Magnet::parse(text)?))
    }

    /// The info hash, reading it out of a .torrent file when need be. A .torrent file is
    /// checked here, before librqbit sees it ([`crate::metainfo_check`]).
    pub fn info_hash(&self) -> Result<InfoHash, EngineError> {
        match self {
            Source::Magnet(m) => Ok(m.info_hash()),
            Source::InfoHash(h) => Ok(*h),
            Source::Torrent(bytes) => check_torrent(bytes)
                .map(|t| t.info_hash)
                .map_err(|e| EngineError::InvalidTorrent(format!("invalid .torrent file: {e}"))),
        }
    }
}

pub(crate) fn from_id20(id: librqbit::dht::Id20) -> InfoHash {
    InfoHash(id.0)
}

pub(crate) fn to_id20(h: InfoHash) -> librqbit::dht::Id20 {
    librqbit::dht::Id20::new(h.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HASH: &str = "c9e15763f722f23e98a29decdfae341b98d53056";

    #[test]
    fn librqbit_reads_our_link_as_we_do() {
        // The engine hands librqbit `Magnet`'s own link (librqbit ignores its `x.pe`;
        // peers are given to it separately).
        let m = Magnet::new(HASH.parse().unwrap())
            .with_display_name("a & b = c")
            .with_trackers(["http://127.0.0.1:1/announce?x=1&y=2"])
            .with_peers(["127.0.0.1:6881".parse().unwrap()]);
        assert_eq!(Magnet::parse(&m.to_string()).unwrap(), m);
        let theirs = librqbit::Magnet::parse(&m.to_string()).unwrap();
        assert_eq!(theirs.as_id20().unwrap().0, m.info_hash().0);
        assert_eq!(theirs.trackers, m.trackers());
        assert_eq!(theirs.name.as_deref(), m.display_name());
        assert_eq!(theirs.get_select_only(), None);
    }

    #[test]
    fn id20_conversions_keep_the_bytes() {
        let h: InfoHash = HASH.parse().unwrap();
        assert_eq!(to_id20(h).as_string(), HASH);
        assert_eq!(from_id20(to_id20(h)), h);
    }

    #[test]
    fn bare_hash_is_a_source() {
        assert!(matches!(Source::parse_link(HASH), Ok(Source::InfoHash(_))));
        assert!(matches!(
            Source::parse_link(" magnet:?xt=urn:btih:c9e15763f722f23e98a29decdfae341b98d53056 "),
            Ok(Source::Magnet(_))
        ));
    }

    #[test]
    fn what_is_neither_is_an_invalid_request() {
        for bad in ["", "abc", "magnet:?dn=x", "http://example.com/"] {
            match Source::parse_link(bad) {
                Err(EngineError::InvalidRequest(m)) => {
                    assert!(m.starts_with("invalid magnet link: "), "{bad:?}: {m}")
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_torrent_file_that_is_not_one_is_an_invalid_torrent() {
        match Source::Torrent(Bytes::from_static(b"d4:infoe")).info_hash() {
            Err(EngineError::InvalidTorrent(m)) => {
                assert!(m.starts_with("invalid .torrent file"), "{m}")
            }
            other => panic!("{other:?}"),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        // Fuzz: any text parses or fails with InvalidRequest; never panics.
        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,300}") {
            match Source::parse_link(&s) {
                Ok(_) | Err(EngineError::InvalidRequest(_)) => {}
                Err(e) => prop_assert!(false, "{e:?}"),
            }
        }
    }
}
