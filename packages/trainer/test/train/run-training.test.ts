import { mkdir, readdir, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { initBackend } from '@food/core/backend';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { learningRateAt } from '../../src/train/lr-schedule.ts';
import { runTraining, type TrainingHooks } from '../../src/train/run-training.ts';
import { tinyTrainConfig as tinyConfig, usePreparedSynth } from '../fixtures/prepared-synth.ts';
import { weightsOf } from '../helpers/checkpoint-weights.ts';

const quiet: TrainingHooks = { log: () => {}, shouldStop: () => false, progress: false };

/** The weights a run ended with (its `latest` checkpoint). */
const finalWeights = (runDir: string) => weightsOf(path.join(runDir, 'latest'));

describe('runTraining (tiny ResNet on synthetic Food-101)', () => {
  beforeAll(async () => {
    await initBackend('wasm', () => {});
  });
  const synth = usePreparedSynth({ classes: 4, imagesPerClass: 24 });

  it('learns the synthetic classes (train accuracy ≥ 0.9) and leaves no tensors behind', async () => {
    const before = tf.memory().numTensors;
    const outcome = await runTraining(
      tinyConfig(synth(), 'learn', { epochs: 16, augment: false, learningRate: 1e-2 }),
      quiet,
    );
    expect(outcome.status).toBe('completed');
    const last = outcome.history[outcome.history.length - 1];
    expect(Math.max(...outcome.history.slice(-4).map((r) => r.trainAccuracy))).toBeGreaterThanOrEqual(0.9);
    expect(outcome.history[0].trainLoss).toBeGreaterThan(last.trainLoss);
    expect(tf.memory().numTensors).toBe(before);
  }, 180_000);

  it('frees every tensor with a frozen trunk, cached features and gradient accumulation', async () => {
    const before = tf.memory().numTensors;
    const outcome = await runTraining(
      tinyConfig(synth(), 'accumulate', {
        epochs: 1,
        accumulate: 2,
        trainable: 'stage5',
        cacheFeatures: true,
      }),
      quiet,
    );
    expect(outcome.status).toBe('completed');
    expect(outcome.history[0].trainLoss).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
    // The checkpoint holds its preprocessing once: preprocess.json, not a copy in run-config.json.
    const runConfig = JSON.parse(
      await readFile(path.join(synth().root, 'accumulate', 'best', 'run-config.json'), 'utf8'),
    );
    expect(runConfig).not.toHaveProperty('preprocess');
    // Trained on `trainer synth` data: the model card's "not a food model" warning follows it.
    expect(runConfig.dataset).toEqual({ name: 'prepared', synthetic: true });
    expect(runConfig).toMatchObject({ accumulate: 2, trainable: 'stage5' });
  }, 180_000);

  it('follows --lr-schedule cosine with warm-up, and --patience stops when val top-1 stops improving', async () => {
    const config = tinyConfig(synth(), 'schedule', {
      epochs: 4,
      trainable: 'head',
      cacheFeatures: true,
      featureViews: 1,
      lrSchedule: 'cosine',
      warmupEpochs: 1,
      labelSmoothing: 0.1,
    });
    const outcome = await runTraining(config, quiet);
    expect(outcome.history).toHaveLength(4);
    const stepsPerEpoch = outcome.globalStep / 4;
    const schedule = {
      lrSchedule: 'cosine' as const,
      learningRate: 3e-3,
      warmupEpochs: 1,
      epochs: 4,
      stepsPerEpoch,
    };
    // Each epoch records the rate of its last step.
    for (const record of outcome.history) {
      expect(record.learningRate).toBeCloseTo(learningRateAt(schedule, record.epoch * stepsPerEpoch - 1), 12);
    }
    expect(outcome.history[3]!.learningRate).toBe(0);

    // A learning rate too small to change a prediction: val top-1 never beats epoch 1's.
    const stuck = await runTraining(
      tinyConfig(synth(), 'patience', {
        epochs: 6,
        learningRate: 1e-12,
        trainable: 'head',
        cacheFeatures: true,
        patience: 2,
      }),
      quiet,
    );
    expect(stuck.status).toBe('completed');
    expect(stuck.history.map((record) => record.epoch)).toEqual([1, 2, 3]);
    expect(stuck.bestEpoch).toBe(1);
  }, 180_000);

  it('resumed after an interruption mid-epoch, ends with the same weights as an uninterrupted run', async () => {
    const straight = tinyConfig(synth(), 'straight', { keepEpochs: 1 });
    await runTraining(straight, quiet);
    // --keep-epochs 1: only the newest epoch folder is left; best and latest are copies and stay.
    expect((await readdir(straight.out)).filter((name) => name.startsWith('epoch-'))).toEqual(['epoch-002']);

    const interrupted = tinyConfig(synth(), 'interrupted', { maxSteps: 3 });
    const first = await runTraining(interrupted, quiet);
    expect(first.status).toBe('max-steps');
    expect(first.epochsCompleted).toBe(0);
    const second = await runTraining({ ...interrupted, maxSteps: 11 }, quiet).catch((e) => e);
    expect(second).toBeInstanceOf(Error); // same --out without --resume is refused
    // Resuming with the same --max-steps stops at once rather than taking one more step.
    const again = await runTraining({ ...interrupted, resume: true }, quiet);
    expect([again.status, again.globalStep]).toEqual(['max-steps', 3]);
    const resumed = await runTraining({ ...interrupted, maxSteps: undefined, resume: true }, quiet);
    expect(resumed.status).toBe('completed');

    const [a, b] = [await finalWeights(straight.out), await finalWeights(interrupted.out)];
    expect(b.length).toBe(a.length);
    let maxDiff = 0;
    a.forEach((values, i) => {
      values.forEach((v, j) => {
        maxDiff = Math.max(maxDiff, Math.abs(v - b[i][j]));
      });
    });
    expect(maxDiff).toBeLessThanOrEqual(1e-6);
  }, 180_000);

  it('resumes with another --accumulate (the effective batch is the same), and refuses another --lr', async () => {
    const config = tinyConfig(synth(), 'accumulate-resume', { accumulate: 1, maxSteps: 2 });
    expect((await runTraining(config, quiet)).status).toBe('max-steps');
    const otherRate = await runTraining({ ...config, resume: true, learningRate: 1e-2 }, quiet).catch(
      (error: Error) => error,
    );
    expect(String(otherRate)).toMatch(/cannot resume .*learningRate was 0\.003, now 0\.01/);
    // What the OOM message advises: resume from the last checkpoint with a larger --accumulate.
    const resumed = await runTraining({ ...config, resume: true, accumulate: 2, maxSteps: 4 }, quiet);
    expect([resumed.status, resumed.globalStep]).toEqual(['max-steps', 4]);
    const saved = JSON.parse(await readFile(path.join(config.out, 'latest', 'run-config.json'), 'utf8'));
    expect(saved.accumulate).toBe(2);
  }, 180_000);

  it('--no-augment with --cache-features caches and draws no augmented views', async () => {
    const config = tinyConfig(synth(), 'no-augment', {
      epochs: 1,
      trainable: 'head',
      cacheFeatures: true,
      featureViews: 2,
      augment: false,
      featureCacheDir: path.join(synth().root, 'no-augment-cache'),
    });
    expect((await runTraining(config, quiet)).status).toBe('completed');
    const [cache] = await readdir(config.featureCacheDir);
    expect((await readdir(path.join(config.featureCacheDir, cache!))).sort()).toEqual([
      'cache.json',
      'centre.f16',
    ]);
  }, 180_000);

  it('--feature-cache-max-gb says how many views fit, caches those, and refuses before the first step when none do', async () => {
    const config = tinyConfig(synth(), 'budget', {
      epochs: 1,
      trainable: 'head',
      cacheFeatures: true,
      featureViews: 3,
      featureCacheDir: path.join(synth().root, 'budget-cache'),
    });
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);
    // The head's input here is 1 × 1 × 128 at float16: 256 bytes per image and view.
    const manifest = JSON.parse(await readFile(path.join(synth().prepared, 'manifest.json'), 'utf8'));
    const entries = (manifest.splits.train.length + manifest.splits.val.length) * 2;
    const oneView = { ...config, featureCacheMaxGb: (entries * 256) / 1e9 };
    expect((await runTraining(oneView, { ...quiet, log })).status).toBe('completed');
    expect(lines).toContainEqual(
      expect.stringMatching(/^feature cache: 3 views need .*; budget .* GB: caching 1 view /),
    );
    const [cache] = await readdir(config.featureCacheDir);
    expect(await readdir(path.join(config.featureCacheDir, cache!))).toContain('seed42-view1.f16');
    expect(await readdir(path.join(config.featureCacheDir, cache!))).not.toContain('seed42-view2.f16');

    const tooSmall = { ...config, out: `${config.out}-too-small`, featureCacheMaxGb: 1e-9 };
    await expect(runTraining(tooSmall, quiet)).rejects.toThrow(
      /centre crops alone need 0\.0 GB, over --feature-cache-max-gb 1e-9/,
    );
    expect(await readdir(tooSmall.out).catch(() => [])).not.toContain('latest');
  }, 180_000);

  it('--val-fraction redraws the split with --seed, reads no test photo, and reuses the feature cache', async () => {
    const root = synth().root;
    const manifest = JSON.parse(await readFile(path.join(synth().prepared, 'manifest.json'), 'utf8'));
    const cached = {
      epochs: 1,
      trainable: 'head',
      cacheFeatures: true,
      featureViews: 1,
      featureCacheDir: path.join(root, 'selection-cache'),
    } as const;
    await runTraining(tinyConfig(synth(), 'listed-split', cached), quiet);
    // A run cannot select on test: with every test photo gone, training still runs.
    const testPhotos = path.join(root, 'test-photos-moved');
    await mkdir(testPhotos);
    for (const [index, sample] of manifest.splits.test.entries()) {
      await rename(path.join(manifest.dataRoot, sample.image), path.join(testPhotos, `${index}.jpg`));
    }
    try {
      const lines: string[] = [];
      const config = tinyConfig(synth(), 'selection', { ...cached, valFraction: 0.3, seed: 42 });
      const outcome = await runTraining(config, { ...quiet, log: (line) => lines.push(line) });
      expect(outcome.status).toBe('completed');
      const pool = manifest.splits.train.length + manifest.splits.val.length;
      // 4 classes of 18 training photos: round(0.3 × 18) = 5 of each held out.
      const val = lines.find((line) => line.startsWith('split: '));
      expect(val).toMatch(
        new RegExp(
          `^split: ${pool - 20} training and 20 validation photos, redrawn with --seed 42 at --val-fraction 0\\.3 \\(a validation top-1 near 87 % has a standard error of 7\\.5 points\\); test is not read$`,
        ),
      );
      // The same photos, split otherwise: every cached feature is reused.
      expect(lines).toContainEqual(expect.stringMatching(/^feature cache: .* \(reused\)$/));
      const saved = JSON.parse(await readFile(path.join(config.out, 'best', 'run-config.json'), 'utf8'));
      expect(saved).toMatchObject({ valFraction: 0.3, seed: 42 });
      // Another --val-fraction is another run: --resume refuses it.
      await expect(
        runTraining({ ...config, epochs: 2, resume: true, valFraction: 0.2 }, quiet),
      ).rejects.toThrow(/valFraction was 0\.3, now 0\.2/);
    } finally {
      for (const [index, sample] of manifest.splits.test.entries()) {
        await rename(path.join(testPhotos, `${index}.jpg`), path.join(manifest.dataRoot, sample.image));
      }
    }
  }, 180_000);
});
