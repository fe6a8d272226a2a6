import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
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
    // No export beside the checkpoint: --engine auto runs tfjs, and the card says so.
    expect(model.engine).toMatchObject({ name: 'tfjs', file: 'tiny-run/best/model.json', precision: null });
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
