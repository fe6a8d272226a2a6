import type { BackendName } from '../backend.ts';
import type { TrainableScope } from '../model/resnet50.ts';

export type LrScheduleName = 'constant' | 'cosine';

/**
 * Every setting of a training run: what `pnpm train` was given, saved as each checkpoint's
 * run-config.json so a checkpoint says how it was made and `--resume` can check it is the same run.
 * The preprocessing is not repeated here: it is the checkpoint's preprocess.json.
 */
export interface RunConfig {
  prepared: string;
  out: string;
  learningRate: number;
  weightDecay: number;
  epochs: number;
  /** Effective batch per optimizer step (the recipe: 128). */
  batchSize: number;
  /**
   * Micro-batches per step: each is batchSize / accumulate images, gradients averaged. `auto` plans it from
   * the GPU's free memory (or the wasm heap); see trainer/src/train/choose-micro-batch.ts.
   */
  accumulate: number | 'auto';
  imageSize: number;
  seed: number;
  /** Imported ImageNet backbone (see `trainer import-weights`), or 'none' for random initialisation. */
  weights: string;
  backend: BackendName;
  /** Which part trains; the rest is frozen (weights and batch-norm statistics). */
  trainable: TrainableScope;
  /** With a frozen trunk: run it once per image (centre crop) and train the rest on the cached output. */
  cacheFeatures: boolean;
  /**
   * Folder of the feature caches (content-keyed, so runs on other prepared folders of the same photos
   * share them). Default: PREPARED/feature-cache; the CLI passes data/feature-cache.
   */
  featureCacheDir?: string;
  /** With `cacheFeatures`: augmented views cached per training image besides the centre crop. */
  featureViews?: number;
  augment: boolean;
  /** `constant` (the recipe) or `cosine` annealing to 0 over the run, per step (lr-schedule.ts). */
  lrSchedule?: LrScheduleName;
  /** Epochs of linear warm-up to `learningRate` (default 0). */
  warmupEpochs?: number;
  /** Label smoothing ε of the cross-entropy (default 0). */
  labelSmoothing?: number;
  /** Stop after this many epochs without a better validation top-1 (default: never). */
  patience?: number;
  /** Stop after this many optimizer steps in total (quick runs); the checkpoint is resumable. */
  maxSteps?: number;
  /** Use only N images of each split, spread over its classes (quick runs). */
  limit?: number;
  widthMultiplier: number;
  blocksPerStage: [number, number, number, number];
  /** Keep only the newest N epoch-NNN folders (best and latest are kept regardless); all when absent. */
  keepEpochs?: number;
  /** Continue the run in `out` from its newest verified checkpoint; 'auto' also starts an empty one. */
  resume?: boolean | 'auto';
  /** Start over in an `out` that holds checkpoints, deleting them. */
  overwrite?: boolean;
  /** TF_DETERMINISTIC_OPS=1 for the run (the tensorflow backend; wasm and cpu are deterministic anyway). */
  deterministic?: boolean;
  /** What the model card says it was trained on; synthetic: generated images, not a food model. */
  dataset?: { name: string; synthetic: boolean };
  /** Decoding concurrency of the batch loader. */
  loaderConcurrency?: number;
}

/**
 * Reads a parsed run-config.json. The trainer is its only writer, so the settings are taken as written;
 * what is checked is what readers rely on. Checkpoints written before the preprocessing left this file
 * carry a copy of it under `preprocess`: dropped, since preprocess.json is the one the model was built for.
 */
export function parseRunConfig(value: unknown): RunConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('not a JSON object');
  }
  const { preprocess: _copy, ...config } = value as Record<string, unknown>;
  if (typeof config.prepared !== 'string') throw new Error('prepared (the data set folder) is missing');
  if (!Number.isInteger(config.epochs)) throw new Error('epochs must be an integer');
  return config as unknown as RunConfig;
}
