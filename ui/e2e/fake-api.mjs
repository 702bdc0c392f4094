// @ts-check
// A fake `/api` that answers as the real server does (crates/server/src/http.rs), typed
// against the contract generated from the Rust wire types, recording every call.
//
// What it fakes: the torrents. It knows the fixtures below by their hex info hash; any
// other well-formed hash or magnet link is a torrent nobody shares (METADATA_TIMEOUT), and
// it reads no .torrent files (INVALID_REQUEST). Everything else follows the server: the
// routes and their methods (404 NOT_FOUND, 405 METHOD_NOT_ALLOWED), bodies that must be
// JSON with known fields (400 INVALID_REQUEST), the status of a stream being prepared
// (StreamStatus::pending: nothing known yet, no peers), `streamUrl` from the Host header
// with a stream token (`?token=`, see `streamToken`), and API keys that are kept but never answered.

import { createHash } from 'node:crypto';
import { readBody, sendError, sendJson } from './server.mjs';

/**
 * The fake's stream token for `hash`: 32 hex digits like the server's, which derives
 * them from a secret drawn at start.
 * @param {string} hash
 */
export function streamToken(hash) {
  return createHash('sha256').update(`fake stream token ${hash}`).digest('hex').slice(0, 32);
}

/** @typedef {import('../src/lib/contract').CacheCleared} CacheCleared */
/** @typedef {import('../src/lib/contract').CacheInfo} CacheInfo */
/** @typedef {import('../src/lib/contract').ErrorCode} ErrorCode */
/** @typedef {import('../src/lib/contract').Health} Health */
/** @typedef {import('../src/lib/contract').HistoryEntry} HistoryEntry */
/** @typedef {import('../src/lib/contract').HistoryForgotten} HistoryForgotten */
/** @typedef {import('../src/lib/contract').HistoryList} HistoryList */
/** @typedef {import('../src/lib/contract').SavePosition} SavePosition */
/** @typedef {import('../src/lib/contract').Provider} Provider */
/** @typedef {import('../src/lib/contract').ProviderKind} ProviderKind */
/** @typedef {import('../src/lib/contract').ProviderList} ProviderList */
/** @typedef {import('../src/lib/contract').ProviderTestResult} ProviderTestResult */
/** @typedef {import('../src/lib/contract').SearchResponse} SearchResponse */
/** @typedef {import('../src/lib/contract').SearchResult} SearchResult */
/** @typedef {import('../src/lib/contract').Stopped} Stopped */
/** @typedef {import('../src/lib/contract').StreamList} StreamList */
/** @typedef {import('../src/lib/contract').StreamReady} StreamReady */
/** @typedef {import('../src/lib/contract').StreamRequest} StreamRequest */
/** @typedef {import('../src/lib/contract').StreamStatus} StreamStatus */
/** @typedef {import('../src/lib/contract').TorrentFile} TorrentFile */
/** @typedef {import('node:http').IncomingMessage} IncomingMessage */
/** @typedef {import('node:http').ServerResponse} ServerResponse */
/** @typedef {{ method: string, path: string, body: unknown }} Call */
/**
 * One route's handler: `params` are the path's segments, `text` the request's body.
 * @typedef {(req: IncomingMessage, res: ServerResponse, url: URL, params: string[], text: string) => Promise<void> | void} Route
 */

export const HASH_MOVIE = 'c9e15763f722f23e98a29decdfae341b98d53056';
export const HASH_SHOW = '08ada5a7a6183aae1e09d831df6748d566095a10';
export const HASH_DEAD = 'dead00000000000000000000000000000000beef';

/** @type {SearchResult[]} */
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
    providers: ['archive'],
    fileIndex: null,
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
    providers: ['torznab', 'archive'],
    fileIndex: null,
  },
  {
    name: 'Nobody Shares This',
    infoHash: HASH_DEAD,
    magnet: `magnet:?xt=urn:btih:${HASH_DEAD}`,
    size: null,
    seeders: 0,
    leechers: 0,
    quality: { resolution: null, source: null },
    provider: 'archive',
    providers: ['archive'],
    fileIndex: null,
  },
];

/** @type {Record<string, { name: string, files: TorrentFile[] }>} */
const TORRENTS = {
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

/** @type {ProviderKind[]} */
const PROVIDER_KINDS = ['archive', 'torznab', 'stremio'];

/** An answer of INVALID_REQUEST (or another code), thrown by the checks below. */
class Refusal extends Error {
  /**
   * @param {string} message
   * @param {ErrorCode} [code]
   * @param {number} [status]
   */
  constructor(message, code = 'INVALID_REQUEST', status = 400) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

/**
 * An info hash as the server reads one: 40 hex digits (any case) or 32 base32 letters.
 * Returns the key the fixtures are stored under (lower-case hex); a base32 hash is
 * well-formed but names no fixture.
 * @param {string} text
 */
function infoHash(text) {
  if (/^[0-9a-f]{40}$/i.test(text)) return text.toLowerCase();
  if (/^[a-z2-7]{32}$/i.test(text)) return text.toUpperCase();
  throw new Refusal(`an info hash is 40 hex digits or 32 base32 letters, not ${JSON.stringify(text)}`);
}

/**
 * The info hash of a magnet link's `xt=urn:btih:`.
 * @param {string} link
 */
function magnetInfoHash(link) {
  const s = link.trim();
  if (!/^magnet:/i.test(s)) throw new Refusal('invalid magnet link: it must start with magnet:?');
  const query = s.includes('?') ? s.slice(s.indexOf('?') + 1) : '';
  for (const xt of new URLSearchParams(query).getAll('xt')) {
    if (/^urn:btih:/i.test(xt)) {
      try {
        return infoHash(xt.slice('urn:btih:'.length));
      } catch (err) {
        throw new Refusal(`invalid magnet link: ${/** @type {Error} */ (err).message}`);
      }
    }
  }
  throw new Refusal('invalid magnet link: it has no xt=urn:btih: info hash');
}

/**
 * A file index as a path segment or query value: digits only.
 * @param {string} text
 */
function fileIndex(text) {
  if (!/^\d+$/.test(text)) throw new Refusal(`file index must be a number, not ${JSON.stringify(text)}`);
  return Number(text);
}

/**
 * @param {{ name: string, files: TorrentFile[] }} torrent
 * @param {number} index
 */
function torrentFile(torrent, index) {
  const file = torrent.files[index];
  if (!file) throw new Refusal(`fileIndex ${index} is out of range: the torrent has ${torrent.files.length} file(s)`);
  return file;
}

/** @param {unknown} v */
const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The checks serde makes of a JSON object with `deny_unknown_fields`: every field known,
 * of its type (null only for optional ones); the required ones present.
 * @param {unknown} value
 * @param {Record<string, (v: unknown) => boolean>} required
 * @param {Record<string, (v: unknown) => boolean>} [optional]
 * @returns {Record<string, unknown>}
 */
function fields(value, required, optional = {}) {
  if (!isObject(value)) throw new Refusal('bad JSON body: expected an object');
  const obj = /** @type {Record<string, unknown>} */ (value);
  for (const [key, v] of Object.entries(obj)) {
    const check = required[key] ?? optional[key];
    if (!check) throw new Refusal(`bad JSON body: unknown field \`${key}\``);
    if (v !== null && !check(v)) throw new Refusal(`bad JSON body: invalid type for \`${key}\``);
    if (v === null && required[key]) throw new Refusal(`bad JSON body: invalid type: null for \`${key}\``);
  }
  for (const key of Object.keys(required)) {
    if (!(key in obj)) throw new Refusal(`bad JSON body: missing field \`${key}\``);
  }
  return obj;
}

/** @param {unknown} v */
const isString = (v) => typeof v === 'string';
/** @param {unknown} v */
const isBool = (v) => typeof v === 'boolean';
/** @param {unknown} v */
const isCount = (v) => Number.isInteger(v) && /** @type {number} */ (v) >= 0;

/**
 * A provider of a request body (saved or tested).
 * @param {unknown} value
 * @returns {Provider}
 */
function providerOf(value) {
  const p = fields(
    value,
    { name: isString, kind: (v) => PROVIDER_KINDS.includes(/** @type {ProviderKind} */ (v)), url: isString, enabled: isBool },
    { timeoutSecs: isCount, hasApiKey: isBool, apiKey: isString },
  );
  if (!String(p.name).trim()) throw new Refusal('the name is empty');
  return /** @type {Provider} */ (p);
}

/**
 * The JSON body of a request, as axum's `Json` extractor takes it.
 * @param {IncomingMessage} req
 * @param {string} text
 */
function jsonBody(req, text) {
  if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) {
    throw new Refusal('bad JSON body: Expected request with `Content-Type: application/json`');
  }
  try {
    return /** @type {unknown} */ (JSON.parse(text));
  } catch (err) {
    throw new Refusal(`bad JSON body: ${/** @type {Error} */ (err).message}`);
  }
}

/**
 * `createFakeApi({ prepareDelayMs })` → `{ handler, calls, streams, apiKeys }`.
 * @param {{ prepareDelayMs?: number }} [options]
 */
export function createFakeApi({ prepareDelayMs = 1200 } = {}) {
  /** @type {Call[]} */
  const calls = [];
  /** Prepared streams: info hash → the file last prepared. */
  /** @type {Map<string, number>} */
  const streams = new Map();
  /** Info hashes whose POST /api/stream has not answered yet. */
  /** @type {Set<string>} */
  const pending = new Set();
  /** The saved providers, without their keys (which are in `apiKeys`, by name). */
  /** @type {Omit<Provider, 'apiKey' | 'hasApiKey'>[]} */
  let providers = [{ name: 'Internet Archive', kind: 'archive', url: 'https://archive.org', enabled: true }];
  /** @type {Map<string, string>} */
  const apiKeys = new Map();
  const started = Date.now();
  /** Bytes the cache holds, until it is cleared. */
  let cachedBytes = 3_000_000_000;

  /** @returns {ProviderList} */
  const providerList = () => ({ providers: providers.map((p) => ({ ...p, hasApiKey: apiKeys.has(p.name) })) });

  /**
   * What POST /api/stream and GET /api/streams answer for a prepared file.
   * @param {IncomingMessage} req
   * @param {string} hash
   * @param {number} index
   * @returns {StreamReady}
   */
  function ready(req, hash, index) {
    const t = TORRENTS[hash];
    const file = torrentFile(t, index);
    const isDefaultFile = file.index === 0;
    return {
      status: 'STREAM_READY',
      // Like the server without a public URL or a trusted proxy: the Host the client used.
      streamUrl: `http://${req.headers.host}/api/stream/${hash}${isDefaultFile ? '' : `/${file.index}`}?token=${streamToken(hash)}`,
      probeUrl: `http://${req.headers.host}/api/stream/${hash}/${file.index}/probe?token=${streamToken(hash)}`,
      infoHash: hash,
      name: t.name,
      videoFile: file.path,
      size: file.size,
      fileIndex: file.index,
      mimeType: 'video/mp4',
      isDefaultFile,
      files: t.files,
    };
  }

  /** @type {Route} */
  function health(_req, res) {
    /** @type {Health} */
    const body = { status: 'OK', version: '0.1.0', uptime: Math.round((Date.now() - started) / 1000), activeStreams: streams.size };
    sendJson(res, 200, body);
  }

  /** @type {Route} */
  function search(_req, res, url) {
    for (const key of url.searchParams.keys()) {
      if (key !== 'query' && key !== 'imdbId') throw new Refusal(`Failed to deserialize query string: unknown field \`${key}\``);
    }
    const query = url.searchParams.get('query');
    const imdbId = url.searchParams.get('imdbId');
    if ((query === null) === (imdbId === null)) throw new Refusal('give one of query or imdbId');
    if (query === 'offline') {
      return sendError(res, 502, 'SEARCH_FAILED', 'every search provider failed: archive: timed out', {
        providers: [{ provider: 'archive', reason: 'timed out' }],
      });
    }
    /** @type {SearchResponse} */
    const body = { results: SEARCH_RESULTS, failedProviders: [{ provider: 'stremio', reason: 'connection refused' }] };
    sendJson(res, 200, body);
  }

  /** @type {Route} */
  function listProviders(_req, res) {
    sendJson(res, 200, providerList());
  }

  /** @type {Route} */
  function saveProviders(req, res, _url, _params, text) {
    const body = fields(jsonBody(req, text), { providers: Array.isArray });
    const next = /** @type {unknown[]} */ (body.providers).map(providerOf);
    // `apiKey` absent keeps the saved key of that name, "" clears it, a value replaces it.
    /** @type {Map<string, string>} */
    const keys = new Map();
    for (const { name, apiKey } of next) {
      const key = apiKey ?? apiKeys.get(name);
      if (key) keys.set(name, key);
    }
    apiKeys.clear();
    for (const [name, key] of keys) apiKeys.set(name, key);
    providers = next.map(({ apiKey: _key, hasApiKey: _has, ...p }) => p);
    sendJson(res, 200, providerList());
  }

  /** @type {Route} */
  function cacheInfo(_req, res) {
    /** @type {CacheInfo} */
    const body = { usedBytes: cachedBytes, maxBytes: 10_000_000_000, torrents: [] };
    sendJson(res, 200, body);
  }

  /** @type {Route} */
  function clearCache(_req, res) {
    /** @type {CacheCleared} */
    const body = { freedBytes: cachedBytes };
    cachedBytes = 0;
    sendJson(res, 200, body);
  }

  /** @type {Route} */
  function testProvider(req, res, _url, _params, text) {
    providerOf(fields(jsonBody(req, text), { provider: isObject }).provider);
    /** @type {ProviderTestResult} */
    const body = { results: 12 };
    sendJson(res, 200, body);
  }

  /**
   * A Route (async).
   * @param {IncomingMessage} req
   * @param {ServerResponse} res
   * @param {URL} _url
   * @param {string[]} _params
   * @param {string} text
   */
  async function prepareStream(req, res, _url, _params, text) {
    const body = /** @type {StreamRequest} */ (
      fields(jsonBody(req, text), {}, { magnet: isString, infoHash: isString, torrent: isString, fileIndex: isCount })
    );
    const given = [body.magnet, body.infoHash, body.torrent].filter((v) => v !== undefined && v !== null);
    if (given.length === 0) throw new Refusal('give one of magnet, infoHash or torrent');
    if (given.length > 1) throw new Refusal('give only one of magnet, infoHash or torrent');
    if (body.torrent) throw new Refusal('invalid .torrent file: the fake API reads none');
    const hash = body.magnet ? magnetInfoHash(body.magnet) : infoHash(String(body.infoHash).trim());
    const index = body.fileIndex ?? 0;
    if (!streams.has(hash)) {
      pending.add(hash);
      try {
        await new Promise((r) => setTimeout(r, hash === HASH_DEAD ? 300 : prepareDelayMs));
      } finally {
        pending.delete(hash);
      }
      if (!TORRENTS[hash]) {
        throw new Refusal(`could not fetch the torrent's metadata: no peer sent it within 60 s`, 'METADATA_TIMEOUT', 504);
      }
    }
    const answer = ready(req, hash, index);
    streams.set(hash, index);
    sendJson(res, 200, answer);
  }

  /** @type {Route} */
  function listStreams(req, res) {
    /** @type {StreamList} */
    const body = { streams: [...streams].map(([hash, index]) => ready(req, hash, index)) };
    sendJson(res, 200, body);
  }

  /**
   * The prepared stream of a path's info hash.
   * @param {string} text
   */
  function streamOf(text) {
    const hash = infoHash(text);
    const index = streams.get(hash);
    if (index === undefined) throw new Refusal(`no stream with info hash ${hash}`, 'STREAM_NOT_FOUND', 404);
    return { hash, index, torrent: TORRENTS[hash] };
  }

  /** @type {Route} */
  function streamStatus(_req, res, url, [text]) {
    const hash = infoHash(text);
    const query = url.searchParams.get('fileIndex');
    const requested = query === null ? undefined : fileIndex(query);
    if (!streams.has(hash) && pending.has(hash)) {
      // StreamStatus::pending(info_hash, FetchingMetadata), field for field.
      /** @type {StreamStatus} */
      const body = {
        infoHash: hash, state: 'fetching_metadata', fileIndex: null, size: 0, progress: 0, downloadedBytes: 0,
        downloadSpeed: 0, uploadSpeed: 0, peers: { connected: 0, known: 0, tcp: { connected: 0, downloadedBytes: 0, uploadedBytes: 0 }, utp: { connected: 0, downloadedBytes: 0, uploadedBytes: 0 }, webrtc: { connected: 0, downloadedBytes: 0, uploadedBytes: 0 } }, availableRanges: [],
        readAheadBytes: 0,
      };
      return sendJson(res, 200, body);
    }
    const s = streamOf(text);
    const file = torrentFile(s.torrent, requested ?? 0);
    /** @type {StreamStatus} */
    const body = {
      infoHash: hash, state: 'ready', fileIndex: file.index, size: file.size, progress: 0.5, downloadedBytes: file.size / 2,
      downloadSpeed: 2_400_000, uploadSpeed: 1000, peers: { connected: 3, known: 10, tcp: { connected: 1, downloadedBytes: 4_194_304, uploadedBytes: 0 }, utp: { connected: 1, downloadedBytes: 2_097_152, uploadedBytes: 0 }, webrtc: { connected: 1, downloadedBytes: 1_048_576, uploadedBytes: 65_536 } },
      availableRanges: [{ start: 0, end: file.size / 4 }, { start: file.size / 2, end: (file.size * 3) / 4 }],
      readAheadBytes: 32 * 1024 * 1024,
    };
    sendJson(res, 200, body);
  }

  /** @type {Route} */
  function stopStream(_req, res, _url, [text]) {
    const { hash } = streamOf(text);
    streams.delete(hash);
    /** @type {Stopped} */
    const body = { status: 'STOPPED', infoHash: hash };
    sendJson(res, 200, body);
  }

  /** @type {Route} */
  function media(req, res, _url, [text, file]) {
    const s = streamOf(text);
    const { size } = torrentFile(s.torrent, file === undefined ? 0 : fileIndex(file));
    res.writeHead(200, { 'Content-Type': 'video/mp4', 'Accept-Ranges': 'bytes', 'Content-Length': size });
    // The body never comes, so a <video> stays "loading" without a real file.
    if (req.method === 'HEAD') res.end();
  }

  /** The watch history, newest first (the server keeps it in history.json). */
  /** @type {HistoryEntry[]} */
  const history = [];

  /** @type {Route} */
  function listHistory(_req, res) {
    /** @type {HistoryList} */
    const body = { entries: history };
    sendJson(res, 200, body);
  }

  /** @type {Route} */
  function savePosition(_req, res, _url, [text, file], raw) {
    const hash = text.toLowerCase();
    if (!/^[0-9a-f]{40}$/.test(hash) || !/^\d+$/.test(file)) throw new Refusal('bad info hash or file index', 'INVALID_REQUEST', 400);
    /** @type {SavePosition} */
    let save;
    try {
      save = JSON.parse(raw);
    } catch {
      throw new Refusal('the body is not JSON', 'INVALID_REQUEST', 400);
    }
    const position = save.positionSeconds;
    const duration = save.durationSeconds ?? 0;
    if (typeof position !== 'number' || !(position >= 0) || !(duration >= 0)) {
      throw new Refusal('positionSeconds must be a finite number of seconds, 0 or more', 'INVALID_REQUEST', 400);
    }
    const fileIndex = Number(file);
    const at = history.findIndex((e) => e.infoHash === hash && e.fileIndex === fileIndex);
    const previous = at >= 0 ? history.splice(at, 1)[0] : undefined;
    const t = duration > 0 ? Math.min(position, duration) : position;
    /** @type {HistoryEntry} */
    const entry = {
      infoHash: hash, fileIndex, name: save.name || previous?.name || '', positionSeconds: t, durationSeconds: duration,
      updatedAt: Date.now(), watched: duration > 0 && duration - t <= Math.min(60, duration * 0.05),
    };
    const magnet = save.magnet ?? previous?.magnet;
    if (magnet) entry.magnet = magnet;
    history.unshift(entry);
    sendJson(res, 200, entry);
  }

  /** @type {Route} */
  function forgetPosition(_req, res, _url, [text, file]) {
    const at = history.findIndex((e) => e.infoHash === text.toLowerCase() && e.fileIndex === Number(file));
    if (at >= 0) history.splice(at, 1);
    /** @type {HistoryForgotten} */
    const body = { removed: at >= 0 ? 1 : 0 };
    sendJson(res, 200, body);
  }

  /** @type {Route} */
  function clearHistory(_req, res) {
    /** @type {HistoryForgotten} */
    const body = { removed: history.length };
    history.length = 0;
    sendJson(res, 200, body);
  }

  /**
   * The server's router: path → method → handler. GET routes answer HEAD too, as axum's do.
   * @type {[RegExp, Record<string, Route>][]}
   */
  const routes = [
    [/^\/api\/health$/, { GET: health }],
    [/^\/api\/search$/, { GET: search }],
    [/^\/api\/providers$/, { GET: listProviders, PUT: saveProviders }],
    [/^\/api\/providers\/test$/, { POST: testProvider }],
    [/^\/api\/cache$/, { GET: cacheInfo, DELETE: clearCache }],
    [/^\/api\/stream$/, { POST: prepareStream }],
    [/^\/api\/streams$/, { GET: listStreams }],
    [/^\/api\/stream\/([^/]+)$/, { GET: media, DELETE: stopStream }],
    [/^\/api\/stream\/([^/]+)\/status$/, { GET: streamStatus }],
    [/^\/api\/stream\/([^/]+)\/([^/]+)$/, { GET: media }],
    [/^\/api\/history$/, { GET: listHistory, DELETE: clearHistory }],
    [/^\/api\/history\/([^/]+)\/([^/]+)$/, { PUT: savePosition, DELETE: forgetPosition }],
  ];

  /**
   * @param {IncomingMessage} req
   * @param {ServerResponse} res
   * @param {URL} url
   */
  async function handler(req, res, url) {
    /** @type {Call} */
    const call = { method: req.method ?? 'GET', path: url.pathname + url.search, body: undefined };
    calls.push(call);
    const method = call.method === 'HEAD' ? 'GET' : call.method;
    try {
      for (const [pattern, methods] of routes) {
        const m = pattern.exec(url.pathname);
        if (!m) continue;
        const route = methods[method];
        if (!route) throw new Refusal('this path does not take that method', 'METHOD_NOT_ALLOWED', 405);
        const text = await readBody(req);
        if (text) {
          try {
            call.body = JSON.parse(text);
          } catch {
            call.body = text;
          }
        }
        return await route(req, res, url, m.slice(1).map(decodeURIComponent), text);
      }
      throw new Refusal('no such API path', 'NOT_FOUND', 404);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      sendError(res, err.status, err.code, err.message);
    }
  }

  return { handler, calls, streams, apiKeys, history };
}
