/** Cells of the report's tables: numbers, ratios, results and pass/fail, formatted one way everywhere. */
import type { BenchResults, Measurement } from '../run-bench.ts';
import type { MeasurementResult } from '../spec.ts';
import { type Summary, summarize } from '../statistics.ts';
import { medianOf, type ThroughputSpec, type TrainSpec } from './pick-measurements.ts';

/** Significant digits that suit a timing: 1234 ms, 56.7 ms, 3.45 ms. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return '–';
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return Math.round(value).toLocaleString('en-US');
  if (magnitude >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function formatSummary(summary: Summary): string {
  return `${formatNumber(summary.median)} (${formatNumber(summary.min)}–${formatNumber(summary.max)})`;
}

export function formatRatio(ratio: number | undefined): string {
  return ratio === undefined ? '–' : `${ratio.toFixed(2)}×`;
}

/** A result cell: "median (min–max)" or what stopped the measurement. */
export function formatResult(result: MeasurementResult | undefined): string {
  if (!result) return 'not measured';
  if (result.status === 'ok') {
    // One run has no spread to show; say that it is one run rather than print "x (x–x)".
    return result.samples.length === 1
      ? `${formatNumber(result.samples[0]!)} (1 run)`
      : formatSummary(summarize(result.samples));
  }
  const label = {
    oom: '**out of memory**',
    failed: '**failed**',
    timeout: '**timed out**',
    unavailable: 'not available',
  }[result.status];
  // The first clause is enough in a table; the full reason is in the progress output.
  const reason = result.status === 'unavailable' ? result.reason.split(' (')[0]! : result.reason;
  return `${label}: ${escapeCell(reason)}`;
}

export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function passCell(pass: boolean | undefined): string {
  return pass === undefined ? 'not measured' : pass ? '**pass**' : '**FAIL**';
}

/** PyTorch's cell: its result, or 'not run' when the run skipped PyTorch altogether. */
export function torchCell(results: BenchResults, result: MeasurementResult | undefined): string {
  return results.pytorch ? formatResult(result) : 'not run';
}

/** ours / reference of two medians, '–' when either is missing. */
export function ratioCell(
  ours: MeasurementResult | undefined,
  reference: MeasurementResult | undefined,
): string {
  const a = medianOf(ours);
  const b = medianOf(reference);
  return formatRatio(a !== undefined && b !== undefined ? a / b : undefined);
}

/** The 1-minute load average when the measurement started. */
export function loadCell(measurement: Measurement): string {
  return measurement.loadAverage.toFixed(1);
}

/** "batch 32 (8 × 4 accumulated), 2 threads" */
export function describeTrainBatch(spec: TrainSpec): string {
  const accumulated =
    spec.microBatch < spec.batch ? ` (${spec.batch / spec.microBatch} × ${spec.microBatch} accumulated)` : '';
  return `batch ${spec.batch}${accumulated}, ${spec.threads} thread${spec.threads === 1 ? '' : 's'}`;
}

export function describeLayout(spec: ThroughputSpec): string {
  return spec.engine === 'tfjs-wasm'
    ? `${spec.workers} worker${spec.workers === 1 ? '' : 's'} × ${spec.threadsPerWorker} thread${spec.threadsPerWorker === 1 ? '' : 's'}`
    : `${spec.workers} thread${spec.workers === 1 ? '' : 's'}`;
}
