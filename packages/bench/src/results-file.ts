/**
 * Raw bench results as JSON, so the report can be rendered again (`pnpm bench --render FILE`) without
 * measuring for half an hour again.
 */
import type { PytorchReport } from './pytorch.ts';
import type { BenchResults } from './run-bench.ts';
import type { MeasurementResult } from './spec.ts';

interface PytorchJson extends Omit<PytorchReport, 'forward' | 'train'> {
  forward: Array<[number, MeasurementResult]>;
  train: Array<[number, MeasurementResult]>;
}

interface ResultsJson extends Omit<BenchResults, 'startedAt' | 'pytorch'> {
  startedAt: string;
  pytorch?: PytorchJson;
}

export function serializeResults(results: BenchResults): string {
  const json: ResultsJson = {
    ...results,
    startedAt: results.startedAt.toISOString(),
    pytorch: results.pytorch && {
      ...results.pytorch,
      forward: [...results.pytorch.forward],
      train: [...results.pytorch.train],
    },
  };
  return `${JSON.stringify(json, null, 2)}\n`;
}

export function parseResults(text: string): BenchResults {
  const json = JSON.parse(text) as ResultsJson;
  if (!Array.isArray(json.measurements) || typeof json.machine !== 'object' || json.machine === null) {
    throw new Error('not a results file written by `pnpm bench --json`');
  }
  return {
    ...json,
    startedAt: new Date(json.startedAt),
    pytorch: json.pytorch && {
      ...json.pytorch,
      forward: new Map(json.pytorch.forward),
      train: new Map(json.pytorch.train),
    },
  };
}
