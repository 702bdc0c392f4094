// @ts-check
// Browser smoke test: ui/dist served with a fake /api, driven in headless chromium.
// Run: npm run e2e:smoke (builds first). Screenshots land in ../tests/artifacts/.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DIST_DIR, launchBrowser, newPage, screenshot } from './browser.mjs';
import { HASH_DEAD, HASH_MOVIE, HASH_SHOW, createFakeApi, streamToken } from './fake-api.mjs';
import { startServer } from './server.mjs';

/** @typedef {import('../src/lib/contract').ApiError} ApiError */
/** @typedef {import('../src/lib/contract').Provider} Provider */
/** @typedef {import('../src/lib/contract').StreamStatus} StreamStatus */

const METADATA_TIMEOUT_SENTENCE =
  'No one is sharing this torrent right now, so its details could not be fetched. Try another result or try again later.';

const tid = (/** @type {string} */ id) => `[data-testid="${id}"]`;

describe('CinemaHalal UI against a fake API', () => {
  /** @type {Awaited<ReturnType<typeof startServer>>} */
  let srv;
  /** @type {import('playwright-core').Browser} */
  let browser;
  /** @type {import('./browser.mjs').CheckedPage} */
  let page;
  /** @type {ReturnType<typeof createFakeApi>} */
  let api;

  /**
   * The body of the last PUT /api/providers.
   * @returns {{ providers: Provider[] }}
   */
  const lastSave = () => /** @type {{ providers: Provider[] }} */ (api.calls.filter((c) => c.method === 'PUT').at(-1)?.body);

  before(async () => {
    assert.ok(existsSync(join(DIST_DIR, 'index.html')), 'ui/dist is missing: run `npm run build` first');
    api = createFakeApi({ prepareDelayMs: 1500 });
    srv = await startServer({ root: DIST_DIR, api: api.handler });
    browser = await launchBrowser();
    page = await newPage(browser);
    page.setDefaultTimeout(10_000);
  });

  after(async () => {
    await browser?.close();
    await srv?.close();
  });

  it('loads the search screen and reaches the API', async () => {
    await page.goto(srv.origin + '/');
    await page.locator(tid('search-input')).waitFor();
    await page.locator(tid('version')).filter({ hasText: 'v0.1.0' }).waitFor();
    assert.equal(await page.locator('.app').getAttribute('data-transport'), 'http');
    await screenshot(page, 'ui-01-search-empty');
  });

  it('search shows results with size, seeders, quality and provider', async () => {
    await page.fill(tid('search-input'), 'big buck bunny');
    await page.click(tid('search-button'));
    const rows = page.locator(tid('result-row'));
    await rows.first().waitFor();
    assert.equal(await rows.count(), 3);
    const first = rows.first();
    assert.match(await first.locator(tid('result-name')).innerText(), /Big Buck Bunny/);
    assert.equal(await first.locator(tid('result-size')).innerText(), '1.4 GB');
    assert.match(await first.locator(tid('result-seeders')).innerText(), /42/);
    assert.equal(await first.locator(tid('result-quality')).innerText(), '1080p · WEB-DL');
    assert.equal(await first.locator(tid('result-provider')).innerText(), 'archive');
    assert.match(await page.locator(tid('failed-providers')).innerText(), /stremio/);
    assert.ok(api.calls.some((c) => c.method === 'GET' && c.path === '/api/search?query=big+buck+bunny'));
    await screenshot(page, 'ui-02-search-results');
  });

  it('an IMDb id is sent as imdbId', async () => {
    await page.fill(tid('search-input'), 'tt1254207');
    await page.click(tid('search-button'));
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="result-row"]').length === 3);
    assert.ok(api.calls.some((c) => c.path === '/api/search?imdbId=tt1254207'));
  });

  it('clicking a result prepares the stream and opens the player', async () => {
    await page.locator(tid('result-row')).first().locator(tid('result-play')).click();
    await page.locator(tid('player')).waitFor();
    // While POST /api/stream is still fetching metadata, status is polled and shown in words.
    await page.locator(tid('status-line')).filter({ hasText: 'Fetching torrent info from peers…' }).waitFor();
    // The server knows no peers before the metadata is in, and the UI shows what it says.
    assert.equal(await page.locator(tid('status-peers')).innerText(), 'Peers 0/0');
    await screenshot(page, 'ui-03-player-fetching');

    const video = page.locator(tid('video'));
    await page.waitForFunction(() => !!document.querySelector('[data-testid="video"]')?.getAttribute('src'));
    assert.equal(await video.getAttribute('src'), `${srv.origin}/api/stream/${HASH_MOVIE}?token=${streamToken(HASH_MOVIE)}`);
    const post = api.calls.find((c) => c.method === 'POST' && c.path === '/api/stream');
    assert.deepEqual(post?.body, { magnet: `magnet:?xt=urn:btih:${HASH_MOVIE}&dn=Big+Buck+Bunny` });

    const status = page.locator(tid('status-line'));
    await status.filter({ hasText: 'Buffered 50%' }).waitFor();
    assert.match(await status.innerText(), /Streaming/);
    assert.match(await page.locator(tid('status-peers')).innerText(), /3\/10/);
    // One peer per transport in the fixture: each is named, in order, and uTP's byte count is in its title.
    assert.equal(await page.locator(tid('status-tcp')).innerText(), 'TCP 1');
    assert.equal(await page.locator(tid('status-utp')).innerText(), 'uTP 1');
    assert.equal(await page.locator(tid('status-webrtc')).innerText(), 'WebRTC 1');
    assert.match((await page.locator(tid('status-utp')).getAttribute('title')) ?? '', /↓ 2\.1 MB/);
    assert.match(await page.locator(tid('status-speed')).innerText(), /2\.4 MB\/s/);
    assert.ok(api.calls.some((c) => c.path === `/api/stream/${HASH_MOVIE}/status?fileIndex=0`));
    assert.equal(await page.locator(tid('open-player-button')).count(), 0, 'no external player in a browser');
    await screenshot(page, 'ui-04-player-ready');
  });

  it('Esc leaves the player and keeps the results', async () => {
    await page.keyboard.press('Escape');
    await page.locator(tid('search-input')).waitFor();
    assert.equal(await page.locator(tid('player')).count(), 0);
    // Results survive the round trip.
    assert.equal(await page.locator(tid('result-row')).count(), 3);
  });

  it('a multi-file torrent offers an episode picker that re-prepares with fileIndex', async () => {
    await page.locator(tid('result-row')).nth(1).locator(tid('result-play')).click();
    const picker = page.locator(tid('file-picker'));
    await picker.waitFor();
    assert.equal(await picker.locator('option').count(), 2, 'only video files are listed');
    await picker.selectOption('1');
    await page.waitForFunction(
      (hash) => document.querySelector('[data-testid="video"]')?.getAttribute('src')?.includes(`/api/stream/${hash}/1?token=`),
      HASH_SHOW,
    );
    const posts = api.calls.filter((c) => c.method === 'POST' && c.path === '/api/stream');
    assert.deepEqual(posts.at(-1)?.body, { infoHash: HASH_SHOW, fileIndex: 1 });
    // Esc while a form control has focus belongs to that control, not the player.
    await picker.focus();
    await page.keyboard.press('Escape');
    assert.equal(await page.locator(tid('player')).count(), 1, 'Esc in the picker must not leave the player');
    await screenshot(page, 'ui-05-player-episodes');
    await page.locator(tid('player-back')).click();
    await page.locator(tid('search-input')).waitFor();
  });

  it('an error code is shown as its sentence', async () => {
    await page.fill(tid('magnet-input'), `magnet:?xt=urn:btih:${HASH_DEAD}`);
    await page.click(tid('play-button'));
    const err = page.locator(`${tid('error-message')}[data-code="METADATA_TIMEOUT"]`);
    await err.waitFor();
    assert.equal(await err.locator('.error-sentence').innerText(), METADATA_TIMEOUT_SENTENCE);
    assert.match(await page.locator(tid('status-line')).innerText(), /Could not start/);
    await screenshot(page, 'ui-06-error-metadata-timeout');
    await page.locator(tid('player-back')).click();

    // The UI does not judge what was pasted: the server does, and its refusal is shown.
    await page.fill(tid('magnet-input'), 'not a magnet');
    await page.click(tid('play-button'));
    const invalid = page.locator(`${tid('error-message')}[data-code="INVALID_REQUEST"]`);
    await invalid.waitFor();
    assert.deepEqual(api.calls.filter((c) => c.method === 'POST' && c.path === '/api/stream').at(-1)?.body, { infoHash: 'not a magnet' });
    assert.match(await invalid.locator('.error-sentence').innerText(), /Paste a full magnet link/);
    assert.equal(await page.locator(tid('player-retry')).count(), 0, 'the same request would be refused again');
    await screenshot(page, 'ui-06b-error-invalid-request');
    await page.click(tid('player-fix'));
    assert.equal(await page.locator(tid('magnet-input')).inputValue(), 'not a magnet', 'kept for correcting');

    await page.fill(tid('search-input'), 'offline');
    await page.click(tid('search-button'));
    const searchErr = page.locator(`${tid('error-message')}[data-code="SEARCH_FAILED"]`);
    await searchErr.waitFor();
    assert.match(await searchErr.innerText(), /Check your internet connection/);
    // The detail is the server's message, which names each provider once.
    assert.equal(await searchErr.locator('code').textContent(), 'SEARCH_FAILED: every search provider failed: archive: timed out');
  });

  it('the streams list shows running streams and stops them', async () => {
    await page.click(tid('nav-streams'));
    const rows = page.locator(tid('stream-row'));
    await rows.first().waitFor();
    assert.equal(await rows.count(), 2);
    await screenshot(page, 'ui-07-streams');
    await page.locator(`${tid('stream-row')}[data-infohash="${HASH_MOVIE}"] ${tid('stop-button')}`).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="stream-row"]').length === 1);
    assert.ok(api.calls.some((c) => c.method === 'DELETE' && c.path === `/api/stream/${HASH_MOVIE}`));
  });

  it('settings list, add, disable, test and remove providers', async () => {
    await page.click(tid('nav-settings'));
    await page.locator(tid('provider-row')).first().waitFor();
    await page.selectOption(tid('provider-kind'), 'torznab');
    await page.fill(tid('provider-name'), 'Jackett');
    await page.fill(tid('provider-url'), 'http://127.0.0.1:9117/api/v2.0/indexers/all/results/torznab');
    await page.fill(tid('provider-api-key'), 'secret');
    await page.click(tid('provider-add'));
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="provider-row"]').length === 2);
    assert.deepEqual(lastSave().providers[1], {
      name: 'Jackett', kind: 'torznab', url: 'http://127.0.0.1:9117/api/v2.0/indexers/all/results/torznab', apiKey: 'secret', enabled: true,
      hasApiKey: true,
    });
    assert.equal(api.apiKeys.get('Jackett'), 'secret');

    const jackett = page.locator(`${tid('provider-row')}[data-name="Jackett"]`);
    // The row knows that a key is saved, from the server's answer; the key never comes back.
    await jackett.locator(tid('provider-key-saved')).waitFor();
    assert.equal(await jackett.locator(tid('provider-key-saved')).innerText(), '· API key saved');
    assert.ok(!(await page.content()).includes('secret'), 'the key is not in the page');

    await jackett.locator(tid('provider-enabled')).uncheck();
    await page.waitForFunction(() => true);
    await jackett.locator(tid('provider-test')).click();
    await jackett.locator(tid('provider-test-result')).filter({ hasText: '12 results' }).waitFor();
    assert.equal(lastSave().providers[1].enabled, false);
    // Saved without a key: the server keeps the one it has.
    assert.equal('apiKey' in lastSave().providers[1], false);
    assert.equal(api.apiKeys.get('Jackett'), 'secret');
    await screenshot(page, 'ui-08-settings');

    // Replace the key: only Jackett's goes out.
    await jackett.locator(tid('provider-key-replace')).click();
    await jackett.locator(tid('provider-key-input')).fill('new-secret');
    await jackett.locator(tid('provider-key-save')).click();
    await jackett.locator(tid('provider-key-form')).waitFor({ state: 'detached' });
    assert.equal(lastSave().providers[1].apiKey, 'new-secret');
    assert.equal('apiKey' in lastSave().providers[0], false);
    assert.equal(api.apiKeys.get('Jackett'), 'new-secret');
    await jackett.locator(tid('provider-key-saved')).waitFor();

    // Clear it: an empty key.
    await jackett.locator(tid('provider-key-clear')).click();
    await jackett.locator(tid('provider-key-saved')).waitFor({ state: 'detached' });
    assert.equal(lastSave().providers[1].apiKey, '');
    assert.equal(api.apiKeys.has('Jackett'), false);
    assert.equal(await jackett.locator(tid('provider-key-replace')).innerText(), 'Set key');

    await jackett.locator(tid('provider-remove')).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="provider-row"]').length === 1);
  });

  it('settings show the cache size and clear it', async () => {
    await page.click(tid('nav-settings'));
    await page.locator(tid('cache-used')).filter({ hasText: 'Uses 3' }).waitFor();
    const used = await page.locator(tid('cache-used')).innerText();
    assert.equal(used, 'Uses 3.0 GB of 10.0 GB.');
    await page.click(tid('cache-clear'));
    await page.locator(tid('cache-cleared')).waitFor();
    assert.equal(await page.locator(tid('cache-cleared')).innerText(), 'Freed 3.0 GB.');
    await page.locator(tid('cache-used')).filter({ hasText: 'Uses 0 B of 10.0 GB.' }).waitFor();
    assert.ok(api.calls.some((c) => c.method === 'DELETE' && c.path === '/api/cache'));
  });

  it('ran without page errors', () => {
    // The fake 404/504 answers are expected to be logged by the browser as failed loads.
    const real = page.problems.filter((p) => !/Failed to load resource/.test(p));
    assert.deepEqual(real, []);
  });
});

// The UI's tests are only as good as the fake: these pin the answers it shares with the
// real server (crates/server/src/http.rs, crates/engine/src/status.rs).
describe('the fake API answers as the server does', () => {
  /** @type {Awaited<ReturnType<typeof startServer>>} */
  let srv;

  before(async () => {
    srv = await startServer({ root: DIST_DIR, api: createFakeApi({ prepareDelayMs: 1500 }).handler });
  });

  after(async () => {
    await srv?.close();
  });

  /**
   * @param {string} path
   * @param {RequestInit} [init]
   */
  const call = async (path, init) => {
    const res = await fetch(srv.origin + path, init);
    return { status: res.status, body: await res.json() };
  };

  it('an unknown API path is 404 NOT_FOUND, a known one with another method 405 METHOD_NOT_ALLOWED', async () => {
    for (const path of ['/api/nope', '/api/health/extra', '/api/stream/a/b/c']) {
      const { status, body } = await call(path);
      assert.equal(status, 404, path);
      assert.deepEqual(body, /** @type {ApiError} */ ({ status: 'ERROR', code: 'NOT_FOUND', message: 'no such API path' }), path);
    }
    for (const [method, path] of [['POST', '/api/health'], ['GET', '/api/stream'], ['DELETE', '/api/providers'], ['POST', `/api/stream/${HASH_MOVIE}/status`]]) {
      const { status, body } = await call(path, { method });
      assert.equal(status, 405, `${method} ${path}`);
      assert.equal(body.code, 'METHOD_NOT_ALLOWED', `${method} ${path}`);
    }
  });

  it('bad requests are 400 INVALID_REQUEST', async () => {
    /** @param {unknown} body */
    const post = (body) =>
      call('/api/stream', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    for (const body of [{}, { magnet: 'magnet:?dn=x' }, { infoHash: 'xyz' }, { infoHash: HASH_MOVIE, magnet: 'magnet:?' }, { infoHash: HASH_MOVIE, extra: 1 }]) {
      const res = await post(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.code, 'INVALID_REQUEST', JSON.stringify(body));
    }
    assert.equal((await call(`/api/stream/${HASH_MOVIE}/status?fileIndex=x`)).body.code, 'INVALID_REQUEST');
    assert.equal((await call('/api/stream/not-a-hash/status')).body.code, 'INVALID_REQUEST');
    assert.equal((await call('/api/search?title=x')).body.code, 'INVALID_REQUEST');
  });

  it('while a stream is prepared, status is StreamStatus::pending: nothing known, no peers', async () => {
    assert.equal((await call(`/api/stream/${HASH_SHOW}/status`)).status, 404);
    const prepared = call('/api/stream', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ infoHash: HASH_SHOW }),
    });
    await new Promise((r) => setTimeout(r, 300));
    const { status, body } = await call(`/api/stream/${HASH_SHOW}/status`);
    assert.equal(status, 200);
    /** @type {StreamStatus} */
    const pending = {
      infoHash: HASH_SHOW, state: 'fetching_metadata', fileIndex: null, size: 0, progress: 0, downloadedBytes: 0,
      downloadSpeed: 0, uploadSpeed: 0, peers: { connected: 0, known: 0, tcp: { connected: 0, downloadedBytes: 0, uploadedBytes: 0 }, utp: { connected: 0, downloadedBytes: 0, uploadedBytes: 0 }, webrtc: { connected: 0, downloadedBytes: 0, uploadedBytes: 0 } }, availableRanges: [],
      readAheadBytes: 0,
    };
    assert.deepEqual(body, pending);
    const ready = await prepared;
    assert.equal(ready.status, 200);
    assert.equal(ready.body.streamUrl, `${srv.origin}/api/stream/${HASH_SHOW}?token=${streamToken(HASH_SHOW)}`, 'streamUrl follows the Host the client used');
  });

  it('provider lists carry hasApiKey, never a key', async () => {
    /** @param {Provider[]} providers */
    const save = (providers) =>
      call('/api/providers', { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ providers }) });
    /** @type {Provider} */
    const jackett = { name: 'Jackett', kind: 'torznab', url: 'http://127.0.0.1:9117/api', enabled: true, hasApiKey: false };
    assert.deepEqual((await save([{ ...jackett, apiKey: 'k' }])).body, { providers: [{ ...jackett, hasApiKey: true }] });
    assert.deepEqual((await save([jackett])).body, { providers: [{ ...jackett, hasApiKey: true }] }, 'no apiKey keeps the key');
    assert.deepEqual((await call('/api/providers')).body, { providers: [{ ...jackett, hasApiKey: true }] });
    assert.deepEqual((await save([{ ...jackett, apiKey: '' }])).body, { providers: [jackett] }, '"" clears it');
  });
});
