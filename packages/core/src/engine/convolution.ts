/**
 * Convolution + bias + optional ReLU for the folded forward (./folded-forward.ts), two ways:
 * `tf.fused.conv2d` on any backend (wasm's XNNPACK runs it as one operator), and on the tensorflow
 * backend TensorFlow's `Conv2D`, `BiasAdd` and `Relu` called directly through the binding with their
 * attributes built once. tfjs-node's own FusedConv2D kernel runs the same three TensorFlow ops, each
 * through tfjs's kernel dispatch, plus the custom-gradient bookkeeping of `tf.fused.conv2d`.
 * (TensorFlow's one-op `_FusedConv2D` needs list-of-strings and list-of-types attributes, `fused_ops` and
 * `TArgs`, which the binding cannot set.)
 */
import * as tf from '@tensorflow/tfjs';
import { fusedKernelsActive, opAttribute, runTensorflowOp } from '../tensorflow-ops.ts';

export type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];

export interface ConvolutionSpec {
  strides: [number, number];
  dilations: [number, number];
  pad: 'valid' | 'same' | ExplicitPadding;
  relu: boolean;
}

export type Convolution = (x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor | undefined) => tf.Tensor4D;

/** The convolution for the current backend: TensorFlow's ops directly where they can run. */
export function convolutionFor(spec: ConvolutionSpec): Convolution {
  return fusedKernelsActive() ? tensorflowConvolution(spec) : tfjsConvolution(spec);
}

export function tfjsConvolution({ strides, dilations, pad, relu }: ConvolutionSpec): Convolution {
  const activation = relu ? 'relu' : 'linear';
  return (x, filter, bias) => tf.fused.conv2d({ x, filter, bias, strides, pad, dilations, activation });
}

export function tensorflowConvolution({ strides, dilations, pad, relu }: ConvolutionSpec): Convolution {
  const convAttributes = [
    opAttribute.float32Type('T'),
    opAttribute.ints('strides', [1, ...strides, 1]),
    opAttribute.string('padding', typeof pad === 'string' ? pad.toUpperCase() : 'EXPLICIT'),
    opAttribute.string('data_format', 'NHWC'),
    opAttribute.bool('use_cudnn_on_gpu', true),
    opAttribute.ints('dilations', [1, ...dilations, 1]),
    ...(typeof pad === 'string' ? [] : [opAttribute.ints('explicit_paddings', pad.flat())]),
  ];
  const biasAttributes = [opAttribute.float32Type('T'), opAttribute.string('data_format', 'NHWC')];
  const reluAttributes = [opAttribute.float32Type('T')];
  const thenRun = (input: tf.Tensor, name: string, attributes: typeof reluAttributes, more: tf.Tensor[]) => {
    const [output] = runTensorflowOp(name, attributes, [input, ...more], 1);
    input.dispose();
    return output as tf.Tensor;
  };
  return (x, filter, bias) => {
    let y = runTensorflowOp('Conv2D', convAttributes, [x, filter], 1)[0] as tf.Tensor;
    if (bias !== undefined) y = thenRun(y, 'BiasAdd', biasAttributes, [bias]);
    if (relu) y = thenRun(y, 'Relu', reluAttributes, []);
    return y as tf.Tensor4D;
  };
}
