/**
 * BatchNormalization in training mode as TensorFlow's own two kernels, on the tensorflow backend:
 * `FusedBatchNormV3` forward (normalised output and the batch statistics in one pass) and
 * `FusedBatchNormGradV3` backward. tfjs-layers composes the same step from `moments` and an
 * inference-mode batch norm, and its gradient from about 40 small ops per layer (53 layers in ResNet-50).
 *
 * The moving statistics are updated exactly as tfjs-layers 4.22 `BatchNormalization.call` does
 * (moving ← moving − (moving − batch)·(1 − momentum)), with the *biased* batch variance tfjs uses;
 * TensorFlow's output 2 is the unbiased one (Bessel's n/(n − 1), what Keras's fused path keeps), so it
 * is scaled back by (n − 1)/n here.
 */
import * as tf from '@tensorflow/tfjs';
import { fusedKernelsActive, opAttribute, runTensorflowOp } from '../tensorflow-ops.ts';
import { registerFusedReluGradient } from './fused-relu-gradient.ts';

const KERNEL = 'FoodFusedBatchNormTraining';

/** The fields of tfjs-layers' BatchNormalization this path reads (not in its public typings). */
interface BatchNormLayer {
  axis: number;
  center: boolean;
  scale: boolean;
  epsilon: number;
  momentum: number;
  gamma: tf.LayerVariable;
  beta: tf.LayerVariable;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

function attributes(epsilon: number) {
  return [
    opAttribute.float32Type('T'),
    opAttribute.float32Type('U'),
    opAttribute.float('epsilon', epsilon),
    opAttribute.string('data_format', 'NHWC'),
    opAttribute.bool('is_training', true),
  ];
}

function registerFusedBatchNorm(): void {
  if (tf.getKernel(KERNEL, 'tensorflow') !== undefined) return;
  tf.registerKernel({
    kernelName: KERNEL,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, attrs }) => {
      const { x, scale, offset } = inputs as { x: tf.Tensor; scale: tf.Tensor; offset: tf.Tensor };
      // In training mode the mean and variance inputs are unused and must be empty.
      const empty = tf.tensor1d([]);
      try {
        // y, batch_mean, batch_variance, reserve_space_1..3 (what the gradient kernel reads back).
        return runTensorflowOp(
          'FusedBatchNormV3',
          [...attributes(attrs?.epsilon as number), opAttribute.float('exponential_avg_factor', 1)],
          [x, scale, offset, empty, empty],
          6,
        );
      } finally {
        empty.dispose();
      }
    },
  });
  tf.registerGradient({
    kernelName: KERNEL,
    inputsToSave: ['x', 'scale'],
    outputsToSave: [false, false, false, true, true, true],
    gradFunc: (dys, saved, attrs) => {
      const dy = (dys as tf.Tensor[])[0] as tf.Tensor;
      const [x, scale, reserve1, reserve2, reserve3] = saved as tf.Tensor[];
      const [dx, dScale, dOffset, ...unused] = runTensorflowOp(
        'FusedBatchNormGradV3',
        attributes(attrs.epsilon as number),
        [
          dy,
          x as tf.Tensor,
          scale as tf.Tensor,
          reserve1 as tf.Tensor,
          reserve2 as tf.Tensor,
          reserve3 as tf.Tensor,
        ],
        5,
      );
      tf.dispose(unused);
      return {
        x: () => dx as tf.Tensor,
        scale: () => dScale as tf.Tensor,
        offset: () => dOffset as tf.Tensor,
      };
    },
  });
}

/** tfjs-layers' `doMovingAverage`, op for op, so both paths round alike. */
function updateMovingAverage(variable: tf.LayerVariable, value: tf.Tensor, momentum: number): void {
  tf.tidy(() => {
    const current = variable.read();
    variable.write(tf.sub(current, tf.mul(tf.sub(current, value), 1 - momentum)));
  });
}

function fusedTrainingCall(layer: BatchNormLayer, input: tf.Tensor4D): tf.Tensor {
  return tf.tidy(() => {
    const [y, mean, unbiasedVariance] = tf
      .engine()
      .runKernel(
        KERNEL,
        { x: input, scale: layer.gamma.read(), offset: layer.beta.read() },
        { epsilon: layer.epsilon },
      ) as tf.Tensor[];
    const count = input.size / input.shape[3];
    const variance =
      count > 1 ? tf.mul(unbiasedVariance as tf.Tensor, (count - 1) / count) : unbiasedVariance;
    updateMovingAverage(layer.movingMean, mean as tf.Tensor, layer.momentum);
    updateMovingAverage(layer.movingVariance, variance as tf.Tensor, layer.momentum);
    return y as tf.Tensor;
  });
}

type CallArgs = Record<string, unknown>;
type Call = (inputs: tf.Tensor | tf.Tensor[], kwargs: CallArgs) => tf.Tensor | tf.Tensor[];

const patched = new WeakSet<tf.layers.Layer>();

function fusedApplies(layer: tf.layers.Layer & BatchNormLayer, input: tf.Tensor, kwargs: CallArgs): boolean {
  return (
    kwargs.training === true &&
    layer.trainable &&
    input.rank === 4 &&
    (layer.axis === -1 || layer.axis === 3) &&
    layer.center &&
    layer.scale &&
    fusedKernelsActive()
  );
}

/**
 * Makes every trainable BatchNormalization layer of `model` run its training-mode call through
 * TensorFlow's fused kernels while `fusedKernelsActive()`; any other call (inference, frozen layers,
 * other backends) goes to the layer's own `call`. Also registers ReLU's fused gradient (process-wide).
 * Apply after `useInferenceStatsWhenFrozen`. Idempotent.
 */
export function useFusedBatchNormInTraining(model: tf.LayersModel): void {
  registerFusedBatchNorm();
  registerFusedReluGradient();
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization' || patched.has(layer)) continue;
    const target = layer as unknown as { call: Call };
    const call = target.call.bind(layer) as Call;
    const batchNorm = layer as tf.layers.Layer & BatchNormLayer;
    target.call = (inputs, kwargs) => {
      const input = Array.isArray(inputs) ? inputs[0] : inputs;
      if (input === undefined || !fusedApplies(batchNorm, input, kwargs)) return call(inputs, kwargs);
      return fusedTrainingCall(batchNorm, input as tf.Tensor4D);
    };
    patched.add(layer);
  }
}
