/**
 * What `pnpm bench:scale` runs: the folders it works in and each step's command line, derived from the
 * options alone so that a test can read the plan without running it.
 */
import path from 'node:path';

export interface ScaleOptions {
  /** Holds the generated set (kept between runs) and this run's outputs (replaced each run). */
  workDir: string;
  /** Classes generated and prepared in full (Food-101: 101). */
  classes: number;
  /** Photos per class, split 75:25 train:test like the official lists (Food-101: 1,000). */
  perClass: number;
  /** Classes of the second prepare, on which stats, the loader, training and evaluation run (the recipe's 50). */
  subsetClasses: number;
  seed: number;
  /** Training images (and as many validation images) whose features the preset caches. */
  featureSlice: number;
  presetSteps: number;
  fullSteps: number;
  fullBatch: number;
  /** Imported ImageNet weights, or 'none'. */
  weights: string;
  /** Tiny network at 64 px: checks the harness in seconds, the figures mean nothing. */
  quick: boolean;
}

export type StepName =
  | 'generate'
  | 'prepare-all'
  | 'prepare-subset'
  | 'stats'
  | 'loader-epoch'
  | 'feature-cache'
  | 'preset-start'
  | 'preset-steps'
  | 'full-start'
  | 'full-steps'
  | 'export'
  | 'evaluate';

export interface ScaleStep {
  name: StepName;
  /** What the step does, for the report. */
  title: string;
  /** `trainer`: the food-trainer CLI; `child`: ./scale-child.ts. */
  program: 'trainer' | 'child';
  args: string[];
}

export interface ScalePaths {
  set: string;
  run: string;
  preparedAll: string;
  preparedSubset: string;
  featureCache: string;
  runs: string;
  report: string;
}

/** The generated set is keyed by its size and seed, so a run of another size does not reuse it. */
export function scalePaths(options: ScaleOptions): ScalePaths {
  const run = path.join(options.workDir, 'run');
  return {
    set: path.join(options.workDir, `set-${options.classes}x${options.perClass}-seed${options.seed}`),
    run,
    preparedAll: path.join(run, `prepared-${options.classes}`),
    preparedSubset: path.join(run, `prepared-${options.subsetClasses}`),
    featureCache: path.join(run, 'feature-cache'),
    runs: path.join(run, 'checkpoints'),
    report: path.join(run, 'evaluation'),
  };
}

/** `--quick`'s network: ResNet-50's shape at an eighth of its width, one block per stage, 64 px. */
const QUICK_NETWORK = ['--width', '0.125', '--blocks', '1,1,1,1', '--image-size', '64'];

function trainingArgs(options: ScaleOptions): string[] {
  const weights = ['--weights', options.weights];
  return options.quick ? [...weights, ...QUICK_NETWORK] : weights;
}

/**
 * The preset on a slice: `--limit` keeps featureSlice images of each split; enough epochs that presetSteps
 * steps fit. The start-up step (one step, cache already filled) is what the others' times are net of.
 */
function presetStep(options: ScaleOptions, paths: ScalePaths, out: string, maxSteps: number): string[] {
  const stepsPerEpoch = Math.ceil(options.featureSlice / 32);
  return [
    ...['train', '--preset', 'cpu', '--prepared', paths.preparedSubset, '--out', path.join(paths.runs, out)],
    ...['--limit', String(options.featureSlice), '--max-steps', String(maxSteps)],
    ...['--epochs', String(Math.max(1, Math.ceil(options.presetSteps / stepsPerEpoch)))],
    ...['--feature-cache-dir', paths.featureCache, '--export', 'none', '--no-progress', '--overwrite'],
    // A slice's epochs are short: without this, 8 or more full checkpoints (about 250 MB each) pile up.
    ...['--keep-epochs', '1'],
    ...trainingArgs(options),
  ];
}

/** The full network on images: one epoch longer than fullSteps, so no validation pass falls inside. */
function fullStep(options: ScaleOptions, paths: ScalePaths, out: string, maxSteps: number): string[] {
  return [
    ...['train', '--prepared', paths.preparedSubset, '--out', path.join(paths.runs, out)],
    ...['--batch-size', String(options.fullBatch), '--accumulate', '1', '--epochs', '1'],
    ...['--limit', String((options.fullSteps + 1) * options.fullBatch), '--max-steps', String(maxSteps)],
    ...['--export', 'none', '--no-progress', '--overwrite'],
    ...trainingArgs(options),
  ];
}

export function scaleSteps(options: ScaleOptions): ScaleStep[] {
  return [...dataSteps(options), ...trainingSteps(options)];
}

/** The data set: generated, prepared twice, its statistics and one epoch through the loader. */
function dataSteps(options: ScaleOptions): ScaleStep[] {
  const paths = scalePaths(options);
  const { classes, perClass, subsetClasses, seed } = options;
  const prepare = (out: string, count: number) => [
    ...['prepare', '--data', paths.set, '--out', out, '--classes', String(count)],
    ...['--seed', String(seed), '--no-progress'],
  ];
  return [
    {
      name: 'generate',
      title: `generate ${classes} × ${perClass} synthetic photos (512 px, JPEG quality 75–90)`,
      program: 'child',
      args: ['generate', paths.set, String(classes), String(perClass), String(seed)],
    },
    {
      name: 'prepare-all',
      title: `prepare --classes ${classes} (decode every pixel of every photo)`,
      program: 'trainer',
      args: prepare(paths.preparedAll, classes),
    },
    {
      name: 'prepare-subset',
      title: `prepare --classes ${subsetClasses}`,
      program: 'trainer',
      args: prepare(paths.preparedSubset, subsetClasses),
    },
    {
      name: 'stats',
      title: `stats of the ${subsetClasses}-class training split`,
      program: 'trainer',
      args: ['stats', '--prepared', paths.preparedSubset, '--no-progress'],
    },
    {
      name: 'loader-epoch',
      title: `one epoch of the training loader with augmentation (${subsetClasses} classes, batch 32)`,
      program: 'child',
      args: ['loader-epoch', paths.preparedSubset],
    },
  ];
}

/** Both trainings, each net of its start-up run, then the full network exported and evaluated. */
function trainingSteps(options: ScaleOptions): ScaleStep[] {
  const paths = scalePaths(options);
  const fullCheckpoint = path.join(paths.runs, 'full-steps', 'latest');
  return [
    {
      name: 'feature-cache',
      title: `--preset cpu: cache the features of a ${options.featureSlice}-image slice, then 1 step`,
      program: 'trainer',
      args: presetStep(options, paths, 'preset-cache', 1),
    },
    {
      name: 'preset-start',
      title: '--preset cpu: start-up and 1 step on the filled cache',
      program: 'trainer',
      args: presetStep(options, paths, 'preset-start', 1),
    },
    {
      name: 'preset-steps',
      title: `--preset cpu: ${options.presetSteps} steps of 32 on cached features`,
      program: 'trainer',
      args: presetStep(options, paths, 'preset-steps', options.presetSteps),
    },
    {
      name: 'full-start',
      title: `full network: start-up and 1 step of ${options.fullBatch} images`,
      program: 'trainer',
      args: fullStep(options, paths, 'full-start', 1),
    },
    {
      name: 'full-steps',
      title: `full network: ${options.fullSteps} steps of ${options.fullBatch} images`,
      program: 'trainer',
      args: fullStep(options, paths, 'full-steps', options.fullSteps),
    },
    {
      name: 'export',
      title: 'export the full network to ONNX (float32)',
      program: 'trainer',
      args: ['export', '--checkpoint', fullCheckpoint, '--format', 'onnx', '--no-progress'],
    },
    {
      name: 'evaluate',
      title: `evaluate the ${options.subsetClasses}-class test split on ONNX Runtime`,
      program: 'trainer',
      args: [
        ...['evaluate', '--checkpoint', fullCheckpoint, '--prepared', paths.preparedSubset],
        ...['--split', 'test', '--engine', 'onnx', '--out', paths.report, '--no-progress'],
      ],
    },
  ];
}
