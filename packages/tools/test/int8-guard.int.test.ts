import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initBackend } from '@food/core/backend';
import { judgeInt8, readInt8Guard } from '@food/core/checkpoint/int8-guard';
import { resolveRunConfig } from '@food/core/checkpoint/run-config';
import { defaultOnnxPath, int8GuardPath } from '@food/core/checkpoint/run-layout';
import { DEFAULT_PREPROCESS } from '@food/core/preprocess/config';
import { buildApp } from '@food/server/app';
import {
  computeTrainingStats,
  exportBest,
  prepareDataset,
  runTraining,
  synthesizeDataset,
} from '@food/trainer/pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

// A tiny ResNet trained for real on a synthetic set, exported as `pnpm train` does when a run completes.
let root: string;
let best: string;
let valImages: number;
const lines: string[] = [];

beforeAll(async () => {
  await initBackend('wasm', () => {});
  root = await mkdtemp(path.join(tmpdir(), 'int8-guard-run-'));
  const dataRoot = path.join(root, 'food');
  const prepared = path.join(root, 'prepared');
  await synthesizeDataset({ outDir: dataRoot, classes: 4, imagesPerClass: 30, seed: 7 });
  await prepareDataset({ dataRoot, outDir: prepared, selection: { count: 4 }, seed: 42, valFraction: 0.25 });
  await mkdir(prepared, { recursive: true });
  const geometry = { ...DEFAULT_PREPROCESS, resizeShorterSide: 36, cropSize: 32 };
  await writeFile(path.join(prepared, 'preprocess.json'), JSON.stringify(geometry));
  await computeTrainingStats({ preparedDir: prepared });
  valImages = JSON.parse(await readFile(path.join(prepared, 'manifest.json'), 'utf8')).splits.val.length;
  const config = resolveRunConfig({
    blocksPerStage: [1, 1, 1, 1],
    widthMultiplier: 1 / 4,
    prepared,
    out: path.join(root, 'run'),
    learningRate: 1e-2,
    epochs: 10,
    batchSize: 8,
    imageSize: 32,
    augment: false,
    weights: 'none',
    backend: 'wasm',
    featureCacheDir: path.join(root, 'feature-cache'),
  });
  const outcome = await runTraining(config, { log: () => {}, shouldStop: () => false, progress: false });
  expect(outcome.status).toBe('completed');
  await exportBest({ runDir: config.out, kind: 'int8', prepared, log: (line) => lines.push(line) });
  best = path.join(config.out, 'best');
}, 300_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('the int8 guard on a trained run', () => {
  it('records its figures and decision, keeps int8 only when they pass, and says so', async () => {
    const int8 = defaultOnnxPath(best, 'int8');
    const record = await readInt8Guard(int8GuardPath(int8));
    expect(record).toBeDefined();
    const figures = record!.figures!;
    // Every validation image was scored by both exports.
    expect(valImages).toBeGreaterThan(0);
    expect(figures.images).toBe(valImages);
    expect(record!.decision).toBe(judgeInt8(figures).decision);
    expect(await exists(int8)).toBe(record!.decision === 'kept');
    expect(await exists(`${int8}.unchecked`)).toBe(false);
    expect(lines.join('\n')).toContain(record!.reason);
    process.stderr.write(`int8 guard on the tiny run: ${record!.decision}: ${record!.reason}\n`);
  });

  it('is on /api/model, and --engine auto serves the int8 export only when the guard kept it', async () => {
    const record = (await readInt8Guard(int8GuardPath(defaultOnnxPath(best, 'int8'))))!;
    const app = await buildApp({ checkpoint: best, workers: 0, backend: 'wasm', engine: 'auto' });
    try {
      const model = (await app.inject('/api/model')).json();
      expect(model.int8Guard).toEqual({
        decision: record.decision,
        reason: record.reason,
        figures: record.figures,
        limits: { maxTop1DropPoints: 0.5, minAgreement: 0.98 },
      });
      const served = record.decision === 'kept' ? 'best.int8.onnx' : 'best.onnx';
      expect(model.engine).toMatchObject({ name: 'onnx', file: `run/${served}` });
    } finally {
      await app.close();
    }
  });
});
