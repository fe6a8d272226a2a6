import path from 'node:path';
import { initBackend } from '@food/core/backend';
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { beforeAll, describe, expect, it } from 'vitest';
import { splitBatch } from '../../src/train/micro-batch-runner.ts';
import { mixBatch, mixupDraw, sampleBeta } from '../../src/train/mixup.ts';
import { runTraining } from '../../src/train/run-training.ts';
import { tinyTrainConfig, usePreparedSynth } from '../fixtures/prepared-synth.ts';
import { maxAbsDiff, weightsOf } from '../helpers/checkpoint-weights.ts';

const quiet = { log: () => {}, shouldStop: () => false, progress: false as const };

describe('sampleBeta', () => {
  it('draws Beta(α, α): mean 1/2, variance 1 / (4(2α + 1)), in (0, 1)', () => {
    const random = seedrandom('beta');
    for (const alpha of [0.2, 1, 4]) {
      const draws = Array.from({ length: 4000 }, () => sampleBeta(random, alpha));
      const mean = draws.reduce((sum, x) => sum + x, 0) / draws.length;
      const variance = draws.reduce((sum, x) => sum + (x - mean) ** 2, 0) / draws.length;
      expect(draws.every((x) => x >= 0 && x <= 1)).toBe(true);
      expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
      expect(Math.abs(variance - 1 / (4 * (2 * alpha + 1)))).toBeLessThan(0.01);
    }
  });
});

describe('mixBatch', () => {
  beforeAll(async () => {
    await initBackend('cpu', () => {});
  });

  it('blends inputs and one-hot targets with one λ and partner order, drawn from (seed, step)', () => {
    const batch = { inputs: tf.tensor2d([[1], [2], [3], [4]]), labels: tf.tensor1d([0, 1, 2, 0], 'int32') };
    const before = tf.memory().numTensors;
    const mixed = mixBatch(batch, { alpha: 0.4, seed: 7, step: 3, numClasses: 3 });
    expect(tf.memory().numTensors).toBe(before + 3);
    const { lambda, partner } = mixupDraw(7, 3, 4, 0.4);
    expect(mixupDraw(7, 3, 4, 0.4)).toEqual({ lambda, partner });
    expect(mixupDraw(7, 4, 4, 0.4)).not.toEqual({ lambda, partner });
    expect(mixupDraw(8, 3, 4, 0.4)).not.toEqual({ lambda, partner });
    const inputs = [1, 2, 3, 4];
    const labels = [0, 1, 2, 0];
    expect([...mixed.inputs.dataSync()]).toEqual(
      inputs.map((x, i) => expect.closeTo(lambda * x + (1 - lambda) * inputs[partner[i]!]!, 5)),
    );
    const targets = mixed.targets!.arraySync();
    targets.forEach((row, i) => {
      const expected = [0, 1, 2].map(
        (c) => lambda * Number(labels[i] === c) + (1 - lambda) * Number(labels[partner[i]!] === c),
      );
      expect(row).toEqual(expected.map((value) => expect.closeTo(value, 5)));
    });
    expect([...mixed.labels.dataSync()]).toEqual(labels);
    // Micro-batches carry their rows of the targets.
    const parts = splitBatch(mixed, 2);
    expect(parts.map((part) => part.targets!.shape)).toEqual([
      [2, 3],
      [2, 3],
    ]);
    tf.dispose([...parts.flatMap((part) => [part.inputs, part.labels, part.targets!])]);
    tf.dispose([mixed.inputs, mixed.labels, mixed.targets!, batch.inputs, batch.labels]);
  });
});

describe('pnpm train --mixup', () => {
  beforeAll(async () => {
    await initBackend('wasm', () => {});
  });
  const synth = usePreparedSynth({ classes: 3, imagesPerClass: 10 });

  it('trains on cached features without leaking tensors, changes the run, and resumes exactly', async () => {
    const mixup = { mixupAlpha: 0.2, epochs: 2, trainable: 'stage5', cacheFeatures: true } as const;
    const before = tf.memory().numTensors;
    const straight = tinyTrainConfig(synth(), 'mixup-straight', mixup);
    expect((await runTraining(straight, quiet)).status).toBe('completed');
    expect(tf.memory().numTensors).toBe(before);
    const plain = tinyTrainConfig(synth(), 'no-mixup', { ...mixup, mixupAlpha: undefined });
    await runTraining(plain, quiet);
    const latest = (dir: string) => weightsOf(path.join(dir, 'latest'));
    expect(maxAbsDiff(await latest(straight.out), await latest(plain.out))).toBeGreaterThan(0);

    const interrupted = tinyTrainConfig(synth(), 'mixup-interrupted', { ...mixup, maxSteps: 3 });
    expect((await runTraining(interrupted, quiet)).status).toBe('max-steps');
    await runTraining({ ...interrupted, maxSteps: undefined, resume: true }, quiet);
    expect(maxAbsDiff(await latest(straight.out), await latest(interrupted.out))).toBeLessThanOrEqual(1e-6);
  }, 180_000);
});
