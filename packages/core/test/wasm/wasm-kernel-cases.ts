/**
 * The wasm training kernels' tests, run by wasm-kernels.test.ts on the single-threaded build and by
 * wasm-kernels-threaded.test.ts on the pthreads build (a process can start only one of the two).
 */
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend.ts';
import { registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from '../../src/wasm/wasm-kernels.ts';

/** Deterministic uniform(-1, 1) values (mulberry32), identical on both backends. */
function randomValues(size: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    values[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return values;
}

/** Runs `compute` on `backendName`, copies its results out, and restores the previous backend. */
async function onBackend(backendName: string, compute: () => tf.Tensor[]): Promise<Float32Array[]> {
  const previous = tf.getBackend();
  await tf.setBackend(backendName);
  try {
    const results = compute();
    const values = results.map((t) => t.dataSync() as Float32Array);
    tf.dispose(results);
    return values;
  } finally {
    await tf.setBackend(previous);
  }
}

/** max |a − b| relative to max |b|. */
function relativeError(actual: Float32Array, expected: Float32Array): number {
  expect(actual.length).toBe(expected.length);
  let maxDiff = 0;
  let maxAbs = 0;
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
    maxAbs = Math.max(maxAbs, Math.abs(expected[i]));
  }
  expect(maxAbs).toBeGreaterThan(0);
  return maxDiff / maxAbs;
}

interface ConvCase {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | [[number, number], [number, number], [number, number], [number, number]];
}

// ResNet-50 v1 uses 1×1/1, 1×1/2 valid, 3×3/1 same and the 7×7/2 stem on a pre-padded input;
// the rest are odd shapes (odd sizes, batch 1 and 3, channels not a multiple of 4, stride-2 'same').
const CASES: ConvCase[] = [
  { name: '1x1 stride 1', x: [2, 6, 5, 6], filter: [1, 1, 6, 10], strides: 1, pad: 'valid' },
  { name: '1x1 stride 2 odd input', x: [3, 7, 7, 5], filter: [1, 1, 5, 8], strides: 2, pad: 'valid' },
  { name: '1x1 stride 2 even input', x: [1, 8, 6, 4], filter: [1, 1, 4, 12], strides: 2, pad: 'valid' },
  { name: '3x3 stride 1 same', x: [1, 6, 5, 7], filter: [3, 3, 7, 9], strides: 1, pad: 'same' },
  { name: '3x3 stride 1 valid', x: [3, 7, 8, 4], filter: [3, 3, 4, 3], strides: 1, pad: 'valid' },
  { name: '7x7 stride 2 valid (stem)', x: [2, 15, 15, 3], filter: [7, 7, 3, 8], strides: 2, pad: 'valid' },
  { name: '3x3 stride 2 same odd', x: [3, 9, 9, 5], filter: [3, 3, 5, 6], strides: 2, pad: 'same' },
  { name: '3x3 stride 2 same even', x: [1, 8, 8, 3], filter: [3, 3, 3, 5], strides: 2, pad: 'same' },
  {
    name: '3x3 stride 1, explicit padding wider than the kernel',
    x: [2, 5, 6, 3],
    filter: [3, 3, 3, 4],
    strides: 1,
    pad: [
      [0, 0],
      [3, 1],
      [0, 4],
      [0, 0],
    ],
  },
  { name: '5x3 strides [2,1] same', x: [2, 9, 7, 3], filter: [5, 3, 3, 4], strides: [2, 1], pad: 'same' },
];

/** dx and dW of sum(conv(x, w) · r) for a fixed random r, so dy is not constant. */
function convGrads(c: ConvCase): () => tf.Tensor[] {
  return () =>
    tf.tidy(() => {
      const x = tf.tensor4d(randomValues(tf.util.sizeFromShape(c.x), 1), c.x);
      const w = tf.tensor4d(randomValues(tf.util.sizeFromShape(c.filter), 2), c.filter);
      const outShape = tf.conv2d(x, w, c.strides, c.pad).shape;
      const r = tf.tensor(randomValues(tf.util.sizeFromShape(outShape), 3), outShape);
      const grads = tf.grads((xi: tf.Tensor, wi: tf.Tensor) =>
        tf
          .conv2d(xi as tf.Tensor4D, wi as tf.Tensor4D, c.strides, c.pad)
          .mul(r)
          .sum(),
      );
      return grads([x, w]);
    });
}

/**
 * A miniature residual network as plain ops: conv → batch-norm (batch statistics) → relu → max-pool →
 * bottleneck with a strided projection shortcut → global average pool → dense → softmax cross-entropy.
 * The bottleneck's first conv is 3×3 'same' (ResNet v1 has 1×1 'valid' there): with only 1×1 valid convs
 * followed by batch-norm, the stem's beta gradient is structurally ~0 and compares float noise.
 */
const TINY_SHAPES: Record<string, number[]> = {
  stem: [7, 7, 3, 8],
  gamma: [8],
  beta: [8],
  a: [3, 3, 8, 4],
  b: [3, 3, 4, 4],
  c: [1, 1, 4, 12],
  shortcut: [1, 1, 8, 12],
  dense: [12, 5],
};

function tinyLoss(params: Record<string, tf.Tensor>, images: tf.Tensor4D, labels: tf.Tensor2D): tf.Scalar {
  const bn = (t: tf.Tensor4D, gamma?: tf.Tensor, beta?: tf.Tensor): tf.Tensor4D => {
    const { mean, variance } = tf.moments(t, [0, 1, 2]);
    // tf.batchNorm without scale/offset cannot be differentiated in tfjs 4.22: use ones/zeros.
    const channels = t.shape[3];
    return tf.batchNorm(
      t,
      mean,
      variance,
      beta ?? tf.zeros([channels]),
      gamma ?? tf.ones([channels]),
      1e-3,
    ) as tf.Tensor4D;
  };
  const padded = tf.pad(images, [
    [0, 0],
    [3, 3],
    [3, 3],
    [0, 0],
  ]);
  let x = tf.relu(bn(tf.conv2d(padded, params.stem as tf.Tensor4D, 2, 'valid'), params.gamma, params.beta));
  x = tf.maxPool(x, 3, 2, 'same');
  let y = tf.relu(bn(tf.conv2d(x, params.a as tf.Tensor4D, 2, 'same')));
  y = tf.relu(bn(tf.conv2d(y, params.b as tf.Tensor4D, 1, 'same')));
  y = bn(tf.conv2d(y, params.c as tf.Tensor4D, 1, 'valid'));
  const shortcut = bn(tf.conv2d(x, params.shortcut as tf.Tensor4D, 2, 'valid'));
  const pooled = tf.mean(tf.relu(tf.add(y, shortcut)), [1, 2]) as tf.Tensor2D;
  return tf.losses.softmaxCrossEntropy(labels, tf.matMul(pooled, params.dense as tf.Tensor2D));
}

function tinyData(batch: number, side: number): { images: tf.Tensor4D; labels: tf.Tensor2D } {
  const images = tf.tensor4d(randomValues(batch * side * side * 3, 7), [batch, side, side, 3]);
  const labels = tf
    .oneHot(
      Array.from({ length: batch }, (_, i) => i % 5),
      5,
    )
    .toFloat() as tf.Tensor2D;
  return { images, labels };
}

function tinyParams(): Record<string, tf.Tensor> {
  return Object.fromEntries(
    Object.entries(TINY_SHAPES).map(([name, shape], index) => {
      const values = randomValues(tf.util.sizeFromShape(shape), 100 + index);
      const scaled = values.map((v) => (name === 'gamma' ? 1 + 0.1 * v : 0.3 * v));
      return [name, tf.tensor(scaled, shape)];
    }),
  );
}

export function describeWasmKernelTests(wasmThreads: number): void {
  describe(`wasm training kernels, ${wasmThreads} thread(s)`, () => {
    beforeAll(async () => {
      registerWasmTrainingKernels();
      registerWasmTrainingKernels(); // idempotent
      const backend = await initBackend('wasm', () => {}, { wasmThreads });
      expect(backend.threads).toBe(Math.min(wasmThreads, availableParallelism()));
    });

    it('registers Conv2DBackpropFilter and Conv2DBackpropInput for wasm', () => {
      expect(WASM_TRAINING_KERNELS).toEqual(
        expect.arrayContaining(['Conv2DBackpropFilter', 'Conv2DBackpropInput']),
      );
      for (const name of WASM_TRAINING_KERNELS) expect(tf.getKernel(name, 'wasm')).toBeDefined();
    });

    for (const c of CASES) {
      it(`conv2d gradients match cpu: ${c.name}`, async () => {
        const [dxCpu, dwCpu] = await onBackend('cpu', convGrads(c));
        const before = tf.memory().numTensors;
        const [dxWasm, dwWasm] = await onBackend('wasm', convGrads(c));
        expect(tf.memory().numTensors).toBe(before);
        expect(relativeError(dxWasm, dxCpu)).toBeLessThanOrEqual(1e-4);
        expect(relativeError(dwWasm, dwCpu)).toBeLessThanOrEqual(1e-4);
      });
    }

    it('Tile, Sum, Mean and Identity match cpu, fallbacks included', async () => {
      const compute = () =>
        tf.tidy(() => {
          const x = tf.tensor4d(randomValues(3 * 5 * 4 * 6, 11), [3, 5, 4, 6]);
          const v = tf.tensor(randomValues(6, 12), [1, 1, 1, 6]);
          const ints = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32');
          return [
            tf.tile(v, [3, 5, 4, 1]),
            tf.tile(x, [2, 1, 3, 2]),
            tf.tile(ints, [3, 2]).toFloat(),
            tf.sum(x, [0, 1, 2]),
            tf.sum(x, [-4, -3], true),
            tf.sum(x, [1, 2]), // not leading: wasm's own kernel
            tf.sum(x),
            tf.mean(x, [0, 1, 2], true),
            tf.mean(x, [0]),
            tf.mean(x, [3]), // not leading: wasm's own kernel
            x.clone().add(1),
          ];
        });
      const cpu = await onBackend('cpu', compute);
      const before = tf.memory().numTensors;
      const wasm = await onBackend('wasm', compute);
      expect(tf.memory().numTensors).toBe(before);
      for (let i = 0; i < cpu.length; i++) {
        expect(relativeError(wasm[i], cpu[i]), `output ${i}`).toBeLessThanOrEqual(1e-6);
      }
    });

    it('gradients of a tiny residual network match cpu', async () => {
      const gradsOf = () =>
        tf.tidy(() => {
          const params = tinyParams();
          const { images, labels } = tinyData(3, 17);
          const names = Object.keys(params);
          const f = (...tensors: tf.Tensor[]) =>
            tinyLoss(Object.fromEntries(names.map((n, i) => [n, tensors[i]])), images, labels);
          const { value, grads } = tf.valueAndGrads(f)(names.map((n) => params[n]));
          return [value, ...grads];
        });
      const cpu = await onBackend('cpu', gradsOf);
      const wasm = await onBackend('wasm', gradsOf);
      expect(wasm.length).toBe(Object.keys(TINY_SHAPES).length + 1);
      for (let i = 0; i < cpu.length; i++) {
        expect(relativeError(wasm[i], cpu[i]), `output ${i}`).toBeLessThanOrEqual(1e-4);
      }
    });

    it('trains a tiny conv-BN-relu-pool-dense tf.layers model: loss falls, no tensors leak', () => {
      const model = tf.sequential({
        layers: [
          tf.layers.conv2d({
            inputShape: [12, 12, 3],
            filters: 6,
            kernelSize: 3,
            padding: 'same',
            kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }),
          }),
          tf.layers.batchNormalization(),
          tf.layers.activation({ activation: 'relu' }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.conv2d({
            filters: 10,
            kernelSize: 1,
            strides: 2,
            kernelInitializer: tf.initializers.glorotNormal({ seed: 2 }),
          }),
          tf.layers.batchNormalization(),
          tf.layers.activation({ activation: 'relu' }),
          tf.layers.globalAveragePooling2d({}),
          tf.layers.dense({ units: 5, kernelInitializer: tf.initializers.glorotNormal({ seed: 3 }) }),
        ],
      });
      const { images, labels } = tinyData(6, 12);
      const optimizer = tf.train.adam(0.05);
      const losses: number[] = [];
      let tensorsAfterFirstStep = 0;
      for (let step = 0; step < 8; step++) {
        const loss = optimizer.minimize(
          () => tf.losses.softmaxCrossEntropy(labels, model.apply(images, { training: true }) as tf.Tensor),
          true,
        );
        losses.push(loss!.dataSync()[0]);
        loss!.dispose();
        if (step === 0) tensorsAfterFirstStep = tf.memory().numTensors;
      }
      expect(tf.memory().numTensors).toBe(tensorsAfterFirstStep);
      expect(losses.at(-1)!).toBeLessThan(losses[0] * 0.7);
      optimizer.dispose();
      model.dispose();
      tf.dispose([images, labels]);
    });
  });
}
