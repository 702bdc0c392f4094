import { describe, expect, it, vi } from 'vitest';
import {
  MIN_RESUME_SECONDS,
  continueWatching,
  entryName,
  findEntry,
  formatTime,
  reopenRequest,
  resumeAt,
  watchedShare,
} from '../src/lib/history';
import { HttpTransport } from '../src/lib/transport/http';
import type { HistoryEntry, StreamInfo } from '../src/lib/types';

const HASH = 'c9e15763f722f23e98a29decdfae341b98d53056';
const entry = (over: Partial<HistoryEntry> = {}): HistoryEntry => ({
  infoHash: HASH,
  fileIndex: 0,
  name: 'Film',
  positionSeconds: 60,
  durationSeconds: 600,
  updatedAt: 1,
  watched: false,
  ...over,
});

describe('resume rules', () => {
  it('resumes a begun, unfinished file where it was left', () => {
    expect(resumeAt(entry())).toBe(60);
    expect(resumeAt(entry({ watched: true }))).toBe(0);
    expect(resumeAt(entry({ positionSeconds: MIN_RESUME_SECONDS - 1 }))).toBe(0);
    expect(resumeAt(undefined)).toBe(0);
  });

  it('finds a file by hash (any case) and index', () => {
    const list = [entry({ fileIndex: 1 }), entry({ fileIndex: 2, positionSeconds: 9 })];
    expect(findEntry(list, HASH.toUpperCase(), 2)?.positionSeconds).toBe(9);
    expect(findEntry(list, HASH, 3)).toBeUndefined();
  });

  it('lists begun and unfinished files only, and their progress', () => {
    const list = [entry({ fileIndex: 1 }), entry({ fileIndex: 2, watched: true }), entry({ fileIndex: 3, positionSeconds: 1 })];
    expect(continueWatching(list).map((e) => e.fileIndex)).toEqual([1]);
    expect(watchedShare(entry())).toBeCloseTo(0.1);
    expect(watchedShare(entry({ durationSeconds: 0 }))).toBe(0);
    expect(formatTime(65)).toBe('1:05');
    expect(formatTime(3725)).toBe('1:02:05');
  });

  it('reopens with the magnet when it has one (peers, trackers), else by hash', () => {
    const magnet = `magnet:?xt=urn:btih:${HASH}&x.pe=127.0.0.1:1`;
    expect(reopenRequest(entry({ magnet, fileIndex: 2 })).request).toEqual({ magnet, fileIndex: 2 });
    expect(reopenRequest(entry({ fileIndex: 2 })).request).toEqual({ infoHash: HASH, fileIndex: 2 });
  });

  it('names an episode by its file, a film by its torrent', () => {
    const s = (paths: string[], videoFile: string) =>
      ({ name: 'Show', videoFile, files: paths.map((path, index) => ({ index, path, size: 1, isVideo: true })) }) as Pick<
        StreamInfo,
        'name' | 'videoFile' | 'files'
      >;
    expect(entryName(s(['Show/S01E01.mkv', 'Show/S01E02.mkv'], 'Show/S01E02.mkv'))).toBe('S01E02.mkv');
    expect(entryName(s(['film.mkv'], 'film.mkv'))).toBe('Show');
  });
});

describe('HttpTransport history requests', () => {
  it('uses the history paths and methods', async () => {
    const calls: { url: string; method?: string; body?: unknown }[] = [];
    const fetch = vi.fn(async (url: string, init: RequestInit = {}) => {
      calls.push({ url, method: init.method, body: init.body ? JSON.parse(String(init.body)) : undefined });
      const body = url.endsWith('/api/history') && init.method === 'GET' ? { entries: [entry()] } : { removed: 1 };
      return new Response(JSON.stringify(body), { status: 200 });
    });
    const t = new HttpTransport({ fetch });
    expect(await t.history()).toEqual([entry()]);
    await t.savePosition(HASH, 2, { positionSeconds: 12.5, durationSeconds: 40, name: 'E2' });
    await t.forgetPosition(HASH, 2);
    await t.clearHistory();
    expect(calls).toEqual([
      { url: '/api/history', method: 'GET', body: undefined },
      { url: `/api/history/${HASH}/2`, method: 'PUT', body: { positionSeconds: 12.5, durationSeconds: 40, name: 'E2' } },
      { url: `/api/history/${HASH}/2`, method: 'DELETE', body: undefined },
      { url: '/api/history', method: 'DELETE', body: undefined },
    ]);
  });
});
