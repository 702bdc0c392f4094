import { describe, expect, it, vi } from 'vitest';
import { COMMANDS, type Command } from '../src/lib/commands';
import { ApiError } from '../src/lib/errors';
import type { Transport } from '../src/lib/transport';
import { TauriTransport, type InvokeFn } from '../src/lib/transport/tauri';
import type { Provider, StreamReady } from '../src/lib/types';

const HASH = 'abcdefabcdefabcdefabcdefabcdefabcdefabcd';

function setup(reply: (cmd: string, args?: Record<string, unknown>) => unknown = () => ({})) {
  const invoke = vi.fn(async (cmd: string, args?: Record<string, unknown>) => reply(cmd, args));
  return { t: new TauriTransport(invoke as unknown as InvokeFn), invoke };
}

const stream = { infoHash: HASH, fileIndex: 1, streamUrl: `http://127.0.0.1:3001/api/stream/${HASH}/1` } as StreamReady;
const p: Provider = { name: 'IA', kind: 'archive', url: 'https://archive.org', enabled: true, hasApiKey: false };

describe('TauriTransport commands', () => {
  it('uses the command names and argument shapes', async () => {
    const { t, invoke } = setup((cmd) => {
      if (cmd === 'list_streams') return { streams: [stream] };
      if (cmd === 'list_providers' || cmd === 'save_providers') return { providers: [] };
      if (cmd === 'test_provider') return { results: 3 };
      if (cmd === 'clear_cache') return { freedBytes: 5 };
      if (cmd === 'cache_info') return { usedBytes: 0, maxBytes: 9, torrents: [] };
      if (cmd === 'search') return { results: [], failedProviders: [] };
      return {};
    });

    await t.health();
    await t.search({ query: 'bunny' });
    await t.search({ imdbId: 'tt1234567' });
    await t.prepareStream({ magnet: 'magnet:?xt=urn:btih:' + HASH });
    await t.prepareStream({ infoHash: HASH, fileIndex: 2 });
    await t.streamStatus(HASH, 2);
    await t.streamStatus(HASH);
    expect(await t.listStreams()).toEqual([stream]);
    await t.stopStream(HASH);
    await t.openInPlayer(stream, 'vlc');
    await t.copyStreamUrl(stream);
    expect(await t.listProviders()).toEqual([]);
    expect(await t.saveProviders([p])).toEqual([]);
    expect(await t.testProvider(p)).toEqual({ results: 3 });
    expect(await t.clearCache()).toEqual({ freedBytes: 5 });
    expect(await t.cacheInfo()).toEqual({ usedBytes: 0, maxBytes: 9, torrents: [] });

    expect(invoke.mock.calls).toEqual([
      ['health', undefined],
      ['search', { query: 'bunny' }],
      ['search', { imdbId: 'tt1234567' }],
      ['prepare_stream', { request: { magnet: 'magnet:?xt=urn:btih:' + HASH } }],
      ['prepare_stream', { request: { infoHash: HASH, fileIndex: 2 } }],
      ['stream_status', { infoHash: HASH, fileIndex: 2 }],
      ['stream_status', { infoHash: HASH }],
      ['list_streams', undefined],
      ['stop_stream', { infoHash: HASH }],
      ['open_in_player', { infoHash: HASH, fileIndex: 1, player: 'vlc' }],
      ['copy_stream_url', { infoHash: HASH, fileIndex: 1 }],
      ['list_providers', undefined],
      ['save_providers', { providers: [p] }],
      ['test_provider', { provider: p }],
      ['clear_cache', undefined],
      ['cache_info', undefined],
    ]);
  });

  it('unwraps the lists the commands answer', async () => {
    const saved = { ...p, hasApiKey: true };
    const { t } = setup((cmd) =>
      cmd === 'list_streams' ? { streams: [stream] } : cmd === 'save_providers' ? { providers: [saved] } : { providers: [p] },
    );
    expect(await t.listStreams()).toEqual([stream]);
    expect(await t.listProviders()).toEqual([p]);
    expect(await t.saveProviders([{ ...p, apiKey: 'k' }])).toEqual([saved]);
  });

  it('offers external players', () => {
    const { t } = setup();
    expect(t.canOpenExternalPlayer).toBe(true);
  });
});

describe('TauriTransport and the command list', () => {
  /** One call of every Transport method; a method added to Transport must be added here. */
  type Method = { [K in keyof Transport]: Transport[K] extends (...args: never[]) => unknown ? K : never }[keyof Transport];
  const everyMethod: Record<Method, (t: Transport) => unknown> = {
    health: (t) => t.health(),
    search: (t) => t.search({ query: 'x' }),
    prepareStream: (t) => t.prepareStream({ infoHash: HASH }),
    streamStatus: (t) => t.streamStatus(HASH),
    probeMedia: (t) => t.probeMedia(HASH, 1),
    subtitleTrackUrl: (t) => t.subtitleTrackUrl(stream, 'embedded-0'),
    listStreams: (t) => t.listStreams(),
    stopStream: (t) => t.stopStream(HASH),
    copyStreamUrl: (t) => t.copyStreamUrl(stream),
    openInPlayer: (t) => t.openInPlayer(stream, 'mpv'),
    listProviders: (t) => t.listProviders(),
    saveProviders: (t) => t.saveProviders([p]),
    testProvider: (t) => t.testProvider(p),
    cacheInfo: (t) => t.cacheInfo(),
    clearCache: (t) => t.clearCache(),
    history: (t) => t.history(),
    savePosition: (t) => t.savePosition(HASH, 1, { positionSeconds: 12.5, durationSeconds: 40 }),
    forgetPosition: (t) => t.forgetPosition(HASH, 1),
    clearHistory: (t) => t.clearHistory(),
  };

  it('the table above calls every public method', () => {
    const methods = Object.getOwnPropertyNames(TauriTransport.prototype).filter((m) => m !== 'constructor' && m !== 'call');
    expect(methods.sort()).toEqual(Object.keys(everyMethod).sort());
  });

  it('invokes exactly the commands of the Rust list, each of them', async () => {
    const answers: Record<Command, unknown> = {
      health: { status: 'OK', version: '0', uptime: 0, activeStreams: 0 },
      prepare_stream: stream,
      stream_status: {},
      probe_media: {},
      subtitle_vtt: 'WEBVTT\n',
      list_streams: { streams: [] },
      stop_stream: { status: 'STOPPED', infoHash: HASH },
      open_in_player: null,
      copy_stream_url: stream.streamUrl,
      search: { results: [], failedProviders: [] },
      list_providers: { providers: [] },
      save_providers: { providers: [] },
      test_provider: { results: 0 },
      cache_info: { usedBytes: 0, maxBytes: 1, torrents: [] },
      clear_cache: { freedBytes: 0 },
      history: { entries: [] },
      save_position: {},
      forget_position: { removed: 0 },
      clear_history: { removed: 0 },
    };
    const { t, invoke } = setup((cmd) => answers[cmd as Command]);
    for (const call of Object.values(everyMethod)) await call(t);
    const invoked = new Set(invoke.mock.calls.map(([cmd]) => cmd));
    expect([...invoked].sort()).toEqual([...COMMANDS].sort());
  });
});

describe('TauriTransport errors', () => {
  it('rejects with the same ApiError as HTTP', async () => {
    const { t } = setup(() => {
      throw { status: 'ERROR', code: 'NO_VIDEO_FILE', message: 'only .nfo files' };
    });
    const err = await t.prepareStream({ infoHash: HASH }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe('NO_VIDEO_FILE');
    expect(err.message).toBe('only .nfo files');
  });

  it('carries SEARCH_FAILED providers', async () => {
    const providers = [{ provider: 'jackett', reason: '401' }];
    const { t } = setup(() => {
      throw { status: 'ERROR', code: 'SEARCH_FAILED', message: 'x', providers };
    });
    const err = await t.search({ query: 'x' }).catch((e) => e);
    expect(err.providers).toEqual(providers);
  });

  it('a plain string rejection (unknown command) becomes UNKNOWN', async () => {
    const { t } = setup(() => {
      throw 'Command health not found';
    });
    const err = await t.health().catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe('UNKNOWN');
    expect(err.message).toContain('not found');
  });
});

describe('TauriTransport default invoke', () => {
  it('goes through @tauri-apps/api/core invoke', async () => {
    vi.resetModules();
    const invoke = vi.fn(async () => ({ status: 'OK', version: '9.9.9', uptime: 0, activeStreams: 0 }));
    vi.doMock('@tauri-apps/api/core', () => ({ invoke }));
    const { TauriTransport: Fresh } = await import('../src/lib/transport/tauri');
    const h = await new Fresh().health();
    expect(h.version).toBe('9.9.9');
    expect(invoke).toHaveBeenCalledWith('health', undefined);
    vi.doUnmock('@tauri-apps/api/core');
  });
});
