/**
 * ReLU's gradient as TensorFlow's `ReluGrad` (one op) on the tensorflow backend, where tfjs-core's
 * composes dy · cast(step(x)), seven TensorFlow ops as tfjs-node runs them, for each of ResNet-50's
 * 49 ReLUs. Same rule: dy where x > 0, else 0. Elsewhere, and with the fused kernels turned off, tfjs's own
 * gradient runs unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { fusedKernelsActive, opAttribute, runTensorflowOp } from '../tensorflow-ops.ts';

let registered = false;

/** Replaces the registered `Relu` gradient with one that uses `ReluGrad` when the fused kernels are active. */
export function registerFusedReluGradient(): void {
  if (registered) return;
  const original = tf.getGradient('Relu');
  if (original === undefined) throw new Error('tfjs has no gradient for Relu to extend');
  tf.registerGradient({
    ...original,
    gradFunc: (dy, saved, attrs) => {
      if (!fusedKernelsActive()) return original.gradFunc(dy, saved, attrs);
      const [x] = saved as tf.Tensor[];
      return {
        x: () =>
          runTensorflowOp(
            'ReluGrad',
            [opAttribute.float32Type('T')],
            [dy as tf.Tensor, x as tf.Tensor],
            1,
          )[0] as tf.Tensor,
      };
    },
  });
  registered = true;
}
