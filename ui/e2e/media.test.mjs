// @ts-check
// End-to-end: real releases' codecs in Debian's chromium, against the REAL headless server
// and a REAL local swarm (no internet). ffmpeg makes the media here:
//   - an MKV with H.264, AC-3 5.1 + AAC audio, an embedded subtitle, and a .srt beside it
//     (chromium plays no AC-3: the player remuxes it through HLS);
//   - an MKV with HEVC and AAC (no HEVC in chromium: transcoded to H.264);
//   - an MP4 with H.264/AAC, which plays as it is from the stream URL.
// Each is opened through the deep link `#/play?magnet=…` and must play with picture and
// decoded sound, show its true duration, seek to the middle and play on; the MKV's subtitle
// tracks must have cues. Run: npm run e2e:media (builds the UI and the binaries first).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DIST_DIR, launchBrowser, newPage, screenshot } from './browser.mjs';
import { startCinemaServer, startSeeder, stopChild } from './swarm.mjs';

const SRT = '1\n00:00:01,000 --> 00:00:06,000\nHello from the side file\n\n2\n00:00:12,000 --> 00:00:15,000\nLater\n';
const EMBEDDED = '1\n00:00:00,500 --> 00:00:05,000\nEmbedded hello\n\n2\n00:00:10,000 --> 00:00:13,000\nEmbedded later\n';

/** @param {string[]} args */
function ffmpeg(args) {
  const r = spawnSync('/usr/bin/ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg ${args.join(' ')}: ${r.stderr}`);
}

/** @param {string} dir */
async function makeMedia(dir) {
  const release = join(dir, 'Release');
  await mkdir(release, { recursive: true });
  await writeFile(join(dir, 'embedded.srt'), EMBEDDED);
  await writeFile(join(release, 'Movie.en.srt'), SRT);
  const src = (/** @type {number} */ d) => ['-f', 'lavfi', '-i', `testsrc2=s=320x180:r=24:d=${d}`, '-f', 'lavfi', '-i', `sine=f=440:d=${d}:r=48000`];
  ffmpeg([
    ...src(24), '-i', join(dir, 'embedded.srt'),
    '-filter_complex', '[1:a]asplit=2[s][t];[s]pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0[six]',
    '-map', '0:v', '-map', '[six]', '-map', '[t]', '-map', '2:s',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '48', '-pix_fmt', 'yuv420p',
    '-c:a:0', 'ac3', '-c:a:1', 'aac', '-c:s', 'srt',
    '-metadata:s:a:0', 'language=eng', '-metadata:s:a:1', 'language=fre', '-metadata:s:s:0', 'language=fre',
    join(release, 'Movie.mkv'),
  ]);
  ffmpeg([...src(18), '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error:keyint=48', '-pix_fmt', 'yuv420p', '-c:a', 'aac', join(dir, 'Hevc Film.mkv')]);
  ffmpeg([...src(12), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-movflags', '+faststart', join(dir, 'Clip.mp4')]);
  return { release, hevc: join(dir, 'Hevc Film.mkv'), mp4: join(dir, 'Clip.mp4') };
}

describe('real codecs play in chromium (direct, remuxed, transcoded)', () => {
  /** @type {string} */
  let tmp;
  /** @type {Awaited<ReturnType<typeof startCinemaServer>>} */
  let server;
  /** @type {Awaited<ReturnType<typeof startSeeder>>[]} */
  const seeders = [];
  /** @type {import('playwright-core').Browser} */
  let browser;
  /** @type {Awaited<ReturnType<typeof makeMedia>>} */
  let media;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'cinemahalal-media-e2e-'));
    media = await makeMedia(tmp);
    server = await startCinemaServer({ dataDir: join(tmp, 'data'), uiDir: DIST_DIR, searchConfig: join(tmp, 'search.toml'), env: { CINEMAHALAL_ARCHIVE: 'off', XDG_CONFIG_HOME: join(tmp, 'config') } });
    browser = await launchBrowser();
  }, { timeout: 120_000 });

  after(async () => {
    await browser?.close().catch(() => {});
    await Promise.all([stopChild(server?.child), ...seeders.map((s) => stopChild(s.child, { viaStdin: true }))]);
    if (tmp && !process.env.KEEP_E2E_TMP) await rm(tmp, { recursive: true, force: true });
  }, { timeout: 30_000 });

  /**
   * Opens `path` through the deep link and checks it plays, seeks and plays on.
   * @param {string} path
   * @param {{ name: string, mode: 'direct' | 'remux' | 'transcode', duration: number }} want
   */
  async function playsThrough(path, want) {
    const seeder = await startSeeder(path);
    seeders.push(seeder);
    const page = await newPage(browser);
    page.setDefaultTimeout(45_000);
    try {
      await page.goto(`${server.origin}/#/play?magnet=${encodeURIComponent(seeder.magnet)}`);
      await page.waitForSelector(`[data-testid="media-tools"][data-mode="${want.mode}"]`);
      const video = () =>
        page.evaluate(() => {
          const v = /** @type {HTMLVideoElement & { webkitAudioDecodedByteCount: number, webkitVideoDecodedByteCount: number }} */ (document.querySelector('video[data-testid="video"]'));
          return { t: v.currentTime, d: v.duration, paused: v.paused, src: v.currentSrc, audio: v.webkitAudioDecodedByteCount, picture: v.webkitVideoDecodedByteCount, w: v.videoWidth, error: v.error?.code ?? null };
        });
      await page.waitForFunction(() => {
        const v = /** @type {HTMLVideoElement} */ (document.querySelector('video[data-testid="video"]'));
        return v.currentTime > 1.5 && !v.paused;
      });
      const first = await video();
      assert.equal(first.error, null);
      assert.ok(first.w > 0 && first.picture > 0, `${want.name}: no picture ${JSON.stringify(first)}`);
      assert.ok(Math.abs(first.d - want.duration) < 0.6, `${want.name}: duration ${first.d}, want ${want.duration}`);
      await page.waitForFunction((a) => /** @type {any} */ (document.querySelector('video[data-testid="video"]')).webkitAudioDecodedByteCount > a, first.audio);

      // Seek to the middle: it plays on from there.
      const mid = want.duration / 2;
      await page.evaluate((m) => {
        /** @type {HTMLVideoElement} */ (document.querySelector('video[data-testid="video"]')).currentTime = m;
      }, mid);
      await page.waitForFunction((m) => {
        const v = /** @type {HTMLVideoElement} */ (document.querySelector('video[data-testid="video"]'));
        return v.currentTime > m + 1.5 && !v.paused && !v.seeking;
      }, mid);
      const after = await video();
      assert.ok(after.audio > first.audio, `${want.name}: no sound decoded after the seek`);
      assert.ok(after.t < mid + 8, `${want.name}: jumped to ${after.t}`);
      return { page, seeder, state: after };
    } catch (err) {
      await screenshot(page, `media-${want.name}`).catch(() => {});
      await page.close();
      throw err;
    }
  }

  it('an MKV with AC-3 is remuxed; its subtitle tracks have cues', { timeout: 150_000 }, async () => {
    const { page } = await playsThrough(media.release, { name: 'ac3', mode: 'remux', duration: 24 });
    const options = await page.$$eval('[data-testid="media-subtitles"] option', (os) => os.map((o) => /** @type {HTMLOptionElement} */ (o).value));
    assert.deepEqual(options.filter((o) => o !== 'off').map((o) => o.replace(/\d+$/, 'N')), ['embedded-N', 'file-N']);
    for (const id of options.filter((o) => o !== 'off')) {
      await page.selectOption('[data-testid="media-subtitles"]', id);
      const cues = await page.waitForFunction(() => {
        const tracks = Array.from(/** @type {HTMLVideoElement} */ (document.querySelector('video[data-testid="video"]')).textTracks);
        const showing = tracks.find((t) => t.mode === 'showing');
        return showing?.cues && showing.cues.length > 0 ? Array.from(showing.cues).map((c) => /** @type {VTTCue} */ (c).text) : false;
      });
      const texts = /** @type {string[]} */ (await cues.jsonValue());
      assert.ok(texts.some((t) => /hello/i.test(t)), `${id}: ${texts}`);
    }
    // The language chosen last (the .srt beside the video: "en") is remembered.
    assert.equal(await page.evaluate(() => localStorage.getItem('cinemahalal.subtitleLanguage')), 'en');

    // A .srt dropped on the player becomes a track of its own, shown at once.
    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['1\n00:00:00,000 --> 00:00:30,000\nDropped line\n'], 'Mine.srt'));
      const stage = /** @type {HTMLElement} */ (document.querySelector('video[data-testid="video"]')?.parentElement);
      stage.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await page.waitForFunction(() => {
      const tracks = Array.from(/** @type {HTMLVideoElement} */ (document.querySelector('video[data-testid="video"]')).textTracks);
      const showing = tracks.find((t) => t.mode === 'showing');
      return !!showing?.cues && Array.from(showing.cues).some((c) => /** @type {VTTCue} */ (c).text === 'Dropped line');
    });

    // The second audio track: the remux follows it, and sound goes on being decoded.
    const audioBefore = await page.evaluate(() => /** @type {any} */ (document.querySelector('video[data-testid="video"]')).webkitAudioDecodedByteCount);
    await page.selectOption('[data-testid="media-audio"]', '1');
    await page.waitForSelector('[data-testid="media-tools"][data-mode="remux"]');
    await page.waitForFunction(() => {
      const v = /** @type {any} */ (document.querySelector('video[data-testid="video"]'));
      return v.currentTime > 1 && !v.paused && v.currentSrc.startsWith('blob:');
    });
    await page.waitForFunction((a) => /** @type {any} */ (document.querySelector('video[data-testid="video"]')).webkitAudioDecodedByteCount > a + 10_000, audioBefore);
    await page.close();
  });

  it('an HEVC MKV is transcoded to H.264', { timeout: 150_000 }, async () => {
    const { page } = await playsThrough(media.hevc, { name: 'hevc', mode: 'transcode', duration: 18 });
    await page.close();
  });

  it('an MP4 plays as it is, from the stream URL', { timeout: 150_000 }, async () => {
    const { page, seeder, state } = await playsThrough(media.mp4, { name: 'mp4', mode: 'direct', duration: 12 });
    const res = await fetch(`${server.origin}/api/streams`);
    const { streams } = /** @type {{ streams: import('../src/lib/contract').StreamReady[] }} */ (await res.json());
    const stream = streams.find((s) => s.infoHash === seeder.infoHash);
    assert.ok(stream);
    assert.equal(state.src, stream.streamUrl);

    // Forced from the original to the remux (the path a media error takes): the player
    // switches to HLS and plays on from where it was.
    const at = state.t;
    await page.selectOption('[data-testid="media-mode"]', 'remux');
    await page.waitForSelector('[data-testid="media-tools"][data-mode="remux"]');
    await page.waitForFunction((a) => {
      const v = /** @type {HTMLVideoElement} */ (document.querySelector('video[data-testid="video"]'));
      return v.currentSrc.startsWith('blob:') && !v.paused && v.readyState >= 2 && v.currentTime > a + 1;
    }, at - 1);
    await page.close();
  });
});
