// Shapes of the backend API (HTTP JSON and Tauri commands share them; camelCase).

export interface Health {
  status: string;
  version: string;
  uptime: number;
  activeStreams: number;
}

export interface Quality {
  resolution: string | null;
  source: string | null;
}

export interface SearchResult {
  name: string;
  infoHash: string;
  magnet: string;
  size: number;
  seeders: number;
  leechers: number;
  quality: Quality;
  provider: string;
  fileIndex?: number | null;
}

export interface ProviderFailure {
  provider: string;
  reason: string;
}

export interface SearchResponse {
  results: SearchResult[];
  failedProviders: ProviderFailure[];
}

/** What to search for: a title or an IMDb id (never both). */
export type SearchQuery = { query: string; imdbId?: undefined } | { imdbId: string; query?: undefined };

/** One of magnet / infoHash / torrent (base64 of a .torrent file), optionally a file. */
export interface StreamRequest {
  magnet?: string;
  infoHash?: string;
  torrent?: string;
  fileIndex?: number;
}

export interface TorrentFile {
  index: number;
  path: string;
  size: number;
  isVideo: boolean;
}

/** A prepared stream (`STREAM_READY`, and each entry of `GET /api/streams`). */
export interface StreamInfo {
  status: string;
  streamUrl: string;
  infoHash: string;
  name: string;
  videoFile: string;
  size: number;
  fileIndex: number;
  mimeType: string;
  isDefaultFile: boolean;
  files: TorrentFile[];
}

export type StreamState = 'fetching_metadata' | 'connecting' | 'ready' | 'stalled' | 'error';

/** A byte range of the file on disk: start inclusive, end exclusive. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface StreamStatus {
  infoHash: string;
  state: StreamState;
  message?: string;
  fileIndex?: number | null;
  size: number;
  progress: number;
  downloadedBytes: number;
  downloadSpeed: number;
  uploadSpeed: number;
  peers: { connected: number; known: number };
  availableRanges: ByteRange[];
}

export type ProviderKind = 'archive' | 'torznab' | 'stremio';

export interface Provider {
  name: string;
  kind: ProviderKind;
  url: string;
  apiKey?: string;
  enabled: boolean;
  timeoutSecs?: number;
}

export type ExternalPlayer = 'default' | 'vlc' | 'mpv';

export interface ProviderTestResult {
  results: number;
}
