//! The one identifier of a torrent: a BitTorrent v1 info hash.

use std::fmt;
use std::str::FromStr;

use data_encoding::{BASE32_NOPAD, HEXLOWER_PERMISSIVE};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A 20-byte BitTorrent v1 info hash.
///
/// Parsed from 40 hex digits or 32 base32 letters, in any letter case; always shown as
/// 40 lowercase hex digits, which is the form every URL and JSON answer uses. In JSON
/// and TypeScript it is that string.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InfoHash(pub [u8; 20]);

/// Why a string is not an info hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an info hash is 40 hex digits or 32 base32 letters, not {0:?}")]
pub struct InvalidInfoHash(String);

/// How much of a rejected string the error repeats.
const QUOTED_CHARS: usize = 64;

impl FromStr for InfoHash {
    type Err = InvalidInfoHash;

    /// Exactly 40 hex digits or 32 base32 letters (RFC 4648, no padding), in any case;
    /// nothing around them, not even spaces.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let decoded = match s.len() {
            40 => HEXLOWER_PERMISSIVE.decode(s.as_bytes()).ok(),
            32 => BASE32_NOPAD.decode(s.to_ascii_uppercase().as_bytes()).ok(),
            _ => None,
        };
        decoded
            .and_then(|bytes| <[u8; 20]>::try_from(bytes).ok())
            .map(InfoHash)
            .ok_or_else(|| InvalidInfoHash(s.chars().take(QUOTED_CHARS).collect()))
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

impl<'de> Deserialize<'de> for InfoHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = InfoHash;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an info hash: 40 hex digits or 32 base32 letters")
            }

            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<InfoHash, E> {
                s.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(Visitor)
    }
}

/// TypeScript sees the JSON string itself, as for a `String`: every type holding an
/// `InfoHash` reads `infoHash: string`, with no alias to declare. (ts-rs's `type`
/// override would keep the name `InfoHash` in those types.)
impl ts_rs::TS for InfoHash {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;

    fn name(_: &ts_rs::Config) -> String {
        "string".to_owned()
    }

    fn inline(cfg: &ts_rs::Config) -> String {
        <Self as ts_rs::TS>::name(cfg)
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
            &format!(" {}", &HEX[1..]),
            &HEX.replace('c', "g"),
            &"g".repeat(40),
            &"é".repeat(16),
            &"é".repeat(20),
            "ZHQVOY7XELZD5GFCTXWN7LRUDOMNKMC1",
            "ZHQVOY7XELZD5GFCTXWN7LRUDOMNKMC=",
        ] {
            assert!(bad.parse::<InfoHash>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn the_error_quotes_a_bounded_prefix() {
        let huge = "x".repeat(1 << 20);
        let err = huge.parse::<InfoHash>().unwrap_err();
        assert!(err.to_string().len() < 200, "{err}");
        assert!(err.to_string().starts_with("an info hash is 40 hex digits"));
    }

    #[test]
    fn serde_is_the_hex_string() {
        let h: InfoHash = HEX.parse().unwrap();
        assert_eq!(serde_json::to_string(&h).unwrap(), format!("\"{HEX}\""));
        let back: InfoHash = serde_json::from_str(&format!("\"{}\"", HEX.to_uppercase())).unwrap();
        assert_eq!(back, h);
        let b32: InfoHash = serde_json::from_str("\"ZHQVOY7XELZD5GFCTXWN7LRUDOMNKMCW\"").unwrap();
        assert_eq!(b32, h);
        for bad in ["\"abc\"", "42", "null", "[1,2]"] {
            assert!(serde_json::from_str::<InfoHash>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn typescript_sees_a_string() {
        use ts_rs::TS;
        let cfg = ts_rs::Config::new();
        assert_eq!(InfoHash::inline(&cfg), "string");
        #[derive(ts_rs::TS)]
        #[allow(dead_code)]
        struct Holder {
            hash: InfoHash,
            maybe: Option<InfoHash>,
            many: Vec<InfoHash>,
        }
        assert_eq!(
            Holder::decl(&cfg),
            "type Holder = { hash: string, maybe: string | null, many: Array<string>, };"
        );
    }

    proptest! {
        #[test]
        fn any_bytes_roundtrip_through_hex(bytes in any::<[u8; 20]>()) {
            let h = InfoHash(bytes);
            prop_assert_eq!(h.to_string().parse::<InfoHash>().unwrap(), h);
            prop_assert_eq!(h.to_string().to_uppercase().parse::<InfoHash>().unwrap(), h);
        }

        #[test]
        fn any_bytes_roundtrip_through_base32(bytes in any::<[u8; 20]>()) {
            let b32 = data_encoding::BASE32_NOPAD.encode(&bytes);
            prop_assert_eq!(b32.parse::<InfoHash>().unwrap(), InfoHash(bytes));
            prop_assert_eq!(b32.to_lowercase().parse::<InfoHash>().unwrap(), InfoHash(bytes));
        }

        #[test]
        fn display_is_40_lowercase_hex_digits(bytes in any::<[u8; 20]>()) {
            let shown = InfoHash(bytes).to_string();
            prop_assert_eq!(shown.len(), 40);
            prop_assert!(shown.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
        }

        #[test]
        fn arbitrary_strings_never_panic(s in ".{0,80}") {
            let _ = s.parse::<InfoHash>();
        }
    }
}
