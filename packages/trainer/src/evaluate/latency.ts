import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { InferenceEngine } from '@food/core/engine/inference-engine';
import type { PreprocessConfig } from '@food/core/preprocess/config';
import { preprocessImage } from '@food/core/preprocess/image';
import type { LatencyReport, LatencyStats } from '@food/core/report/evaluation-metrics';

/**
 * Times `samples` images one at a time after `warmupRuns` untimed predictions. Percentiles use linear
 * interpolation between order statistics (numpy's default), so they match `numpy.percentile`.
 */
export async function measureLatency(
  engine: InferenceEngine,
  files: readonly string[],
  dataRoot: string,
  preprocess: PreprocessConfig,
  options: { samples?: number; warmupRuns?: number } = {},
): Promise<LatencyReport> {
  const samples = Math.min(options.samples ?? 20, files.length);
  const warmupRuns = options.warmupRuns ?? 3;
  if (samples === 0) throw new RangeError('measureLatency needs at least one image');
  const images = await Promise.all(
    files.slice(0, samples).map((file) => readFile(path.join(dataRoot, file))),
  );
  const warmupInput = await preprocessImage(images[0], preprocess);
  for (let run = 0; run < warmupRuns; run++) await engine.predict([warmupInput]);

  const endToEnd: number[] = [];
  const model: number[] = [];
  for (const bytes of images) {
    const start = performance.now();
    const input = await preprocessImage(bytes, preprocess);
    const decoded = performance.now();
    await engine.predict([input]);
    const end = performance.now();
    endToEnd.push(end - start);
    model.push(end - decoded);
  }
  return {
    batchSize: 1,
    samples,
    warmupRuns,
    endToEnd: summarize(endToEnd),
    model: summarize(model),
    note: `${samples} images of the split, one at a time, after ${warmupRuns} warm-up runs; file reading excluded`,
  };
}

/** numpy.percentile(values, q) with the default 'linear' method. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new RangeError('percentile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const position = (q / 100) * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, sorted.length - 1);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}

function summarize(values: readonly number[]): LatencyStats {
  const round = (ms: number) => Math.round(ms * 1000) / 1000;
  return {
    p50Ms: round(percentile(values, 50)),
    p95Ms: round(percentile(values, 95)),
    meanMs: round(values.reduce((sum, value) => sum + value, 0) / values.length),
  };
}
