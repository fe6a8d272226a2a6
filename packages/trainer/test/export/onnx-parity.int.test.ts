import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { initBackend } from '@food/core/backend';
import { createOnnxEngine } from '@food/core/engine/onnx-engine';
import { createTfjsEngine } from '@food/core/engine/tfjs-engine';
import { buildResNet50 } from '@food/core/model/resnet50';
import { DEFAULT_PREPROCESS } from '@food/core/preprocess/config';
import { preprocessImage } from '@food/core/preprocess/image';
import { SHARED_DATA } from '@food/core/testing/shared-data';
import type * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calibrateRanges } from '../../src/export/calibrate.ts';
import { layersModelToOnnx } from '../../src/export/layers-to-onnx.ts';
import { encodeModel, type OnnxGraph } from '../../src/export/onnx-graph.ts';
import { activationsToCalibrate, quantizeGraph } from '../../src/export/quantize-qdq.ts';
import { applyWeights } from '../../src/weights/apply-weights.ts';
import { foldCaffeInputIntoConv1 } from '../../src/weights/fold-conv1.ts';
import { loadBackboneWeights } from '../../src/weights/load-backbone.ts';
import { disposeWeights } from '../../src/weights/weight-map.ts';

const { resnet50Weights: WEIGHTS, food10Images: IMAGES } = SHARED_DATA;
const available = await Promise.all([stat(WEIGHTS), stat(IMAGES)]).then(
  () => true,
  () => false,
);
if (!available) console.warn(`skipping: needs ${WEIGHTS} and ${IMAGES} (../shared from the repository root)`);

/** The first `perClass` photos of each class folder, sorted, starting at `offset`. */
async function photos(perClass: number, offset: number): Promise<Float32Array[]> {
  const result: Float32Array[] = [];
  for (const food of (await readdir(IMAGES)).sort()) {
    const files = (await readdir(path.join(IMAGES, food))).sort().slice(offset, offset + perClass);
    for (const file of files)
      result.push(await preprocessImage(await readFile(path.join(IMAGES, food, file)), DEFAULT_PREPROCESS));
  }
  return result;
}

describe.skipIf(!available)('ONNX export of the full ResNet-50 with the ImageNet weights', () => {
  let model: tf.LayersModel;
  let graph: OnnxGraph;

  beforeAll(async () => {
    await initBackend('wasm', () => {});
    model = buildResNet50({ numClasses: 10, seed: 5 });
    const weights = await loadBackboneWeights(WEIGHTS);
    const folded = foldCaffeInputIntoConv1(weights, DEFAULT_PREPROCESS);
    applyWeights(model, folded);
    for (const name of ['conv1_conv/kernel', 'conv1_conv/bias']) folded.get(name)?.dispose();
    disposeWeights(weights);
    graph = layersModelToOnnx(model);
  });
  afterAll(() => model?.dispose());

  it('matches the tfjs engine within 1e-4 on real photos (batch 4)', async () => {
    const inputs = (await photos(1, 0)).slice(0, 4);
    const onnx = await createOnnxEngine(encodeModel(graph, { metadata: {} }), { intraOpThreads: 2 });
    const tfjs = createTfjsEngine(model, { maxBatch: 4 });
    const [a, b] = [await onnx.predict(inputs), await tfjs.predict(inputs)];
    let max = 0;
    for (const [i, row] of a.entries())
      for (const [j, v] of row.entries()) max = Math.max(max, Math.abs(v - b[i]![j]!));
    expect(max).toBeLessThan(1e-4);
    onnx.dispose();
  });

  it('int8 (calibrated on other photos) agrees with float32 on the top-1 class of most photos', async () => {
    const calibration = await photos(2, 10);
    const ranges = await calibrateRanges(graph, activationsToCalibrate(graph), calibration, {
      intraOpThreads: 2,
    });
    const fp32 = await createOnnxEngine(encodeModel(graph, { metadata: {} }), { intraOpThreads: 2 });
    const int8 = await createOnnxEngine(encodeModel(quantizeGraph(graph, ranges), { metadata: {} }), {
      intraOpThreads: 2,
    });
    const inputs = await photos(2, 0);
    const [p32, p8] = [await fp32.predict(inputs), await int8.predict(inputs)];
    const top1 = (p: Float32Array) => p.indexOf(Math.max(...p));
    const agreeing = p32.filter((p, i) => top1(p) === top1(p8[i]!)).length;
    expect(agreeing / inputs.length).toBeGreaterThanOrEqual(0.85);
    fp32.dispose();
    int8.dispose();
  });
});
