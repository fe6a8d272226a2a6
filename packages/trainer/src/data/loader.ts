/**
 * Training and validation batches from a prepared split: seeded epoch order, concurrent decoding
 * through `@food/core/preprocess/image`, and a bounded read-ahead so decoding overlaps the model step
 * without holding the whole epoch in memory.
 *
 * Batches are plain typed arrays; the training loop makes (and disposes) the tensors.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { UserError } from '@food/core/errors';
import type { PreprocessConfig } from '@food/core/preprocess/config';
import { ImageDecodeError } from '@food/core/preprocess/image';
import type { DecodePool } from './decode-pool.ts';
import { type DecodeRequest, decodeSample, SampleReadError } from './decode-sample.ts';
import { batchCount, epochBatches } from './epoch-batches.ts';

export interface Sample {
  /** Path relative to `dataRoot`, as in the manifest (`images/<class>/<id>.jpg`). */
  image: string;
  label: number;
}

export interface Batch {
  /** `size` images, HWC each, back to back: length size · cropSize² · 3. */
  images: Float32Array;
  labels: Int32Array;
  size: number;
  /** The samples' `image` paths, in batch order. */
  paths: string[];
}

export interface BatchLoaderOptions {
  samples: readonly Sample[];
  dataRoot: string;
  config: PreprocessConfig;
  batchSize: number;
  numClasses: number;
  shuffle: boolean;
  /** RandomResizedCrop + flip (training) instead of resize + centre crop (evaluation). */
  augment: boolean;
  /** RandomResizedCrop's area range with `augment` (default torchvision's [0.08, 1]). */
  augmentScale?: [number, number];
  seed: number;
  epoch: number;
  /** Batches decoded ahead of the one the consumer holds (default 2). */
  prefetch?: number;
  /** Images decoding at once (default: the number of cores). */
  concurrency?: number;
  /** Leave out a last, smaller batch (default false). */
  dropLast?: boolean;
  /** Start at this batch of the epoch's order without reading the ones before (mid-epoch resume). */
  skipBatches?: number;
  /** Reads one file; defaults to `fs.readFile`. Tests count calls through it (then no decode pool). */
  readImage?: (file: string) => Promise<Uint8Array>;
  /** Decode in these worker threads instead of this one (training: ./decode-pool.ts). */
  decodePool?: DecodePool;
}

export interface BatchLoader extends AsyncIterable<Batch> {
  readonly numBatches: number;
}

/** A sample that cannot be read or decoded; `image` is its manifest path. */
export class SampleError extends UserError {
  override name = 'SampleError';

  constructor(
    message: string,
    code: 'SAMPLE_MISSING' | 'SAMPLE_UNREADABLE' | 'SAMPLE_CORRUPT',
    readonly image: string,
    options: { cause: unknown },
  ) {
    super(message, code);
    this.cause = options.cause;
  }
}

/**
 * Iterating the loader decodes one pass over `samples` for `epoch`. Each iteration starts afresh and
 * yields the same batches; breaking out early stops further reads.
 */
export function createBatchLoader(options: BatchLoaderOptions): BatchLoader {
  const { samples, batchSize, numClasses } = options;
  const prefetch = options.prefetch ?? 2;
  const concurrency = options.concurrency ?? availableParallelism();
  requireInteger('batchSize', batchSize, 1);
  requireInteger('numClasses', numClasses, 1);
  requireInteger('prefetch', prefetch, 0);
  requireInteger('concurrency', concurrency, 1);
  for (const sample of samples) {
    if (!Number.isInteger(sample.label) || sample.label < 0 || sample.label >= numClasses) {
      throw new UserError(
        `${sample.image} has label ${sample.label}, outside 0..${numClasses - 1}. The manifest and the ` +
          'class list disagree: re-run `pnpm trainer prepare`, or train with the manifest it wrote.',
        'LABEL_OUT_OF_RANGE',
      );
    }
  }
  const numBatches = batchCount(samples.length, batchSize, options.dropLast);

  async function* iterate(): AsyncGenerator<Batch> {
    const batches = epochBatches({ ...options, numSamples: samples.length });
    const limit = createLimiter(concurrency);
    const state = { stopped: false };
    const pending: Promise<Batch>[] = [];
    let started = 0;
    const startNextBatch = () => {
      if (started >= batches.length) return;
      const batch = loadBatch(batches[started++]!, options, limit, state);
      // A prefetched batch may fail before it is awaited; the error surfaces when it is.
      batch.catch(() => {});
      pending.push(batch);
    };
    try {
      // While the consumer holds batch k, batches k+1..k+prefetch are in flight, no more.
      for (let i = 0; i <= prefetch; i++) startNextBatch();
      while (pending.length > 0) {
        yield await pending.shift()!;
        startNextBatch();
      }
    } finally {
      state.stopped = true;
    }
  }

  return { numBatches, [Symbol.asyncIterator]: iterate };
}

async function loadBatch(
  indices: number[],
  options: BatchLoaderOptions,
  limit: Limiter,
  state: { stopped: boolean },
): Promise<Batch> {
  const { config, samples } = options;
  const imageLength = config.cropSize * config.cropSize * 3;
  const batch: Batch = {
    images: new Float32Array(indices.length * imageLength),
    labels: Int32Array.from(indices, (index) => samples[index].label),
    size: indices.length,
    paths: indices.map((index) => samples[index].image),
  };
  await Promise.all(
    indices.map((index, position) =>
      limit(async () => {
        if (state.stopped) return;
        batch.images.set(await loadSample(index, options), position * imageLength);
      }),
    ),
  );
  return batch;
}

async function loadSample(index: number, options: BatchLoaderOptions): Promise<Float32Array> {
  const { image } = options.samples[index];
  const file = path.join(options.dataRoot, image);
  const request: DecodeRequest = {
    file,
    config: options.config,
    // One RNG per (seed, epoch, sample): the crop does not depend on which decode finishes first.
    augmentSeed: options.augment ? `augment:${options.seed}:${options.epoch}:${index}` : undefined,
    augmentScale: options.augmentScale,
  };
  try {
    return options.decodePool && !options.readImage
      ? await options.decodePool.decode(request)
      : await decodeSample(request, options.readImage);
  } catch (error) {
    if (error instanceof SampleReadError) {
      const missing = error.code === 'ENOENT';
      throw new SampleError(
        `${missing ? 'Image not found' : 'Cannot read image'}: ${file} (${error.message}). ` +
          `The prepared manifest reads its images from ${options.dataRoot}: restore the file, or if the data set moved, run \`pnpm trainer prepare --data NEW_FOLDER\` again (with --skip-corrupt to leave unreadable files out).`,
        missing ? 'SAMPLE_MISSING' : 'SAMPLE_UNREADABLE',
        image,
        { cause: error },
      );
    }
    // Any other failure is this file's (a resize the geometry cannot take included): say which file.
    throw new SampleError(
      `Cannot ${error instanceof ImageDecodeError ? 'decode' : 'preprocess'} ${file}: ${(error as Error).message} Re-run \`pnpm trainer prepare\` with --skip-corrupt to leave it out of the data set.`,
      'SAMPLE_CORRUPT',
      image,
      { cause: error },
    );
  }
}

type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

/** At most `max` tasks run at once; waiting tasks start in arrival order (earlier batches first). */
function createLimiter(max: number): Limiter {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (active < max) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next task so a newcomer cannot overtake it.
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

function requireInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer ≥ ${min}, got ${value}`);
  }
}
