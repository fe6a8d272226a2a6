import type { RunConfig } from '@food/core/checkpoint/run-config';

/** Every setting of a training run: the checkpoint contract's run config (core/checkpoint/run-config.ts). */
export type TrainConfig = RunConfig;

/** The recipe (README, "The recipe"): ResNet-50, Adam lr 1e-5 + L2 5e-4, 14 epochs, batch 128, 224 px. */
export const RECIPE_DEFAULTS = {
  learningRate: 1e-5,
  weightDecay: 5e-4,
  epochs: 14,
  batchSize: 128,
  accumulate: 'auto',
  imageSize: 224,
  seed: 42,
  trainable: 'all',
  cacheFeatures: false,
  augment: true,
  widthMultiplier: 1,
  blocksPerStage: [3, 4, 6, 3],
} as const satisfies Partial<TrainConfig>;
