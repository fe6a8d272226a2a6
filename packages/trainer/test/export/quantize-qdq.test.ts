import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initBackend } from '@food/core/backend';
import { createOnnxEngine } from '@food/core/engine/onnx-engine';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { calibrateRanges } from '../../src/export/calibrate.ts';
import { layersModelToOnnx } from '../../src/export/layers-to-onnx.ts';
import { decodeModel, encodeModel } from '../../src/export/onnx-graph.ts';
import {
  activationParams,
  activationsToCalibrate,
  quantizeGraph,
  quantizeWeightPerChannel,
} from '../../src/export/quantize-qdq.ts';
import { syntheticImages, tinyResNet } from './tiny-model.ts';

beforeAll(async () => {
  await initBackend('wasm', () => {});
});

describe('quantisation parameters', () => {
  it('represents zero exactly and covers the range in uint8 (within the half step lost to rounding the zero point)', () => {
    for (const range of [
      { min: -1.3, max: 4.2 },
      { min: 0, max: 6 },
      { min: 0.5, max: 2 },
      { min: -3, max: -1 },
    ]) {
      const { scale, zeroPoint } = activationParams(range);
      expect(Number.isInteger(zeroPoint) && zeroPoint >= 0 && zeroPoint <= 255).toBe(true);
      expect((0 - zeroPoint) * scale).toBeLessThanOrEqual(Math.min(0, range.min) + scale / 2 + 1e-9);
      expect((255 - zeroPoint) * scale).toBeGreaterThanOrEqual(Math.max(0, range.max) - scale / 2 - 1e-9);
    }
    // Relu outputs get zero point 0, which lets ONNX Runtime drop the Relu.
    expect(activationParams({ min: 0, max: 6 }).zeroPoint).toBe(0);
  });

  it('quantises each output channel with its own scale, within half a step', () => {
    const weight = Float32Array.of(0.1, -0.2, 0.05, 10, -30, 20);
    const { scales, values } = quantizeWeightPerChannel(weight, 2);
    expect(Array.from(scales)).toEqual([Math.fround(0.2 / 127), Math.fround(30 / 127)]);
    for (const [k, w] of weight.entries()) {
      const scale = scales[Math.floor(k / 3)]!;
      expect(Math.abs(values[k]! * scale - w)).toBeLessThanOrEqual(scale / 2 + 1e-7);
    }
  });
});

describe('quantizeGraph on a tiny ResNet-50', () => {
  it('stays close to float32 and becomes QLinearConv / QLinearAdd in ONNX Runtime', async () => {
    const model = tinyResNet({ seed: 3 });
    const graph = layersModelToOnnx(model);
    model.dispose();
    const activations = activationsToCalibrate(graph);
    const ranges = await calibrateRanges(graph, activations, syntheticImages(16, 32, 11), {
      intraOpThreads: 1,
    });
    const quantized = quantizeGraph(graph, ranges);
    const int8Bytes = encodeModel(quantized, { metadata: {} });
    const fp32 = await createOnnxEngine(encodeModel(graph, { metadata: {} }), { intraOpThreads: 1 });
    const int8 = await createOnnxEngine(int8Bytes, { intraOpThreads: 1 });
    const images = syntheticImages(8, 32, 12);
    const [p32, p8] = [await fp32.predict(images), await int8.predict(images)];
    let maxDifference = 0;
    for (const [i, row] of p32.entries()) {
      for (const [j, value] of row.entries())
        maxDifference = Math.max(maxDifference, Math.abs(value - p8[i]![j]!));
    }
    expect(maxDifference).toBeGreaterThan(0); // it really is another model
    expect(maxDifference).toBeLessThan(0.05);
    fp32.dispose();
    int8.dispose();

    // Only the first convolution (it sees the photo) and the head keep float weights; ONNX Runtime
    // turns every other QDQ group into integer kernels.
    const decoded = decodeModel(int8Bytes);
    const floatWeights = (decoded.graph!.initializer ?? []).filter(
      (t) => t.name?.endsWith('/weight') && t.dataType === 1,
    );
    const firstConv = graph.nodes.find((node) => node.op === 'Conv')!;
    expect(floatWeights.map((t) => t.name)).toEqual([firstConv.inputs[1], 'predictions/weight']);
    const dir = await mkdtemp(path.join(tmpdir(), 'food-qdq-'));
    try {
      const optimized = path.join(dir, 'optimized.onnx');
      const session = await ort.InferenceSession.create(int8Bytes, { optimizedModelFilePath: optimized });
      await session.release();
      const ops = (decodeModel(await readFile(optimized)).graph!.node ?? []).map((node) => node.opType);
      expect(ops.filter((op) => op === 'QLinearConv').length).toBe(
        graph.nodes.filter((n) => n.op === 'Conv').length - 1,
      );
      expect(ops).toContain('QLinearAdd');
      expect(ops.filter((op) => op === 'Conv' || op === 'FusedConv').length).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
