// Scratch (not committed): float16 vs float32 feature cache on a slice of food10.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { initBackend } from '@food/core/backend';
import { setTrainableScope, frozenBoundaryLayer, buildResNet50 } from '@food/core/model/resnet50';
import { DEFAULT_PREPROCESS } from '@food/core/preprocess/config';
import * as tf from '@tensorflow/tfjs';
import { readManifest } from './src/data/prepared-set.ts';
import { spreadSubset } from './src/data/spread-subset.ts';
import { openFeatureCache } from './src/train/feature-cache.ts';
import { loadPretrainedBackbone } from './src/train/load-pretrained.ts';
import { createOnnxTrunk } from './src/train/onnx-trunk.ts';
import { splitModelAt } from './src/train/split-model.ts';

const n = Number(process.argv[2] ?? 200);
await initBackend('wasm', () => {});
const manifest = await readManifest('/tmp/f16-food10');
const preprocess = DEFAULT_PREPROCESS;
const model = buildResNet50({ numClasses: 10, inputSize: preprocess.cropSize, seed: 42 });
console.log(await loadPretrainedBackbone(model, '/work/shared/weights/resnet50-imagenet', preprocess));
setTrainableScope(model, 'stage5');
const split = splitModelAt(model, frozenBoundaryLayer(model, 'stage5'));
const trunk = await createOnnxTrunk(split.trunk, { intraOpThreads: 2 });
console.log('feature shape', trunk.featureShape);
const val = spreadSubset(manifest.splits.val, n);
const common = {
  featureCacheDir: '/tmp/f16-cache', dataRoot: manifest.dataRoot, trainSamples: [], valSamples: val,
  preprocess, numClasses: 10, featureViews: 0, seed: 42, trunk, loaderConcurrency: 2,
} as const;
const per = trunk.featureShape.reduce((a, b) => a * b, 1);
const results: Record<string, Float32Array> = {};
for (const precision of ['float32', 'float16'] as const) {
  const t0 = Date.now();
  const cache = await openFeatureCache({ ...common, featureCachePrecision: precision, onPlan: (m) => console.log(precision, m) });
  const built = (Date.now() - t0) / 1000;
  const file = path.join(cache.dir, `val-centre.${precision === 'float16' ? 'f16' : 'f32'}`);
  const size = (await stat(file)).size;
  const t1 = Date.now();
  const all = new Float32Array(val.length * per);
  for (let i = 0; i < val.length; i++) await cache.read('val', 0, i, all, i * per);
  console.log(`${precision}: ${val.length} entries, file ${size} B = ${size / val.length} B per entry; build ${built.toFixed(1)} s (reused ${cache.reused}), read all ${((Date.now() - t1) / 1000).toFixed(2)} s`);
  results[precision] = all;
  await cache.close();
}
await trunk.dispose();
let maxFeature = 0; let maxRel = 0;
const f32 = results.float32!; const f16 = results.float16!;
for (let i = 0; i < f32.length; i++) { const d = Math.abs(f32[i]! - f16[i]!); maxFeature = Math.max(maxFeature, d); if (f32[i] !== 0) maxRel = Math.max(maxRel, d / Math.abs(f32[i]!)); }
const logits = (features: Float32Array) => {
  const out: number[][] = [];
  for (let s = 0; s < val.length; s += 16) {
    const rows = Math.min(16, val.length - s);
    out.push(...(tf.tidy(() => (split.tail.predict(tf.tensor(features.subarray(s * per, (s + rows) * per), [rows, ...trunk.featureShape])) as tf.Tensor).arraySync()) as number[][]));
  }
  return out;
};
const t2 = Date.now();
// The tail ends in logits (linear head).
const a = logits(f32); const b = logits(f16);
let maxLogp = 0; let agree = 0; let maxProb = 0;
for (let i = 0; i < a.length; i++) {
  for (let c = 0; c < 10; c++) { maxLogp = Math.max(maxLogp, Math.abs(a[i]![c]! - b[i]![c]!)); maxProb = Math.max(maxProb, Math.abs(a[i]![c]!)); }
  const arg = (r: number[]) => r.indexOf(Math.max(...r));
  if (arg(a[i]!) === arg(b[i]!)) agree++;
}
console.log(`features: max |Δ| ${maxFeature}, max relative ${maxRel}; tail (stage5 + head, ImageNet stage5, seeded Glorot head): max |Δ logit| ${maxLogp}, max |logit| ${maxProb}, argmax agree ${agree}/${a.length} (${((Date.now() - t2) / 1000).toFixed(1)} s)`);
console.log(tf.memory().numTensors, 'tensors');
