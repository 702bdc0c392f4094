import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../src/lib/errors';
import { PlayerSession } from '../src/lib/session.svelte';
import { SearchModel } from '../src/lib/search.svelte';
import { HttpTransport } from '../src/lib/transport/http';
import type { Transport } from '../src/lib/transport';
import type { StreamReady, StreamStatus } from '../src/lib/types';

const HASH = '1111111111111111111111111111111111111111';

function info(fileIndex = 0): StreamReady {
  return {
    status: 'STREAM_READY',
    streamUrl: `http://127.0.0.1:3001/api/stream/${HASH}${fileIndex ? '/' + fileIndex : ''}`,
    probeUrl: `http://127.0.0.1:3001/api/stream/${HASH}/${fileIndex}/probe`,
    infoHash: HASH,
    name: 'Show S01',
    videoFile: `e${fileIndex}.mp4`,
    size: 100,
    fileIndex,
    mimeType: 'video/mp4',
    isDefaultFile: fileIndex === 0,
    files: [
      { index: 0, path: 'e0.mp4', size: 100, isVideo: true },
      { index: 1, path: 'e1.mp4', size: 100, isVideo: true },
    ],
  };
}

function status(state: StreamStatus['state']): StreamStatus {
  return {
    infoHash: HASH, state, fileIndex: state === 'fetching_metadata' ? null : 0, size: 100, progress: 0, downloadedBytes: 0, downloadSpeed: 0, uploadSpeed: 0,
    peers: { connected: 0, known: 0, tcp: { connected: 0, downloadedBytes: 0, uploadedBytes: 0 }, utp: { connected: 0, downloadedBytes: 0, uploadedBytes: 0 }, webrtc: { connected: 0, downloadedBytes: 0, uploadedBytes: 0 } }, availableRanges: [],
    readAheadBytes: 0,
  };
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function fakeTransport(overrides: Partial<Transport> = {}): Transport {
  const t = new HttpTransport({ fetch: async () => new Response('{}') });
  return Object.assign(t, overrides);
}

describe('PlayerSession', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('polls status every second while preparing, then plays', async () => {
    const prep = deferred<StreamReady>();
    const prepareStream = vi.fn(() => prep.promise);
    const streamStatus = vi.fn(async () => status('fetching_metadata'));
    const s = new PlayerSession(fakeTransport({ prepareStream, streamStatus }), {
      request: { magnet: 'magnet:?xt=urn:btih:' + HASH },
      infoHash: HASH.toUpperCase(),
      title: 'From search',
    });
    void s.start();
    expect(s.phase).toBe('preparing');
    expect(prepareStream).toHaveBeenCalledWith({ magnet: 'magnet:?xt=urn:btih:' + HASH });
    // No poll before the POST has gone out (it would only find STREAM_NOT_FOUND)…
    expect(streamStatus).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(3 * 1000);
    // …then one each second.
    expect(streamStatus).toHaveBeenCalledTimes(3);
    expect(streamStatus).toHaveBeenCalledWith(HASH, undefined);
    expect(s.status?.state).toBe('fetching_metadata');
    expect(s.src).toBe('');

    streamStatus.mockImplementation(async () => status('ready'));
    prep.resolve(info());
    await vi.advanceTimersByTimeAsync(1000);
    expect(s.phase).toBe('ready');
    // The server's streamUrl, as it is.
    expect(s.src).toBe(`http://127.0.0.1:3001/api/stream/${HASH}`);
    expect(s.title).toBe('Show S01');
    expect(streamStatus).toHaveBeenLastCalledWith(HASH, 0);
    expect(s.status?.state).toBe('ready');

    s.dispose();
    const n = streamStatus.mock.calls.length;
    await vi.advanceTimersByTimeAsync(5 * 1000);
    expect(streamStatus.mock.calls.length).toBe(n);
  });

  it('does not poll without an info hash until the backend names one', async () => {
    const prep = deferred<StreamReady>();
    const streamStatus = vi.fn(async () => status('ready'));
    const s = new PlayerSession(fakeTransport({ prepareStream: () => prep.promise, streamStatus }), {
      request: { torrent: 'ZDQ6aW5mb2Vl' },
    });
    void s.start();
    await vi.advanceTimersByTimeAsync(2 * 1000);
    expect(streamStatus).not.toHaveBeenCalled();
    prep.resolve(info());
    await vi.advanceTimersByTimeAsync(1000);
    expect(streamStatus).toHaveBeenCalled();
    s.dispose();
  });

  it('shows the error of a failed prepare and can retry', async () => {
    const prepareStream = vi
      .fn<Transport['prepareStream']>()
      .mockRejectedValueOnce(new ApiError('METADATA_TIMEOUT', 'nobody'))
      .mockResolvedValueOnce(info());
    const s = new PlayerSession(fakeTransport({ prepareStream, streamStatus: async () => status('ready') }), {
      request: { infoHash: HASH },
      infoHash: HASH,
    });
    await s.start();
    expect(s.phase).toBe('error');
    expect(s.error?.code).toBe('METADATA_TIMEOUT');
    await s.retry();
    expect(s.phase).toBe('ready');
    expect(s.error).toBeNull();
    expect(prepareStream).toHaveBeenLastCalledWith({ infoHash: HASH });
    s.dispose();
  });

  it('re-prepares with the picked file and ignores the stale answer', async () => {
    const first = deferred<StreamReady>();
    const prepareStream = vi.fn<Transport['prepareStream']>().mockResolvedValueOnce(info(0));
    const s = new PlayerSession(fakeTransport({ prepareStream, streamStatus: async () => status('ready') }), {
      request: { infoHash: HASH },
      infoHash: HASH,
    });
    await s.start();
    prepareStream.mockReturnValueOnce(first.promise).mockResolvedValueOnce(info(1));
    const slow = s.selectFile(0);
    await s.selectFile(1);
    expect(prepareStream).toHaveBeenLastCalledWith({ infoHash: HASH, fileIndex: 1 });
    first.resolve(info(0));
    await slow;
    expect(s.stream?.fileIndex).toBe(1);
    expect(s.src).toBe(`http://127.0.0.1:3001/api/stream/${HASH}/1`);
    s.dispose();
  });
});

describe('SearchModel', () => {
  it('sends imdbId for IMDb ids and keeps failed providers', async () => {
    const search = vi.fn<Transport['search']>(async () => ({
      results: [],
      failedProviders: [{ provider: 'archive', reason: 'timeout' }],
    }));
    const m = new SearchModel(fakeTransport({ search }));
    m.input = 'tt0111161';
    await m.run();
    expect(search).toHaveBeenCalledWith({ imdbId: 'tt0111161' });
    expect(m.failedProviders).toHaveLength(1);
    m.input = 'night of the living dead';
    await m.run();
    expect(search).toHaveBeenLastCalledWith({ query: 'night of the living dead' });
  });

  it('turns a failure into an error and clears results', async () => {
    const m = new SearchModel(fakeTransport({ search: async () => Promise.reject(new ApiError('SEARCH_FAILED', 'x')) }));
    m.input = 'x';
    await m.run();
    expect(m.error?.code).toBe('SEARCH_FAILED');
    expect(m.loading).toBe(false);
  });

  it('ignores an empty box', async () => {
    const search = vi.fn();
    const m = new SearchModel(fakeTransport({ search }));
    m.input = '   ';
    await m.run();
    expect(search).not.toHaveBeenCalled();
  });
});
