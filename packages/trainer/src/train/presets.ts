/**
 * Named training recipes for CPUs, measured on food10 (docs/results.md): `pnpm train --preset cpu` and
 * the real-photo `pnpm demo`. Each is a set of TrainConfig fields; flags given on the command line win.
 */
import type { TrainConfig } from './run-config.ts';

export type PresetFields = Pick<
  TrainConfig,
  | 'trainable'
  | 'cacheFeatures'
  | 'featureViews'
  | 'learningRate'
  | 'lrSchedule'
  | 'warmupEpochs'
  | 'labelSmoothing'
  | 'epochs'
  | 'batchSize'
>;

/**
 * `pnpm demo --data --weights`: the new head on frozen ImageNet features, the trunk run once per image
 * on ONNX Runtime; the epochs on cached features take seconds, so the time is the caching.
 */
export const DEMO_FINE_TUNE = {
  trainable: 'head',
  cacheFeatures: true,
  featureViews: 0,
  learningRate: 1e-3,
  lrSchedule: 'cosine',
  warmupEpochs: 0,
  labelSmoothing: 0.1,
  epochs: 20,
  batchSize: 32,
} as const satisfies PresetFields;

/**
 * `pnpm train --preset cpu`: the best food10 fine-tune found that fits in 45 minutes on 2 cores,
 * feature caching included (docs/results.md has the measurement and the other candidates).
 */
export const CPU_PRESET = {
  trainable: 'head',
  cacheFeatures: true,
  featureViews: 1,
  learningRate: 1e-3,
  lrSchedule: 'cosine',
  warmupEpochs: 0,
  labelSmoothing: 0.1,
  epochs: 30,
  batchSize: 32,
} as const satisfies PresetFields;

export const TRAIN_PRESETS = { cpu: CPU_PRESET } as const satisfies Record<string, PresetFields>;
