import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { guardRecord, writeInt8Guard } from '@food/core/checkpoint/int8-guard';
import { readCheckpointMetadata } from '@food/core/checkpoint/load-checkpoint';
import { defaultOnnxPath, int8GuardPath } from '@food/core/checkpoint/run-layout';
import { createTinyCheckpoint, type TinyCheckpoint } from '@food/core/testing/tiny-checkpoint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { writeEvaluationReport } from './helpers/evaluation-report.ts';

// The model card joins three folders: the checkpoint, the evaluation report (--report) and the run.
let checkpoint: TinyCheckpoint;
let report: string;

beforeAll(async () => {
  checkpoint = await createTinyCheckpoint({ withAssets: false });
  report = await mkdtemp(path.join(tmpdir(), 'food-report-'));
  await writeEvaluationReport(report, { split: 'test', accuracy: 0.75, top5Accuracy: 0.96, macroF1: 0.7 });
  await writeFile(
    path.join(report, 'confusion.svg'),
    '<svg xmlns="http://www.w3.org/2000/svg"><title>cm</title></svg>',
  );
  await writeFile(
    path.join(path.dirname(checkpoint.dir), 'curves.svg'),
    '<svg xmlns="http://www.w3.org/2000/svg"/>',
  );
});

afterAll(async () => {
  await checkpoint?.cleanup();
  await rm(report, { recursive: true, force: true });
});

describe('model card with --report', () => {
  it('shows the report test metrics and serves its confusion matrix and the run curves', async () => {
    const app = await buildApp({ checkpoint: checkpoint.dir, workers: 0, backend: 'cpu', report });
    const model = (await app.inject('/api/model')).json();
    expect(model.test).toEqual({ accuracy: 0.75, top5: 0.96, macroF1: 0.7 });
    expect(model.assets.sort()).toEqual(['confusion.svg', 'curves.svg']);
    const confusion = await app.inject('/api/model/assets/confusion.svg');
    expect(confusion.statusCode).toBe(200);
    expect(confusion.body).toContain('<title>cm</title>');
    expect((await app.inject('/api/model/assets/curves.svg')).statusCode).toBe(200);
    expect((await app.inject('/api/model/assets/metrics.json')).statusCode).toBe(404);
    await app.close();
  });

  it("refuses a --report folder whose metrics.json is a checkpoint's, naming the file", async () => {
    const notReport = await mkdtemp(path.join(tmpdir(), 'food-not-report-'));
    await cp(path.join(checkpoint.dir, 'metrics.json'), path.join(notReport, 'metrics.json'));
    const started = buildApp({ checkpoint: checkpoint.dir, workers: 0, backend: 'cpu', report: notReport });
    await expect(started).rejects.toThrow(
      `${path.join(notReport, 'metrics.json')} is a checkpoint's metrics.json`,
    );
    await rm(notReport, { recursive: true, force: true });
  });

  it('without --report has no test metrics (the trainer never sees the test split) and no confusion matrix', async () => {
    const app = await buildApp({ checkpoint: checkpoint.dir, workers: 0, backend: 'cpu' });
    const model = (await app.inject('/api/model')).json();
    expect(model.test).toBeNull();
    expect(model.assets).toEqual(['curves.svg']);
    expect((await app.inject('/api/model/assets/confusion.svg')).statusCode).toBe(404);
    // The tiny test network is named as what it is, not as ResNet-50.
    expect(model).toMatchObject({ architecture: 'ResNet-14, 1/16 width', parameters: 35_453 });
    // No export beside the checkpoint: --engine auto runs tfjs, and the card says so.
    expect(model.engine).toMatchObject({ name: 'tfjs', file: 'tiny-run/best/model.json', precision: null });
    await app.close();
  });
});

/** A pino destination that keeps each line's message. */
function logCapture(): { logged: string[]; stream: Writable } {
  const logged: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      logged.push(JSON.parse(String(chunk)).msg);
      done();
    },
  });
  return { logged, stream };
}

describe('model card without --report', () => {
  /** A `pnpm evaluate --out reports/NAME` folder; `checkpoint` as evaluate was given it. */
  async function writeReport(
    root: string,
    name: string,
    fields: { split: 'test' | 'val'; checkpoint: string; accuracy: number; evaluatedAt: string },
  ): Promise<void> {
    await writeEvaluationReport(path.join(root, 'reports', name), {
      ...fields,
      top5Accuracy: 0.9,
      macroF1: 0.5,
    });
  }

  it('shows the newest test report about this checkpoint in reports/, as pnpm runs finds it, and says so', async () => {
    // The repository root of this test: the run's folder and reports/ side by side, as pnpm evaluate leaves them.
    const root = path.dirname(path.dirname(checkpoint.dir));
    // One row per report folder: name, split, checkpoint as evaluate was given it, top-1; evaluated a day
    // apart in this order.
    const reports = [
      ['older', 'test', 'tiny-run/best', 0.5],
      ['newest', 'test', 'tiny-run/best', 0.61],
      ['val', 'val', 'tiny-run/best', 0.7],
      ['other-epoch', 'test', 'tiny-run/epoch-001', 0.8],
    ] as const;
    for (const [day, [name, split, evaluated, accuracy]] of reports.entries()) {
      const evaluatedAt = `2026-01-0${day + 1}T10:00:00.000Z`;
      await writeReport(root, name, { split, checkpoint: evaluated, accuracy, evaluatedAt });
    }
    await mkdir(path.join(root, 'reports', 'not-a-report'));
    const { logged, stream } = logCapture();
    const cwd = process.cwd();
    process.chdir(root);
    try {
      const app = await buildApp({
        checkpoint: 'tiny-run/best',
        workers: 0,
        backend: 'cpu',
        logger: { stream },
      });
      expect((await app.inject('/api/model')).json().test).toEqual({
        accuracy: 0.61,
        top5: 0.9,
        macroF1: 0.5,
      });
      expect(logged).toContain(
        `model card: test figures from ${path.join('reports', 'newest')}, the newest test report about tiny-run/best (--report DIR picks another)`,
      );
      await app.close();
    } finally {
      process.chdir(cwd);
      await rm(path.join(root, 'reports'), { recursive: true, force: true });
    }
  });
});

describe('--checkpoint given a training run folder', () => {
  it('serves its best checkpoint and says so, as pnpm evaluate does', async () => {
    const run = path.dirname(checkpoint.dir);
    const { logged, stream } = logCapture();
    const app = await buildApp({ checkpoint: run, workers: 0, backend: 'cpu', logger: { stream } });
    expect((await app.inject('/api/model')).json().checkpoint).toBe('tiny-run/best');
    expect(logged).toContain(`${run} is a training run folder: using its best checkpoint, ${checkpoint.dir}`);
    await app.close();
  });
});

describe('model card: what the model was trained on', () => {
  it('says a synthetic model is synthetic, and names a real data set', async () => {
    const cases = [
      {
        dataset: { name: '6 synthetic classes', synthetic: true },
        expected: { name: '6 synthetic classes', synthetic: true },
      },
      { dataset: { name: 'food10', synthetic: false }, expected: { name: 'food10', synthetic: false } },
      // A run that did not record it: the prepared folder's name, synthetic unknown.
      { prepared: 'data/prepared/food10', expected: { name: 'food10', synthetic: null } },
    ];
    for (const { expected, ...runConfig } of cases) {
      const tiny = await createTinyCheckpoint({ withAssets: false, runConfig });
      const app = await buildApp({ checkpoint: tiny.dir, workers: 0, backend: 'cpu' });
      expect((await app.inject('/api/model')).json().dataset).toEqual(expected);
      await app.close();
      await tiny.cleanup();
    }
  });
});

describe("model card's int8 guard", () => {
  it("shows the guard's decision and figures for this checkpoint's weights, and ignores a stale record", async () => {
    const file = int8GuardPath(defaultOnnxPath(checkpoint.dir, 'int8'));
    const sha256 = (await readCheckpointMetadata(checkpoint.dir)).files['weights.bin']!.sha256;
    const counts = { images: 50, float32Correct: 40, int8Correct: 38, agreeing: 47 };
    await writeInt8Guard(file, guardRecord(sha256, counts));
    try {
      const app = await buildApp({ checkpoint: checkpoint.dir, workers: 0, backend: 'cpu' });
      const model = (await app.inject('/api/model')).json();
      await app.close();
      expect(model.int8Guard).toMatchObject({
        decision: 'refused',
        figures: { images: 50, float32Top1: 0.8, int8Top1: 0.76, agreement: 0.94 },
        limits: { maxTop1DropPoints: 0.5, minAgreement: 0.98 },
      });
      expect(model.int8Guard.reason).toMatch(/4\.00 points below/);

      await writeInt8Guard(file, guardRecord('other weights', counts));
      const stale = await buildApp({ checkpoint: checkpoint.dir, workers: 0, backend: 'cpu' });
      expect((await stale.inject('/api/model')).json().int8Guard).toBeNull();
      await stale.close();
    } finally {
      await rm(file, { force: true });
    }
  });
});

describe('model for the device', () => {
  it('is not offered on tfjs (no ONNX model), and its route answers 404 with what to do', async () => {
    const app = await buildApp({ checkpoint: checkpoint.dir, workers: 0, backend: 'cpu', engine: 'tfjs' });
    expect((await app.inject('/api/model')).json().browserModel).toBeNull();
    const missing = await app.inject(`/api/model/onnx/${'a'.repeat(64)}.onnx`);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toMatchObject({ code: 'BROWSER_MODEL_NOT_FOUND' });
    expect(missing.json().error.message).toMatch(/Reload the page/);
    await app.close();
  });
});
