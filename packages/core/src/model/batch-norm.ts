/**
 * Frozen BatchNormalization layers run in inference mode, as in Keras ≥ 2.1.3 / TF2.
 *
 * tfjs-layers 4.22 `BatchNormalization.call` looks only at `kwargs.training`: with `training: true`
 * it normalises with the batch's statistics and updates `moving_mean` / `moving_variance` even when
 * `layer.trainable` is false. Fine-tuning a frozen ImageNet backbone on small batches would then
 * silently overwrite its ImageNet statistics and train the head on features that differ from the
 * ones seen at inference (keras-team/keras#9965 explains the accuracy loss).
 */
import type * as tf from '@tensorflow/tfjs';

type CallArgs = Record<string, unknown>;
type Call = (inputs: tf.Tensor | tf.Tensor[], kwargs: CallArgs) => tf.Tensor | tf.Tensor[];

const patched = new WeakSet<tf.layers.Layer>();

/**
 * Makes every BatchNormalization layer of `model` ignore `training: true` while `layer.trainable` is
 * false. Affects only this in-memory model (the saved topology stays a plain `BatchNormalization`);
 * apply it again to a model loaded from disk before training it. Idempotent.
 */
export function useInferenceStatsWhenFrozen(model: tf.LayersModel): void {
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization' || patched.has(layer)) continue;
    const target = layer as unknown as { call: Call };
    const call = target.call.bind(layer) as Call;
    target.call = (inputs, kwargs) => call(inputs, layer.trainable ? kwargs : { ...kwargs, training: false });
    patched.add(layer);
  }
}
