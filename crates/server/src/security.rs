//! Who may talk to the server, decided from a request's headers alone: the `Host`
//! allow-list (against DNS rebinding), the owner's access token, the origin rules of
//! control requests (against cross-site requests), and the per-stream tokens that let a
//! page on another origin play a stream only when it was given its URL.
//!
//! The HTTP layer that applies these rules to every request is `http::guard`; the
//! policy itself is written down in ARCHITECTURE.md ("Security").

use std::net::IpAddr;

use axum::http::{HeaderMap, Method, header};
use cinemahalal_engine::InfoHash;
use data_encoding::{BASE64, HEXLOWER};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The shortest access token accepted: guessing one must be out of reach.
pub const MIN_ACCESS_TOKEN_LEN: usize = 16;

/// What the owner configures (flags `--access-token`, `--allowed-host`).
#[derive(Debug, Clone, Default)]
pub struct SecuritySettings {
    /// Required on every request when set; required to bind a non-loopback address.
    pub access_token: Option<String>,
    /// Extra names (`name`: any port, or `name:port`) that requests may carry in `Host`.
    pub allowed_hosts: Vec<String>,
}

impl SecuritySettings {
    /// Why the server must not start with these settings on `bind`, if it must not.
    pub fn refusal(&self, bind: IpAddr) -> Option<String> {
        match &self.access_token {
            Some(token) if token.chars().count() < MIN_ACCESS_TOKEN_LEN => Some(format!(
                "the access token must be at least {MIN_ACCESS_TOKEN_LEN} characters long"
            )),
            None if !bind.is_loopback() => Some(format!(
                "binding {bind} makes the API reachable from other machines, so it needs an \
                 access token: set --access-token (or CINEMAHALAL_ACCESS_TOKEN), or bind 127.0.0.1 \
                 and put a reverse proxy with authentication in front (see the README's Security section)"
            )),
            _ => None,
        }
    }
}

/// The rules for one running server, built once its port is known.
#[derive(Debug, Clone)]
pub struct SecurityPolicy {
    hosts: HostAllowList,
    access_token: Option<[u8; 32]>,
}

impl SecurityPolicy {
    /// `port` is the port the server listens on; `public_url` the configured public URL,
    /// whose host is allowed too; `bind` the address bound.
    pub fn new(
        settings: &SecuritySettings,
        bind: IpAddr,
        port: u16,
        public_url: Option<&str>,
    ) -> SecurityPolicy {
        let mut names: Vec<HostName> = ["127.0.0.1", "localhost", "[::1]"]
            .into_iter()
            .map(|n| HostName::new(n, Some(port)))
            .collect();
        if let Some(url) = public_url.and_then(|u| url::Url::parse(u).ok())
            && let Some(host) = url.host_str()
        {
            // A proxy passes the public name with or without the port its clients used.
            names.push(HostName::new(host, None));
        }
        names.extend(
            settings
                .allowed_hosts
                .iter()
                .filter_map(|h| HostName::parse(h))
                .map(|h| HostName {
                    port: h.port.filter(|p| *p != 80),
                    ..h
                }),
        );
        SecurityPolicy {
            hosts: HostAllowList {
                names,
                // A rebinding attack needs a name; an IP literal in `Host` is the address
                // the client really connected to, so on a non-loopback bind any is fine.
                any_ip_literal: !bind.is_loopback(),
            },
            access_token: settings.access_token.as_deref().map(digest),
        }
    }

    /// Checks `Host` (or, in HTTP/2, the URI's authority).
    pub fn check_host(&self, host: Option<&str>) -> Result<(), HostRefusal> {
        let host = host.ok_or(HostRefusal::Missing)?;
        if self.hosts.allows(host) {
            Ok(())
        } else {
            Err(HostRefusal::NotAllowed(host.to_string()))
        }
    }

    /// Whether `headers` carry the access token, as `Authorization: Bearer <token>` or as
    /// the password of `Authorization: Basic` (what browsers and players such as VLC send
    /// for `http://user:token@host/…`). Compared in constant time.
    pub fn has_token(&self, headers: &HeaderMap) -> bool {
        let Some(want) = &self.access_token else {
            return true;
        };
        let Some(given) = presented_token(headers) else {
            return false;
        };
        bool::from(digest(&given).ct_eq(want))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostRefusal {
    Missing,
    NotAllowed(String),
}

#[derive(Debug, Clone)]
struct HostAllowList {
    names: Vec<HostName>,
    any_ip_literal: bool,
}

/// A lower-case host name or IP literal (IPv6 in brackets), with the port it must come
/// with (`None`: any port).
#[derive(Debug, Clone, PartialEq, Eq)]
struct HostName {
    name: String,
    port: Option<u16>,
}

impl HostName {
    fn new(name: &str, port: Option<u16>) -> HostName {
        HostName {
            name: name.to_ascii_lowercase(),
            port,
        }
    }

    /// `name`, `name:port`, `[v6]` or `[v6]:port`, as a `Host` header has it.
    fn parse(text: &str) -> Option<HostName> {
        let url = url::Url::parse(&format!("http://{}/", text.trim())).ok()?;
        if !url.username().is_empty() || url.password().is_some() || url.path() != "/" {
            return None;
        }
        let host = url.host_str()?;
        // `url` drops the port 80 of http://; a `Host` without a port means 80 too.
        Some(HostName::new(host, Some(url.port().unwrap_or(80))))
    }
}

impl HostAllowList {
    fn allows(&self, host: &str) -> bool {
        let Some(given) = HostName::parse(host) else {
            return false;
        };
        if self.any_ip_literal && is_ip_literal(&given.name) {
            return true;
        }
        self.names
            .iter()
            .any(|n| n.name == given.name && n.port.is_none_or(|p| Some(p) == given.port))
    }
}

fn is_ip_literal(name: &str) -> bool {
    name.parse::<IpAddr>().is_ok()
        || name
            .strip_prefix('[')
            .and_then(|n| n.strip_suffix(']'))
            .is_some_and(|n| n.parse::<IpAddr>().is_ok())
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn presented_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        Some(rest.to_string())
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = BASE64.decode(rest.as_bytes()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        text.split_once(':')
            .map(|(_, password)| password.to_string())
    } else {
        None
    }
}

/// What a request is, for the policy: the API's read-only GETs are open to any origin
/// that may reach the server; media needs a stream token when a browser says the
/// request comes from another site; everything else is control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// The web UI's files.
    Ui,
    /// `GET /api/health`, `GET /api/stream/{hash}/status`.
    ReadOnly,
    /// `GET /api/stream/{hash}[/{file}]`: the media itself; and what is made from a
    /// file: `…/{file}/probe`, `…/{file}/hls/…`, `…/{file}/subtitles/…`.
    Media,
    /// Everything else under `/api`: search, providers, preparing and stopping streams.
    Control,
}

impl RequestKind {
    pub fn of(method: &Method, path: &str) -> RequestKind {
        let Some(api) = path.strip_prefix("/api/") else {
            return if path == "/api" {
                RequestKind::Control
            } else {
                RequestKind::Ui
            };
        };
        if method != Method::GET && method != Method::HEAD {
            return RequestKind::Control;
        }
        let segments: Vec<&str> = api.split('/').collect();
        match segments.as_slice() {
            ["health"] => RequestKind::ReadOnly,
            ["stream", _, "status"] => RequestKind::ReadOnly,
            ["stream", _] | ["stream", _, _] => RequestKind::Media,
            // What is made from a file (probe, HLS, WebVTT) is the file's media too.
            ["stream", _, _, "probe"]
            | ["stream", _, _, "hls", _]
            | ["stream", _, _, "subtitles", _] => RequestKind::Media,
            _ => RequestKind::Control,
        }
    }
}

/// Whether a control request may go on: no `Origin` (a player, curl, a same-origin GET)
/// or the server's own origin; and a browser's `Sec-Fetch-Site` of `same-origin` or
/// `none` (typed in the address bar) when present. `own_origins` are the origins a page
/// of this server has (`scheme://host[:port]`, lower case).
pub fn control_allowed(headers: &HeaderMap, own_origins: &[String]) -> Result<(), String> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("").trim().to_ascii_lowercase();
        if !own_origins.contains(&origin) {
            return Err(format!(
                "requests from {origin:?} may not control this server; only its own pages may"
            ));
        }
    }
    match fetch_site(headers) {
        None | Some("same-origin") | Some("none") => Ok(()),
        Some(site) => Err(format!(
            "a {site} request may not control this server; only its own pages may"
        )),
    }
}

/// `Sec-Fetch-Site`, as browsers send it with every request (absent from players).
pub fn fetch_site(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("sec-fetch-site")
        .map(|v| v.to_str().unwrap_or("cross-site").trim())
}

/// Whether a browser marked the request as coming from a page of another site.
pub fn is_cross_site(headers: &HeaderMap) -> bool {
    matches!(fetch_site(headers), Some("cross-site" | "same-site"))
}

/// The per-stream tokens of `streamUrl`: unguessable, one per info hash, valid while
/// this server runs (derived from a secret drawn at start).
#[derive(Clone)]
pub struct StreamKeys {
    secret: [u8; 32],
}

impl std::fmt::Debug for StreamKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StreamKeys(..)")
    }
}

/// The query parameter of `streamUrl` that carries the stream token.
pub const STREAM_TOKEN_PARAM: &str = "token";

impl StreamKeys {
    pub fn random() -> StreamKeys {
        StreamKeys {
            secret: rand::random(),
        }
    }

    /// 32 hex digits (128 bits) naming `info_hash` under this server's secret.
    pub fn token(&self, info_hash: &InfoHash) -> String {
        let mut h = Sha256::new();
        h.update(b"cinemahalal stream token\0");
        h.update(self.secret);
        h.update(info_hash.to_string().as_bytes());
        HEXLOWER.encode(&h.finalize()[..16])
    }

    /// Whether `query` (a URL's query string) carries `info_hash`'s token.
    pub fn check(&self, info_hash: &InfoHash, query: Option<&str>) -> bool {
        let want = self.token(info_hash);
        url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .filter(|(k, _)| k == STREAM_TOKEN_PARAM)
            .any(|(_, v)| bool::from(v.as_bytes().ct_eq(want.as_bytes())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use std::net::Ipv4Addr;

    const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    fn policy(
        settings: SecuritySettings,
        bind: IpAddr,
        public_url: Option<&str>,
    ) -> SecurityPolicy {
        SecurityPolicy::new(&settings, bind, 3001, public_url)
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn loopback_names_with_the_servers_port_pass_and_nothing_else_does() {
        let p = policy(SecuritySettings::default(), LOOPBACK, None);
        for ok in [
            "127.0.0.1:3001",
            "localhost:3001",
            "LOCALHOST:3001",
            "[::1]:3001",
        ] {
            assert_eq!(p.check_host(Some(ok)), Ok(()), "{ok}");
        }
        for bad in [
            "attacker.example:3001",
            "127.0.0.1:3002",
            "localhost",
            "127.0.0.1",
            "localhost.:3001",
            "127.0.0.2:3001",
            "192.168.1.5:3001",
            "user@127.0.0.1:3001",
            "127.0.0.1:3001/x",
            "",
        ] {
            assert!(p.check_host(Some(bad)).is_err(), "{bad} passed");
        }
        assert_eq!(p.check_host(None), Err(HostRefusal::Missing));
    }

    #[test]
    fn the_public_url_host_and_configured_names_pass() {
        let settings = SecuritySettings {
            allowed_hosts: vec!["tv.lan".into(), "media.lan:8080".into()],
            ..Default::default()
        };
        let p = policy(settings, LOOPBACK, Some("https://tv.example.org"));
        for ok in [
            "tv.example.org:443",
            "tv.lan",
            "tv.lan:3001",
            "media.lan:8080",
        ] {
            assert_eq!(p.check_host(Some(ok)), Ok(()), "{ok}");
        }
        assert_eq!(p.check_host(Some("tv.example.org")), Ok(()));
        for bad in [
            "tv.example.org.evil",
            "media.lan:3001",
            "media.lan",
            "evil.lan",
        ] {
            assert!(p.check_host(Some(bad)).is_err(), "{bad} passed");
        }
    }

    #[test]
    fn a_non_loopback_bind_accepts_ip_literals_but_still_no_foreign_names() {
        let settings = SecuritySettings {
            access_token: Some("0123456789abcdef".into()),
            ..Default::default()
        };
        let p = policy(settings, "0.0.0.0".parse().unwrap(), None);
        assert_eq!(p.check_host(Some("192.168.1.5:3001")), Ok(()));
        assert_eq!(p.check_host(Some("[fe80::1]:3001")), Ok(()));
        assert!(p.check_host(Some("rebind.attacker.example:3001")).is_err());
    }

    #[test]
    fn binding_beyond_loopback_needs_a_long_enough_token() {
        let none = SecuritySettings::default();
        assert!(none.refusal(LOOPBACK).is_none());
        assert!(none.refusal("::1".parse().unwrap()).is_none());
        let why = none.refusal("0.0.0.0".parse().unwrap()).unwrap();
        assert!(why.contains("--access-token"), "{why}");
        let short = SecuritySettings {
            access_token: Some("short".into()),
            ..Default::default()
        };
        assert!(short.refusal(LOOPBACK).is_some());
        let good = SecuritySettings {
            access_token: Some("a long enough token".into()),
            ..Default::default()
        };
        assert!(good.refusal("0.0.0.0".parse().unwrap()).is_none());
    }

    #[test]
    fn the_token_is_taken_from_bearer_or_basic_and_nothing_else() {
        let settings = SecuritySettings {
            access_token: Some("correct horse battery".into()),
            ..Default::default()
        };
        let p = policy(settings, LOOPBACK, None);
        let basic = format!("Basic {}", BASE64.encode(b"anyone:correct horse battery"));
        assert!(p.has_token(&headers(&[(
            "authorization",
            "Bearer correct horse battery"
        )])));
        assert!(p.has_token(&headers(&[("authorization", &basic)])));
        let wrong = format!("Basic {}", BASE64.encode(b"correct horse battery:x"));
        for bad in [
            "Bearer correct horse batter",
            "Bearer correct horse battery2",
            "Token correct horse battery",
            wrong.as_str(),
            "Basic !!!",
        ] {
            assert!(!p.has_token(&headers(&[("authorization", bad)])), "{bad}");
        }
        assert!(!p.has_token(&HeaderMap::new()));
        let open = policy(SecuritySettings::default(), LOOPBACK, None);
        assert!(
            open.has_token(&HeaderMap::new()),
            "no token set: nothing to carry"
        );
    }

    #[test]
    fn requests_are_sorted_by_what_they_may_do() {
        let hash = "0123456789abcdef0123456789abcdef01234567";
        let kind = |m: Method, p: &str| RequestKind::of(&m, p);
        assert_eq!(kind(Method::GET, "/"), RequestKind::Ui);
        assert_eq!(kind(Method::GET, "/assets/index.js"), RequestKind::Ui);
        assert_eq!(kind(Method::GET, "/api/health"), RequestKind::ReadOnly);
        assert_eq!(kind(Method::HEAD, "/api/health"), RequestKind::ReadOnly);
        let status = format!("/api/stream/{hash}/status");
        assert_eq!(kind(Method::GET, &status), RequestKind::ReadOnly);
        let media = format!("/api/stream/{hash}");
        assert_eq!(kind(Method::GET, &media), RequestKind::Media);
        assert_eq!(
            kind(Method::HEAD, &format!("{media}/2")),
            RequestKind::Media
        );
        for made in [
            "probe",
            "hls/index.m3u8",
            "hls/3.ts",
            "subtitles/file-2.vtt",
        ] {
            let path = format!("{media}/0/{made}");
            assert_eq!(kind(Method::GET, &path), RequestKind::Media, "{path}");
        }
        let deeper = format!("{media}/0/hls/x/y");
        assert_eq!(kind(Method::GET, &deeper), RequestKind::Control);
        assert_eq!(kind(Method::DELETE, &media), RequestKind::Control);
        assert_eq!(kind(Method::POST, "/api/stream"), RequestKind::Control);
        assert_eq!(kind(Method::GET, "/api/search"), RequestKind::Control);
        assert_eq!(kind(Method::GET, "/api/providers"), RequestKind::Control);
        assert_eq!(kind(Method::GET, "/api/streams"), RequestKind::Control);
        assert_eq!(kind(Method::GET, "/api"), RequestKind::Control);
        assert_eq!(kind(Method::POST, "/"), RequestKind::Ui);
    }

    #[test]
    fn control_needs_the_servers_own_origin_or_none() {
        let own = vec!["http://127.0.0.1:3001".to_string()];
        assert!(control_allowed(&HeaderMap::new(), &own).is_ok());
        assert!(control_allowed(&headers(&[("origin", "http://127.0.0.1:3001")]), &own).is_ok());
        for (k, v) in [
            ("origin", "http://evil.example"),
            ("origin", "null"),
            ("origin", "http://127.0.0.1:3002"),
            ("sec-fetch-site", "cross-site"),
            ("sec-fetch-site", "same-site"),
        ] {
            assert!(
                control_allowed(&headers(&[(k, v)]), &own).is_err(),
                "{k}: {v}"
            );
        }
        for site in ["same-origin", "none"] {
            assert!(control_allowed(&headers(&[("sec-fetch-site", site)]), &own).is_ok());
        }
    }

    #[test]
    fn stream_tokens_are_per_stream_and_per_server() {
        let a: InfoHash = "0123456789abcdef0123456789abcdef01234567".parse().unwrap();
        let b: InfoHash = "1123456789abcdef0123456789abcdef01234567".parse().unwrap();
        let keys = StreamKeys::random();
        let token = keys.token(&a);
        assert_eq!(token.len(), 32);
        assert_ne!(token, keys.token(&b));
        assert_ne!(token, StreamKeys::random().token(&a));
        assert!(keys.check(&a, Some(&format!("token={token}"))));
        assert!(keys.check(&a, Some(&format!("x=1&token={token}"))));
        assert!(!keys.check(&b, Some(&format!("token={token}"))));
        assert!(!keys.check(&a, Some("token=")));
        assert!(!keys.check(&a, None));
    }
}
