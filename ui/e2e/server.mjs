// A tiny static server for ui/dist on 127.0.0.1:0, with an optional `/api` handler on
// the same origin (a fake backend now; the real server replaces all of this later).

import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';

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

export function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export async function readJsonBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

/**
 * Start serving `root`. `api(req, res, url)` handles every `/api/...` request.
 * Resolves to `{ server, origin, close() }`.
 */
export async function startServer({ root, api }) {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    try {
      if (url.pathname.startsWith('/api/') && api) return await api(req, res, url);
      if (url.pathname.startsWith('/api/')) return sendJson(res, 404, { status: 'ERROR', code: 'INVALID_REQUEST', message: 'no api' });
      let rel = decodeURIComponent(url.pathname);
      if (rel.endsWith('/')) rel += 'index.html';
      const file = normalize(join(root, rel));
      if (file !== root && !file.startsWith(root + sep)) return sendJson(res, 403, { status: 'ERROR', code: 'INVALID_REQUEST', message: 'outside root' });
      const info = await stat(file).catch(() => null);
      const path = info?.isFile() ? file : join(root, 'index.html');
      const body = await readFile(path);
      res.writeHead(200, { 'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream', 'Content-Length': body.length });
      res.end(body);
    } catch (err) {
      if (!res.headersSent) sendJson(res, 500, { status: 'ERROR', code: 'STREAM_FAILED', message: String(err) });
      else res.destroy();
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    server,
    origin: `http://127.0.0.1:${port}`,
    close() {
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
