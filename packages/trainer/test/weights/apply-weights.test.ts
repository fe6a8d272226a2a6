import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildResNet50 } from '@food/core/model/resnet50';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyWeights, WeightImportError } from '../../src/weights/apply-weights.ts';
import { loadBackboneWeights } from '../../src/weights/load-backbone.ts';
import { readKerasH5 } from '../../src/weights/read-keras-h5.ts';
import { disposeWeights, type WeightMap } from '../../src/weights/weight-map.ts';
import { writeWeightsManifest } from '../../src/weights/write-manifest.ts';
import { writeKerasH5 } from './keras-h5-fixture.ts';

const tiny = (seed: number) =>
  buildResNet50({
    numClasses: 3,
    inputSize: 32,
    widthMultiplier: 1 / 16,
    blocksPerStage: [1, 1, 1, 1],
    seed,
  });

let dir: string;
let source: tf.LayersModel;

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(path.join(os.tmpdir(), 'weights-'));
  source = tiny(1);
  // Non-trivial BatchNorm statistics, so a loader that skipped them would be caught.
  for (const w of source.weights)
    if (w.originalName.includes('moving')) w.write(tf.randomUniform(w.shape as number[], 0.5, 2));
});

afterAll(() => {
  source.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function expectSameBackbone(a: tf.LayersModel, b: tf.LayersModel) {
  for (const layer of a.layers.filter((l) => l.name !== 'predictions')) {
    const other = b.getLayer(layer.name).getWeights();
    layer.getWeights().forEach((w, i) => {
      expect(other[i]!.dataSync()).toEqual(w.dataSync());
    });
  }
}

describe('applyWeights', () => {
  it('loads a Keras .h5 strictly: every backbone tensor, head left alone, 100% coverage', async () => {
    const file = path.join(dir, 'tiny.h5');
    await writeKerasH5(file, source);
    const weights = await readKerasH5(file);
    expect(weights.size).toBe(source.weights.length - 2);
    const target = tiny(2);
    const head = target.getLayer('predictions').getWeights()[0]!.dataSync().slice();
    const coverage = applyWeights(target, weights);
    expect(coverage.percent).toBe(100);
    expect(coverage.missing).toEqual([]);
    expect(coverage.head).toEqual(['predictions/kernel', 'predictions/bias']);
    expectSameBackbone(source, target);
    expect(target.getLayer('predictions').getWeights()[0]!.dataSync()).toEqual(head);
    disposeWeights(weights);
    target.dispose();
  });

  it('reads the full-model layout (weights under model_weights/) too', async () => {
    const file = path.join(dir, 'full.h5');
    await writeKerasH5(file, source, { underModelWeights: true });
    const weights = await loadBackboneWeights(file);
    expect(applyWeights(tiny(3), weights).percent).toBe(100);
    disposeWeights(weights);
  });

  it('round-trips through a TF.js manifest folder', async () => {
    const fromModel: WeightMap = new Map(
      source.weights
        .filter((w) => !w.originalName.startsWith('predictions/'))
        .map((w) => [w.originalName, w.read()]),
    );
    const out = path.join(dir, 'manifest');
    await writeWeightsManifest(out, fromModel);
    const weights = await loadBackboneWeights(out);
    const target = tiny(4);
    expect(applyWeights(target, weights).percent).toBe(100);
    expectSameBackbone(source, target);
    disposeWeights(weights);
    target.dispose();
  });

  it('strict: names every missing, mis-shaped and unexpected tensor in one error and changes nothing', async () => {
    const file = path.join(dir, 'broken.h5');
    const wrong = tf.zeros([1, 1, 4, 99]);
    await writeKerasH5(file, source, {
      skip: ['conv3_block1_2_conv/kernel', 'conv5_block1_3_bn/moving_variance'],
    });
    const weights = await readKerasH5(file);
    weights.set('fc1000/kernel', tf.zeros([2, 2]));
    weights.get('conv2_block1_0_conv/kernel')!.dispose();
    weights.set('conv2_block1_0_conv/kernel', wrong);
    const target = tiny(5);
    const before = target.getLayer('conv1_conv').getWeights()[0]!.dataSync().slice();
    let error: unknown;
    try {
      applyWeights(target, weights);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(WeightImportError);
    const message = (error as Error).message;
    expect(message).toContain('missing conv3_block1_2_conv/kernel');
    expect(message).toContain('missing conv5_block1_3_bn/moving_variance');
    expect(message).toMatch(/mis-shaped conv2_block1_0_conv\/kernel: file \[1,1,4,99\], model \[1,1,4,16\]/);
    expect(message).toContain('unexpected fc1000/kernel');
    expect(message).toContain('--allow-partial');
    expect(message).not.toContain('predictions');
    expect(target.getLayer('conv1_conv').getWeights()[0]!.dataSync()).toEqual(before);

    const coverage = applyWeights(target, weights, { allowPartial: true });
    const total = coverage.backboneParameters;
    const lost = 3 * 3 * 8 * 8 + 128 + 4 * 16;
    expect(coverage.loadedParameters).toBe(total - lost);
    expect(coverage.percent).toBeCloseTo((100 * (total - lost)) / total, 10);
    expect(coverage.percent).toBeLessThan(100);
    expect(target.getLayer('conv1_conv').getWeights()[0]!.dataSync()).toEqual(
      source.getLayer('conv1_conv').getWeights()[0]!.dataSync(),
    );
    disposeWeights(weights);
    target.dispose();
  });

  it('rejects files that are not HDF5 or not manifests with a clear message', async () => {
    const html = path.join(dir, 'error-page.h5');
    writeFileSync(html, '<html>403 Forbidden</html>');
    await expect(readKerasH5(html)).rejects.toThrowError(/not an HDF5 file/);
    const json = path.join(dir, 'bad.json');
    writeFileSync(json, '{"hello": 1}');
    await expect(loadBackboneWeights(json)).rejects.toThrowError(/not a TF.js weights manifest/);
    await expect(loadBackboneWeights(path.join(dir, 'nope'))).rejects.toThrowError(/import-weights/);
  });
});
