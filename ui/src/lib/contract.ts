// Provisional hand-written copy of what ts-rs will generate from the Rust wire types into
// ui/src/lib/contract.ts (the lead's generator replaces this file; keep only these names).
export type ErrorCode = "METADATA_TIMEOUT" | "NO_VIDEO_FILE" | "NO_SEEDS" | "STREAM_FAILED" | "SEARCH_FAILED" | "INVALID_REQUEST" | "STREAM_NOT_FOUND" | "TOO_MANY_READERS" | "RANGE_NOT_SATISFIABLE" | "NOT_FOUND" | "METHOD_NOT_ALLOWED" | "SETTINGS_FAILED" | "PLAYER_FAILED" | "CLIPBOARD_FAILED";
export type ApiError = { status: string, code: ErrorCode, message: string, providers?: Array<ProviderFailure>, };
export type Health = { status: string, version: string, uptime: number, activeStreams: number, };
export type StreamRequest = { magnet?: string, infoHash?: string, torrent?: string, fileIndex?: number, };
export type TorrentFile = { index: number, path: string, size: number, isVideo: boolean, };
export type StreamInfo = { infoHash: string, name: string, fileIndex: number, videoFile: string, size: number, mimeType: string, isDefaultFile: boolean, files: Array<TorrentFile>, };
export type StreamReady = { status: string, streamUrl: string, } & StreamInfo;
export type StreamList = { streams: Array<StreamReady>, };
export type Stopped = { status: string, infoHash: string, };
export type StreamState = "fetching_metadata" | "connecting" | "ready" | "stalled" | "error";
export type ByteRange = { start: number, end: number, };
export type Peers = { connected: number, known: number, };
export type StreamStatus = { infoHash: string, state: StreamState, message?: string, fileIndex: number | null, size: number, progress: number, downloadedBytes: number, downloadSpeed: number, uploadSpeed: number, peers: Peers, availableRanges: Array<ByteRange>, };
export type SearchRequest = { query?: string, imdbId?: string, };
export type Resolution = "480p" | "720p" | "1080p" | "2160p";
export type ReleaseSource = "BluRay" | "WEB-DL" | "WEBRip" | "HDTV" | "DVDRip" | "DVD" | "HDRip" | "CAM" | "TS";
export type Quality = { resolution: Resolution | null, source: ReleaseSource | null, };
export type SearchResult = { name: string, infoHash: string, magnet: string, size: number | null, seeders: number, leechers: number, quality: Quality, provider: string, providers: Array<string>, fileIndex: number | null, };
export type ProviderFailure = { provider: string, reason: string, };
export type SearchResponse = { results: Array<SearchResult>, failedProviders: Array<ProviderFailure>, };
export type ProviderKind = "archive" | "torznab" | "stremio";
/** A provider as the API shows and takes it. `hasApiKey` says whether a key is saved; the key itself never leaves the
 * server. On save, `apiKey` absent keeps the saved key (matched by provider name), `""` clears it, a value replaces it. */
export type Provider = { name: string, kind: ProviderKind, url: string, enabled: boolean, timeoutSecs?: number, hasApiKey: boolean, apiKey?: string, };
export type ProviderList = { providers: Array<Provider>, };
export type ProviderTest = { provider: Provider, };
export type ProviderTestResult = { results: number, };
export type Player = "default" | "vlc" | "mpv";
/** The desktop app's Tauri commands, from the one Rust list. */
export const COMMANDS = ["health", "prepare_stream", "stream_status", "list_streams", "stop_stream", "open_in_player", "copy_stream_url", "search", "list_providers", "save_providers", "test_provider"] as const;
export type Command = (typeof COMMANDS)[number];
