/**
 * Projected wall times of whole runs on the official Food-101 split (750 train / 250 test photos per
 * class, 10 % of train held out for validation) from the rates bench:scale measured on this machine.
 *
 * Scaling assumption: every step is CPU-bound and parallel (decoding in worker threads, convolutions on
 * TensorFlow's thread pool), so its rate grows linearly with cores from the measured core count. That is
 * an upper bound on the speed-up: docs/benchmarks.md measured the loader at 1.57× from 1 to 2 cores.
 */

import { featureCacheEntries } from '@food/trainer/building-blocks';

/** Rates measured at `cores` cores (all of this machine's). */
export interface MeasuredRates {
  cores: number;
  /** prepare, images checked per second. */
  prepare: number;
  /** stats, training images per second. */
  stats: number;
  /** Training loader with augmentation, images per second. */
  loader: number;
  /** Feature cache entries (image views through the frozen trunk) per second. */
  featureCache: number;
  /** Bytes one cache entry takes on disk. */
  featureEntryBytes: number;
  /** One --preset cpu training step of 32 on cached features, seconds. */
  presetStepSeconds: number;
  /** Full network training, images per second. */
  fullTrain: number;
  /** evaluate on ONNX Runtime, test images per second. */
  evaluate: number;
}

export interface RecipeSettings {
  /** The CPU preset's augmented views per training image, its epochs and batch. */
  presetViews: number;
  presetEpochs: number;
  presetBatch: number;
  /** The GPU recipe (README): 14 epochs of the full network. */
  gpuEpochs: number;
  /** Assumed, not measured: what one GPU trains, in images per second. */
  gpuImagesPerSecond: number;
}

export interface Projection {
  recipe: 'preset-cpu' | 'gpu';
  classes: number;
  cores: number;
  seconds: number;
  /** Disk the run needs beyond the photos (the preset's feature cache), bytes. */
  diskBytes: number;
  /** Per phase, what it costs and the measured rate it scales from. */
  phases: Array<{ name: string; seconds: number; from: string }>;
}

export const PROJECTED_CLASSES = [50, 101] as const;
export const PROJECTED_CORES = [2, 16, 64] as const;

export function food101Split(classes: number): { train: number; val: number; test: number } {
  return { train: 675 * classes, val: 75 * classes, test: 250 * classes };
}

const rate = (value: number, unit: string) => `${value.toFixed(value < 10 ? 2 : 1)} ${unit}`;

/** Prepare, stats and evaluation: the same in both recipes. */
function commonPhases(classes: number, rates: MeasuredRates, speedUp: number) {
  const split = food101Split(classes);
  return {
    before: [
      {
        name: 'prepare',
        seconds: (1000 * classes) / (rates.prepare * speedUp),
        from: `prepare ${rate(rates.prepare, 'photos/s')}`,
      },
      {
        name: 'stats',
        seconds: split.train / (rates.stats * speedUp),
        from: `stats ${rate(rates.stats, 'photos/s')}`,
      },
    ],
    after: [
      {
        name: 'evaluate',
        seconds: split.test / (rates.evaluate * speedUp),
        from: `evaluate ${rate(rates.evaluate, 'photos/s')}`,
      },
    ],
  };
}

export function projectPresetCpu(
  classes: number,
  cores: number,
  rates: MeasuredRates,
  recipe: RecipeSettings,
): Projection {
  const speedUp = cores / rates.cores;
  const split = food101Split(classes);
  const entries = featureCacheEntries(split.train + split.val, recipe.presetViews);
  const steps = recipe.presetEpochs * Math.ceil(split.train / recipe.presetBatch);
  const { before, after } = commonPhases(classes, rates, speedUp);
  const phases = [
    ...before,
    {
      name: 'feature cache',
      seconds: entries / (rates.featureCache * speedUp),
      from: `feature cache ${rate(rates.featureCache, 'entries/s')}`,
    },
    {
      name: 'training',
      seconds: (steps * rates.presetStepSeconds) / speedUp,
      from: `preset step ${rate(rates.presetStepSeconds, 's')}`,
    },
    {
      // A validation photo costs a forward pass only; priced as a training photo, this errs long.
      name: 'validation',
      seconds: (recipe.presetEpochs * split.val * rates.presetStepSeconds) / recipe.presetBatch / speedUp,
      from: `preset step ${rate(rates.presetStepSeconds, 's')} per ${recipe.presetBatch} photos`,
    },
    ...after,
  ];
  const seconds = phases.reduce((sum, phase) => sum + phase.seconds, 0);
  return {
    ...{ recipe: 'preset-cpu', classes, cores, seconds, phases },
    diskBytes: entries * rates.featureEntryBytes,
  };
}

/**
 * The GPU recipe: 14 epochs of training and validation images at the slower of the assumed GPU rate and
 * what the loader's decode workers deliver (every core but two: the training loop and TensorFlow's host
 * threads, as README's sizing says).
 */
export function projectGpu(
  classes: number,
  cores: number,
  rates: MeasuredRates,
  recipe: RecipeSettings,
): Projection {
  const speedUp = cores / rates.cores;
  const split = food101Split(classes);
  const loaderRate = (rates.loader / rates.cores) * Math.max(1, cores - 2);
  const imagesPerSecond = Math.min(recipe.gpuImagesPerSecond, loaderRate);
  const bound =
    imagesPerSecond === loaderRate
      ? `loader ${rate(rates.loader, 'photos/s')} (${Math.max(1, cores - 2)} decode core${cores > 3 ? 's' : ''})`
      : `assumed GPU ${rate(recipe.gpuImagesPerSecond, 'photos/s')} (not measured)`;
  const { before, after } = commonPhases(classes, rates, speedUp);
  const phases = [
    ...before,
    {
      name: 'training',
      seconds: (recipe.gpuEpochs * (split.train + split.val)) / imagesPerSecond,
      from: bound,
    },
    ...after,
  ];
  const seconds = phases.reduce((sum, phase) => sum + phase.seconds, 0);
  return { recipe: 'gpu', classes, cores, seconds, diskBytes: 0, phases };
}

export function allProjections(rates: MeasuredRates, recipe: RecipeSettings): Projection[] {
  return (['preset-cpu', 'gpu'] as const).flatMap((kind) =>
    PROJECTED_CLASSES.flatMap((classes) =>
      PROJECTED_CORES.map((cores) =>
        kind === 'gpu'
          ? projectGpu(classes, cores, rates, recipe)
          : projectPresetCpu(classes, cores, rates, recipe),
      ),
    ),
  );
}
