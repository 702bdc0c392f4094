// @ts-check
// End-to-end: resume, "Continue watching", the history setting, deep links and the next
// episode, in Debian's chromium against the REAL headless server streaming from a REAL
// local seeder. Everything binds 127.0.0.1; no internet.
// Run: npm run e2e:resume (builds the UI and the binaries first).
//
// The seeder shares one folder torrent of two episodes made by ffmpeg (S01E01, 40 s, the
// largest and so the default file; S01E02, 16 s). The page is opened on the deep link
// `#/play?magnet=…`; every assertion about what was saved reads the server's
// GET /api/history, so the test sees what the backend kept, not what the page believes.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DIST_DIR, launchBrowser, newPage, screenshot } from './browser.mjs';
import { makeClip, startCinemaServer, startSeeder, stopChild, waitUntil } from './swarm.mjs';

/** @typedef {import('../src/lib/contract').HistoryEntry} HistoryEntry */
/** @typedef {import('../src/lib/contract').StreamReady} StreamReady */

const tid = (/** @type {string} */ id) => `[data-testid="${id}"]`;

describe('resume, history and next episode against the real server', () => {
  /** @type {string} */
  let tmp;
  /** @type {Awaited<ReturnType<typeof startSeeder>>} */
  let seeder;
  /** @type {Awaited<ReturnType<typeof startCinemaServer>>} */
  let server;
  /** @type {import('playwright-core').Browser} */
  let browser;
  /** @type {import('./browser.mjs').CheckedPage} */
  let page;
  /** @type {StreamReady} */
  let stream; // the torrent as the server describes it
  /** @type {number} */
  let e01;
  /** @type {number} */
  let e02;

  /** @returns {Promise<HistoryEntry[]>} */
  const history = async () => {
    const res = await fetch(`${server.origin}/api/history`, { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200);
    return (await res.json()).entries;
  };

  const video = () =>
    page.evaluate(() => {
      const v = document.querySelector('video[data-testid="video"]');
      if (!(v instanceof HTMLVideoElement)) return null;
      return { src: v.currentSrc, t: v.currentTime, d: v.duration, paused: v.paused, ended: v.ended, error: v.error?.code ?? null };
    });

  /**
   * Waits until the video plays past `seconds`.
   * @param {number} seconds
   * @param {number} [timeout]
   */
  const playingPast = (seconds, timeout = 60_000) =>
    page.waitForFunction(
      (s) => {
        const v = document.querySelector('video[data-testid="video"]');
        return v instanceof HTMLVideoElement && !v.paused && !v.error && v.currentTime > s;
      },
      seconds,
      { timeout, polling: 100 },
    );

  /** @param {number} t */
  const seek = (t) =>
    page.evaluate((t) => {
      const v = /** @type {HTMLVideoElement} */ (document.querySelector('video[data-testid="video"]'));
      v.currentTime = t;
    }, t);

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'cinemahalal-resume-'));
    const show = join(tmp, 'Show');
    await mkdir(show);
    await makeClip(join(show, 'Show.S01E01.mp4'), { seconds: 40 });
    await makeClip(join(show, 'Show.S01E02.mp4'), { seconds: 16 });
    seeder = await startSeeder(show, { pieceLength: 256 * 1024 });
    const searchConfig = join(tmp, 'search.toml');
    server = await startCinemaServer({ dataDir: join(tmp, 'data'), uiDir: DIST_DIR, searchConfig });
    browser = await launchBrowser();
    page = await newPage(browser);
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await stopChild(server?.child);
    await stopChild(seeder?.child, { viaStdin: true });
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  /**
   * Runs `body`; on failure saves a screenshot and prints the server's last lines.
   * @param {string} name
   * @param {() => Promise<void>} body
   */
  const step = (name, body) =>
    it(name, { timeout: 180_000 }, async () => {
      try {
        await body();
      } catch (err) {
        const shot = await screenshot(page, `resume-${name}`).catch(() => '(no screenshot)');
        console.error(`screenshot: ${shot}\nvideo: ${JSON.stringify(await video().catch(() => null))}\n${server?.child.tail(30)}`);
        throw err;
      }
    });

  step('a deep link with a magnet opens the player and plays', async () => {
    assert.deepEqual(await history(), []);
    await page.goto(`${server.origin}/#/play?magnet=${encodeURIComponent(seeder.magnet)}`);
    await page.locator(tid('player')).waitFor({ timeout: 10_000 });
    await playingPast(1);
    // The torrent as the server knows it: which file is which episode.
    const res = await fetch(`${server.origin}/api/streams`);
    stream = (await res.json()).streams[0];
    const index = (/** @type {string} */ name) => stream.files.find((f) => f.path.endsWith(name))?.index;
    e01 = /** @type {number} */ (index('Show.S01E01.mp4'));
    e02 = /** @type {number} */ (index('Show.S01E02.mp4'));
    assert.equal(stream.fileIndex, e01, 'the largest file, S01E01, plays by default');
    assert.ok(e02 !== undefined && e02 !== e01);
  });

  step('the position is saved while it plays', async () => {
    await seek(15);
    await playingPast(16);
    const saved = /** @type {HistoryEntry} */ (
      await waitUntil(async () => (await history()).find((e) => e.fileIndex === e01 && e.positionSeconds >= 15), {
        ms: 15_000,
        what: 'a saved position past 15 s',
      })
    );
    assert.equal(saved.infoHash, seeder.infoHash);
    assert.equal(saved.name, 'Show.S01E01.mp4');
    assert.ok(Math.abs(saved.durationSeconds - 40) < 1, `duration ${saved.durationSeconds}`);
    assert.equal(saved.watched, false);
    assert.ok(saved.magnet?.startsWith('magnet:?xt=urn:btih:'), saved.magnet);
  });

  step('reloading the deep link resumes near the saved position, with Start over', async () => {
    // Pause so the saved position stays put, and wait for the pause's save.
    await page.evaluate(() => /** @type {HTMLVideoElement} */ (document.querySelector('video[data-testid="video"]')).pause());
    const v = await video();
    await waitUntil(async () => (await history()).find((e) => e.fileIndex === e01 && Math.abs(e.positionSeconds - (v?.t ?? 0)) < 0.5), {
      ms: 5000,
      what: 'the pause to be saved',
    });
    const saved = /** @type {HistoryEntry} */ ((await history()).find((e) => e.fileIndex === e01));
    await page.reload();
    await page.locator(tid('resume-bar')).waitFor({ timeout: 30_000 });
    await page.locator(tid('start-over')).waitFor();
    const resumedAt = Number(await page.locator(tid('resume-bar')).getAttribute('data-resumed-at'));
    assert.ok(Math.abs(resumedAt - saved.positionSeconds) < 0.5, `resumed at ${resumedAt}, saved ${saved.positionSeconds}`);
    await playingPast(saved.positionSeconds - 0.5);
    const now = await video();
    assert.ok(now && now.t >= saved.positionSeconds - 0.5 && now.t < saved.positionSeconds + 10, JSON.stringify(now));

    await page.locator(tid('start-over')).click();
    await page.locator(tid('resume-bar')).waitFor({ state: 'detached' });
    const restarted = await video();
    assert.ok(restarted && restarted.t < 3, JSON.stringify(restarted));
    await waitUntil(async () => (await history()).find((e) => e.fileIndex === e01 && e.positionSeconds < 5), {
      ms: 10_000,
      what: 'Start over to be saved',
    });
  });

  step('Continue watching lists it with its progress, and a click resumes it', async () => {
    await seek(22);
    await playingPast(22.5);
    await page.locator(tid('player-back')).click();
    // Leaving the player saved where it was.
    const saved = /** @type {HistoryEntry} */ (
      await waitUntil(async () => (await history()).find((e) => e.fileIndex === e01 && e.positionSeconds >= 22), {
        ms: 5000,
        what: 'the position at leaving',
      })
    );
    assert.equal(new URL(page.url()).hash, '', 'leaving the player forgets the play link');
    const item = page.locator(`${tid('continue-watching')} ${tid('continue-item')}`);
    await item.first().waitFor({ timeout: 10_000 });
    assert.equal(await item.count(), 1);
    assert.equal(await item.getAttribute('data-infohash'), seeder.infoHash);
    assert.match(await item.innerText(), /Show\.S01E01\.mp4/);
    assert.match(await item.locator(tid('continue-position')).innerText(), /^0:2\d of 0:4[01]$/);
    const progress = Number(await item.locator('[role="progressbar"]').getAttribute('aria-valuenow'));
    assert.ok(Math.abs(progress - Math.round((saved.positionSeconds / saved.durationSeconds) * 100)) <= 1, `progress ${progress}`);
    await screenshot(page, 'resume-continue-watching');

    await item.locator('button').click();
    await page.locator(tid('resume-bar')).waitFor({ timeout: 30_000 });
    await playingPast(saved.positionSeconds - 0.5);
  });

  step('clearing the history in Settings empties Continue watching', async () => {
    await page.locator(tid('nav-settings')).click();
    await page.locator(tid('history-count')).filter({ hasText: /1 video remembered/ }).waitFor({ timeout: 10_000 });
    await page.locator(tid('history-clear')).click();
    await page.locator(tid('history-cleared')).filter({ hasText: 'Forgot 1 position.' }).waitFor({ timeout: 10_000 });
    assert.deepEqual(await history(), []);
    await page.locator(tid('nav-search')).click();
    await page.locator(tid('search-input')).waitFor();
    await page.waitForTimeout(500);
    assert.equal(await page.locator(tid('continue-watching')).count(), 0);
  });

  step('at the end of an episode the next one is offered and plays', async () => {
    await page.goto(`${server.origin}/#/play?magnet=${encodeURIComponent(seeder.magnet)}&fileIndex=${e01}`);
    await playingPast(0.5);
    assert.equal(await page.locator(tid('resume-bar')).count(), 0, 'a cleared history resumes nothing');
    await seek(33);
    const offer = page.locator(tid('next-episode'));
    await offer.waitFor({ timeout: 20_000 });
    assert.equal(await offer.locator(tid('next-episode-label')).innerText(), 'S01E02');
    assert.equal(Number(await offer.getAttribute('data-file-index')), e02);
    // The countdown plays it by itself.
    await page.waitForFunction(
      (i) => {
        const v = document.querySelector('video[data-testid="video"]');
        return v instanceof HTMLVideoElement && new URL(v.currentSrc || 'http://x/').pathname.endsWith(`/${i}`) && v.currentTime > 0.5 && !v.paused;
      },
      e02,
      { timeout: 40_000, polling: 100 },
    );
    const entries = await history();
    const first = entries.find((e) => e.fileIndex === e01);
    assert.ok(first?.watched, `S01E01 is watched: ${JSON.stringify(first)}`);
    assert.equal(await page.locator(tid('next-episode')).count(), 0, 'no offer after the last episode starts');
    assert.deepEqual(page.problems.filter((p) => p.startsWith('pageerror')), []);
  });
});
