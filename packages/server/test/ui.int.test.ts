import { existsSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHARED_DATA } from '@food/core/testing/shared-data';
import { gradient, makeBlankPng, makePng } from '@food/core/testing/synthetic-images';
import { createTinyCheckpoint, TINY_CLASSES, type TinyCheckpoint } from '@food/core/testing/tiny-checkpoint';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server.ts';
import { CHROMIUM, hasChromium, launchChromium, startTestServer } from './helpers/browser-test.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const ARTIFACTS = path.join(repoRoot, 'test-artifacts');
const FOOD10 = SHARED_DATA.food10Images;

if (!hasChromium) {
  console.warn(`Skipping the browser test: no Chromium at ${CHROMIUM} (apt-get install -y chromium).`);
}

let checkpoint: TinyCheckpoint;
let server: RunningServer;
let browser: Browser;

/** A real food photo when the shared data is there (nicer screenshot), else a synthetic PNG. */
async function samplePhoto(): Promise<string> {
  if (existsSync(FOOD10)) {
    const dish = path.join(FOOD10, readdirSync(FOOD10).sort()[0]);
    const file = readdirSync(dish).find((name) => name.endsWith('.jpg'));
    if (file) return path.join(dish, file);
  }
  const file = path.join(ARTIFACTS, 'sample.png');
  await writeFile(file, makePng(320, 240, gradient(2)));
  return file;
}

describe.skipIf(!hasChromium)('web UI in Chromium', () => {
  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    checkpoint = await createTinyCheckpoint();
    server = await startTestServer({ checkpoint: checkpoint.dir, workers: 1 });
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await checkpoint?.cleanup();
  });

  /** Opens the page and records console errors and any request to another origin. */
  async function openPage(
    viewport: { width: number; height: number },
    colorScheme: 'light' | 'dark' = 'light',
  ): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage({ viewport, colorScheme });
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('request', (request) => {
      const url = request.url();
      if (!url.startsWith(server.url) && !url.startsWith('blob:') && !url.startsWith('data:')) {
        problems.push(`request to another origin: ${url}`);
      }
    });
    await page.goto(server.url);
    await expect
      .poll(() => page.locator('#status-text').textContent(), { timeout: 30_000 })
      .toBe('Model ready');
    return { page, problems };
  }

  it('classifies an uploaded photo and shows five labelled probability bars', async () => {
    const { page, problems } = await openPage({ width: 1280, height: 900 });
    await expect.poll(() => page.locator('#class-list li').count()).toBe(TINY_CLASSES.length);
    await expect.poll(() => page.locator('#figures img').count()).toBe(1);

    await page.setInputFiles('#file-input', await samplePhoto());
    const rows = page.locator('#predictions .prediction');
    await expect.poll(() => rows.count(), { timeout: 30_000 }).toBe(5);

    const labels = await page.locator('.prediction-label').allTextContents();
    const readable = ['Apple pie', 'Chicken wings', 'French fries', 'Ramen', 'Sushi'];
    expect([...labels].sort()).toEqual(readable);
    const percents = await page.locator('.prediction-value').allTextContents();
    for (const text of percents) expect(text).toMatch(/^\d{1,3}\.\d%$/);
    // Bars are drawn (animated from 0): wait until the first has its final width.
    await expect
      .poll(() =>
        page
          .locator('.prediction-bar > span')
          .first()
          .evaluate((bar) => bar.getBoundingClientRect().width),
      )
      .toBeGreaterThan(10);
    expect(await page.locator('#latency').textContent()).toMatch(
      /^\d+ ms on the server · model tiny-run\/best$/,
    );
    expect(await page.locator('#results').getAttribute('aria-live')).toBe('polite');
    expect(await page.locator('#error').isHidden()).toBe(true);
    await page.waitForTimeout(600); // let the bar transition finish before the screenshot
    await page.screenshot({ path: path.join(ARTIFACTS, 'ui.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  }, 120_000);

  it('shows the server’s message for a file that is not an image, in an alert', async () => {
    const { page } = await openPage({ width: 390, height: 844 }, 'dark');
    await page.setInputFiles('#file-input', {
      name: 'notes.png',
      mimeType: 'image/png',
      buffer: Buffer.from('not really a png'),
    });
    const alert = page.getByRole('alert');
    await expect
      .poll(() => alert.textContent(), { timeout: 30_000 })
      .toMatch(/Re-export the photo as JPEG or PNG/);
    // The broken preview falls back to the empty drop area.
    await expect.poll(() => page.locator('.preview').isHidden()).toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS, 'ui-mobile-dark-error.png'), fullPage: true });
    await page.close();
  }, 120_000);

  it('clears the previous result when the next upload fails', async () => {
    const { page, problems } = await openPage({ width: 1280, height: 900 });
    await page.setInputFiles('#file-input', await samplePhoto());
    await expect.poll(() => page.locator('#predictions .prediction').count(), { timeout: 30_000 }).toBe(5);

    await page.setInputFiles('#file-input', {
      name: 'strip.png',
      mimeType: 'image/png',
      buffer: makeBlankPng(10_000, 3),
    });
    const alert = page.getByRole('alert');
    await expect
      .poll(() => alert.textContent(), { timeout: 30_000 })
      .toMatch(/Crop it closer to the subject/);
    expect(await page.locator('#predictions').isHidden()).toBe(true);
    expect(await page.locator('#predictions .prediction').count()).toBe(0);
    expect(await page.locator('#latency').isHidden()).toBe(true);
    expect(await page.locator('#placeholder').isVisible()).toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS, 'ui-failed-upload.png'), fullPage: true });
    // The failed upload is answered 422; Chromium reports every non-2xx fetch on the console.
    expect(problems.filter((problem) => !problem.includes('422'))).toEqual([]);
    await page.close();
  }, 120_000);

  it('is reachable by keyboard: the picker input takes focus and has a label', async () => {
    const { page } = await openPage({ width: 1280, height: 900 });
    await page.keyboard.press('Tab'); // skip link
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement?.id);
    expect(focused).toBe('file-input');
    expect(await page.getByLabel('Choose a photo').count()).toBe(1);
    await page.close();
  }, 60_000);
});
