// A real WebTorrent swarm on loopback against the real server binary: bittorrent-tracker's
// WebSocket tracker (its server.js, imported directly: no native addon needed), the
// reference client `webtorrent` (dist/webtorrent.min.js) in Debian's chromium through
// playwright-core, and the test kit's TCP seeder (cinemahalal-swarm). Run with
// `npm test` here after `cargo build --workspace --all-targets` and `npm ci --ignore-scripts`.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { pollStreamStatus, startCinemaServer, startSeeder, stopChild, waitUntil, withTimeout } from '../../ui/e2e/swarm.mjs';
import { closeTracker, startWsTracker } from './tracker.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const WEBTORRENT_JS = join(HERE, 'node_modules/webtorrent/dist/webtorrent.min.js');

/** Deterministic bytes: what the browser generates too (same formula, see PAGE). */
function makeBytes(size, seed) {
  const out = new Uint8Array(size);
  let x = seed >>> 0;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>webtorrent peer</title>
<script type="module">
import WebTorrent from '/webtorrent.min.js';
function makeBytes(size, seed) {
  const out = new Uint8Array(size);
  let x = seed >>> 0;
  for (let i = 0; i < size; i++) { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; out[i] = x >>> 24; }
  return out;
}
const client = new WebTorrent({ tracker: { rtcConfig: { iceServers: [] } } });
window.client = client;
window.seed = (size, seed, name, tracker) => new Promise((resolve, reject) => {
  const file = new File([makeBytes(size, seed)], name);
  client.seed(file, { announce: [tracker], pieceLength: 65536 }, (t) => resolve({ infoHash: t.infoHash, magnet: t.magnetURI }));
  client.once('error', (e) => reject(String(e)));
});
// Seeds like seed(), uploading at most \`bps\` bytes a second (0: no cap), and hands back
// the .torrent file WebTorrent made (base64) so that others can seed the same torrent.
window.seedTorrent = (size, seed, name, tracker, bps) => new Promise((resolve, reject) => {
  if (bps) client.throttleUpload(bps);
  const file = new File([makeBytes(size, seed)], name);
  client.seed(file, { announce: [tracker], pieceLength: 65536 }, (t) => {
    let bin = '';
    for (const b of t.torrentFile) bin += String.fromCharCode(b);
    resolve({ infoHash: t.infoHash, torrent: btoa(bin) });
  });
  client.once('error', (e) => reject(String(e)));
});
window.download = (magnet, tracker) => new Promise((resolve, reject) => {
  client.add(magnet, { announce: [tracker] }, (t) => {
    const finish = async () => {
      const buf = new Uint8Array(await t.files[0].arrayBuffer());
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
      resolve({ length: buf.length, sha256: [...digest].map((b) => b.toString(16).padStart(2, '0')).join('') });
    };
    if (t.done) finish(); else t.on('done', finish);
  });
  client.once('error', (e) => reject(String(e)));
});
window.peerCount = () => client.torrents.reduce((n, t) => n + t.numPeers, 0);
window.uploaded = () => client.torrents.reduce((n, t) => n + t.uploaded, 0);
// Open connections of a downloading torrent to this browser: the other side is
// interested and has the torrent's metadata (its extended handshake gives its size). The
// connection a server fetched the metadata on, and one still being set up, are not.
window.dataPeers = () =>
  client.torrents.reduce((n, t) => n + t.wires.filter((w) => !w.destroyed && w.peerInterested && w.peerExtendedHandshake?.metadata_size > 0).length, 0);
window.ready = true;
</script>`;

/** The page and webtorrent.min.js on 127.0.0.1. */
async function startPageServer() {
  const js = await readFile(WEBTORRENT_JS);
  const server = createServer((req, res) => {
    if (req.url === '/webtorrent.min.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

/**
 * A self-signed certificate for 127.0.0.1 (openssl, from Debian), its files in `dir`:
 * the server trusts it through SSL_CERT_FILE, chromium through --ignore-certificate-errors.
 */
function makeCertificate(dir) {
  const key = join(dir, 'tracker.key');
  const cert = join(dir, 'tracker.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-keyout', key, '-out', cert,
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-addext', 'basicConstraints=critical,CA:FALSE',
  ], { stdio: 'ignore' });
  return { keyFile: key, certFile: cert };
}

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

describe('a WebTorrent swarm: browser peers over WebRTC, trackers over WebSocket', () => {
  let tmp, pages, browser, server, tls;
  const api = async (path, init) => {
    const res = await fetch(`${server.origin}${path}`, init);
    return { status: res.status, body: await res.json() };
  };
  const prepare = (magnet) =>
    api('/api/stream', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ magnet }) });
  const prepareTorrent = (torrent) =>
    api('/api/stream', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ torrent }) });
  const range = async (hash, start, end) => {
    const res = await fetch(`${server.origin}/api/stream/${hash}`, { headers: { range: `bytes=${start}-${end}` } });
    assert.equal(res.status, 206);
    return new Uint8Array(await res.arrayBuffer());
  };
  const whole = async (hash) => {
    const res = await fetch(`${server.origin}/api/stream/${hash}`);
    assert.equal(res.status, 200);
    return new Uint8Array(await res.arrayBuffer());
  };
  async function newPeer() {
    const page = await browser.newPage();
    page.on('console', (m) => process.env.DEBUG_PAGE && console.log('[page]', m.text()));
    await page.goto(pages.origin);
    await page.waitForFunction(() => window.ready === true);
    return page;
  }

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'cinemahalal-webtorrent-'));
    await writeFile(join(tmp, 'search.toml'), '');
    pages = await startPageServer();
    const { keyFile, certFile } = makeCertificate(tmp);
    tls = { key: await readFile(keyFile), cert: await readFile(certFile) };
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--ignore-certificate-errors'] });
    server = await startCinemaServer({
      dataDir: join(tmp, 'data'),
      uiDir: join(tmp, 'no-ui'),
      searchConfig: join(tmp, 'search.toml'),
      // The roots wss:// trackers are checked against (with webpki's): this one only.
      env: { SSL_CERT_FILE: certFile },
    });
  });

  after(async () => {
    if (process.env.DEBUG_SERVER) console.log(server?.child.tail(200));
    await browser?.close();
    pages?.server.close();
    await stopChild(server?.child);
    await rm(tmp, { recursive: true, force: true });
  });

  test('a browser seeds over WebRTC; a magnet naming only its ws tracker plays byte-exact', async () => {
    const { tracker, url } = await startWsTracker();
    const page = await newPeer();
    try {
      const size = 3 * 1024 * 1024 + 12345;
      const expected = makeBytes(size, 1);
      const seeded = await page.evaluate(([s, t]) => window.seed(s, 1, 'browser-clip.mp4', t), [size, url]);
      const magnet = `magnet:?xt=urn:btih:${seeded.infoHash}&tr=${encodeURIComponent(url)}`;
      const t0 = Date.now();
      const poller = pollStreamStatus(server.origin, seeded.infoHash, { every: 100 });
      const prepared = await withTimeout(prepare(magnet), 60_000, 'prepare from a ws-only magnet');
      assert.equal(prepared.status, 200, JSON.stringify(prepared.body));
      assert.equal(prepared.body.size, size);
      const hash = seeded.infoHash;
      const head = await range(hash, 0, 65535);
      assert.deepEqual(head, expected.subarray(0, 65536));
      const mid = await range(hash, 1_000_000, 1_234_566);
      assert.deepEqual(mid, expected.subarray(1_000_000, 1_234_567));
      const tail = await range(hash, size - 1000, size - 1);
      assert.deepEqual(tail, expected.subarray(size - 1000));
      const all = await whole(hash);
      assert.equal(all.length, size);
      assert.equal(sha256(all), sha256(expected));
      console.log(`# ws-only magnet: prepared and read ${size} bytes in ${Date.now() - t0} ms`);
      await poller.stop();
      const status = await api(`/api/stream/${hash}/status`);
      assert.equal(status.status, 200);
      assert.ok(status.body.peers.webrtc.downloadedBytes >= size, JSON.stringify(status.body.peers));
      // While it downloaded, one WebRTC peer (the browser); two seeds part afterwards.
      assert.equal(poller.max((b) => b.peers.webrtc.connected), 1, poller.summary());
      assert.ok(poller.max((b) => b.peers.connected) >= 1, poller.summary());
      // Its relay is not a TCP peer in the status, though librqbit connected to it over TCP.
      assert.equal(poller.max((b) => b.peers.tcp.connected + b.peers.utp.connected), 0, poller.summary());
      assert.equal(status.body.peers.tcp.downloadedBytes, 0, JSON.stringify(status.body.peers));
      await api(`/api/stream/${hash}`, { method: 'DELETE' });
    } finally {
      await page.close();
      await closeTracker(tracker);
    }
  });

  test('the reverse: a browser that knows only the ws tracker downloads from the server', async () => {
    const { tracker, url } = await startWsTracker();
    const file = join(tmp, 'tcp-clip.mp4');
    const size = 2 * 1024 * 1024 + 777;
    const bytes = makeBytes(size, 2);
    await writeFile(file, bytes);
    const seeder = await startSeeder(file);
    let page;
    try {
      // The server gets the file from the TCP seeder, announcing to the ws tracker too.
      const magnet = `${seeder.magnet}&tr=${encodeURIComponent(url)}`;
      const prepared = await prepare(magnet);
      assert.equal(prepared.status, 200, JSON.stringify(prepared.body));
      assert.equal(sha256(await whole(seeder.infoHash)), sha256(bytes));
      await stopChild(seeder.child, { viaStdin: true });
      page = await newPeer();
      const browserMagnet = `magnet:?xt=urn:btih:${seeder.infoHash}&tr=${encodeURIComponent(url)}`;
      const t0 = Date.now();
      const got = await withTimeout(page.evaluate(([m, t]) => window.download(m, t), [browserMagnet, url]), 90_000, 'the browser download');
      assert.equal(got.length, size);
      assert.equal(got.sha256, sha256(bytes));
      console.log(`# browser downloaded ${size} bytes from the server in ${Date.now() - t0} ms`);
      const status = (await api(`/api/stream/${seeder.infoHash}/status`)).body;
      assert.ok(status.peers.webrtc.uploadedBytes >= size, JSON.stringify(status.peers));
      await api(`/api/stream/${seeder.infoHash}`, { method: 'DELETE' });
    } finally {
      await page?.close();
      await stopChild(seeder.child, { viaStdin: true });
      await closeTracker(tracker);
    }
  });

  test('the tracker goes away and comes back, a browser peer leaves mid-read: the read completes', async () => {
    let { tracker, port, url } = await startWsTracker();
    const a = await newPeer();
    const b = await newPeer();
    try {
      const size = 3 * 1024 * 1024;
      const expected = makeBytes(size, 4);
      // Two browsers seed the same bytes: the same torrent, the same info hash. Each
      // sends at most 256 KiB/s, so the download is still running (about 6 s) when one
      // of them leaves.
      const bps = 256 * 1024;
      const sa = await a.evaluate(([s, t, r]) => window.seedTorrent(s, 4, 'both.mp4', t, r), [size, url, bps]);
      const sb = await b.evaluate(([s, t, r]) => window.seedTorrent(s, 4, 'both.mp4', t, r), [size, url, bps]);
      assert.equal(sa.infoHash, sb.infoHash);
      const hash = sa.infoHash;
      const prepared = await withTimeout(prepare(`magnet:?xt=urn:btih:${hash}&tr=${encodeURIComponent(url)}`), 60_000, 'prepare');
      assert.equal(prepared.status, 200, JSON.stringify(prepared.body));
      // Both browsers are connected to the download before one of them leaves: the one
      // that stays can then take over. (A browser without a connection would come back
      // only when its own tracker client reconnects to the restarted tracker, which
      // bittorrent-tracker's client delays by 10 s plus up to 5 minutes of jitter. A
      // browser's peer count is no proof: it counts the connection that served the
      // metadata, which the server closes, and connections still being set up.)
      await waitUntil(async () => (await a.evaluate(() => window.dataPeers())) >= 1 && (await b.evaluate(() => window.dataPeers())) >= 1, {
        ms: 30_000,
        what: 'both browser peers to be connected to the download',
      });
      const res = await fetch(`${server.origin}/api/stream/${hash}`);
      assert.equal(res.status, 200);
      const reader = res.body.getReader();
      const chunks = [];
      let got = 0;
      let disrupted = false;
      let leftAt = 0;
      for (;;) {
        const { done, value } = await withTimeout(reader.read(), 90_000, 'the next bytes of the read');
        if (done) break;
        chunks.push(value);
        got += value.length;
        if (!disrupted && got >= 256 * 1024) {
          disrupted = true;
          leftAt = (await api(`/api/stream/${hash}/status`)).body.downloadedBytes;
          // The tracker goes away; one browser peer closes its channels mid-piece.
          await closeTracker(tracker);
          await a.close();
          ({ tracker } = await startWsTracker(port));
        }
      }
      assert.ok(disrupted, 'the read was disrupted while it ran');
      assert.ok(leftAt < size, `the file was not complete when a browser left (${leftAt} of ${size} bytes)`);
      // The server found the tracker again: it announces under its own peer id (-CH…).
      const ours = (/** @type {any} */ p) => Buffer.from(String(p.peerId), 'hex').toString('latin1').startsWith('-CH');
      await waitUntil(() => tracker.torrents[hash]?.peers.keys.some((/** @type {string} */ k) => ours(tracker.torrents[hash].peers.peek(k))), {
        ms: 30_000,
        what: 'the server to announce to the restarted tracker',
      });
      const all = Buffer.concat(chunks);
      assert.equal(all.length, size);
      assert.equal(sha256(all), sha256(expected));
      const health = await api('/api/health');
      assert.equal(health.status, 200);
      await api(`/api/stream/${hash}`, { method: 'DELETE' });
    } finally {
      if (!a.isClosed()) await a.close();
      await b.close();
      await closeTracker(tracker);
    }
  });
  test('a mixed swarm: a TCP seeder and a browser seeder, each capped, both feed one byte-exact read', async () => {
    const { tracker, url } = await startWsTracker();
    const page = await newPeer();
    let seeder;
    try {
      const size = 8 * 1024 * 1024 + 4321;
      const bps = 1024 * 1024;
      const expected = makeBytes(size, 5);
      // WebTorrent makes the torrent; the TCP seeder seeds that very torrent of the same
      // bytes (the two clients would otherwise make different info hashes).
      const seeded = await page.evaluate(([s, t, b]) => window.seedTorrent(s, 5, 'mixed.mp4', t, b), [size, url, bps]);
      const dir = join(tmp, 'mixed');
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'mixed.mp4'), expected);
      await writeFile(join(tmp, 'mixed.torrent'), Buffer.from(seeded.torrent, 'base64'));
      seeder = await startSeeder(join(dir, 'mixed.mp4'), { uploadBps: bps, torrent: join(tmp, 'mixed.torrent') });
      assert.equal(seeder.infoHash, seeded.infoHash);
      const hash = seeded.infoHash;
      // The server hears of both: the ws tracker (the browser) and the seeder's address.
      const magnet = `magnet:?xt=urn:btih:${hash}&tr=${encodeURIComponent(url)}&x.pe=${seeder.peer}`;
      const t0 = Date.now();
      const prepared = await withTimeout(prepare(magnet), 60_000, 'prepare from a mixed magnet');
      assert.equal(prepared.status, 200, JSON.stringify(prepared.body));
      const tReady = Date.now() - t0;
      const all = await withTimeout(whole(hash), 120_000, 'the whole file from both seeders');
      const tRead = Date.now() - t0;
      assert.equal(all.length, size);
      assert.equal(sha256(all), sha256(expected));
      const status = (await api(`/api/stream/${hash}/status`)).body;
      const webrtc = status.peers.webrtc.downloadedBytes;
      // The TCP seeder's blocks, as librqbit counts them per transport (it may have
      // connected over uTP too); the WebRTC relays are not among them.
      const native = status.peers.tcp.downloadedBytes + status.peers.utp.downloadedBytes;
      console.log(
        `# mixed swarm: ${size} bytes, ready in ${tReady} ms, read in ${tRead} ms; ` +
          `webrtc ${webrtc} bytes (wire), tcp/utp ${native} bytes (blocks) (of ${status.downloadedBytes})`,
      );
      // Both kinds gave a real share: more than a few pieces each (64 KiB pieces); had
      // the relays counted as TCP peers, the native share would be the whole file.
      assert.ok(webrtc > 4 * 65536, JSON.stringify(status));
      assert.ok(native > 4 * 65536, JSON.stringify(status));
      assert.ok(native < size, JSON.stringify(status));
      await api(`/api/stream/${hash}`, { method: 'DELETE' });
    } finally {
      await page.close();
      if (seeder) await stopChild(seeder.child, { viaStdin: true });
      await closeTracker(tracker);
    }
  });

  test('a .torrent whose only tracker is a ws tracker plays from its browser seeder', async () => {
    const { tracker, url } = await startWsTracker();
    const page = await newPeer();
    try {
      const size = 2 * 1024 * 1024 + 99;
      const expected = makeBytes(size, 6);
      const seeded = await page.evaluate(([s, t]) => window.seedTorrent(s, 6, 'from-torrent.mp4', t, 0), [size, url]);
      const t0 = Date.now();
      const prepared = await withTimeout(prepareTorrent(seeded.torrent), 60_000, 'prepare from a .torrent');
      assert.equal(prepared.status, 200, JSON.stringify(prepared.body));
      assert.equal(prepared.body.infoHash, seeded.infoHash);
      const all = await whole(seeded.infoHash);
      assert.equal(all.length, size);
      assert.equal(sha256(all), sha256(expected));
      console.log(`# ws-only .torrent: prepared and read ${size} bytes in ${Date.now() - t0} ms`);
      const status = (await api(`/api/stream/${seeded.infoHash}/status`)).body;
      assert.ok(status.peers.webrtc.downloadedBytes >= size, JSON.stringify(status.peers));
      await api(`/api/stream/${seeded.infoHash}`, { method: 'DELETE' });
    } finally {
      await page.close();
      await closeTracker(tracker);
    }
  });

  test('a magnet whose only tracker is wss:// plays from its browser seeder over TLS', async () => {
    const { tracker, url } = await startWsTracker(0, tls);
    const page = await newPeer();
    try {
      assert.match(url, /^wss:/);
      const size = 1024 * 1024 + 7;
      const expected = makeBytes(size, 7);
      const seeded = await page.evaluate(([s, t]) => window.seed(s, 7, 'secure.mp4', t), [size, url]);
      const prepared = await withTimeout(prepare(`magnet:?xt=urn:btih:${seeded.infoHash}&tr=${encodeURIComponent(url)}`), 60_000, 'prepare from a wss-only magnet');
      assert.equal(prepared.status, 200, JSON.stringify(prepared.body));
      const all = await whole(seeded.infoHash);
      assert.equal(all.length, size);
      assert.equal(sha256(all), sha256(expected));
      // Over TLS: the tracker saw the server's peer id (-CH…) on its wss:// socket.
      const ours = (/** @type {any} */ p) => Buffer.from(String(p.peerId), 'hex').toString('latin1').startsWith('-CH');
      const swarm = tracker.torrents[seeded.infoHash];
      assert.ok(swarm?.peers.keys.some((/** @type {string} */ k) => ours(swarm.peers.peek(k))), 'the server announced over wss');
      await api(`/api/stream/${seeded.infoHash}`, { method: 'DELETE' });
    } finally {
      await page.close();
      await closeTracker(tracker);
    }
  });

  test('a wss:// tracker whose certificate is not trusted is refused, and says so', async () => {
    // The same kind of certificate, but not the one the server trusts.
    const other = makeCertificate(await mkdtemp(join(tmp, 'untrusted-')));
    const { tracker, url } = await startWsTracker(0, { key: await readFile(other.keyFile), cert: await readFile(other.certFile) });
    const page = await newPeer();
    try {
      const seeded = await page.evaluate(([s, t]) => window.seed(s, 8, 'untrusted.mp4', t), [65536, url]);
      const prepared = await withTimeout(prepare(`magnet:?xt=urn:btih:${seeded.infoHash}&tr=${encodeURIComponent(url)}`), 60_000, 'prepare from an untrusted wss-only magnet');
      // No browser peer can be reached: the link fails as one without peers does.
      assert.equal(prepared.body.code, 'NO_SEEDS', JSON.stringify(prepared.body));
      const ours = (/** @type {any} */ p) => Buffer.from(String(p.peerId), 'hex').toString('latin1').startsWith('-CH');
      const swarm = tracker.torrents[seeded.infoHash];
      assert.ok(!swarm?.peers.keys.some((/** @type {string} */ k) => ours(swarm.peers.peek(k))), 'the server never announced to it');
      // The answer says which tracker and why: its certificate.
      assert.match(prepared.body.message, /wss:\/\/127\.0\.0\.1:\d+[^:]*: .*certificate/i, JSON.stringify(prepared.body));
    } finally {
      await page.close();
      await closeTracker(tracker);
    }
  });
});
