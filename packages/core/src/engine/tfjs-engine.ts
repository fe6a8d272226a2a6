import * as tf from '@tensorflow/tfjs';
import { type FoldedForward, foldForInference } from './folded-forward.ts';
import { type InferenceEngine, predictInChunks } from './inference-engine.ts';

export interface TfjsEngineOptions {
  /** Largest batch given to the model at once; larger requests run in several batches. Default 32. */
  maxBatch?: number;
  /**
   * Run the model with BatchNorm folded into its convolutions (./folded-forward.ts) instead of
   * model.predict. Default: on the tensorflow and wasm backends, where it was measured faster
   * (docs/benchmarks.md); a model it cannot fold then runs through model.predict. `true` insists (throws
   * for such a model); `false` keeps model.predict. The folded weights are a second copy of the
   * convolutions' weights beside the model's (about 94 MB for ResNet-50), freed by dispose().
   */
  foldBatchNorm?: boolean;
}

/** Backends where the folded forward is the default: measured faster there, same results. */
const FOLDED_BY_DEFAULT = new Set(['tensorflow', 'wasm']);

/**
 * An engine on the current tfjs backend. It takes ownership of `model` (dispose() disposes it).
 *
 * The recipe's head (`predictions`) is a linear Dense that outputs logits, because training uses
 * softmax cross-entropy on logits; the engine applies the softmax. A model whose last layer already
 * has a softmax activation is served as is rather than squashed twice.
 */
export function createTfjsEngine(model: tf.LayersModel, options: TfjsEngineOptions = {}): InferenceEngine {
  const maxBatch = options.maxBatch ?? 32;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) {
    throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`);
  }
  const shape = describeModel(model);
  const { height, width, channels, classes } = shape;
  const outputsProbabilities = lastActivation(model) === 'softmax';
  const folded = foldedForward(model, options.foldBatchNorm);
  let disposed = false;

  return {
    description:
      `tfjs ${tf.getBackend()}${folded ? ' (BatchNorm folded)' : ''}, ${model.name}, ` +
      `${height}x${width}x${channels} -> ${classes} classes, batches of <= ${maxBatch}`,

    async predict(batch) {
      if (disposed) throw new Error('This inference engine was disposed; create a new one.');
      return predictInChunks(batch, shape, maxBatch, async (packed, rows) => {
        const probabilities = tf.tidy(() => {
          const images = tf.tensor4d(packed, [rows, height, width, channels]);
          // Both run in inference mode: BatchNorm uses its moving statistics, dropout is off.
          const outputs = folded
            ? (folded.run(images) as tf.Tensor2D)
            : (model.predict(images, { batchSize: rows }) as tf.Tensor2D);
          return outputsProbabilities ? outputs : tf.softmax(outputs);
        });
        try {
          return (await probabilities.data()) as Float32Array;
        } finally {
          probabilities.dispose();
        }
      });
    },

    dispose() {
      if (disposed) return;
      disposed = true;
      folded?.dispose();
      model.dispose();
    },
  };
}

function foldedForward(model: tf.LayersModel, wanted: boolean | undefined): FoldedForward | undefined {
  if (wanted === false || (wanted === undefined && !FOLDED_BY_DEFAULT.has(tf.getBackend()))) return undefined;
  const result = foldForInference(model);
  if ('forward' in result) return result.forward;
  if (wanted) {
    throw new Error(
      `Cannot fold BatchNorm into the convolutions of ${model.name}: ${result.unsupported}. ` +
        'Leave foldBatchNorm unset to run it through model.predict.',
    );
  }
  return undefined;
}

function describeModel(model: tf.LayersModel) {
  const [input] = model.inputs;
  const [output] = model.outputs;
  const [, height, width, channels] = input.shape;
  if (
    model.inputs.length !== 1 ||
    input.shape.length !== 4 ||
    ![height, width, channels].every((side) => typeof side === 'number')
  ) {
    throw new Error(
      `The engine needs one fixed-size image input [batch, H, W, C]; got [${input.shape.join(', ')}]`,
    );
  }
  if (model.outputs.length !== 1 || output.shape.length !== 2 || typeof output.shape[1] !== 'number') {
    throw new Error(`The engine needs one output [batch, classes]; got [${output.shape.join(', ')}]`);
  }
  return { height: height!, width: width!, channels: channels!, classes: output.shape[1] };
}

function lastActivation(model: tf.LayersModel): unknown {
  return model.layers[model.layers.length - 1].getConfig().activation;
}
