//! The Internet Archive: `advancedsearch.php` (identifier, title, downloads, item_size)
//! and `metadata/<identifier>` (whose files list the item's own torrent and its btih).
//!
//! A text search for "night of the living dead" finds three items (one withdrawn: its
//! metadata is empty); the IMDb id finds one; "plan 9" finds fifteen, to show that at most
//! ten metadata are fetched.

use axum::Router;
use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::{HASH_IA, HASH_IA2, IMDB_ID, json_response, param, query_pairs};

pub(super) fn routes() -> Router {
    Router::new()
        .route("/ia/advancedsearch.php", get(search))
        .route("/ia/metadata/{id}", get(metadata))
        .route(
            "/ia-broken/advancedsearch.php",
            get(|| async {
                json_response(
                    r#"{"responseHeader":{"status":0},"response":{"numFound":3,"docs":[{"identifier":"#,
                )
            }),
        )
        .route(
            "/ia-huge/advancedsearch.php",
            get(|| async { json_response(&huge_json()) }),
        )
}

fn huge_json() -> String {
    let mut body = String::from(r#"{"response":{"docs":[], "padding":""#);
    body.push_str(&"x".repeat(5 * 1024 * 1024));
    body.push_str(r#""}}"#);
    body
}

async fn search(RawQuery(raw): RawQuery) -> Response {
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

async fn metadata(Path(id): Path<String>) -> Response {
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
