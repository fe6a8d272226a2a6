/**
 * Runs the measurements in order, each in its own child process, and collects the results for the
 * report. Training batch sizes that run out of memory are reported and halved until one fits.
 */
import { readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { collectMachineFacts, type MachineFacts } from './machine.ts';
import { type PytorchReport, runPytorch } from './pytorch.ts';
import { runInChild } from './run-child.ts';
import {
  describeSpec,
  GEMM_PROBE,
  type MeasurementResult,
  type MeasurementSpec,
  type ModelShape,
  RESNET50_224,
  TINY_MODEL,
} from './spec.ts';

export const SECTIONS = [
  'forward',
  'train',
  'gemm',
  'throughput',
  'preprocess',
  'backends',
  'pytorch',
] as const;
export type Section = (typeof SECTIONS)[number];

export interface BenchOptions {
  quick: boolean;
  runs: number;
  sections: ReadonlySet<Section>;
  /** Food-101-layout folder with images/<class>/*.jpg. */
  dataRoot: string;
  /** A sentence for the report header (what else ran on the machine, ...). */
  note?: string;
  /** Training batches instead of the plan's (a loaded machine cannot afford batch 32 on wasm). */
  trainBatches?: number[];
  log: (line: string) => void;
}

export interface Measurement {
  spec: MeasurementSpec;
  result: MeasurementResult;
  /** 1-minute load average when the measurement started. */
  loadAverage: number;
}

export interface BenchResults {
  options: Omit<BenchOptions, 'log' | 'sections'> & { sections: Section[] };
  model: ModelShape;
  machine: MachineFacts;
  startedAt: Date;
  seconds: number;
  measurements: Measurement[];
  /** Why a whole group was not measured (e.g. no images). */
  skipped: string[];
  pytorch?: PytorchReport;
  /** The training batch of the per-backend table. */
  backendTrainBatch: number;
}

/** The sizes each mode measures; `--quick` keeps the harness honest in seconds, not the numbers. */
export function benchPlan(quick: boolean) {
  return quick
    ? {
        model: TINY_MODEL,
        forwardBatches: [1, 4],
        trainBatches: [4, 8],
        gemm: { batch: 1, size: 8, inChannels: 16, outChannels: 16 },
        backendTrainBatch: 2,
        tensorflowMicroBatch: 4,
        cpuTrainRuns: 1,
        cpuTrainTimeoutMs: 120_000,
        throughputImages: 8,
        preprocessImages: 4,
        loaderImages: 32,
        calibrationImages: 2,
        timeoutMs: 120_000,
      }
    : {
        model: RESNET50_224,
        forwardBatches: [1, 8],
        trainBatches: [8, 32],
        gemm: GEMM_PROBE,
        // The pure-JS cpu backend needs minutes for one ResNet-50 step (measured: forward ~18 s/image):
        // batch 1 and a single timed run keep the full bench under half an hour; the report says so.
        backendTrainBatch: 1,
        // Measured peak RSS of a tensorflow step: 2.1 GiB at batch 2, 3.4 GiB at batch 4 (~0.65 GiB per
        // image): 8 images at once stay near 6 GiB on a machine other jobs share.
        tensorflowMicroBatch: 8,
        cpuTrainRuns: 1,
        // Measured: warm-up + one cpu step at batch 1 did not finish in 10 min; 5 min says as much.
        cpuTrainTimeoutMs: 300_000,
        throughputImages: 16,
        preprocessImages: 48,
        // 12 batches of 16 per run: whole batches go to workers, so a few batches would leave one idle.
        loaderImages: 192,
        calibrationImages: 8,
        timeoutMs: 600_000,
      };
}

type BenchPlan = ReturnType<typeof benchPlan>;

/** What every section's measurements share: the plan, the machine, and `measure` (one child process each). */
interface BenchContext {
  options: BenchOptions;
  plan: BenchPlan;
  runs: number;
  cores: number;
  /** wasm runs on every core (tfjs's pthreads build); one thread shows what the threads bring. */
  threads: number;
  model: ModelShape;
  measurements: Measurement[];
  wants: (section: Section) => boolean;
  measure: (spec: MeasurementSpec, timeoutMs?: number) => Promise<MeasurementResult>;
  progress: (label: string) => void;
  /** Counts a step that is not a `measure` (PyTorch) for the progress line. */
  markDone: () => void;
}

export async function runBench(options: BenchOptions): Promise<BenchResults> {
  const plan = {
    ...benchPlan(options.quick),
    ...(options.trainBatches && { trainBatches: options.trainBatches }),
  };
  const started = Date.now();
  const machine = collectMachineFacts();
  const context = createContext(options, plan, machine.cores, started);
  const { wants } = context;
  const skipped: string[] = [];

  if (wants('forward')) await measureForwardSection(context);
  const trainBatches = wants('train') ? await measureTrainSection(context) : [];
  const pytorchReport = wants('pytorch') ? await measurePytorchSection(context, trainBatches) : undefined;
  const images = await listImages(
    options.dataRoot,
    Math.max(plan.preprocessImages, plan.loaderImages, plan.calibrationImages),
  );
  if (images.length === 0 && (wants('preprocess') || wants('throughput'))) {
    skipped.push(
      `No JPEGs under ${options.dataRoot}/images/*/: preprocessing not measured, int8 calibrated on random inputs.`,
    );
  }
  if (wants('gemm')) {
    for (const threadCount of [...new Set([1, context.cores])]) {
      await context.measure({ kind: 'gemm', threads: threadCount, runs: context.runs, shape: plan.gemm });
    }
  }
  if (wants('throughput')) await measureThroughputSection(context, images);
  if (wants('preprocess') && images.length > 0) await measurePreprocessSection(context, images);
  if (wants('backends')) await measureBackendsSection(context);

  return {
    options: {
      quick: options.quick,
      runs: context.runs,
      dataRoot: options.dataRoot,
      note: options.note,
      trainBatches: options.trainBatches,
      sections: [...options.sections],
    },
    model: plan.model,
    machine,
    startedAt: new Date(started),
    seconds: (Date.now() - started) / 1000,
    measurements: context.measurements,
    skipped,
    pytorch: pytorchReport,
    backendTrainBatch: plan.backendTrainBatch,
  };
}

function createContext(options: BenchOptions, plan: BenchPlan, cores: number, started: number): BenchContext {
  const { runs, log } = options;
  const wants = (section: Section) => options.sections.has(section);
  const measurements: Measurement[] = [];
  // A rough count for the progress line; the train section may add attempts after an OOM.
  const expected =
    (wants('forward') ? 2 * plan.forwardBatches.length + 1 : 0) +
    (wants('train') ? 2 * plan.trainBatches.length + 2 : 0) +
    (wants('gemm') ? 2 : 0) +
    (wants('throughput') ? 3 + 4 : 0) +
    (wants('preprocess') ? 7 : 0) +
    (wants('backends') ? 4 : 0) +
    (wants('pytorch') ? 1 : 0);
  let done = 0;
  const progress = (label: string) => {
    const elapsed = (Date.now() - started) / 1000;
    const eta = done > 0 ? ` (~${formatDuration((elapsed / done) * Math.max(0, expected - done))} left)` : '';
    log(`[${done + 1}/${Math.max(expected, done + 1)}] ${label}, ${formatDuration(elapsed)} elapsed${eta}`);
  };
  const measure = async (spec: MeasurementSpec, timeoutMs = plan.timeoutMs): Promise<MeasurementResult> => {
    progress(describeSpec(spec));
    const loadAverage = os.loadavg()[0]!;
    const result = await runInChild(spec, {
      timeoutMs,
      onLine: (line) => {
        if (!isLibraryNoise(line)) log(`    ${line}`);
      },
    });
    done++;
    if (result.status !== 'ok') log(`    → ${result.status}: ${result.reason}`);
    measurements.push({ spec, result, loadAverage });
    return result;
  };
  const markDone = () => {
    done++;
  };
  const model = plan.model;
  return {
    options,
    plan,
    runs,
    cores,
    threads: cores,
    model,
    measurements,
    wants,
    measure,
    progress,
    markDone,
  };
}

async function measureForwardSection({ plan, measure, threads, cores, runs, model }: BenchContext) {
  for (const batch of plan.forwardBatches)
    await measure({ kind: 'forward', backend: 'wasm', threads, batch, runs, model });
  if (cores > 1) {
    const batch = plan.forwardBatches.at(-1)!;
    await measure({ kind: 'forward', backend: 'wasm', threads: 1, batch, runs, model });
  }
  // The tensorflow column (tfjs-node on the CPU), where `pnpm setup:tensorflow` provisioned it.
  for (const batch of plan.forwardBatches) {
    const result = await measure({ kind: 'forward', backend: 'tensorflow', threads, batch, runs, model });
    if (result.status === 'unavailable') break;
  }
}

/** The training batches measured on wasm (with the fallbacks an OOM led to), for PyTorch's comparison. */
async function measureTrainSection({ plan, measure, threads, cores, runs, model }: BenchContext) {
  const trainBatches: number[] = [];
  // Each batch runs whole if it fits in wasm's 4 GiB heap, else as micro-batches of the largest batch
  // that fits, with gradient accumulation, as `pnpm train --accumulate` does.
  let fits: number | undefined; // largest batch known to run whole
  let tooLarge: number | undefined; // smallest batch known not to
  const train = (batch: number, microBatch: number, threadCount = threads) =>
    measure({ kind: 'train', backend: 'wasm', threads: threadCount, batch, microBatch, runs, model });
  for (const batch of plan.trainBatches) {
    trainBatches.push(batch);
    if (tooLarge === undefined || batch < tooLarge) {
      const result = await train(batch, batch);
      if (result.status === 'ok') {
        fits = Math.max(fits ?? 0, batch);
        continue;
      }
      if (result.status !== 'oom') break; // a failure or a timeout: larger batches would not do better
      tooLarge = batch;
    }
    for (let size = Math.floor(batch / 2); fits === undefined && size >= 1; size = Math.floor(size / 2)) {
      trainBatches.push(size);
      const result = await train(size, size);
      if (result.status === 'ok') fits = size;
      else if (result.status !== 'oom') break;
    }
    if (fits === undefined) break;
    await train(batch, largestDivisorUpTo(batch, fits));
  }
  if (cores > 1 && fits !== undefined) await train(fits, fits, 1);
  // tensorflow keeps the same ~0.65 GiB of activations per image as wasm, in host memory: batch 32
  // whole peaks near 22 GiB, so larger batches run as micro-batches of `tensorflowMicroBatch`.
  for (const batch of plan.trainBatches) {
    const microBatch = largestDivisorUpTo(batch, plan.tensorflowMicroBatch);
    const spec = { kind: 'train', backend: 'tensorflow', threads, batch, microBatch, runs, model } as const;
    if ((await measure(spec)).status === 'unavailable') break;
  }
  return trainBatches;
}

async function measurePytorchSection(context: BenchContext, trainBatches: number[]): Promise<PytorchReport> {
  const { plan, options } = context;
  context.progress('PyTorch reference (forward and train step)');
  // PyTorch trains at the planned batches even where wasm ran out of memory, and at wasm's fallback.
  const torchTrainBatches = [...new Set([...plan.trainBatches, ...trainBatches])].sort((a, b) => a - b);
  const report = await runPytorch({
    model: context.model,
    threads: context.cores,
    runs: context.runs,
    forwardBatches: plan.forwardBatches,
    trainBatches: torchTrainBatches,
    gemm: context.wants('gemm') ? plan.gemm : undefined,
    timeoutMs: plan.timeoutMs * 2,
    onLine: (line) => options.log(`    ${line}`),
  });
  context.markDone();
  if (report.unavailable) options.log(`    → PyTorch not measured: ${report.unavailable}`);
  return report;
}

async function measureThroughputSection(
  { plan, measure, cores, runs, model }: BenchContext,
  images: string[],
) {
  const base = { kind: 'throughput' as const, batch: 4, imagesPerRun: plan.throughputImages, runs, model };
  // One instance on one core, one instance on every core (evaluate), one instance per core (serve).
  const layouts = [
    { workers: 1, threadsPerWorker: 1 },
    { workers: 1, threadsPerWorker: cores },
    { workers: cores, threadsPerWorker: 1 },
  ];
  for (const layout of cores > 1 ? layouts : layouts.slice(0, 1)) {
    await measure({ ...base, engine: 'tfjs-wasm', ...layout, calibrationImages: [] });
  }
  for (const engine of ['onnx-fp32', 'onnx-int8'] as const) {
    for (const intraOpThreads of [1, cores]) {
      await measure({
        ...base,
        batch: 8,
        imagesPerRun: plan.throughputImages * 2,
        engine,
        workers: intraOpThreads,
        threadsPerWorker: 1,
        calibrationImages: images.slice(0, plan.calibrationImages),
      });
    }
  }
}

async function measurePreprocessSection(
  { plan, measure, cores, runs, options }: BenchContext,
  images: string[],
) {
  const { dataRoot } = options;
  const files = images.slice(0, plan.preprocessImages);
  for (const mode of ['preprocess', 'augment', 'loader', 'loader-512'] as const) {
    await measure({ kind: 'preprocess', mode, files, dataRoot, runs });
  }
  // How the loader scales with cores: 1 and 2 workers, each on as many pinned cores (and all of them).
  const loaderFiles = images.slice(0, plan.loaderImages);
  for (const workers of [...new Set([1, Math.min(2, cores), cores])]) {
    await measure({ kind: 'preprocess', mode: 'loader-512', files: loaderFiles, dataRoot, runs, workers });
  }
}

async function measureBackendsSection({ plan, measure, measurements, threads, runs, model }: BenchContext) {
  for (const backend of ['cpu', 'tensorflow'] as const) {
    const forward = await measure({ kind: 'forward', backend, threads, batch: 1, runs, model });
    if (forward.status === 'unavailable') continue;
    const trainRuns = backend === 'cpu' ? Math.min(runs, plan.cpuTrainRuns) : runs;
    const timeoutMs = backend === 'cpu' ? plan.cpuTrainTimeoutMs : plan.timeoutMs;
    const batch = plan.backendTrainBatch;
    await measure(
      { kind: 'train', backend, threads, batch, microBatch: batch, runs: trainRuns, model },
      timeoutMs,
    );
  }
  const hasWasm = (kind: 'train' | 'forward', batch: number) =>
    measurements.some(
      (m) =>
        m.spec.kind === kind &&
        m.spec.backend === 'wasm' &&
        m.spec.threads === threads &&
        m.spec.batch === batch,
    );
  // The wasm rows of the backend table at the same batch as the others.
  const batch = plan.backendTrainBatch;
  if (!hasWasm('train', batch)) {
    await measure({ kind: 'train', backend: 'wasm', threads, batch, microBatch: batch, runs, model });
  }
  if (!hasWasm('forward', 1))
    await measure({ kind: 'forward', backend: 'wasm', threads, batch: 1, runs, model });
}

/** Up to `count` JPEGs, spread over the classes (sorted, so every run reads the same files). */
export async function listImages(dataRoot: string, count: number): Promise<string[]> {
  const imagesDir = path.join(dataRoot, 'images');
  let classes: string[];
  try {
    classes = (await readdir(imagesDir)).sort();
  } catch {
    return [];
  }
  const perClass = await Promise.all(
    classes.map(async (name) =>
      (await readdir(path.join(imagesDir, name)).catch(() => []))
        .filter((file) => /\.jpe?g$/i.test(file))
        .sort()
        .map((file) => path.join(imagesDir, name, file)),
    ),
  );
  const files: string[] = [];
  for (let i = 0; files.length < count && perClass.some((list) => i < list.length); i++) {
    for (const list of perClass) if (i < list.length && files.length < count) files.push(list[i]!);
  }
  return files;
}

/** The largest divisor of `batch` that is at most `limit` (the micro-batch size for accumulation). */
export function largestDivisorUpTo(batch: number, limit: number): number {
  for (let size = Math.min(batch, limit); size > 1; size--) if (batch % size === 0) return size;
  return 1;
}

export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

/** tfjs prints a banner and, when tfjs-node half-loads, one warning per kernel: not progress. */
export function isLibraryNoise(line: string): boolean {
  return /is already registered|^=+$|Hi, looks like you are running TensorFlow\.js in Node\.js/.test(
    line.trim(),
  );
}
