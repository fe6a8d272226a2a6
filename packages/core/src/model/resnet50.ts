/**
 * ResNet-50 v1 (He et al., "Deep Residual Learning for Image Recognition", 2015) in tf.layers, built the
 * way keras `applications/resnet.py` builds it (`stack1` → `block1`) and with the same layer names, so
 * the ImageNet weights load by name and a reader can hold this file next to the Keras source.
 *
 * Differences from `tf.keras.applications.ResNet50(include_top=True)`, all deliberate:
 * - `predictions` is a linear Dense layer: the model outputs LOGITS. The training loss uses
 *   `tf.losses.softmaxCrossEntropy` on logits (numerically stable, unlike cross-entropy on clipped
 *   probabilities); the inference engine applies `tf.softmax` and returns probabilities.
 * - Optional `head_dropout` between `avg_pool` and `predictions`.
 * - Kernels are initialised Glorot-normal from a seed (Keras: unseeded Glorot-uniform); biases zero.
 * - `widthMultiplier` / `blocksPerStage` / `inputSize` make tiny models for tests through the same code.
 */
import * as tf from '@tensorflow/tfjs';
import { useInferenceStatsWhenFrozen } from './batch-norm.ts';
import { useFusedBatchNormInTraining } from './fused-batch-norm.ts';

export interface ResNetOptions {
  numClasses: number;
  /** Square input side in pixels (default 224). */
  inputSize?: number;
  /** Scales every filter count (default 1); e.g. 1/16 for a tiny test model. */
  widthMultiplier?: number;
  /** Bottleneck blocks in stages conv2..conv5 (default [3, 4, 6, 3], ResNet-50). */
  blocksPerStage?: [number, number, number, number];
  /** Seed for the kernel initialisers (backbone and head); unseeded when absent. */
  seed?: number;
  /** Dropout rate before `predictions` (default 0: no dropout layer). */
  headDropout?: number;
}

/** Keras `layers.BatchNormalization` defaults used by applications/resnet.py. */
const BN_EPSILON = 1.001e-5;
const BN_MOMENTUM = 0.99;

/** Filters per stage of ResNet-50 (the bottleneck width; each block outputs 4×). */
const STAGE_FILTERS = [64, 128, 256, 512] as const;

type Tensor = tf.SymbolicTensor;
type Initializer = ReturnType<typeof tf.initializers.glorotNormal>;

/** Hands out Glorot-normal initialisers with distinct seeds, so equal-shaped kernels differ. */
function kernelInitializers(seed: number | undefined): () => Initializer {
  let next = seed;
  // tfjs reads a seed of 0 as "no seed" (Math.random); 0.5, which no integer seed reaches, stands in.
  const seedFor = (seed: number) => (seed === 0 ? 0.5 : seed);
  return () => tf.initializers.glorotNormal(next === undefined ? {} : { seed: seedFor(next++) });
}

interface BuildContext {
  width: (filters: number) => number;
  kernelInitializer: () => Initializer;
}

function conv(
  ctx: BuildContext,
  x: Tensor,
  filters: number,
  kernelSize: number,
  options: { strides?: number; padding?: 'valid' | 'same'; name: string },
): Tensor {
  return tf.layers
    .conv2d({
      filters,
      kernelSize,
      strides: options.strides ?? 1,
      padding: options.padding ?? 'valid',
      useBias: true,
      kernelInitializer: ctx.kernelInitializer(),
      biasInitializer: 'zeros',
      name: options.name,
    })
    .apply(x) as Tensor;
}

function batchNorm(x: Tensor, name: string): Tensor {
  return tf.layers
    .batchNormalization({ axis: -1, epsilon: BN_EPSILON, momentum: BN_MOMENTUM, name })
    .apply(x) as Tensor;
}

function relu(x: Tensor, name: string): Tensor {
  return tf.layers.activation({ activation: 'relu', name }).apply(x) as Tensor;
}

/** keras `block1`: a bottleneck residual block (1×1 → 3×3 → 1×1, 4× expansion). */
function block(
  ctx: BuildContext,
  x: Tensor,
  filters: number,
  options: { stride: number; convShortcut: boolean; name: string },
): Tensor {
  const { stride, name } = options;
  let shortcut = x;
  if (options.convShortcut) {
    shortcut = conv(ctx, x, 4 * filters, 1, { strides: stride, name: `${name}_0_conv` });
    shortcut = batchNorm(shortcut, `${name}_0_bn`);
  }
  // v1: the stride sits on the first 1×1 conv (torchvision's "v1.5" puts it on the 3×3).
  let y = conv(ctx, x, filters, 1, { strides: stride, name: `${name}_1_conv` });
  y = batchNorm(y, `${name}_1_bn`);
  y = relu(y, `${name}_1_relu`);
  y = conv(ctx, y, filters, 3, { padding: 'same', name: `${name}_2_conv` });
  y = batchNorm(y, `${name}_2_bn`);
  y = relu(y, `${name}_2_relu`);
  y = conv(ctx, y, 4 * filters, 1, { name: `${name}_3_conv` });
  y = batchNorm(y, `${name}_3_bn`);
  y = tf.layers.add({ name: `${name}_add` }).apply([shortcut, y]) as Tensor;
  return relu(y, `${name}_out`);
}

/** keras `stack1`: `blocks` bottleneck blocks, the first with a projection shortcut. */
function stack(
  ctx: BuildContext,
  x: Tensor,
  filters: number,
  blocks: number,
  stride1: number,
  name: string,
): Tensor {
  let y = block(ctx, x, filters, { stride: stride1, convShortcut: true, name: `${name}_block1` });
  for (let i = 2; i <= blocks; i++) {
    y = block(ctx, y, filters, { stride: 1, convShortcut: false, name: `${name}_block${i}` });
  }
  return y;
}

/**
 * What a person calls the network these options build: `ResNet-50` for the paper's, else its depth
 * (2 + 3 layers per bottleneck block, as 50 = 2 + 3 × 16) and its width, e.g. `ResNet-14, 1/16 width`.
 */
export function resNetName(options: Pick<ResNetOptions, 'widthMultiplier' | 'blocksPerStage'>): string {
  const blocks = options.blocksPerStage ?? [3, 4, 6, 3];
  const width = options.widthMultiplier ?? 1;
  const depth = 2 + 3 * blocks.reduce((sum, count) => sum + count, 0);
  if (width === 1) return `ResNet-${depth}`;
  const fraction = 1 / width;
  return `ResNet-${depth}, ${Number.isInteger(fraction) ? `1/${fraction}` : `${+width.toFixed(3)}×`} width`;
}

export function buildResNet50(options: ResNetOptions): tf.LayersModel {
  const inputSize = options.inputSize ?? 224;
  const widthMultiplier = options.widthMultiplier ?? 1;
  const blocksPerStage = options.blocksPerStage ?? [3, 4, 6, 3];
  const headDropout = options.headDropout ?? 0;
  if (!Number.isInteger(options.numClasses) || options.numClasses < 1) {
    throw new RangeError(`numClasses must be a positive integer, got ${options.numClasses}`);
  }
  if (!(widthMultiplier > 0)) throw new RangeError(`widthMultiplier must be > 0, got ${widthMultiplier}`);
  if (!blocksPerStage.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new RangeError(`blocksPerStage must be four positive integers, got ${blocksPerStage}`);
  }
  if (!(headDropout >= 0 && headDropout < 1)) throw new RangeError(`headDropout must be in [0, 1)`);
  // Five stride-2 steps take 224 to 7; anything below 32 would shrink a feature map to nothing.
  if (!Number.isInteger(inputSize) || inputSize < 32) {
    throw new RangeError(`inputSize must be an integer >= 32, got ${inputSize}`);
  }

  const ctx: BuildContext = {
    width: (filters) => Math.max(1, Math.round(filters * widthMultiplier)),
    kernelInitializer: kernelInitializers(options.seed),
  };
  const input = tf.input({ shape: [inputSize, inputSize, 3], name: 'input_1' });
  let x = tf.layers.zeroPadding2d({ padding: 3, name: 'conv1_pad' }).apply(input) as Tensor;
  x = conv(ctx, x, ctx.width(64), 7, { strides: 2, name: 'conv1_conv' });
  x = batchNorm(x, 'conv1_bn');
  x = relu(x, 'conv1_relu');
  x = tf.layers.zeroPadding2d({ padding: 1, name: 'pool1_pad' }).apply(x) as Tensor;
  x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool1_pool' }).apply(x) as Tensor;
  STAGE_FILTERS.forEach((filters, i) => {
    x = stack(ctx, x, ctx.width(filters), blocksPerStage[i]!, i === 0 ? 1 : 2, `conv${i + 2}`);
  });
  x = tf.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(x) as Tensor;
  if (headDropout > 0) {
    const seed = options.seed === undefined ? undefined : options.seed + 1_000_003;
    x = tf.layers.dropout({ rate: headDropout, seed, name: 'head_dropout' }).apply(x) as Tensor;
  }
  const logits = tf.layers
    .dense({
      units: options.numClasses,
      activation: 'linear',
      kernelInitializer: ctx.kernelInitializer(),
      biasInitializer: 'zeros',
      name: 'predictions',
    })
    .apply(x) as Tensor;
  const model = tf.model({ inputs: input, outputs: logits, name: 'resnet50' });
  useInferenceStatsWhenFrozen(model);
  useFusedBatchNormInTraining(model);
  return model;
}

/** Which part of the network trains; everything before it is frozen (weights and BatchNorm statistics). */
export type TrainableScope = 'all' | 'head' | 'stage5' | 'stage4+';
export const TRAINABLE_SCOPES: readonly TrainableScope[] = ['all', 'stage4+', 'stage5', 'head'];

/** The head is every layer outside the Keras backbone (`predictions`, `head_dropout`). */
export function isBackboneLayer(layerName: string): boolean {
  return /^(conv[1-5]_|pool1_|avg_pool$|input_)/.test(layerName);
}

/**
 * Freezes the backbone except the chosen part. Frozen BatchNormalization layers also stop using batch
 * statistics (see ./batch-norm.ts), as in Keras ≥ 2.1.3 / TF2 fine-tuning.
 */
export function setTrainableScope(model: tf.LayersModel, scope: TrainableScope): void {
  const first = FIRST_TRAINED_STAGE[scope];
  const trains = (name: string): boolean =>
    !isBackboneLayer(name) || scope === 'all' || (stageOf(name) ?? 0) >= first;
  for (const layer of model.layers) layer.trainable = trains(layer.name);
}

/**
 * The last frozen layer of a scope other than `all`, where the model splits into a frozen trunk and a
 * trained tail: the output of the stage before the first trained one, or `avg_pool` for `head`.
 */
export function frozenBoundaryLayer(model: tf.LayersModel, scope: Exclude<TrainableScope, 'all'>): string {
  if (scope === 'head') return 'avg_pool';
  const stage = FIRST_TRAINED_STAGE[scope] - 1;
  const outputs = model.layers
    .map((layer) => layer.name)
    .filter((name) => stageOf(name) === stage && name.endsWith('_out'));
  return outputs[outputs.length - 1];
}

/** The first backbone stage (Keras `convN_`) each scope trains; the head always trains. */
const FIRST_TRAINED_STAGE: Record<TrainableScope, number> = { all: 1, 'stage4+': 4, stage5: 5, head: 6 };

/** N of a `convN_…` layer (stages 2–5 are the residual stacks, 1 the stem); undefined for other layers. */
function stageOf(layerName: string): number | undefined {
  const match = /^conv([1-5])_/.exec(layerName);
  return match ? Number(match[1]) : undefined;
}

/** Parameter count like Keras `model.count_params()` (`all`, including BatchNorm moving statistics). */
export function countParameters(model: tf.LayersModel, which: 'all' | 'trainable' = 'all'): number {
  const weights = which === 'all' ? model.weights : model.trainableWeights;
  return weights.reduce((sum, w) => sum + w.shape.reduce((n: number, d) => n * (d ?? 1), 1), 0);
}
