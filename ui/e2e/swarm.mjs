// Helpers for the end-to-end tests against the real binaries and a real local swarm
// (the browser tests here and the desktop test in tests/desktop): child processes with
// bounded waits and log tails, a test clip made by ffmpeg, a minimal HTTP BitTorrent
// tracker and a Stremio add-on fixture, all on 127.0.0.1. Node built-ins only.

import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** @typedef {import('../src/lib/contract').ApiError} ApiError */
/** @typedef {import('../src/lib/contract').StreamStatus} StreamStatus */

export const REPO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const TARGET_DIR = resolve(process.env.CARGO_TARGET_DIR ?? join(REPO_DIR, 'target'));
export const SERVER_BIN = process.env.CINEMAHALAL_SERVER_BIN ?? join(TARGET_DIR, 'debug', 'cinemahalal-server');
export const SWARM_BIN = process.env.CINEMAHALAL_SWARM_BIN ?? join(TARGET_DIR, 'debug', 'cinemahalal-swarm');

/**
 * Rejects with `what` if `promise` takes longer than `ms`.
 * @template T
 * @param {Promise<T>} promise
 * @param {number} ms
 * @param {string} what
 * @returns {Promise<T>}
 */
export function withTimeout(promise, ms, what) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  /** @type {Promise<never>} */
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Polls `check()` until it returns something truthy; rejects after `ms`.
 * @template T
 * @param {() => T | Promise<T>} check
 * @param {{ ms?: number, every?: number, what?: string }} [options]
 * @returns {Promise<T>}
 */
export async function waitUntil(check, { ms = 10_000, every = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + ms;
  /** @type {unknown} */
  let last;
  for (;;) {
    try {
      const value = await check();
      last = value;
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/**
 * Polls `GET <origin>/api/stream/<infoHash>/status` every `every` ms (one request at a
 * time) until `stop()`, keeping each answer as `{at, status, body}` in `samples` (404s
 * before the stream exists included), so a test can ask afterwards what the server
 * reported while the file was arriving, however fast or slow that was.
 */
/**
 * One answer of the status poller: a `StreamStatus` with HTTP status 200, otherwise the
 * error body (or null, with `error` when the request failed).
 * @typedef {{ at: number, status: number, body: StreamStatus | ApiError | null, error?: string }} StatusSample
 */
/** @typedef {{ at: number, status: number, body: StreamStatus }} StatusOk */

/**
 * @param {string} origin
 * @param {string} infoHash
 * @param {{ every?: number }} [options]
 */
export function pollStreamStatus(origin, infoHash, { every = 200 } = {}) {
  /** @type {StatusSample[]} */
  const samples = [];
  const t0 = Date.now();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const res = await fetch(`${origin}/api/stream/${infoHash}/status`, { signal: AbortSignal.timeout(2000) });
        const body = await res.json().catch(() => null);
        samples.push({ at: Date.now() - t0, status: res.status, body });
      } catch (err) {
        samples.push({ at: Date.now() - t0, status: 0, body: null, error: String(err) });
      }
      await new Promise((r) => setTimeout(r, every));
    }
  })();
  const ok = () => /** @type {StatusOk[]} */ (samples.filter((s) => s.status === 200 && s.body));
  return {
    samples,
    /** Answers with status 200, oldest first. */
    ok,
    /** The largest value of `pick(body)` over the 200 answers (or -Infinity). */
    max: (/** @type {(body: StreamStatus) => number} */ pick) => Math.max(-Infinity, ...ok().map((s) => pick(s.body))),
    /** A one-line digest for diagnostics. */
    summary: () =>
      ok()
        .filter((_, i, all) => i % 5 === 0 || i === all.length - 1)
        .map((s) => `${s.at}ms ${s.body.state} p=${s.body.peers?.connected}/${s.body.peers?.known} v=${s.body.downloadSpeed} ${(s.body.progress * 100).toFixed(0)}%`)
        .join(' | '),
    async stop() {
      stopped = true;
      await withTimeout(loop, 5000, 'the status poller to stop').catch(() => {});
    },
  };
}

const live = new Set();
// A crash of the test runner must not leave a server or seeder behind.
process.on('exit', () => {
  for (const child of live) signalChild(child, 'SIGKILL');
});

/** Children started in a process group of their own (`spawnLogged`'s `group`). */
const grouped = new WeakSet();

/**
 * Sends `sig` to the child, or to its whole process group if it has one.
 * @param {import('node:child_process').ChildProcess} child
 * @param {NodeJS.Signals} sig
 */
function signalChild(child, sig) {
  try {
    if (grouped.has(child) && child.pid !== undefined) process.kill(-child.pid, sig);
    else child.kill(sig);
  } catch {
    // Already gone.
  }
}

const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * One request to the server at `origin`; `body` is its JSON (any of the API's answers, as
 * the path says), or its text when it is not JSON. Gives up after 10 s.
 * @param {string} origin
 * @param {string} path
 * @param {RequestInit} [init]
 * @returns {Promise<{ status: number, body: any }>}
 */
export async function requestJson(origin, path, init) {
  const res = await fetch(origin + path, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  /** @type {unknown} */
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, body };
}

/**
 * The state of the page's player `<video>` (null when there is none), for assertions and
 * failure reports.
 * @param {import('playwright-core').Page} page
 */
export function videoState(page) {
  return page.evaluate(() => {
    const v = document.querySelector('video[data-testid="video"]');
    if (!(v instanceof HTMLVideoElement)) return null;
    const ranges = (/** @type {TimeRanges} */ tr) => Array.from({ length: tr.length }, (_, i) => [+tr.start(i).toFixed(2), +tr.end(i).toFixed(2)]);
    return {
      src: v.getAttribute('src'),
      readyState: v.readyState,
      networkState: v.networkState,
      currentTime: v.currentTime,
      duration: v.duration,
      paused: v.paused,
      ended: v.ended,
      seeking: v.seeking,
      buffered: ranges(v.buffered),
      played: ranges(v.played),
      error: v.error ? { code: v.error.code, message: v.error.message } : null,
    };
  });
}

/**
 * Spawns `cmd` keeping the last lines of its output (`child.tail()`), and lets callers
 * wait for a line matching a pattern (`child.waitForLine(re, ms)`). Besides spawn's
 * options: `logTo`, a writable stream that gets every line too; `group`, to run it in a
 * process group of its own that stopChild (and the runner's exit) signals whole, for
 * commands that start children of their own.
 * @param {string} name
 * @param {string} cmd
 * @param {string[]} args
 * @param {import('node:child_process').SpawnOptions & { logTo?: NodeJS.WritableStream, group?: boolean }} [opts]
 */
export function spawnLogged(name, cmd, args, { logTo, group = false, ...opts } = {}) {
  if (!existsSync(cmd)) {
    throw new Error(`${cmd} is missing: build the binaries (cargo build --workspace --all-targets) and install the tools (scripts/setup-debian.sh)`);
  }
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts, detached: group });
  if (group) grouped.add(child);
  live.add(child);
  /** @type {string[]} */
  const lines = [];
  /** @type {Set<(line: string | null) => void>} */
  const waiters = new Set();
  /** @type {{ code: number | null, signal: NodeJS.Signals | null } | null} */
  let exited = null;
  /** @param {'stdout' | 'stderr'} stream */
  const push = (stream) => {
    let partial = '';
    const out = /** @type {import('node:stream').Readable} */ (child[stream]);
    out.setEncoding('utf8');
    out.on('data', (/** @type {string} */ chunk) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const raw of parts) {
        const line = raw.replace(ANSI, '');
        lines.push(`[${name} ${stream}] ${line}`);
        logTo?.write(`[${name} ${stream}] ${line}\n`);
        if (lines.length > 400) lines.shift();
        for (const w of waiters) w(line);
      }
    });
  };
  push('stdout');
  push('stderr');
  let closed = false;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
    live.delete(child);
    lines.push(`[${name}] exited code=${code} signal=${signal}`);
  });
  // Its last lines may arrive after 'exit': waiters give up once its output has closed.
  child.on('close', () => {
    closed = true;
    for (const w of waiters) w(null);
  });
  child.on('error', (err) => lines.push(`[${name}] spawn error: ${err.message}`));
  const tail = (n = 40) => lines.slice(-n).join('\n');
  /**
   * @param {RegExp} re
   * @param {number} ms
   * @returns {Promise<RegExpExecArray>}
   */
  const waitForLine = (re, ms) =>
    withTimeout(
      new Promise((resolveLine, reject) => {
        /** @param {string | null} line */
        const w = (line) => {
          if (line === null) {
            waiters.delete(w);
            reject(new Error(`${name} exited (${JSON.stringify(exited)}) before printing ${re}`));
            return;
          }
          const m = re.exec(line);
          if (m) {
            waiters.delete(w);
            resolveLine(m);
          }
        };
        if (closed) return w(null);
        waiters.add(w);
      }),
      ms,
      `${name} to print ${re}\n${tail()}`,
    );
  return Object.assign(child, { tail, exited: () => exited, waitForLine });
}

/** @typedef {ReturnType<typeof spawnLogged>} LoggedChild */

/**
 * SIGTERM (or closing stdin when `viaStdin`), then SIGKILL after `graceMs`.
 * @param {LoggedChild | undefined} child
 * @param {{ graceMs?: number, viaStdin?: boolean }} [options]
 */
export async function stopChild(child, { graceMs = 8000, viaStdin = false } = {}) {
  if (!child || child.exited() || child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  if (viaStdin) child.stdin?.end();
  else child.kill('SIGTERM');
  try {
    await withTimeout(done, graceMs, `${child.spawnfile} to exit`);
  } catch {
    child.kill('SIGKILL');
    await withTimeout(done, 5000, `${child.spawnfile} to die`).catch(() => {});
  }
  if (grouped.has(child)) signalChild(child, 'SIGKILL');
}

/**
 * A `seconds` long H.264/AAC MP4 (about 265 kB per second: noise keeps the bitrate up) at `path`.
 * @param {string} path
 * @param {{ seconds?: number }} [options]
 */
export async function makeClip(path, { seconds = 20 } = {}) {
  const child = spawnLogged('ffmpeg', '/usr/bin/ffmpeg', [
    '-nostdin', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=25,noise=alls=12:allf=t',
    '-f', 'lavfi', '-i', 'sine=frequency=440',
    '-t', String(seconds),
    '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '2M', '-maxrate', '2M', '-bufsize', '4M',
    '-pix_fmt', 'yuv420p', '-g', '25',
    '-c:a', 'aac', '-movflags', '+faststart', path,
  ]);
  const { code } = await withTimeout(
    /** @type {Promise<{ code: number | null }>} */ (new Promise((r) => child.once('exit', (code) => r({ code })))),
    60_000,
    'ffmpeg',
  );
  if (code !== 0) throw new Error(`ffmpeg failed (${code}):\n${child.tail()}`);
}

/**
 * `cinemahalal-swarm file` → `{ child, magnet, infoHash, peer }`; stop with stopChild(child, {viaStdin: true}).
 * `uploadBps` caps its upload; `pieceLength` (a power of two ≥ 16 KiB) overrides librqbit's choice;
 * `torrent` (a .torrent file's path) seeds that torrent of `file` instead of making one.
 */
/**
 * @param {string} file
 * @param {{ uploadBps?: number, pieceLength?: number, torrent?: string }} [options]
 * @returns {Promise<{ child: LoggedChild, magnet: string, infoHash: string, peer: string }>}
 */
export async function startSeeder(file, { uploadBps, pieceLength, torrent } = {}) {
  const args = [file];
  if (uploadBps) args.push('--upload-bps', String(uploadBps));
  if (pieceLength) args.push('--piece-length', String(pieceLength));
  if (torrent) args.push('--torrent', torrent);
  const child = spawnLogged('seeder', SWARM_BIN, args, { env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' } });
  const [line] = await child.waitForLine(/^\{.*"magnet".*\}$/, 30_000);
  return { child, ...JSON.parse(line) };
}

/**
 * The headless server on 127.0.0.1 with a fresh data dir → `{ child, origin }`.
 * @param {{ dataDir: string, uiDir: string, searchConfig: string, env?: Record<string, string> }} options
 */
export async function startCinemaServer({ dataDir, uiDir, searchConfig, env = {} }) {
  const args = [
    '--port', '0', '--bind', '127.0.0.1', '--data-dir', dataDir,
    '--no-dht', '--no-local-discovery', '--peer-listen', '127.0.0.1:0',
    '--ui-dir', uiDir, '--search-config', searchConfig,
    '--metadata-timeout', '30', '--no-seeds-timeout', '30',
  ];
  const child = spawnLogged('server', SERVER_BIN, args, {
    env: { ...process.env, NO_COLOR: '1', RUST_LOG: process.env.RUST_LOG ?? 'info', ...env },
    // SERVER_LOG=FILE keeps the server's whole output there (the tail keeps 400 lines).
    logTo: process.env.SERVER_LOG ? createWriteStream(process.env.SERVER_LOG, { flags: 'a' }) : undefined,
  });
  const m = await child.waitForLine(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 30_000);
  return { child, origin: m[1] };
}

/** @param {import('node:http').Server} server */
async function listen(server) {
  await new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolveListen(undefined));
  });
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  return {
    server,
    port,
    origin: `http://127.0.0.1:${port}`,
    /** @returns {Promise<void>} */
    close() {
      server.closeAllConnections?.();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/**
 * Percent-decodes a raw query value to bytes (info_hash is 20 raw bytes).
 * @param {string} raw
 */
function percentBytes(raw) {
  /** @type {number[]} */
  const out = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === '%' && i + 2 < raw.length) {
      out.push(parseInt(raw.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (raw[i] === '+') out.push(0x20);
    else out.push(raw.charCodeAt(i));
  }
  return Buffer.from(out);
}

const bstr = (/** @type {Buffer} */ buf) => Buffer.concat([Buffer.from(`${buf.length}:`), buf]);

/**
 * A minimal HTTP tracker: every `GET /announce` of `infoHash` answers the compact peer
 * list `peers` ("127.0.0.1:port" strings); other hashes get a bencoded failure.
 * `announces` records `{infoHash, port, event, compact}` of each request.
 */
/**
 * @param {{ infoHash: string, peers: string[] }} options
 */
export async function startTracker({ infoHash, peers }) {
  /** @type {{ path: string, infoHash: string | null, port: number, event: string | null, compact: string | null }[]} */
  const announces = [];
  const compact = Buffer.concat(
    peers.map((p) => {
      const [ip, port] = p.split(':');
      const b = Buffer.alloc(6);
      ip.split('.').forEach((octet, i) => b.writeUInt8(Number(octet), i));
      b.writeUInt16BE(Number(port), 4);
      return b;
    }),
  );
  const server = createServer((req, res) => {
    const [path, query = ''] = (req.url ?? '/').split('?');
    const params = Object.fromEntries(query.split('&').filter(Boolean).map((kv) => {
      const at = kv.indexOf('=');
      return at < 0 ? [kv, ''] : [kv.slice(0, at), kv.slice(at + 1)];
    }));
    const hash = params.info_hash ? percentBytes(params.info_hash).toString('hex') : null;
    announces.push({ path, infoHash: hash, port: Number(params.port), event: params.event ?? null, compact: params.compact ?? null });
    let body;
    if (path !== '/announce' || hash !== infoHash) {
      body = Buffer.concat([Buffer.from('d14:failure reason'), bstr(Buffer.from('unknown torrent')), Buffer.from('e')]);
    } else {
      // d 8:interval i60e 5:peers <compact> e — keys in sorted order, as bencode wants.
      body = Buffer.concat([Buffer.from('d8:intervali60e5:peers'), bstr(compact), Buffer.from('e')]);
    }
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
    res.end(body);
  });
  return { ...(await listen(server)), announces };
}

/** A Stremio add-on answering its manifest and `/stream/movie/<id>.json` from `streams`. */
/**
 * @param {{ streams: Record<string, unknown[]> }} options
 */
export async function startStremioFixture({ streams }) {
  /** @type {string[]} */
  const requests = [];
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    requests.push(path);
    const json = (/** @type {number} */ status, /** @type {unknown} */ body) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (path === '/manifest.json') {
      return json(200, {
        id: 'org.cinemahalal.fixture', version: '1.0.0', name: 'Fixture',
        resources: ['stream'], types: ['movie'], idPrefixes: ['tt'], catalogs: [],
      });
    }
    const m = /^\/stream\/movie\/([^/]+)\.json$/.exec(path);
    if (m) return json(200, { streams: streams[decodeURIComponent(m[1])] ?? [] });
    return json(404, { error: 'not found' });
  });
  return { ...(await listen(server)), requests };
}
