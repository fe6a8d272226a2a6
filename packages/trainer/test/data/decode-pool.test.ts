import { readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_PREPROCESS } from '@food/core/preprocess/config';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BatchDecodeJob,
  createDecodePool,
  type DecodePool,
  type DecodingBatch,
} from '../../src/data/decode-pool.ts';
import {
  type Batch,
  type BatchLoaderOptions,
  createBatchLoader,
  type Sample,
} from '../../src/data/loader.ts';
import { createBatchSource } from '../../src/train/batch-source.ts';
import { createPreparedSynth, type PreparedSynth } from '../fixtures/prepared-synth.ts';

let synth: PreparedSynth;
let pool: DecodePool;
let samples: Sample[];

beforeAll(async () => {
  synth = await createPreparedSynth({ classes: 2, imagesPerClass: 6 });
  samples = [];
  for (const [label, name] of (await readdir(path.join(synth.dataRoot, 'images'))).sort().entries()) {
    for (const file of (await readdir(path.join(synth.dataRoot, 'images', name))).sort()) {
      samples.push({ image: path.join('images', name, file), label });
    }
  }
  pool = createDecodePool(2);
}, 60_000);

afterAll(async () => {
  await pool?.close();
  if (synth) await rm(synth.root, { recursive: true, force: true });
});

const config = { ...DEFAULT_PREPROCESS, resizeShorterSide: 40, cropSize: 32 };

async function collect(
  decodePool: DecodePool | undefined,
  augment: boolean,
  list = samples,
  overrides: Partial<BatchLoaderOptions> = {},
): Promise<Batch[]> {
  const batches: Batch[] = [];
  const loader = createBatchLoader({
    samples: list,
    dataRoot: synth.dataRoot,
    config,
    batchSize: 4,
    numClasses: 2,
    shuffle: true,
    augment,
    seed: 5,
    epoch: 1,
    decodePool,
    ...overrides,
  });
  for await (const batch of loader) batches.push(batch);
  return batches;
}

describe('decode pool (worker threads)', () => {
  it('gives the same batches, pixel for pixel, as decoding in the loader thread', async () => {
    expect(samples.length).toBe(12);
    for (const augment of [true, false]) {
      const inWorkers = await collect(pool, augment);
      const inThread = await collect(undefined, augment);
      expect(inWorkers.map((batch) => batch.paths)).toEqual(inThread.map((batch) => batch.paths));
      for (const [index, batch] of inWorkers.entries()) expect(batch.images).toEqual(inThread[index]!.images);
    }
  }, 60_000);

  it('reports missing and corrupt files as the loader does', async () => {
    const corrupt = path.join('images', 'corrupt.jpg');
    await writeFile(path.join(synth.dataRoot, corrupt), 'not a jpeg');
    await expect(collect(pool, true, [{ image: 'images/missing.jpg', label: 0 }])).rejects.toMatchObject({
      name: 'SampleError',
      code: 'SAMPLE_MISSING',
      image: 'images/missing.jpg',
    });
    await expect(collect(pool, true, [{ image: corrupt, label: 0 }])).rejects.toMatchObject({
      name: 'SampleError',
      code: 'SAMPLE_CORRUPT',
      message: expect.stringContaining('--skip-corrupt'),
    });
  }, 60_000);

  it('gives the same batches whatever the worker count, and resumes exactly with skipBatches', async () => {
    const reference = await collect(pool, true);
    for (const workers of [1, 3]) {
      const other = createDecodePool(workers);
      try {
        const batches = await collect(other, true, samples, { batchSize: 3 });
        expect(batches.flatMap((batch) => batch.paths)).toEqual(reference.flatMap((batch) => batch.paths));
        expect(concat(batches)).toEqual(concat(reference));
        const rest = await collect(other, true, samples, { skipBatches: 2 });
        expect(rest.map((batch) => batch.paths)).toEqual(reference.slice(2).map((batch) => batch.paths));
        for (const [index, batch] of rest.entries())
          expect(batch.images).toEqual(reference[index + 2]!.images);
      } finally {
        await other.close();
      }
    }
  }, 60_000);

  it('hands each batch over in its own buffer (transferred from the worker, not a view into a shared one)', async () => {
    const batches = await collect(pool, true);
    for (const batch of batches) {
      expect(batch.images.byteOffset).toBe(0);
      expect(batch.images.buffer.byteLength).toBe(batch.images.byteLength);
      expect(batch.images.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    }
  }, 60_000);

  it('decodes into recycled batch memory with the same pixels, moving it to the worker (no copy)', async () => {
    const fresh = await collect(pool, true, samples, { epoch: 2 });
    const recycling = createDecodePool(2);
    try {
      const batches: Batch[] = [];
      const loader = createBatchLoader({
        ...{ samples, dataRoot: synth.dataRoot, config, batchSize: 4, numClasses: 2 },
        ...{ shuffle: true, augment: true, seed: 5, epoch: 2, decodePool: recycling, prefetch: 0 },
      });
      let recycled: ArrayBufferLike | undefined;
      for await (const batch of loader) {
        // The batch after a recycled one was decoded into its memory: moved to a worker, so detached here.
        if (recycled) expect(recycled.byteLength).toBe(0);
        batches.push({ ...batch, images: batch.images.slice() });
        recycled = batch.images.buffer;
        recycling.recycle(batch.images);
      }
      expect(batches.map((batch) => batch.images)).toEqual(fresh.map((batch) => batch.images));
    } finally {
      await recycling.close();
    }
  }, 60_000);

  it('names the first bad image of a batch in batch order, whichever worker lane met it first', async () => {
    const corrupt = path.join('images', 'corrupt-2.jpg');
    await writeFile(path.join(synth.dataRoot, corrupt), 'not a jpeg either');
    const list = [samples[0]!, { image: corrupt, label: 0 }, { image: 'images/gone.jpg', label: 1 }];
    await expect(collect(pool, true, list, { shuffle: false })).rejects.toMatchObject({
      code: 'SAMPLE_CORRUPT',
      image: corrupt,
    });
  }, 60_000);

  it('keeps at most prefetch + 1 batches in flight, at least one per worker, and cancels them on break', async () => {
    const fake = recordingPool(3);
    const loader = createBatchLoader({
      samples,
      dataRoot: synth.dataRoot,
      config,
      batchSize: 2,
      numClasses: 2,
      shuffle: false,
      augment: false,
      seed: 0,
      epoch: 0,
      decodePool: fake.pool,
    });
    // Default prefetch with 3 workers: 3 batches ahead of the one awaited.
    const iterator = loader[Symbol.asyncIterator]();
    const first = iterator.next();
    expect(fake.inFlight()).toBe(4);
    fake.finishOldest();
    await first;
    // The consumer holds batch 0: batches 1..3 in flight, and one more started only when it asks.
    expect(fake.inFlight()).toBe(3);
    expect(fake.started).toBe(4);
    await iterator.return?.(undefined);
    expect(fake.cancelled).toBe(3);
  });

  it('makes tensors the consumer disposes, and leaves none behind (training batch source)', async () => {
    await tf.setBackend('cpu');
    const source = await createBatchSource({
      dataRoot: synth.dataRoot,
      trainSamples: samples,
      valSamples: samples.slice(0, 4),
      preprocess: config,
      batchSize: 4,
      numClasses: 2,
      seed: 5,
      augment: true,
      cacheFeatures: false,
      featureViews: 0,
      featureCacheDir: 'data/feature-cache',
      featureCachePrecision: 'float16',
    });
    try {
      const before = tf.memory().numTensors;
      let seen = 0;
      for await (const batch of source.train(0, 1)) {
        expect(batch.inputs.shape).toEqual([4, 32, 32, 3]);
        tf.dispose([batch.inputs, batch.labels]);
        seen++;
      }
      expect(seen).toBe(2);
      for await (const batch of source.validation()) tf.dispose([batch.inputs, batch.labels]);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      source.dispose();
    }
  }, 60_000);
});

function concat(batches: Batch[]): Float32Array {
  const out = new Float32Array(batches.reduce((sum, batch) => sum + batch.images.length, 0));
  let offset = 0;
  for (const batch of batches) {
    out.set(batch.images, offset);
    offset += batch.images.length;
  }
  return out;
}

/** A pool that decodes nothing: it records the jobs in flight and finishes them on request. */
function recordingPool(workers: number) {
  const jobs: Array<{ job: BatchDecodeJob; resolve: (images: Float32Array) => void; done: boolean }> = [];
  let cancelled = 0;
  const pool: DecodePool = {
    workers,
    decodeBatch(job): DecodingBatch {
      const entry = { job, resolve: (_: Float32Array) => {}, done: false };
      const images = new Promise<Float32Array>((resolve) => {
        entry.resolve = resolve;
      });
      jobs.push(entry);
      return {
        images,
        cancel() {
          if (entry.done) return;
          entry.done = true;
          cancelled++;
        },
      };
    },
    recycle: () => {},
    close: async () => {},
  };
  return {
    pool,
    get started() {
      return jobs.length;
    },
    get cancelled() {
      return cancelled;
    },
    inFlight: () => jobs.filter((entry) => !entry.done).length,
    finishOldest() {
      const entry = jobs.find((candidate) => !candidate.done)!;
      entry.done = true;
      entry.resolve(new Float32Array(entry.job.files.length * 32 * 32 * 3));
    },
  };
}
