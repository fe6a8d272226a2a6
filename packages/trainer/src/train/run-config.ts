import type { BackendName } from '@food/core/backend';
import type { TrainableScope } from '@food/core/model/resnet50';
import type { LrScheduleName } from './lr-schedule.ts';

/** Every setting of a training run; saved in each checkpoint's `run-config.json`. */
export interface TrainConfig {
  prepared: string;
  out: string;
  learningRate: number;
  weightDecay: number;
  epochs: number;
  /** Effective batch per optimizer step (the recipe: 128). */
  batchSize: number;
  /**
   * Micro-batches per step: each is batchSize / accumulate images, gradients averaged. `auto` plans it from
   * the GPU's free memory (or the wasm heap); see ./choose-micro-batch.ts.
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

/** The state that `--resume` restores, beside the model weights and the Adam moments. */
export interface TrainingState {
  /** Epochs fully completed. */
  epoch: number;
  /** Optimizer steps already taken inside the current (incomplete) epoch; 0 at an epoch boundary. */
  stepInEpoch: number;
  globalStep: number;
  bestValTop1: number;
  bestEpoch: number;
  /** Running train loss/accuracy sums of the incomplete epoch, so its history row stays exact. */
  partialEpoch: { lossSum: number; steps: number; correct: number; examples: number; seconds: number };
}
