import { ApiError } from '../errors';
import type {
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

type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

export interface HttpTransportOptions {
  /** Prefix of every API path; '' means the page's own origin. */
  baseUrl?: string;
  fetch?: FetchFn;
  /** Where `copyStreamUrl` writes; defaults to navigator.clipboard. */
  writeClipboard?: (text: string) => Promise<void>;
  /** The page's origin, used to make stream URLs same-origin. */
  pageOrigin?: string;
}

/** Talks to the headless server's `/api` with fetch (the UI served at `/`). */
export class HttpTransport implements Transport {
  readonly kind = 'http' as const;
  readonly canOpenExternalPlayer = false;
  private readonly base: string;
  private readonly fetchFn: FetchFn;
  private readonly writeClipboard: (text: string) => Promise<void>;
  private readonly pageOrigin: string | undefined;

  constructor(opts: HttpTransportOptions = {}) {
    this.base = (opts.baseUrl ?? '').replace(/\/+$/, '');
    this.fetchFn = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.writeClipboard =
      opts.writeClipboard ??
      (async (text) => {
        if (!globalThis.navigator?.clipboard) {
          throw new ApiError('UNKNOWN', 'The clipboard is not available in this browser.');
        }
        await globalThis.navigator.clipboard.writeText(text);
      });
    this.pageOrigin = opts.pageOrigin ?? globalThis.location?.origin;
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const init: RequestInit = { method, headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { Accept: 'application/json', 'Content-Type': 'application/json' };
    }
    let res: Response;
    try {
      res = await this.fetchFn(this.base + path, init);
    } catch (err) {
      throw new ApiError('NETWORK', err instanceof Error ? err.message : String(err));
    }
    let data: unknown = undefined;
    const text = await res.text().catch(() => '');
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = undefined;
      }
    }
    if (!res.ok || (isObject(data) && data.status === 'ERROR')) {
      if (isObject(data) && typeof data.code === 'string') {
        throw new ApiError(data.code, typeof data.message === 'string' ? data.message : '', {
          providers: Array.isArray(data.providers) ? data.providers : undefined,
          httpStatus: res.status,
        });
      }
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

  async search(q: SearchQuery): Promise<SearchResponse> {
    const params = new URLSearchParams();
    if (q.imdbId) params.set('imdbId', q.imdbId);
    else params.set('query', q.query ?? '');
    const res = await this.request<Partial<SearchResponse>>('GET', `/api/search?${params}`);
    return { results: res.results ?? [], failedProviders: res.failedProviders ?? [] };
  }

  prepareStream(req: StreamRequest): Promise<StreamInfo> {
    return this.request('POST', '/api/stream', req);
  }

  streamStatus(infoHash: string, fileIndex?: number): Promise<StreamStatus> {
    const q = fileIndex === undefined ? '' : `?fileIndex=${encodeURIComponent(fileIndex)}`;
    return this.request('GET', `/api/stream/${encodeURIComponent(infoHash)}/status${q}`);
  }

  async listStreams(): Promise<StreamInfo[]> {
    const res = await this.request<{ streams?: StreamInfo[] }>('GET', '/api/streams');
    return res.streams ?? [];
  }

  async stopStream(infoHash: string): Promise<void> {
    await this.request('DELETE', `/api/stream/${encodeURIComponent(infoHash)}`);
  }

  /**
   * The server reports `http://127.0.0.1:<port>/api/stream/...`; a browser that
   * reached the server under another name (LAN address, localhost) must use its own
   * origin, so media paths are re-rooted on the page's origin.
   */
  mediaUrl(stream: StreamInfo): string {
    const origin = this.base || this.pageOrigin;
    if (!origin) return stream.streamUrl;
    try {
      const u = new URL(stream.streamUrl, origin);
      if (!u.pathname.startsWith('/api/stream/')) return u.href;
      return new URL(u.pathname + u.search, origin.endsWith('/') ? origin : origin + '/').href;
    } catch {
      return stream.streamUrl;
    }
  }

  async copyStreamUrl(stream: StreamInfo): Promise<void> {
    try {
      await this.writeClipboard(this.mediaUrl(stream));
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw new ApiError('UNKNOWN', `Could not copy: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  async openInPlayer(): Promise<void> {
    throw new ApiError('INVALID_REQUEST', 'External players can only be opened from the desktop app.');
  }

  async listProviders(): Promise<Provider[]> {
    const res = await this.request<{ providers?: Provider[] } | Provider[]>('GET', '/api/providers');
    return Array.isArray(res) ? res : (res.providers ?? []);
  }

  async saveProviders(providers: Provider[]): Promise<void> {
    await this.request('PUT', '/api/providers', { providers });
  }

  async testProvider(provider: Provider): Promise<ProviderTestResult> {
    const res = await this.request<ProviderTestResult>('POST', '/api/providers/test', { provider });
    return { results: Number(res.results ?? 0) };
  }
}

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
