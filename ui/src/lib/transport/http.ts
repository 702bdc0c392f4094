import { ApiError, isApiErrorBody } from '../errors';
import type {
  CacheCleared,
  CacheInfo,
  Health,
  HistoryEntry,
  HistoryForgotten,
  HistoryList,
  MediaProbe,
  Provider,
  ProviderList,
  ProviderTest,
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

/**
 * The URL of something the server makes from a stream's file (`hls/index.m3u8`,
 * `subtitles/ID.vtt`): beside `probeUrl`, which the server built, with its token.
 */
export function madeFromFile(stream: StreamReady, path: string, params: Record<string, string> = {}): string {
  const url = new URL(stream.probeUrl);
  url.pathname = url.pathname.replace(/\/probe$/, `/${path}`);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.toString();
}

type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

export interface HttpTransportOptions {
  /** Prefix of every API path; '' means the page's own origin. */
  baseUrl?: string;
  fetch?: FetchFn;
  /** Where `copyStreamUrl` writes; defaults to navigator.clipboard. */
  writeClipboard?: (text: string) => Promise<void>;
}

/** Talks to the headless server's `/api` with fetch (the UI served at `/`). */
export class HttpTransport implements Transport {
  readonly kind = 'http' as const;
  readonly canOpenExternalPlayer = false;
  private readonly base: string;
  private readonly fetchFn: FetchFn;
  private readonly writeClipboard: (text: string) => Promise<void>;

  constructor(opts: HttpTransportOptions = {}) {
    this.base = (opts.baseUrl ?? '').replace(/\/+$/, '');
    this.fetchFn = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.writeClipboard =
      opts.writeClipboard ??
      (async (text) => {
        if (!globalThis.navigator?.clipboard) {
          // Browsers offer the clipboard API to secure pages only (https:// or localhost).
          throw new Error('this page has no clipboard access (browsers allow it on https:// and localhost only)');
        }
        await globalThis.navigator.clipboard.writeText(text);
      });
  }

  /**
   * One API call: the JSON answer, or an `ApiError` with the backend's code. An answer
   * that is not the backend's JSON (a proxy's error page) becomes UNKNOWN.
   */
  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const init: RequestInit = { method, headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { Accept: 'application/json', 'Content-Type': 'application/json' };
    }
    let res: Response;
    let text: string;
    try {
      res = await this.fetchFn(this.base + path, init);
      text = await res.text();
    } catch (err) {
      throw new ApiError('NETWORK', err instanceof Error ? err.message : String(err));
    }
    let data: unknown = undefined;
    try {
      data = JSON.parse(text);
    } catch {
      // Not JSON: reported below with the HTTP status.
    }
    if (!res.ok) {
      if (isApiErrorBody(data)) throw ApiError.fromBody(data, res.status);
      throw new ApiError('UNKNOWN', `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`, {
        httpStatus: res.status,
      });
    }
    if (data === undefined) {
      throw new ApiError('UNKNOWN', `The server sent an unreadable answer to ${method} ${path}.`, {
        httpStatus: res.status,
      });
    }
    return data as T;
  }

  health(): Promise<Health> {
    return this.request('GET', '/api/health');
  }

  search(q: SearchQuery): Promise<SearchResponse> {
    const params = new URLSearchParams(q.imdbId !== undefined ? { imdbId: q.imdbId } : { query: q.query });
    return this.request('GET', `/api/search?${params}`);
  }

  prepareStream(req: StreamRequest): Promise<StreamReady> {
    return this.request('POST', '/api/stream', req);
  }

  streamStatus(infoHash: string, fileIndex?: number): Promise<StreamStatus> {
    const q = fileIndex === undefined ? '' : `?fileIndex=${encodeURIComponent(fileIndex)}`;
    return this.request('GET', `/api/stream/${encodeURIComponent(infoHash)}/status${q}`);
  }

  probeMedia(infoHash: string, fileIndex: number): Promise<MediaProbe> {
    return this.request('GET', `/api/stream/${encodeURIComponent(infoHash)}/${fileIndex}/probe`);
  }

  async subtitleTrackUrl(stream: StreamReady, id: string): Promise<string> {
    return madeFromFile(stream, `subtitles/${encodeURIComponent(id)}.vtt`);
  }

  async listStreams(): Promise<StreamReady[]> {
    return (await this.request<StreamList>('GET', '/api/streams')).streams;
  }

  async stopStream(infoHash: string): Promise<void> {
    await this.request<Stopped>('DELETE', `/api/stream/${encodeURIComponent(infoHash)}`);
  }

  async copyStreamUrl(stream: StreamReady): Promise<void> {
    try {
      await this.writeClipboard(stream.streamUrl);
    } catch (err) {
      throw new ApiError('CLIPBOARD_FAILED', `Could not copy: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  async openInPlayer(): Promise<void> {
    throw new ApiError('INVALID_REQUEST', 'External players can only be opened from the desktop app.');
  }

  async listProviders(): Promise<Provider[]> {
    return (await this.request<ProviderList>('GET', '/api/providers')).providers;
  }

  async saveProviders(providers: Provider[]): Promise<Provider[]> {
    const body: ProviderList = { providers };
    return (await this.request<ProviderList>('PUT', '/api/providers', body)).providers;
  }

  testProvider(provider: Provider): Promise<ProviderTestResult> {
    const body: ProviderTest = { provider };
    return this.request('POST', '/api/providers/test', body);
  }

  cacheInfo(): Promise<CacheInfo> {
    return this.request('GET', '/api/cache');
  }

  clearCache(): Promise<CacheCleared> {
    return this.request('DELETE', '/api/cache');
  }

  async history(): Promise<HistoryEntry[]> {
    return (await this.request<HistoryList>('GET', '/api/history')).entries;
  }

  savePosition(infoHash: string, fileIndex: number, position: SavePosition): Promise<HistoryEntry> {
    return this.request('PUT', historyPath(infoHash, fileIndex), position);
  }

  forgetPosition(infoHash: string, fileIndex: number): Promise<HistoryForgotten> {
    return this.request('DELETE', historyPath(infoHash, fileIndex));
  }

  clearHistory(): Promise<HistoryForgotten> {
    return this.request('DELETE', '/api/history');
  }
}

function historyPath(infoHash: string, fileIndex: number): string {
  return `/api/history/${encodeURIComponent(infoHash)}/${encodeURIComponent(fileIndex)}`;
}
