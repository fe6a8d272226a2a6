/**
 * Inference-mode BatchNormalization after a convolution is an affine map per output channel, so it
 * folds into the convolution (Jacob et al. 2018, "Quantization and Training of Neural Networks for
 * Efficient Integer-Arithmetic-Only Inference", §3.2): one Conv instead of Conv + BN at run time, and
 * one weight tensor to quantise.
 */

/** A Keras Conv2D kernel [kh, kw, in, out] and bias [out] (zeros when the layer has none). */
export interface KerasConv {
  kernel: Float32Array;
  kernelShape: [number, number, number, number];
  bias: Float32Array;
}

/** Keras BatchNormalization weights; gamma/beta absent when `scale` / `center` is false. */
export interface BatchNormWeights {
  gamma?: Float32Array;
  beta?: Float32Array;
  movingMean: Float32Array;
  movingVariance: Float32Array;
  epsilon: number;
}

/** An ONNX Conv weight [out, in, kh, kw] and bias [out]. */
export interface OnnxConv {
  weight: Float32Array;
  weightShape: [number, number, number, number];
  bias: Float32Array;
}

/** Reorders a Keras kernel HWIO → ONNX OIHW. */
export function kerasToOnnxConv(conv: KerasConv): OnnxConv {
  const [kh, kw, cin, cout] = conv.kernelShape;
  const weight = new Float32Array(conv.kernel.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < cin; i++) {
        for (let o = 0; o < cout; o++) {
          weight[((o * cin + i) * kh + y) * kw + x] = conv.kernel[((y * kw + x) * cin + i) * cout + o]!;
        }
      }
    }
  }
  return { weight, weightShape: [cout, cin, kh, kw], bias: Float32Array.from(conv.bias) };
}

/**
 * BN(conv(x) + b) = s·conv(x) + (s·(b − mean) + beta) with s = gamma / sqrt(variance + epsilon):
 * scales each output channel's weights by s and replaces the bias. Computed in float64.
 */
export function foldBatchNorm(conv: OnnxConv, bn: BatchNormWeights): OnnxConv {
  const [cout] = conv.weightShape;
  const perChannel = conv.weight.length / cout;
  for (const [name, values] of Object.entries(bn)) {
    if (values instanceof Float32Array && values.length !== cout) {
      throw new Error(`BatchNormalization ${name} has ${values.length} channels, the convolution ${cout}`);
    }
  }
  const weight = new Float32Array(conv.weight.length);
  const bias = new Float32Array(cout);
  for (let o = 0; o < cout; o++) {
    const scale = (bn.gamma?.[o] ?? 1) / Math.sqrt(bn.movingVariance[o]! + bn.epsilon);
    for (let k = o * perChannel; k < (o + 1) * perChannel; k++) weight[k] = conv.weight[k]! * scale;
    bias[o] = (conv.bias[o]! - bn.movingMean[o]!) * scale + (bn.beta?.[o] ?? 0);
  }
  return { weight, weightShape: conv.weightShape, bias };
}
