//! The one identifier of a stream: a BitTorrent v1 info hash.

use std::fmt;
use std::str::FromStr;

use data_encoding::{BASE32_NOPAD, HEXLOWER_PERMISSIVE};
use serde::{Serialize, Serializer};

/// A 20-byte BitTorrent v1 info hash.
///
/// Parsed from 40 hex digits or 32 base32 letters, in any letter case; always shown as
/// 40 lowercase hex digits, which is the form every URL and JSON answer uses.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InfoHash(pub [u8; 20]);

/// Why a string is not an info hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an info hash is 40 hex digits or 32 base32 letters, not {0:?}")]
pub struct InvalidInfoHash(String);

impl FromStr for InfoHash {
    type Err = InvalidInfoHash;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let decoded = match s.len() {
            40 => HEXLOWER_PERMISSIVE.decode(s.as_bytes()).ok(),
            32 => BASE32_NOPAD.decode(s.to_ascii_uppercase().as_bytes()).ok(),
            _ => None,
        };
        decoded
            .and_then(|bytes| <[u8; 20]>::try_from(bytes).ok())
            .map(InfoHash)
            .ok_or_else(|| InvalidInfoHash(s.chars().take(64).collect()))
    }
}

impl fmt::Display for InfoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&HEXLOWER_PERMISSIVE.encode(&self.0))
    }
}

impl fmt::Debug for InfoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InfoHash({self})")
    }
}

impl Serialize for InfoHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl From<librqbit::dht::Id20> for InfoHash {
    fn from(id: librqbit::dht::Id20) -> Self {
        InfoHash(id.0)
    }
}

impl From<InfoHash> for librqbit::dht::Id20 {
    fn from(h: InfoHash) -> Self {
        librqbit::dht::Id20::new(h.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HEX: &str = "c9e15763f722f23e98a29decdfae341b98d53056";

    #[test]
    fn hex_in_any_case_prints_lowercase() {
        let upper: InfoHash = HEX.to_uppercase().parse().unwrap();
        let lower: InfoHash = HEX.parse().unwrap();
        assert_eq!(upper, lower);
        assert_eq!(upper.to_string(), HEX);
    }

    #[test]
    fn base32_matches_hex() {
        // The same 20 bytes in RFC 4648 base32.
        let b32 = "ZHQVOY7XELZD5GFCTXWN7LRUDOMNKMCW";
        let from_b32: InfoHash = b32.parse().unwrap();
        assert_eq!(from_b32.to_string(), HEX);
        let lower: InfoHash = b32.to_lowercase().parse().unwrap();
        assert_eq!(lower, from_b32);
    }

    #[test]
    fn rejects_wrong_length_and_letters() {
        for bad in [
            "",
            "abc",
            &HEX[..39],
            &format!("{HEX}0"),
            &HEX.replace('c', "g"),
            "ZHQVOY7XELZD5GFCTXWN7LRUDOMNKMC1",
            "ZHQVOY7XELZD5GFCTXWN7LRUDOMNKMC=",
        ] {
            assert!(bad.parse::<InfoHash>().is_err(), "{bad:?} parsed");
        }
    }

    proptest! {
        #[test]
        fn any_bytes_roundtrip_through_hex(bytes in any::<[u8; 20]>()) {
            let h = InfoHash(bytes);
            prop_assert_eq!(h.to_string().parse::<InfoHash>().unwrap(), h);
            prop_assert_eq!(h.to_string().to_uppercase().parse::<InfoHash>().unwrap(), h);
        }

        #[test]
        fn arbitrary_strings_never_panic(s in ".{0,80}") {
            let _ = s.parse::<InfoHash>();
        }
    }
}
