import path from 'node:path';
import { initBackend } from '@food/core/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../../src/data/prepared-set.ts';
import { runSplit } from '../../src/data/run-split.ts';
import { runEvaluation } from '../../src/evaluate/run-evaluation.ts';
import { runTraining } from '../../src/train/run-training.ts';
import { tinyTrainConfig, usePreparedSynth } from '../fixtures/prepared-synth.ts';

describe('pnpm evaluate on a pnpm train --val-fraction run', () => {
  beforeAll(async () => {
    await initBackend('wasm', () => {});
  });
  const synth = usePreparedSynth({ classes: 3, imagesPerClass: 10 });

  it("scores --split val on the run's own validation photos, and test on the official list", async () => {
    const config = tinyTrainConfig(synth(), 'redrawn', {
      epochs: 1,
      augment: false,
      valFraction: 0.5,
      seed: 3,
    });
    await runTraining(config, { log: () => {}, shouldStop: () => false, progress: false });
    const manifest = await readManifest(synth().prepared);
    const own = runSplit(manifest, config).val;
    expect(own.length).not.toBe(manifest.splits.val.length);
    const evaluate = async (split: 'val' | 'test') =>
      (
        await runEvaluation(
          {
            checkpoint: path.join(config.out, 'best'),
            prepared: synth().prepared,
            split,
            out: path.join(synth().root, `report-${split}`),
            batchSize: 8,
            latencySamples: 1,
          },
          { log: () => {}, progress: false },
        )
      ).metrics.numImages;
    expect(await evaluate('val')).toBe(own.length);
    expect(await evaluate('test')).toBe(manifest.splits.test.length);
  }, 120_000);
});
