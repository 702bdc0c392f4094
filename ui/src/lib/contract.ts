// The HTTP API's and the Tauri commands' JSON, generated from the Rust wire types by
// crates/server/src/contract.rs. Do not edit: `cargo test -p cinemahalal-server contract`
// rewrites this file when a Rust type changes (and fails once, so the change is seen).

/**
 * The stable error codes of the API. The first six come from the original spec. Each
 * names what failed, so the UI can say so: a code is never reused for another failure.
 */
export type ErrorCode = "METADATA_TIMEOUT" | "NO_VIDEO_FILE" | "NO_SEEDS" | "STREAM_FAILED" | "SEARCH_FAILED" | "INVALID_REQUEST" | "STREAM_NOT_FOUND" | "TOO_MANY_READERS" | "RANGE_NOT_SATISFIABLE" | "NOT_FOUND" | "METHOD_NOT_ALLOWED" | "SETTINGS_FAILED" | "PLAYER_FAILED" | "CLIPBOARD_FAILED" | "HOST_NOT_ALLOWED" | "UNAUTHORIZED" | "ORIGIN_NOT_ALLOWED" | "INTERNAL_ERROR" | "TOO_MANY_STREAMS" | "PAYLOAD_TOO_LARGE" | "HISTORY_FAILED" | "FFMPEG_MISSING" | "PROBE_FAILED" | "TRANSCODE_FAILED" | "TRACK_NOT_FOUND" | "SEGMENT_NOT_FOUND" | "TOO_MANY_TRANSCODES";

/**
 * Every failed operation's answer, over HTTP (with [`ErrorCode::http_status`]) and from
 * a Tauri command alike.
 */
export type ApiError = { 
/**
 * Always `"ERROR"`.
 */
status: string, code: ErrorCode, 
/**
 * What failed, in words, for the curious (the UI's sentence comes from `code`).
 */
message: string, 
/**
 * With `SEARCH_FAILED`: each provider and why it failed.
 */
providers?: Array<ProviderFailure>, };

export type Health = { status: string, version: string, 
/**
 * Seconds since start.
 */
uptime: number, activeStreams: number, };

/**
 * Body of `POST /api/stream`: exactly one of `magnet`, `infoHash` or `torrent`.
 */
export type StreamRequest = { magnet?: string, 
/**
 * 40 hex digits or 32 base32 characters, any letter case.
 */
infoHash?: string, 
/**
 * A .torrent file, base64-encoded.
 */
torrent?: string, 
/**
 * Which file to play; the largest video when absent.
 */
fileIndex?: number, };

/**
 * One file of a torrent, as the API lists it.
 */
export type TorrentFile = { index: number, 
/**
 * Path inside the torrent, components joined with `/`.
 */
path: string, size: number, isVideo: boolean, };

/**
 * What a prepared stream is: the answer to "play this torrent".
 */
export type StreamInfo = { infoHash: string, name: string, 
/**
 * The file this answer is about (the one played when no index is given, unless one was asked for).
 */
fileIndex: number, 
/**
 * That file's name.
 */
videoFile: string, 
/**
 * That file's size in bytes.
 */
size: number, mimeType: string, 
/**
 * Whether this is the stream's default file (served at `/api/stream/<hash>`).
 */
isDefaultFile: boolean, files: Array<TorrentFile>, };

/**
 * Answer of `POST /api/stream`, and one entry of `GET /api/streams`.
 */
export type StreamReady = { status: string, streamUrl: string, 
/**
 * `GET` it for the file's [`cinemahalal_media::MediaProbe`] (with the stream token).
 */
probeUrl: string, infoHash: string, name: string, 
/**
 * The file this answer is about (the one played when no index is given, unless one was asked for).
 */
fileIndex: number, 
/**
 * That file's name.
 */
videoFile: string, 
/**
 * That file's size in bytes.
 */
size: number, mimeType: string, 
/**
 * Whether this is the stream's default file (served at `/api/stream/<hash>`).
 */
isDefaultFile: boolean, files: Array<TorrentFile>, };

export type StreamList = { streams: Array<StreamReady>, };

export type Stopped = { status: string, infoHash: string, };

export type StreamState = "fetching_metadata" | "connecting" | "ready" | "stalled" | "error";

/**
 * A byte range of the file on disk: `start` inclusive, `end` exclusive.
 */
export type ByteRange = { start: number, end: number, };

/**
 * Peers of one kind: how many are connected, and the bytes exchanged with them (wire
 * protocol included) since the stream was prepared.
 */
export type PeerKind = { connected: number, downloadedBytes: number, uploadedBytes: number, };

export type Peers = { 
/**
 * Every connected peer, WebRTC ones included.
 */
connected: number, 
/**
 * Peers heard of (DHT, trackers, links), connected or not.
 */
known: number, 
/**
 * The peers reached over TCP among them (WebRTC ones, which reach the torrent
 * through loopback relays, not counted), and the bytes exchanged with them.
 */
tcp: PeerKind, 
/**
 * The peers reached over uTP among them.
 */
utp: PeerKind, 
/**
 * The WebRTC peers (browsers running WebTorrent) among them, and the bytes
 * exchanged with them.
 */
webrtc: PeerKind, };

export type StreamStatus = { infoHash: string, state: StreamState, 
/**
 * Why the torrent failed, when it did.
 */
message?: string, 
/**
 * The file reported on; `null` while metadata is fetched.
 */
fileIndex: number | null, 
/**
 * Its size in bytes (0 while unknown).
 */
size: number, 
/**
 * Share of the file on disk, 0 to 1.
 */
progress: number, downloadedBytes: number, 
/**
 * Bytes per second, averaged over the last seconds.
 */
downloadSpeed: number, uploadSpeed: number, peers: Peers, availableRanges: Array<ByteRange>, 
/**
 * How far ahead of each reader the file is downloaded before the rest, in bytes:
 * 32 MiB, or a minute of playback once a probe has told the file's duration
 * (at most 512 MiB); 0 while metadata is fetched.
 */
readAheadBytes: number, };

/**
 * One torrent in the cache.
 */
export type CachedTorrent = { infoHash: string, name: string, 
/**
 * Bytes on disk.
 */
bytes: number, 
/**
 * Streaming now (prepared or being prepared): never evicted.
 */
active: boolean, 
/**
 * When it was last used, in seconds since the Unix epoch.
 */
lastUsed: number, };

/**
 * What `GET /api/cache` answers: how much the cache holds, its cap and its torrents.
 */
export type CacheInfo = { 
/**
 * Bytes on disk for every cached torrent, active streams included.
 */
usedBytes: number, 
/**
 * The configured cap (`cache_max_bytes`); the cache also leaves 1 GiB free on its disk.
 */
maxBytes: number, 
/**
 * Most recently used first.
 */
torrents: Array<CachedTorrent>, };

/**
 * Answer of `DELETE /api/cache`: what clearing the cache freed.
 */
export type CacheCleared = { 
/**
 * Bytes deleted from disk.
 */
freedBytes: number, };

/**
 * Query of `GET /api/search`: one of `query` (a title) or `imdbId`.
 */
export type SearchRequest = { query?: string, imdbId?: string, };

/**
 * Vertical resolution. `4K`/`UHD` count as 2160p, `1080i` as 1080p.
 */
export type Resolution = "480p" | "720p" | "1080p" | "2160p";

/**
 * Where a release was taken from (`quality.source` in JSON). Not the engine's `Source`,
 * which is where a stream comes from (a magnet link, an info hash, a .torrent file).
 */
export type ReleaseSource = "BluRay" | "WEB-DL" | "WEBRip" | "HDTV" | "DVDRip" | "DVD" | "HDRip" | "CAM" | "TS";

/**
 * What a name says about a release. Serialized as `{"resolution": "1080p"|null, "source": "WEB-DL"|null}`.
 */
export type Quality = { resolution: Resolution | null, source: ReleaseSource | null, };

/**
 * One torrent found. Serialized in camelCase:
 * `{"name","infoHash","magnet","size","seeders","leechers","quality","provider","providers","fileIndex"}`.
 */
export type SearchResult = { 
/**
 * The torrent's (release) name.
 */
name: string, 
/**
 * 40 lowercase hex digits.
 */
infoHash: string, 
/**
 * A magnet link for the engine, `magnet:?xt=urn:btih:<infoHash>&dn=...&tr=...`.
 */
magnet: string, 
/**
 * Total size in bytes; `null` when the provider did not say.
 */
size: number | null, 
/**
 * Peers with the whole torrent, as the provider reported them; 0 when unknown.
 * Internet Archive items report 1: archive.org itself always seeds its torrents.
 */
seeders: number, 
/**
 * Peers still downloading; 0 when unknown.
 */
leechers: number, 
/**
 * Resolution and release source, parsed from the name.
 */
quality: Quality, 
/**
 * The configured name of the provider whose entry this is (the one with most seeders).
 */
provider: string, 
/**
 * Every provider that returned this info hash, `provider` first.
 */
providers: Array<string>, 
/**
 * The file to play inside the torrent, when the provider said (Stremio's `fileIdx`);
 * `null` otherwise.
 */
fileIndex: number | null, };

/**
 * One provider that did not answer, and why. Serialized as `{"provider","reason"}`.
 */
export type ProviderFailure = { 
/**
 * The provider's configured name.
 */
provider: string, 
/**
 * A sentence for people: "timed out after 10 s", "HTTP 500 Internal Server Error from ...".
 */
reason: string, };

/**
 * The answer to a search: `{"results":[...],"failedProviders":[{"provider","reason"}]}`.
 */
export type SearchResponse = { 
/**
 * Merged results, most seeders first.
 */
results: Array<SearchResult>, 
/**
 * Providers that failed while others answered.
 */
failedProviders: Array<ProviderFailure>, };

/**
 * Which protocol a provider speaks.
 */
export type ProviderKind = "archive" | "torznab" | "stremio";

/**
 * One provider as the API shows and takes it, camelCase:
 * `{name, kind, url, enabled, timeoutSecs?, hasApiKey, apiKey?}`.
 *
 * In answers `apiKey` is always absent and `hasApiKey` says whether a key is saved. In
 * requests `hasApiKey` is ignored, and `apiKey` absent keeps the saved key (see
 * [`Provider::into_config`]), `""` clears it, any other value replaces it.
 */
export type Provider = { 
/**
 * Unique, compared without regard to case or surrounding spaces; shown in results
 * (`provider`) and failures.
 */
name: string, kind: ProviderKind, 
/**
 * Archive: base URL (`https://archive.org` when empty). Torznab: the endpoint, with
 * or without the final `/api`. Stremio: the add-on's manifest URL or base URL. A
 * request may omit it (empty).
 */
url: string, 
/**
 * Whether searches ask it. A request may omit it (enabled).
 */
enabled: boolean, 
/**
 * Seconds this provider has to answer, default 10, at most 120.
 */
timeoutSecs?: number, 
/**
 * Whether the file holds an API key for this provider. Ignored in requests.
 */
hasApiKey: boolean, 
/**
 * Only in requests: the key to save (`""` for none); absent keeps the saved one.
 */
apiKey?: string, };

/**
 * The search providers, as the settings screen shows and saves them: never with their
 * API keys (see [`Provider`]).
 */
export type ProviderList = { providers: Array<Provider>, };

/**
 * Body of `POST /api/providers/test`. Without `apiKey`, the saved provider's key is used.
 */
export type ProviderTest = { provider: Provider, };

/**
 * How many results a provider's test search found.
 */
export type ProviderTestResult = { results: number, };

/**
 * Where one file of a torrent was left: an entry of the watch history
 * (`GET /api/history`), kept in the data dir's `history.json`.
 */
export type HistoryEntry = { infoHash: string, fileIndex: number, 
/**
 * What the UI calls it (the file's or the torrent's name).
 */
name: string, 
/**
 * The link it was opened with, when it was a magnet link: it names the peers and
 * trackers that opening it again needs.
 */
magnet?: string, positionSeconds: number, 
/**
 * 0 when the player did not know it.
 */
durationSeconds: number, 
/**
 * Milliseconds since the Unix epoch.
 */
updatedAt: number, 
/**
 * Left within its last minute or 5 % (whichever is less): opening it again starts
 * from the beginning.
 */
watched: boolean, };

/**
 * Answer of `GET /api/history`: most recently watched first, at most 200.
 */
export type HistoryList = { entries: Array<HistoryEntry>, };

/**
 * Body of `PUT /api/history/{infoHash}/{fileIndex}`: where the player is.
 */
export type SavePosition = { 
/**
 * Seconds from the start; finite, 0 or more.
 */
positionSeconds: number, 
/**
 * The file's duration in seconds, when the player knows it.
 */
durationSeconds?: number, name?: string, 
/**
 * The magnet link it was opened with (same info hash), kept to reopen it.
 */
magnet?: string, };

/**
 * Answer of `DELETE /api/history[/{infoHash}/{fileIndex}]`.
 */
export type HistoryForgotten = { 
/**
 * How many entries went.
 */
removed: number, };

export type PlaybackMode = "direct" | "remux" | "transcode";

export type VideoInfo = { 
/**
 * ffmpeg's codec name: `h264`, `hevc`, `vp9`, `av1`, …
 */
codec: string, width: number, height: number, };

export type AudioTrack = { 
/**
 * Position among the file's audio tracks (the `audio` parameter of the HLS playlist).
 */
index: number, 
/**
 * ffmpeg's codec name: `aac`, `ac3`, `eac3`, `dts`, `opus`, …
 */
codec: string, channels: number, 
/**
 * As the file tags it (`eng`, `fre`, …), if it does.
 */
language: string | null, title: string | null, default: boolean, };

export type SubtitleKind = "embedded" | "external";

export type SubtitleTrack = { 
/**
 * `embedded-N` (N-th subtitle stream) or `file-N` (file index in the torrent): the
 * name in `subtitles/{id}.vtt`.
 */
id: string, kind: SubtitleKind, language: string | null, title: string | null, 
/**
 * ffmpeg's codec name (`subrip`, `ass`, `webvtt`, `hdmv_pgs_subtitle`, …) or, for a
 * file, its extension.
 */
codec: string, };

/**
 * What a video file holds (`GET /api/stream/{infoHash}/{fileIndex}/probe`).
 */
export type MediaProbe = { 
/**
 * `matroska`, `mp4`, `mpegts`, `avi`, … (ffmpeg's demuxer name, simplified).
 */
container: string, 
/**
 * The true duration in seconds (0 when the file does not say).
 */
durationSeconds: number, 
/**
 * The main video stream; `null` for a file without one.
 */
video: VideoInfo | null, audioTracks: Array<AudioTrack>, 
/**
 * Embedded tracks first, then files beside the video.
 */
subtitleTracks: Array<SubtitleTrack>, 
/**
 * How a Chromium-like browser should play it: the UI refines this with `canPlayType`.
 */
recommended: PlaybackMode, };

/**
 * Query of `GET /api/stream/{infoHash}/{fileIndex}/hls/index.m3u8` and of its segments.
 */
export type HlsQuery = { 
/**
 * Which audio track (its `index` in the probe); the first when absent.
 */
audio?: number, 
/**
 * `remux` (the default) or `transcode`.
 */
mode?: PlaybackMode, 
/**
 * Who plays: one ffmpeg job per viewer and file. The playlist gives one when absent.
 */
viewer?: string, 
/**
 * The stream token, as in `streamUrl`.
 */
token?: string, };
