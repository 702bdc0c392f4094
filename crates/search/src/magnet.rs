//! Info hashes and magnet links: hashes arrive in hex or base32, in any case; results
//! carry 40 lowercase hex digits and a magnet link built from them.

use data_encoding::{BASE32, HEXLOWER};

/// A v1 info hash as 40 lowercase hex digits, from 40 hex digits or 32 base32 characters
/// in any case. Anything else is `None`.
pub(crate) fn normalize_info_hash(raw: &str) -> Option<String> {
    let raw = raw.trim();
    match raw.len() {
        40 if raw.bytes().all(|b| b.is_ascii_hexdigit()) => Some(raw.to_ascii_lowercase()),
        32 => {
            let bytes = BASE32.decode(raw.to_ascii_uppercase().as_bytes()).ok()?;
            (bytes.len() == 20).then(|| HEXLOWER.encode(&bytes))
        }
        _ => None,
    }
}

/// The btih info hash of a `magnet:?xt=urn:btih:...` link.
pub(crate) fn info_hash_of_magnet(link: &str) -> Option<String> {
    let url = url::Url::parse(link.trim()).ok()?;
    if url.scheme() != "magnet" {
        return None;
    }
    url.query_pairs().find_map(|(key, value)| {
        if key != "xt" {
            return None;
        }
        let prefix = value.get(..9)?;
        if !prefix.eq_ignore_ascii_case("urn:btih:") {
            return None;
        }
        normalize_info_hash(&value[9..])
    })
}

/// `magnet:?xt=urn:btih:<hash>&dn=<name>&tr=<tracker>...`, values percent-encoded.
pub(crate) fn build_magnet<'a>(
    info_hash: &str,
    name: &str,
    trackers: impl IntoIterator<Item = &'a str>,
) -> String {
    let mut link = format!("magnet:?xt=urn:btih:{info_hash}");
    if !name.is_empty() {
        link.push_str("&dn=");
        link.push_str(&percent_encode(name));
    }
    for tracker in trackers {
        link.push_str("&tr=");
        link.push_str(&percent_encode(tracker));
    }
    link
}

fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "c9e15763f722f23e98a29decdfae341b98d53056";

    #[test]
    fn hashes_in_hex_or_base32() {
        assert_eq!(
            normalize_info_hash(&HEX.to_uppercase()).as_deref(),
            Some(HEX)
        );
        let b32 = BASE32.encode(&HEXLOWER.decode(HEX.as_bytes()).unwrap());
        assert_eq!(
            normalize_info_hash(&b32.to_lowercase()).as_deref(),
            Some(HEX)
        );
        assert_eq!(normalize_info_hash("abc"), None);
        assert_eq!(normalize_info_hash(&"g".repeat(40)), None);
        assert_eq!(normalize_info_hash(&"é".repeat(16)), None);
    }

    #[test]
    fn magnets_round_trip() {
        let link = build_magnet(
            HEX,
            "Night of the Living Dead & co",
            ["http://bt1.archive.org:6969/announce"],
        );
        assert_eq!(
            link,
            "magnet:?xt=urn:btih:c9e15763f722f23e98a29decdfae341b98d53056\
             &dn=Night%20of%20the%20Living%20Dead%20%26%20co\
             &tr=http%3A%2F%2Fbt1.archive.org%3A6969%2Fannounce"
        );
        assert_eq!(info_hash_of_magnet(&link).as_deref(), Some(HEX));
        assert_eq!(info_hash_of_magnet("magnet:?dn=x"), None);
        assert_eq!(
            info_hash_of_magnet(&format!("http://example.com/?xt=urn:btih:{HEX}")),
            None
        );
    }
}
