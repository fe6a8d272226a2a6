import * as tf from '@tensorflow/tfjs';
import type { AdamL2, Parameter } from './adam.ts';
import type { TrainConfig } from './run-config.ts';

/**
 * The run's settings a step uses. `labelSmoothing` ε: targets (1 − ε)·onehot + ε / classes, as Keras and
 * PyTorch. `gradClipNorm`: the summed gradient scaled down to this global L2 norm when above it.
 */
export type StepSettings = Partial<Pick<TrainConfig, 'labelSmoothing' | 'gradClipNorm'>>;

export interface StepResult {
  /** Mean cross-entropy over the examples of the step. */
  loss: number;
  /** Examples whose arg-max logit equals the label. */
  correct: number;
  examples: number;
}

/** A batch as the model sees it: inputs (images or cached features) and integer labels. */
export interface ModelBatch {
  inputs: tf.Tensor;
  labels: tf.Tensor1D;
  /** Soft targets, one row per image, in place of the labels' one-hot rows (`--mixup`, mixup.ts). */
  targets?: tf.Tensor2D;
}

/**
 * One optimizer step over `microBatches` (gradient accumulation: micro-batch gradients weighted by their
 * share of the examples, so K micro-batches equal one batch of their total size up to batch-norm
 * statistics, which are per micro-batch).
 * Batch normalisation runs in training mode: batch statistics, moving averages updated.
 */
export function trainStep(
  model: tf.LayersModel,
  optimizer: AdamL2,
  parameters: readonly Parameter[],
  microBatches: readonly ModelBatch[],
  numClasses: number,
  settings: StepSettings = {},
): StepResult {
  const labelSmoothing = settings.labelSmoothing ?? 0;
  const variables = parameters.map((parameter) => parameter.variable);
  const total = microBatches.reduce((sum, batch) => sum + batch.labels.shape[0], 0);
  let summedGradients: tf.NamedTensorMap = {};
  let lossSum = 0;
  let correct = 0;
  try {
    for (const { inputs, labels, targets } of microBatches) {
      const { loss, gradients, predictedClasses } = tf.tidy(() => {
        let predicted: tf.Tensor | undefined;
        const { value, grads } = tf.variableGrads(() => {
          const logits = model.apply(inputs, { training: true }) as tf.Tensor2D;
          predicted = tf.keep(logits.argMax(-1));
          return tf.losses.softmaxCrossEntropy(
            targets ?? tf.oneHot(labels, numClasses),
            logits,
            undefined,
            labelSmoothing,
          ) as tf.Scalar;
        }, variables);
        return { loss: value, gradients: grads, predictedClasses: predicted as tf.Tensor };
      });
      const share = labels.shape[0] / total;
      lossSum += loss.dataSync()[0] * share;
      correct += tf.tidy(() => predictedClasses.equal(labels).sum().dataSync()[0]);
      tf.dispose([loss, predictedClasses]);
      summedGradients = accumulate(summedGradients, share === 1 ? gradients : scaleAll(gradients, share));
    }
  } catch (error) {
    // A micro-batch failed (out of GPU memory): the caller may retry the step, so free what it summed.
    tf.dispose(Object.values(summedGradients));
    throw error;
  }
  if (settings.gradClipNorm !== undefined) {
    summedGradients = clipByGlobalNorm(summedGradients, settings.gradClipNorm);
  }
  optimizer.applyGradients(parameters, summedGradients);
  tf.dispose(Object.values(summedGradients));
  return { loss: lossSum, correct, examples: total };
}

function accumulate(sum: tf.NamedTensorMap, gradients: tf.NamedTensorMap): tf.NamedTensorMap {
  if (Object.keys(sum).length === 0) return gradients;
  const next: tf.NamedTensorMap = {};
  for (const [name, gradient] of Object.entries(gradients)) {
    next[name] = tf.add(sum[name], gradient);
  }
  tf.dispose([...Object.values(sum), ...Object.values(gradients)]);
  return next;
}

function scaleAll(gradients: tf.NamedTensorMap, factor: number): tf.NamedTensorMap {
  const scaled: tf.NamedTensorMap = {};
  for (const [name, gradient] of Object.entries(gradients)) scaled[name] = tf.mul(gradient, factor);
  tf.dispose(Object.values(gradients));
  return scaled;
}

/**
 * `gradients` scaled by maxNorm / ‖g‖ when their global L2 norm ‖g‖ (over every tensor together) exceeds
 * maxNorm, as PyTorch's `clip_grad_norm_`; otherwise the same tensors. Disposes what it replaces.
 */
export function clipByGlobalNorm(gradients: tf.NamedTensorMap, maxNorm: number): tf.NamedTensorMap {
  const norm = tf.tidy(() =>
    Math.sqrt(tf.addN(Object.values(gradients).map((gradient) => tf.sum(tf.square(gradient)))).dataSync()[0]),
  );
  // PyTorch's clip coefficient: maxNorm / (norm + 1e-6), applied only when below 1.
  const factor = maxNorm / (norm + 1e-6);
  return factor < 1 ? scaleAll(gradients, factor) : gradients;
}
