//! Stremio add-ons: `stream/movie/<IMDb id>.json`. `/torrentio` answers like Torrentio
//! for [`IMDB_ID`](super::IMDB_ID) (three torrents, plus streams a client must skip: a
//! trailer, a direct URL, malformed hashes) and no streams for any other id.

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::{HASH_A, HASH_C, HASH_IA, IMDB_ID, json_response, slow};

pub(super) fn routes() -> Router {
    Router::new()
        .route("/torrentio/stream/movie/{file}", get(torrentio))
        .route(
            "/stremio-html/stream/movie/{file}",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/html")],
                    "<html><body>Cloudflare: checking your browser</body></html>",
                )
            }),
        )
        .route("/stremio-chunked/stream/movie/{file}", get(chunked_huge))
        .route("/stremio-slow/stream/movie/{file}", get(slow))
}

/// 5 MiB of spaces, chunked, without a Content-Length.
async fn chunked_huge() -> Response {
    let chunks = (0..80).map(|_| Ok::<_, std::io::Error>(vec![b' '; 64 * 1024]));
    (
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(futures::stream::iter(chunks)),
    )
        .into_response()
}

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
