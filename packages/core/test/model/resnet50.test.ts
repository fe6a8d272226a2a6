import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildResNet50,
  countParameters,
  frozenBoundaryLayer,
  resNetName,
  setTrainableScope,
} from '../../src/model/resnet50.ts';
import { SHARED_DATA } from '../../src/testing/shared-data.ts';

const manifestPath = path.join(SHARED_DATA.resnet50Weights, 'weights_manifest.json');

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Keras `applications/resnet.py` names, spelled out independently of the builder. */
function kerasWeightBearingLayers(blocks: number[]): string[] {
  const names = ['conv1_conv', 'conv1_bn'];
  blocks.forEach((count, stage) => {
    for (let b = 1; b <= count; b++) {
      const prefix = `conv${stage + 2}_block${b}`;
      if (b === 1) names.push(`${prefix}_0_conv`, `${prefix}_0_bn`);
      for (const i of [1, 2, 3]) names.push(`${prefix}_${i}_conv`, `${prefix}_${i}_bn`);
    }
  });
  return names;
}

const tinyOptions = {
  numClasses: 5,
  inputSize: 32,
  widthMultiplier: 1 / 16,
  blocksPerStage: [1, 1, 1, 1] as [number, number, number, number],
  seed: 7,
};

describe('buildResNet50 (full size)', () => {
  const model = buildResNet50({ numClasses: 50, seed: 1 });

  it('has exactly the parameter count of Keras ResNet50 notop + a 50-way head', () => {
    expect(countParameters(model)).toBe(23_690_162);
    expect(countParameters(model)).toBe(23_587_712 + 2048 * 50 + 50);
  });

  it('uses the Keras layer names', () => {
    // model.layers is in topological order (the shortcut's _0_conv comes after _2_conv), as in Keras.
    const weightBearing = model.layers.filter((l) => l.weights.length > 0).map((l) => l.name);
    expect(weightBearing.sort()).toEqual([...kerasWeightBearingLayers([3, 4, 6, 3]), 'predictions'].sort());
    const names = model.layers.map((l) => l.name);
    expect(names.slice(0, 8)).toEqual([
      'input_1',
      'conv1_pad',
      'conv1_conv',
      'conv1_bn',
      'conv1_relu',
      'pool1_pad',
      'pool1_pool',
      'conv2_block1_1_conv',
    ]);
    for (const suffix of ['_add', '_out', '_1_relu', '_2_relu']) {
      expect(names).toContain(`conv4_block6${suffix}`);
    }
    expect(names.slice(-3)).toEqual(['conv5_block3_out', 'avg_pool', 'predictions']);
  });

  it.skipIf(!existsSync(manifestPath))('matches all 318 ImageNet weight names and shapes', () => {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Array<{
      weights: Array<{ name: string; shape: number[] }>;
    }>;
    const expected = manifest.flatMap((group) => group.weights);
    expect(expected).toHaveLength(318);
    const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
    const ours = model.weights
      .filter((w) => !w.originalName.startsWith('predictions/'))
      .map((w) => ({ name: w.originalName, shape: w.shape }))
      .sort(byName);
    expect(ours).toEqual(expected.map(({ name, shape }) => ({ name, shape })).sort(byName));
  });

  it('is v1: stride 2 on the first 1x1 conv and the shortcut, 3x3 convs at stride 1', () => {
    const shapeOf = (name: string) => model.getLayer(name).outputShape;
    expect(shapeOf('pool1_pool')).toEqual([null, 56, 56, 64]);
    expect(shapeOf('conv2_block1_1_conv')).toEqual([null, 56, 56, 64]);
    expect(shapeOf('conv3_block1_0_conv')).toEqual([null, 28, 28, 512]);
    expect(shapeOf('conv3_block1_1_conv')).toEqual([null, 28, 28, 128]);
    expect(shapeOf('conv3_block1_2_conv')).toEqual([null, 28, 28, 128]);
    expect(shapeOf('conv5_block3_out')).toEqual([null, 7, 7, 2048]);
    expect(shapeOf('avg_pool')).toEqual([null, 2048]);
    const bn = model.getLayer('conv1_bn').getConfig();
    expect(bn.epsilon).toBe(1.001e-5);
    expect(bn.momentum).toBe(0.99);
    expect(model.getLayer('predictions').getConfig().activation).toBe('linear');
  });

  it('freezes the backbone by scope', () => {
    const head = 2048 * 50 + 50;
    setTrainableScope(model, 'head');
    expect(countParameters(model, 'trainable')).toBe(head);
    setTrainableScope(model, 'stage5');
    const stage5 = model.layers
      .filter((l) => l.name.startsWith('conv5_'))
      .flatMap((l) => l.trainableWeights)
      .reduce((n, w) => n + w.shape.reduce((a: number, d) => a * (d ?? 1), 1), 0);
    expect(countParameters(model, 'trainable')).toBe(head + stage5);
    expect(model.getLayer('conv4_block6_3_conv').trainable).toBe(false);
    setTrainableScope(model, 'stage4+');
    expect(model.getLayer('conv4_block1_0_conv').trainable).toBe(true);
    expect(model.getLayer('conv3_block4_3_bn').trainable).toBe(false);
    setTrainableScope(model, 'all');
    // All but the 53 BatchNorm layers' moving mean and variance (2 × 26,560 values).
    expect(countParameters(model, 'trainable')).toBe(23_690_162 - 2 * 26_560);
  });

  it('splits at the output of the last frozen stage, by the same rule that freezes it', () => {
    expect(frozenBoundaryLayer(model, 'head')).toBe('avg_pool');
    expect(frozenBoundaryLayer(model, 'stage5')).toBe('conv4_block6_out');
    expect(frozenBoundaryLayer(model, 'stage4+')).toBe('conv3_block4_out');
  });
});

describe('buildResNet50 (tiny)', () => {
  it('runs the same code path at width 1/16 and gives logits per class', () => {
    const model = buildResNet50(tinyOptions);
    const weightBearing = model.layers.filter((l) => l.weights.length > 0).map((l) => l.name);
    expect(weightBearing.sort()).toEqual([...kerasWeightBearingLayers([1, 1, 1, 1]), 'predictions'].sort());
    expect(model.getLayer('conv1_conv').outputShape).toEqual([null, 16, 16, 4]);
    expect(model.getLayer('conv5_block1_out').outputShape).toEqual([null, 1, 1, 128]);
    const logits = tf.tidy(() =>
      (model.predict(tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 1)) as tf.Tensor).arraySync(),
    );
    expect(logits).toHaveLength(2);
    expect((logits as number[][])[0]).toHaveLength(5);
    model.dispose();
  });

  it('is deterministic for a seed, with distinct kernels for equal shapes and zero biases', () => {
    const a = buildResNet50(tinyOptions);
    const b = buildResNet50(tinyOptions);
    const c = buildResNet50({ ...tinyOptions, seed: 8 });
    const kernel = (m: tf.LayersModel, name: string) => m.getLayer(name).getWeights()[0]!.dataSync();
    expect(kernel(a, 'predictions')).toEqual(kernel(b, 'predictions'));
    expect(kernel(a, 'conv2_block1_1_conv')).toEqual(kernel(b, 'conv2_block1_1_conv'));
    expect(kernel(a, 'predictions')).not.toEqual(kernel(c, 'predictions'));
    // Both [1, 1, 4, 16]: equal shapes must not get equal values from one shared seed.
    expect(kernel(a, 'conv2_block1_0_conv')).toHaveLength(64);
    expect(kernel(a, 'conv2_block1_3_conv')).toHaveLength(64);
    expect(kernel(a, 'conv2_block1_0_conv')).not.toEqual(kernel(a, 'conv2_block1_3_conv'));
    expect(Array.from(a.getLayer('conv1_conv').getWeights()[1]!.dataSync()).every((v) => v === 0)).toBe(true);
    for (const m of [a, b, c]) m.dispose();
  });
});

it('is deterministic for seed 0 too (tfjs reads an initialiser seed of 0 as "unseeded")', () => {
  const [a, b] = [buildResNet50({ ...tinyOptions, seed: 0 }), buildResNet50({ ...tinyOptions, seed: 0 })];
  for (const layer of ['conv1_conv', 'predictions']) {
    expect(a.getLayer(layer).getWeights()[0]!.dataSync()).toEqual(
      b.getLayer(layer).getWeights()[0]!.dataSync(),
    );
  }
  for (const m of [a, b]) m.dispose();
});

describe('BatchNormalization in a custom training loop (tfjs-layers 4.22)', () => {
  it('stock tfjs: a BatchNormalization layer with trainable=false still updates its statistics', () => {
    // The reason for ../src/model/batch-norm.ts; if tfjs ever follows Keras here, this test says so.
    const input = tf.input({ shape: [2] });
    const bn = tf.layers.batchNormalization({ momentum: 0.5 });
    const model = tf.model({ inputs: input, outputs: bn.apply(input) as tf.SymbolicTensor });
    bn.trainable = false;
    const batch = tf.tensor2d([1, 2, 3, 6], [2, 2]);
    tf.tidy(() => {
      model.apply(batch, { training: true });
    });
    batch.dispose();
    expect(Array.from(bn.getWeights()[2]!.dataSync())).toEqual([1, 2]);
    model.dispose();
  });

  const stats = (model: tf.LayersModel) =>
    model
      .getLayer('conv1_bn')
      .getWeights()
      .slice(2)
      .map((w) => Array.from(w.dataSync()));

  it('apply(x, {training: true}) uses batch statistics and updates moving mean/variance of trainable layers', () => {
    const model = buildResNet50(tinyOptions);
    const x = tf.randomNormal([4, 32, 32, 3], 3, 2, 'float32', 3);
    const before = stats(model);
    const numTensors = tf.memory().numTensors;
    tf.tidy(() => {
      const { value } = tf.variableGrads(
        () => (model.apply(x, { training: true }) as tf.Tensor).square().mean() as tf.Scalar,
      );
      value.dataSync();
    });
    expect(tf.memory().numTensors).toBe(numTensors);
    const after = stats(model);
    expect(after[0]).not.toEqual(before[0]);
    expect(after[1]).not.toEqual(before[1]);
    x.dispose();
    model.dispose();
  });

  it('a frozen BatchNormalization layer runs in inference mode even with training: true', () => {
    const model = buildResNet50(tinyOptions);
    setTrainableScope(model, 'head');
    const x = tf.randomNormal([4, 32, 32, 3], 3, 2, 'float32', 4);
    const before = stats(model);
    const [trainingOut, inferenceOut] = tf.tidy(() => [
      (model.apply(x, { training: true }) as tf.Tensor).arraySync() as number[][],
      (model.apply(x, { training: false }) as tf.Tensor).arraySync() as number[][],
    ]);
    expect(stats(model)).toEqual(before);
    expect(trainingOut).toEqual(inferenceOut);
    setTrainableScope(model, 'all');
    const unfrozen = tf.tidy(() => (model.apply(x, { training: true }) as tf.Tensor).arraySync());
    expect(unfrozen).not.toEqual(inferenceOut);
    x.dispose();
    model.dispose();
  });
});

describe('resNetName (the model card names the network it serves)', () => {
  it('is ResNet-50 only for the paper’s depth and width', () => {
    expect(resNetName({})).toBe('ResNet-50');
    expect(resNetName({ widthMultiplier: 1, blocksPerStage: [3, 4, 6, 3] })).toBe('ResNet-50');
    expect(resNetName({ blocksPerStage: [3, 4, 23, 3] })).toBe('ResNet-101');
    expect(resNetName({ widthMultiplier: 1 / 16, blocksPerStage: [1, 1, 1, 1] })).toBe(
      'ResNet-14, 1/16 width',
    );
    expect(resNetName({ widthMultiplier: 0.25 })).toBe('ResNet-50, 1/4 width');
    expect(resNetName({ widthMultiplier: 1.5 })).toBe('ResNet-50, 1.5× width');
  });
});
