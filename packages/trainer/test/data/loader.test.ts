import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_PREPROCESS, type PreprocessConfig } from '@food/core/preprocess/config';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epochOrder } from '../../src/data/epoch-batches.ts';
import {
  type Batch,
  type BatchLoaderOptions,
  createBatchLoader,
  type Sample,
} from '../../src/data/loader.ts';
import { extremePng } from './extreme-png.ts';

const NUM_SAMPLES = 23;
const NUM_CLASSES = 3;
/** mean 0, std 1/255: normalised values are the raw 0..255 pixel values, easy to read back. */
const config: PreprocessConfig = {
  ...DEFAULT_PREPROCESS,
  resizeShorterSide: 12,
  cropSize: 8,
  mean: [0, 0, 0],
  std: [1 / 255, 1 / 255, 1 / 255],
};
const pixelsPerImage = 8 * 8 * 3;

let dataRoot: string;
let samples: Sample[];

/**
 * Sample i is a 16×12 PNG whose green channel is 10·i everywhere (identifies the sample through any
 * crop) and whose red channel is a left-to-right ramp (so augmentation changes pixels).
 */
beforeAll(async () => {
  dataRoot = await mkdtemp(path.join(tmpdir(), 'loader-test-'));
  samples = [];
  for (let i = 0; i < NUM_SAMPLES; i++) {
    const label = i % NUM_CLASSES;
    const image = `images/class${label}/${i}.png`;
    const data = Buffer.alloc(16 * 12 * 3);
    for (let p = 0; p < 16 * 12; p++) data.set([(p % 16) * 16, 10 * i, 128], p * 3);
    await mkdir(path.join(dataRoot, path.dirname(image)), { recursive: true });
    await writeFile(
      path.join(dataRoot, image),
      await sharp(data, { raw: { width: 16, height: 12, channels: 3 } })
        .png()
        .toBuffer(),
    );
    samples.push({ image, label });
  }
});

afterAll(async () => {
  await rm(dataRoot, { recursive: true, force: true });
});

function options(overrides: Partial<BatchLoaderOptions> = {}): BatchLoaderOptions {
  return {
    samples,
    dataRoot,
    config,
    batchSize: 5,
    numClasses: NUM_CLASSES,
    shuffle: true,
    augment: false,
    seed: 7,
    epoch: 0,
    ...overrides,
  };
}

async function collect(loaderOptions: BatchLoaderOptions): Promise<Batch[]> {
  const batches: Batch[] = [];
  for await (const batch of createBatchLoader(loaderOptions)) batches.push(batch);
  return batches;
}

/** The sample index encoded in an image's green channel. */
function sampleIndexOf(batch: Batch, position: number): number {
  return Math.round(batch.images[position * pixelsPerImage + 1] / 10);
}

describe('epochOrder', () => {
  it('is a permutation fixed by (seed, epoch)', () => {
    const order = epochOrder(100, 1, 3);
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(epochOrder(100, 1, 3)).toEqual(order);
    expect(epochOrder(100, 1, 4)).not.toEqual(order);
    expect(epochOrder(100, 2, 3)).not.toEqual(order);
    expect(epochOrder(0, 1, 0)).toEqual([]);
  });
});

describe('createBatchLoader', () => {
  it('yields every sample exactly once per epoch, in the epoch order, with matching labels and pixels', async () => {
    const batches = await collect(options());
    expect(batches.map((batch) => batch.size)).toEqual([5, 5, 5, 5, 3]);
    expect(createBatchLoader(options()).numBatches).toBe(5);
    const seen = batches.flatMap((batch) => batch.paths.map((_, position) => sampleIndexOf(batch, position)));
    expect(seen).toEqual(epochOrder(NUM_SAMPLES, 7, 0));
    for (const batch of batches) {
      expect(batch.images).toHaveLength(batch.size * pixelsPerImage);
      expect(batch.labels).toHaveLength(batch.size);
      batch.paths.forEach((image, position) => {
        const index = sampleIndexOf(batch, position);
        expect(image).toBe(samples[index].image);
        expect(batch.labels[position]).toBe(samples[index].label);
      });
    }
  });

  it('keeps manifest order without shuffle and drops the short last batch with dropLast', async () => {
    const batches = await collect(options({ shuffle: false, dropLast: true }));
    expect(batches.map((batch) => batch.size)).toEqual([5, 5, 5, 5]);
    expect(batches[1].paths).toEqual(samples.slice(5, 10).map((sample) => sample.image));
  });

  it('gives identical batches (order and pixels) for the same seed, whatever the concurrency', async () => {
    const a = await collect(options({ augment: true, concurrency: 1, prefetch: 0 }));
    const b = await collect(options({ augment: true, concurrency: 4, prefetch: 3 }));
    expect(b.map((batch) => batch.paths)).toEqual(a.map((batch) => batch.paths));
    b.forEach((batch, i) => {
      expect(batch.images).toEqual(a[i].images);
      expect(batch.labels).toEqual(a[i].labels);
    });
  });

  it('resumes mid-epoch: skipBatches yields exactly the rest of the epoch, augmentation included', async () => {
    const full = await collect(options({ augment: true, epoch: 3 }));
    const rest = await collect(options({ augment: true, epoch: 3, skipBatches: 2 }));
    expect(rest.length).toBe(full.length - 2);
    rest.forEach((batch, i) => {
      expect(batch.paths).toEqual(full[i + 2].paths);
      expect(batch.images).toEqual(full[i + 2].images);
    });
  });

  it('changes order and augmentation across epochs and seeds', async () => {
    const epoch0 = await collect(options({ augment: true }));
    const epoch1 = await collect(options({ augment: true, epoch: 1 }));
    const otherSeed = await collect(options({ augment: true, seed: 8 }));
    const pathsOf = (batches: Batch[]) => batches.flatMap((batch) => batch.paths);
    expect(pathsOf(epoch1)).not.toEqual(pathsOf(epoch0));
    expect(pathsOf(otherSeed)).not.toEqual(pathsOf(epoch0));
    // The same sample is cropped differently in the next epoch.
    const imageOf = (batches: Batch[], image: string) => {
      const batch = batches.find((candidate) => candidate.paths.includes(image))!;
      const position = batch.paths.indexOf(image);
      return batch.images.slice(position * pixelsPerImage, (position + 1) * pixelsPerImage);
    };
    const differing = samples.filter(
      ({ image }) => !imageOf(epoch0, image).every((value, i) => value === imageOf(epoch1, image)[i]),
    );
    expect(differing.length).toBeGreaterThan(NUM_SAMPLES / 2);
    // Within an epoch each sample draws its own crop: the red ramps (identical in every source) differ.
    const redChannels = new Set(
      samples.map(({ image }) =>
        imageOf(epoch0, image)
          .filter((_, i) => i % 3 === 0)
          .join(),
      ),
    );
    expect(redChannels.size).toBeGreaterThan(NUM_SAMPLES / 2);
  });

  it('reads at most `prefetch` batches ahead of the consumer, and does read ahead', async () => {
    let reads = 0;
    const readImage = async (file: string) => {
      reads++;
      return readFile(file);
    };
    const prefetch = 2;
    const batchSize = 5;
    const expectedReads = (received: number) => Math.min(NUM_SAMPLES, (received + prefetch) * batchSize);
    const settle = async (target: number) => {
      const deadline = Date.now() + 5000;
      while (reads < target && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      // Give an over-eager loader time to overshoot.
      await new Promise((resolve) => setTimeout(resolve, 50));
    };
    let received = 0;
    for await (const _ of createBatchLoader(options({ prefetch, batchSize, readImage, concurrency: 4 }))) {
      received++;
      await settle(expectedReads(received));
      expect(reads).toBe(expectedReads(received));
    }
    expect(received).toBe(5);
  });

  it('stops reading when the consumer breaks out', async () => {
    let reads = 0;
    // Slow, one at a time: when the consumer breaks, most of the prefetched batch is still queued.
    const readImage = async (file: string) => {
      reads++;
      await new Promise((resolve) => setTimeout(resolve, 10));
      return readFile(file);
    };
    for await (const _ of createBatchLoader(options({ prefetch: 1, concurrency: 1, readImage }))) break;
    const readsAtBreak = reads;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(readsAtBreak).toBeLessThan(10);
    expect(reads).toBe(readsAtBreak);
  });

  it('names a missing file and says how to fix it', async () => {
    const missing = [...samples.slice(0, 4), { image: 'images/class0/gone.jpg', label: 0 }];
    await expect(collect(options({ samples: missing, shuffle: false }))).rejects.toMatchObject({
      name: 'SampleError',
      code: 'SAMPLE_MISSING',
      image: 'images/class0/gone.jpg',
      message: expect.stringMatching(/Image not found: .*images\/class0\/gone\.jpg.*--skip-corrupt/),
    });
    // The loader has no --data-root flag to check: the message names the manifest's data root instead.
    await expect(collect(options({ samples: missing, shuffle: false }))).rejects.toThrow(
      new RegExp(`reads its images from ${dataRoot}.*prepare --data`),
    );
    await expect(collect(options({ samples: missing, shuffle: false }))).rejects.not.toThrow(/--data-root/);
  });

  it('names a corrupt file and points to prepare --skip-corrupt', async () => {
    await writeFile(path.join(dataRoot, 'images/class1/broken.jpg'), 'not a jpeg');
    const corrupt = [{ image: 'images/class1/broken.jpg', label: 1 }, ...samples.slice(0, 9)];
    await expect(collect(options({ samples: corrupt, prefetch: 0 }))).rejects.toMatchObject({
      code: 'SAMPLE_CORRUPT',
      image: 'images/class1/broken.jpg',
      message: expect.stringMatching(/Cannot decode .*broken\.jpg.*prepare.*--skip-corrupt/),
    });
  });

  it('names the file whatever the preprocessing throws (a resize the geometry cannot take)', async () => {
    const thin = 'images/class2/thin.png';
    await writeFile(path.join(dataRoot, thin), await extremePng(1_400_000, 1));
    const large = { ...config, resizeShorterSide: 256, cropSize: 224 };
    await expect(
      collect(options({ samples: [{ image: thin, label: 2 }], config: large, prefetch: 0 })),
    ).rejects.toMatchObject({ image: thin, message: expect.stringContaining(path.join(dataRoot, thin)) });
  });

  it('rejects labels outside 0..numClasses−1 before reading anything', () => {
    expect(() => createBatchLoader(options({ numClasses: 2 }))).toThrow(/label 2, outside 0\.\.1/);
  });
});
