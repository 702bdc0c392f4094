// @ts-check
// End-to-end: the built UI served by the REAL headless server, streaming from a REAL
// local seeder, driven in Debian's chromium. Everything binds 127.0.0.1; no internet.
// Run: npm run e2e:swarm (builds the UI and the two binaries first).
//
// 1. ffmpeg makes a 40 s H.264/AAC clip; cinemahalal-swarm seeds it (upload capped, so
//    the clip arrives while it plays); the server starts with a fresh data dir.
// 2. Paste the magnet → <video> fires canplay, plays, seeks (mid-point and ←) into data
//    not yet downloaded, keeps playing; the status line showed peers, speed and buffered
//    share while the clip arrived; bytes served match.
// 3. Streams → Stop: the API forgets the stream and its data dir is gone.
// 4. Search `tt0000001` → a Stremio add-on fixture answers one stream whose `sources`
//    name a tracker (this file's HTTP tracker), which leads the server to the seeder.
//
// Nothing here races the download: the page records every text the status line shows
// (window.__statusSeen), the test polls the server's /status from the POST on, and
// the assertions read those histories afterwards. The clip is long and the seeder slow
// enough that it is still arriving when the seek is made, right after playback starts.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DIST_DIR, launchBrowser, newPage, screenshot } from './browser.mjs';
import {
  makeClip,
  pollStreamStatus,
  requestJson,
  startCinemaServer,
  startSeeder,
  startStremioFixture,
  startTracker,
  stopChild,
  videoState as videoStateOf,
  waitUntil,
} from './swarm.mjs';

/** @typedef {import('../src/lib/contract').ByteRange} ByteRange */
/** @typedef {import('../src/lib/contract').StreamReady} StreamReady */
/** @typedef {import('../src/lib/contract').StreamStatus} StreamStatus */

const tid = (/** @type {string} */ id) => `[data-testid="${id}"]`;
const IMDB_ID = 'tt0000001';
const CLIP_SECONDS = 40;
// 400 kB/s: 1.5 times the clip's ~265 kB/s, so it plays smoothly, yet the ~10.6 MB take
// ~26 s to arrive: when playback starts (within ~10 s even on a loaded machine) well under
// half is on disk, so the seek to the middle asks for pieces the server does not have yet.
const UPLOAD_BPS = 400_000;
// 256 KiB pieces (librqbit would pick 2 MiB for this size): the player gets its first
// bytes, and the data after a seek, within a second of asking instead of five.
const PIECE_LENGTH = 256 * 1024;

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

// Records each distinct state of the status line (state, speed, peers, buffered share) in
// window.__statusSeen, so a test can ask afterwards what it showed, whenever that was.
function recordStatusLine() {
  window.__statusSeen = [];
  let last = '';
  const snap = () => {
    const line = document.querySelector('[data-testid="status-line"]');
    if (!line) {
      last = ''; // a new player's line is recorded from its first text on
      return;
    }
    const text = (/** @type {string} */ id) => line.querySelector(`[data-testid="${id}"]`)?.textContent?.trim() ?? null;
    const s = { state: /** @type {HTMLElement} */ (line).dataset.state ?? null, label: text('status-state'), speed: text('status-speed'), peers: text('status-peers'), buffered: text('status-buffered') };
    const key = JSON.stringify(s);
    if (key === last) return;
    last = key;
    window.__statusSeen.push({ at: Math.round(performance.now()), ...s });
  };
  new MutationObserver(snap).observe(document, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['data-state'] });
  setInterval(snap, 250);
}

const PEERS_CONNECTED = /^Peers [1-9]\d*\/\d+$/;
const SPEED_NONZERO = /^↓ [1-9]\d*(?:\.\d)? (?:B|KB|MB|GB)\/s$/;
const BUFFERED_PARTIAL = /^Buffered (?:[1-9]\d?|<1)%$/;
const BUFFERED_ALL = 'Buffered 100%';

describe('CinemaHalal UI against the real server and a local swarm', () => {
  /** @type {string} */
  let tmp;
  /** @type {string} */
  let clipPath;
  /** @type {Buffer} */
  let clip; // the file
  /** @type {Awaited<ReturnType<typeof startSeeder>>} */
  let seeder;
  /** @type {Awaited<ReturnType<typeof startCinemaServer>>} */
  let server;
  /** @type {Awaited<ReturnType<typeof startTracker>>} */
  let tracker;
  /** @type {Awaited<ReturnType<typeof startStremioFixture>>} */
  let addon;
  /** @type {string} */
  let dataDir;
  /** @type {import('playwright-core').Browser} */
  let browser;
  /** @type {import('./browser.mjs').CheckedPage} */
  let page;
  /** @type {ReturnType<typeof pollStreamStatus> | undefined} */
  let poller; // the server's /status of the pasted magnet, every 200 ms from the POST on
  /** @type {Pick<StreamStatus, 'progress' | 'availableRanges' | 'downloadedBytes'> | undefined} */
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
  const statusSeen = (since = 0) => page.evaluate((i) => window.__statusSeen.slice(i), since);
  const statusSeenCount = () => page.evaluate(() => window.__statusSeen.length);

  /**
   * Waits until the status line, since record `since`, has shown `field` matching `re`; returns that record.
   * @param {number} since
   * @param {'state' | 'label' | 'speed' | 'peers' | 'buffered'} field
   * @param {RegExp} re
   * @param {number} timeout
   */
  async function waitForStatusSeen(since, field, re, timeout) {
    const handle = await page.waitForFunction(
      ([since, field, src]) => window.__statusSeen.slice(since).find((s) => new RegExp(src).test(s[field] ?? '')) ?? false,
      /** @type {const} */ ([since, field, re.source]),
      { timeout, polling: 100 },
    );
    return handle.jsonValue();
  }

  /**
   * Waits for a media event of `type` recorded after index `since`; returns it.
   * @param {string} type
   * @param {number} since
   * @param {number} timeout
   * @returns {Promise<MediaEventRecord>}
   */
  async function waitForMediaEvent(type, since, timeout) {
    const handle = await page.waitForFunction(
      ([type, since]) => window.__media.slice(since).find((e) => e.type === type) ?? false,
      /** @type {const} */ ([type, since]),
      { timeout, polling: 100 },
    );
    return /** @type {Promise<MediaEventRecord>} */ (handle.jsonValue());
  }

  /**
   * Waits until the video plays past `seconds` and is not paused.
   * @param {number} seconds
   * @param {number} timeout
   */
  async function waitForPlayback(seconds, timeout) {
    await page.waitForFunction(
      (s) => {
        const v = document.querySelector('video[data-testid="video"]');
        return v instanceof HTMLVideoElement && !v.paused && !v.error && v.currentTime > s;
      },
      seconds,
      { timeout, polling: 100 },
    );
  }

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
        out.push(`screenshot: ${await screenshot(page, `swarm-FAILED-${name}`).catch((e) => String(e))}`);
      }
      if (poller) out.push(`server /status history: ${poller.summary()}`);
      if (seekStatus) out.push(`server /status at the seek: ${JSON.stringify(seekStatus)}`);
      if (server) out.push(`GET /api/streams: ${JSON.stringify(await api('/api/streams').catch((e) => String(e)))}`);
      if (tracker) out.push(`tracker announces: ${JSON.stringify(tracker.announces)}`);
      if (addon) out.push(`add-on requests: ${JSON.stringify(addon.requests)}`);
    } catch (e) {
      out.push(`(diagnostics failed: ${e})`);
    }
    out.push('--- server log tail ---', server?.child.tail(60) ?? '(no server)');
    out.push('--- seeder log tail ---', seeder?.child.tail(20) ?? '(no seeder)');
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
    assert.ok(existsSync(join(DIST_DIR, 'index.html')), 'ui/dist is missing: run `npm run build` first');
    tmp = await mkdtemp(join(tmpdir(), 'cinemahalal-e2e-'));
    dataDir = join(tmp, 'data');
    clipPath = join(tmp, 'Test Clip.mp4');
    await makeClip(clipPath, { seconds: CLIP_SECONDS });
    clip = await readFile(clipPath);

    seeder = await startSeeder(clipPath, { uploadBps: UPLOAD_BPS, pieceLength: PIECE_LENGTH });
    assert.match(seeder.infoHash, /^[0-9a-f]{40}$/);
    assert.match(seeder.peer, /^127\.0\.0\.1:\d+$/);

    tracker = await startTracker({ infoHash: seeder.infoHash, peers: [seeder.peer] });
    const mb = (clip.length / 1024 / 1024).toFixed(1);
    addon = await startStremioFixture({
      streams: {
        [IMDB_ID]: [
          {
            infoHash: seeder.infoHash,
            fileIdx: 0,
            title: `Test Clip 720p WEB-DL\n👤 5 💾 ${mb} MB`,
            name: 'Fixture',
            sources: [`tracker:${tracker.origin}/announce`],
          },
        ],
      },
    });

    server = await startCinemaServer({
      dataDir,
      uiDir: DIST_DIR,
      searchConfig: join(tmp, 'search.toml'),
      env: {
        CINEMAHALAL_ARCHIVE: 'off',
        CINEMAHALAL_STREMIO_ADDONS: addon.origin,
        XDG_CONFIG_HOME: join(tmp, 'config'),
      },
    });

    browser = await launchBrowser();
    page = await newPage(browser);
    page.setDefaultTimeout(15_000);
    await page.addInitScript(recordMediaEvents);
    await page.addInitScript(recordStatusLine);
  }, { timeout: 120_000 });

  after(async () => {
    await poller?.stop();
    await browser?.close().catch(() => {});
    await Promise.all([
      stopChild(server?.child),
      stopChild(seeder?.child, { viaStdin: true }),
      tracker?.close(),
      addon?.close(),
    ]);
    if (tmp && !process.env.KEEP_E2E_TMP) await rm(tmp, { recursive: true, force: true });
  }, { timeout: 30_000 });

  step('serves the UI and the API from one origin', 20_000, async () => {
    const health = await api('/api/health');
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'OK');
    assert.equal(health.body.activeStreams, 0);
    await page.goto(server.origin + '/');
    await page.locator(tid('search-input')).waitFor();
    await page.locator(tid('version')).filter({ hasText: `v${health.body.version}` }).waitFor();
    assert.equal(await page.locator('.app').getAttribute('data-transport'), 'http');
    await screenshot(page, 'swarm-01-search');
  });

  step('a pasted magnet plays in the <video>', 90_000, async () => {
    const since = await mediaEventCount();
    poller = pollStreamStatus(server.origin, seeder.infoHash, { every: 200 });
    await page.fill(tid('magnet-input'), seeder.magnet);
    await page.click(tid('play-button'));
    await page.locator(tid('player')).waitFor();

    // The server's streamUrl: the spec's path with the stream's token.
    const src = `${server.origin}/api/stream/${seeder.infoHash}?token=`;
    await page.waitForFunction((s) => document.querySelector('[data-testid="video"]')?.getAttribute('src')?.startsWith(s), src, { timeout: 45_000 });
    await waitForMediaEvent('canplay', since, 30_000);
    const state = await videoNow();
    assert.ok(Math.abs(state.duration - CLIP_SECONDS) < 0.5, `duration ${state.duration} s, expected ~${CLIP_SECONDS} s`);
    await waitForPlayback(1.0, 20_000);
    assert.equal((await videoNow()).error, null);
    // No more checks here: the seek (next step) must come while the clip is still arriving.
  });

  step('seeking to the middle and with ← keeps playing', 60_000, async () => {
    const { duration } = await videoNow();
    const mid = duration / 2;
    // The seek must land on data the server does not have yet, or it proves nothing
    // about streaming: the middle of the file must be missing from what is on disk.
    const st = await api(`/api/stream/${seeder.infoHash}/status`);
    assert.equal(st.status, 200, JSON.stringify(st.body));
    seekStatus = { progress: st.body.progress, availableRanges: st.body.availableRanges, downloadedBytes: st.body.downloadedBytes };
    const midByte = Math.floor(clip.length / 2);
    const haveMid = st.body.availableRanges.some((/** @type {ByteRange} */ r) => r.start <= midByte && midByte < r.end);
    assert.ok(st.body.progress < 0.9, `the clip was already ${Math.round(st.body.progress * 100)}% downloaded before the seek`);
    assert.ok(!haveMid, `the middle of the clip (byte ${midByte}) was already downloaded before the seek: ${JSON.stringify(st.body.availableRanges)}`);
    let since = await mediaEventCount();
    await page.evaluate((t) => {
      /** @type {HTMLVideoElement} */ (document.querySelector('[data-testid="video"]')).currentTime = t;
    }, mid);
    const seeked = await waitForMediaEvent('seeked', since, 25_000);
    assert.ok(Math.abs(seeked.t - mid) < 1, `seeked to ${seeked.t}, wanted ${mid}`);
    await waitForPlayback(mid + 1.5, 25_000);
    await screenshot(page, 'swarm-03-after-seek');

    // The player's keyboard handler: ← goes back 10 s (focus is not in a text field).
    await page.locator(tid('player-back')).focus();
    await page.evaluate(() => /** @type {HTMLElement | null} */ (document.activeElement)?.blur());
    since = await mediaEventCount();
    const before = (await videoNow()).currentTime;
    await page.keyboard.press('ArrowLeft');
    const back = await waitForMediaEvent('seeked', since, 25_000);
    assert.ok(back.t < before - 8 && back.t > before - 12, `← seeked from ${before} to ${back.t}, expected about -10 s`);
    await waitForPlayback(back.t + 1, 25_000);
    const state = await videoNow();
    assert.equal(state.error, null);
    assert.equal(state.paused, false);
  });

  step('the status line showed the stream, its peers and buffered share while the clip arrived', 30_000, async () => {
    // The title comes from the torrent, the status line from /status.
    assert.match(await page.locator('.player-title').innerText(), /Test Clip/);
    await page.locator(`${tid('status-line')}[data-state="ready"]`).waitFor();
    assert.match(await page.locator(tid('status-line')).innerText(), /Streaming/);
    await screenshot(page, 'swarm-02-playing');

    // What the line showed before the whole clip was on disk (the seeder drops out of
    // the peer count once librqbit needs nothing more from it).
    const seen = await statusSeen();
    const arriving = seen.filter((s) => s.buffered !== BUFFERED_ALL);
    const history = JSON.stringify(seen.slice(-30));
    assert.ok(arriving.some((s) => PEERS_CONNECTED.test(s.peers ?? '')), `no connected peer shown while the clip arrived: ${history}`);
    assert.ok(arriving.some((s) => BUFFERED_PARTIAL.test(s.buffered ?? '')), `no partial buffered share shown: ${history}`);
    assert.ok(seen.some((s) => s.state === 'ready' && s.label === 'Streaming'), `never showed "Streaming" in state ready: ${history}`);

    // The server's own view agreed: a ready stream of the right size with a connected
    // peer and bytes coming in, before the clip was complete.
    assert.ok(poller, 'the server /status was not polled');
    const ok = poller.ok().map((s) => s.body);
    assert.ok(ok.length > 0, 'the server never answered /status');
    assert.ok(ok.every((b) => b.size === clip.length || b.size === 0), `sizes ${[...new Set(ok.map((b) => b.size))]}`);
    assert.ok(ok.some((b) => b.state === 'ready' && b.size === clip.length), `states ${[...new Set(ok.map((b) => b.state))]}`);
    assert.ok(ok.some((b) => b.peers.connected >= 1 && b.progress < 1), `no connected peer while downloading: ${poller.summary()}`);
    assert.ok(poller.max((b) => b.downloadedBytes) > 0, 'no bytes downloaded');
  });

  step('the status line reports a download speed while the clip arrives', 30_000, async () => {
    const seen = await statusSeen();
    const shown = seen.find((s) => s.buffered !== BUFFERED_ALL && SPEED_NONZERO.test(s.speed ?? ''));
    assert.ok(poller, 'the server /status was not polled');
    assert.ok(shown, `no non-zero speed shown while the clip arrived: ${JSON.stringify(seen.slice(-30))}`);
    assert.ok(
      poller.ok().some((s) => s.body.downloadSpeed > 0 && s.body.progress < 1),
      `the server never reported a speed while downloading: ${poller.summary()}`,
    );
    await poller.stop();
  });

  step('the served bytes are the seeded file', 20_000, async () => {
    const url = `${server.origin}/api/stream/${seeder.infoHash}`;
    const mid = Math.floor(clip.length / 2);
    for (const [start, end] of [[0, 1023], [mid, mid + 65535], [clip.length - 100, clip.length - 1]]) {
      const res = await fetch(url, { headers: { Range: `bytes=${start}-${end}` }, signal: AbortSignal.timeout(15_000) });
      assert.equal(res.status, 206);
      assert.equal(res.headers.get('content-range'), `bytes ${start}-${end}/${clip.length}`);
      const body = Buffer.from(await res.arrayBuffer());
      assert.ok(body.equals(clip.subarray(start, end + 1)), `bytes ${start}-${end} differ from the file`);
    }
  });

  step('the Streams screen lists the stream and Stop removes it with its data', 30_000, async () => {
    const hash = seeder.infoHash;
    const downloads = join(dataDir, 'downloads', hash);
    assert.ok(existsSync(downloads), `${downloads} should exist while streaming`);

    await page.click(tid('nav-streams'));
    const row = page.locator(`${tid('stream-row')}[data-infohash="${hash}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), /Test Clip\.mp4/);
    await screenshot(page, 'swarm-04-streams');

    await row.locator(tid('stop-button')).click();
    await page.locator(tid('streams-empty')).waitFor();

    const list = await api('/api/streams');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.streams.map((/** @type {StreamReady} */ s) => s.infoHash), []);
    const st = await api(`/api/stream/${hash}/status`);
    assert.equal(st.status, 404);
    assert.equal(st.body.code, 'STREAM_NOT_FOUND');
    const media = await api(`/api/stream/${hash}`);
    assert.equal(media.status, 404);
    await waitUntil(async () => !(await stat(downloads).catch(() => null)), { ms: 10_000, what: `${downloads} to be deleted` });
  });

  step('an IMDb search through a Stremio add-on finds the clip, and it plays via the tracker', 90_000, async () => {
    await page.click(tid('nav-search'));
    await page.fill(tid('search-input'), IMDB_ID);
    await page.click(tid('search-button'));
    const row = page.locator(`${tid('result-row')}[data-infohash="${seeder.infoHash}"]`);
    await row.waitFor({ timeout: 20_000 });
    assert.equal(await page.locator(tid('result-row')).count(), 1);
    assert.equal(await row.locator(tid('result-name')).innerText(), 'Test Clip 720p WEB-DL');
    assert.equal(await row.locator(tid('result-provider')).innerText(), '127.0.0.1');
    assert.match(await row.locator(tid('result-seeders')).innerText(), /\b5\b/);
    // "💾 5.1 MB" is read in MiB, as add-ons mean it, and shown in decimal units.
    const mib = Number((clip.length / 1024 / 1024).toFixed(1)) * 1024 * 1024;
    assert.equal(await row.locator(tid('result-size')).innerText(), `${(mib / 1e6).toFixed(1)} MB`);
    assert.equal(await row.locator(tid('result-quality')).innerText(), '720p · WEB-DL');
    assert.ok(addon.requests.includes(`/stream/movie/${IMDB_ID}.json`), `add-on requests: ${addon.requests}`);
    assert.equal(await page.locator(tid('failed-providers')).count(), 0);

    // The API's own answer: a magnet with the fixture's tracker and no peer address.
    const search = await api(`/api/search?imdbId=${IMDB_ID}`);
    assert.equal(search.status, 200, JSON.stringify(search.body));
    const [result] = search.body.results;
    assert.equal(result.infoHash, seeder.infoHash);
    assert.equal(result.fileIndex, 0);
    const magnet = new URL(result.magnet);
    assert.deepEqual(magnet.searchParams.getAll('tr'), [`${tracker.origin}/announce`]);
    assert.equal(magnet.searchParams.get('x.pe'), null);
    await screenshot(page, 'swarm-05-search-results');

    const since = await mediaEventCount();
    const seenBefore = await statusSeenCount();
    const announcesBefore = tracker.announces.length;
    await row.locator(tid('result-play')).click();
    await page.locator(tid('player')).waitFor();
    await page.waitForFunction(
      (s) => document.querySelector('[data-testid="video"]')?.getAttribute('src')?.startsWith(s),
      `${server.origin}/api/stream/${seeder.infoHash}?token=`,
      { timeout: 45_000 },
    );
    await waitForMediaEvent('canplay', since, 30_000);
    await waitForPlayback(1.0, 20_000);
    const fromTracker = tracker.announces.slice(announcesBefore).filter((a) => a.infoHash === seeder.infoHash);
    assert.ok(fromTracker.length >= 1, `the server never announced to the tracker: ${JSON.stringify(tracker.announces)}`);
    // Recorded, not polled: the seeder may already be dropped if the clip came in fast.
    await waitForStatusSeen(seenBefore, 'peers', PEERS_CONNECTED, 15_000);
    await screenshot(page, 'swarm-06-search-playing');
  });

  step('ran without page errors', 5_000, async () => {
    // Status polls before a stream is registered answer 404 (STREAM_NOT_FOUND) by design.
    const real = page.problems.filter((p) => !/Failed to load resource: the server responded with a status of 404/.test(p));
    assert.deepEqual(real, []);
  });
});
