//! Fixture upstreams on 127.0.0.1, one axum server speaking every protocol under its
//! own prefix, with realistic answers, plus broken variants (500, malformed, slow, huge).
//!
//! | prefix | speaks |
//! | --- | --- |
//! | `/ia` | Internet Archive advancedsearch + metadata |
//! | `/ia-broken` | advancedsearch answering truncated JSON |
//! | `/ia-huge` | advancedsearch answering 5 MiB with a Content-Length |
//! | `/jackett/api/v2.0/indexers/all/results/torznab` | Jackett's Torznab (needs [`JACKETT_KEY`]) |
//! | `/torznab-500`, `/torznab-bad`, `/torznab-slow` | Torznab failing with 500, truncated XML, after 30 s |
//! | `/torrentio` | a Torrentio-like Stremio add-on |
//! | `/stremio-html` | an add-on answering an HTML page with 200 |
//! | `/stremio-chunked` | an add-on answering 5 MiB, chunked, without a Content-Length |
//! | `/stremio-slow` | an add-on answering after 30 s |

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cinemahalal_search::ProviderConfig;

/// Night of the Living Dead (1968), public domain.
pub const IMDB_ID: &str = "tt0063350";
pub const JACKETT_KEY: &str = "jackett-secret-key-0123456789";

/// The Archive item `night_of_the_living_dead`'s own torrent; Jackett (7 seeders) and
/// Torrentio (12 seeders) have it too.
pub const HASH_IA: &str = "6f9e0f6d1c0b7a8e4e5d3c2b1a09f8e7d6c5b4a3";
/// The Archive item `NightOfTheLivingDead1968_201507`.
pub const HASH_IA2: &str = "2b7a1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b";
/// 1080p BluRay: Jackett 120 seeders, Torrentio 98.
pub const HASH_A: &str = "c9e15763f722f23e98a29decdfae341b98d53056";
/// 720p YTS: Jackett only, known through a base32 magnet link.
pub const HASH_B: &str = "08ada5a7a6183aae1e09d831df6748d566095a10";
pub const HASH_B_BASE32: &str = "BCW2LJ5GDA5K4HQJ3AY56Z2I2VTASWQQ";
/// 2160p: Torrentio only, 300 seeders.
pub const HASH_C: &str = "dd8255ecdc7ca55fb0bbf81323d87062db1f6d1c";

/// A running fixture server.
pub struct Upstream {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Every request's path and query, in arrival order.
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl Upstream {
    pub async fn start() -> Upstream {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let torznab = "/jackett/api/v2.0/indexers/all/results/torznab/api";
        let app = Router::new()
            .route("/ia/advancedsearch.php", get(ia_search))
            .route("/ia/metadata/{id}", get(ia_metadata))
            .route("/ia-broken/advancedsearch.php", get(|| async { json_response(r#"{"responseHeader":{"status":0},"response":{"numFound":3,"docs":[{"identifier":"#) }))
            .route("/ia-huge/advancedsearch.php", get(|| async { json_response(&huge_json()) }))
            .route(torznab, get(jackett))
            .route("/torznab-500/api", get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error") }))
            .route("/torznab-bad/api", get(|| async { xml_response(&JACKETT_FEED[..JACKETT_FEED.len() / 2]) }))
            .route("/torznab-slow/api", get(slow))
            .route("/torrentio/stream/movie/{file}", get(torrentio))
            .route("/stremio-html/stream/movie/{file}", get(|| async {
                ([(header::CONTENT_TYPE, "text/html")], "<html><body>Cloudflare: checking your browser</body></html>")
            }))
            .route("/stremio-chunked/stream/movie/{file}", get(chunked_huge))
            .route("/stremio-slow/stream/movie/{file}", get(slow))
            .layer(middleware::from_fn_with_state(requests.clone(), record));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.expect("fixture server") });
        Upstream { base, requests }
    }

    pub fn requests_matching(&self, needle: &str) -> Vec<String> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.contains(needle))
            .cloned()
            .collect()
    }

    pub fn archive(&self) -> ProviderConfig {
        ProviderConfig {
            url: format!("{}/ia", self.base),
            ..ProviderConfig::archive()
        }
    }

    pub fn jackett(&self) -> ProviderConfig {
        ProviderConfig::torznab(
            "Jackett",
            &format!(
                "{}/jackett/api/v2.0/indexers/all/results/torznab",
                self.base
            ),
            Some(JACKETT_KEY),
        )
    }

    pub fn torrentio(&self) -> ProviderConfig {
        ProviderConfig::stremio(
            "Torrentio",
            &format!("{}/torrentio/manifest.json", self.base),
        )
    }

    /// A provider at `<base><prefix>`, with a 1 s timeout.
    pub fn broken(
        &self,
        name: &str,
        kind: cinemahalal_search::ProviderKind,
        prefix: &str,
    ) -> ProviderConfig {
        ProviderConfig {
            timeout_secs: Some(1),
            ..ProviderConfig::new(name, kind, &format!("{}{prefix}", self.base))
        }
    }
}

async fn record(
    State(log): State<Arc<Mutex<Vec<String>>>>,
    request: Request,
    next: Next,
) -> Response {
    log.lock().unwrap().push(request.uri().to_string());
    next.run(request).await
}

fn json_response(body: &str) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_owned(),
    )
        .into_response()
}

fn xml_response(body: &str) -> Response {
    (
        [(header::CONTENT_TYPE, "application/rss+xml; charset=utf-8")],
        body.to_owned(),
    )
        .into_response()
}

fn query_pairs(raw: &Option<String>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.as_deref().unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

fn param(pairs: &[(String, String)], key: &str) -> Option<String> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

async fn slow() -> &'static str {
    // A deliberately slow upstream: far longer than the providers' 1 s timeout.
    tokio::time::sleep(Duration::from_secs(30)).await;
    "{}"
}

fn huge_json() -> String {
    let mut body = String::from(r#"{"response":{"docs":[], "padding":""#);
    body.push_str(&"x".repeat(5 * 1024 * 1024));
    body.push_str(r#""}}"#);
    body
}

async fn chunked_huge() -> Response {
    let chunks = (0..80).map(|_| Ok::<_, std::io::Error>(vec![b' '; 64 * 1024]));
    (
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(futures::stream::iter(chunks)),
    )
        .into_response()
}

// ---- Internet Archive ----------------------------------------------------------------

async fn ia_search(RawQuery(raw): RawQuery) -> Response {
    let pairs = query_pairs(&raw);
    let q = param(&pairs, "q").unwrap_or_default();
    let fields: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "fl[]")
        .map(|(_, v)| v.clone())
        .collect();
    if fields != ["identifier", "title", "downloads", "item_size"]
        || param(&pairs, "output").as_deref() != Some("json")
    {
        return (StatusCode::BAD_REQUEST, "bad fields").into_response();
    }
    let docs = if q == format!("external-identifier:\"urn:imdb:{IMDB_ID}\" AND mediatype:(movies)")
    {
        r#"[{"identifier":"night_of_the_living_dead","title":"Night of the Living Dead","downloads":2345678,"item_size":4353214567}]"#.to_owned()
    } else if q == "title:(night AND of AND the AND living AND dead) AND mediatype:(movies)" {
        r#"[
          {"identifier":"night_of_the_living_dead","title":"Night of the Living Dead","downloads":2345678,"item_size":4353214567},
          {"identifier":"NightOfTheLivingDead1968_201507","title":["Night Of The Living Dead (1968) 480p"],"downloads":"51234"},
          {"identifier":"night-of-the-living-dead-1990-dark","title":"Night of the Living Dead (1990)","downloads":12}
        ]"#.to_owned()
    } else if q == "title:(plan AND 9) AND mediatype:(movies)" {
        let docs: Vec<String> = (1..=15)
            .map(|i| format!(r#"{{"identifier":"plan9_part{i}","title":"Plan 9 part {i}","downloads":{},"item_size":{}}}"#, 1000 - i, i * 1000))
            .collect();
        format!("[{}]", docs.join(","))
    } else {
        "[]".to_owned()
    };
    let count = docs.matches("identifier").count();
    json_response(&format!(
        r#"{{"responseHeader":{{"status":0,"QTime":31,"params":{{"query":{q:?},"qin":{q:?},"fields":"identifier,title,downloads,item_size","wt":"json","sort":"downloads desc","rows":"10","start":0}}}},"response":{{"numFound":{count},"start":0,"docs":{docs}}}}}"#
    ))
}

async fn ia_metadata(Path(id): Path<String>) -> Response {
    let (btih, item_size, title) = match id.as_str() {
        "night_of_the_living_dead" => (
            HASH_IA.to_owned(),
            4353214567u64,
            "Night of the Living Dead",
        ),
        "NightOfTheLivingDead1968_201507" => (
            HASH_IA2.to_owned(),
            735_000_000,
            "Night Of The Living Dead (1968) 480p",
        ),
        // A dark (withdrawn) item: the metadata API answers an empty object.
        "night-of-the-living-dead-1990-dark" => return json_response("{}"),
        other => match other
            .strip_prefix("plan9_part")
            .and_then(|n| n.parse::<u64>().ok())
        {
            Some(n) => (format!("{n:040x}"), n * 1000, "Plan 9"),
            None => return json_response("{}"),
        },
    };
    json_response(&format!(
        r#"{{"created":1717000000,"d1":"ia800300.us.archive.org","d2":"ia600300.us.archive.org","dir":"/7/items/{id}",
        "files":[
          {{"name":"{id}.avi","source":"original","format":"Cinepack","mtime":"1264546512","size":"3791808512","md5":"7a1f1d6c0b5e4e3d2c1b0a9f8e7d6c5b"}},
          {{"name":"{id}.mp4","source":"derivative","format":"h.264","original":"{id}.avi","size":"560393853","length":"5743.12","height":"480","width":"640"}},
          {{"name":"{id}_meta.xml","source":"original","format":"Metadata","size":"1480"}},
          {{"name":"{id}_archive.torrent","source":"metadata","btih":"{btih}","mtime":"1620000000","size":"71234","md5":"0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e","format":"Archive BitTorrent"}}
        ],
        "files_count":4,"item_last_updated":1620000000,"item_size":{item_size},
        "metadata":{{"identifier":"{id}","mediatype":"movies","collection":["feature_films","moviesandfilms"],"title":"{title}","date":"1968","external-identifier":["urn:imdb:{IMDB_ID}"]}},
        "server":"ia800300.us.archive.org","uniq":1234567,"workable_servers":["ia800300.us.archive.org","ia600300.us.archive.org"]}}"#
    ))
}

// ---- Jackett (Torznab) ----------------------------------------------------------------

async fn jackett(RawQuery(raw): RawQuery) -> Response {
    let pairs = query_pairs(&raw);
    if param(&pairs, "apikey").as_deref() != Some(JACKETT_KEY) {
        return xml_response(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<error code="100" description="Invalid API Key" />"#,
        );
    }
    let t = param(&pairs, "t").unwrap_or_default();
    let matches = match t.as_str() {
        "search" => param(&pairs, "q").is_some_and(|q| q.to_lowercase().contains("living dead")),
        // The Newznab imdbid: digits only.
        "movie" => param(&pairs, "imdbid").as_deref() == Some(&IMDB_ID[2..]),
        _ => return xml_response(r#"<error code="202" description="No such function" />"#),
    };
    if matches {
        xml_response(JACKETT_FEED)
    } else {
        xml_response(JACKETT_EMPTY)
    }
}

pub const JACKETT_EMPTY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:torznab="http://torznab.com/schemas/2015/feed">
  <channel>
    <atom:link href="http://127.0.0.1:9117/" rel="self" type="application/rss+xml" />
    <title>AggregateSearch</title>
    <description>This feed includes all configured trackers</description>
    <link>http://127.0.0.1/</link>
    <language>en-US</language>
    <category>search</category>
  </channel>
</rss>"#;

pub const JACKETT_FEED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:torznab="http://torznab.com/schemas/2015/feed">
  <channel>
    <atom:link href="http://127.0.0.1:9117/" rel="self" type="application/rss+xml" />
    <title>AggregateSearch</title>
    <description>This feed includes all configured trackers</description>
    <link>http://127.0.0.1/</link>
    <language>en-US</language>
    <category>search</category>
    <item>
      <title>Night.of.the.Living.Dead.1968.1080p.BluRay.x264-GRP</title>
      <guid>https://1337x.to/torrent/4012345/Night-of-the-Living-Dead-1968-1080p-BluRay-x264-GRP/</guid>
      <jackettindexer id="1337x">1337x</jackettindexer>
      <type>public</type>
      <comments>https://1337x.to/torrent/4012345/Night-of-the-Living-Dead-1968-1080p-BluRay-x264-GRP/</comments>
      <pubDate>Sat, 12 Oct 2019 04:00:00 +0000</pubDate>
      <size>1717986918</size>
      <grabs>5321</grabs>
      <description />
      <link>http://127.0.0.1:9117/dl/1337x/?jackett_apikey=jackett-secret-key-0123456789&amp;path=Q2ZESjhP&amp;file=Night.of.the.Living.Dead</link>
      <category>2000</category>
      <category>100042</category>
      <enclosure url="http://127.0.0.1:9117/dl/1337x/?jackett_apikey=jackett-secret-key-0123456789&amp;path=Q2ZESjhP&amp;file=Night.of.the.Living.Dead" length="1717986918" type="application/x-bittorrent" />
      <torznab:attr name="category" value="2000" />
      <torznab:attr name="seeders" value="120" />
      <torznab:attr name="peers" value="135" />
      <torznab:attr name="infohash" value="C9E15763F722F23E98A29DECDFAE341B98D53056" />
      <torznab:attr name="magneturl" value="magnet:?xt=urn:btih:C9E15763F722F23E98A29DECDFAE341B98D53056&amp;dn=Night.of.the.Living.Dead.1968.1080p.BluRay.x264-GRP&amp;tr=udp%3A%2F%2Ftracker.opentrackr.org%3A1337%2Fannounce" />
      <torznab:attr name="downloadvolumefactor" value="0" />
      <torznab:attr name="uploadvolumefactor" value="1" />
    </item>
    <item>
      <title>Night of the Living Dead (1968) [720p] [YTS.MX]</title>
      <guid>magnet:?xt=urn:btih:BCW2LJ5GDA5K4HQJ3AY56Z2I2VTASWQQ&amp;dn=Night+of+the+Living+Dead+%281968%29+%5B720p%5D+%5BYTS.MX%5D</guid>
      <jackettindexer id="yts">YTS</jackettindexer>
      <type>public</type>
      <pubDate>Tue, 03 Mar 2020 11:22:33 +0000</pubDate>
      <size>784316416</size>
      <description />
      <link>magnet:?xt=urn:btih:BCW2LJ5GDA5K4HQJ3AY56Z2I2VTASWQQ&amp;dn=Night+of+the+Living+Dead+%281968%29+%5B720p%5D+%5BYTS.MX%5D</link>
      <category>2000</category>
      <category>2040</category>
      <torznab:attr name="category" value="2040" />
      <torznab:attr name="seeders" value="45" />
      <torznab:attr name="peers" value="50" />
      <torznab:attr name="downloadvolumefactor" value="0" />
      <torznab:attr name="uploadvolumefactor" value="1" />
    </item>
    <item>
      <title>Night of the Living Dead 1968 Colorized DVDRip</title>
      <guid>https://privatehd.example/details/998877</guid>
      <jackettindexer id="privatehd">PrivateHD</jackettindexer>
      <type>private</type>
      <size>1468006400</size>
      <link>http://127.0.0.1:9117/dl/privatehd/?jackett_apikey=jackett-secret-key-0123456789&amp;path=ZZZ&amp;file=Night</link>
      <category>2000</category>
      <enclosure url="http://127.0.0.1:9117/dl/privatehd/?jackett_apikey=jackett-secret-key-0123456789&amp;path=ZZZ&amp;file=Night" length="1468006400" type="application/x-bittorrent" />
      <torznab:attr name="seeders" value="999" />
      <torznab:attr name="peers" value="1000" />
    </item>
    <item>
      <title>Night of the Living Dead (1968) Internet Archive copy</title>
      <guid>https://thepiratebay.org/description.php?id=1234</guid>
      <jackettindexer id="thepiratebay">The Pirate Bay</jackettindexer>
      <type>public</type>
      <description />
      <link>http://127.0.0.1:9117/dl/thepiratebay/?jackett_apikey=jackett-secret-key-0123456789&amp;path=YYY</link>
      <category>2000</category>
      <enclosure url="http://127.0.0.1:9117/dl/thepiratebay/?jackett_apikey=jackett-secret-key-0123456789&amp;path=YYY" length="4353214567" type="application/x-bittorrent" />
      <torznab:attr name="seeders" value="7" />
      <torznab:attr name="peers" value="9" />
      <torznab:attr name="infohash" value="6f9e0f6d1c0b7a8e4e5d3c2b1a09f8e7d6c5b4a3" />
    </item>
  </channel>
</rss>"#;

// ---- Stremio add-on (Torrentio-like) --------------------------------------------------

async fn torrentio(Path(file): Path<String>) -> Response {
    if file != format!("{IMDB_ID}.json") {
        return json_response(r#"{"streams":[]}"#);
    }
    json_response(&format!(
        r#"{{"streams":[
  {{"name":"Torrentio\n4k","title":"Night of the Living Dead 1968 REMASTERED 2160p UHD BluRay x265\nNight.of.the.Living.Dead.1968.2160p.mkv\n👤 300 💾 30.5 GB ⚙️ TorrentGalaxy",
    "infoHash":"{HASH_C}","fileIdx":2,
    "behaviorHints":{{"bingeGroup":"torrentio|4k|BluRay|HEVC","filename":"Night.of.the.Living.Dead.1968.2160p.mkv"}},
    "sources":["tracker:udp://tracker.opentrackr.org:1337/announce","tracker:http://tracker.example.org/announce","dht:{HASH_C}"]}},
  {{"name":"Torrentio\n1080p","title":"Night.of.the.Living.Dead.1968.1080p.BluRay.x264-GRP\n👤 98 💾 1.6 GB ⚙️ 1337x",
    "infoHash":"{HASH_A}","fileIdx":0,
    "behaviorHints":{{"bingeGroup":"torrentio|1080p|BluRay","filename":"Night.of.the.Living.Dead.1968.1080p.BluRay.x264-GRP.mkv"}}}},
  {{"name":"Torrentio\n480p","title":"Night of the Living Dead (1968)\nnight_of_the_living_dead.mp4\n👤 12 ⚙️ ThePirateBay",
    "infoHash":"{HASH_IA}","fileIdx":5}},
  {{"name":"Trailer","ytId":"H91BxkBXttE"}},
  {{"name":"Direct","url":"https://example.com/night.mp4"}},
  {{"name":"Broken","infoHash":42}},
  {{"name":"Short hash","infoHash":"abc123"}}
]}}"#
    ))
}
