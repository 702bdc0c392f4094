// A fake `/api` answering the JSON the real server sends, recording every call.

import { readJsonBody, sendJson } from './server.mjs';

export const HASH_MOVIE = 'c9e15763f722f23e98a29decdfae341b98d53056';
export const HASH_SHOW = '08ada5a7a6183aae1e09d831df6748d566095a10';
export const HASH_DEAD = 'dead00000000000000000000000000000000beef';

export const SEARCH_RESULTS = [
  {
    name: 'Big Buck Bunny (2008) 1080p WEB-DL',
    infoHash: HASH_MOVIE,
    magnet: `magnet:?xt=urn:btih:${HASH_MOVIE}&dn=Big+Buck+Bunny`,
    size: 1_400_000_000,
    seeders: 42,
    leechers: 3,
    quality: { resolution: '1080p', source: 'WEB-DL' },
    provider: 'archive',
  },
  {
    name: 'Public Domain Show S01 720p',
    infoHash: HASH_SHOW,
    magnet: `magnet:?xt=urn:btih:${HASH_SHOW}&dn=Show`,
    size: 2_100_000_000,
    seeders: 7,
    leechers: 1,
    quality: { resolution: '720p', source: null },
    provider: 'torznab',
  },
  {
    name: 'Nobody Shares This',
    infoHash: HASH_DEAD,
    magnet: `magnet:?xt=urn:btih:${HASH_DEAD}`,
    size: 700_000_000,
    seeders: 0,
    leechers: 0,
    quality: { resolution: null, source: null },
    provider: 'archive',
  },
];

const FILES = {
  [HASH_MOVIE]: { name: 'Big Buck Bunny', files: [{ index: 0, path: 'Big Buck Bunny/bbb_1080p.mp4', size: 1000, isVideo: true }] },
  [HASH_SHOW]: {
    name: 'Public Domain Show S01',
    files: [
      { index: 0, path: 'Show/S01E01.mp4', size: 1000, isVideo: true },
      { index: 1, path: 'Show/S01E02.mp4', size: 1000, isVideo: true },
      { index: 2, path: 'Show/info.nfo', size: 10, isVideo: false },
    ],
  },
};

const error = (res, status, code, message, extra = {}) => sendJson(res, status, { status: 'ERROR', code, message, ...extra });

/**
 * `createFakeApi({ prepareDelayMs })` → `{ handler, calls, streams }`.
 * The reported streamUrl uses port 3001 on purpose: the UI must re-root it on its origin.
 */
export function createFakeApi({ prepareDelayMs = 1200 } = {}) {
  const calls = [];
  const streams = new Map(); // hash → STREAM_READY object
  const pending = new Set();
  let providers = [{ name: 'Internet Archive', kind: 'archive', url: 'https://archive.org', enabled: true }];
  const started = Date.now();

  function ready(hash, fileIndex) {
    const t = FILES[hash];
    const file = t.files[fileIndex] ?? t.files[0];
    return {
      status: 'STREAM_READY',
      streamUrl: `http://127.0.0.1:3001/api/stream/${hash}${file.index === 0 ? '' : `/${file.index}`}`,
      infoHash: hash,
      name: t.name,
      videoFile: file.path,
      size: file.size,
      fileIndex: file.index,
      mimeType: 'video/mp4',
      isDefaultFile: file.index === 0,
      files: t.files,
    };
  }

  async function handler(req, res, url) {
    const body = req.method === 'POST' || req.method === 'PUT' ? await readJsonBody(req) : undefined;
    calls.push({ method: req.method, path: url.pathname + url.search, body });
    const p = url.pathname;

    if (p === '/api/health') {
      return sendJson(res, 200, { status: 'OK', version: '0.1.0', uptime: Math.round((Date.now() - started) / 1000), activeStreams: streams.size });
    }
    if (p === '/api/search') {
      const query = url.searchParams.get('query');
      const imdbId = url.searchParams.get('imdbId');
      if (!query && !imdbId) return error(res, 400, 'INVALID_REQUEST', 'query or imdbId required');
      if (query === 'offline') {
        return error(res, 502, 'SEARCH_FAILED', 'every provider failed', { providers: [{ provider: 'archive', reason: 'timed out' }] });
      }
      return sendJson(res, 200, { results: SEARCH_RESULTS, failedProviders: [{ provider: 'stremio', reason: 'connection refused' }] });
    }
    if (p === '/api/stream' && req.method === 'POST') {
      let hash = body?.infoHash?.toLowerCase();
      if (!hash && body?.magnet) hash = /btih:([0-9a-f]{40})/i.exec(body.magnet)?.[1]?.toLowerCase();
      if (!hash) return error(res, 400, 'INVALID_REQUEST', 'magnet, infoHash or torrent required');
      pending.add(hash);
      await new Promise((r) => setTimeout(r, hash === HASH_DEAD ? 300 : prepareDelayMs));
      pending.delete(hash);
      if (!FILES[hash]) return error(res, 504, 'METADATA_TIMEOUT', 'no peer sent the metadata within 60 s');
      const s = ready(hash, body.fileIndex ?? 0);
      streams.set(hash, s);
      return sendJson(res, 200, s);
    }
    if (p === '/api/streams') return sendJson(res, 200, { streams: [...streams.values()] });
    if (p === '/api/providers' && req.method === 'GET') return sendJson(res, 200, { providers });
    if (p === '/api/providers' && req.method === 'PUT') {
      providers = body.providers;
      return sendJson(res, 200, { providers });
    }
    if (p === '/api/providers/test' && req.method === 'POST') return sendJson(res, 200, { results: 12 });

    const m = /^\/api\/stream\/([0-9a-f]{40})(?:\/(status|\d+))?$/.exec(p);
    if (m) {
      const [, hash, rest] = m;
      if (rest === 'status') {
        if (pending.has(hash) && !streams.has(hash)) {
          return sendJson(res, 200, {
            infoHash: hash, state: 'fetching_metadata', fileIndex: null, size: 0, progress: 0, downloadedBytes: 0,
            downloadSpeed: 0, uploadSpeed: 0, peers: { connected: 1, known: 4 }, availableRanges: [],
          });
        }
        const s = streams.get(hash);
        if (!s) return error(res, 404, 'STREAM_NOT_FOUND', 'no such stream');
        return sendJson(res, 200, {
          infoHash: hash, state: 'ready', fileIndex: Number(url.searchParams.get('fileIndex') ?? s.fileIndex), size: 1000,
          progress: 0.5, downloadedBytes: 500, downloadSpeed: 2_400_000, uploadSpeed: 1000,
          peers: { connected: 3, known: 10 }, availableRanges: [{ start: 0, end: 250 }, { start: 500, end: 750 }],
        });
      }
      if (req.method === 'DELETE' && !rest) {
        if (!streams.delete(hash)) return error(res, 404, 'STREAM_NOT_FOUND', 'no such stream');
        return sendJson(res, 200, { status: 'STOPPED', infoHash: hash });
      }
      if (req.method === 'GET' || req.method === 'HEAD') {
        if (!streams.has(hash)) return error(res, 404, 'STREAM_NOT_FOUND', 'no such stream');
        // Media: answer headers and never finish, so the <video> stays "loading" without a real file.
        res.writeHead(200, { 'Content-Type': 'video/mp4', 'Accept-Ranges': 'bytes' });
        return;
      }
    }
    return error(res, 404, 'INVALID_REQUEST', `no route ${req.method} ${p}`);
  }

  return { handler, calls, streams };
}
