// Launches Debian's chromium through playwright-core (no browser download) and saves
// screenshots to ../tests/artifacts/ (override with CINEMAHALAL_ARTIFACTS).

import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const UI_DIR = resolve(here, '..');
export const DIST_DIR = join(UI_DIR, 'dist');
export const ARTIFACTS_DIR = resolve(process.env.CINEMAHALAL_ARTIFACTS ?? join(UI_DIR, '..', 'tests', 'artifacts'));

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Let <video> start without a user gesture in headless runs.
  '--autoplay-policy=no-user-gesture-required',
];

/**
 * Headless chromium; close it with `await browser.close()`.
 * @param {import('playwright-core').LaunchOptions} [opts]
 */
export function launchBrowser(opts = {}) {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: process.env.HEADFUL ? false : true,
    args: CHROMIUM_ARGS,
    ...opts,
  });
}

/** @typedef {import('playwright-core').Page & { problems: string[] }} CheckedPage */

/**
 * A page whose console errors and uncaught exceptions are collected in `page.problems`,
 * so a test can assert the app ran cleanly.
 * @param {import('playwright-core').Browser} browser
 * @param {{ viewport?: { width: number, height: number } }} [options]
 * @returns {Promise<CheckedPage>}
 */
export async function newPage(browser, { viewport = { width: 1280, height: 800 } } = {}) {
  const context = await browser.newContext({ viewport, colorScheme: 'dark' });
  const page = await context.newPage();
  /** @type {string[]} */
  const problems = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
  });
  return Object.assign(page, { problems });
}

/**
 * Full-page PNG at ARTIFACTS_DIR/<name>.png; returns its path.
 * @param {import('playwright-core').Page} page
 * @param {string} name
 */
export async function screenshot(page, name) {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name.replace(/[^\w.-]+/g, '_')}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
