import { invoke as tauriInvoke } from '@tauri-apps/api/core';
import { toApiError } from '../errors';
import type {
  CacheCleared,
  CacheInfo,
  Command,
  Health,
  HistoryEntry,
  HistoryForgotten,
  HistoryList,
  MediaProbe,
  Player,
  Provider,
  ProviderList,
  ProviderTestResult,
  SavePosition,
  SearchQuery,
  SearchResponse,
  Stopped,
  StreamList,
  StreamReady,
  StreamRequest,
  StreamStatus,
} from '../types';
import type { Transport } from './transport';

export type InvokeFn = <T>(cmd: Command, args?: Record<string, unknown>) => Promise<T>;

/**
 * What each desktop command answers (see `src-tauri/src/commands.rs`). A command added to
 * the Rust list is `unknown` here until it gets its answer type.
 */
interface Answers extends Record<Command, unknown> {
  health: Health;
  prepare_stream: StreamReady;
  stream_status: StreamStatus;
  probe_media: MediaProbe;
  /** WebVTT text. */
  subtitle_vtt: string;
  list_streams: StreamList;
  stop_stream: Stopped;
  open_in_player: null;
  /** The URL it put on the clipboard. */
  copy_stream_url: string;
  search: SearchResponse;
  list_providers: ProviderList;
  save_providers: ProviderList;
  test_provider: ProviderTestResult;
  cache_info: CacheInfo;
  clear_cache: CacheCleared;
  history: HistoryList;
  save_position: HistoryEntry;
  forget_position: HistoryForgotten;
  clear_history: HistoryForgotten;
}

/** Drop keys whose value is undefined, so Rust `Option`s see "absent". */
function defined<T extends Record<string, unknown>>(obj: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) out[k] = v;
  return out as Partial<T>;
}

/** Talks to the Rust side of the desktop app through Tauri commands. */
export class TauriTransport implements Transport {
  readonly kind = 'tauri' as const;
  readonly canOpenExternalPlayer = true;
  private readonly invokeFn: InvokeFn;

  constructor(invokeFn: InvokeFn = tauriInvoke) {
    this.invokeFn = invokeFn;
  }

  private async call<C extends Command>(cmd: C, args?: Record<string, unknown>): Promise<Answers[C]> {
    try {
      return await this.invokeFn<Answers[C]>(cmd, args);
    } catch (err) {
      throw toApiError(err);
    }
  }

  health(): Promise<Health> {
    return this.call('health');
  }

  search(q: SearchQuery): Promise<SearchResponse> {
    return this.call('search', q.imdbId !== undefined ? { imdbId: q.imdbId } : { query: q.query });
  }

  prepareStream(req: StreamRequest): Promise<StreamReady> {
    return this.call('prepare_stream', { request: defined({ ...req }) });
  }

  streamStatus(infoHash: string, fileIndex?: number): Promise<StreamStatus> {
    return this.call('stream_status', defined({ infoHash, fileIndex }));
  }

  probeMedia(infoHash: string, fileIndex: number): Promise<MediaProbe> {
    return this.call('probe_media', { infoHash, fileIndex });
  }

  async subtitleTrackUrl(stream: StreamReady, id: string): Promise<string> {
    const vtt = await this.call('subtitle_vtt', { infoHash: stream.infoHash, fileIndex: stream.fileIndex, track: id });
    return URL.createObjectURL(new Blob([vtt], { type: 'text/vtt' }));
  }

  async listStreams(): Promise<StreamReady[]> {
    return (await this.call('list_streams')).streams;
  }

  async stopStream(infoHash: string): Promise<void> {
    await this.call('stop_stream', { infoHash });
  }

  async copyStreamUrl(stream: StreamReady): Promise<void> {
    await this.call('copy_stream_url', { infoHash: stream.infoHash, fileIndex: stream.fileIndex });
  }

  async openInPlayer(stream: StreamReady, player: Player): Promise<void> {
    await this.call('open_in_player', { infoHash: stream.infoHash, fileIndex: stream.fileIndex, player });
  }

  async listProviders(): Promise<Provider[]> {
    return (await this.call('list_providers')).providers;
  }

  async saveProviders(providers: Provider[]): Promise<Provider[]> {
    return (await this.call('save_providers', { providers })).providers;
  }

  testProvider(provider: Provider): Promise<ProviderTestResult> {
    return this.call('test_provider', { provider });
  }

  cacheInfo(): Promise<CacheInfo> {
    return this.call('cache_info');
  }

  clearCache(): Promise<CacheCleared> {
    return this.call('clear_cache');
  }

  async history(): Promise<HistoryEntry[]> {
    return (await this.call('history')).entries;
  }

  savePosition(infoHash: string, fileIndex: number, position: SavePosition): Promise<HistoryEntry> {
    return this.call('save_position', { infoHash, fileIndex, position: defined({ ...position }) });
  }

  forgetPosition(infoHash: string, fileIndex: number): Promise<HistoryForgotten> {
    return this.call('forget_position', { infoHash, fileIndex });
  }

  clearHistory(): Promise<HistoryForgotten> {
    return this.call('clear_history');
  }
}
