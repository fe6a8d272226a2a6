import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultOnnxPath } from '@food/core/checkpoint/run-layout';
import { SHARED_DATA } from '@food/core/testing/shared-data';
import { gradient, makePng } from '@food/core/testing/synthetic-images';
import { createTinyCheckpoint, type TinyCheckpoint } from '@food/core/testing/tiny-checkpoint';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatLabel } from '../public/format-label.js';
import type { RunningServer } from '../src/server.ts';
import { exportOnnxBeside, hasChromium, launchChromium, startTestServer } from './helpers/browser-test.ts';

// "On this device" end to end: the trainer's export CLI (a process: the server never imports the trainer)
// writes best.onnx, the server runs it and offers it to the page, and Chromium classifies photos with
// onnxruntime-web; each photo's top-1 is compared with the server's for the same file.
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const ARTIFACTS = path.join(repoRoot, 'test-artifacts');
// FOOD10_IMAGES points a worktree (whose ../shared is not there) at the shared photos.
const FOOD10 = process.env.FOOD10_IMAGES ?? SHARED_DATA.food10Images;
const PER_CLASS = 3;

let checkpoint: TinyCheckpoint;
let server: RunningServer;
let browser: Browser;

/** The first PER_CLASS official test photos of each food10 class, else synthetic PNGs (and why). */
async function photos(): Promise<string[]> {
  const testList = path.join(FOOD10, '..', 'meta', 'test.txt');
  if (existsSync(testList)) {
    const byClass = new Map<string, string[]>();
    for (const line of readFileSync(testList, 'utf8').split('\n').filter(Boolean)) {
      const [dish] = line.split('/');
      const list = byClass.get(dish!) ?? [];
      if (list.length < PER_CLASS) list.push(path.join(FOOD10, `${line}.jpg`));
      byClass.set(dish!, list);
    }
    return [...byClass.values()].flat();
  }
  console.warn(`No food10 photos at ${FOOD10}: the on-device test classifies synthetic PNGs instead.`);
  await mkdir(ARTIFACTS, { recursive: true });
  return Promise.all(
    Array.from({ length: 12 }, async (_, seed) => {
      const file = path.join(ARTIFACTS, `on-device-${seed}.png`);
      await writeFile(file, makePng(160 + seed * 7, 120 + seed * 5, gradient(seed)));
      return file;
    }),
  );
}

async function serverPredictions(file: string): Promise<{ label: string; probability: number }[]> {
  const form = new FormData();
  form.append('image', new Blob([await readFile(file)]), path.basename(file));
  const response = await fetch(`${server.url}/api/predict?topK=5`, { method: 'POST', body: form });
  return ((await response.json()) as { predictions: { label: string; probability: number }[] }).predictions;
}

/**
 * Runs in the page: classifies the photo (base64) with public/on-device.js; probability by label. A
 * string, so that vitest's transform leaves its dynamic import alone.
 */
const DEVICE_PROBABILITIES = `async (base64) => {
  const onDevice = await import('/on-device.js');
  const model = await (await fetch('/api/model')).json();
  const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
  const { predictions } = await onDevice.classifyOnDevice(new Blob([bytes]), model, model.classes.length);
  return Object.fromEntries(predictions.map(({ label, probability }) => [label, probability]));
}`;

async function deviceProbabilities(page: Page, file: string): Promise<Record<string, number>> {
  const base64 = (await readFile(file)).toString('base64');
  return page.evaluate(`(${DEVICE_PROBABILITIES})(${JSON.stringify(base64)})`);
}

describe.skipIf(!hasChromium)('classification on the device (Chromium, onnxruntime-web)', () => {
  beforeAll(async () => {
    checkpoint = await createTinyCheckpoint({ withAssets: false });
    const exported = exportOnnxBeside(checkpoint.dir);
    expect(exported.ok, exported.stderr).toBe(true);
    server = await startTestServer({ checkpoint: checkpoint.dir, engine: 'onnx' });
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await checkpoint?.cleanup();
  });

  it('offers the model at an immutable url, with an ETag, and onnxruntime-web from this server', async () => {
    const { browserModel } = (await (await fetch(`${server.url}/api/model`)).json()) as {
      browserModel: { url: string; bytes: number; sha256: string; precision: string };
    };
    const file = defaultOnnxPath(checkpoint.dir);
    expect(browserModel).toMatchObject({ precision: 'float32', bytes: (await stat(file)).size });
    expect(browserModel.url).toBe(`/api/model/onnx/${browserModel.sha256}.onnx`);
    const response = await fetch(`${server.url}${browserModel.url}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const etag = response.headers.get('etag')!;
    expect(Buffer.from(await response.arrayBuffer()).equals(await readFile(file))).toBe(true);
    const again = await fetch(`${server.url}${browserModel.url}`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    const stale = await fetch(`${server.url}/api/model/onnx/${'0'.repeat(64)}.onnx`);
    expect(stale.status).toBe(404);
    expect(((await stale.json()) as { error: { code: string } }).error.code).toBe('BROWSER_MODEL_NOT_FOUND');
    const runtime = await fetch(`${server.url}/vendor/onnxruntime-web/ort.wasm.min.mjs`);
    expect(runtime.status).toBe(200);
    expect(runtime.headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${server.url}/vendor/onnxruntime-web/ort.node.min.js`)).status).toBe(404);
  });

  it('classifies photos on the device with the server top-1, once the switch says so', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('requestfailed', (request) =>
      problems.push(`failed: ${request.url()} ${request.failure()?.errorText}`),
    );
    page.on('request', (request) => {
      if (!request.url().startsWith(server.url) && !/^(blob|data):/.test(request.url())) {
        problems.push(`request to another origin: ${request.url()}`);
      }
    });
    await page.goto(server.url);
    await expect.poll(() => page.locator('#where').isVisible(), { timeout: 30_000 }).toBe(true);
    // The server stays the default.
    expect(await page.locator('input[name="where"][value="server"]').isChecked()).toBe(true);
    await page.getByLabel('on this device').check();
    // Cross-origin isolated (COOP + COEP): onnxruntime-web may use threads.
    expect(await page.evaluate('crossOriginIsolated')).toBe(true);

    const files = await photos();
    let agreeing = 0;
    const milliseconds: number[] = [];
    let largestGap = 0;
    // How far the server's probabilities move from photo to photo: the scale a preprocessing error shows on.
    let spread = 0;
    let first: Record<string, number> | undefined;
    const serverTops = new Set<string>();
    for (const file of files) {
      await page.locator('#latency').evaluate((element) => {
        element.textContent = '';
      });
      await page.setInputFiles('#file-input', file);
      await expect
        .poll(() => page.locator('#latency').textContent(), { timeout: 60_000 })
        .toMatch(/^\d+ ms on this device/);
      const deviceTop = await page.locator('.prediction-label').first().textContent();
      milliseconds.push(Number((await page.locator('#latency').textContent())!.split(' ')[0]));
      const server = await serverPredictions(file);
      serverTops.add(server[0]!.label);
      agreeing += Number(deviceTop === formatLabel(server[0]!.label));
      // The same photo through the page's module, for the probabilities the bars round.
      const device = await deviceProbabilities(page, file);
      first ??= Object.fromEntries(server.map(({ label, probability }) => [label, probability]));
      for (const { label, probability } of server) {
        largestGap = Math.max(largestGap, Math.abs(probability - device[label]!));
        if (first[label] !== undefined) spread = Math.max(spread, Math.abs(probability - first[label]));
      }
    }
    console.info(
      `on-device top-1 = server top-1 on ${agreeing}/${files.length} photos (${serverTops.size} distinct server top-1 classes); largest probability gap device vs server ${largestGap.toFixed(4)}, photo-to-photo spread ${spread.toFixed(4)}; median ${milliseconds.sort((a, b) => a - b)[milliseconds.length >> 1]} ms per photo on the device (tiny model)`,
    );
    expect(agreeing / files.length).toBeGreaterThanOrEqual(0.99);
    // The untrained tiny model gives most photos the same top-1, so the probabilities carry the check:
    // the device's stay within a fifth of how far two photos' differ (measured: 0.0006 against 0.0084
    // on 30 food10 photos; the rest is the browser's resampling against libvips').
    expect(spread).toBeGreaterThan(0);
    expect(largestGap).toBeLessThan(spread / 5);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'ui-on-device.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  }, 300_000);

  it('classifies on the device with the server unreachable, once the page and model were used', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(server.url);
    // Controlled by the service worker, then reloaded so the page's own files pass through it.
    await expect
      .poll(() => page.evaluate('Boolean(navigator.serviceWorker.controller)'), { timeout: 30_000 })
      .toBe(true);
    await page.reload();
    const [photo] = await photos();
    const classifyOnDevice = async () => {
      await expect.poll(() => page.locator('#where').isVisible(), { timeout: 30_000 }).toBe(true);
      await page.getByLabel('on this device').check();
      await page.setInputFiles('#file-input', photo!);
      await expect
        .poll(() => page.locator('#latency').textContent(), { timeout: 60_000 })
        .toMatch(/^\d+ ms on this device/);
      return page.locator('.prediction-label').allTextContents();
    };
    const online = await classifyOnDevice();
    await context.setOffline(true);
    await page.reload();
    expect(await classifyOnDevice()).toEqual(online);
    // The server path says the server cannot be reached.
    await page.getByLabel('on the server').check();
    await page.setInputFiles('#file-input', photo!);
    await expect
      .poll(() => page.getByRole('alert').textContent(), { timeout: 30_000 })
      .toMatch(/Cannot reach the server/);
    await context.close();
  }, 300_000);
});
