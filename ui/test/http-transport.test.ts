import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../src/lib/errors';
import { HttpTransport } from '../src/lib/transport/http';
import type { Provider, StreamReady } from '../src/lib/types';

type Call = { url: string; init: RequestInit };

function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

function setup(reply: (call: Call) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fetch = vi.fn(async (url: string, init: RequestInit = {}) => {
    const call = { url, init };
    calls.push(call);
    return reply(call);
  });
  const t = new HttpTransport({ fetch });
  return { t, calls, fetch };
}

const HASH = '0123456789abcdef0123456789abcdef01234567';
const stream: StreamReady = {
  status: 'STREAM_READY',
  streamUrl: `http://127.0.0.1:3001/api/stream/${HASH}`,
  probeUrl: `http://127.0.0.1:3001/api/stream/${HASH}/0/probe?token=t1`,
  infoHash: HASH,
  name: 'Big Buck Bunny',
  videoFile: 'bbb.mp4',
  size: 1000,
  fileIndex: 0,
  mimeType: 'video/mp4',
  isDefaultFile: true,
  files: [{ index: 0, path: 'bbb.mp4', size: 1000, isVideo: true }],
};

describe('HttpTransport requests', () => {
  it('GET /api/health', async () => {
    const { t, calls } = setup(() => jsonResponse({ status: 'OK', version: '0.1.0', uptime: 1, activeStreams: 0 }));
    const h = await t.health();
    expect(h.version).toBe('0.1.0');
    expect(calls[0].url).toBe('/api/health');
    expect(calls[0].init.method).toBe('GET');
    expect(calls[0].init.body).toBeUndefined();
  });

  it('search by title encodes the query', async () => {
    const { t, calls } = setup(() => jsonResponse({ results: [], failedProviders: [] }));
    await t.search({ query: 'big buck & bunny' });
    expect(calls[0].url).toBe('/api/search?query=big+buck+%26+bunny');
    expect(calls[0].init.method).toBe('GET');
  });

  it('search by IMDb id sends imdbId only', async () => {
    const { t, calls } = setup(() => jsonResponse({ results: [{ name: 'x' }], failedProviders: [] }));
    const res = await t.search({ imdbId: 'tt1234567' });
    expect(calls[0].url).toBe('/api/search?imdbId=tt1234567');
    expect(res.failedProviders).toEqual([]);
    expect(res.results).toHaveLength(1);
  });

  it('POST /api/stream with a JSON body', async () => {
    const { t, calls } = setup(() => jsonResponse(stream));
    const got = await t.prepareStream({ magnet: 'magnet:?xt=urn:btih:' + HASH, fileIndex: 2 });
    expect(got.infoHash).toBe(HASH);
    expect(calls[0].url).toBe('/api/stream');
    expect(calls[0].init.method).toBe('POST');
    expect(JSON.parse(String(calls[0].init.body))).toEqual({ magnet: 'magnet:?xt=urn:btih:' + HASH, fileIndex: 2 });
    expect((calls[0].init.headers as Record<string, string>)['Content-Type']).toBe('application/json');
  });

  it('status with and without fileIndex', async () => {
    const { t, calls } = setup(() => jsonResponse({ infoHash: HASH, state: 'ready' }));
    await t.streamStatus(HASH, 3);
    await t.streamStatus(HASH);
    expect(calls[0].url).toBe(`/api/stream/${HASH}/status?fileIndex=3`);
    expect(calls[1].url).toBe(`/api/stream/${HASH}/status`);
  });

  it('probe, and subtitle tracks beside the probe URL with its token', async () => {
    const { t, calls } = setup(() => jsonResponse({ container: 'mp4' }));
    await t.probeMedia(HASH, 2);
    expect(calls[0].url).toBe(`/api/stream/${HASH}/2/probe`);
    expect(await t.subtitleTrackUrl(stream, 'file-3')).toBe(
      `http://127.0.0.1:3001/api/stream/${HASH}/0/subtitles/file-3.vtt?token=t1`,
    );
  });

  it('list, stop and providers', async () => {
    // The saved list as the backend answers it: the key's presence, never the key.
    const saved: Provider = { name: 'Jackett', kind: 'torznab', url: 'http://x', enabled: true, hasApiKey: true };
    const { t, calls } = setup(({ url, init }) => {
      if (url === '/api/streams') return jsonResponse({ streams: [stream] });
      if (init.method === 'DELETE') return jsonResponse({ status: 'STOPPED', infoHash: HASH });
      if (url === '/api/providers' && init.method === 'GET') return jsonResponse({ providers: [] });
      if (url === '/api/providers') return jsonResponse({ providers: [saved] });
      if (url === '/api/providers/test') return jsonResponse({ results: 7 });
      return jsonResponse({}, 404);
    });
    expect(await t.listStreams()).toEqual([stream]);
    await t.stopStream(HASH);
    expect(calls[1]).toMatchObject({ url: `/api/stream/${HASH}`, init: { method: 'DELETE' } });
    expect(await t.listProviders()).toEqual([]);
    const p: Provider = { name: 'Jackett', kind: 'torznab', url: 'http://x', apiKey: 'k', enabled: true, hasApiKey: true };
    expect(await t.saveProviders([p])).toEqual([saved]);
    expect(calls[3].init.method).toBe('PUT');
    expect(JSON.parse(String(calls[3].init.body))).toEqual({ providers: [p] });
    expect(await t.testProvider(p)).toEqual({ results: 7 });
    expect(calls[4].init.method).toBe('POST');
    expect(JSON.parse(String(calls[4].init.body))).toEqual({ provider: p });
  });

  it('cache: its size, and clearing it', async () => {
    const info = { usedBytes: 2048, maxBytes: 4096, torrents: [] };
    const { t, calls } = setup(({ url, init }) => {
      if (url === '/api/cache' && init.method === 'GET') return jsonResponse(info);
      if (url === '/api/cache' && init.method === 'DELETE') return jsonResponse({ freedBytes: 2048 });
      return jsonResponse({}, 404);
    });
    expect(await t.cacheInfo()).toEqual(info);
    expect(await t.clearCache()).toEqual({ freedBytes: 2048 });
    expect(calls.map((c) => [c.url, c.init.method])).toEqual([
      ['/api/cache', 'GET'],
      ['/api/cache', 'DELETE'],
    ]);
  });

  it('baseUrl prefixes every path', async () => {
    const calls: string[] = [];
    const t = new HttpTransport({
      baseUrl: 'http://127.0.0.1:3001/',
      fetch: async (url) => {
        calls.push(url);
        return jsonResponse({ streams: [] });
      },
    });
    await t.listStreams();
    expect(calls).toEqual(['http://127.0.0.1:3001/api/streams']);
  });
});

describe('HttpTransport errors', () => {
  it('turns an error body into ApiError with code and message', async () => {
    const { t } = setup(() =>
      jsonResponse({ status: 'ERROR', code: 'METADATA_TIMEOUT', message: 'no peers sent metadata' }, 504),
    );
    const err = await t.prepareStream({ infoHash: HASH }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe('METADATA_TIMEOUT');
    expect(err.message).toBe('no peers sent metadata');
    expect(err.httpStatus).toBe(504);
  });

  it('keeps the failing providers of SEARCH_FAILED', async () => {
    const providers = [{ provider: 'archive', reason: 'timed out' }];
    const { t } = setup(() => jsonResponse({ status: 'ERROR', code: 'SEARCH_FAILED', message: 'all failed', providers }, 502));
    const err = await t.search({ query: 'x' }).catch((e) => e);
    expect(err.code).toBe('SEARCH_FAILED');
    expect(err.providers).toEqual(providers);
  });

  it('fetch rejecting becomes NETWORK', async () => {
    const { t } = setup(() => {
      throw new TypeError('Failed to fetch');
    });
    const err = await t.health().catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe('NETWORK');
  });

  it('a non-JSON error page becomes UNKNOWN with the HTTP status', async () => {
    const { t } = setup(() => new Response('<html>Bad gateway</html>', { status: 502 }));
    const err = await t.listStreams().catch((e) => e);
    expect(err.code).toBe('UNKNOWN');
    expect(err.httpStatus).toBe(502);
  });

  it('external players are not available over HTTP', async () => {
    const { t } = setup(() => jsonResponse({}));
    expect(t.canOpenExternalPlayer).toBe(false);
    await expect(t.openInPlayer()).rejects.toBeInstanceOf(ApiError);
  });
});

describe('HttpTransport clipboard', () => {
  it('a clipboard that refuses is CLIPBOARD_FAILED', async () => {
    const t = new HttpTransport({
      fetch: async () => jsonResponse({}),
      writeClipboard: async () => {
        throw new DOMException('Document is not focused.', 'NotAllowedError');
      },
    });
    const err = await t.copyStreamUrl(stream).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe('CLIPBOARD_FAILED');
    expect(err.message).toContain('Document is not focused.');
  });

  it("copies the server's streamUrl as it is: the server built it for this client", async () => {
    const written: string[] = [];
    const t = new HttpTransport({
      fetch: async () => jsonResponse({}),
      writeClipboard: async (s) => void written.push(s),
    });
    await t.copyStreamUrl({ ...stream, streamUrl: `http://192.168.1.5:3001/api/stream/${HASH}` });
    // Behind a proxy with PUBLIC_URL and a path prefix.
    await t.copyStreamUrl({ ...stream, streamUrl: `https://tv.example.org/cinema/api/stream/${HASH}/2` });
    expect(written).toEqual([`http://192.168.1.5:3001/api/stream/${HASH}`, `https://tv.example.org/cinema/api/stream/${HASH}/2`]);
  });
});
