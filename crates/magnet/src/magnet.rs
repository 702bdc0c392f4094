//! Magnet links (BEP 9): read from what a person pastes or a provider sends, and built
//! for search results.
//!
//! A [`Magnet`] holds only what CinemaHalal uses: the v1 info hash (`xt=urn:btih:`), a
//! display name (`dn`), trackers (`tr`) and peer addresses (`x.pe`, BEP 9's "peer
//! address", which librqbit's own parser ignores). Everything else (`so`, `xl`, `ws`,
//! other `xt` namespaces, unknown keys) is ignored, so that no field of a link can make
//! parsing allocate by what it *says* rather than by how long it is.
//!
//! Every `Magnet`, parsed or built, keeps within the limits below; extra trackers and
//! peers are dropped and a long name is cut. So its link (its [`Display`](fmt::Display))
//! is never longer than [`MAX_LINK_LEN`], and parses back to the same `Magnet`.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

use crate::{InfoHash, InvalidInfoHash};

/// Longest link accepted; real ones with dozens of trackers stay far below.
pub const MAX_LINK_LEN: usize = 64 * 1024;
/// Longest display name kept, in bytes; a longer one is cut at a character boundary.
pub const MAX_NAME_LEN: usize = 1024;
/// Trackers kept; those after them are ignored.
pub const MAX_TRACKERS: usize = 50;
/// Longest tracker URL kept, in bytes; a longer one is ignored.
pub const MAX_TRACKER_LEN: usize = 256;
/// Peer addresses kept; those after them are ignored.
pub const MAX_PEERS: usize = 100;

/// A magnet link, parsed: the info hash plus the hints that help find peers.
///
/// Built with [`Magnet::new`] and the `with_` methods, or parsed with [`Magnet::parse`]
/// (also [`FromStr`]); shown as a `magnet:?xt=urn:btih:…` link with every value
/// percent-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Magnet {
    info_hash: InfoHash,
    display_name: Option<String>,
    trackers: Vec<String>,
    peers: Vec<SocketAddr>,
}

/// Why a text is not a usable magnet link. Its message starts with "invalid magnet link".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidMagnet {
    #[error("invalid magnet link: longer than {} KiB", MAX_LINK_LEN / 1024)]
    TooLong,
    #[error("invalid magnet link: {0}")]
    NotAUrl(#[from] url::ParseError),
    #[error("invalid magnet link: it must start with magnet:?")]
    NotMagnet,
    #[error("invalid magnet link: {0}")]
    BadInfoHash(#[from] InvalidInfoHash),
    #[error("invalid magnet link: it names two different btih info hashes")]
    TwoInfoHashes,
    #[error(
        "invalid magnet link: BitTorrent v2-only links (btmh) are not supported; a btih hash is needed"
    )]
    V2Only,
    #[error("invalid magnet link: it has no xt=urn:btih: info hash")]
    NoInfoHash,
}

impl Magnet {
    /// A link naming only the torrent.
    pub fn new(info_hash: InfoHash) -> Magnet {
        Magnet {
            info_hash,
            display_name: None,
            trackers: Vec::new(),
            peers: Vec::new(),
        }
    }

    /// Sets the name to show until metadata arrives: none when empty, cut to
    /// [`MAX_NAME_LEN`] bytes when longer.
    pub fn with_display_name(mut self, name: &str) -> Magnet {
        self.display_name = bounded_name(name);
        self
    }

    /// Adds trackers, keeping each that is an http, https or udp URL with a host, at most
    /// [`MAX_TRACKER_LEN`] bytes long and not already there, up to [`MAX_TRACKERS`].
    pub fn with_trackers<S: AsRef<str>>(mut self, trackers: impl IntoIterator<Item = S>) -> Magnet {
        for tracker in trackers {
            self.add_tracker(tracker.as_ref());
        }
        self
    }

    /// Adds peer addresses, keeping each with a port that is not already there, up to
    /// [`MAX_PEERS`].
    pub fn with_peers(mut self, peers: impl IntoIterator<Item = SocketAddr>) -> Magnet {
        for peer in peers {
            self.add_peer(peer);
        }
        self
    }

    /// Parses a `magnet:?xt=urn:btih:...` link; spaces around it are ignored.
    pub fn parse(link: &str) -> Result<Magnet, InvalidMagnet> {
        if link.len() > MAX_LINK_LEN {
            return Err(InvalidMagnet::TooLong);
        }
        let url = url::Url::parse(link.trim())?;
        if url.scheme() != "magnet" {
            return Err(InvalidMagnet::NotMagnet);
        }
        let mut info_hash = None;
        let mut v2_only = false;
        let mut display_name = None;
        let mut trackers = Vec::new();
        let mut peers = Vec::new();
        for (key, value) in url.query_pairs() {
            match key.as_ref() {
                "xt" => {
                    if let Some(hash) = strip_prefix_ignore_case(&value, "urn:btih:") {
                        let parsed: InfoHash = hash.parse()?;
                        if info_hash.is_some_and(|h| h != parsed) {
                            return Err(InvalidMagnet::TwoInfoHashes);
                        }
                        info_hash = Some(parsed);
                    } else if strip_prefix_ignore_case(&value, "urn:btmh:").is_some() {
                        v2_only = true;
                    }
                }
                "dn" if !value.is_empty() => display_name = Some(value),
                "tr" => trackers.push(value),
                "x.pe" => peers.extend(value.parse::<SocketAddr>().ok()),
                _ => {}
            }
        }
        let info_hash = info_hash.ok_or(if v2_only {
            InvalidMagnet::V2Only
        } else {
            InvalidMagnet::NoInfoHash
        })?;
        let mut magnet = Magnet::new(info_hash)
            .with_trackers(trackers)
            .with_peers(peers);
        if let Some(name) = display_name {
            magnet = magnet.with_display_name(&name);
        }
        Ok(magnet)
    }

    /// `xt`: the torrent.
    pub fn info_hash(&self) -> InfoHash {
        self.info_hash
    }

    /// `dn`: the name to show until metadata arrives.
    pub fn display_name(&self) -> Option<&str> {
        self.display_name.as_deref()
    }

    /// `tr`: tracker URLs (http, https, udp, and the WebSocket trackers of WebTorrent:
    /// ws, wss), in the order given.
    pub fn trackers(&self) -> &[String] {
        &self.trackers
    }

    /// `x.pe`: peer addresses to try first. Only literal IP addresses are kept, so that
    /// parsing a link never resolves names.
    pub fn peers(&self) -> &[SocketAddr] {
        &self.peers
    }

    fn add_tracker(&mut self, tracker: &str) {
        let tracker = tracker.trim();
        let usable = self.trackers.len() < MAX_TRACKERS
            && tracker.len() <= MAX_TRACKER_LEN
            && url::Url::parse(tracker).is_ok_and(|u| {
                matches!(u.scheme(), "http" | "https" | "udp" | "ws" | "wss")
                    && u.host_str().is_some_and(|h| !h.is_empty())
            })
            && !self.trackers.iter().any(|t| t == tracker);
        if usable {
            self.trackers.push(tracker.to_owned());
        }
    }

    fn add_peer(&mut self, peer: SocketAddr) {
        // Only the address and port: flow and scope ids are not part of the link.
        let peer = SocketAddr::new(peer.ip(), peer.port());
        if self.peers.len() < MAX_PEERS && peer.port() != 0 && !self.peers.contains(&peer) {
            self.peers.push(peer);
        }
    }
}

impl FromStr for Magnet {
    type Err = InvalidMagnet;

    fn from_str(link: &str) -> Result<Magnet, InvalidMagnet> {
        Magnet::parse(link)
    }
}

/// `magnet:?xt=urn:btih:<hex>&dn=<name>&tr=<tracker>…&x.pe=<peer>…`, every value
/// percent-encoded (all but RFC 3986's unreserved characters), so any parser that
/// decodes query values reads it the same, librqbit's included.
impl fmt::Display for Magnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "magnet:?xt=urn:btih:{}", self.info_hash)?;
        if let Some(name) = &self.display_name {
            write_pair(f, "dn", name)?;
        }
        for tracker in &self.trackers {
            write_pair(f, "tr", tracker)?;
        }
        for peer in &self.peers {
            write_pair(f, "x.pe", &peer.to_string())?;
        }
        Ok(())
    }
}

fn write_pair(f: &mut fmt::Formatter<'_>, key: &str, value: &str) -> fmt::Result {
    write!(f, "&{key}=")?;
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            write!(f, "{}", byte as char)?;
        } else {
            write!(f, "%{byte:02X}")?;
        }
    }
    Ok(())
}

fn bounded_name(name: &str) -> Option<String> {
    let mut end = name.len().min(MAX_NAME_LEN);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    (end > 0).then(|| name[..end].to_owned())
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;
    use proptest::prelude::*;

    const HASH: &str = "c9e15763f722f23e98a29decdfae341b98d53056";

    fn hash() -> InfoHash {
        HASH.parse().unwrap()
    }

    #[test]
    fn parses_hash_name_trackers_and_peers() {
        let link = format!(
            "magnet:?xt=urn:btih:{}&dn=Big+Buck%20Bunny&tr=udp%3A%2F%2Ftracker.example%3A1337\
             &tr=wss%3A%2F%2Fsocket.example&x.pe=127.0.0.1:6881&x.pe=[::1]:51413&x.pe=host.example:1",
            HASH.to_uppercase()
        );
        let m = Magnet::parse(&link).unwrap();
        assert_eq!(m.info_hash().to_string(), HASH);
        assert_eq!(m.display_name(), Some("Big Buck Bunny"));
        assert_eq!(
            m.trackers(),
            [
                "udp://tracker.example:1337".to_string(),
                "wss://socket.example".to_string()
            ]
        );
        assert_eq!(
            m.peers(),
            [
                "127.0.0.1:6881".parse().unwrap(),
                "[::1]:51413".parse().unwrap()
            ]
        );
    }

    #[test]
    fn base32_hash_and_any_case_prefix() {
        let m = Magnet::parse("MAGNET:?XT=x&xt=URN:BTIH:zhqvoy7xelzd5gfctxwn7lrudomnkmcw").unwrap();
        assert_eq!(m.info_hash(), hash());
        // The same torrent twice, in two spellings, is one hash.
        let twice =
            format!("magnet:?xt=urn:btih:{HASH}&xt=urn:btih:ZHQVOY7XELZD5GFCTXWN7LRUDOMNKMCW");
        assert_eq!(Magnet::parse(&twice).unwrap().info_hash(), hash());
    }

    #[test]
    fn rejects_what_is_not_a_v1_magnet() {
        use std::mem::discriminant;
        let not_a_url = InvalidMagnet::NotAUrl(url::ParseError::RelativeUrlWithoutBase);
        let bad_hash = InvalidMagnet::BadInfoHash("1234".parse::<InfoHash>().unwrap_err());
        for (bad, expected) in [
            ("", &not_a_url),
            ("not a link at all", &not_a_url),
            ("magnet:?dn=nothing", &InvalidMagnet::NoInfoHash),
            (
                "http://example.com/?xt=urn:btih:c9e15763f722f23e98a29decdfae341b98d53056",
                &InvalidMagnet::NotMagnet,
            ),
            ("magnet:?xt=urn:btih:1234", &bad_hash),
            ("magnet:?xt=urn:btih:&dn=x", &bad_hash),
            (
                "magnet:?xt=urn:btmh:1220c9e15763f722f23e98a29decdfae341b98d53056c9e15763f722f23e98a2",
                &InvalidMagnet::V2Only,
            ),
            (
                "magnet:?xt=urn:btih:c9e15763f722f23e98a29decdfae341b98d53056&xt=urn:btih:0000000000000000000000000000000000000000",
                &InvalidMagnet::TwoInfoHashes,
            ),
        ] {
            let err = Magnet::parse(bad).unwrap_err();
            assert_eq!(
                discriminant(&err),
                discriminant(expected),
                "{bad:?}: {err:?}"
            );
            assert!(
                err.to_string().starts_with("invalid magnet link: "),
                "{err}"
            );
        }
    }

    #[test]
    fn builds_the_link_search_results_carry() {
        let link = Magnet::new(hash())
            .with_display_name("Night of the Living Dead & co")
            .with_trackers(["http://bt1.archive.org:6969/announce"])
            .to_string();
        assert_eq!(
            link,
            "magnet:?xt=urn:btih:c9e15763f722f23e98a29decdfae341b98d53056\
             &dn=Night%20of%20the%20Living%20Dead%20%26%20co\
             &tr=http%3A%2F%2Fbt1.archive.org%3A6969%2Fannounce"
        );
        let back = Magnet::parse(&link).unwrap();
        assert_eq!(back.info_hash(), hash());
        assert_eq!(back.display_name(), Some("Night of the Living Dead & co"));
        assert_eq!(
            Magnet::new(hash()).with_display_name("").to_string(),
            format!("magnet:?xt=urn:btih:{HASH}")
        );
    }

    #[test]
    fn builder_keeps_only_usable_trackers_and_peers() {
        let m = Magnet::new(hash())
            .with_trackers([
                "udp://tracker.example:1337/announce",
                " https://t.example/announce ",
                "udp://tracker.example:1337/announce",
                "wss://socket.example",
                "dht://c9e15763",
                "http://",
                "not a url",
                "",
            ])
            .with_peers([
                "127.0.0.1:6881".parse().unwrap(),
                "127.0.0.1:0".parse().unwrap(),
                "127.0.0.1:6881".parse().unwrap(),
            ]);
        assert_eq!(
            m.trackers(),
            [
                "udp://tracker.example:1337/announce",
                "https://t.example/announce",
                "wss://socket.example"
            ]
        );
        assert_eq!(m.peers(), ["127.0.0.1:6881".parse().unwrap()]);
    }

    #[test]
    fn the_link_starts_with_a_lowercase_btih_and_encodes_every_value() {
        // The engine hands this link to librqbit, whose parser wants `xt=urn:btih:` in
        // lowercase and decodes %-escapes in values (the engine's tests check it reads it).
        let link = Magnet::new(hash())
            .with_display_name("a & b = c")
            .with_trackers(["http://127.0.0.1:1/announce?x=1&y=2"])
            .with_peers(["[::1]:6881".parse().unwrap()])
            .to_string();
        assert!(
            link.starts_with(&format!("magnet:?xt=urn:btih:{HASH}&")),
            "{link}"
        );
        assert!(link.ends_with("&x.pe=%5B%3A%3A1%5D%3A6881"), "{link}");
    }

    // Hostile input: nothing a link says makes parsing allocate beyond the link's length,
    // and what is kept stays within the limits.

    #[test]
    fn a_link_over_the_limit_is_refused_before_parsing() {
        let huge = format!("magnet:?xt=urn:btih:{HASH}&dn={}", "a".repeat(MAX_LINK_LEN));
        assert_eq!(Magnet::parse(&huge), Err(InvalidMagnet::TooLong));
        let many = format!(
            "magnet:?xt=urn:btih:{HASH}{}",
            "&tr=udp://a.b:1".repeat(10_000)
        );
        assert_eq!(Magnet::parse(&many), Err(InvalidMagnet::TooLong));
    }

    #[test]
    fn a_long_name_is_cut_at_a_character_boundary() {
        // 20 000 bytes, within the link's limit: the name is kept, cut.
        let name = "é".repeat(10_000);
        let m = Magnet::parse(&format!("magnet:?xt=urn:btih:{HASH}&dn={name}")).unwrap();
        let kept = m.display_name().unwrap();
        assert!(
            kept.len() <= MAX_NAME_LEN && kept.len() > MAX_NAME_LEN - 2,
            "{}",
            kept.len()
        );
        assert!(kept.chars().all(|c| c == 'é'));
        assert_eq!(Magnet::parse(&m.to_string()).unwrap(), m);
    }

    #[test]
    fn thousands_of_trackers_and_peers_keep_the_first() {
        let mut link = format!("magnet:?xt=urn:btih:{HASH}");
        for i in 0..1500 {
            link.push_str(&format!(
                "&tr=udp://t{i}:1&x.pe=10.0.{}.{}:1",
                i / 256,
                i % 256
            ));
        }
        assert!(link.len() <= MAX_LINK_LEN);
        let m = Magnet::parse(&link).unwrap();
        assert_eq!(m.trackers().len(), MAX_TRACKERS);
        assert_eq!(m.trackers()[0], "udp://t0:1");
        assert_eq!(
            m.trackers()[MAX_TRACKERS - 1],
            format!("udp://t{}:1", MAX_TRACKERS - 1)
        );
        assert_eq!(m.peers().len(), MAX_PEERS);
        assert_eq!(m.peers()[0], "10.0.0.0:1".parse().unwrap());
    }

    #[test]
    fn a_long_tracker_is_ignored() {
        let long = format!("http://t.example/{}", "a".repeat(MAX_TRACKER_LEN));
        let m = Magnet::parse(&format!(
            "magnet:?xt=urn:btih:{HASH}&tr={long}&tr=udp://ok:1"
        ))
        .unwrap();
        assert_eq!(m.trackers(), ["udp://ok:1"]);
    }

    #[test]
    fn select_only_and_other_keys_are_ignored() {
        for extra in [
            "so=0-18446744073709551615",
            "so=0-18446744073709551615,1,2-3,-,99999999999999999999999",
            "xl=18446744073709551615999",
            "ws=http%3A%2F%2Fseed.example%2F",
            "xt=urn:sha1:ABC&xt=urn:ed2k:xyz",
            "kt=a+b&as=x&xs=y&mt=z&tr.1=udp://t:1",
            "x.pe=not-an-address&x.pe=%FF%FE&x.pe=[::1]&x.pe=1.2.3.4:99999",
            "dn=&tr=&%ZZ=%ZZ&&&=&==",
        ] {
            let m = Magnet::parse(&format!("magnet:?xt=urn:btih:{HASH}&{extra}"))
                .unwrap_or_else(|e| panic!("{extra}: {e}"));
            assert_eq!(m, Magnet::new(hash()), "{extra}");
        }
    }

    #[test]
    fn the_largest_magnet_still_fits_one_link() {
        let v6: IpAddr = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff".parse().unwrap();
        let m = Magnet::new(hash())
            .with_display_name(&"\u{10FFFF}".repeat(MAX_NAME_LEN))
            .with_trackers((0..MAX_TRACKERS).map(|i| {
                let url = format!("https://{i:02}.example/?");
                format!("{url}{}", "&".repeat(MAX_TRACKER_LEN - url.len()))
            }))
            .with_peers((1..=MAX_PEERS as u16).map(|p| SocketAddr::new(v6, 65535 - p)));
        assert_eq!(m.trackers().len(), MAX_TRACKERS);
        assert_eq!(m.peers().len(), MAX_PEERS);
        let link = m.to_string();
        assert!(link.len() <= MAX_LINK_LEN, "{} bytes", link.len());
        assert_eq!(Magnet::parse(&link).unwrap(), m);
    }

    fn any_magnet() -> impl Strategy<Value = Magnet> {
        let tracker = "(http|https|udp|wss|ftp)://[a-zA-Z0-9.-]{0,20}(:[0-9]{1,6})?(/\\PC{0,30})?";
        let peer = (any::<IpAddr>(), any::<u16>()).prop_map(|(ip, port)| SocketAddr::new(ip, port));
        (
            any::<[u8; 20]>(),
            proptest::option::of("(?s).{0,1100}"),
            proptest::collection::vec(tracker, 0..60),
            proptest::collection::vec(peer, 0..110),
        )
            .prop_map(|(hash, name, trackers, peers)| {
                let m = Magnet::new(InfoHash(hash))
                    .with_trackers(trackers)
                    .with_peers(peers);
                match name {
                    Some(name) => m.with_display_name(&name),
                    None => m,
                }
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        // Fuzz: any text, and any query built from magnet-like pieces, parses or fails
        // with an error; never panics. What parses round-trips.
        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,300}") {
            let _ = Magnet::parse(&s);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = Magnet::parse(&String::from_utf8_lossy(&bytes));
            let _ = Magnet::parse(&format!("magnet:?{}", String::from_utf8_lossy(&bytes)));
        }

        #[test]
        fn magnet_like_queries(parts in proptest::collection::vec(
            prop_oneof![
                Just("xt=urn:btih:".to_string()),
                "[0-9a-fA-F]{0,41}",
                "[A-Z2-7]{32}",
                Just("&".to_string()), Just("=".to_string()), Just("%".to_string()),
                Just("dn=".to_string()), Just("tr=".to_string()), Just("x.pe=".to_string()),
                Just("so=".to_string()), Just("udp://".to_string()),
                "[0-9.:\\[\\]-]{0,24}",
                "\\PC{0,8}",
            ], 0..12)) {
            let link = format!("magnet:?{}", parts.concat());
            if let Ok(m) = Magnet::parse(&link) {
                prop_assert_eq!(Magnet::parse(&m.to_string()), Ok(m));
            }
        }

        #[test]
        fn display_parse_round_trip(m in any_magnet()) {
            let link = m.to_string();
            prop_assert!(link.len() <= MAX_LINK_LEN);
            prop_assert_eq!(Magnet::parse(&link), Ok(m.clone()));
            prop_assert_eq!(link.parse::<Magnet>(), Ok(m));
        }

        #[test]
        fn whatever_parses_is_within_the_limits(m in any_magnet(), junk in "\\PC{0,40}") {
            let m = Magnet::parse(&format!("{m}&{junk}")).unwrap();
            prop_assert!(m.display_name().is_none_or(|n| !n.is_empty() && n.len() <= MAX_NAME_LEN));
            prop_assert!(m.trackers().len() <= MAX_TRACKERS);
            prop_assert!(m.trackers().iter().all(|t| t.len() <= MAX_TRACKER_LEN));
            prop_assert!(m.peers().len() <= MAX_PEERS);
            prop_assert!(m.peers().iter().all(|p| p.port() != 0));
        }
    }
}
