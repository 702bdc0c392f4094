// A tiny static server for ui/dist on 127.0.0.1:0, with an optional `/api` handler on
// the same origin (the fake API of fake-api.mjs).

import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';

/** @typedef {import('node:http').IncomingMessage} IncomingMessage */
/** @typedef {import('node:http').ServerResponse} ServerResponse */
/** @typedef {import('../src/lib/contract').ApiError} ApiError */
/** @typedef {import('../src/lib/contract').ErrorCode} ErrorCode */
/** @typedef {(req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void} ApiHandler */

/** @type {Record<string, string>} */
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/**
 * @param {ServerResponse} res
 * @param {number} status
 * @param {unknown} body
 */
export function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The API's error answer, `{"status":"ERROR","code","message"}`.
 * @param {ServerResponse} res
 * @param {number} status
 * @param {ErrorCode} code
 * @param {string} message
 * @param {Partial<ApiError>} [extra]
 */
export function sendError(res, status, code, message, extra = {}) {
  /** @type {ApiError} */
  const body = { status: 'ERROR', code, message, ...extra };
  sendJson(res, status, body);
}

/**
 * The request's body as text.
 * @param {IncomingMessage} req
 * @returns {Promise<string>}
 */
export async function readBody(req) {
  /** @type {Buffer[]} */
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Start serving `root`. `api(req, res, url)` handles every `/api/...` request.
 * @param {{ root: string, api?: ApiHandler }} options
 */
export async function startServer({ root, api }) {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    try {
      if (url.pathname === '/api' || url.pathname.startsWith('/api/')) {
        if (api) return await api(req, res, url);
        return sendError(res, 404, 'NOT_FOUND', 'no such API path');
      }
      let rel = decodeURIComponent(url.pathname);
      if (rel.endsWith('/')) rel += 'index.html';
      const file = normalize(join(root, rel));
      if (file !== root && !file.startsWith(root + sep)) return sendError(res, 404, 'NOT_FOUND', 'outside the UI');
      const info = await stat(file).catch(() => null);
      const path = info?.isFile() ? file : join(root, 'index.html');
      const body = await readFile(path);
      res.writeHead(200, { 'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream', 'Content-Length': body.length });
      res.end(body);
    } catch (err) {
      if (!res.headersSent) sendError(res, 500, 'STREAM_FAILED', String(err));
      else res.destroy();
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(undefined));
  });
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  return {
    server,
    origin: `http://127.0.0.1:${port}`,
    /** @returns {Promise<void>} */
    close() {
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
