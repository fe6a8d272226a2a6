import { initBackend } from '@food/core/backend';
import { createOnnxEngine } from '@food/core/engine/onnx-engine';
import { createTfjsEngine } from '@food/core/engine/tfjs-engine';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { layersModelToOnnx, UnsupportedModelError } from '../../src/export/layers-to-onnx.ts';
import { decodeModel, encodeModel } from '../../src/export/onnx-graph.ts';
import { syntheticImages, tinyResNet } from './tiny-model.ts';

beforeAll(async () => {
  await initBackend('wasm', () => {});
});

function maxAbsDifference(a: Float32Array[], b: Float32Array[]): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (const [i, row] of a.entries()) {
    expect(row.length).toBe(b[i]!.length);
    for (const [j, value] of row.entries()) max = Math.max(max, Math.abs(value - b[i]![j]!));
  }
  return max;
}

/** ONNX vs tfjs probabilities for one model on the same inputs. */
async function compare(model: tf.LayersModel, inputs: Float32Array[]): Promise<number> {
  const onnx = await createOnnxEngine(encodeModel(layersModelToOnnx(model), { metadata: {} }), {
    intraOpThreads: 1,
  });
  const tfjs = createTfjsEngine(model);
  try {
    return maxAbsDifference(await onnx.predict(inputs), await tfjs.predict(inputs));
  } finally {
    onnx.dispose();
  }
}

describe('layersModelToOnnx on a tiny ResNet-50 with random BatchNorm statistics', () => {
  it('matches tfjs within 1e-4 at batch 1 and batch 5 through the same dynamic-batch session', async () => {
    const model = tinyResNet();
    const onnx = await createOnnxEngine(encodeModel(layersModelToOnnx(model), { metadata: {} }), {
      intraOpThreads: 1,
    });
    const tfjs = createTfjsEngine(model);
    const images = syntheticImages(5, 32);
    const [single, batch] = [await onnx.predict(images.slice(0, 1)), await onnx.predict(images)];
    expect(maxAbsDifference(single, await tfjs.predict(images.slice(0, 1)))).toBeLessThan(1e-4);
    expect(maxAbsDifference(batch, await tfjs.predict(images))).toBeLessThan(1e-4);
    // Not a vacuous comparison: the outputs are far from uniform and differ between images.
    expect(Math.max(...batch[0]!)).toBeGreaterThan(0.3);
    expect(maxAbsDifference([batch[0]!], [batch[1]!])).toBeGreaterThan(1e-3);
    onnx.dispose();
    tfjs.dispose();
  });

  it('folds every BatchNormalization, keeps a symbolic batch dimension and exposes logits', () => {
    const model = tinyResNet();
    const decoded = decodeModel(encodeModel(layersModelToOnnx(model), { metadata: { a: 'b' } }));
    const graph = decoded.graph!;
    const ops = (graph.node ?? []).map((node) => node.opType);
    expect(ops).not.toContain('BatchNormalization');
    expect(ops.filter((op) => op === 'Conv')).toHaveLength(
      model.layers.filter((l) => l.getClassName() === 'Conv2D').length,
    );
    expect(ops.slice(0, 2)).toEqual(['Transpose', 'Conv']); // conv1_pad folded into conv1's pads
    const [input] = graph.input ?? [];
    expect(input!.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))).toEqual([
      'batch',
      32,
      32,
      3,
    ]);
    expect((graph.output ?? []).map((o) => o.name)).toEqual(['probabilities', 'logits']);
    expect(decoded.metadataProps.map((p) => [p.key, p.value])).toEqual([['a', 'b']]);
    model.dispose();
  });
});

describe('layersModelToOnnx on other layer arrangements', () => {
  it("reproduces TensorFlow's asymmetric 'same' padding for stride 2, a standalone Pad and 'same' max pooling", async () => {
    const input = tf.input({ shape: [10, 10, 3] });
    // Stride-2 'same' conv on an even size pads 0 before and 1 after (TF), not symmetrically.
    let x = tf.layers
      .conv2d({
        filters: 4,
        kernelSize: 3,
        strides: 2,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }),
      })
      .apply(input) as tf.SymbolicTensor;
    x = tf.layers
      .conv2d({
        filters: 4,
        kernelSize: 3,
        padding: 'same',
        kernelInitializer: tf.initializers.glorotNormal({ seed: 2 }),
      })
      .apply(x) as tf.SymbolicTensor;
    // Zero padding before a max pool over values that can be negative must stay an explicit Pad.
    x = tf.layers.zeroPadding2d({ padding: 1 }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
    const output = tf.layers
      .dense({
        units: 3,
        activation: 'softmax',
        kernelInitializer: tf.initializers.glorotNormal({ seed: 3 }),
      })
      .apply(x) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: output });
    const ops = layersModelToOnnx(model).nodes.map((node) => node.op);
    expect(ops).toContain('Pad');
    expect(ops.filter((op) => op === 'Softmax')).toHaveLength(1); // the Dense's own softmax is the output
    expect(await compare(model, syntheticImages(3, 10))).toBeLessThan(1e-5);
    model.dispose();
  });

  it('rejects layers it cannot convert with a message naming the layer', () => {
    const input = tf.input({ shape: [8, 8, 3] });
    const flat = tf.layers.flatten({ name: 'my_flatten' }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({
      inputs: input,
      outputs: tf.layers.dense({ units: 2 }).apply(flat) as tf.SymbolicTensor,
    });
    expect(() => layersModelToOnnx(model)).toThrow(UnsupportedModelError);
    expect(() => layersModelToOnnx(model)).toThrow(/my_flatten is a Flatten/);
    model.dispose();
  });

  it('rejects a BatchNormalization that does not follow a convolution', () => {
    const input = tf.input({ shape: [4, 4, 3] });
    const bn = tf.layers.batchNormalization({ name: 'lonely_bn' }).apply(input) as tf.SymbolicTensor;
    const pooled = tf.layers.globalAveragePooling2d({}).apply(bn) as tf.SymbolicTensor;
    const model = tf.model({
      inputs: input,
      outputs: tf.layers.dense({ units: 2 }).apply(pooled) as tf.SymbolicTensor,
    });
    expect(() => layersModelToOnnx(model)).toThrow(/lonely_bn does not directly follow a Conv2D/);
    model.dispose();
  });
});
