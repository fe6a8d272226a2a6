/**
 * `--seed` drives every random choice of a run: the train/val split (with --val-fraction), the
 * initialisation, the batch order, the augmentation of images, the cached views and which view an epoch
 * draws. (The class sample is prepare's `--seed`: a recipe's seeds train the same classes.)
 */

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { initBackend } from '@food/core/backend';
import { parsePreprocessConfig } from '@food/core/preprocess/config';
import { beforeAll, describe, expect, it } from 'vitest';
import { epochBatches } from '../../src/data/epoch-batches.ts';
import { createBatchLoader } from '../../src/data/loader.ts';
import { readManifest } from '../../src/data/prepared-set.ts';
import { runSplit } from '../../src/data/run-split.ts';
import { drawView } from '../../src/train/cached-feature-source.ts';
import { runTraining } from '../../src/train/run-training.ts';
import { startNewRun } from '../../src/train/start-run.ts';
import { tinyTrainConfig, usePreparedSynth } from '../fixtures/prepared-synth.ts';
import { maxAbsDiff, weightsOf } from '../helpers/checkpoint-weights.ts';

const quiet = { log: () => {}, shouldStop: () => false, progress: false as const };

describe('--seed', () => {
  beforeAll(async () => {
    await initBackend('wasm', () => {});
  });
  const synth = usePreparedSynth({ classes: 3, imagesPerClass: 10 });

  it('draws each random choice of a run: the same for a seed, another for another seed', async () => {
    const manifest = await readManifest(synth().prepared);
    const split = (seed: number) => runSplit(manifest, { seed, valFraction: 0.3 }).val.map((s) => s.image);
    expect(split(1)).toEqual(split(1));
    expect(split(2)).not.toEqual(split(1));

    const order = (seed: number) =>
      epochBatches({ numSamples: 40, batchSize: 8, seed, shuffle: true, epoch: 0 });
    expect(order(1)).toEqual(order(1));
    expect(order(2)).not.toEqual(order(1));

    const views = (seed: number) => Array.from({ length: 40 }, (_, index) => drawView(seed, 0, index, 3));
    expect(views(1)).toEqual(views(1));
    expect(views(2)).not.toEqual(views(1));

    const preprocess = parsePreprocessConfig(
      JSON.parse(await readFile(path.join(synth().prepared, 'preprocess.json'), 'utf8')),
      'preprocess.json',
    );
    const augmented = async (seed: number) => {
      const loader = createBatchLoader({
        samples: manifest.splits.train.slice(0, 4),
        dataRoot: manifest.dataRoot,
        config: preprocess,
        batchSize: 4,
        numClasses: 3,
        shuffle: false,
        augment: true,
        seed,
        epoch: 0,
        concurrency: 1,
      });
      for await (const batch of loader) return batch.images;
      throw new Error('no batch');
    };
    expect(await augmented(1)).toEqual(await augmented(1));
    expect(await augmented(2)).not.toEqual(await augmented(1));

    const initial = async (seed: number) => {
      const config = tinyTrainConfig(synth(), 'unused', { seed });
      const start = await startNewRun(config, manifest.classes, preprocess, () => {});
      const weights = start.model.getWeights().map((weight) => weight.dataSync() as Float32Array);
      start.model.dispose();
      return weights;
    };
    expect(maxAbsDiff(await initial(1), await initial(1))).toBe(0);
    expect(maxAbsDiff(await initial(2), await initial(1))).toBeGreaterThan(0);
  }, 60_000);

  it('a run is a function of its seed: the same seed ends with the same weights, another with others', async () => {
    // Cached views and a redrawn split, so every seeded choice is in the run.
    const run = async (name: string, seed: number) => {
      const config = tinyTrainConfig(synth(), name, {
        epochs: 2,
        seed,
        valFraction: 0.3,
        trainable: 'head',
        cacheFeatures: true,
        featureViews: 2,
      });
      await runTraining(config, quiet);
      return weightsOf(path.join(config.out, 'latest'));
    };
    const first = await run('seed1', 1);
    expect(maxAbsDiff(await run('seed1-again', 1), first)).toBe(0);
    expect(maxAbsDiff(await run('seed2', 2), first)).toBeGreaterThan(0);
  }, 120_000);
});
