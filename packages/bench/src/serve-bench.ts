/**
 * `pnpm bench:serve [options]` (see USAGE): load-tests the API as a user runs it (`pnpm serve` in its
 * own process, autocannon on 127.0.0.1).
 *
 * 1. Saturation: 1, 2, 4, ... connections for S seconds each until requests/s stop growing (< 5 %).
 * 2. Overload: 2× the saturating connections for N requests: every answer must be 200 or 503 with
 *    Retry-After; p99 latency of the accepted ones must stay within the queue's worth of batches;
 *    the server's RSS and each worker's numTensors must not grow.
 * 3. The reference (--reference): a Flask + PyTorch server like the reference project's
 *    (./flask_reference.py), measured right after ours with the same requests and the same saturation
 *    procedure (no overload phase: that checks our 503s), and the ratio ours/reference.
 * Without --checkpoint it serves a tiny ResNet (width 1/16, 32 px) written to a temporary folder; the
 * reference then serves the same tiny shape, so the ratio compares servers, not networks.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BACKEND_CHOICES_HELP } from '@food/core/backend';
import { readCheckpointMetadata } from '@food/core/checkpoint/load-checkpoint';
import { parsePositiveInteger } from '@food/core/parse-number';
import { multipartBody } from '@food/core/testing/multipart-body';
import { SHARED_DATA } from '@food/core/testing/shared-data';
import { makePng } from '@food/core/testing/synthetic-images';
import { createTinyCheckpoint } from '@food/core/testing/tiny-checkpoint';
import { DEFAULTS } from '@food/server/config';
import autocannon from 'autocannon';
import { type ClosedLoopLatency, closedLoopLatency } from './closed-loop.ts';
import { writeSection } from './docs-section.ts';
import {
  parseReferenceChoice,
  type ReferenceChoice,
  type ReferenceModel,
  referenceUnavailable,
  startFlaskReference,
} from './flask-reference.ts';
import {
  compareSaturation,
  comparisonLine,
  comparisonMarkdown,
  type SaturationPoint,
  type ServeComparison,
} from './serve-comparison.ts';
import { type LevelsRun, levelsMarkdown, measureLevels } from './serve-levels.ts';
import { type ServeProcess, startServe } from './start-serve.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

interface Options {
  checkpoint?: string;
  backend: string;
  /** auto (what `pnpm serve` does: the .onnx beside the checkpoint if any), tfjs or onnx. */
  engine: string;
  workers: number;
  maxBatch: number;
  maxQueue: number;
  seconds: number;
  requests: number;
  reference: ReferenceChoice;
  /** The photo every request posts; default: a food10 test photo, else a synthetic 512×384 PNG. */
  photo?: string;
  writeDocs: boolean;
  docs: string;
}

const USAGE = `Usage: pnpm bench:serve [options]

Load-tests \`pnpm serve\` with autocannon on 127.0.0.1: saturation, then 2x overload.

Options:
  --checkpoint <dir>   checkpoint to serve (default: a tiny ResNet written to a temporary folder)
  --engine <name>      auto (default, as pnpm serve: the export beside the checkpoint, else tfjs) | tfjs | onnx
  --backend <name>     ${BACKEND_CHOICES_HELP} (tfjs engine; default auto)
  --workers <n>        inference worker threads (default: pnpm serve's, one per core)
  --max-batch <n>      images per model call (default: pnpm serve's, ${DEFAULTS.maxBatch})
  --max-queue <n>      images waiting before 503 (default: pnpm serve's, ${DEFAULTS.maxQueue})
  --seconds <n>        seconds per saturation step (default 4)
  --requests <n>       requests in the overload phase (default 10000)
  --reference <name>   auto (default: flask when /usr/bin/python3 has flask and torch) | flask | none:
                       also load a Flask + PyTorch server like the reference project's, same requests
  --photo <file>       the photo each request posts (default: the first food10 test photo when the
                       shared data is there, else a synthetic 512x384 PNG)
  --write-docs         also write the 1/4/8-connection table into docs/benchmarks.md (section serve-levels)
  --docs <file>        the page --write-docs writes (default docs/benchmarks.md)
  --help               this text`;

/** Exits with the usage on --help, and with the reason and the usage on a bad flag. */
function parseOptions(): Options {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags();
  } catch (error) {
    process.stderr.write(`bench:serve: ${(error as Error).message}\n\n${USAGE}\n`);
    process.exit(1);
  }
  if (parsed.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  return parsed.options;
}

/** Exported for tests: the flags (without `node script`) → options; throws on a bad value. */
export function parseFlags(args = process.argv.slice(2)): { help: boolean; options: Options } {
  const { values } = parseArgs({
    args,
    options: {
      help: { type: 'boolean', default: false },
      checkpoint: { type: 'string' },
      // pnpm serve's own defaults, so the bench measures what a user gets.
      workers: { type: 'string', default: String(DEFAULTS.workers) },
      backend: { type: 'string', default: 'auto' },
      engine: { type: 'string', default: 'auto' },
      'max-batch': { type: 'string', default: String(DEFAULTS.maxBatch) },
      'max-queue': { type: 'string', default: String(DEFAULTS.maxQueue) },
      seconds: { type: 'string', default: '4' },
      requests: { type: 'string', default: '10000' },
      reference: { type: 'string', default: 'auto' },
      photo: { type: 'string' },
      'write-docs': { type: 'boolean', default: false },
      docs: { type: 'string', default: 'docs/benchmarks.md' },
    },
  });
  const integer = (name: string, value: string | undefined) => {
    try {
      return parsePositiveInteger(value ?? '');
    } catch (error) {
      throw new Error(`--${name}: ${(error as Error).message}`);
    }
  };
  const choice = (name: string, value: string | undefined) => {
    try {
      return parseReferenceChoice(value ?? '');
    } catch (error) {
      throw new Error(`--${name}: ${(error as Error).message}`);
    }
  };
  return {
    help: values.help ?? false,
    options: {
      checkpoint: values.checkpoint,
      backend: values.backend ?? 'auto',
      engine: values.engine ?? 'auto',
      workers: integer('workers', values.workers),
      maxBatch: integer('max-batch', values['max-batch']),
      maxQueue: integer('max-queue', values['max-queue']),
      seconds: integer('seconds', values.seconds),
      requests: integer('requests', values.requests),
      reference: choice('reference', values.reference),
      photo: values.photo,
      writeDocs: values['write-docs'] ?? false,
      docs: values.docs ?? 'docs/benchmarks.md',
    },
  };
}

function startServeWith(checkpoint: string, options: Options): Promise<ServeProcess> {
  return startServe(checkpoint, [
    '--workers',
    String(options.workers),
    '--backend',
    options.backend,
    '--engine',
    options.engine,
    '--max-batch',
    String(options.maxBatch),
    '--max-queue',
    String(options.maxQueue),
  ]);
}

interface ServerMemory {
  rssMiB: number;
  tensors: number[];
}

async function serverMemory(url: string): Promise<ServerMemory> {
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const rss = Number(/^process_resident_memory_bytes (\d+)/m.exec(metrics)?.[1] ?? Number.NaN);
  const stats = (await (await fetch(`${url}/api/stats`)).json()) as { slots: Array<{ numTensors: number }> };
  return { rssMiB: rss / 1024 / 1024, tensors: stats.slots.map((slot) => slot.numTensors) };
}

interface Step {
  connections: number;
  rps: number;
  p50: number;
  p99: number;
  non200: number;
}

/** The one request both servers get: the photo as the multipart field `image`, as a browser sends it. */
interface PredictRequest {
  payload: Buffer;
  headers: Record<string, string>;
}

async function measure(
  url: string,
  request: PredictRequest,
  connections: number,
  seconds: number,
): Promise<Step> {
  const result = await autocannon({
    url: `${url}/api/predict`,
    method: 'POST',
    headers: request.headers,
    body: request.payload,
    connections,
    duration: seconds,
    timeout: 30,
  });
  return {
    connections,
    // Only answered predictions count: a 503 is cheap and would make shedding look like throughput.
    rps: result['2xx'] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non200: result.non2xx + result.errors + result.timeouts,
  };
}

interface OverloadReport {
  connections: number;
  requests: number;
  seconds: number;
  statuses: Record<string, number>;
  accepted: { p50: number; p99: number; max: number };
  rejected503WithoutRetryAfter: number;
}

/** Closed-loop clients until `total` requests are answered; per-request status, latency and headers. */
async function overload(
  url: string,
  request: PredictRequest,
  connections: number,
  total: number,
): Promise<OverloadReport> {
  const statuses: Record<string, number> = {};
  const acceptedMs: number[] = [];
  let withoutRetryAfter = 0;
  let sent = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (sent < total) {
        sent += 1;
        const begin = performance.now();
        const response = await fetch(`${url}/api/predict`, {
          method: 'POST',
          body: new Uint8Array(request.payload),
          headers: request.headers,
        }).catch((error: Error) => error);
        if (response instanceof Error) {
          statuses[`error ${response.message}`] = (statuses[`error ${response.message}`] ?? 0) + 1;
          continue;
        }
        await response.arrayBuffer();
        const key = String(response.status);
        statuses[key] = (statuses[key] ?? 0) + 1;
        if (response.status === 200) acceptedMs.push(performance.now() - begin);
        if (response.status === 503 && !response.headers.get('retry-after')) withoutRetryAfter += 1;
      }
    }),
  );
  acceptedMs.sort((a, b) => a - b);
  const at = (q: number) =>
    acceptedMs[Math.min(acceptedMs.length - 1, Math.floor(q * acceptedMs.length))] ?? 0;
  return {
    connections,
    requests: sent,
    seconds: (performance.now() - started) / 1000,
    statuses,
    accepted: { p50: at(0.5), p99: at(0.99), max: acceptedMs[acceptedMs.length - 1] ?? 0 },
    rejected503WithoutRetryAfter: withoutRetryAfter,
  };
}

/**
 * 1, 2, 4, ... connections for `seconds` each until answered requests/s stop growing by 5 %. Without
 * `keepsConnections` autocannon's latencies are wrong (see closed-loop.ts) and are not shown.
 */
async function findSaturation(
  name: string,
  url: string,
  request: PredictRequest,
  options: Options,
  keepsConnections = true,
): Promise<Step> {
  // Warm-up: one whole request first (a first forward can outlast a 1 s autocannon run), then 1 s of load.
  await (
    await fetch(`${url}/api/predict`, {
      method: 'POST',
      body: new Uint8Array(request.payload),
      headers: request.headers,
    })
  ).arrayBuffer();
  await measure(url, request, options.workers, 1);
  const steps: Step[] = [];
  for (let connections = 1; connections <= 256; connections *= 2) {
    const step = await measure(url, request, connections, options.seconds);
    steps.push(step);
    const latency = keepsConnections ? `p50 ${step.p50} ms, p99 ${step.p99} ms` : 'latency timed below';
    console.log(
      `${name} ${String(connections).padStart(4)} connections: ${step.rps.toFixed(step.rps >= 100 ? 0 : 1).padStart(6)} req/s, ${latency}, non-200 ${step.non200}`,
    );
    const best = Math.max(...steps.slice(0, -1).map((s) => s.rps));
    if (steps.length > 2 && step.rps < best * 1.05) break;
  }
  const saturation = steps.reduce((a, b) => (b.rps > a.rps ? b : a));
  console.log(
    `${name} saturation: ${saturation.rps.toFixed(1)} req/s at ${saturation.connections} connections`,
  );
  return saturation;
}

/** The checkpoint's classes, input size and network shape, for the reference to serve the same. */
async function referenceModelOf(checkpoint: string): Promise<ReferenceModel> {
  const { labels, preprocess, runConfig } = await readCheckpointMetadata(checkpoint);
  return {
    labels: labels.classes,
    preprocess,
    widthMultiplier: runConfig.widthMultiplier,
    blocksPerStage: runConfig.blocksPerStage,
  };
}

interface ReferenceReport {
  server: string;
  /** autocannon's answered requests/s (its latencies are wrong for this server: see closed-loop.ts). */
  saturation: Pick<Step, 'connections' | 'rps' | 'non200'>;
  latency: ClosedLoopLatency;
  comparison: ServeComparison;
  levels: LevelsRun;
}

/** Requests/s from autocannon, p50/p99 from closed-loop clients: the same methods for both servers. */
function saturationPoint(step: Step, latency: ClosedLoopLatency): SaturationPoint {
  return { connections: step.connections, rps: step.rps, p50: latency.p50, p99: latency.p99 };
}

async function timeLatency(name: string, url: string, request: PredictRequest, at: Step, options: Options) {
  const latency = await closedLoopLatency(`${url}/api/predict`, request, at.connections, options.seconds);
  console.log(
    `${name} latency at ${at.connections} connections (closed-loop fetch, ${options.seconds} s): p50 ${latency.p50} ms, p99 ${latency.p99} ms, ${latency.rps.toFixed(1)} req/s`,
  );
  return latency;
}

/** Starts the reference, finds its saturation like ours, prints the comparison; always stops it. */
async function measureReference(
  checkpoint: string,
  request: PredictRequest,
  options: Options,
  ours: SaturationPoint,
): Promise<ReferenceReport> {
  const reference = await startFlaskReference(await referenceModelOf(checkpoint));
  try {
    const { model, torch, threads } = reference.description;
    const server = `Flask (threaded dev server) + PyTorch ${torch}, ${model}, ${threads} threads`;
    console.log(`reference: ${server}`);
    const step = await findSaturation('reference', reference.url, request, options, false);
    const latency = await timeLatency('reference', reference.url, request, step, options);
    const comparison = compareSaturation(ours, saturationPoint(step, latency));
    console.log(comparisonLine(comparison, 'Flask + PyTorch'));
    console.log(`\n${comparisonMarkdown(comparison, `Flask + PyTorch ${torch} (${model})`)}\n`);
    const levels = await measureLevels('Flask + PyTorch', reference.url, request, options.seconds);
    const { connections, rps, non200 } = step;
    return { server, saturation: { connections, rps, non200 }, latency, comparison, levels };
  } finally {
    await reference.stop();
  }
}

/** Undefined when the reference runs, else why not; exits 1 when `--reference flask` cannot run. */
async function referenceSkipped(choice: ReferenceChoice): Promise<{ skipped: string } | undefined> {
  if (choice === 'none') return { skipped: '--reference none' };
  const unavailable = await referenceUnavailable();
  if (!unavailable) return undefined;
  if (choice === 'flask') {
    process.stderr.write(`bench:serve: --reference flask: ${unavailable}\n`);
    process.exit(1);
  }
  console.log(
    `reference: skipped: ${unavailable}; then it runs by default (or force it with --reference flask)`,
  );
  return { skipped: unavailable };
}

/** The reference's report, or why it failed: our server's report stands either way. */
async function referenceOrFailure(
  ...args: Parameters<typeof measureReference>
): Promise<ReferenceReport | { failed: string }> {
  try {
    return await measureReference(...args);
  } catch (error) {
    process.stderr.write(`bench:serve: ${(error as Error).message}\n`);
    return { failed: (error as Error).message };
  }
}

interface BenchPhoto {
  bytes: Buffer;
  filename: string;
  contentType: string;
  description: string;
}

/** `--photo`, else the first food10 test photo (as the issue's measurements), else a synthetic PNG. */
async function benchPhoto(file: string | undefined): Promise<BenchPhoto> {
  // FOOD10_IMAGES points a worktree (whose ../shared is not there) at the shared photos.
  const images = process.env.FOOD10_IMAGES ?? SHARED_DATA.food10Images;
  const testList = path.join(images, '..', 'meta', 'test.txt');
  const first = file ?? (existsSync(testList) ? readFileSync(testList, 'utf8').split('\n')[0] : undefined);
  const chosen = file ?? (first ? path.join(images, `${first}.jpg`) : undefined);
  if (chosen) {
    const bytes = await readFile(chosen);
    const png = chosen.toLowerCase().endsWith('.png');
    const name = file ?? `food10 test photo ${first}.jpg`;
    const description = `${name} (${(bytes.length / 1024).toFixed(0)} KiB)`;
    return {
      bytes,
      filename: path.basename(chosen),
      contentType: png ? 'image/png' : 'image/jpeg',
      description,
    };
  }
  // A photo-sized upload, so decoding and resizing cost what they do in production.
  const bytes = makePng(512, 384);
  return { bytes, filename: 'photo.png', contentType: 'image/png', description: 'synthetic 512×384 PNG' };
}

/** Which engine and file `--engine` resolved to, from the model card: "onnx, best.int8.onnx (int8)". */
async function servedEngine(url: string): Promise<string> {
  const { engine } = (await (await fetch(`${url}/api/model`)).json()) as {
    engine: { name: string; file: string; precision: string | null };
  };
  return `${engine.name}, ${engine.file}${engine.precision ? ` (${engine.precision})` : ''}`;
}

function levelsSection(table: string, photo: BenchPhoto, options: Options, engine: string): string {
  const [one, five, fifteen] = loadavg().map((value) => value.toFixed(2));
  return [
    '### 1, 4 and 8 connections, ours and the reference in one run',
    '',
    `Written by \`pnpm bench:serve --write-docs\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC ` +
      `(load average at the end ${one} / ${five} / ${fifteen}): \`pnpm serve --checkpoint ${options.checkpoint ?? '(tiny ResNet)'}\` ` +
      `with the bench's --workers ${options.workers} --max-batch ${options.maxBatch} --engine ${options.engine} ` +
      `(it ran ${engine}), ` +
      `${availableParallelism()} cores, each level ${options.seconds} s (and at least 20 answers) of closed-loop clients posting ${photo.description}. ` +
      'Stages are our Server-Timing means per request: decode + resize, waiting in the batcher, its batch on a worker.',
    '',
    table,
  ].join('\n');
}

async function main(): Promise<void> {
  const options = parseOptions();
  const skipped = await referenceSkipped(options.reference);
  // Without --checkpoint: the tests' tiny but real checkpoint, so the bench measures the server.
  const tiny = options.checkpoint ? undefined : await createTinyCheckpoint({ withAssets: false });
  let stopServe: (() => Promise<void>) | undefined;
  try {
    const checkpoint = options.checkpoint ?? tiny!.dir;
    const photo = await benchPhoto(options.photo);
    console.log(`photo: ${photo.description}`);
    const request = multipartBody([
      { name: 'image', value: photo.bytes, filename: photo.filename, contentType: photo.contentType },
    ]);
    const served = await startServeWith(checkpoint, options);
    stopServe = served.stop;
    const { url } = served;
    const saturation = await findSaturation('ours', url, request, options);
    const engine = await servedEngine(url);
    console.log(`engine: ${engine}`);
    const levels = await measureLevels('ours (`pnpm serve`)', url, request, options.seconds);
    // Timed like the reference's, for the comparison (autocannon's own p50/p99 above are right for ours).
    const latency = skipped ? undefined : await timeLatency('ours', url, request, saturation, options);

    const before = await serverMemory(url);
    const load = await overload(url, request, saturation.connections * 2, options.requests);
    const after = await serverMemory(url);
    // Measured alone: the reference starts once our server has exited.
    await stopServe();
    // A request waits for at most the queue (maxQueue images = maxQueue/maxBatch batches shared by the
    // workers) plus its own batch; one batch takes about maxBatch·workers/RPS seconds at saturation.
    const batchMs = (1000 * options.maxBatch * options.workers) / saturation.rps;
    const boundMs = (Math.ceil(options.maxQueue / (options.maxBatch * options.workers)) + 1) * batchMs;
    const onlyExpected = Object.keys(load.statuses).every((status) => status === '200' || status === '503');
    const reference =
      skipped ??
      (await referenceOrFailure(checkpoint, request, options, saturationPoint(saturation, latency!)));
    const table = levelsMarkdown(levels, 'levels' in reference ? reference.levels : undefined);
    console.log(`\n${table}\n`);
    if (options.writeDocs) {
      await writeSection(
        path.resolve(repoRoot, options.docs),
        'serve-levels',
        levelsSection(table, photo, options, engine),
      );
      console.log(`wrote the table into ${options.docs} (section serve-levels)`);
    }
    const report = {
      saturation,
      levels: levels.levels,
      overload: load,
      latencyBoundMs: Math.round(boundMs),
      memory: { before, after },
      checks: {
        only200or503: onlyExpected,
        every503HasRetryAfter: load.rejected503WithoutRetryAfter === 0,
        acceptedP99WithinBound: load.accepted.p99 <= boundMs,
        tensorsStable: JSON.stringify(before.tensors) === JSON.stringify(after.tensors),
        rssGrowthMiB: Math.round((after.rssMiB - before.rssMiB) * 10) / 10,
      },
      // Saturation only: the overload phase and the checks above are of our server alone.
      reference,
    };
    console.log(JSON.stringify(report, null, 2));
    const failed =
      !onlyExpected ||
      load.rejected503WithoutRetryAfter > 0 ||
      !report.checks.tensorsStable ||
      'failed' in reference;
    process.exitCode = failed ? 1 : 0;
  } finally {
    await stopServe?.();
    await tiny?.cleanup();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await main();
