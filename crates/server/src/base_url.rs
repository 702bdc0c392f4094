//! Where a client reaches this server: the prefix of every `streamUrl`.
//!
//! In order: the configured public URL; else, for a request that comes from a trusted
//! proxy, `Forwarded` (RFC 7239) or `X-Forwarded-Host`/`X-Forwarded-Proto`; else `Host`;
//! else the address the server listens on. Forwarding headers from anyone else are
//! ignored, so a client cannot point another client's `streamUrl` elsewhere.

use std::net::{IpAddr, SocketAddr};

use axum::http::{HeaderMap, header};
use ipnet::IpNet;

#[derive(Debug, Clone)]
pub struct BaseUrlPolicy {
    /// `scheme://host[:port][/prefix]`, no trailing slash.
    public_url: Option<String>,
    trusted_proxies: Vec<IpNet>,
}

impl Default for BaseUrlPolicy {
    fn default() -> Self {
        BaseUrlPolicy {
            public_url: None,
            trusted_proxies: default_trusted_proxies(),
        }
    }
}

/// Loopback, where a reverse proxy on the same machine connects from.
pub const DEFAULT_TRUSTED_PROXIES: &str = "127.0.0.0/8,::1/128";

/// [`DEFAULT_TRUSTED_PROXIES`], parsed.
pub fn default_trusted_proxies() -> Vec<IpNet> {
    DEFAULT_TRUSTED_PROXIES
        .split(',')
        .map(|net| net.parse().expect("the default trusted proxies parse"))
        .collect()
}

/// Parses a public base URL: http or https, no query or fragment; the trailing slash dropped.
pub fn parse_public_url(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text.trim()).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!(
            "{text:?} must be an http:// or https:// URL with a host"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(format!(
            "{text:?} must not carry a query, fragment or user name"
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

impl BaseUrlPolicy {
    pub fn new(public_url: Option<String>, trusted_proxies: Vec<IpNet>) -> BaseUrlPolicy {
        BaseUrlPolicy {
            public_url,
            trusted_proxies,
        }
    }

    /// The configured public URL, if any.
    pub fn public_url(&self) -> Option<&str> {
        self.public_url.as_deref()
    }

    pub fn base_url(
        &self,
        client: Option<IpAddr>,
        headers: &HeaderMap,
        local: SocketAddr,
    ) -> String {
        if let Some(url) = &self.public_url {
            return url.clone();
        }
        let trusted = client.is_some_and(|ip| {
            let ip = ip.to_canonical();
            self.trusted_proxies.iter().any(|net| net.contains(&ip))
        });
        let host_header = header_str(headers, header::HOST.as_str()).filter(|h| is_host(h));
        if trusted {
            let (fwd_host, fwd_proto) = forwarded(headers);
            let host = fwd_host
                .or_else(|| first_value(headers, "x-forwarded-host"))
                .filter(|h| is_host(h));
            let proto = fwd_proto
                .or_else(|| first_value(headers, "x-forwarded-proto"))
                .map(|p| p.to_ascii_lowercase())
                .filter(|p| p == "http" || p == "https");
            if host.is_some() || proto.is_some() {
                let host = host
                    .or(host_header)
                    .map(str::to_string)
                    .unwrap_or_else(|| local.to_string());
                return format!("{}://{host}", proto.as_deref().unwrap_or("http"));
            }
        }
        match host_header {
            Some(host) => format!("http://{host}"),
            None => format!("http://{local}"),
        }
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// The first entry of a comma-separated header (the one the outermost proxy set).
fn first_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    header_str(headers, name)?
        .split(',')
        .next()
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// `host` and `proto` of the first element of `Forwarded` (RFC 7239 §4), where the
/// first proxy recorded what the client asked for.
fn forwarded(headers: &HeaderMap) -> (Option<&str>, Option<&str>) {
    let Some(value) = header_str(headers, "forwarded") else {
        return (None, None);
    };
    let first = split_outside_quotes(value, ',')
        .into_iter()
        .next()
        .unwrap_or("");
    let (mut host, mut proto) = (None, None);
    for pair in split_outside_quotes(first, ';') {
        let Some((key, val)) = pair.split_once('=') else {
            continue;
        };
        let val = val.trim();
        let val = val
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(val);
        match key.trim().to_ascii_lowercase().as_str() {
            "host" => host = Some(val),
            "proto" => proto = Some(val),
            _ => {}
        }
    }
    (
        host.filter(|h| !h.is_empty()),
        proto.filter(|p| !p.is_empty()),
    )
}

fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                parts.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(s[start..].trim());
    parts
}

/// A host name or IP literal with an optional port, and nothing that could change the
/// meaning of the URL it is put in.
fn is_host(h: &str) -> bool {
    let plain = !h.is_empty()
        && h.len() <= 255
        && h.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']' | b'_')
        });
    plain
        && url::Url::parse(&format!("http://{h}/"))
            .is_ok_and(|u| u.host_str().is_some_and(|host| !host.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use proptest::prelude::*;

    const LOCAL: SocketAddr = SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 3001);

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn host_header_without_proxy() {
        let p = BaseUrlPolicy::default();
        let h = headers(&[("host", "media.local:3001")]);
        assert_eq!(
            p.base_url(ip("192.168.1.20"), &h, LOCAL),
            "http://media.local:3001"
        );
        assert_eq!(
            p.base_url(None, &HeaderMap::new(), LOCAL),
            "http://127.0.0.1:3001"
        );
    }

    #[test]
    fn forwarded_headers_only_from_trusted_proxies() {
        let p = BaseUrlPolicy::default();
        let h = headers(&[
            ("host", "localhost:3001"),
            ("x-forwarded-host", "evil.example"),
            ("x-forwarded-proto", "https"),
        ]);
        assert_eq!(
            p.base_url(ip("203.0.113.9"), &h, LOCAL),
            "http://localhost:3001"
        );
        assert_eq!(
            p.base_url(ip("127.0.0.1"), &h, LOCAL),
            "https://evil.example"
        );
        assert_eq!(
            p.base_url(ip("::ffff:127.0.0.1"), &h, LOCAL),
            "https://evil.example"
        );
        assert_eq!(p.base_url(ip("::1"), &h, LOCAL), "https://evil.example");
        let none = BaseUrlPolicy::new(None, vec![]);
        assert_eq!(
            none.base_url(ip("127.0.0.1"), &h, LOCAL),
            "http://localhost:3001"
        );
        let lan = BaseUrlPolicy::new(None, vec!["10.0.0.0/8".parse().unwrap()]);
        assert_eq!(
            lan.base_url(ip("10.1.2.3"), &h, LOCAL),
            "https://evil.example"
        );
    }

    #[test]
    fn rfc7239_forwarded_wins_and_uses_the_first_element() {
        let p = BaseUrlPolicy::default();
        let h = headers(&[
            ("host", "localhost:3001"),
            (
                "forwarded",
                r#"for=192.0.2.60;proto=https;host="tv.example.org:8443", for=10.0.0.1;host=inner"#,
            ),
            ("x-forwarded-host", "other.example"),
        ]);
        assert_eq!(
            p.base_url(ip("127.0.0.1"), &h, LOCAL),
            "https://tv.example.org:8443"
        );
        let h = headers(&[("host", "h:1"), ("x-forwarded-proto", "https, http")]);
        assert_eq!(p.base_url(ip("127.0.0.1"), &h, LOCAL), "https://h:1");
    }

    #[test]
    fn public_url_overrides_everything() {
        let url = parse_public_url("https://tv.example.org/cinema/").unwrap();
        let p = BaseUrlPolicy::new(Some(url), default_trusted_proxies());
        let h = headers(&[("host", "localhost"), ("x-forwarded-host", "x")]);
        assert_eq!(
            p.base_url(ip("127.0.0.1"), &h, LOCAL),
            "https://tv.example.org/cinema"
        );
        assert!(parse_public_url("ftp://x").is_err());
        assert!(parse_public_url("https://x/?a=b").is_err());
        assert!(parse_public_url("not a url").is_err());
    }

    #[test]
    fn rejects_hosts_that_would_change_the_url() {
        let p = BaseUrlPolicy::default();
        for bad in [
            "evil.example/path",
            "a@b",
            "x y",
            "javascript:alert(1)//",
            "h?x",
        ] {
            let h = headers(&[("host", "good:1"), ("x-forwarded-host", bad)]);
            assert_eq!(
                p.base_url(ip("127.0.0.1"), &h, LOCAL),
                "http://good:1",
                "{bad}"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn fuzz_forwarded_never_panics_and_stays_a_url(value in "[ -~]{0,80}", xfh in "[ -~]{0,40}") {
            let mut h = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_str(&value) { h.insert("forwarded", v); }
            if let Ok(v) = HeaderValue::from_str(&xfh) { h.insert("x-forwarded-host", v); }
            let got = BaseUrlPolicy::default().base_url(ip("127.0.0.1"), &h, LOCAL);
            prop_assert!(got.starts_with("http://") || got.starts_with("https://"));
            prop_assert!(url::Url::parse(&got).is_ok(), "{}", got);
            let rest = got.split_once("://").unwrap().1;
            prop_assert!(!rest.contains(['/', '?', '#', '@']), "{}", got);
        }
    }
}
