//! Torznab, as Jackett serves it: `/jackett/api/v2.0/indexers/<id>/results/torznab/api`
//! with `t=search&q=…` or `t=movie&imdbid=<digits>`, and [`JACKETT_KEY`] as `apikey`
//! (a wrong key answers Torznab's error 100, as Jackett does).
//!
//! The aggregate indexer `all` answers [`JACKETT_FEED`] to searches for the film (four
//! items in the shapes real indexers give: magnet attribute, magnet link only, a private
//! `.torrent` only, an info hash with an enclosure) and [`JACKETT_EMPTY`] otherwise.
//! Any other id answers the [`Release`]s a test registered with
//! [`Upstream::add_indexer`](super::Upstream::add_indexer), whatever the query.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::{IMDB_ID, JACKETT_KEY, param, query_pairs, slow};

/// One release of an indexer a test sets up: 1 MiB, with `seeders` seeders and two
/// leechers, its magnet link given as `<link>` and as the `magneturl` attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub title: String,
    pub magnet: String,
    pub seeders: u32,
}

impl Release {
    pub fn new(title: &str, magnet: &str, seeders: u32) -> Release {
        Release {
            title: title.to_owned(),
            magnet: magnet.to_owned(),
            seeders,
        }
    }
}

/// The indexers tests registered, by id.
pub(super) type Indexers = Arc<Mutex<HashMap<String, Vec<Release>>>>;

pub(super) fn routes(indexers: Indexers) -> Router {
    Router::new()
        .route(
            "/jackett/api/v2.0/indexers/{id}/results/torznab/api",
            get(jackett),
        )
        .route(
            "/torznab-500/api",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error") }),
        )
        .route(
            "/torznab-bad/api",
            get(|| async { xml_response(&JACKETT_FEED[..JACKETT_FEED.len() / 2]) }),
        )
        .route("/torznab-slow/api", get(slow))
        .with_state(indexers)
}

fn xml_response(body: &str) -> Response {
    (
        [(header::CONTENT_TYPE, "application/rss+xml; charset=utf-8")],
        body.to_owned(),
    )
        .into_response()
}

async fn jackett(
    State(indexers): State<Indexers>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let pairs = query_pairs(&raw);
    if param(&pairs, "apikey").as_deref() != Some(JACKETT_KEY) {
        return xml_response(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<error code="100" description="Invalid API Key" />"#,
        );
    }
    let t = param(&pairs, "t").unwrap_or_default();
    if t != "search" && t != "movie" {
        return xml_response(r#"<error code="202" description="No such function" />"#);
    }
    if id != "all" {
        return match indexers.lock().unwrap().get(&id) {
            Some(releases) => xml_response(&feed(releases)),
            None => (
                StatusCode::NOT_FOUND,
                format!("Indexer {id} is not configured"),
            )
                .into_response(),
        };
    }
    let about_the_film = if t == "search" {
        param(&pairs, "q").is_some_and(|q| q.to_lowercase().contains("living dead"))
    } else {
        // The Newznab imdbid: digits only.
        param(&pairs, "imdbid").as_deref() == Some(&IMDB_ID[2..])
    };
    if about_the_film {
        xml_response(JACKETT_FEED)
    } else {
        xml_response(JACKETT_EMPTY)
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A Torznab feed of `releases`.
pub fn feed(releases: &[Release]) -> String {
    let items: String = releases
        .iter()
        .map(|r| {
            let (title, magnet) = (escape(&r.title), escape(&r.magnet));
            format!(
                r#"<item><title>{title}</title><size>1048576</size><link>{magnet}</link>
                <torznab:attr name="seeders" value="{}"/><torznab:attr name="peers" value="{}"/>
                <torznab:attr name="magneturl" value="{magnet}"/></item>"#,
                r.seeders,
                r.seeders + 2
            )
        })
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:torznab="http://torznab.com/schemas/2015/feed"><channel><title>fixture</title>{items}</channel></rss>"#
    )
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
