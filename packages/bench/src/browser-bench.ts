/**
 * `pnpm bench:browser --checkpoint DIR [options]` (see USAGE): the figures of "classify on this device".
 * Starts `pnpm serve` as a user runs it, opens its web UI in headless Chromium and measures the first
 * load of the model (bytes, time), the same load from the HTTP cache, ms per photo on the device, and
 * whether the device's top-1 is the server's on food10 test photos. The page's own module
 * (public/on-device.js) does the work, as when the switch says "on this device".
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parsePositiveInteger } from '@food/core/parse-number';
import { type BrowserContext, chromium, type Page, type Request } from 'playwright-core';
import {
  type BrowserFigures,
  browserMarkdown,
  type LoadFigures,
  type PhotoResult,
  summarisePhotos,
} from './browser-figures.ts';
import { type LabelledPhoto, readTestPhotos } from './browser-photos.ts';
import { writeSection } from './docs-section.ts';
import { startServe } from './start-serve.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

interface Options {
  checkpoint: string;
  prepared: string;
  photos: number;
  chromium: string;
  writeDocs: boolean;
  docs: string;
}

const USAGE = `Usage: pnpm bench:browser --checkpoint DIR [options]

Serves DIR with \`pnpm serve\`, classifies food10 test photos in headless Chromium with the web UI's
on-device path (onnxruntime-web) and on the server, and prints: bytes and time of the first model load,
ms per photo on the device, top-1 agreement device vs server.

Options:
  --checkpoint <dir>   checkpoint to serve; it needs its ONNX export (pnpm trainer export)
  --prepared <dir>     prepared data set whose test split is classified (default data/prepared/food10)
  --photos <n>         test photos, classes in turn (default 200)
  --chromium <file>    Chromium executable (default /usr/bin/chromium)
  --write-docs         also write the figures into docs/benchmarks.md (section browser-bench)
  --docs <file>        the page --write-docs writes (default docs/benchmarks.md)
  --help               this text`;

/** Exported for tests: the flags (without `node script`) → options; throws on a bad value. */
export function parseFlags(args: string[]): { help: boolean; options?: Options } {
  const { values } = parseArgs({
    args,
    options: {
      help: { type: 'boolean', default: false },
      checkpoint: { type: 'string' },
      prepared: { type: 'string', default: 'data/prepared/food10' },
      photos: { type: 'string', default: '200' },
      chromium: { type: 'string', default: '/usr/bin/chromium' },
      'write-docs': { type: 'boolean', default: false },
      docs: { type: 'string', default: 'docs/benchmarks.md' },
    },
  });
  if (values.help) return { help: true };
  if (!values.checkpoint) throw new Error('--checkpoint DIR is required (a checkpoint with its ONNX export)');
  let photos: number;
  try {
    photos = parsePositiveInteger(values.photos ?? '');
  } catch (error) {
    throw new Error(`--photos: ${(error as Error).message}`);
  }
  return {
    help: false,
    options: {
      checkpoint: values.checkpoint,
      prepared: values.prepared ?? 'data/prepared/food10',
      photos,
      chromium: values.chromium ?? '/usr/bin/chromium',
      writeDocs: values['write-docs'] ?? false,
      docs: values.docs ?? 'docs/benchmarks.md',
    },
  };
}

/**
 * Chromium with a fresh profile on disk, as a user's browser: an incognito context keeps its HTTP cache
 * in memory, where onnxruntime-web's 14 MB wasm did not stay (it was downloaded again on every load).
 */
async function launch(
  executablePath: string,
): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const profile = await mkdtemp(path.join(tmpdir(), 'food-bench-browser-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Opens the UI and loads the device model as the switch does (public/on-device.js); bytes are what
 * Chromium received for the model and for onnxruntime-web, time is measured in the page.
 */
async function measureLoad(page: Page, url: string): Promise<LoadFigures & { threads: number }> {
  const bytes = { model: 0, runtime: 0 };
  const finished: Promise<void>[] = [];
  // On the context, not the page: the UI's service worker (public/sw.js) makes some of these requests.
  const context = page.context();
  const onFinished = (request: Request) => {
    const { pathname } = new URL(request.url());
    const kind = pathname.startsWith('/api/model/onnx/')
      ? 'model'
      : pathname.startsWith('/vendor/onnxruntime-web/')
        ? 'runtime'
        : undefined;
    if (!kind) return;
    finished.push(
      (async () => {
        // A response the service worker answered was counted where the worker fetched it (or came
        // from its cache): only what crossed the network counts.
        if ((await request.response())?.fromServiceWorker()) return;
        const sizes = await request.sizes();
        bytes[kind] += Math.max(0, sizes.responseBodySize) + sizes.responseHeadersSize;
      })(),
    );
  };
  context.on('requestfinished', onFinished);
  await page.goto(url);
  const loaded = (await page.evaluate(`(async () => {
    const onDevice = await import('/on-device.js');
    const model = await (await fetch('/api/model')).json();
    if (!model.browserModel) return { missing: true };
    const started = performance.now();
    await onDevice.loadDeviceModel(model.browserModel);
    const threads = globalThis.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency) : 1;
    return { ms: performance.now() - started, threads };
  })()`)) as { missing?: true; ms: number; threads: number };
  if (loaded.missing)
    throw new Error(
      'the server offers no model to the device (GET /api/model has no browserModel): export the ' +
        'checkpoint first, `pnpm trainer export --checkpoint DIR`',
    );
  context.off('requestfinished', onFinished);
  await Promise.all(finished);
  return { modelBytes: bytes.model, runtimeBytes: bytes.runtime, ms: loaded.ms, threads: loaded.threads };
}

/** Runs in the page: the photo (base64) through classifyOnDevice; its top-1 and time. */
const CLASSIFY = `async (base64) => {
  const onDevice = await import('/on-device.js');
  globalThis.benchModel ??= await (await fetch('/api/model')).json();
  const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
  const { predictions, latencyMs } = await onDevice.classifyOnDevice(new Blob([bytes]), globalThis.benchModel, 1);
  return { label: predictions[0].label, ms: latencyMs };
}`;

async function serverTop1(url: string, bytes: Buffer, name: string): Promise<string> {
  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(bytes)]), name);
  const response = await fetch(`${url}/api/predict?topK=1`, { method: 'POST', body: form });
  const body = (await response.json()) as { predictions?: { label: string }[]; error?: { message: string } };
  if (!response.ok || !body.predictions)
    throw new Error(`the server refused ${name}: ${response.status} ${body.error?.message ?? ''}`);
  return body.predictions[0]!.label;
}

async function classifyAll(page: Page, url: string, photos: LabelledPhoto[]): Promise<PhotoResult[]> {
  const results: PhotoResult[] = [];
  for (const [index, photo] of photos.entries()) {
    const bytes = await readFile(photo.file);
    const device = (await page.evaluate(`(${CLASSIFY})(${JSON.stringify(bytes.toString('base64'))})`)) as {
      label: string;
      ms: number;
    };
    const server = await serverTop1(url, bytes, path.basename(photo.file));
    results.push({ label: photo.label, device: device.label, server, deviceMs: device.ms });
    if ((index + 1) % 50 === 0 || index + 1 === photos.length) {
      const agreeing = results.filter((result) => result.device === result.server).length;
      console.log(`${index + 1}/${photos.length} photos: device top-1 = server top-1 on ${agreeing}`);
    }
  }
  return results;
}

async function measure(
  options: Options,
  photos: LabelledPhoto[],
  url: string,
  context: BrowserContext,
): Promise<BrowserFigures> {
  const model = (await (await fetch(`${url}/api/model`)).json()) as {
    browserModel?: { precision: string; bytes: number };
  };
  const page = await context.newPage();
  const firstLoad = await measureLoad(page, url);
  console.log(
    `first load: model ${firstLoad.modelBytes} B, runtime ${firstLoad.runtimeBytes} B, ${firstLoad.ms.toFixed(0)} ms`,
  );
  const results = await classifyAll(page, url, photos);
  await page.close();
  // A new page of the same profile: onnxruntime-web and the model come from the caches.
  const again = await context.newPage();
  const { threads: _, ...cachedLoad } = await measureLoad(again, url);
  console.log(
    `cached load: ${cachedLoad.modelBytes + cachedLoad.runtimeBytes} B, ${cachedLoad.ms.toFixed(0)} ms`,
  );
  await again.close();
  const { threads, ...first } = firstLoad;
  return {
    checkpoint: options.checkpoint,
    precision: model.browserModel?.precision ?? 'unknown',
    modelFileBytes: model.browserModel?.bytes ?? 0,
    browser: `Chromium ${context.browser()?.version() ?? ''}`.trim(),
    threads,
    firstLoad: first,
    cachedLoad,
    ...summarisePhotos(results),
    loadAverage: [],
  };
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench:browser: ${(error as Error).message}\n\n${USAGE}\n`);
    process.exit(1);
  }
  if (parsed.help || !parsed.options) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const options = parsed.options;
  const loadAverage = loadavg();
  // Before the server and the browser start, so a wrong --prepared fails at once.
  const photos = await readTestPhotos(options.prepared, options.photos);
  const served = await startServe(path.resolve(options.checkpoint));
  let browser: Awaited<ReturnType<typeof launch>> | undefined;
  try {
    browser = await launch(options.chromium);
    const figures = { ...(await measure(options, photos, served.url, browser.context)), loadAverage };
    const markdown = browserMarkdown(
      figures,
      `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    );
    console.log(`\n${markdown}\n`);
    console.log(JSON.stringify(figures, null, 2));
    if (options.writeDocs) {
      await writeSection(path.resolve(repoRoot, options.docs), 'browser-bench', markdown);
      console.log(`wrote the figures into ${options.docs} (section browser-bench)`);
    }
  } finally {
    await browser?.close();
    await served.stop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await main().catch((error: Error) => {
    process.stderr.write(`bench:browser: ${error.message}\n`);
    process.exit(1);
  });
}
