import { readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_PREPROCESS } from '@food/core/preprocess/config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDecodePool, type DecodePool } from '../../src/data/decode-pool.ts';
import { type Batch, createBatchLoader, type Sample } from '../../src/data/loader.ts';
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
});
