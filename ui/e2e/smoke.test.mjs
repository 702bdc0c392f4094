// Browser smoke test: ui/dist served with a fake /api, driven in headless chromium.
// Run: npm run e2e (builds first). Screenshots land in ../tests/artifacts/.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DIST_DIR, launchBrowser, newPage, screenshot } from './browser.mjs';
import { HASH_DEAD, HASH_MOVIE, HASH_SHOW, createFakeApi } from './fake-api.mjs';
import { startServer } from './server.mjs';

const METADATA_TIMEOUT_SENTENCE =
  'No one is sharing this torrent right now, so its details could not be fetched. Try another result or try again later.';

const tid = (id) => `[data-testid="${id}"]`;

describe('CinemaHalal UI against a fake API', () => {
  let srv;
  let browser;
  let page;
  let api;

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
    await screenshot(page, 'ui-03-player-fetching');

    const video = page.locator(tid('video'));
    await page.waitForFunction(() => !!document.querySelector('[data-testid="video"]')?.getAttribute('src'));
    assert.equal(await video.getAttribute('src'), `${srv.origin}/api/stream/${HASH_MOVIE}`);
    const post = api.calls.find((c) => c.method === 'POST' && c.path === '/api/stream');
    assert.deepEqual(post.body, { magnet: `magnet:?xt=urn:btih:${HASH_MOVIE}&dn=Big+Buck+Bunny` });

    const status = page.locator(tid('status-line'));
    await status.filter({ hasText: 'Buffered 50%' }).waitFor();
    assert.match(await status.innerText(), /Streaming/);
    assert.match(await page.locator(tid('status-peers')).innerText(), /3\/10/);
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
      (hash) => document.querySelector('[data-testid="video"]')?.getAttribute('src')?.endsWith(`/api/stream/${hash}/1`),
      HASH_SHOW,
    );
    const posts = api.calls.filter((c) => c.method === 'POST' && c.path === '/api/stream');
    assert.deepEqual(posts.at(-1).body, { infoHash: HASH_SHOW, fileIndex: 1 });
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

    await page.fill(tid('magnet-input'), 'not a magnet');
    await page.click(tid('play-button'));
    await page.locator(`${tid('error-message')}[data-code="INVALID_REQUEST"]`).waitFor();

    await page.fill(tid('search-input'), 'offline');
    await page.click(tid('search-button'));
    const searchErr = page.locator(`${tid('error-message')}[data-code="SEARCH_FAILED"]`);
    await searchErr.waitFor();
    assert.match(await searchErr.innerText(), /Check your internet connection/);
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
    let put = api.calls.filter((c) => c.method === 'PUT').at(-1);
    assert.deepEqual(put.body.providers[1], {
      name: 'Jackett', kind: 'torznab', url: 'http://127.0.0.1:9117/api/v2.0/indexers/all/results/torznab', apiKey: 'secret', enabled: true,
    });

    const jackett = page.locator(`${tid('provider-row')}[data-name="Jackett"]`);
    await jackett.locator(tid('provider-enabled')).uncheck();
    await page.waitForFunction(() => true);
    await jackett.locator(tid('provider-test')).click();
    await jackett.locator(tid('provider-test-result')).filter({ hasText: '12 results' }).waitFor();
    put = api.calls.filter((c) => c.method === 'PUT').at(-1);
    assert.equal(put.body.providers[1].enabled, false);
    await screenshot(page, 'ui-08-settings');

    await jackett.locator(tid('provider-remove')).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="provider-row"]').length === 1);
  });

  it('ran without page errors', () => {
    // The fake 404/504 answers are expected to be logged by the browser as failed loads.
    const real = page.problems.filter((p) => !/Failed to load resource/.test(p));
    assert.deepEqual(real, []);
  });
});
