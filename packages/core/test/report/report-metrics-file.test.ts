import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCheckpointMetrics } from '../../src/checkpoint/epoch-metrics.ts';
import {
  EVALUATION_REPORT_FORMAT,
  type EvaluationMetrics,
  type MetricsSummary,
} from '../../src/report/evaluation-metrics.ts';
import { REPORT_FILES, reportPaths } from '../../src/report/report-layout.ts';
import {
  ReportError,
  readEvaluationMetrics,
  readEvaluationMetricsIfPresent,
  writeEvaluationMetrics,
} from '../../src/report/report-metrics-file.ts';

const perfect: MetricsSummary = {
  numImages: 4,
  accuracy: 1,
  top5Accuracy: 1,
  precision: { macro: 1, weighted: 1 },
  recall: { macro: 1, weighted: 1 },
  f1: { macro: 1, weighted: 1 },
  perClass: {
    pho: { precision: 1, recall: 1, f1: 1, support: 2 },
    sushi: { precision: 1, recall: 1, f1: 1, support: 2 },
  },
};
const stats = { p50Ms: 9.5, p95Ms: 11, meanMs: 9.8 };
const metrics: EvaluationMetrics = {
  ...perfect,
  checkpoint: 'checkpoints/run/best',
  prepared: 'data/prepared/two',
  split: 'test',
  limit: null,
  backend: 'wasm',
  tta: 'flip',
  parameters: 123,
  sizeBytes: 4567,
  latency: { batchSize: 1, samples: 2, warmupRuns: 3, endToEnd: stats, model: stats, note: 'two images' },
  throughput: { batchSize: 2, seconds: 0.5, imagesPerSecond: 8 },
  baselines: {
    majorityClass: {
      majorityClass: 'pho',
      top5Classes: ['pho', 'sushi'],
      metrics: { ...perfect, accuracy: 0.5 },
    },
    compare: { checkpoint: 'checkpoints/run/epoch-001', parameters: 123, sizeBytes: 4567, metrics: perfect },
  },
  definitions: 'scikit-learn',
  evaluatedAt: '2026-12-06T00:00:00.000Z',
};

const root = await mkdtemp(path.join(tmpdir(), 'food-report-contract-'));
let count = 0;
/** A fresh report folder holding `content` as metrics.json. */
async function reportWith(content: unknown): Promise<string> {
  const dir = path.join(root, `report-${count++}`);
  await writeEvaluationMetrics(dir, metrics);
  await writeFile(
    path.join(dir, REPORT_FILES.metrics),
    typeof content === 'string' ? content : JSON.stringify(content),
  );
  return dir;
}

afterAll(() => rm(root, { recursive: true, force: true }));

describe('evaluation report metrics.json', () => {
  it('reads back what the writer wrote, and the file names its format first', async () => {
    const dir = path.join(root, 'round-trip');
    const file = await writeEvaluationMetrics(dir, metrics);
    expect(file).toBe(reportPaths(dir).metrics);
    expect(await readEvaluationMetrics(dir)).toEqual(metrics);
    const text = await readFile(file, 'utf8');
    expect(Object.keys(JSON.parse(text))[0]).toBe('format');
    expect(JSON.parse(text).format).toBe(EVALUATION_REPORT_FORMAT);
  });

  it('loads a report written before format and tta existed, as evaluated without test-time augmentation', async () => {
    const { tta: _tta, ...before } = metrics;
    const dir = await reportWith(before);
    expect(await readEvaluationMetrics(dir)).toEqual({ ...metrics, tta: 'none' });
  });

  it("names a checkpoint's metrics.json given as a report", async () => {
    const epochMetrics = { epoch: 2, valTop1: 0.5, bestValTop1: 0.5, bestEpoch: 2 };
    const dir = await reportWith(epochMetrics);
    const error = await readEvaluationMetrics(dir).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ReportError);
    expect(error).toMatchObject({ code: 'REPORT_CORRUPT' });
    expect((error as Error).message).toContain(path.join(dir, 'metrics.json'));
    expect((error as Error).message).toMatch(
      /checkpoint's metrics\.json .* not an evaluation report's.*pnpm evaluate --out/,
    );
  });

  it('names every wrong field, down to the baselines', async () => {
    const broken = {
      ...metrics,
      accuracy: '0.9',
      split: 'holdout',
      latency: { ...metrics.latency, endToEnd: { p50Ms: 1 } },
      baselines: {
        ...metrics.baselines,
        compare: { checkpoint: 'x', metrics: { ...perfect, perClass: { pho: {} } } },
      },
    };
    const message = await readEvaluationMetrics(await reportWith(broken)).catch(
      (error: Error) => error.message,
    );
    expect(message).toContain('accuracy must be numbers');
    expect(message).toContain('latency.endToEnd.p95Ms, latency.endToEnd.meanMs must be numbers');
    expect(message).toContain('split must be train or val or test');
    expect(message).toContain('baselines.compare.metrics.perClass must map each class');
  });

  it('refuses a newer format and a file that is not JSON, naming the file', async () => {
    const newer = await reportWith({ ...metrics, format: 'food-evaluation-report/2' });
    await expect(readEvaluationMetrics(newer)).rejects.toThrow(
      /food-evaluation-report\/2.*reads food-evaluation-report\/1/,
    );
    const truncated = await reportWith('{"format": "food-evaluation-report/1", "acc');
    await expect(readEvaluationMetrics(truncated)).rejects.toThrow(/metrics\.json is not valid JSON/);
  });

  it('says a folder without metrics.json is not a report; the optional reader answers undefined', async () => {
    const empty = path.join(root, 'no-report');
    await expect(readEvaluationMetrics(empty)).rejects.toMatchObject({ code: 'REPORT_MISSING' });
    await expect(readEvaluationMetrics(empty)).rejects.toThrow(/does not exist.*pnpm evaluate --out/);
    expect(await readEvaluationMetricsIfPresent(empty)).toBeUndefined();
    await expect(readEvaluationMetricsIfPresent(await reportWith({}))).rejects.toThrow(ReportError);
  });

  it("is refused where a checkpoint's metrics.json is expected, written now or before the format field", () => {
    const written = JSON.parse(
      `{"format": "${EVALUATION_REPORT_FORMAT}", ${JSON.stringify(metrics).slice(1)}`,
    );
    expect(() => parseCheckpointMetrics(written)).toThrow(/evaluation report's metrics\.json/);
    expect(() => parseCheckpointMetrics(metrics)).toThrow(/evaluation report's metrics\.json/);
  });
});
