/**
 * Training and validation batches from a prepared split: seeded epoch order, decoding through
 * `@food/core/preprocess/image` (whole batches in worker threads with a decode pool, else concurrently in
 * this thread), and a bounded read-ahead so decoding overlaps the model step without holding the whole
 * epoch in memory.
 *
 * Batches are plain typed arrays; the training loop makes (and disposes) the tensors.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { UserError } from '@food/core/errors';
import type { PreprocessConfig } from '@food/core/preprocess/config';
import { ImageDecodeError } from '@food/core/preprocess/image';
import { BatchImageError, type DecodePool } from './decode-pool.ts';
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
  /**
   * Batches decoded ahead of the one the consumer holds (default 2, or the decode pool's worker count
   * when larger, so every worker has a batch). Memory: prefetch + 1 batches of size · cropSize² · 12 bytes.
   */
  prefetch?: number;
  /** Images decoding at once in this thread, without a decode pool (default: the number of cores). */
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
  // With a pool each in-flight batch keeps one worker busy: fewer than `workers` would idle some.
  const prefetch = options.prefetch ?? Math.max(2, options.decodePool?.workers ?? 0);
  const concurrency = options.concurrency ?? availableParallelism();
  requireInteger('batchSize', batchSize, 1);
  requireInteger('numClasses', numClasses, 1);
  requireInteger('prefetch', prefetch, 0);
  requireInteger('concurrency', concurrency, 1);
  requireLabelsInRange(samples, numClasses);
  const numBatches = batchCount(samples.length, batchSize, options.dropLast);

  async function* iterate(): AsyncGenerator<Batch> {
    const batches = epochBatches({ ...options, numSamples: samples.length });
    const read =
      options.decodePool && !options.readImage
        ? poolReader(options, options.decodePool)
        : threadReader(options, concurrency);
    const pending: ReadingBatch[] = [];
    let started = 0;
    const startNextBatch = () => {
      if (started >= batches.length) return;
      const reading = read(batches[started++]!);
      // A prefetched batch may fail before it is awaited; the error surfaces when it is.
      reading.batch.catch(() => {});
      pending.push(reading);
    };
    try {
      // While the consumer holds batch k, batches k+1..k+prefetch are in flight, no more.
      for (let i = 0; i <= prefetch; i++) startNextBatch();
      while (pending.length > 0) {
        yield await pending[0]!.batch;
        pending.shift();
        startNextBatch();
      }
    } finally {
      for (const reading of pending) reading.cancel();
    }
  }

  return { numBatches, [Symbol.asyncIterator]: iterate };
}

function requireLabelsInRange(samples: readonly Sample[], numClasses: number): void {
  for (const sample of samples) {
    if (!Number.isInteger(sample.label) || sample.label < 0 || sample.label >= numClasses) {
      throw new UserError(
        `${sample.image} has label ${sample.label}, outside 0..${numClasses - 1}. The manifest and the ` +
          'class list disagree: re-run `pnpm trainer prepare`, or train with the manifest it wrote.',
        'LABEL_OUT_OF_RANGE',
      );
    }
  }
}

interface ReadingBatch {
  batch: Promise<Batch>;
  /** The consumer left: stop reading what is not read yet. */
  cancel(): void;
}

/** Reads the samples at `indices` (positions in `options.samples`) into one batch. */
type BatchReader = (indices: number[]) => ReadingBatch;

function batchOf(indices: number[], options: BatchLoaderOptions, images: Float32Array): Batch {
  const { samples } = options;
  return {
    images,
    labels: Int32Array.from(indices, (index) => samples[index].label),
    size: indices.length,
    paths: indices.map((index) => samples[index].image),
  };
}

/** Whole batches in the decode pool's workers; the pixels arrive by transfer. */
function poolReader(options: BatchLoaderOptions, pool: DecodePool): BatchReader {
  return (indices) => {
    const decoding = pool.decodeBatch({
      files: indices.map((index) => path.join(options.dataRoot, options.samples[index].image)),
      augmentSeeds: indices.map((index) => augmentSeed(options, index)),
      config: options.config,
      augmentScale: options.augmentScale,
    });
    const batch = decoding.images.then(
      (images) => batchOf(indices, options, images),
      (error: unknown) => {
        if (!(error instanceof BatchImageError)) throw error;
        throw toSampleError(error.cause, indices[error.position]!, options);
      },
    );
    return { batch, cancel: decoding.cancel };
  };
}

/** Image by image in this thread, at most `concurrency` at once over all batches in flight. */
function threadReader(options: BatchLoaderOptions, concurrency: number): BatchReader {
  const limit = createLimiter(concurrency);
  const imageLength = options.config.cropSize * options.config.cropSize * 3;
  return (indices) => {
    const state = { stopped: false };
    const images = new Float32Array(indices.length * imageLength);
    const reads = indices.map((index, position) =>
      limit(async () => {
        if (state.stopped) return;
        images.set(await loadSample(index, options), position * imageLength);
      }),
    );
    const batch = Promise.all(reads).then(() => batchOf(indices, options, images));
    return { batch, cancel: () => (state.stopped = true) };
  };
}

/** One RNG per (seed, epoch, sample): the crop does not depend on which decode finishes first. */
function augmentSeed(options: BatchLoaderOptions, index: number): string | undefined {
  return options.augment ? `augment:${options.seed}:${options.epoch}:${index}` : undefined;
}

async function loadSample(index: number, options: BatchLoaderOptions): Promise<Float32Array> {
  const request: DecodeRequest = {
    file: path.join(options.dataRoot, options.samples[index].image),
    config: options.config,
    augmentSeed: augmentSeed(options, index),
    augmentScale: options.augmentScale,
  };
  try {
    return await decodeSample(request, options.readImage);
  } catch (error) {
    throw toSampleError(error, index, options);
  }
}

/** A failure to read or decode the sample at `index`, as a SampleError that names its file and the fix. */
function toSampleError(error: unknown, index: number, options: BatchLoaderOptions): SampleError {
  const { image } = options.samples[index];
  const file = path.join(options.dataRoot, image);
  if (error instanceof SampleReadError) {
    const missing = error.code === 'ENOENT';
    return new SampleError(
      `${missing ? 'Image not found' : 'Cannot read image'}: ${file} (${error.message}). ` +
        `The prepared manifest reads its images from ${options.dataRoot}: restore the file, or if the data set moved, run \`pnpm trainer prepare --data NEW_FOLDER\` again (with --skip-corrupt to leave unreadable files out).`,
      missing ? 'SAMPLE_MISSING' : 'SAMPLE_UNREADABLE',
      image,
      { cause: error },
    );
  }
  // Any other failure is this file's (a resize the geometry cannot take included): say which file.
  return new SampleError(
    `Cannot ${error instanceof ImageDecodeError ? 'decode' : 'preprocess'} ${file}: ${(error as Error).message} Re-run \`pnpm trainer prepare\` with --skip-corrupt to leave it out of the data set.`,
    'SAMPLE_CORRUPT',
    image,
    { cause: error },
  );
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
