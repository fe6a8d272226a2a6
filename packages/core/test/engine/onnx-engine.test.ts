import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, describe, expect, it } from 'vitest';
import { createOnnxEngine } from '../../src/engine/onnx-engine.ts';
import {
  encodeOnnxMetadata,
  OnnxModelError,
  parseOnnxMetadata,
  readOnnxMetadata,
} from '../../src/engine/onnx-metadata.ts';
import { DEFAULT_PREPROCESS } from '../../src/preprocess/config.ts';

const { onnx } = onnxProto;

/**
 * A hand-made model with the exporter's interface: input [batch, 2, 2, 3] NHWC → NCHW → global
 * average → softmax, so probabilities = softmax(per-channel means), easy to compute here.
 */
function meanSoftmaxModel(
  options: { outputName?: string; metadata?: Record<string, string> } = {},
): Uint8Array {
  const value = (name: string, dims: Array<number | string>) => ({
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
  const ints = (name: string, values: number[]) => ({
    name,
    type: onnx.AttributeProto.AttributeType.INTS,
    ints: values,
  });
  const int = (name: string, i: number) => ({ name, type: onnx.AttributeProto.AttributeType.INT, i });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    metadataProps: Object.entries(options.metadata ?? {}).map(([key, v]) => ({ key, value: v })),
    graph: {
      name: 'mean-softmax',
      node: [
        { opType: 'Transpose', input: ['input'], output: ['nchw'], attribute: [ints('perm', [0, 3, 1, 2])] },
        { opType: 'GlobalAveragePool', input: ['nchw'], output: ['pooled'] },
        { opType: 'Flatten', input: ['pooled'], output: ['logits'], attribute: [int('axis', 1)] },
        {
          opType: 'Softmax',
          input: ['logits'],
          output: [options.outputName ?? 'probabilities'],
          attribute: [int('axis', 1)],
        },
      ],
      input: [value('input', ['batch', 2, 2, 3])],
      output: [value(options.outputName ?? 'probabilities', ['batch', 3])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

function expected(image: Float32Array): number[] {
  const means = [0, 1, 2].map((c) => (image[c]! + image[3 + c]! + image[6 + c]! + image[9 + c]!) / 4);
  const exps = means.map((m) => Math.exp(m - Math.max(...means)));
  return exps.map((e) => e / exps.reduce((a, b) => a + b, 0));
}

const image = (seed: number) => Float32Array.from({ length: 12 }, (_, i) => Math.sin(seed * 7 + i * 1.3) * 2);

describe('createOnnxEngine', () => {
  it('returns softmax probabilities per input, in order, across chunks and batch sizes', async () => {
    const engine = await createOnnxEngine(meanSoftmaxModel(), { intraOpThreads: 1, maxBatch: 2 });
    expect(engine.description).toMatch(
      /onnxruntime .* 2x2x3 -> 3 classes, 1 intra-op threads, batches of <= 2/,
    );
    const inputs = [1, 2, 3, 4, 5].map(image);
    for (const batch of [inputs.slice(0, 1), inputs]) {
      const outputs = await engine.predict(batch);
      expect(outputs).toHaveLength(batch.length);
      for (const [i, output] of outputs.entries()) {
        expect(output).toBeInstanceOf(Float32Array);
        for (const [j, p] of expected(batch[i]!).entries()) expect(output[j]).toBeCloseTo(p, 6);
      }
    }
    expect(await engine.predict([])).toEqual([]);
    engine.dispose();
    await expect(engine.predict([image(1)])).rejects.toThrow(/disposed/);
  });

  it('rejects inputs of the wrong size, naming the input', async () => {
    const engine = await createOnnxEngine(meanSoftmaxModel(), { intraOpThreads: 1 });
    await expect(engine.predict([image(1), new Float32Array(5)])).rejects.toThrow(
      /Input 1 is 5 values.*2x2x3/,
    );
    engine.dispose();
  });

  it('opens a file path, and refuses files that are not models with the expected interface', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'food-onnx-'));
    afterAll(() => rm(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'model.onnx');
    await writeFile(file, meanSoftmaxModel());
    const engine = await createOnnxEngine(file, { intraOpThreads: 1 });
    expect(engine.description).toContain('model.onnx');
    engine.dispose();
    await expect(createOnnxEngine(Uint8Array.of(1, 2, 3, 4))).rejects.toThrow(OnnxModelError);
    await expect(createOnnxEngine(path.join(dir, 'missing.onnx'))).rejects.toThrow(OnnxModelError);
    await expect(createOnnxEngine(meanSoftmaxModel({ outputName: 'scores' }))).rejects.toThrow(
      /no float32 output "probabilities"/,
    );
    await expect(createOnnxEngine(meanSoftmaxModel(), { intraOpThreads: 0 })).rejects.toThrow(RangeError);
  });
});

describe('ONNX metadata', () => {
  const labels = { classes: ['apple_pie', 'baklava', 'bibimbap'] };

  it('round-trips preprocessing, labels and source through metadata_props', async () => {
    const metadata = {
      preprocess: DEFAULT_PREPROCESS,
      labels,
      source: { checkpoint: 'c/best', weightsSha256: 'ab' },
    };
    const dir = await mkdtemp(path.join(tmpdir(), 'food-onnx-meta-'));
    afterAll(() => rm(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'model.onnx');
    await writeFile(file, meanSoftmaxModel({ metadata: encodeOnnxMetadata(metadata) }));
    expect(await readOnnxMetadata(file)).toEqual({ ...metadata, quantization: undefined });
  });

  it('says to export again when the metadata is missing or broken', async () => {
    expect(() => parseOnnxMetadata({}, 'm.onnx')).toThrow(
      /no "food.preprocess" metadata.*Export the checkpoint again/,
    );
    const props = encodeOnnxMetadata({ preprocess: DEFAULT_PREPROCESS, labels });
    expect(() => parseOnnxMetadata({ ...props, 'food.labels': '{"classes": [' }, 'm.onnx')).toThrow(
      /not valid JSON/,
    );
    expect(() => parseOnnxMetadata({ ...props, 'food.labels': '{"classes": []}' }, 'm.onnx')).toThrow(
      /non-empty/,
    );
    await expect(readOnnxMetadata('/nonexistent/model.onnx')).rejects.toThrow(
      /Cannot read ONNX model.*ENOENT/,
    );
  });
});
