import type {
  CacheCleared,
  CacheInfo,
  Health,
  HistoryEntry,
  HistoryForgotten,
  MediaProbe,
  Player,
  Provider,
  ProviderTestResult,
  SavePosition,
  SearchQuery,
  SearchResponse,
  StreamReady,
  StreamRequest,
  StreamStatus,
} from '../types';

/**
 * How the UI talks to the backend. Every method rejects with an `ApiError`
 * (`code` is one of the backend codes, or one of the UI's own).
 */
export interface Transport {
  readonly kind: 'http' | 'tauri';
  /** `openInPlayer` works only where this is true (the desktop app). */
  readonly canOpenExternalPlayer: boolean;

  health(): Promise<Health>;
  search(q: SearchQuery): Promise<SearchResponse>;
  /** Can take up to a minute while the torrent's metadata is fetched. */
  prepareStream(req: StreamRequest): Promise<StreamReady>;
  streamStatus(infoHash: string, fileIndex?: number): Promise<StreamStatus>;
  /** What the file holds: codecs, duration, audio and subtitle tracks. */
  probeMedia(infoHash: string, fileIndex: number): Promise<MediaProbe>;
  /**
   * A URL a `<track>` of this page can load for subtitle track `id` of `stream`: the
   * server's `.vtt` over HTTP; in the desktop app a `blob:` of the WebVTT (the loopback
   * server is another origin than the window, and `<track>` refuses those).
   */
  subtitleTrackUrl(stream: StreamReady, id: string): Promise<string>;
  listStreams(): Promise<StreamReady[]>;
  stopStream(infoHash: string): Promise<void>;
  /** Puts `stream.streamUrl` on the clipboard. */
  copyStreamUrl(stream: StreamReady): Promise<void>;
  openInPlayer(stream: StreamReady, player: Player): Promise<void>;

  listProviders(): Promise<Provider[]>;
  /** Saves the whole list; resolves to the list as the backend now has it (keys never included). */
  saveProviders(providers: Provider[]): Promise<Provider[]>;
  testProvider(provider: Provider): Promise<ProviderTestResult>;

  /** What the cache of played torrents holds, and its cap. */
  cacheInfo(): Promise<CacheInfo>;
  /** Deletes every cached torrent that is not streaming now. */
  clearCache(): Promise<CacheCleared>;

  /** The watch history: where each file was left, most recently watched first. */
  history(): Promise<HistoryEntry[]>;
  /** Records where the player is in one file of a torrent. */
  savePosition(infoHash: string, fileIndex: number, position: SavePosition): Promise<HistoryEntry>;
  /** Forgets where one file was left. */
  forgetPosition(infoHash: string, fileIndex: number): Promise<HistoryForgotten>;
  /** Forgets the whole watch history. */
  clearHistory(): Promise<HistoryForgotten>;
}
