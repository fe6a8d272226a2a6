import { describe, expect, it } from 'vitest';
import { foldBatchNorm, kerasToOnnxConv } from '../../src/export/fold-batch-norm.ts';

describe('kerasToOnnxConv', () => {
  it('reorders HWIO to OIHW', () => {
    // kernel [kh=1, kw=2, in=2, out=3]; value encodes its HWIO index as x*100 + i*10 + o.
    const kernel = Float32Array.from({ length: 12 }, (_, k) => {
      const [x, i, o] = [Math.floor(k / 6), Math.floor(k / 3) % 2, k % 3];
      return x * 100 + i * 10 + o;
    });
    const { weight, weightShape } = kerasToOnnxConv({
      kernel,
      kernelShape: [1, 2, 2, 3],
      bias: new Float32Array(3),
    });
    expect(weightShape).toEqual([3, 2, 1, 2]);
    // OIHW index (o, i, 0, x) holds x*100 + i*10 + o.
    for (let o = 0; o < 3; o++) {
      for (let i = 0; i < 2; i++) {
        for (let x = 0; x < 2; x++) expect(weight[(o * 2 + i) * 2 + x]).toBe(x * 100 + i * 10 + o);
      }
    }
  });
});

describe('foldBatchNorm', () => {
  it('gives the conv + batch-norm output for one 1x1 convolution', () => {
    const conv = {
      weight: Float32Array.of(2, -1),
      weightShape: [2, 1, 1, 1] as [number, number, number, number],
      bias: Float32Array.of(0.5, 1),
    };
    const bn = {
      gamma: Float32Array.of(3, 0.5),
      beta: Float32Array.of(-1, 2),
      movingMean: Float32Array.of(1, -2),
      movingVariance: Float32Array.of(4, 0.25),
      epsilon: 1e-3,
    };
    const folded = foldBatchNorm(conv, bn);
    for (const x of [-2, 0, 1.5]) {
      for (let c = 0; c < 2; c++) {
        const reference =
          (bn.gamma[c]! * (conv.weight[c]! * x + conv.bias[c]! - bn.movingMean[c]!)) /
            Math.sqrt(bn.movingVariance[c]! + bn.epsilon) +
          bn.beta[c]!;
        expect(folded.weight[c]! * x + folded.bias[c]!).toBeCloseTo(reference, 5);
      }
    }
  });

  it('treats absent gamma/beta (scale/center off) as 1 and 0', () => {
    const conv = {
      weight: Float32Array.of(1),
      weightShape: [1, 1, 1, 1] as [number, number, number, number],
      bias: Float32Array.of(0),
    };
    const folded = foldBatchNorm(conv, {
      movingMean: Float32Array.of(1),
      movingVariance: Float32Array.of(4),
      epsilon: 0,
    });
    expect(Array.from(folded.weight)).toEqual([0.5]);
    expect(Array.from(folded.bias)).toEqual([-0.5]);
  });

  it('rejects statistics whose channel count differs from the convolution', () => {
    const conv = {
      weight: Float32Array.of(1, 1),
      weightShape: [2, 1, 1, 1] as [number, number, number, number],
      bias: new Float32Array(2),
    };
    expect(() =>
      foldBatchNorm(conv, { movingMean: Float32Array.of(0), movingVariance: Float32Array.of(1), epsilon: 0 }),
    ).toThrow(/channels/);
  });
});
