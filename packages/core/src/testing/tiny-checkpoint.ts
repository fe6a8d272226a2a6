import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initBackend } from '../backend.ts';
import type { EpochMetrics } from '../checkpoint/epoch-metrics.ts';
import type { RunConfig } from '../checkpoint/run-config.ts';
import { runPaths } from '../checkpoint/run-layout.ts';
import { saveCheckpoint } from '../checkpoint/save-checkpoint.ts';
import { buildResNet50 } from '../model/resnet50.ts';
import { DEFAULT_PREPROCESS, type PreprocessConfig } from '../preprocess/config.ts';

export const TINY_CLASSES = ['apple_pie', 'chicken_wings', 'french_fries', 'ramen', 'sushi'];

export const TINY_PREPROCESS: PreprocessConfig = {
  ...DEFAULT_PREPROCESS,
  resizeShorterSide: 36,
  cropSize: 32,
  mean: [0.55, 0.45, 0.35],
  std: [0.25, 0.25, 0.25],
};

/** run-config.json of the tiny run: the settings `pnpm train` saves (RunConfig), sized for the tiny model. */
const TINY_RUN_CONFIG: RunConfig = {
  prepared: 'data/prepared/tiny',
  out: 'checkpoints/tiny-run',
  learningRate: 1e-3,
  weightDecay: 5e-4,
  epochs: 3,
  batchSize: 8,
  accumulate: 1,
  imageSize: 32,
  seed: 7,
  weights: 'none',
  backend: 'cpu',
  trainable: 'all',
  cacheFeatures: false,
  augment: true,
  widthMultiplier: 1 / 16,
  blocksPerStage: [1, 1, 1, 1],
};

/** metrics.json as the trainer writes it after epoch 2, the best so far. */
const TINY_EPOCH_METRICS: EpochMetrics = {
  epoch: 2,
  trainLoss: 1.31,
  trainAccuracy: 0.47,
  valLoss: 1.52,
  valTop1: 0.41,
  valTop5: 0.93,
  learningRate: 1e-3,
  seconds: 4.2,
  imagesPerSecond: 38,
  bestValTop1: 0.41,
  bestEpoch: 2,
};

export interface TinyCheckpoint {
  /** The checkpoint folder, `<tmp>/tiny-run/best`. */
  dir: string;
  cleanup(): Promise<void>;
}

/**
 * A real checkpoint (saveCheckpoint, with the typed parts the trainer passes it) of a tiny ResNet (width
 * 1/16, one block per stage, 32×32 input, 5 classes), with metrics and a curves.svg, so the server's
 * tests, `pnpm bench:serve` without --checkpoint and the deploy checks run the production path in seconds.
 */
export async function createTinyCheckpoint(
  options: { withAssets?: boolean; classes?: string[]; runConfig?: Partial<RunConfig> } = {},
): Promise<TinyCheckpoint> {
  const classes = options.classes ?? TINY_CLASSES;
  await initBackend('cpu', () => {});
  const root = await mkdtemp(path.join(tmpdir(), 'food-tiny-checkpoint-'));
  const dir = runPaths(path.join(root, 'tiny-run')).best;
  const model = buildResNet50({
    numClasses: classes.length,
    inputSize: 32,
    widthMultiplier: 1 / 16,
    blocksPerStage: [1, 1, 1, 1],
    seed: 7,
  });
  await saveCheckpoint(dir, {
    model,
    preprocess: TINY_PREPROCESS,
    labels: { classes },
    runConfig: { ...TINY_RUN_CONFIG, ...options.runConfig },
    metrics: TINY_EPOCH_METRICS,
  });
  model.dispose();
  if (options.withAssets !== false) {
    await writeFile(
      path.join(dir, 'curves.svg'),
      '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"><polyline points="0,90 100,40 200,20" fill="none" stroke="#c2410c" stroke-width="3"/></svg>\n',
    );
  }
  return { dir, cleanup: () => rm(root, { recursive: true, force: true }) };
}
