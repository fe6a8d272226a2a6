import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamL2 } from '../../src/train/adam.ts';
import { trainableParameters } from '../../src/train/parameters.ts';
import { trainStep } from '../../src/train/train-step.ts';

const LR = 1e-2;
const WEIGHT_DECAY = 5e-4;
const [B1, B2, EPS] = [0.9, 0.999, 1e-8];

/** Softmax cross-entropy gradient of a dense layer, in float64, written from the definitions. */
function denseGradients(x: number[][], w: number[][], b: number[], labels: number[]) {
  const n = x.length;
  const classes = b.length;
  const gradW = w.map((row) => row.map(() => 0));
  const gradB = b.map(() => 0);
  for (let i = 0; i < n; i++) {
    const logits = b.map((bias, c) => bias + x[i].reduce((sum, xi, k) => sum + xi * w[k][c], 0));
    const max = Math.max(...logits);
    const exps = logits.map((z) => Math.exp(z - max));
    const total = exps.reduce((a, e) => a + e, 0);
    for (let c = 0; c < classes; c++) {
      const delta = (exps[c] / total - (labels[i] === c ? 1 : 0)) / n;
      gradB[c] += delta;
      for (let k = 0; k < x[i].length; k++) gradW[k][c] += x[i][k] * delta;
    }
  }
  return { gradW, gradB };
}

/** torch.optim.Adam(weight_decay=λ) update rule, in float64. */
function adamReference(params: number[], grads: number[], state: { m: number[]; v: number[] }, step: number) {
  return params.map((p, i) => {
    const g = grads[i] + WEIGHT_DECAY * p;
    state.m[i] = B1 * state.m[i] + (1 - B1) * g;
    state.v[i] = B2 * state.v[i] + (1 - B2) * g * g;
    const mHat = state.m[i] / (1 - B1 ** step);
    const vHat = state.v[i] / (1 - B2 ** step);
    return p - (LR * mHat) / (Math.sqrt(vHat) + EPS);
  });
}

describe('AdamL2 + trainStep', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('updates the head with L2 weight decay exactly as torch.optim.Adam does, over two steps', () => {
    const input = tf.input({ shape: [4] });
    const head = tf.layers.dense({
      units: 3,
      name: 'predictions',
      kernelInitializer: tf.initializers.glorotNormal({ seed: 3 }),
    });
    const model = tf.model({ inputs: input, outputs: head.apply(input) as tf.SymbolicTensor });
    const x = [
      [0.5, -1, 2, 0.1],
      [1.5, 0.3, -0.7, 0.9],
    ];
    const labels = [2, 0];
    let w = (model.getWeights()[0].arraySync() as number[][]).map((row) => [...row]);
    let b = [...(model.getWeights()[1].arraySync() as number[])];
    const initialW = w.map((row) => [...row]);

    const optimizer = new AdamL2({ learningRate: LR, weightDecay: WEIGHT_DECAY });
    const parameters = trainableParameters(model);
    expect(parameters.map((p) => p.key)).toEqual(['predictions/kernel', 'predictions/bias']);
    const stateW = { m: w.flat().map(() => 0), v: w.flat().map(() => 0) };
    const stateB = { m: b.map(() => 0), v: b.map(() => 0) };

    const inputs = tf.tensor2d(x);
    const labelTensor = tf.tensor1d(labels, 'int32');
    for (let step = 1; step <= 2; step++) {
      trainStep(model, optimizer, parameters, [{ inputs, labels: labelTensor }], 3);
      const { gradW, gradB } = denseGradients(x, w, b, labels);
      const flatW = adamReference(w.flat(), gradW.flat(), stateW, step);
      w = w.map((row, k) => row.map((_, c) => flatW[k * row.length + c]));
      b = adamReference(b, gradB, stateB, step);
      const actualW = model.getWeights()[0].arraySync() as number[][];
      const actualB = model.getWeights()[1].arraySync() as number[];
      actualW.flat().forEach((value, i) => {
        expect(value).toBeCloseTo(w.flat()[i], 6);
      });
      actualB.forEach((value, i) => {
        expect(value).toBeCloseTo(b[i], 6);
      });
    }
    // The head moved (the reference project left it out of the optimiser).
    const moved = (model.getWeights()[0].arraySync() as number[][])
      .flat()
      .map((v, i) => Math.abs(v - initialW.flat()[i]));
    expect(Math.min(...moved)).toBeGreaterThan(LR / 2);
    expect(optimizer.iterations).toBe(2);
    tf.dispose([inputs, labelTensor]);
    optimizer.dispose();
  });

  it('weight decay alone pulls parameters towards zero when the gradient is zero', () => {
    const variable = tf.variable(tf.tensor1d([1, -2]), true, 'decay_probe');
    const optimizer = new AdamL2({ learningRate: 0.1, weightDecay: 0.5 });
    optimizer.applyGradients([{ key: 'probe', variable }], { decay_probe: tf.zeros([2]) });
    // Step 1 of Adam moves each parameter by lr·sign(g) with g = λ·θ.
    expect(Array.from(variable.dataSync())).toEqual([expect.closeTo(0.9, 6), expect.closeTo(-1.9, 6)]);
    variable.dispose();
    optimizer.dispose();
  });

  it('keeps the number of tensors constant across steps and round-trips its state', () => {
    const start = tf.memory().numTensors;
    const input = tf.input({ shape: [4] });
    const model = tf.model({
      inputs: input,
      outputs: tf.layers
        .dense({ units: 3, kernelInitializer: tf.initializers.glorotNormal({ seed: 4 }) })
        .apply(input) as tf.SymbolicTensor,
    });
    const optimizer = new AdamL2({ learningRate: LR, weightDecay: WEIGHT_DECAY });
    const parameters = trainableParameters(model);
    const inputs = tf.randomNormal([8, 4], 0, 1, 'float32', 5);
    const labels = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32');
    trainStep(model, optimizer, parameters, [{ inputs, labels }], 3);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++)
      trainStep(
        model,
        optimizer,
        parameters,
        [
          { inputs, labels },
          { inputs, labels },
        ],
        3,
      );
    expect(tf.memory().numTensors).toBe(before);

    const state = optimizer.getState();
    const restored = new AdamL2({ learningRate: LR, weightDecay: WEIGHT_DECAY });
    restored.setState(state);
    expect(restored.iterations).toBe(6);
    for (const [key, tensor] of Object.entries(restored.getState().moments)) {
      expect(Array.from(tensor.dataSync())).toEqual(Array.from(state.moments[key].dataSync()));
    }
    tf.dispose([inputs, labels]);
    optimizer.dispose();
    restored.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});
