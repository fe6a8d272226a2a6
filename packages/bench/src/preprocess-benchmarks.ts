/**
 * Preprocessing throughput on real JPEGs (images/s): `preprocessImage` (decode + resize + centre crop +
 * normalise) and `augmentImage` one image at a time from bytes already in memory, and the training
 * batch loader (file reads + augmentation, concurrency = cores) as training uses it, on the photos as
 * they are and on Food-101-size copies, with the CPU time it costs per image.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_PREPROCESS, type PreprocessConfig, withCropSize } from '@food/core/preprocess/config';
import { augmentImage, preprocessImage, resizedJpeg } from '@food/core/preprocess/image';
import { createBatchLoader, createDecodePool } from '@food/trainer/building-blocks';
import seedrandom from 'seedrandom';
import type { LoaderCpu, MeasurementSpec } from './spec.ts';
import { timeRuns } from './statistics.ts';

type PreprocessSpec = Extract<MeasurementSpec, { kind: 'preprocess' }>;

/** The recipe's geometry (resize 256, crop 224) scaled to another input size. */
export function preprocessConfigFor(inputSize: number): PreprocessConfig {
  return withCropSize(DEFAULT_PREPROCESS, inputSize);
}

export async function measurePreprocess(
  spec: PreprocessSpec,
  log: (line: string) => void,
): Promise<{ samples: number[]; loaderCpu?: LoaderCpu }> {
  const config = DEFAULT_PREPROCESS;
  const count = spec.files.length;
  const onRun = (index: number, ms: number) =>
    log(`run ${index + 1}/${spec.runs}: ${((count * 1000) / ms).toFixed(1)} images/s`);
  const perSecond = (samples: number[]) => samples.map((ms) => (count * 1000) / ms);
  if (spec.mode === 'loader' || spec.mode === 'loader-512') return measureLoader(spec, onRun);
  const bytes = await Promise.all(spec.files.map((file) => readFile(file)));
  const random = seedrandom('bench-augment');
  const samples = await timeRuns(
    async () => {
      for (const image of bytes) {
        if (spec.mode === 'augment') await augmentImage(image, config, random);
        else await preprocessImage(image, config);
      }
    },
    { runs: spec.runs, onRun },
  );
  return { samples: perSecond(samples) };
}

/**
 * The training batch loader (file reads, RandomResizedCrop + flip, normalisation in decode workers;
 * batches transferred to this thread), consumed as fast as it delivers. With `spec.workers` the process
 * is first pinned to that many cores, so the images/s are what that many cores give.
 */
async function measureLoader(
  spec: PreprocessSpec,
  onRun: (index: number, ms: number) => void,
): Promise<{ samples: number[]; loaderCpu: LoaderCpu }> {
  const pinnedCores = spec.workers === undefined ? undefined : pinToCores(spec.workers);
  const copies = spec.mode === 'loader-512' ? await foodSizeCopies(spec.files) : undefined;
  const decodePool = createDecodePool(spec.workers);
  try {
    const dataRoot = copies?.root ?? spec.dataRoot;
    const samplesList = (copies?.files ?? spec.files).map((file, index) => ({
      image: path.relative(dataRoot, file),
      label: index % 2,
    }));
    let epoch = 0;
    const cost = { cpuSeconds: 0, mainCpuSeconds: 0 as number | undefined, busyMs: 0, images: 0 };
    const samples = await timeRuns(
      async () => {
        const loader = createBatchLoader({
          ...{ samples: samplesList, dataRoot, config: DEFAULT_PREPROCESS, batchSize: LOADER_BATCH },
          ...{ numClasses: 2, shuffle: true, augment: true, seed: 1, epoch: epoch++, decodePool },
        });
        const before = { cpu: cpuSeconds(), loop: performance.eventLoopUtilization() };
        for await (const batch of loader) {
          // Consume only, handing the memory back as training does: the measurement is how fast batches arrive.
          decodePool.recycle(batch.images);
        }
        const after = cpuSeconds();
        cost.busyMs += performance.eventLoopUtilization(before.loop).active;
        cost.cpuSeconds += after.process - before.cpu.process;
        cost.mainCpuSeconds =
          after.mainThread === undefined || cost.mainCpuSeconds === undefined
            ? undefined
            : cost.mainCpuSeconds + after.mainThread - before.cpu.mainThread!;
        cost.images += samplesList.length;
      },
      { runs: spec.runs, onRun },
    );
    const loaderCpu: LoaderCpu = {
      imagesPerCoreSecond: cost.images / cost.cpuSeconds,
      mainThreadMsPerImage:
        cost.mainCpuSeconds === undefined ? undefined : (cost.mainCpuSeconds * 1000) / cost.images,
      mainThreadBusyMsPerImage: cost.busyMs / cost.images,
      pinnedCores,
    };
    return { samples: samples.map((ms) => (samplesList.length * 1000) / ms), loaderCpu };
  } finally {
    await decodePool.close();
    if (copies) await rm(copies.root, { recursive: true, force: true });
  }
}

/** Batches of 16: several batches per run, so that every worker has whole batches to decode. */
const LOADER_BATCH = 16;

/**
 * Pins every thread of this process, and the threads it starts later (they inherit it), to cores
 * 0..count-1 with taskset. Undefined where taskset is missing or refuses (then the run is unpinned).
 */
function pinToCores(count: number): number | undefined {
  const cores = Math.min(count, availableParallelism());
  try {
    execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', `0-${cores - 1}`, String(process.pid)], {
      stdio: 'ignore',
    });
    return cores;
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds of the process (every thread: libvips' too) and of the main thread: Node ≥ 23.9 says,
 * else Linux's schedstat for the thread whose id is the process id (nanoseconds on a CPU).
 */
function cpuSeconds(): { process: number; mainThread?: number } {
  const total = process.cpuUsage();
  const thread = (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage?.();
  return {
    process: (total.user + total.system) / 1e6,
    mainThread: thread ? (thread.user + thread.system) / 1e6 : mainThreadSchedSeconds(),
  };
}

function mainThreadSchedSeconds(): number | undefined {
  try {
    const onCpuNs = Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
    return Number.isFinite(onCpuNs) ? onCpuNs / 1e9 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Food-101's photos are scaled to a longer side of 512 px and average about 46 KB (4.65 GB for 101,000
 * images); the food10 copies on our machines are smaller (median longer side 256, 21 KB). Decoding cost
 * grows with both, so the loader is also measured on copies of the same photos scaled up to 512 px and
 * encoded at quality 90, which averages 46 KB on food10: the original size and byte count, though not
 * the originals' fine detail.
 */
async function foodSizeCopies(files: readonly string[]): Promise<{ root: string; files: string[] }> {
  const root = await mkdtemp(path.join(tmpdir(), 'bench-food512-'));
  const copies = await Promise.all(
    files.map(async (file, index) => {
      const copy = path.join(root, 'images', `${index}.jpg`);
      await mkdir(path.dirname(copy), { recursive: true });
      await writeFile(copy, await resizedJpeg(await readFile(file), 512, { quality: 90, enlarge: true }));
      return copy;
    }),
  );
  return { root, files: copies };
}
