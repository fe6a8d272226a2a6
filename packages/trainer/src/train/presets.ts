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
 * validation"): stages 4–5, 6 views over 12 epochs and mixup scored within a standard error of it at up to
 * 1.7× the time, so the cheapest stays. Stage 5 trains on cached conv4 features, so it wants the
 * tensorflow backend (`pnpm setup:tensorflow`).
 */
export const CPU_PRESET = {
  trainable: 'stage5',
  cacheFeatures: true,
  featureViews: 3,
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
  cpu: 'a stage-5 fine-tune on cached features, chosen on food10 validation for a 2-core CPU',
};

/**
 * `--preset cpu` trains stage 5, whose food10 epochs took 2.5–3 minutes on the tensorflow backend and
 * 17–27 on wasm (docs/results.md): on another backend, say so before the run starts rather than after an hour.
 */
export function presetBackendWarning(
  preset: keyof typeof TRAIN_PRESETS | undefined,
  backend: BackendInfo['name'],
): string | undefined {
  if (preset !== 'cpu' || backend === 'tensorflow') return undefined;
  return `warning: --preset cpu was measured on the tensorflow backend (docs/results.md); its stage-5 epochs took 2.5–3 min each there on 2 cores, and 17–27 min on wasm. Run \`pnpm setup:tensorflow\` once, then train again.`;
}
