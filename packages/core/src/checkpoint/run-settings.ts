/**
 * Every training setting, declared once (the role of torchvision's `get_args_parser` and Hugging Face's
 * `TrainingArguments`). Each row is a field of the run config (run-config.ts derives its type), with
 * `pnpm train`'s flag, the kind of value, the default, the help text, whether `--resume` requires the
 * checkpoint's value, and whether a preset may set it. From this table come the commander options of
 * `pnpm train` (trainer/src/commands/train-options.ts), the defaults, the presets' type, the parsing of
 * run-config.json and the resume check. docs/architecture.md ("Training settings") says how to add one.
 *
 * Rows are in `pnpm train --help`'s order. A row without a flag is set only by library callers.
 */
import { BACKEND_CHOICES_HELP } from '../backend.ts';
import { TRAINABLE_SCOPES } from '../model/resnet50.ts';
import {
  accumulateValue,
  backendName,
  blocksPerStage,
  choice,
  datasetValue,
  fractionBelowOne,
  imageSize,
  nonNegativeInteger,
  nonNegativeNumber,
  openFraction,
  positiveInteger,
  positiveNumber,
  resumeValue,
  type SettingValue,
  switchValue,
  text,
  trainableScope,
} from './setting-values.ts';

export type LrScheduleName = 'constant' | 'cosine';
export const LR_SCHEDULES: readonly LrScheduleName[] = ['constant', 'cosine'];
export type FeatureCachePrecision = 'float16' | 'float32';
export const FEATURE_CACHE_PRECISIONS: readonly FeatureCachePrecision[] = ['float16', 'float32'];

export interface SettingRow<T> {
  value: SettingValue<T>;
  /** `pnpm train`'s flag in commander's syntax (`--lr <rate>`, `--resume [auto]`, `--no-augment`). */
  flag?: string;
  help?: string;
  /** Absent: the setting is off unless given (`--patience`), or, with `required`, must be given. */
  default?: T;
  required?: true;
  /** must-match: `--resume` refuses to continue a run whose checkpoint says otherwise. */
  resume: 'must-match' | 'may-differ';
  /** A preset (trainer/src/train/presets.ts) may set it. */
  preset: boolean;
}

/** A row; `value` fixes the type that `default` and the run config's field have (`const`: literal types). */
function setting<T, const Row extends Omit<SettingRow<T>, 'value' | 'default'> & { default?: Readonly<T> }>(
  value: SettingValue<T>,
  row: Row,
): Row & { value: SettingValue<T> } {
  return { ...row, value } as Row & { value: SettingValue<T> };
}

export const RUN_SETTINGS = {
  prepared: setting(text, {
    flag: '--prepared <dir>',
    help: 'prepared folder (manifest.json + preprocess.json)',
    required: true,
    // The classes must match (start-run.ts compares them); the folder may have moved.
    resume: 'may-differ',
    preset: false,
  }),
  out: setting(text, {
    flag: '--out <dir>',
    help: 'run folder: checkpoints/RUN',
    required: true,
    resume: 'may-differ',
    preset: false,
  }),
  learningRate: setting(positiveNumber, {
    flag: '--lr <rate>',
    help: 'Adam learning rate',
    default: 1e-5,
    resume: 'must-match',
    preset: true,
  }),
  weightDecay: setting(nonNegativeNumber, {
    flag: '--weight-decay <l2>',
    help: 'L2 penalty added to the gradient (PyTorch Adam)',
    default: 5e-4,
    resume: 'must-match',
    preset: false,
  }),
  epochs: setting(positiveInteger, {
    flag: '--epochs <n>',
    help: 'epochs',
    default: 14,
    // Raising it continues a finished run.
    resume: 'may-differ',
    preset: true,
  }),
  lrSchedule: setting(choice(LR_SCHEDULES), {
    flag: '--lr-schedule <name>',
    help: 'constant (the recipe) or cosine: annealed per step to 0 at the last epoch',
    default: 'constant',
    resume: 'must-match',
    preset: true,
  }),
  warmupEpochs: setting(nonNegativeNumber, {
    flag: '--warmup-epochs <n>',
    help: 'linear warm-up to --lr over N epochs (fractions allowed)',
    default: 0,
    resume: 'must-match',
    preset: true,
  }),
  labelSmoothing: setting(fractionBelowOne, {
    flag: '--label-smoothing <eps>',
    help: 'cross-entropy label smoothing, 0 to < 1',
    default: 0,
    resume: 'must-match',
    preset: true,
  }),
  gradClipNorm: setting(positiveNumber, {
    flag: '--grad-clip-norm <max>',
    help: "scale each step's gradient down to this global L2 norm when above it (PyTorch clip_grad_norm_; default: no clipping)",
    resume: 'must-match',
    preset: true,
  }),
  patience: setting(positiveInteger, {
    flag: '--patience <n>',
    help: 'stop after N epochs without a better validation top-1 (default: run every epoch)',
    resume: 'may-differ',
    preset: false,
  }),
  batchSize: setting(positiveInteger, {
    flag: '--batch-size <n>',
    help: 'images per optimizer step (effective batch)',
    default: 128,
    resume: 'must-match',
    preset: true,
  }),
  accumulate: setting(accumulateValue, {
    flag: '--accumulate <k|auto>',
    help: 'split each batch into K micro-batches (less memory, same effective batch); auto: plan from GPU memory',
    default: 'auto',
    // The effective batch is the same whatever the micro-batch: a resumed run may split it otherwise.
    resume: 'may-differ',
    preset: false,
  }),
  imageSize: setting(imageSize, {
    flag: '--image-size <px>',
    help: 'crop size fed to the model',
    default: 224,
    resume: 'must-match',
    preset: true,
  }),
  seed: setting(nonNegativeInteger, {
    flag: '--seed <n>',
    help: 'seed for the initialisation, batch order, augmentation and cached views, and the --val-fraction split',
    default: 42,
    resume: 'must-match',
    preset: false,
  }),
  // Selection protocol (docs/results.md, "Selection protocol"): the run's own train/val split.
  valFraction: setting(openFraction, {
    flag: '--val-fraction <f>',
    help: "redraw the train/val split: hold out this share of each class's training images for validation, drawn with --seed (food10 at 0.3: 1,130 photos, a standard error of 1 point); default: the prepared folder's split. Test is never read",
    // Another split is other training data.
    resume: 'must-match',
    preset: true,
  }),
  emaDecay: setting(openFraction, {
    flag: '--ema-decay <d>',
    help: 'keep an exponential moving average of the trained weights (after each step: average = d × average + (1 − d) × weights); validation, best and the checkpoints use the average (default: off)',
    resume: 'must-match',
    preset: true,
  }),
  mixupAlpha: setting(positiveNumber, {
    flag: '--mixup <alpha>',
    help: "blend each batch with a shuffled copy of itself, inputs and targets (mixup; on cached features, the trunk's output), λ ~ Beta(alpha, alpha) drawn with --seed per step; 0.2 is a common choice (default: off)",
    resume: 'must-match',
    preset: true,
  }),
  weights: setting(text, {
    flag: '--weights <path|none>',
    help: 'imported ImageNet backbone, or none for random initialisation',
    default: 'data/weights/resnet50-imagenet',
    // Read only when a run starts; a resumed run has its weights in the checkpoint.
    resume: 'may-differ',
    preset: false,
  }),
  backend: setting(backendName, {
    flag: '--backend <name>',
    help: BACKEND_CHOICES_HELP,
    default: 'auto',
    resume: 'may-differ',
    preset: false,
  }),
  trainable: setting(trainableScope, {
    flag: '--trainable <scope>',
    help: `what trains: ${TRAINABLE_SCOPES.join(' | ')}; the rest is frozen`,
    default: 'all',
    resume: 'must-match',
    preset: true,
  }),
  cacheFeatures: setting(switchValue, {
    flag: '--cache-features',
    help: 'with a frozen trunk: run it once per image and train on cached features (CPU fine-tunes)',
    default: false,
    resume: 'must-match',
    preset: true,
  }),
  featureViews: setting(nonNegativeInteger, {
    flag: '--feature-views <k>',
    help: 'with --cache-features: also cache K augmented views (random resized crop + flip) of each training image; each epoch draws one of the K + 1',
    default: 0,
    resume: 'must-match',
    preset: true,
  }),
  featureCacheDir: setting(text, {
    flag: '--feature-cache-dir <dir>',
    help: 'where --cache-features keeps its caches (keyed by weights, data, preprocessing and views; reused by later runs)',
    // Outside any prepared set, so `pnpm train` and `pnpm demo` on other folders of the same photos share it.
    default: 'data/feature-cache',
    resume: 'may-differ',
    preset: false,
  }),
  featureCachePrecision: setting(choice(FEATURE_CACHE_PRECISIONS), {
    flag: '--feature-cache-precision <type>',
    help: 'with --cache-features: float16 (half the disk) or float32; each has its own cache',
    default: 'float16',
    resume: 'must-match',
    preset: false,
  }),
  featureCacheMaxGb: setting(positiveNumber, {
    flag: '--feature-cache-max-gb <gb>',
    help: 'with --cache-features: cache only as many --feature-views as fit in GB (10^9 bytes; default: all asked)',
    // The views that fit decide what an epoch draws.
    resume: 'must-match',
    preset: false,
  }),
  augment: setting(switchValue, {
    flag: '--no-augment',
    help: 'no random resized crop / flip (centre crop only); with --cache-features, no augmented views',
    default: true,
    resume: 'must-match',
    preset: false,
  }),
  resume: setting(resumeValue, {
    flag: '--resume [auto]',
    help: 'continue the run in --out from its newest intact checkpoint; with "auto", start it when --out has none',
    default: false,
    resume: 'may-differ',
    preset: false,
  }),
  overwrite: setting(switchValue, {
    flag: '--overwrite',
    help: 'start over in an --out that holds checkpoints, deleting them',
    default: false,
    resume: 'may-differ',
    preset: false,
  }),
  keepEpochs: setting(positiveInteger, {
    flag: '--keep-epochs <n>',
    help: 'keep only the newest N epoch-NNN folders (best and latest stay)',
    resume: 'may-differ',
    preset: false,
  }),
  maxSteps: setting(positiveInteger, {
    flag: '--max-steps <n>',
    help: 'stop after N optimizer steps (resumable)',
    resume: 'may-differ',
    preset: false,
  }),
  limit: setting(positiveInteger, {
    flag: '--limit <n>',
    help: 'use only N images of each split, spread over its classes (quick runs)',
    resume: 'must-match',
    preset: false,
  }),
  widthMultiplier: setting(positiveNumber, {
    flag: '--width <multiplier>',
    help: 'width multiplier (small models for tests)',
    default: 1,
    resume: 'must-match',
    preset: false,
  }),
  blocksPerStage: setting(blocksPerStage, {
    flag: '--blocks <a,b,c,d>',
    help: 'blocks per stage',
    default: [3, 4, 6, 3],
    resume: 'must-match',
    preset: false,
  }),
  deterministic: setting(switchValue, {
    flag: '--deterministic',
    help: 'TF_DETERMINISTIC_OPS=1: bit-identical GPU runs (slower); wasm and cpu always are',
    default: false,
    resume: 'may-differ',
    preset: false,
  }),
  fusedKernels: setting(switchValue, {
    flag: '--no-fused-kernels',
    help: "tensorflow backend: tfjs's op-by-op BatchNorm and Adam instead of TensorFlow's fused kernels (same results within float32 rounding; slower; for debugging)",
    default: true,
    resume: 'may-differ',
    preset: false,
  }),
  dataset: setting(datasetValue, {
    // Set by `pnpm demo`; the model card says whether the model is a food model.
    resume: 'may-differ',
    preset: false,
  }),
  loaderConcurrency: setting(positiveInteger, {
    // Images decoding at once (default: every core); for library callers.
    resume: 'may-differ',
    preset: false,
  }),
};
