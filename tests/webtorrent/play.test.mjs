// A magnet whose ONLY tracker is a WebSocket tracker plays in the browser UI like any
// other: ffmpeg makes a real clip, a browser page seeds it with the reference client
// `webtorrent` (dist/webtorrent.min.js) announcing only to bittorrent-tracker's ws
// tracker, and a second page opens the real server's UI, pastes the magnet and watches
// the <video> play, seek and show the browser peer in the status line. All on 127.0.0.1,
// in Debian's chromium through playwright-core. Run with `node --test play.test.mjs`
// here after `cargo build --workspace --all-targets` and `npm run build` in ui/.
//
// Nothing here races the download: the UI page records every text its status line shows
// (window.__statusSeen) and every media event (window.__media), the test polls the
// server's /status from the paste on, and the assertions read those histories.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';


import { DIST_DIR, launchBrowser, newPage, screenshot } from '../../ui/e2e/browser.mjs';
import {
  makeClip,
  pollStreamStatus,
  requestJson,
  startCinemaServer,
  stopChild,
  videoState as videoStateOf,
  waitUntil,
  withTimeout,
} from '../../ui/e2e/swarm.mjs';
import { closeTracker, startWsTracker } from './tracker.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const WEBTORRENT_JS = join(HERE, 'node_modules/webtorrent/dist/webtorrent.min.js');

const CLIP_SECONDS = 20;
// The browser seeds at most this many bytes a second: about twice the clip's ~265 kB/s,
// so it plays smoothly, yet the ~5 MB take seconds to arrive and the browser peer is
// still connected (and shown) while the player starts.
const UPLOAD_BPS = 600_000;

const tid = (/** @type {string} */ id) => `[data-testid="${id}"]`;

// The seeding page: fetches the clip from this page server and seeds it with WebTorrent's
// defaults (its own piece length), announcing to the one tracker it is given.
const PAGE = `<!doctype html><meta charset="utf-8"><title>webtorrent seeder</title>
<script type="module">
import WebTorrent from '/webtorrent.min.js';
const client = new WebTorrent({ tracker: { rtcConfig: { iceServers: [] } } });
window.client = client;
window.seedUrl = async (url, name, tracker, bps) => {
  const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
  if (bps) client.throttleUpload(bps);
  return new Promise((resolve, reject) => {
    client.seed(new File([bytes], name), { announce: [tracker] }, (t) => resolve({ infoHash: t.infoHash, length: t.length }));
    client.once('error', (e) => reject(String(e)));
  });
};
window.peerCount = () => client.torrents.reduce((n, t) => n + t.numPeers, 0);
window.uploaded = () => client.torrents.reduce((n, t) => n + t.uploaded, 0);
window.ready = true;
</script>`;

/**
 * The seeding page, webtorrent.min.js and the clip (at /clip.mp4) on 127.0.0.1.
 * @param {Buffer} clip
 */
async function startPageServer(clip) {
  const js = await readFile(WEBTORRENT_JS);
  const server = createServer((req, res) => {
    if (req.url === '/webtorrent.min.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    } else if (req.url === '/clip.mp4') {
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': clip.length }).end(clip);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', () => r(undefined)));
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  return { server, origin: `http://127.0.0.1:${port}` };
}

// Records the <video>'s media events (they do not bubble, so listen in the capture phase).
function recordMediaEvents() {
  window.__media = [];
  const types = ['loadstart', 'loadedmetadata', 'canplay', 'playing', 'waiting', 'stalled', 'seeking', 'seeked', 'ended', 'error', 'emptied'];
  for (const type of types) {
    document.addEventListener(
      type,
      (e) => {
        const v = e.target;
        if (v instanceof HTMLVideoElement) window.__media.push({ type, t: v.currentTime, src: v.currentSrc, at: Math.round(performance.now()) });
      },
      true,
    );
  }
}

// Records each distinct state of the status line (state, peers, the WebRTC span, buffered
// share) in window.__statusSeen, so the test can ask afterwards what it showed.
function recordStatusLine() {
  window.__statusSeen = [];
  let last = '';
  const snap = () => {
    const line = document.querySelector('[data-testid="status-line"]');
    if (!line) {
      last = '';
      return;
    }
    const text = (/** @type {string} */ id) => line.querySelector(`[data-testid="${id}"]`)?.textContent?.trim() ?? null;
    const s = {
      state: /** @type {HTMLElement} */ (line).dataset.state ?? null,
      peers: text('status-peers'),
      tcp: text('status-tcp'),
      utp: text('status-utp'),
      webrtc: text('status-webrtc'),
      buffered: text('status-buffered'),
    };
    const key = JSON.stringify(s);
    if (key === last) return;
    last = key;
    window.__statusSeen.push({ at: Math.round(performance.now()), ...s });
  };
  new MutationObserver(snap).observe(document, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['data-state'] });
  setInterval(snap, 250);
}

describe('a magnet whose only tracker is a WebSocket tracker plays in the browser UI', () => {
  /** @type {string} */
  let tmp;
  /** @type {Buffer} */
  let clip;
  /** @type {Awaited<ReturnType<typeof startPageServer>>} */
  let pages;
  /** @type {Awaited<ReturnType<typeof startWsTracker>>} */
  let ws;
  /** @type {import('playwright-core').Browser} */
  let browser;
  /** @type {import('playwright-core').Page} */
  let seederPage;
  /** @type {import('../../ui/e2e/browser.mjs').CheckedPage} */
  let page;
  /** @type {Awaited<ReturnType<typeof startCinemaServer>>} */
  let server;
  /** @type {ReturnType<typeof pollStreamStatus> | undefined} */
  let poller;
  /** @type {string} */
  let hash;
  /** @type {any} */
  let seekStatus; // the server's /status just before the seek to the middle

  /**
   * @param {string} path
   * @param {RequestInit} [init]
   */
  const api = (path, init) => requestJson(server.origin, path, init);

  const videoState = () => videoStateOf(page);

  /** The <video>'s state; fails the test when there is none. */
  const videoNow = async () => {
    const state = await videoState();
    assert.ok(state, 'there is no <video> on the page');
    return state;
  };

  const mediaEventCount = () => page.evaluate(() => window.__media.length);

  /**
   * page.waitForFunction with a message that says what it waited for.
   * @template A
   * @param {(arg: A) => unknown} fn
   * @param {A} arg
   * @param {number} ms
   * @param {string} what
   */
  async function waitInPage(fn, arg, ms, what) {
    try {
      const handle = await page.waitForFunction(fn, arg, { timeout: ms, polling: 100 });
      return handle.jsonValue();
    } catch (err) {
      throw new Error(`timed out after ${ms} ms waiting for ${what} (${err instanceof Error ? err.message.split('\n')[0] : err})`);
    }
  }

  /**
   * Waits for a media event of `type` recorded after index `since`; returns it.
   * @param {string} type
   * @param {number} since
   * @param {number} ms
   */
  const waitForMediaEvent = (type, since, ms) =>
    waitInPage(([type, since]) => window.__media.slice(since).find((e) => e.type === type) ?? false, /** @type {const} */ ([type, since]), ms, `the <video> to fire ${type}`);

  /**
   * Waits until the video plays past `seconds`, not paused and without an error.
   * @param {number} seconds
   * @param {number} ms
   */
  const waitForPlayback = (seconds, ms) =>
    waitInPage(
      (s) => {
        const v = document.querySelector('video[data-testid="video"]');
        return v instanceof HTMLVideoElement && !v.paused && !v.error && v.currentTime > s;
      },
      seconds,
      ms,
      `the <video> to play past ${seconds.toFixed(1)} s`,
    );

  /**
   * @param {string} name
   * @param {unknown} err
   */
  async function dumpDiagnostics(name, err) {
    const out = [`\n===== diagnostics for "${name}": ${err instanceof Error ? err.message : err}`];
    try {
      if (page) {
        out.push(`url: ${page.url()}`);
        out.push(`video: ${JSON.stringify(await videoState())}`);
        out.push(`media events: ${JSON.stringify(await page.evaluate(() => window.__media?.slice(-30)))}`);
        out.push(`status line: ${await page.locator(tid('status-line')).innerText({ timeout: 500 }).catch(() => '(none)')}`);
        out.push(`status line history: ${JSON.stringify(await page.evaluate(() => window.__statusSeen?.slice(-40)))}`);
        const errs = await page.locator(tid('error-message')).allInnerTexts().catch(() => []);
        if (errs.length) out.push(`error messages on page: ${JSON.stringify(errs)}`);
        out.push(`page problems: ${JSON.stringify(page.problems)}`);
        out.push(`screenshot: ${await screenshot(page, `webtorrent-play-FAILED-${name}`).catch((e) => String(e))}`);
      }
      if (seederPage && !seederPage.isClosed()) {
        out.push(`seeder: ${JSON.stringify(await seederPage.evaluate(() => ({ peers: window.peerCount(), uploaded: window.uploaded() })).catch((e) => String(e)))}`);
      }
      if (poller) out.push(`server /status history: ${poller.summary()}`);
      if (seekStatus) out.push(`server /status at the seek: ${JSON.stringify(seekStatus)}`);
      if (server) out.push(`GET /api/streams: ${JSON.stringify(await api('/api/streams').catch((e) => String(e)))}`);
    } catch (e) {
      out.push(`(diagnostics failed: ${e})`);
    }
    out.push('--- server log tail ---', server?.child.tail(60) ?? '(no server)');
    console.error(out.join('\n'));
  }

  /**
   * `it` with a time limit and diagnostics on failure.
   * @param {string} name
   * @param {number} timeout
   * @param {() => Promise<void>} fn
   */
  const step = (name, timeout, fn) =>
    it(name, { timeout }, async () => {
      try {
        await fn();
      } catch (err) {
        await dumpDiagnostics(name, err);
        throw err;
      }
    });

  before(async () => {
    assert.ok(existsSync(join(DIST_DIR, 'index.html')), 'ui/dist is missing: run `npm run build` in ui/ first');
    tmp = await mkdtemp(join(tmpdir(), 'cinemahalal-webtorrent-play-'));
    await writeFile(join(tmp, 'search.toml'), '');
    const clipPath = join(tmp, 'Clip.mp4');
    await makeClip(clipPath, { seconds: CLIP_SECONDS });
    clip = await readFile(clipPath);
    pages = await startPageServer(clip);
    ws = await startWsTracker();
    browser = await launchBrowser();
    server = await startCinemaServer({
      dataDir: join(tmp, 'data'),
      uiDir: DIST_DIR,
      searchConfig: join(tmp, 'search.toml'),
      env: { CINEMAHALAL_ARCHIVE: 'off', XDG_CONFIG_HOME: join(tmp, 'config') },
    });
    page = await newPage(browser);
    page.setDefaultTimeout(15_000);
    await page.addInitScript(recordMediaEvents);
    await page.addInitScript(recordStatusLine);
  }, { timeout: 120_000 });

  after(async () => {
    if (process.env.DEBUG_SERVER) console.log(server?.child.tail(200));
    await poller?.stop();
    await browser?.close().catch(() => {});
    pages?.server.closeAllConnections?.();
    pages?.server.close();
    if (ws) await closeTracker(ws.tracker);
    await stopChild(server?.child);
    if (tmp && !process.env.KEEP_E2E_TMP) await rm(tmp, { recursive: true, force: true });
  }, { timeout: 30_000 });

  step('a browser page seeds the clip, announcing only to the ws tracker', 30_000, async () => {
    seederPage = await browser.newPage();
    seederPage.on('console', (m) => process.env.DEBUG_PAGE && console.log('[seeder]', m.text()));
    await seederPage.goto(pages.origin);
    await seederPage.waitForFunction(() => window.ready === true, undefined, { timeout: 10_000 });
    const seeded = await withTimeout(
      seederPage.evaluate(([u, t, b]) => window.seedUrl(u, 'Clip.mp4', t, b), /** @type {const} */ ([`${pages.origin}/clip.mp4`, ws.url, UPLOAD_BPS])),
      20_000,
      'the browser to seed the clip',
    );
    assert.match(seeded.infoHash, /^[0-9a-f]{40}$/);
    assert.equal(seeded.length, clip.length);
    hash = seeded.infoHash;
    // The browser announced: the tracker knows the torrent before the server asks.
    await waitUntil(() => ws.tracker.torrents[hash]?.peers.length >= 1, { ms: 10_000, what: 'the browser to announce to the ws tracker' });
  });

  step('the UI serves from the server; the pasted ws-only magnet plays in the <video>', 90_000, async () => {
    const health = await api('/api/health');
    assert.equal(health.status, 200);
    await page.goto(server.origin + '/');
    await page.locator(tid('search-input')).waitFor();
    const since = await mediaEventCount();
    const magnet = `magnet:?xt=urn:btih:${hash}&dn=Clip&tr=${encodeURIComponent(ws.url)}`;
    assert.deepEqual(new URL(magnet).searchParams.getAll('tr'), [ws.url], 'the magnet names exactly one tracker, the ws one');
    poller = pollStreamStatus(server.origin, hash, { every: 200 });
    const t0 = Date.now();
    await page.fill(tid('magnet-input'), magnet);
    await page.click(tid('play-button'));
    await page.locator(tid('player')).waitFor();

    // The server's streamUrl: the spec's path with the stream's token.
    const src = `${server.origin}/api/stream/${hash}?token=`;
    await waitInPage((s) => document.querySelector('[data-testid="video"]')?.getAttribute('src')?.startsWith(s), src, 45_000, `the <video> src to be ${src}…`);
    await waitForMediaEvent('canplay', since, 30_000);
    const tCanplay = Date.now() - t0;
    const state = await videoNow();
    assert.ok(Math.abs(state.duration - CLIP_SECONDS) < 0.5, `duration ${state.duration} s, expected ~${CLIP_SECONDS} s`);
    await waitForPlayback(2.0, 20_000);
    const playing = await videoNow();
    assert.equal(playing.error, null);
    assert.equal(playing.paused, false);
    console.log(`# ws-only magnet in the UI: canplay ${tCanplay} ms after the paste, past 2 s at ${Date.now() - t0} ms`);
    await screenshot(page, 'webtorrent-play-01-playing');
  });

  step('a seek to the middle plays on from there', 60_000, async () => {
    const { duration } = await videoNow();
    const mid = duration / 2;
    const st = await api(`/api/stream/${hash}/status`);
    assert.equal(st.status, 200, JSON.stringify(st.body));
    seekStatus = { progress: st.body.progress, availableRanges: st.body.availableRanges, peers: st.body.peers };
    const since = await mediaEventCount();
    await page.evaluate((t) => {
      /** @type {HTMLVideoElement} */ (document.querySelector('[data-testid="video"]')).currentTime = t;
    }, mid);
    const seeked = /** @type {{ t: number }} */ (await waitForMediaEvent('seeked', since, 25_000));
    assert.ok(Math.abs(seeked.t - mid) < 1, `seeked to ${seeked.t}, wanted ${mid}`);
    await waitForPlayback(mid + 2, 25_000);
    const state = await videoNow();
    assert.equal(state.error, null);
    assert.equal(state.paused, false);
    const midByte = Math.floor(clip.length / 2);
    const haveMid = seekStatus.availableRanges.some((/** @type {{ start: number, end: number }} */ r) => r.start <= midByte && midByte < r.end);
    console.log(
      `# seeked to ${mid.toFixed(1)} s with ${Math.round(seekStatus.progress * 100)}% of the clip on disk ` +
        `(its middle byte ${haveMid ? 'already' : 'not yet'} there); played on to ${state.currentTime.toFixed(1)} s`,
    );
  });

  step('the status line showed the browser peer as "WebRTC 1"', 30_000, async () => {
    // Recorded while it played: the browser peer may be gone once the clip is complete.
    const seen = await waitInPage(
      () => window.__statusSeen.find((s) => s.webrtc === 'WebRTC 1') ?? false,
      undefined,
      15_000,
      'the status line to show "WebRTC 1"',
    );
    assert.ok(seen);
    const history = await page.evaluate(() => window.__statusSeen);
    // The browser is the only peer: no TCP or uTP peer ever carried a byte.
    assert.ok(history.every((s) => s.tcp === null && s.utp === null), `a TCP or uTP peer was shown: ${JSON.stringify(history.slice(-30))}`);
    assert.ok(poller, 'the server /status was not polled');
    assert.equal(poller.max((b) => b.peers.webrtc.connected), 1, poller.summary());
    assert.equal(poller.max((b) => b.peers.tcp.connected + b.peers.utp.connected), 0, poller.summary());
    const status = (await api(`/api/stream/${hash}/status`)).body;
    assert.ok(status.peers.webrtc.downloadedBytes > 0, JSON.stringify(status.peers));
    await poller.stop();
  });

  step('Streams → Stop ends the stream; the server stays healthy', 30_000, async () => {
    await page.click(tid('nav-streams'));
    const row = page.locator(`${tid('stream-row')}[data-infohash="${hash}"]`);
    await row.waitFor({ timeout: 10_000 });
    await row.locator(tid('stop-button')).click();
    await page.locator(tid('streams-empty')).waitFor({ timeout: 10_000 });
    const st = await api(`/api/stream/${hash}/status`);
    assert.equal(st.status, 404, JSON.stringify(st.body));
    const health = await api('/api/health');
    assert.equal(health.status, 200, JSON.stringify(health.body));
    assert.equal(health.body.activeStreams, 0, JSON.stringify(health.body));
  });

  step('ran without page errors', 5_000, async () => {
    // Status polls before a stream is registered answer 404 (STREAM_NOT_FOUND) by design.
    const real = page.problems.filter((p) => !/Failed to load resource: the server responded with a status of 404/.test(p));
    assert.deepEqual(real, []);
  });
});
