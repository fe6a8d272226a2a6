/**
 * Named training recipes for CPUs, measured on food10 (docs/results.md): `pnpm train --preset cpu` and
 * the real-photo `pnpm demo`. Each sets some of the settings whose row in core/checkpoint/run-settings.ts
 * says a preset may (PresetFields); flags given on the command line win.
 */
import type { BackendInfo } from '@food/core/backend';
import type { PresetFields } from '@food/core/checkpoint/run-config';

export type { PresetFields };

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
 * `pnpm train --preset cpu`: chosen on validation (docs/results.md, "Choosing the CPU preset on
 * validation"): 288-px crops beat 224 on both validation splits tried (+0.4 and +2.7 points, paired +1.6
 * ± 0.6) at 1.6× the run time (then 89.9 ± 0.3 % food10 test top-1 over 3 seeds, against 87.7 ± 0.7);
 * stages 4–5, 6 views over 12 epochs, mixup and an EMA of the weights scored within a standard error of
 * the 224-px recipe. Stage 5 trains on cached conv4 features, so it wants the
 * tensorflow backend (`pnpm setup:tensorflow`).
 */
export const CPU_PRESET = {
  trainable: 'stage5',
  cacheFeatures: true,
  featureViews: 3,
  imageSize: 288,
  learningRate: 3e-4,
  lrSchedule: 'cosine',
  warmupEpochs: 0.3,
  labelSmoothing: 0.1,
  epochs: 8,
  batchSize: 32,
} as const satisfies PresetFields;

export const TRAIN_PRESETS = { cpu: CPU_PRESET } as const satisfies Record<string, PresetFields>;

/** What each preset is for, in `--preset`'s help (which adds the flags it sets). */
export const PRESET_SUMMARIES: Record<keyof typeof TRAIN_PRESETS, string> = {
  cpu: 'a stage-5 fine-tune on cached 288-px features, chosen on food10 validation for a 2-core CPU',
};

/**
 * `--preset cpu` trains stage 5, whose food10 epochs take about a minute on the tensorflow backend and
 * took 17–27 on wasm at 224 px (docs/results.md): on another backend, say so before the run starts rather
 * than after hours.
 */
export function presetBackendWarning(
  preset: keyof typeof TRAIN_PRESETS | undefined,
  backend: BackendInfo['name'],
): string | undefined {
  if (preset !== 'cpu' || backend === 'tensorflow') return undefined;
  return `warning: --preset cpu was measured on the tensorflow backend (docs/results.md); its stage-5 epochs take about 1 min each there on 2 cores, and took 17–27 min on wasm at 224 px. Run \`pnpm setup:tensorflow\` once, then train again.`;
}
