/**
 * Preprocessing throughput on real JPEGs (images/s): `preprocessImage` (decode + resize + centre crop +
 * normalise) and `augmentImage` one image at a time from bytes already in memory, and the training
 * batch loader (file reads + augmentation, concurrency = cores) as training uses it, on the photos as
 * they are and on Food-101-size copies, with the CPU time it costs per image.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
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
  if (spec.mode === 'loader' || spec.mode === 'loader-512') {
    const copies = spec.mode === 'loader-512' ? await foodSizeCopies(spec.files) : undefined;
    // As training decodes: in worker threads, one per core (train/batch-source.ts).
    const decodePool = createDecodePool();
    try {
      const dataRoot = copies?.root ?? spec.dataRoot;
      const files = copies?.files ?? spec.files;
      const samplesList = files.map((file, index) => ({
        image: path.relative(dataRoot, file),
        label: index % 2,
      }));
      let epoch = 0;
      const cpu = { seconds: 0, mainThreadSeconds: 0 as number | undefined, images: 0 };
      const samples = await timeRuns(
        async () => {
          const loader = createBatchLoader({
            samples: samplesList,
            dataRoot,
            config,
            batchSize: 16,
            numClasses: 2,
            shuffle: true,
            augment: true,
            seed: 1,
            epoch: epoch++,
            decodePool,
          });
          const before = cpuSeconds();
          for await (const _batch of loader) {
            // Consume only: the measurement is how fast batches arrive.
          }
          const after = cpuSeconds();
          cpu.seconds += after.process - before.process;
          cpu.mainThreadSeconds =
            after.mainThread === undefined || cpu.mainThreadSeconds === undefined
              ? undefined
              : cpu.mainThreadSeconds + after.mainThread - before.mainThread!;
          cpu.images += count;
        },
        { runs: spec.runs, onRun },
      );
      const loaderCpu: LoaderCpu = {
        imagesPerCoreSecond: cpu.images / cpu.seconds,
        mainThreadMsPerImage:
          cpu.mainThreadSeconds === undefined ? undefined : (cpu.mainThreadSeconds * 1000) / cpu.images,
      };
      return { samples: perSecond(samples), loaderCpu };
    } finally {
      await decodePool.close();
      if (copies) await rm(copies.root, { recursive: true, force: true });
    }
  }
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

/** CPU seconds of the process (every thread: libvips' too) and, where Node can say, of the main thread. */
function cpuSeconds(): { process: number; mainThread?: number } {
  const total = process.cpuUsage();
  const thread = (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage?.();
  return {
    process: (total.user + total.system) / 1e6,
    mainThread: thread && (thread.user + thread.system) / 1e6,
  };
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
