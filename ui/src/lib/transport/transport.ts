import type {
  ExternalPlayer,
  Health,
  Provider,
  ProviderTestResult,
  SearchQuery,
  SearchResponse,
  StreamInfo,
  StreamRequest,
  StreamStatus,
} from '../types';

/**
 * How the UI talks to the backend. Every method rejects with an `ApiError`
 * (`code` is one of the backend codes, or NETWORK / UNKNOWN).
 */
export interface Transport {
  readonly kind: 'http' | 'tauri';
  /** `openInPlayer` works only where this is true (the desktop app). */
  readonly canOpenExternalPlayer: boolean;

  health(): Promise<Health>;
  search(q: SearchQuery): Promise<SearchResponse>;
  /** Can take up to a minute while the torrent's metadata is fetched. */
  prepareStream(req: StreamRequest): Promise<StreamInfo>;
  streamStatus(infoHash: string, fileIndex?: number): Promise<StreamStatus>;
  listStreams(): Promise<StreamInfo[]>;
  stopStream(infoHash: string): Promise<void>;
  /** Resolves to the URL a `<video>` in this page should load. */
  mediaUrl(stream: StreamInfo): string;
  copyStreamUrl(stream: StreamInfo): Promise<void>;
  openInPlayer(infoHash: string, fileIndex: number | undefined, player: ExternalPlayer): Promise<void>;

  listProviders(): Promise<Provider[]>;
  saveProviders(providers: Provider[]): Promise<void>;
  testProvider(provider: Provider): Promise<ProviderTestResult>;
}
