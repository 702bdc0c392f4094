//! BitTorrent info hashes and magnet links, for every crate of CinemaHalal: one parser,
//! so that the engine, search and the API agree on what a hash or a link is.
//!
//! This crate imports neither librqbit nor anything HTTP. Input is bounded: a link is at
//! most [`MAX_LINK_LEN`] bytes, and no value inside it can make parsing allocate more
//! than the link's own length (see [`magnet`] for what is kept and what ignored).
//!
//! # Layout
//! - [`info_hash`]: [`InfoHash`], parsed from hex or base32 in any case, shown in
//!   lowercase hex; a string in JSON and TypeScript.
//! - [`magnet`]: [`Magnet`], parsed from and shown as a `magnet:?xt=urn:btih:…` link.

pub mod info_hash;
pub mod magnet;

pub use info_hash::{InfoHash, InvalidInfoHash};
pub use magnet::{
    InvalidMagnet, MAX_LINK_LEN, MAX_NAME_LEN, MAX_PEERS, MAX_TRACKER_LEN, MAX_TRACKERS, Magnet,
};

/// The fuzz target `magnet` (in `fuzz/`), and the corpus test that runs it on stable
/// Rust: any text parses or is refused without panicking; a parsed link is within the
/// bounds, and its printed form parses back to the same `Magnet`. A text that is an info
/// hash prints as lowercase hex that parses back to it.
#[doc(hidden)]
pub fn fuzz_magnet(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(magnet) = Magnet::parse(&text) {
        let link = magnet.to_string();
        assert!(link.len() <= MAX_LINK_LEN, "{link}");
        assert!(magnet.trackers().len() <= MAX_TRACKERS);
        assert!(magnet.peers().len() <= MAX_PEERS);
        assert!(
            magnet
                .display_name()
                .is_none_or(|n| n.len() <= MAX_NAME_LEN)
        );
        assert_eq!(Magnet::parse(&link).as_ref(), Ok(&magnet), "{link}");
    }
    if let Ok(hash) = text.parse::<InfoHash>() {
        let hex = hash.to_string();
        assert_eq!(hex.len(), 40);
        assert_eq!(hex.parse::<InfoHash>(), Ok(hash));
        assert_eq!(
            Magnet::parse(&format!("magnet:?xt=urn:btih:{text}")).map(|m| m.info_hash()),
            Ok(hash)
        );
    }
}

#[cfg(test)]
mod fuzz_tests {
    use proptest::prelude::*;

    #[test]
    fn fuzz_corpus() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/magnet");
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            super::fuzz_magnet(&bytes);
            n += 1;
        }
        assert!(n > 0, "no corpus in {}", dir.display());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        #[test]
        fn fuzz_target_on_random_input(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            super::fuzz_magnet(&data);
        }

        #[test]
        fn fuzz_target_on_link_like_input(
            hash in "[0-9a-zA-Z]{30,42}",
            rest in "(&(dn|tr|x\\.pe|so|xt)=[%0-9a-zA-Z:/.\\[\\]]{0,30}){0,8}",
        ) {
            super::fuzz_magnet(format!("magnet:?xt=urn:btih:{hash}{rest}").as_bytes());
        }
    }
}
