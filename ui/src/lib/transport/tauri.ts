import { invoke as tauriInvoke } from '@tauri-apps/api/core';
import { toApiError } from '../errors';
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
import type { Transport } from './transport';

export type InvokeFn = <T>(cmd: string, args?: Record<string, unknown>) => Promise<T>;

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

  private async call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
    try {
      return await this.invokeFn<T>(cmd, args);
    } catch (err) {
      throw toApiError(err);
    }
  }

  health(): Promise<Health> {
    return this.call('health');
  }

  async search(q: SearchQuery): Promise<SearchResponse> {
    const args = q.imdbId ? { imdbId: q.imdbId } : { query: q.query ?? '' };
    const res = await this.call<Partial<SearchResponse>>('search', args);
    return { results: res.results ?? [], failedProviders: res.failedProviders ?? [] };
  }

  prepareStream(req: StreamRequest): Promise<StreamInfo> {
    return this.call('prepare_stream', { request: defined({ ...req }) });
  }

  streamStatus(infoHash: string, fileIndex?: number): Promise<StreamStatus> {
    return this.call('stream_status', defined({ infoHash, fileIndex }));
  }

  async listStreams(): Promise<StreamInfo[]> {
    const res = await this.call<StreamInfo[] | { streams?: StreamInfo[] }>('list_streams');
    return Array.isArray(res) ? res : (res?.streams ?? []);
  }

  async stopStream(infoHash: string): Promise<void> {
    await this.call('stop_stream', { infoHash });
  }

  mediaUrl(stream: StreamInfo): string {
    return stream.streamUrl;
  }

  async copyStreamUrl(stream: StreamInfo): Promise<void> {
    await this.call('copy_stream_url', defined({ infoHash: stream.infoHash, fileIndex: stream.fileIndex }));
  }

  async openInPlayer(infoHash: string, fileIndex: number | undefined, player: ExternalPlayer): Promise<void> {
    await this.call('open_in_player', defined({ infoHash, fileIndex, player }));
  }

  async listProviders(): Promise<Provider[]> {
    const res = await this.call<Provider[] | { providers?: Provider[] }>('list_providers');
    return Array.isArray(res) ? res : (res?.providers ?? []);
  }

  async saveProviders(providers: Provider[]): Promise<void> {
    await this.call('save_providers', { providers });
  }

  async testProvider(provider: Provider): Promise<ProviderTestResult> {
    const res = await this.call<ProviderTestResult | number>('test_provider', { provider });
    return { results: typeof res === 'number' ? res : Number(res?.results ?? 0) };
  }
}
